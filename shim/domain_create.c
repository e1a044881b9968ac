/* The transient-domain family: virDomainCreateXML and
 * virDomainCreateXMLWithFiles. Each one goes through the gate, which
 * decides and calls the real libvirt function. */
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

static void *create_xml(const char *xml, void *ctx)
{
    const struct create_args *a = ctx;
    return sp_real()->create_xml(a->conn, xml, a->flags);
}

static void *create_xml_with_files(const char *xml, void *ctx)
{
    const struct create_args *a = ctx;
    return sp_real()->create_xml_with_files(a->conn, xml, a->nfiles, a->files, a->flags);
}

SP_EXPORT virDomainPtr virDomainCreateXML(virConnectPtr conn, const char *xmlDesc,
                                          unsigned int flags)
{
    struct create_args a = {.conn = conn, .flags = flags};
    return sp_gate_create("virDomainCreateXML", xmlDesc,
                          sp_real()->create_xml ? create_xml : NULL, &a);
}

SP_EXPORT virDomainPtr virDomainCreateXMLWithFiles(virConnectPtr conn, const char *xmlDesc,
                                                   unsigned int nfiles, int *files,
                                                   unsigned int flags)
{
    struct create_args a = {.conn = conn, .flags = flags, .nfiles = nfiles, .files = files};
    return sp_gate_create("virDomainCreateXMLWithFiles", xmlDesc,
                          sp_real()->create_xml_with_files ? create_xml_with_files : NULL, &a);
}
