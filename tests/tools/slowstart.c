/* slowstart: a library preloaded after the shim that makes libvirt's real
 * starts take SP_SLOW_START_MS milliseconds longer (default 1500), so that
 * the race tests can act while a start is in progress. The shim's
 * dlsym(RTLD_NEXT) finds these; each sleeps and then calls libvirt's. */
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

#include <libvirt/libvirt.h>

#define EXPORT __attribute__((visibility("default")))

static void *next(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

static void pause_start(void)
{
    const char *ms = getenv("SP_SLOW_START_MS");
    long n = ms ? strtol(ms, NULL, 10) : 1500;
    struct timespec ts = {.tv_sec = n / 1000, .tv_nsec = (n % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

EXPORT int virDomainCreate(virDomainPtr dom)
{
    int (*real)(virDomainPtr);
    void *sym = next("virDomainCreate");
    __builtin_memcpy(&real, &sym, sizeof(sym));
    pause_start();
    return real(dom);
}

EXPORT int virDomainCreateWithFlags(virDomainPtr dom, unsigned int flags)
{
    int (*real)(virDomainPtr, unsigned int);
    void *sym = next("virDomainCreateWithFlags");
    __builtin_memcpy(&real, &sym, sizeof(sym));
    pause_start();
    return real(dom, flags);
}

EXPORT virDomainPtr virDomainCreateXML(virConnectPtr conn, const char *xml, unsigned int flags)
{
    virDomainPtr (*real)(virConnectPtr, const char *, unsigned int);
    void *sym = next("virDomainCreateXML");
    __builtin_memcpy(&real, &sym, sizeof(sym));
    pause_start();
    return real(conn, xml, flags);
}
