/* synopassthru doctor [--json] [--root DIR] [--unit NAME]: every check of
 * core/doctor.h, one line each with its fix. Exit 0 when nothing is a
 * problem (warnings allowed), 1 when something is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/json.h"
#include "../config/config.h"
#include "../core/doctor.h"
#include "../injector/dsm_hook.h"
#include "../pci/pci.h"
#include "cli.h"
#include "term.h"

static const char usage[] =
    "Usage: synopassthru [--config DIR] doctor [--json] [--root DIR] [--unit NAME]\n"
    "Checks everything a passthrough needs (IOMMU, vfio, the shim in the\n"
    "daemon, the drop-in, DSM's start hook, the config, each VM's devices and\n"
    "ROMs, holds, the audit log, the community scripts' hook) and says for each\n"
    "what is wrong and how to fix it. Exit 0 no problem (warnings allowed); 1 a\n"
    "problem; 2 bad command line.\n";

struct doctor_args {
    int json;
    const char *root; /* "" for / */
    const char *unit;
};

/* 0 parsed, 1 help printed, -1 usage error (said). */
static int parse(const struct sp_cli_opts *opts, struct doctor_args *a)
{
    for (int i = 0; i < opts->argc; i++) {
        const char *arg = opts->argv[i];
        if (strcmp(arg, "--json") == 0) {
            a->json = 1;
        } else if (strcmp(arg, "--root") == 0 && i + 1 < opts->argc) {
            a->root = opts->argv[++i];
        } else if (strcmp(arg, "--unit") == 0 && i + 1 < opts->argc) {
            a->unit = opts->argv[++i];
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(usage, stdout);
            return 1;
        } else {
            sp_cli_error("doctor: unknown argument '%s' (see synopassthru doctor --help)", arg);
            return -1;
        }
    }
    if (strcmp(a->root, "/") == 0)
        a->root = "";
    return 0;
}

static const char *status_name(enum sp_doctor_status s)
{
    return s == SP_DOCTOR_OK ? "ok" : s == SP_DOCTOR_WARNING ? "warning" : "problem";
}

static void print_text(const struct sp_doctor *d)
{
    int colour = sp_term_colour(stdout);
    for (size_t i = 0; i < d->n; i++) {
        const struct sp_doctor_line *l = &d->lines[i];
        printf("%s%-7s%s %-10s %s\n", sp_term_on(colour, (enum sp_tone)l->status),
               status_name(l->status), sp_term_off(colour), l->id, l->message);
        if (l->fix)
            printf("%18s fix: %s\n", "", l->fix);
    }
    enum sp_doctor_status worst = sp_doctor_worst(d);
    printf("%s\n", worst == SP_DOCTOR_PROBLEM ? "doctor: found problems (each with its fix above)"
                   : worst == SP_DOCTOR_WARNING ? "doctor: no problem, with warnings above"
                                                : "doctor: everything is in place");
}

static int print_json(const struct sp_doctor *d)
{
    struct sp_json j;
    sp_cli_json_begin(&j);
    sp_json_member_bool(&j, "ok", sp_doctor_worst(d) != SP_DOCTOR_PROBLEM);
    sp_json_key(&j, "checks");
    sp_json_begin_array(&j);
    for (size_t i = 0; i < d->n; i++) {
        sp_json_begin_object(&j);
        sp_json_member_str(&j, "id", d->lines[i].id);
        sp_json_member_str(&j, "status", status_name(d->lines[i].status));
        sp_json_member_str(&j, "message", d->lines[i].message);
        sp_json_member_str(&j, "fix", d->lines[i].fix);
        sp_json_end_object(&j);
    }
    sp_json_end_array(&j);
    sp_json_end_object(&j);
    return sp_cli_print_json(&j, "doctor");
}

int sp_cmd_doctor(const struct sp_cli_opts *opts)
{
    struct doctor_args a = {.root = "", .unit = SP_DSM_UNIT};
    int parsed = parse(opts, &a);
    if (parsed != 0)
        return parsed > 0 ? SP_EXIT_OK : SP_EXIT_USAGE;
    struct sp_config *cfg;
    struct sp_snapshot *snap = sp_cli_load_snapshot(opts, &cfg);
    if (!snap)
        return SP_EXIT_INTERNAL;
    char *self = sp_cli_self_path();
    struct sp_doctor_env env = {
        .snap = snap,
        .sysfs_root = sp_pci_sysfs_root(snap->settings.sysfs_root),
        .proc_root = sp_pci_proc_root(snap->settings.proc_root),
        .root = a.root,
        .unit = a.unit,
        .self = self,
    };
    struct sp_doctor d = {0};
    sp_doctor_run(&env, &d);
    int code = a.json ? print_json(&d) : SP_EXIT_OK;
    if (!a.json)
        print_text(&d);
    if (d.failed)
        sp_cli_error("doctor: out of memory: some checks are missing");
    if (code == SP_EXIT_OK && sp_doctor_worst(&d) == SP_DOCTOR_PROBLEM)
        code = SP_EXIT_REFUSED;
    sp_doctor_free(&d);
    free(self);
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    return code;
}
