#include "gate.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/fsutil.h"
#include "../config/config.h"
#include "../core/audit.h"
#include "../core/binder.h"
#include "../core/persist.h"
#include "events.h"
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

void sp_gate_log(const char *message)
{
    log_line(message);
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

static int wants_release(const struct sp_start *st)
{
    for (size_t i = 0; i < st->n_devs; i++)
        if (st->devs[i].release && st->devs[i].bind)
            return 1;
    return 0;
}

/* Puts the VM's devices on vfio-pci through the helper, before QEMU runs.
 * Returns 0, or -1 with the start turned into a refusal. */
static int bind_devices(struct sp_start *st, const char *api, struct sp_helper_result *bound)
{
    struct sp_err err;
    if (sp_binder_for_start(SP_BIND, st, bound) < 0)
        return -1;
    if (sp_audit_write_bind(st, api, bound->out, &err) < 0)
        log_line(err.msg);
    return 0;
}

/* Before the real start: the devices go to vfio-pci (refusing the start
 * when they cannot) and warnings go to the log. *bound is the helper's
 * report, NULL when nothing needed binding. Returns 0, or -1 when refused. */
static int prepare_devices(struct sp_start *st, const char *api, struct sp_helper_result **bound)
{
    *bound = NULL;
    if (sp_binder_needed(st->devs, st->n_devs)) {
        *bound = calloc(1, sizeof(**bound));
        if (!*bound || bind_devices(st, api, *bound) < 0) {
            if (!*bound)
                sp_err_set(&st->err, "VM %s: out of memory", st->label);
            st->verdict = SP_REFUSED;
            free(*bound);
            *bound = NULL;
            refuse(st, api);
            return -1;
        }
    }
    for (size_t i = 0; i < st->n_warnings; i++)
        log_line(st->warnings[i]);
    return 0;
}

/* After the real start: the audit record, the devices back when libvirt
 * did not start the VM, the stop watch when it did. Frees bound. */
static void finish_start(struct sp_start *st, const char *api, struct sp_helper_result *bound,
                         int forwarded, int started, virConnectPtr conn)
{
    const struct sp_real *r = sp_real();
    struct sp_audit_outcome o = {.bound = bound ? bound->out : NULL, .forwarded = forwarded,
                                 .libvirt_ok = started};
    if (!started && r->last_error_message)
        o.libvirt_error = r->last_error_message();
    audit(st, api, &o);
    struct sp_err err;
    if (!started && bound && sp_binder_undo(&st->snap->settings, st->id.name, bound, &err) < 0)
        log_line(err.msg);
    if (started && wants_release(st))
        sp_events_watch(conn);
    free(bound);
}

static virDomainPtr forward_patched(struct sp_start *st, const char *api, sp_forward_fn forward,
                                    void *ctx)
{
    struct sp_helper_result *bound;
    if (prepare_devices(st, api, &bound) < 0)
        return NULL;
    virDomainPtr dom = forward(st->xml, ctx);
    finish_start(st, api, bound, 1, dom != NULL, dom ? sp_real()->get_connect(dom) : NULL);
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

/* Snippets skipped because the VM they name could not be read (a FIFO in
 * vm.d, a file that does not parse): said once per snapshot, in the log. */
static void log_skipped_snippets(const struct sp_snapshot *snap)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static unsigned long logged;
    pthread_mutex_lock(&lock);
    int fresh = snap->generation != logged;
    logged = snap->generation;
    pthread_mutex_unlock(&lock);
    for (size_t i = 0; fresh && i < snap->n_orphan_errors; i++) {
        char msg[SP_ERR_MAX + 64];
        snprintf(msg, sizeof(msg), "skipped a snippet, the VM it names is unknown: %s",
                 snap->orphan_errors[i]);
        log_line(msg);
    }
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
    log_skipped_snippets(snap);
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

/* --- persistent domains ------------------------------------------------- */

/* One lock per stripe of domain UUIDs: a definition is patched and put
 * back by one start at a time. Held across the real start, by design. */
#define DOMAIN_LOCK_STRIPES 64
static pthread_mutex_t domain_locks[DOMAIN_LOCK_STRIPES];
static pthread_once_t domain_locks_once = PTHREAD_ONCE_INIT;

static void init_domain_locks(void)
{
    for (int i = 0; i < DOMAIN_LOCK_STRIPES; i++)
        pthread_mutex_init(&domain_locks[i], NULL);
}

static pthread_mutex_t *domain_lock(virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    const struct sp_real *r = sp_real();
    if (r->get_uuid_string)
        r->get_uuid_string(dom, uuid);
    unsigned h = 5381;
    for (const char *p = uuid; *p; p++)
        h = h * 33 + (unsigned char)*p;
    pthread_once(&domain_locks_once, init_domain_locks);
    return &domain_locks[h % DOMAIN_LOCK_STRIPES];
}

/* Stores xml as the domain's definition, through the real libvirt call. */
static int store_definition(virDomainPtr dom, const char *xml)
{
    const struct sp_real *r = sp_real();
    virDomainPtr stored = r->define_xml ? r->define_xml(r->get_connect(dom), xml) : NULL;
    if (!stored)
        return -1;
    r->domain_free(stored);
    return 0;
}

/* Test-only: a file whose first word makes the shim fail at one point of
 * a persistent start, as a daemon that dies there ("stop-after-redefine")
 * or a definition that cannot be marked ("fail-mark") would. */
static int test_fault(const char *word)
{
    const char *path = secure_getenv("SYNOPASSTHRU_TEST_FAULT_FILE");
    char *text = NULL;
    int hit = path && *path && sp_read_file(path, 64, &text, NULL, NULL) == 0 &&
              strncmp(text, word, strlen(word)) == 0;
    free(text);
    return hit;
}

/* A marked definition means an earlier start died half way: put the
 * original back before anything else. Returns the definition to start from. */
static char *healed_definition(virDomainPtr dom, char *inactive)
{
    char *original = sp_persist_original(inactive);
    if (!original)
        return inactive;
    if (store_definition(dom, original) < 0) {
        log_line("could not put back a definition left patched by an interrupted start");
        free(original);
        return inactive;
    }
    log_line("put back a definition left patched by an interrupted start");
    free(inactive);
    return original;
}

/* Stores the original definition back without disturbing the libvirt
 * error of a failed start: the define would reset it, and the client
 * would get no reason. */
static void put_back_original(virDomainPtr dom, const char *original)
{
    const struct sp_real *r = sp_real();
    virErrorPtr saved = r->save_last_error ? r->save_last_error() : NULL;
    if (store_definition(dom, original) < 0)
        log_line("could not put back the original definition after the start; the next start "
                 "will");
    if (saved && r->set_error)
        r->set_error(saved);
    if (saved && r->free_error)
        r->free_error(saved);
}

/* The patched definition, marked with the original, stored for the start.
 * On failure err names the VM and the cause (libvirt's, for the define). */
static int store_marked(struct sp_start *st, virDomainPtr dom, const char *original,
                        struct sp_err *err)
{
    char *marked = NULL;
    int rc = test_fault("fail-mark") ? sp_err_set(err, "test fault: the marker was refused")
                                      : sp_persist_mark(st->xml, st->xml_len, original, &marked,
                                                        err);
    if (rc < 0) {
        sp_err_prefix(err, "VM %s: cannot mark the patched definition", st->label);
    } else if (store_definition(dom, marked) < 0) {
        const struct sp_real *r = sp_real();
        const char *why = r->last_error_message ? r->last_error_message() : NULL;
        rc = sp_err_set(err, "VM %s: cannot store the patched definition: %s", st->label,
                        why ? why : "libvirt gave no reason");
    }
    free(marked);
    return rc;
}

/* The start itself, with the patched definition stored around it. */
static int start_with_patch(struct sp_start *st, const char *api, virDomainPtr dom,
                            const char *original, sp_start_fn start, void *ctx)
{
    struct sp_helper_result *bound;
    if (prepare_devices(st, api, &bound) < 0)
        return -1;
    struct sp_err err;
    int patched = st->report.n_added > 0;
    if (patched && store_marked(st, dom, original, &err) < 0) {
        /* Nothing was started: the devices go back, the client and the
         * log get the reason (reported last, after the audit). */
        st->verdict = SP_REFUSED;
        st->err = err;
        log_line(err.msg);
        finish_start(st, api, bound, 0, 0, NULL);
        sp_gate_report(err.msg);
        return -1;
    }
    if (patched > 0 && test_fault("stop-after-redefine")) {
        sp_gate_report("test fault: stopped after storing the patched definition");
        free(bound);
        return -1;
    }
    int rc = start(dom, ctx);
    if (patched)
        put_back_original(dom, original);
    finish_start(st, api, bound, 1, rc == 0, sp_real()->get_connect(dom));
    return rc;
}

static int decide_defined(const char *api, virDomainPtr dom, sp_start_fn start, void *ctx)
{
    const struct sp_real *r = sp_real();
    if (!r->get_xml_desc || !r->get_connect || !r->define_xml || !r->domain_free ||
        (r->is_active && r->is_active(dom) == 1))
        return start(dom, ctx);
    char *inactive = r->get_xml_desc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
    if (!inactive)
        return start(dom, ctx);
    char *original = healed_definition(dom, inactive);
    struct sp_snapshot *snap = current_snapshot();
    int rc;
    if (!snap || !snap->index) {
        rc = start(dom, ctx);
    } else {
        struct sp_start st;
        int prepared = sp_start_prepare(snap, original, strlen(original), &st);
        if (prepared < 0 || st.verdict == SP_UNMATCHED || st.verdict == SP_BAD_INPUT)
            rc = start(dom, ctx);
        else if (st.verdict == SP_REFUSED) {
            refuse(&st, api);
            rc = -1;
        }
        else
            rc = start_with_patch(&st, api, dom, original, start, ctx);
        sp_start_free(&st);
    }
    sp_snapshot_release(snap);
    free(original);
    return rc;
}

int sp_gate_start_defined(const char *api, virDomainPtr dom, sp_start_fn start, void *ctx)
{
    pthread_mutex_t *lock = domain_lock(dom);
    pthread_mutex_lock(lock);
    int rc = decide_defined(api, dom, start, ctx);
    pthread_mutex_unlock(lock);
    return rc;
}

char *sp_gate_clean_define(const char *xml)
{
    char *clean = NULL;
    struct sp_err err;
    if (sp_persist_clean(xml, &clean, &err) < 0) {
        log_line(err.msg);
        return NULL;
    }
    return clean;
}

void sp_gate_release_stopped(const char *vm)
{
    struct sp_snapshot *snap = current_snapshot();
    struct sp_err err;
    if (snap && sp_binder_release_stopped(&snap->settings, vm, &err) < 0) {
        char msg[SP_ERR_MAX + 64];
        snprintf(msg, sizeof(msg), "VM '%s' stopped, but its devices were not given back: %s", vm,
                 err.msg);
        log_line(msg);
    }
    sp_snapshot_release(snap);
}

int sp_gate_check_autostart(virDomainPtr dom, int autostart)
{
    const struct sp_real *r = sp_real();
    if (!autostart || !r->get_xml_desc)
        return 0;
    char *xml = r->get_xml_desc(dom, VIR_DOMAIN_XML_INACTIVE);
    struct sp_snapshot *snap = xml ? current_snapshot() : NULL;
    int refused = 0;
    if (snap && snap->index) {
        struct sp_start st;
        if (sp_start_prepare(snap, xml, strlen(xml), &st) == 0 &&
            st.verdict != SP_UNMATCHED && st.verdict != SP_BAD_INPUT) {
            char msg[SP_ERR_MAX];
            snprintf(msg, sizeof(msg), "VM %s: libvirt's autostart would start it at boot without "
                     "its passthrough devices (it bypasses the shim); start it at boot through "
                     "the VM manager or synopassthru-virsh instead", st.label);
            log_line(msg);
            sp_gate_report(msg);
            refused = 1;
        }
        sp_start_free(&st);
    }
    sp_snapshot_release(snap);
    free(xml);
    return refused ? -1 : 0;
}
