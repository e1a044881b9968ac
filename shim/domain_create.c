/* The transient-domain family: virDomainCreateXML and
 * virDomainCreateXMLWithFiles. Each one decides through the gate and
 * forwards to the real libvirt function. */
#include <stddef.h>

#include "export.h"
#include "gate.h"
#include "real.h"

struct create_args {
    virConnectPtr conn;
    unsigned int flags;
    unsigned int nfiles;
    int *files;
};

static virDomainPtr missing_real(const char *name)
{
    sp_gate_report(name);
    return NULL;
}

static virDomainPtr forward_create_xml(const char *xml, void *ctx)
{
    const struct create_args *a = ctx;
    const struct sp_real *r = sp_real();
    if (!r->create_xml)
        return missing_real("the real virDomainCreateXML is not in this process");
    return r->create_xml(a->conn, xml, a->flags);
}

static virDomainPtr forward_create_xml_with_files(const char *xml, void *ctx)
{
    const struct create_args *a = ctx;
    const struct sp_real *r = sp_real();
    if (!r->create_xml_with_files)
        return missing_real("the real virDomainCreateXMLWithFiles is not in this process");
    return r->create_xml_with_files(a->conn, xml, a->nfiles, a->files, a->flags);
}

SP_EXPORT virDomainPtr virDomainCreateXML(virConnectPtr conn, const char *xmlDesc,
                                          unsigned int flags)
{
    struct create_args a = {.conn = conn, .flags = flags};
    return sp_gate_create("virDomainCreateXML", xmlDesc, forward_create_xml, &a);
}

SP_EXPORT virDomainPtr virDomainCreateXMLWithFiles(virConnectPtr conn, const char *xmlDesc,
                                                   unsigned int nfiles, int *files,
                                                   unsigned int flags)
{
    struct create_args a = {.conn = conn, .flags = flags, .nfiles = nfiles, .files = files};
    return sp_gate_create("virDomainCreateXMLWithFiles", xmlDesc,
                          forward_create_xml_with_files, &a);
}
