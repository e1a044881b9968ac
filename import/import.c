#include "import.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../config/config.h"
#include "report.h"

static char *default_from(const char *root)
{
    char *from = NULL;
    return asprintf(&from, "%s%s", root, SP_LEGACY_DIR) < 0 ? NULL : from;
}

static int removal_allowed(const struct sp_import_run *r)
{
    struct sp_import_counts c;
    sp_import_count(r, &c);
    return c.blocking == 0 && c.refused == 0 && c.failed == 0 && c.misfits == 0;
}

/* --remove-old, once everything the old hook did is in snippets. */
static void remove_old(struct sp_import_run *r)
{
    struct sp_err e;
    if (r->hook_error) {
        r->removal = SP_REMOVAL_FAILED;
        r->removal_error = strdup(r->hook_error);
    } else if (!removal_allowed(r)) {
        r->removal = SP_REMOVAL_BLOCKED;
    } else if (r->hook.qemu != SP_OLDHOOK_THEIRS && r->hook.n_removed == 0) {
        r->removal = SP_REMOVAL_NOTHING;
    } else if (r->opts->dry_run) {
        r->removal = SP_REMOVAL_WOULD;
    } else if (!(r->backup_dir = sp_oldhook_backup_dir(r->apply.config_dir, time(NULL), &e)) ||
               sp_oldhook_remove(&r->hook, r->backup_dir, &r->done, &e) < 0) {
        r->removal = SP_REMOVAL_FAILED;
        r->removal_error = strdup(e.msg);
    } else {
        r->removal = SP_REMOVAL_DONE;
    }
}

static int status_of(const struct sp_import_run *r, struct sp_err *err)
{
    struct sp_import_counts c;
    sp_import_count(r, &c);
    if (c.failed || r->removal == SP_REMOVAL_FAILED) {
        sp_err_set(err, "import: %zu file%s could not be written%s (see the report)", c.failed,
                   c.failed == 1 ? "" : "s",
                   r->removal == SP_REMOVAL_FAILED ? " and the old hook was not removed" : "");
        return SP_IMPORT_WRITE_FAILED;
    }
    if (c.skipped || c.refused || c.misfits || r->removal == SP_REMOVAL_BLOCKED) {
        sp_err_set(err, "import: not everything was imported: %zu item%s not imported, %zu "
                   "file%s refused, %zu ROM%s that do%s not fit (see the report)", c.skipped,
                   c.skipped == 1 ? "" : "s", c.refused, c.refused == 1 ? "" : "s", c.misfits,
                   c.misfits == 1 ? "" : "s", c.misfits == 1 ? "es" : "");
        return SP_IMPORT_INCOMPLETE;
    }
    return SP_IMPORT_DONE;
}

/* Reads the old install and decides every file; the status when that
 * cannot go on, else -1. */
static int plan(struct sp_import_run *r, const struct sp_snapshot *snap, struct sp_err *err)
{
    struct sp_legacy_where where = {.root = r->opts->root, .dir = r->from,
                                    .sysfs_root = sp_pci_sysfs_root(snap->settings.sysfs_root)};
    int found = sp_legacy_read(&where, &r->plan, err);
    if (found == 0) {
        sp_err_set(err, "import: no community scripts at %s: neither %s nor %s is there",
                   r->from, SP_LEGACY_MASTER, SP_LEGACY_MASTER_OLD);
        return SP_IMPORT_NOT_FOUND;
    }
    if (found < 0) {
        sp_err_prefix(err, "import");
        return SP_IMPORT_NOT_FOUND;
    }
    if (sp_apply_prepare(&r->plan, snap, r->origin, &r->apply, err) < 0) {
        sp_err_prefix(err, "import");
        return SP_IMPORT_WRITE_FAILED;
    }
    if (snap->global_error)
        r->config_error = strdup(snap->global_error);
    return -1;
}

static void find_hook(struct sp_import_run *r)
{
    struct sp_err e;
    if (sp_oldhook_find(r->opts->root, &r->hook, &e) < 0)
        r->hook_error = strdup(e.msg);
}

static int run(struct sp_import_run *r, const struct sp_snapshot *snap, FILE *out,
               struct sp_err *err)
{
    int status = plan(r, snap, err);
    if (status >= 0)
        return status;
    find_hook(r);
    if (!r->opts->dry_run)
        sp_apply_write(&r->apply); /* its failures are in the files' states */
    if (r->opts->remove_old)
        remove_old(r);
    sp_import_report(out, r);
    return status_of(r, err);
}

static void run_free(struct sp_import_run *r)
{
    sp_apply_free(&r->apply); /* before the plan it points into */
    sp_legacy_plan_free(&r->plan);
    sp_oldhook_free(&r->hook);
    sp_oldhook_done_free(&r->done);
    free(r->hook_error);
    free(r->config_error);
    free(r->backup_dir);
    free(r->removal_error);
}

int sp_import(const struct sp_import_opts *opts, FILE *out, struct sp_err *err)
{
    struct sp_import_run r = {.opts = opts};
    char *from = opts->from ? strdup(opts->from) : default_from(opts->root);
    struct sp_config *cfg = from ? sp_config_new(opts->config_dir) : NULL;
    struct sp_snapshot *snap = NULL;
    int status;
    if (!cfg) {
        status = SP_IMPORT_WRITE_FAILED;
        sp_err_set(err, "import: out of memory");
    } else if (sp_config_snapshot(cfg, &snap, err) < 0) {
        status = SP_IMPORT_WRITE_FAILED;
        sp_err_prefix(err, "import");
    } else {
        r.from = from;
        r.origin = opts->from ? opts->from : SP_LEGACY_DIR;
        status = run(&r, snap, out, err);
    }
    run_free(&r);
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    free(from);
    return status;
}
