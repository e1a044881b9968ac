/* real: the libvirt functions the shim stands in front of, resolved once
 * (pthread_once) with dlsym(RTLD_NEXT). Also libvirt's private error setters,
 * looked up unversioned because their symbol version changes per release. */
#ifndef SP_REAL_H
#define SP_REAL_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

struct sp_real {
    virDomainPtr (*create_xml)(virConnectPtr, const char *, unsigned int);
    virDomainPtr (*create_xml_with_files)(virConnectPtr, const char *, unsigned int, int *,
                                          unsigned int);
    int (*create)(virDomainPtr);
    int (*create_with_flags)(virDomainPtr, unsigned int);
    int (*create_with_files)(virDomainPtr, unsigned int, int *, unsigned int);
    virDomainPtr (*define_xml)(virConnectPtr, const char *);
    virDomainPtr (*define_xml_flags)(virConnectPtr, const char *, unsigned int);
    int (*undefine)(virDomainPtr);
    int (*undefine_flags)(virDomainPtr, unsigned int);
    char *(*get_xml_desc)(virDomainPtr, unsigned int);
    virConnectPtr (*get_connect)(virDomainPtr);
    const char *(*get_name)(virDomainPtr);
    virDomainPtr (*lookup_by_name)(virConnectPtr, const char *);
    int (*is_active)(virDomainPtr);
    int (*domain_free)(virDomainPtr);
    int (*set_autostart)(virDomainPtr, int);
    const char *(*last_error_message)(void);
    int (*set_error)(virErrorPtr);
    virErrorPtr (*save_last_error)(void);
    void (*free_error)(virErrorPtr);
    void (*report_error_helper)(int, int, const char *, const char *, size_t, const char *, ...);
};

/* Never NULL; members are NULL when the process has no such symbol. */
const struct sp_real *sp_real(void);

#endif
