#include "real.h"

#include <dlfcn.h>
#include <pthread.h>

static struct sp_real real;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

/* Converts dlsym's object pointer to a function pointer the way POSIX
 * allows, without a cast that -Wpedantic would flag. */
#define RESOLVE(handle, field, name) \
    do { \
        void *sym = dlsym(handle, name); \
        __builtin_memcpy(&real.field, &sym, sizeof(sym)); \
    } while (0)

static void resolve_all(void)
{
    RESOLVE(RTLD_NEXT, create_xml, "virDomainCreateXML");
    RESOLVE(RTLD_NEXT, create_xml_with_files, "virDomainCreateXMLWithFiles");
    RESOLVE(RTLD_NEXT, create, "virDomainCreate");
    RESOLVE(RTLD_NEXT, create_with_flags, "virDomainCreateWithFlags");
    RESOLVE(RTLD_NEXT, create_with_files, "virDomainCreateWithFiles");
    RESOLVE(RTLD_NEXT, define_xml, "virDomainDefineXML");
    RESOLVE(RTLD_NEXT, define_xml_flags, "virDomainDefineXMLFlags");
    RESOLVE(RTLD_NEXT, undefine, "virDomainUndefine");
    RESOLVE(RTLD_NEXT, undefine_flags, "virDomainUndefineFlags");
    RESOLVE(RTLD_DEFAULT, get_xml_desc, "virDomainGetXMLDesc");
    RESOLVE(RTLD_DEFAULT, get_connect, "virDomainGetConnect");
    RESOLVE(RTLD_DEFAULT, get_name, "virDomainGetName");
    RESOLVE(RTLD_DEFAULT, lookup_by_name, "virDomainLookupByName");
    RESOLVE(RTLD_DEFAULT, is_active, "virDomainIsActive");
    RESOLVE(RTLD_DEFAULT, domain_free, "virDomainFree");
    RESOLVE(RTLD_NEXT, set_autostart, "virDomainSetAutostart");
    RESOLVE(RTLD_DEFAULT, last_error_message, "virGetLastErrorMessage");
    RESOLVE(RTLD_DEFAULT, set_error, "virSetError");
    RESOLVE(RTLD_DEFAULT, save_last_error, "virSaveLastError");
    RESOLVE(RTLD_DEFAULT, free_error, "virFreeError");
    RESOLVE(RTLD_DEFAULT, report_error_helper, "virReportErrorHelper");
}

const struct sp_real *sp_real(void)
{
    pthread_once(&real_once, resolve_all);
    return &real;
}

/* Read by `synopassthru status` from the mapped file. */
__attribute__((used)) static const char shim_version_tag[] = "synopassthru-version=" SP_VERSION;
