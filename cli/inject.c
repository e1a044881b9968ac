/* synopassthru inject systemd|dsm [--unit NAME] [--root DIR] [--remove] [--reload]:
 * the two halves of `setup` on their own. Parses arguments and calls the
 * injector (injector/): systemd writes the drop-in (after the load proof)
 * or takes it out; dsm puts the block into the Virtualization package's
 * start script or takes it out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "../injector/dropin.h"
#include "../injector/dsm_hook.h"
#include "../injector/loadproof.h"
#include "cli.h"

#ifndef SP_LIBDIR
#define SP_LIBDIR "/usr/local/lib/synopassthru"
#endif
#ifndef SP_BINDIR
#define SP_BINDIR "/usr/local/bin"
#endif
#define SHIM_PATH SP_LIBDIR "/libsynopassthru.so"

struct inject_args {
    const char *target; /* "systemd" or "dsm" */
    const char *unit, *root;
    int remove, reload;
};

static const char usage[] =
    "Usage: synopassthru inject systemd|dsm [--unit NAME] [--root DIR] [--remove] [--reload]";

static int parse(const struct sp_cli_opts *opts, struct inject_args *a)
{
    a->root = "";
    if (opts->argc < 1 ||
        (strcmp(opts->argv[0], "systemd") != 0 && strcmp(opts->argv[0], "dsm") != 0)) {
        sp_cli_error("inject: %s", usage);
        return -1;
    }
    a->target = opts->argv[0];
    a->unit = strcmp(a->target, "dsm") == 0 ? SP_DSM_UNIT : "libvirtd";
    for (int i = 1; i < opts->argc; i++) {
        if (strcmp(opts->argv[i], "--unit") == 0 && i + 1 < opts->argc)
            a->unit = opts->argv[++i];
        else if (strcmp(opts->argv[i], "--root") == 0 && i + 1 < opts->argc)
            a->root = opts->argv[++i];
        else if (strcmp(opts->argv[i], "--remove") == 0)
            a->remove = 1;
        else if (strcmp(opts->argv[i], "--reload") == 0)
            a->reload = 1;
        else {
            sp_cli_error("inject: unknown argument '%s' (%s)", opts->argv[i], usage);
            return -1;
        }
    }
    if (!sp_unit_name_ok(a->unit)) {
        sp_cli_error("inject: '%s' is not a unit name", a->unit);
        return -1;
    }
    if (a->reload && (a->root[0] || strcmp(a->target, "systemd") != 0)) {
        sp_cli_error("inject: --reload tells the running systemd; it goes with `inject systemd` "
                     "and no --root");
        return -1;
    }
    return 0;
}

/* After the drop-in changed: reload, or say what to run. */
static int after_change(const struct inject_args *a, int removed)
{
    struct sp_err err;
    if (!a->reload) {
        printf("then: systemctl daemon-reload && systemctl restart %s.service\n", a->unit);
        return SP_EXIT_OK;
    }
    if (sp_systemd_reload(&err) < 0) {
        sp_cli_error("inject: %s", err.msg);
        return SP_EXIT_INTERNAL;
    }
    printf("ran systemctl daemon-reload; the next start of %s.service %s the shim\n", a->unit,
           removed ? "runs without" : "has");
    return SP_EXIT_OK;
}

static int take_dropin(const struct inject_args *a)
{
    struct sp_err err;
    enum sp_change change;
    char *path = sp_dropin_path(a->root, a->unit);
    int code = SP_EXIT_OK;
    if (sp_dropin_take(a->root, a->unit, &change, &err) < 0) {
        sp_cli_error("inject: %s", err.msg);
        code = SP_EXIT_INTERNAL;
    } else if (change == SP_UNCHANGED) {
        printf("%s is not there\n", path ? path : "the drop-in");
    } else {
        printf("removed %s\n", path ? path : "the drop-in");
        code = after_change(a, 1);
    }
    free(path);
    return code;
}

/* A shim that cannot load must not stay preloaded either: the daemon would
 * not start at all. */
static int refuse_unloadable(const struct inject_args *a, const char *why)
{
    sp_cli_error("inject: %s", why);
    char *path = sp_dropin_path(a->root, a->unit);
    struct sp_err err;
    enum sp_change change = SP_UNCHANGED;
    if (path && sp_dropin_take(a->root, a->unit, &change, &err) == 0 && change == SP_CHANGED) {
        printf("took out %s, so that %s.service starts without the shim\n", path, a->unit);
        if (a->reload)
            after_change(a, 1);
    }
    free(path);
    return SP_EXIT_REFUSED;
}

static int put_dropin(const struct sp_cli_opts *opts, const struct inject_args *a)
{
    struct sp_err err;
    char *shim = NULL, *self = sp_cli_self_path();
    if (!self || asprintf(&shim, "%s%s", a->root, SHIM_PATH) < 0) {
        free(self);
        sp_cli_error("inject: cannot find our own program (/proc/self/exe)");
        return SP_EXIT_INTERNAL;
    }
    int proved = sp_loadproof_run(self, shim, &err);
    free(self);
    free(shim);
    if (proved < 0)
        return refuse_unloadable(a, err.msg);
    char *text = sp_dropin_text(SHIM_PATH, sp_config_dir_choose(opts->config_dir), &err);
    char *path = sp_dropin_path(a->root, a->unit);
    enum sp_change change = SP_UNCHANGED;
    int code = SP_EXIT_OK;
    if (!text || !path || sp_dropin_put(a->root, a->unit, text, &change, &err) < 0) {
        sp_cli_error("inject: %s", path ? err.msg : "out of memory");
        code = SP_EXIT_INTERNAL;
    } else if (change == SP_UNCHANGED) {
        printf("%s is already in place\n", path);
    } else {
        printf("wrote %s\n", path);
        code = after_change(a, 0);
    }
    free(text);
    free(path);
    return code;
}

static int edit_dsm_hook(const struct sp_cli_opts *opts, const struct inject_args *a)
{
    struct sp_err err;
    int missing = 0;
    enum sp_change change = SP_UNCHANGED;
    char *block = NULL;
    int rc;
    if (a->remove) {
        rc = sp_dsm_hook_take(a->root, &missing, &change, &err);
    } else {
        block = sp_dsm_block(SP_BINDIR "/synopassthru", sp_config_dir_choose(opts->config_dir),
                             a->unit, &err);
        rc = block ? sp_dsm_hook_put(a->root, block, &missing, &change, &err) : -1;
    }
    free(block);
    if (rc < 0) {
        sp_cli_error("inject: %s", err.msg);
        return missing ? SP_EXIT_INPUT : SP_EXIT_INTERNAL;
    }
    if (change == SP_UNCHANGED)
        printf("%s%s: nothing to change\n", a->root, SP_DSM_HOOK_PATH);
    else
        printf("%s %s%s\n", a->remove ? "removed our block from" : "added our block to", a->root,
               SP_DSM_HOOK_PATH);
    return SP_EXIT_OK;
}

int sp_cmd_inject(const struct sp_cli_opts *opts)
{
    struct inject_args a = {0};
    if (parse(opts, &a) < 0)
        return SP_EXIT_USAGE;
    if (strcmp(a.target, "dsm") == 0)
        return edit_dsm_hook(opts, &a);
    return a.remove ? take_dropin(&a) : put_dropin(opts, &a);
}
