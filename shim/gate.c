#include "gate.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "../core/launch.h"
#include "events.h"
#include "real.h"

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

static const char *last_error(void)
{
    const struct sp_real *r = sp_real();
    return r->last_error_message ? r->last_error_message() : NULL;
}

static void *save_error(void)
{
    const struct sp_real *r = sp_real();
    return r->save_last_error ? r->save_last_error() : NULL;
}

static void restore_error(void *saved)
{
    const struct sp_real *r = sp_real();
    if (saved && r->set_error)
        r->set_error(saved);
    if (saved && r->free_error)
        r->free_error(saved);
}

/* Asked from the stop's own thread, on the watching connection. */
static int runs_again(const char *vm, void *own)
{
    const struct sp_real *r = sp_real();
    if (!r->lookup_by_name || !r->is_active || !r->domain_free)
        return -1;
    virDomainPtr dom = r->lookup_by_name(own, vm);
    if (!dom)
        return 0;
    int active = r->is_active(dom);
    r->domain_free(dom);
    return active;
}

static struct sp_launcher *launcher(void);

static void on_stop(const char *vm, virConnectPtr own)
{
    struct sp_launcher *l = launcher();
    if (l)
        sp_launch_stopped(l, vm, runs_again, own);
}

static void watch_stops(void *dom)
{
    const struct sp_real *r = sp_real();
    if (r->get_connect)
        sp_events_watch(r->get_connect(dom), on_stop, log_line);
}

static const struct sp_launch_host host = {
    .log = log_line,
    .report = sp_gate_report,
    .last_error = last_error,
    .save_error = save_error,
    .restore_error = restore_error,
    .watch_stops = watch_stops,
};

static struct sp_launcher *the_launcher;
static pthread_once_t launcher_once = PTHREAD_ONCE_INIT;

static void open_launcher(void)
{
    the_launcher = sp_launcher_new(NULL, &host);
    if (!the_launcher)
        log_line("out of memory: VMs start without their passthrough devices");
}

static struct sp_launcher *launcher(void)
{
    pthread_once(&launcher_once, open_launcher);
    return the_launcher;
}


virDomainPtr sp_gate_create(const char *api, const char *xml, sp_launch_xml_fn create, void *ctx)
{
    struct sp_launcher *l = launcher();
    if (!l)
        return create ? create(xml, ctx) : (sp_launch_report_missing(&host, api), NULL);
    return sp_launch_create(l, api, xml, create, ctx);
}

/* --- defined domains ---------------------------------------------------- */

static char *inactive_xml(void *dom)
{
    return sp_real()->get_xml_desc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
}

/* Stores xml as dom's definition through the real define. */
static int define_as(void *dom, const char *xml)
{
    const struct sp_real *r = sp_real();
    virDomainPtr stored = r->define_xml(r->get_connect(dom), xml);
    if (!stored)
        return -1;
    r->domain_free(stored);
    return 0;
}

static int is_active(void *dom)
{
    const struct sp_real *r = sp_real();
    return r->is_active ? r->is_active(dom) : -1;
}

static const char *name_of(virDomainPtr dom)
{
    const struct sp_real *r = sp_real();
    const char *name = r->get_name ? r->get_name(dom) : NULL;
    return name ? name : "";
}

int sp_gate_start_defined(const char *api, virDomainPtr dom, sp_launch_start_fn start, void *ctx)
{
    const struct sp_real *r = sp_real();
    struct sp_launcher *l = launcher();
    /* Without these the definition cannot be patched: the start goes on as it is. */
    if (!l || !r->get_xml_desc || !r->get_connect || !r->define_xml || !r->domain_free)
        return start ? start(dom, ctx) : (sp_launch_report_missing(&host, api), -1);
    struct sp_launch_domain d = {.dom = dom, .name = name_of(dom), .inactive_xml = inactive_xml,
                                 .define = define_as, .is_active = is_active};
    return sp_launch_start_defined(l, api, &d, start, ctx);
}

virDomainPtr sp_gate_define(const char *api, const char *xml, sp_launch_xml_fn define, void *ctx)
{
    struct sp_launcher *l = launcher();
    if (!l)
        return define ? define(xml, ctx) : (sp_launch_report_missing(&host, api), NULL);
    return sp_launch_define(l, api, xml, define, ctx);
}

int sp_gate_locked(const char *api, virDomainPtr dom, sp_launch_call_fn call, void *ctx)
{
    struct sp_launcher *l = launcher();
    if (!l)
        return call ? call(ctx) : (sp_launch_report_missing(&host, api), -1);
    return sp_launch_locked(l, api, name_of(dom), call, ctx);
}

int sp_gate_check_autostart(virDomainPtr dom, int autostart)
{
    const struct sp_real *r = sp_real();
    struct sp_launcher *l = launcher();
    if (!autostart || !l || !r->get_xml_desc)
        return 0;
    char *xml = r->get_xml_desc(dom, VIR_DOMAIN_XML_INACTIVE);
    int rc = xml ? sp_launch_check_autostart(l, xml) : 0;
    free(xml);
    return rc;
}
