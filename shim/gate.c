#include "gate.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "../core/audit.h"
#include "../core/binder.h"
#include "../core/start.h"
#include "real.h"

static struct sp_config *config;
static pthread_once_t config_once = PTHREAD_ONCE_INIT;

static void open_config(void)
{
    config = sp_config_new(sp_config_dir_choose(NULL));
}

static void log_line(const char *message)
{
    /* libvirtd's stderr goes to its log (the journal on systemd hosts). */
    fprintf(stderr, "synopassthru: %s\n", message);
}

void sp_gate_report(const char *message)
{
    const struct sp_real *r = sp_real();
    char text[SP_ERR_MAX + 32];
    snprintf(text, sizeof(text), "synopassthru: %s", message);
    if (r->set_error) {
        virError e;
        memset(&e, 0, sizeof(e));
        e.code = VIR_ERR_OPERATION_FAILED;
        e.domain = VIR_FROM_NONE;
        e.level = VIR_ERR_ERROR;
        e.message = text;
        r->set_error(&e);
    } else if (r->report_error_helper) {
        r->report_error_helper(VIR_FROM_NONE, VIR_ERR_OPERATION_FAILED, __FILE__, __func__,
                               __LINE__, "%s", text);
    }
}

static void audit(const struct sp_start *st, const char *api, const struct sp_audit_outcome *o)
{
    struct sp_err err;
    if (sp_audit_write(st, api, o, &err) < 0)
        log_line(err.msg);
}

static virDomainPtr refuse(struct sp_start *st, const char *api);

/* Puts the VM's devices on vfio-pci through the helper, before QEMU runs.
 * Returns 0, or -1 with the start turned into a refusal. */
static int bind_devices(struct sp_start *st, const char *api, struct sp_helper_result *bound)
{
    struct sp_err err;
    if (sp_binder_run(SP_BIND, &st->snap->settings, st->id.name, st->devs, st->n_devs, bound,
                      &err) < 0) {
        st->verdict = SP_REFUSED;
        sp_err_set(&st->err, "VM %s: %s", st->label, err.msg);
        return -1;
    }
    if (sp_audit_write_bind(st, api, bound->out, &err) < 0)
        log_line(err.msg);
    return 0;
}

static virDomainPtr forward_patched(struct sp_start *st, const char *api, sp_forward_fn forward,
                                    void *ctx)
{
    struct sp_helper_result *bound = NULL;
    if (sp_binder_needed(st->devs, st->n_devs)) {
        bound = calloc(1, sizeof(*bound));
        if (!bound || bind_devices(st, api, bound) < 0) {
            if (!bound)
                sp_err_set(&st->err, "VM %s: out of memory", st->label);
            st->verdict = SP_REFUSED;
            free(bound);
            return refuse(st, api);
        }
    }
    for (size_t i = 0; i < st->n_warnings; i++)
        log_line(st->warnings[i]);
    virDomainPtr dom = forward(st->xml, ctx);
    struct sp_audit_outcome o = {.bound = bound ? bound->out : NULL, .forwarded = 1,
                                 .libvirt_ok = dom != NULL};
    const struct sp_real *r = sp_real();
    if (!dom && r->last_error_message)
        o.libvirt_error = r->last_error_message();
    audit(st, api, &o);
    struct sp_err err;
    /* libvirt did not start the VM: give the devices back. */
    if (!dom && bound && sp_binder_undo(&st->snap->settings, st->id.name, bound, &err) < 0)
        log_line(err.msg);
    free(bound);
    return dom;
}

static virDomainPtr refuse(struct sp_start *st, const char *api)
{
    log_line(st->err.msg);
    struct sp_audit_outcome o = {0};
    audit(st, api, &o);
    /* Report last: the audit must not disturb the thread's libvirt error. */
    sp_gate_report(st->err.msg);
    return NULL;
}

/* Takes the current config; NULL means forward untouched. */
static struct sp_snapshot *current_snapshot(void)
{
    pthread_once(&config_once, open_config);
    if (!config)
        return NULL;
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    if (sp_config_snapshot(config, &snap, &err) < 0) {
        log_line(err.msg);
        return NULL;
    }
    return snap;
}

virDomainPtr sp_gate_create(const char *api, const char *xml, sp_forward_fn forward, void *ctx)
{
    struct sp_snapshot *snap = current_snapshot();
    if (!snap || !snap->index) {
        /* No snippet names any VM: nothing to decide. */
        sp_snapshot_release(snap);
        return forward(xml, ctx);
    }
    struct sp_start st;
    int rc = sp_start_prepare(snap, xml, xml ? strlen(xml) : 0, &st);
    sp_snapshot_release(snap);
    virDomainPtr dom;
    if (rc < 0 || st.verdict == SP_UNMATCHED || st.verdict == SP_BAD_INPUT)
        dom = forward(xml, ctx);
    else if (st.verdict == SP_REFUSED)
        dom = refuse(&st, api);
    else
        dom = forward_patched(&st, api, forward, ctx);
    sp_start_free(&st);
    return dom;
}
