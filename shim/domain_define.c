/* The persistent-domain family: virDomainCreate, virDomainCreateWithFlags,
 * virDomainCreateWithFiles (a defined domain starts: its devices go in for
 * the start only), virDomainDefineXML[Flags] (a definition never keeps
 * what the shim added, e.g. when live XML is written back, and waits for a
 * start of the same VM to put its original back), virDomainUndefine[Flags]
 * (the same wait), and virDomainSetAutostart (refused for VMs with
 * devices: libvirt's autostart bypasses the shim). */
#include <stddef.h>

#include "export.h"
#include "gate.h"
#include "real.h"

struct call_args {
    virConnectPtr conn;
    virDomainPtr dom;
    unsigned int flags;
    unsigned int nfiles;
    int *files;
};

static int start_plain(void *dom, void *ctx)
{
    (void)ctx;
    return sp_real()->create(dom);
}

static int start_with_flags(void *dom, void *ctx)
{
    const struct call_args *a = ctx;
    return sp_real()->create_with_flags(dom, a->flags);
}

static int start_with_files(void *dom, void *ctx)
{
    const struct call_args *a = ctx;
    return sp_real()->create_with_files(dom, a->nfiles, a->files, a->flags);
}

SP_EXPORT int virDomainCreate(virDomainPtr domain)
{
    return sp_gate_start_defined("virDomainCreate", domain,
                                 sp_real()->create ? start_plain : NULL, NULL);
}

SP_EXPORT int virDomainCreateWithFlags(virDomainPtr domain, unsigned int flags)
{
    struct call_args a = {.flags = flags};
    return sp_gate_start_defined("virDomainCreateWithFlags", domain,
                                 sp_real()->create_with_flags ? start_with_flags : NULL, &a);
}

SP_EXPORT int virDomainCreateWithFiles(virDomainPtr domain, unsigned int nfiles, int *files,
                                       unsigned int flags)
{
    struct call_args a = {.flags = flags, .nfiles = nfiles, .files = files};
    return sp_gate_start_defined("virDomainCreateWithFiles", domain,
                                 sp_real()->create_with_files ? start_with_files : NULL, &a);
}

static void *define_plain(const char *xml, void *ctx)
{
    const struct call_args *a = ctx;
    return sp_real()->define_xml(a->conn, xml);
}

static void *define_with_flags(const char *xml, void *ctx)
{
    const struct call_args *a = ctx;
    return sp_real()->define_xml_flags(a->conn, xml, a->flags);
}

SP_EXPORT virDomainPtr virDomainDefineXML(virConnectPtr conn, const char *xml)
{
    struct call_args a = {.conn = conn};
    return sp_gate_define("virDomainDefineXML", xml,
                          sp_real()->define_xml ? define_plain : NULL, &a);
}

SP_EXPORT virDomainPtr virDomainDefineXMLFlags(virConnectPtr conn, const char *xml,
                                               unsigned int flags)
{
    struct call_args a = {.conn = conn, .flags = flags};
    return sp_gate_define("virDomainDefineXMLFlags", xml,
                          sp_real()->define_xml_flags ? define_with_flags : NULL, &a);
}

static int undefine_plain(void *ctx)
{
    const struct call_args *a = ctx;
    return sp_real()->undefine(a->dom);
}

static int undefine_with_flags(void *ctx)
{
    const struct call_args *a = ctx;
    return sp_real()->undefine_flags(a->dom, a->flags);
}

SP_EXPORT int virDomainUndefine(virDomainPtr domain)
{
    struct call_args a = {.dom = domain};
    return sp_gate_locked("virDomainUndefine", domain,
                          sp_real()->undefine ? undefine_plain : NULL, &a);
}

SP_EXPORT int virDomainUndefineFlags(virDomainPtr domain, unsigned int flags)
{
    struct call_args a = {.dom = domain, .flags = flags};
    return sp_gate_locked("virDomainUndefineFlags", domain,
                          sp_real()->undefine_flags ? undefine_with_flags : NULL, &a);
}

SP_EXPORT int virDomainSetAutostart(virDomainPtr domain, int autostart)
{
    const struct sp_real *r = sp_real();
    if (!r->set_autostart) {
        sp_gate_report("the real virDomainSetAutostart is not in this process");
        return -1;
    }
    if (sp_gate_check_autostart(domain, autostart) < 0)
        return -1;
    return r->set_autostart(domain, autostart);
}
