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
    "  check VM [--json] [--domain FILE]\n"
    "                     every check a start of VM would make (devices, IDs, ROMs,\n"
    "                     IOMMU groups, reset, firmware with the VM's domain XML);\n"
    "                     exit 0 when all pass\n"
    "  bind [--vm NAME] ADDR...   put devices on vfio-pci (through the vfio helper)\n"
    "  release [--vm NAME] [--force] ADDR...\n"
    "                     give devices back to the driver they had; refused while\n"
    "                     the holding VM runs, unless --force\n"
    "  holds [--json]     every hold: device, VM, since, the driver it had, whether\n"
    "                     the VM runs and the device is still on vfio-pci\n"
    "  status [--json]    processes with libvirt mapped, and whether the shim is there\n"
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
    "  rom info FILE [--json] [--for ADDR]\n"
    "                     the images of an option ROM and whether it fits a device\n"
    "  rom extract --vfct [--for ADDR] [-o FILE] | --pci ADDR [-o FILE]\n"
    "                     save a vBIOS from the ACPI VFCT table or a device's ROM\n"
    "\n"
    "Options:\n"
    "  --config DIR       config directory (default: $SYNOPASSTHRU_CONFIG_DIR,\n"
    "                     else " SP_DEFAULT_CONFIG_DIR ")\n"
    "  -h, --help         this help\n"
    "  -V, --version      print the version\n"
    "\n"
    "Exit status:\n"
    "  0  success (preview: the XML is printed; check: all pass; rom info: it fits)\n"
    "  1  refused: the VM's start would be refused, a check failed, the vfio\n"
    "     helper refused, or the ROM does not fit; the reason is on stderr\n"
    "  2  bad command line\n"
    "  3  unusable input (unreadable file, not a <domain>, no <name>, a\n"
    "     malformed ROM or VFCT table)\n"
    "  4  internal error (also: an output file could not be written)\n";

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

struct command {
    const char *name;
    int (*run)(const struct sp_cli_opts *opts);
};

static const struct command commands[] = {
    {"preview", sp_cmd_preview},
    {"rom", sp_cmd_rom},
    {"groups", sp_cmd_groups},
    {"check", sp_cmd_check},
    {"bind", sp_cmd_bind},
    {"release", sp_cmd_release},
    {"holds", sp_cmd_holds},
    {"status", sp_cmd_status},
    {"inject", sp_cmd_inject},
    {"setup", sp_cmd_setup},
    {"import", sp_cmd_import},
};

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
            opts.argc = argc - i - 1;
            opts.argv = argv + i + 1;
            return commands[c].run(&opts);
        }
    }
    sp_cli_error("unknown command '%s' (see synopassthru --help)", argv[i]);
    return SP_EXIT_USAGE;
}
