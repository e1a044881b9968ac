/* synopassthru setup [--root DIR] [--unit NAME] [--dry-run] [--remove [--purge]]:
 * the one root step after unpacking a release or installing the DSM
 * package. Parses arguments and calls injector/setup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../config/config.h"
#include "../injector/dsm_hook.h"
#include "../injector/setup.h"
#include "cli.h"

static const char usage[] =
    "Usage: synopassthru setup [--root DIR] [--unit NAME] [--dry-run] [--remove [--purge]]";

static int parse(const struct sp_cli_opts *opts, struct sp_setup_opts *o, int *remove)
{
    for (int i = 0; i < opts->argc; i++) {
        const char *arg = opts->argv[i];
        if (strcmp(arg, "--root") == 0 && i + 1 < opts->argc)
            o->root = opts->argv[++i];
        else if (strcmp(arg, "--unit") == 0 && i + 1 < opts->argc)
            o->unit = opts->argv[++i];
        else if (strcmp(arg, "--dry-run") == 0)
            o->dry_run = 1;
        else if (strcmp(arg, "--remove") == 0)
            *remove = 1;
        else if (strcmp(arg, "--purge") == 0)
            o->purge = 1;
        else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            puts(usage);
            return 1;
        } else {
            sp_cli_error("setup: unknown argument '%s' (%s)", arg, usage);
            return -1;
        }
    }
    if (o->purge && !*remove) {
        sp_cli_error("setup: --purge goes with --remove");
        return -1;
    }
    /* A root of "/" is the box itself. */
    if (strcmp(o->root, "/") == 0)
        o->root = "";
    return 0;
}

int sp_cmd_setup(const struct sp_cli_opts *opts)
{
    struct sp_setup_opts o = {.root = "", .unit = SP_DSM_UNIT,
                              .config_dir = sp_config_dir_choose(opts->config_dir)};
    int remove = 0;
    int parsed = parse(opts, &o, &remove);
    if (parsed != 0)
        return parsed > 0 ? SP_EXIT_OK : SP_EXIT_USAGE;
    if (!o.root[0] && !o.dry_run && geteuid() != 0) {
        sp_cli_error("setup: needs root (run it with sudo)");
        return SP_EXIT_REFUSED;
    }
    char *self = sp_cli_self_path();
    if (!self) {
        sp_cli_error("setup: cannot find our own program (/proc/self/exe)");
        return SP_EXIT_INTERNAL;
    }
    o.self = self;
    struct sp_err err;
    int rc = remove ? sp_setup_remove(&o, stdout, &err) : sp_setup_install(&o, stdout, &err);
    free(self);
    fflush(stdout);
    if (rc < 0) {
        sp_cli_error("%s", err.msg);
        return SP_EXIT_REFUSED;
    }
    if (rc > 0) {
        sp_cli_error("setup --remove: what someone else changed since setup was left as it is "
                     "(each named above)");
        return SP_EXIT_REFUSED;
    }
    return SP_EXIT_OK;
}
