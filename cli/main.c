/* synopassthru: the command-line tool. Parses the common options and hands
 * over to one subcommand. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../injector/loadproof.h"
#include "cli.h"

static const char usage_text[] =
    "Usage: synopassthru [--config DIR] COMMAND [ARGS]\n"
    "\n"
    "PCI passthrough for libvirt VMs from power-on.\n"
    "\n"
    "Commands:\n"
    "  preview [FILE|-]   print the domain XML exactly as libvirt would receive it\n"
    "                     from the shim (unchanged when no snippet names the VM)\n"
    "  groups [--json]    every IOMMU group, its devices and whether each can be passed\n"
    "  groups --tree      the PCI topology as a tree (root buses, bridges, functions),\n"
    "                     each device with its group, driver and verdict\n"
    "  check VM [--json] [--domain FILE] [--connect URI]\n"
    "                     every check a start of VM would make (devices, IDs, ROMs,\n"
    "                     IOMMU groups, reset, firmware with the VM's domain XML);\n"
    "                     exit 0 when all pass; VM by name, UUID or title\n"
    "  vms [--json] [--names] [--connect URI]\n"
    "                     the VMs libvirt knows: name, UUID, title, state, their\n"
    "                     snippets and devices; snippets naming no VM\n"
    "  bind [--vm NAME] ADDR...   put devices on vfio-pci (through the vfio helper)\n"
    "  release [--vm NAME] [--force] ADDR...\n"
    "                     give devices back to the driver they had; refused while\n"
    "                     the holding VM runs, unless --force\n"
    "  holds [--json]     every hold: device, VM, since, the driver it had, whether\n"
    "                     the VM runs and the device is still on vfio-pci\n"
    "  status [--json]    processes with libvirt mapped, and whether the shim is there\n"
    "  log [VM] [--since TIME] [--json] [--diff]\n"
    "                     the audit log, one line per start, newest last; VM by name,\n"
    "                     UUID or title; --diff: the XML each start added\n"
    "  setup [--root DIR] [--unit NAME] [--dry-run] [--remove [--purge]]\n"
    "                     the one root step: root-owned copies of the programs, the\n"
    "                     proof that the shim loads, the config dir, the drop-in and\n"
    "                     DSM's start-hook block; --remove undoes exactly that\n"
    "  import [--from DIR] [--root DIR] [--dry-run] [--remove-old]\n"
    "                     the community hot-plug scripts read (never run) into\n"
    "                     snippets and ROMs; --remove-old then takes their hook out\n"
    "  inject systemd|dsm [--unit NAME] [--root DIR] [--remove] [--reload]\n"
    "                     a systemd drop-in that preloads the shim into the unit;\n"
    "                     dsm: a block in DSM's libvirt start hook that keeps it there\n"
    "  add VM ADDR... [--rom FILE] [--functions all] [--no-bind] [--release] [--dry-run]\n"
    "      [--connect URI]\n"
    "                     write the devices into VM's snippet in vm.d/, after every\n"
    "                     check a start of VM makes; nothing is written when one fails;\n"
    "                     VM by name, UUID or title\n"
    "  remove VM [ADDR...] [--dry-run] [--connect URI]\n"
    "                     take devices (without ADDR: every snippet of VM) out of vm.d/;\n"
    "                     VM by name, UUID or title\n"
    "  rom info FILE [--json] [--for ADDR]\n"
    "                     the images of an option ROM and whether it fits a device\n"
    "  rom extract --vfct [--for ADDR] [-o FILE] | --pci ADDR [-o FILE] [--force]\n"
    "                     save a vBIOS from the ACPI VFCT table or a device's ROM\n"
    "  doctor [--json] [--root DIR] [--unit NAME]\n"
    "                     every check between you and a working passthrough, each\n"
    "                     ok, warning or problem, with its fix; exit 1 on a problem\n"
    "\n"
    "Options:\n"
    "  --config DIR       config directory (default: $SYNOPASSTHRU_CONFIG_DIR,\n"
    "                     else " SP_DEFAULT_CONFIG_DIR ")\n"
    "  -h, --help         this help\n"
    "  -V, --version      print the version\n"
    "\n"
    "Exit status:\n"
    "  any          2 bad command line; 4 internal error (also: an output that\n"
    "               could not be written); the reason for 1 and 3 is on stderr\n"
    "  preview      0 printed; 1 the start would be refused; 3 unusable domain XML\n"
    "  groups       0 listed; 1 the IOMMU is off (not with --tree); 3 sysfs\n"
    "               unreadable\n"
    "  check        0 every check passes; 1 one fails; 3 --domain FILE unreadable\n"
    "  bind/release 0 done; 1 the vfio helper refused\n"
    "  holds        0 listed; 3 the state dir is unreadable\n"
    "  status       0 every libvirt daemon has the shim; 1 one runs without it;\n"
    "               3 /proc unreadable\n"
    "  setup        0 done; 1 refused (nothing changed), or --remove left files\n"
    "               someone else changed\n"
    "  inject       0 done; 1 refused (a shim that does not load is taken out);\n"
    "               3 DSM's start hook is not there\n"
    "  import       0 all imported and every ROM fits; 1 something was not\n"
    "               imported, or a ROM does not fit; 3 no scripts at the folder\n"
    "  rom info     0 read (with --for: it fits); 1 it does not fit; 3 a\n"
    "               malformed ROM\n"
    "  rom extract  0 saved; 1 a file with other bytes kept, or the entry is for\n"
    "               another device; 3 no VFCT table or entry, unreadable ROM\n"
    "  vms          0 listed, also when libvirt cannot be reached (a warning\n"
    "               on stderr says so)\n"
    "  add          0 written, or nothing to add; 1 refused, nothing written\n"
    "  remove       0 done; 1 refused (a device in none of VM's snippets, no\n"
    "               snippet names VM), nothing changed\n"
    "  log          0 printed; 3 no audit log (none written yet, or turned off)\n"
    "  doctor       0 no problem (warnings allowed); 1 a problem\n";

void sp_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("synopassthru: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

#define SP_INPUT_MAX (64u << 20)

static int read_stream(FILE *f, const char *name, char **out, size_t *len, struct sp_err *err)
{
    size_t cap = 8192, used = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (used + 1 >= cap) {
            char *grown = cap < SP_INPUT_MAX ? realloc(buf, cap * 2) : NULL;
            if (!grown) {
                free(buf);
                return sp_err_set(err, "%s: input too large or out of memory", name);
            }
            buf = grown;
            cap *= 2;
        }
        size_t n = fread(buf + used, 1, cap - used - 1, f);
        used += n;
        if (n == 0)
            break;
    }
    if (!buf)
        return sp_err_set(err, "%s: out of memory", name);
    if (ferror(f)) {
        free(buf);
        return sp_err_set(err, "%s: %s", name, strerror(errno));
    }
    buf[used] = '\0';
    *out = buf;
    *len = used;
    return 0;
}

int sp_cli_read_input(const char *path, char **buf, size_t *len, struct sp_err *err)
{
    if (!path || strcmp(path, "-") == 0)
        return read_stream(stdin, "standard input", buf, len, err);
    FILE *f = fopen(path, "rb");
    if (!f)
        return sp_err_set(err, "%s: %s", path, strerror(errno));
    int rc = read_stream(f, path, buf, len, err);
    fclose(f);
    return rc;
}

/* options: what the command takes, space-separated; one ending in '='
 * takes a value (given as "--opt VALUE" or "--opt=VALUE"). own_help: it
 * prints a usage of its own for -h/--help; for the others the lines of the
 * usage text below that name it are printed. */
struct command {
    const char *name;
    int (*run)(const struct sp_cli_opts *opts);
    const char *options;
    int own_help;
};

static const struct command commands[] = {
    {"preview", sp_cmd_preview, "", 1},
    {"rom", sp_cmd_rom, "--json --for= --vfct --pci= -o= --force", 1},
    {"groups", sp_cmd_groups, "--json --tree", 0},
    {"check", sp_cmd_check, "--json --domain= --connect=", 1},
    {"bind", sp_cmd_bind, "--vm=", 1},
    {"release", sp_cmd_release, "--vm= --force", 1},
    {"holds", sp_cmd_holds, "--json", 1},
    {"status", sp_cmd_status, "--json", 0},
    {"inject", sp_cmd_inject, "--unit= --root= --remove --reload", 0},
    {"setup", sp_cmd_setup, "--root= --unit= --dry-run --remove --purge", 1},
    {"import", sp_cmd_import, "--from= --root= --dry-run --remove-old", 1},
    {"add", sp_cmd_add, "--rom= --functions= --no-bind --release --dry-run --connect=", 1},
    {"remove", sp_cmd_remove, "--dry-run --connect=", 1},
    {"log", sp_cmd_log, "--since= --json --diff", 1},
    {"vms", sp_cmd_vms, "--json --names --connect=", 1},
    {"doctor", sp_cmd_doctor, "--json --root= --unit=", 1},
};

/* The command's lines of the usage text: every entry that starts with its
 * name, with the lines that continue it. */
static void print_command_usage(const char *name)
{
    printf("Usage: synopassthru [--config DIR] %s ...\n\n", name);
    size_t len = strlen(name);
    int in_entry = 0;
    for (const char *line = usage_text; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        int entry = n > 2 && line[0] == ' ' && line[1] == ' ' && line[2] != ' ';
        if (entry)
            in_entry = n >= len + 2 && strncmp(line + 2, name, len) == 0 &&
                       (line[2 + len] == ' ' || line[2 + len] == '\n');
        else if (n == 0 || line[0] != ' ')
            in_entry = 0;
        if (in_entry)
            printf("%.*s\n", (int)n, line);
        line += n + (end != NULL);
    }
    printf("\nGlobal options (before or after the command): --config DIR; -h, --help\n");
}

/* 1 when the command takes arg as an option (*value: it takes a value), 0
 * when not. arg may be "--opt=VALUE" for an option that takes one. */
static int known_option(const struct command *c, const char *arg, int *value)
{
    size_t arg_len = strcspn(arg, "=");
    for (const char *o = c->options; *o;) {
        size_t n = strcspn(o, " ");
        int takes = n > 0 && o[n - 1] == '=';
        size_t name_len = takes ? n - 1 : n;
        if (name_len == arg_len && strncmp(o, arg, name_len) == 0 &&
            (takes || arg[arg_len] == '\0')) {
            *value = takes;
            return 1;
        }
        o += n + (o[n] == ' ');
    }
    return 0;
}

/* The command's arguments as it reads them: --config (anywhere) taken into
 * opts, "--opt=VALUE" split in two, and every other option checked against
 * what the command takes. Returns -1 when done (help printed: exit 0),
 * SP_EXIT_USAGE on a bad option, else 0 with opts->argc/argv set. */
static int command_args(const struct command *c, int argc, char **argv,
                        struct sp_cli_opts *opts)
{
    char **out = calloc((size_t)argc * 2 + 2, sizeof(*out));
    if (!out) {
        sp_cli_error("out of memory");
        return SP_EXIT_INTERNAL;
    }
    int n = 0, plain = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int value = 0;
        if (plain || a[0] != '-' || strcmp(a, "-") == 0) {
            out[n++] = argv[i];
        } else if (strcmp(a, "--") == 0) {
            plain = 1;
            out[n++] = argv[i];
        } else if (strcmp(a, "--config") == 0 && i + 1 < argc) {
            opts->config_dir = argv[++i];
        } else if (strncmp(a, "--config=", 9) == 0) {
            opts->config_dir = argv[i] + 9;
        } else if ((strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) && c->own_help) {
            out[0] = argv[i]; /* its own usage, whatever else is there */
            n = 1;
            break;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_command_usage(c->name);
            free(out);
            return -1;
        } else if (known_option(c, a, &value)) {
            char *eq = strchr(argv[i], '=');
            if (value && eq) {
                *eq = '\0'; /* "--opt=VALUE" read as "--opt" "VALUE" */
                out[n++] = argv[i];
                out[n++] = eq + 1;
            } else {
                out[n++] = argv[i];
                if (value && i + 1 < argc)
                    out[n++] = argv[++i];
            }
        } else {
            sp_cli_error("%s: unknown option '%s' (see synopassthru %s --help)", c->name, a,
                         c->name);
            free(out);
            return SP_EXIT_USAGE;
        }
    }
    opts->argc = n;
    opts->argv = out;
    return 0;
}

static const char *program_path; /* argv[0] */

char *sp_cli_self_path(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n > 0) {
        buf[n] = '\0';
        return strdup(buf);
    }
    /* No /proc (a chroot, an early boot): a path we were started by. */
    if (program_path && strchr(program_path, '/') && realpath(program_path, buf))
        return strdup(buf);
    return NULL;
}

int main(int argc, char **argv)
{
    struct sp_cli_opts opts = {0};
    int i = 1;
    program_path = argv[0];
    /* The child side of the load proof (injector/loadproof.h). */
    if (argc == 3 && strcmp(argv[1], SP_LOADPROOF_ARG) == 0)
        return sp_loadproof_child(argv[2]);
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_text, stdout);
            return SP_EXIT_OK;
        } else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
            printf("synopassthru %s\n", SP_VERSION);
            return SP_EXIT_OK;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            opts.config_dir = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            opts.config_dir = argv[i] + 9;
        } else {
            sp_cli_error("unknown option '%s' (see synopassthru --help)", argv[i]);
            return SP_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        sp_cli_error("no command given (see synopassthru --help)");
        return SP_EXIT_USAGE;
    }
    for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
        if (strcmp(argv[i], commands[c].name) == 0) {
            int rc = command_args(&commands[c], argc - i - 1, argv + i + 1, &opts);
            if (rc != 0)
                return rc < 0 ? SP_EXIT_OK : rc;
            rc = commands[c].run(&opts);
            free(opts.argv);
            return rc;
        }
    }
    sp_cli_error("unknown command '%s' (see synopassthru --help)", argv[i]);
    return SP_EXIT_USAGE;
}
