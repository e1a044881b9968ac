/* synopassthru holds [--json]: every hold in the state dir (which VM holds
 * which device since when, and the driver it had), with whether the VM's
 * QEMU runs and whether the device is still on vfio-pci. Reads only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/json.h"
#include "../config/config.h"
#include "../vfio/state.h"
#include "../vfio/sysfs.h"
#include "cli.h"

static const char usage_text[] =
    "Usage: synopassthru [--config DIR] holds [--json]\n"
    "Lists every hold in the state dir: the device, the VM that holds it, since\n"
    "when (UTC), the driver it had before, whether it goes back when the VM\n"
    "stops, whether the VM's QEMU runs and whether the device is still on\n"
    "vfio-pci. Exit 0 listed; 2 bad command line; 3 the state dir is unreadable.\n";

struct row {
    char addr[SP_PCI_ADDR_STRLEN];
    struct sp_hold hold;
    char since[32]; /* UTC, ISO 8601 */
    int running;    /* the VM's QEMU runs */
    int on_vfio;    /* the device is on vfio-pci now */
};

/* 1 --json, 0 text, 2 --help printed, -1 a usage error (said). */
static int parse(const struct sp_cli_opts *opts)
{
    int json = 0;
    for (int i = 0; i < opts->argc; i++) {
        const char *arg = opts->argv[i];
        if (strcmp(arg, "--json") == 0) {
            json = 1;
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(usage_text, stdout);
            return 2;
        } else {
            sp_cli_error("holds: unknown argument '%s' (see synopassthru holds --help)", arg);
            return -1;
        }
    }
    return json;
}

static void iso_time(long long epoch, char *out, size_t size)
{
    time_t t = (time_t)epoch;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, size, "%lld", epoch);
}

/* One hold and what the machine says about it: 1; 0 when it is gone
 * meanwhile; -1 with err when unreadable. */
static int read_row(const struct sp_settings *s, const struct sp_pci_addr *addr, struct row *r,
                    struct sp_err *err)
{
    char now[64];
    struct sp_err gone;
    memset(r, 0, sizeof(*r));
    sp_pci_addr_format(addr, r->addr);
    int held = sp_state_read(s->state_dir, addr, &r->hold, err);
    if (held <= 0)
        return held;
    iso_time(r->hold.since, r->since, sizeof(r->since));
    r->running = sp_hold_qemu_running(&r->hold, sp_pci_proc_root(s->proc_root));
    r->on_vfio = sp_sysfs_driver(sp_pci_sysfs_root(s->sysfs_root), addr, now, sizeof(now),
                                 &gone) == 0 && strcmp(now, SP_VFIO_DRIVER) == 0;
    return 1;
}

static void put_text(const struct row *r)
{
    printf("%s vm=%s since=%s was=%s release=%s running=%s vfio-pci=%s\n", r->addr, r->hold.vm,
           r->since, r->hold.driver[0] ? r->hold.driver : "none", r->hold.release ? "yes" : "no",
           r->running ? "yes" : "no", r->on_vfio ? "yes" : "no");
}

static void put_json(struct sp_json *j, const struct row *r)
{
    sp_json_begin_object(j);
    sp_json_member_str(j, "address", r->addr);
    sp_json_member_str(j, "vm", r->hold.vm);
    sp_json_member_str(j, "since", r->since);
    sp_json_member_str(j, "original_driver", r->hold.driver[0] ? r->hold.driver : NULL);
    sp_json_member_bool(j, "release", r->hold.release);
    sp_json_member_bool(j, "running", r->running);
    sp_json_member_bool(j, "on_vfio_pci", r->on_vfio);
    sp_json_end_object(j);
}

/* Every hold, as text or into the array j; an exit code. */
static int list_holds(const struct sp_settings *s, struct sp_json *j)
{
    struct sp_pci_addr *addrs = NULL;
    size_t n = 0;
    struct sp_err err;
    if (sp_state_list(s->state_dir, &addrs, &n, &err) < 0) {
        sp_cli_error("holds: %s", err.msg);
        return SP_EXIT_INPUT;
    }
    if (!j && n == 0)
        printf("no holds in %s\n", s->state_dir);
    int code = SP_EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        struct row r;
        int held = read_row(s, &addrs[i], &r, &err);
        if (held < 0) {
            sp_cli_error("holds: %s", err.msg);
            code = SP_EXIT_INPUT;
        } else if (held && j) {
            put_json(j, &r);
        } else if (held) {
            put_text(&r);
        }
    }
    free(addrs);
    return code;
}

int sp_cmd_holds(const struct sp_cli_opts *opts)
{
    int json = parse(opts);
    if (json < 0 || json == 2)
        return json < 0 ? SP_EXIT_USAGE : SP_EXIT_OK;
    struct sp_config *cfg;
    struct sp_snapshot *snap = sp_cli_load_snapshot(opts, &cfg);
    if (!snap)
        return SP_EXIT_INTERNAL;
    struct sp_json j;
    sp_cli_json_begin(&j);
    sp_json_key(&j, "holds");
    sp_json_begin_array(&j);
    int code = list_holds(&snap->settings, json ? &j : NULL);
    sp_json_end_array(&j);
    sp_json_end_object(&j);
    if (json && code == SP_EXIT_OK && sp_json_print(&j, stdout) < 0) {
        sp_cli_error("holds: cannot write the output");
        code = SP_EXIT_INTERNAL;
    } else if (!json || code != SP_EXIT_OK) {
        free(sp_json_take(&j));
    }
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    return code;
}
