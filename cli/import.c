/* synopassthru import [--from DIR] [--root DIR] [--dry-run] [--remove-old]:
 * moves an install of the community hot-plug scripts into snippets. This
 * file only reads the command line; the work is in import/. */
#include <stdio.h>
#include <string.h>

#include "../config/config.h"
#include "../import/import.h"
#include "cli.h"

static const char usage_text[] =
    "Usage: synopassthru [--config DIR] import [--from DIR] [--root DIR] [--dry-run]\n"
    "                                          [--remove-old]\n"
    "\n"
    "Reads the community passthrough scripts (attach_detach_all.sh and the\n"
    "scripts it runs, or the older attach_all.sh) without running them, and\n"
    "writes one snippet per VM to the config dir's vm.d/ and their ROMs to rom/.\n"
    "A file that is there already with other content is never overwritten.\n"
    "\n"
    "  --from DIR     the scripts' folder (default: ROOT/usr/local/libvirt)\n"
    "  --root DIR     prefix of every system path (for a copy of a NAS's files)\n"
    "  --dry-run      print every action and the files' text; change nothing\n"
    "  --remove-old   once everything is imported, back up and remove the old\n"
    "                 qemu hook and the lines deploy.sh added to DSM's start hook\n"
    "\n"
    "Exit status: 0 everything imported and every ROM fits; 1 something was not\n"
    "imported or refused, or a ROM does not fit; 2 bad command line; 3 no\n"
    "scripts at the folder; 4 a file could not be written.\n";

/* --NAME VALUE or --NAME=VALUE: 1 taken (*value set), 0 not this option,
 * -1 the value is missing. */
static int option_value(const struct sp_cli_opts *opts, int *i, const char *name,
                        const char **value)
{
    const char *arg = opts->argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0')
        return 0;
    if (*i + 1 >= opts->argc)
        return -1;
    *value = opts->argv[++*i];
    return 1;
}

static int parse(const struct sp_cli_opts *opts, struct sp_import_opts *o, int *help)
{
    for (int i = 0; i < opts->argc; i++) {
        const char *arg = opts->argv[i];
        int from = option_value(opts, &i, "--from", &o->from);
        int root = from ? 0 : option_value(opts, &i, "--root", &o->root);
        if (from < 0 || root < 0) {
            sp_cli_error("import: %s needs a directory", arg);
            return -1;
        }
        if (from || root)
            continue;
        if (strcmp(arg, "--dry-run") == 0)
            o->dry_run = 1;
        else if (strcmp(arg, "--remove-old") == 0)
            o->remove_old = 1;
        else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
            *help = 1;
        else {
            sp_cli_error("import: unknown argument '%s' (see synopassthru import --help)", arg);
            return -1;
        }
    }
    if (o->from && !o->from[0]) {
        sp_cli_error("import: --from needs a directory");
        return -1;
    }
    return 0;
}

static int exit_code(int status)
{
    switch (status) {
    case SP_IMPORT_DONE: return SP_EXIT_OK;
    case SP_IMPORT_INCOMPLETE: return SP_EXIT_REFUSED;
    case SP_IMPORT_NOT_FOUND: return SP_EXIT_INPUT;
    default: return SP_EXIT_INTERNAL;
    }
}

int sp_cmd_import(const struct sp_cli_opts *opts)
{
    struct sp_import_opts o = {.root = ""};
    int help = 0;
    if (parse(opts, &o, &help) < 0)
        return SP_EXIT_USAGE;
    if (help) {
        fputs(usage_text, stdout);
        return SP_EXIT_OK;
    }
    /* "/x/" and "/x" name the same root; "/" is no root at all. */
    char root[4096];
    if (snprintf(root, sizeof(root), "%s", o.root) >= (int)sizeof(root)) {
        sp_cli_error("import: --root is too long");
        return SP_EXIT_USAGE;
    }
    for (size_t n = strlen(root); n > 0 && root[n - 1] == '/'; n--)
        root[n - 1] = '\0';
    o.root = root;
    o.config_dir = sp_config_dir_choose(opts->config_dir);
    struct sp_err err;
    sp_err_clear(&err);
    int status = sp_import(&o, stdout, &err);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        sp_cli_error("import: the report could not be written");
        return SP_EXIT_INTERNAL;
    }
    if (status != SP_IMPORT_DONE)
        sp_cli_error("%s", err.msg);
    return exit_code(status);
}
