/* The persistent-domain family: virDomainCreate, virDomainCreateWithFlags,
 * virDomainCreateWithFiles (a defined domain starts: its devices go in for
 * the start only), virDomainDefineXML[Flags] (a definition never keeps
 * what the shim added, e.g. when live XML is written back), and
 * virDomainSetAutostart (refused for VMs with devices: libvirt's autostart
 * bypasses the shim). */
#include <stdlib.h>

#include "export.h"
#include "gate.h"
#include "real.h"

struct start_args {
    unsigned int flags;
    unsigned int nfiles;
    int *files;
};

static int missing(const char *name)
{
    sp_gate_report(name);
    return -1;
}

static int start_plain(virDomainPtr dom, void *ctx)
{
    (void)ctx;
    const struct sp_real *r = sp_real();
    return r->create ? r->create(dom) : missing("the real virDomainCreate is not in this process");
}

static int start_with_flags(virDomainPtr dom, void *ctx)
{
    const struct start_args *a = ctx;
    const struct sp_real *r = sp_real();
    return r->create_with_flags
               ? r->create_with_flags(dom, a->flags)
               : missing("the real virDomainCreateWithFlags is not in this process");
}

static int start_with_files(virDomainPtr dom, void *ctx)
{
    const struct start_args *a = ctx;
    const struct sp_real *r = sp_real();
    return r->create_with_files
               ? r->create_with_files(dom, a->nfiles, a->files, a->flags)
               : missing("the real virDomainCreateWithFiles is not in this process");
}

SP_EXPORT int virDomainCreate(virDomainPtr domain)
{
    return sp_gate_start_defined("virDomainCreate", domain, start_plain, NULL);
}

SP_EXPORT int virDomainCreateWithFlags(virDomainPtr domain, unsigned int flags)
{
    struct start_args a = {.flags = flags};
    return sp_gate_start_defined("virDomainCreateWithFlags", domain, start_with_flags, &a);
}

SP_EXPORT int virDomainCreateWithFiles(virDomainPtr domain, unsigned int nfiles, int *files,
                                       unsigned int flags)
{
    struct start_args a = {.flags = flags, .nfiles = nfiles, .files = files};
    return sp_gate_start_defined("virDomainCreateWithFiles", domain, start_with_files, &a);
}

SP_EXPORT virDomainPtr virDomainDefineXML(virConnectPtr conn, const char *xml)
{
    const struct sp_real *r = sp_real();
    if (!r->define_xml) {
        missing("the real virDomainDefineXML is not in this process");
        return NULL;
    }
    char *clean = sp_gate_clean_define(xml);
    virDomainPtr dom = r->define_xml(conn, clean ? clean : xml);
    free(clean);
    return dom;
}

SP_EXPORT virDomainPtr virDomainDefineXMLFlags(virConnectPtr conn, const char *xml,
                                               unsigned int flags)
{
    const struct sp_real *r = sp_real();
    if (!r->define_xml_flags) {
        missing("the real virDomainDefineXMLFlags is not in this process");
        return NULL;
    }
    char *clean = sp_gate_clean_define(xml);
    virDomainPtr dom = r->define_xml_flags(conn, clean ? clean : xml, flags);
    free(clean);
    return dom;
}

SP_EXPORT int virDomainSetAutostart(virDomainPtr domain, int autostart)
{
    const struct sp_real *r = sp_real();
    if (!r->set_autostart)
        return missing("the real virDomainSetAutostart is not in this process");
    if (sp_gate_check_autostart(domain, autostart) < 0)
        return -1;
    return r->set_autostart(domain, autostart);
}
