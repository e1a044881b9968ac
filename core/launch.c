#include "launch.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/fsutil.h"
#include "../common/testhooks.h"
#include "../config/config.h"
#include "../vfio/state.h"
#include "../xmlpatch/domain.h"
#include "audit.h"
#include "binder.h"
#include "persist.h"
#include "start.h"

/* Locks by VM name: a name's start, define, undefine and release never
 * interleave. Two names may share a stripe; nothing takes two stripes. */
#define NAME_LOCK_STRIPES 64

struct sp_launcher {
    const struct sp_launch_host *host;
    struct sp_config *config;
    pthread_mutex_t name_locks[NAME_LOCK_STRIPES];
    pthread_mutex_t logged_lock;
    unsigned long logged_generation; /* snapshot whose skipped snippets were logged */
};

struct sp_launcher *sp_launcher_new(const char *config_dir, const struct sp_launch_host *host)
{
    struct sp_launcher *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->host = host;
    l->config = sp_config_new(sp_config_dir_choose(config_dir));
    for (int i = 0; i < NAME_LOCK_STRIPES; i++)
        pthread_mutex_init(&l->name_locks[i], NULL);
    pthread_mutex_init(&l->logged_lock, NULL);
    return l;
}

void sp_launcher_free(struct sp_launcher *l)
{
    if (!l)
        return;
    sp_config_free(l->config);
    for (int i = 0; i < NAME_LOCK_STRIPES; i++)
        pthread_mutex_destroy(&l->name_locks[i]);
    pthread_mutex_destroy(&l->logged_lock);
    free(l);
}

static pthread_mutex_t *name_lock(struct sp_launcher *l, const char *vm)
{
    unsigned h = 5381;
    for (const char *p = vm ? vm : ""; *p; p++)
        h = h * 33 + (unsigned char)*p;
    return &l->name_locks[h % NAME_LOCK_STRIPES];
}

__attribute__((format(printf, 2, 3))) static void log_fmt(struct sp_launcher *l,
                                                          const char *fmt, ...)
{
    char msg[SP_ERR_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    l->host->log(msg);
}

/* --- the config ------------------------------------------------------- */

/* A config problem that refuses every VM a snippet names, snippets skipped
 * because the VM they name could not be read (a FIFO in vm.d, a file that
 * does not parse), or kept at their last good version: said once per
 * snapshot, in the log. */
static void log_skipped_snippets(struct sp_launcher *l, const struct sp_snapshot *snap)
{
    pthread_mutex_lock(&l->logged_lock);
    int fresh = snap->generation != l->logged_generation;
    l->logged_generation = snap->generation;
    pthread_mutex_unlock(&l->logged_lock);
    if (fresh && snap->global_error)
        log_fmt(l, "%s: every VM a snippet names is refused until this is put right",
                snap->global_error);
    for (size_t i = 0; fresh && i < snap->n_orphan_errors; i++)
        l->host->log(snap->orphan_errors[i]);
}

/* The current config with at least one snippet; NULL means forward untouched. */
static struct sp_snapshot *current_snapshot(struct sp_launcher *l)
{
    if (!l->config)
        return NULL;
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    if (sp_config_snapshot(l->config, &snap, &err) < 0) {
        l->host->log(err.msg);
        return NULL;
    }
    log_skipped_snippets(l, snap);
    if (!snap->index) {
        sp_snapshot_release(snap);
        return NULL;
    }
    return snap;
}

/* Decides for xml. 1 with *st when the start is ours (ready or refused;
 * refused too when memory ran out), 0 when libvirt gets the XML untouched
 * (st freed, or never filled). */
static int decide(struct sp_launcher *l, const char *xml, struct sp_start *st)
{
    struct sp_snapshot *snap = xml ? current_snapshot(l) : NULL;
    if (!snap)
        return 0;
    int rc = sp_start_decide(snap, xml, strlen(xml), st);
    sp_snapshot_release(snap);
    if (rc < 0) {
        /* It may be a VM with devices: it must not start without them. */
        st->verdict = SP_REFUSED;
        sp_err_set(&st->err, "VM '%s': out of memory while its start was decided",
                   st->id.name ? st->id.name : "?");
        return 1;
    }
    if (st->verdict == SP_UNMATCHED || st->verdict == SP_BAD_INPUT) {
        sp_start_free(st);
        return 0;
    }
    return 1;
}

/* --- one start, from decision to record ------------------------------- */

static void audit(struct sp_launcher *l, const struct sp_start *st, const char *api,
                  const struct sp_audit_outcome *o)
{
    struct sp_err err;
    if (sp_audit_write(st, api, o, &err) < 0)
        l->host->log(err.msg);
}

/* A refused start: the log, the record, then the client's error (last:
 * the audit must not disturb the thread's libvirt error). */
static void refuse(struct sp_launcher *l, struct sp_start *st, const char *api)
{
    st->verdict = SP_REFUSED;
    l->host->log(st->err.msg);
    struct sp_audit_outcome o = {0};
    audit(l, st, api, &o);
    l->host->report(st->err.msg);
}

static int wants_release(const struct sp_start *st)
{
    for (size_t i = 0; i < st->n_devs; i++)
        if (st->devs[i].release && st->devs[i].bind)
            return 1;
    return 0;
}

/* The helper died during a bind (killed at its deadline, crashed), so it
 * could neither roll back nor say what it bound: the devices this VM holds
 * since the bind began go back. An older hold of the VM is left alone. */
static void undo_interrupted_bind(struct sp_launcher *l, const struct sp_start *st, time_t since)
{
    const struct sp_settings *s = &st->snap->settings;
    struct sp_resolved_dev *fresh = calloc(st->n_devs ? st->n_devs : 1, sizeof(*fresh));
    size_t n = 0;
    for (size_t i = 0; fresh && i < st->n_devs; i++) {
        struct sp_hold h;
        const struct sp_resolved_dev *d = &st->devs[i];
        if (d->bind && d->has_addr && sp_state_read(s->state_dir, &d->addr, &h, NULL) == 1 &&
            strcmp(h.vm, st->id.name) == 0 && h.since >= (long long)since)
            fresh[n++] = *d;
    }
    struct sp_helper_result *res = n ? calloc(1, sizeof(*res)) : NULL;
    struct sp_err err;
    if (n && (!res || sp_binder_run(SP_RELEASE_FORCE, s, st->id.name, fresh, n, res, &err) < 0))
        log_fmt(l, "VM %s: the devices bound before the vfio helper died were not given back: "
                "%s", st->label, res ? err.msg : "out of memory");
    free(res);
    free(fresh);
}

/* Before the real start: the devices go to vfio-pci (refusing the start
 * when they cannot) and warnings go to the log. *bound is the helper's
 * report, NULL when nothing needed binding. Returns 0, or -1 when refused. */
static int prepare_devices(struct sp_launcher *l, struct sp_start *st, const char *api,
                           struct sp_helper_result **bound)
{
    *bound = NULL;
    if (sp_binder_needed(st->devs, st->n_devs)) {
        *bound = calloc(1, sizeof(**bound));
        if (!*bound)
            sp_err_set(&st->err, "VM %s: out of memory", st->label);
        time_t since = time(NULL);
        if (!*bound || sp_binder_for_start(SP_BIND, st, *bound) < 0) {
            if (*bound && (*bound)->exit_code < 0)
                undo_interrupted_bind(l, st, since);
            free(*bound);
            *bound = NULL;
            refuse(l, st, api);
            return -1;
        }
        struct sp_err err;
        if (sp_audit_write_bind(st, api, (*bound)->out, &err) < 0)
            l->host->log(err.msg);
    }
    for (size_t i = 0; i < st->n_warnings; i++)
        l->host->log(st->warnings[i]);
    return 0;
}

/* After the real start: the record, the devices back when libvirt did not
 * start the VM, the stop watch when it did. Frees bound. */
static void finish_start(struct sp_launcher *l, struct sp_start *st, const char *api,
                         struct sp_helper_result *bound, int forwarded, void *started_dom)
{
    struct sp_audit_outcome o = {.bound = bound ? bound->out : NULL, .forwarded = forwarded,
                                 .libvirt_ok = started_dom != NULL};
    if (forwarded && !started_dom)
        o.libvirt_error = l->host->last_error();
    audit(l, st, api, &o);
    struct sp_err err;
    if (!started_dom && bound && sp_binder_undo(&st->snap->settings, st->id.name, bound, &err) < 0)
        l->host->log(err.msg);
    if (started_dom && wants_release(st))
        l->host->watch_stops(started_dom);
    free(bound);
}

void sp_launch_report_missing(const struct sp_launch_host *host, const char *api)
{
    char msg[256];
    snprintf(msg, sizeof(msg), "the real %s is not in this process", api);
    host->log(msg); /* a process without libvirt may have no error to set */
    host->report(msg);
}

void *sp_launch_create(struct sp_launcher *l, const char *api, const char *xml,
                       sp_launch_xml_fn create, void *ctx)
{
    if (!create) {
        sp_launch_report_missing(l->host, api);
        return NULL;
    }
    struct sp_start st;
    if (!decide(l, xml, &st))
        return create(xml, ctx);
    void *dom = NULL;
    if (st.verdict == SP_REFUSED) {
        refuse(l, &st, api);
    } else {
        pthread_mutex_t *lock = name_lock(l, st.id.name);
        pthread_mutex_lock(lock);
        struct sp_helper_result *bound;
        if (prepare_devices(l, &st, api, &bound) == 0) {
            dom = create(st.xml, ctx);
            finish_start(l, &st, api, bound, 1, dom);
        }
        pthread_mutex_unlock(lock);
    }
    sp_start_free(&st);
    return dom;
}

/* --- defined domains -------------------------------------------------- */

/* Test builds only: a file whose first word makes a persistent start fail
 * at one point, as a daemon that dies there ("stop-after-redefine") or a
 * definition that cannot be marked ("fail-mark") would. */
static int test_fault(const char *word)
{
    const char *path = sp_test_env(SP_TEST_ENV_FAULT_FILE);
    char *text = NULL;
    int hit = path && *path && sp_read_file(path, 64, &text, NULL, NULL) == 0 &&
              strncmp(text, word, strlen(word)) == 0;
    free(text);
    return hit;
}

/* A marked definition means an earlier start died half way: the original
 * goes back before anything else. Returns the definition to start from
 * (takes inactive). */
static char *healed_definition(struct sp_launcher *l, const struct sp_launch_domain *d,
                               char *inactive)
{
    char *original = sp_persist_original(inactive);
    if (!original)
        return inactive;
    if (d->define(d->dom, original) < 0) {
        log_fmt(l, "VM '%s': could not put back a definition left patched by an interrupted "
                  "start", d->name);
        free(original);
        return inactive;
    }
    log_fmt(l, "VM '%s': put back a definition left patched by an interrupted start",
            d->name);
    free(inactive);
    return original;
}

/* The original back after the start, without disturbing the libvirt error
 * of a failed start (the define would reset it, and the client would get
 * no reason). */
static void put_back_original(struct sp_launcher *l, const struct sp_launch_domain *d,
                              const char *original)
{
    void *saved = l->host->save_error();
    if (d->define(d->dom, original) < 0)
        log_fmt(l, "VM '%s': could not put back the original definition after the start; "
                  "the next start will", d->name);
    l->host->restore_error(saved);
}

/* The patched definition, marked with the original, stored for the start.
 * On failure err names the VM and the cause (libvirt's, for the define). */
static int store_marked(struct sp_launcher *l, struct sp_start *st,
                        const struct sp_launch_domain *d, const char *original, struct sp_err *err)
{
    char *marked = NULL;
    int rc = test_fault("fail-mark")
                 ? sp_err_set(err, "test fault: the marker was refused")
                 : sp_persist_mark(st->xml, st->xml_len, original, &marked, err);
    if (rc < 0) {
        sp_err_prefix(err, "VM %s: cannot mark the patched definition", st->label);
    } else if (d->define(d->dom, marked) < 0) {
        const char *why = l->host->last_error();
        rc = sp_err_set(err, "VM %s: cannot store the patched definition: %s", st->label,
                        why ? why : "libvirt gave no reason");
    }
    free(marked);
    return rc;
}

/* Bind, store the patched definition, start, put the original back. */
static int start_with_patch(struct sp_launcher *l, struct sp_start *st, const char *api,
                            const struct sp_launch_domain *d, const char *original,
                            sp_launch_start_fn start, void *ctx)
{
    struct sp_helper_result *bound;
    if (prepare_devices(l, st, api, &bound) < 0)
        return -1;
    int patched = sp_patch_report_changed(&st->report);
    struct sp_err err;
    if (patched && store_marked(l, st, d, original, &err) < 0) {
        /* Nothing was started: the devices go back; the client gets the
         * reason after the record. */
        st->verdict = SP_REFUSED;
        st->err = err;
        l->host->log(err.msg);
        finish_start(l, st, api, bound, 0, NULL);
        l->host->report(err.msg);
        return -1;
    }
    if (patched && test_fault("stop-after-redefine")) {
        l->host->report("test fault: stopped after storing the patched definition");
        free(bound);
        return -1;
    }
    int rc = start(d->dom, ctx);
    if (patched)
        put_back_original(l, d, original);
    finish_start(l, st, api, bound, 1, rc == 0 ? d->dom : NULL);
    return rc;
}

/* Under the VM's lock: heal, decide, and start with or without the patch. */
static int start_defined_locked(struct sp_launcher *l, const char *api,
                                const struct sp_launch_domain *d, sp_launch_start_fn start,
                                void *ctx)
{
    if (d->is_active(d->dom) == 1)
        return start(d->dom, ctx); /* libvirt says why it cannot start it again */
    char *inactive = d->inactive_xml(d->dom);
    if (!inactive)
        return start(d->dom, ctx);
    char *original = healed_definition(l, d, inactive);
    struct sp_start st;
    int rc;
    if (!decide(l, original, &st)) {
        rc = start(d->dom, ctx);
    } else {
        if (st.verdict == SP_REFUSED) {
            refuse(l, &st, api);
            rc = -1;
        } else {
            rc = start_with_patch(l, &st, api, d, original, start, ctx);
        }
        sp_start_free(&st);
    }
    free(original);
    return rc;
}

int sp_launch_start_defined(struct sp_launcher *l, const char *api,
                            const struct sp_launch_domain *d, sp_launch_start_fn start, void *ctx)
{
    if (!start) {
        sp_launch_report_missing(l->host, api);
        return -1;
    }
    pthread_mutex_t *lock = name_lock(l, d->name);
    pthread_mutex_lock(lock);
    int rc = start_defined_locked(l, api, d, start, ctx);
    pthread_mutex_unlock(lock);
    return rc;
}

void *sp_launch_define(struct sp_launcher *l, const char *api, const char *xml,
                       sp_launch_xml_fn define, void *ctx)
{
    if (!define) {
        sp_launch_report_missing(l->host, api);
        return NULL;
    }
    char *clean = NULL;
    struct sp_err err;
    if (sp_persist_clean(xml, &clean, &err) < 0)
        l->host->log(err.msg); /* libvirt gets it as it came, and will say what is wrong */
    const char *text = clean ? clean : xml;
    struct sp_domain_id id;
    /* Without a name libvirt refuses the definition: no lock to take. */
    if (!text || sp_domain_identify(text, strlen(text), &id, NULL) < 0) {
        void *dom = define(text, ctx);
        free(clean);
        return dom;
    }
    pthread_mutex_t *lock = name_lock(l, id.name);
    pthread_mutex_lock(lock);
    void *dom = define(text, ctx);
    pthread_mutex_unlock(lock);
    sp_domain_id_free(&id);
    free(clean);
    return dom;
}

int sp_launch_locked(struct sp_launcher *l, const char *api, const char *vm,
                     sp_launch_call_fn call, void *ctx)
{
    if (!call) {
        sp_launch_report_missing(l->host, api);
        return -1;
    }
    pthread_mutex_t *lock = name_lock(l, vm);
    pthread_mutex_lock(lock);
    int rc = call(ctx);
    pthread_mutex_unlock(lock);
    return rc;
}

/* --- stops and autostart ---------------------------------------------- */

/* 1 when the state dir holds a device for vm (or cannot be read: the
 * helper then says why), 0 when none: no helper to run. */
static int holds_devices(const struct sp_settings *s, const char *vm)
{
    struct sp_pci_addr *mine = NULL;
    size_t n = 0, unreadable = 0;
    struct sp_err err;
    int rc = sp_state_release_holds(s->state_dir, vm, &mine, &n, &unreadable, &err);
    free(mine);
    return rc < 0 || n > 0 || unreadable > 0;
}

static void release_stopped(struct sp_launcher *l, const char *vm,
                            int (*running)(const char *vm, void *ctx), void *ctx)
{
    if (running(vm, ctx) == 1) {
        log_fmt(l, "VM '%s' stopped and runs again: its devices stay on vfio-pci", vm);
        return;
    }
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    if (!l->config || sp_config_snapshot(l->config, &snap, &err) < 0)
        return;
    if (holds_devices(&snap->settings, vm) &&
        sp_binder_release_stopped(&snap->settings, vm, &err) < 0)
        log_fmt(l, "VM '%s' stopped, but its devices were not given back: %s", vm, err.msg);
    sp_snapshot_release(snap);
}

void sp_launch_stopped(struct sp_launcher *l, const char *vm,
                       int (*running)(const char *vm, void *ctx), void *ctx)
{
    pthread_mutex_t *lock = name_lock(l, vm);
    pthread_mutex_lock(lock);
    release_stopped(l, vm, running, ctx);
    pthread_mutex_unlock(lock);
}

int sp_launch_check_autostart(struct sp_launcher *l, const char *inactive_xml)
{
    struct sp_start st;
    if (!decide(l, inactive_xml, &st))
        return 0;
    char msg[SP_ERR_MAX];
    snprintf(msg, sizeof(msg), "VM %s: libvirt's autostart would start it at boot without its "
             "passthrough devices (it bypasses the shim); start it at boot through the VM "
             "manager or synopassthru-virsh instead", st.label);
    sp_start_free(&st);
    l->host->log(msg);
    l->host->report(msg);
    return -1;
}
