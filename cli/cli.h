/* cli: the `synopassthru` command. One file per subcommand; this header is
 * what they share: exit codes, option helpers and the error printer. */
#ifndef SP_CLI_H
#define SP_CLI_H

#include <stddef.h>

#include "../common/err.h"

#ifndef SP_VERSION
#define SP_VERSION "unknown"
#endif

enum sp_exit {
    SP_EXIT_OK = 0,       /* done; for preview: the XML libvirt would receive is printed */
    SP_EXIT_REFUSED = 1,  /* the VM's start would be refused (reason on stderr) */
    SP_EXIT_USAGE = 2,    /* bad command line */
    SP_EXIT_INPUT = 3,    /* unusable input: unreadable file, not a domain, no <name> */
    SP_EXIT_INTERNAL = 4, /* out of memory or an I/O error writing the output */
};

struct sp_cli_opts {
    const char *config_dir; /* --config DIR, else environment/default */
    int argc;               /* what is left after the options */
    char **argv;
};

/* Prints "synopassthru: <message>" on stderr. */
void sp_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads FILE, or stdin for "-" or NULL, into a NUL-terminated buffer. */
int sp_cli_read_input(const char *path, char **buf, size_t *len, struct sp_err *err);

int sp_cmd_preview(const struct sp_cli_opts *opts);
int sp_cmd_rom(const struct sp_cli_opts *opts);
int sp_cmd_groups(const struct sp_cli_opts *opts);
int sp_cmd_check(const struct sp_cli_opts *opts);
int sp_cmd_bind(const struct sp_cli_opts *opts);
int sp_cmd_release(const struct sp_cli_opts *opts);
int sp_cmd_status(const struct sp_cli_opts *opts);
int sp_cmd_inject(const struct sp_cli_opts *opts);
int sp_cmd_setup(const struct sp_cli_opts *opts);
int sp_cmd_import(const struct sp_cli_opts *opts);
int sp_cmd_holds(const struct sp_cli_opts *opts);
int sp_cmd_add(const struct sp_cli_opts *opts);
int sp_cmd_remove(const struct sp_cli_opts *opts);
int sp_cmd_log(const struct sp_cli_opts *opts);
int sp_cmd_vms(const struct sp_cli_opts *opts);
int sp_cmd_doctor(const struct sp_cli_opts *opts);
/* groups --tree: the PCI topology with each device's verdict; an exit code. */
int sp_cli_groups_tree(const char *sysfs_root, const char *proc_root);

struct sp_config;
struct sp_snapshot;
/* The settings of the config dir (for the sysfs and proc roots, the helper
 * and the state dir); *cfg goes with it. NULL when out of memory (said). */
struct sp_snapshot *sp_cli_load_snapshot(const struct sp_cli_opts *opts, struct sp_config **cfg);

/* The argument flag is among the command's arguments. */
int sp_cli_has_flag(const struct sp_cli_opts *opts, const char *flag);

struct sp_json;
/* The version of every --json output's layout, its first member "schema":
 * members are only added within a version; a change of meaning bumps it. */
#define SP_CLI_JSON_SCHEMA 1
/* Starts a --json output: j initialised, its top object opened, and
 * "schema" written as its first member. */
void sp_cli_json_begin(struct sp_json *j);
/* Prints the finished JSON text on stdout; an exit code naming cmd when it
 * cannot be written. */
int sp_cli_print_json(struct sp_json *j, const char *cmd);

struct sp_pci_reset;
/* "reset": {"methods": [...] or null (not named by the kernel), "available",
 * "flr" (null: unknown), "warning" (null: none)}, as groups and check give it. */
void sp_cli_put_reset(struct sp_json *j, const struct sp_pci_reset *r, const char *warning);

/* A VM as a command's argument names it: libvirt's name, UUID and title
 * for it when libvirt knows a domain by that name, UUID or title; else the
 * argument alone, matched against the snippets' vm= as it is. */
struct sp_vm_id {
    const char *arg;
    int known;      /* libvirt knows it: name, uuid and title are its */
    char *name;     /* NULL unless known */
    char uuid[37];  /* "" unless known */
    char *title;    /* NULL: none, or not known */
    struct sp_err unreached; /* why libvirt could not be asked ("" when it was) */
};

/* Identifies arg among the domains at the libvirt uri. When libvirt cannot
 * be reached, out is the argument alone and out->unreached says why
 * (libvirt missing, down); the caller goes on with the config. -1 only
 * when memory runs out (for the caller to say). */
int sp_cli_vm_identify(const char *uri, const char *arg, struct sp_vm_id *out);
/* out is the argument alone (no libvirt asked). 0 always. */
int sp_cli_vm_unresolved(const char *arg, struct sp_vm_id *out);
void sp_cli_vm_id_free(struct sp_vm_id *id);

struct sp_start;
struct sp_problems;
/* What check says of the VM id names: the start's decision, read-only, for
 * the domain XML given (NULL: a stand-in carrying the VM's keys), with the
 * vfio helper's check, every problem in problems. -1 when out of memory. */
int sp_cli_check_vm(struct sp_snapshot *snap, const struct sp_vm_id *id, const char *domain,
                    size_t domain_len, struct sp_start *st, struct sp_problems *problems);

/* The path of the running program (from /proc/self/exe, else from argv[0]
 * when that holds a '/'), malloc'd; NULL when neither tells. */
char *sp_cli_self_path(void);

#endif
