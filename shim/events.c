#include "events.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct event_api {
    char *(*get_uri)(virConnectPtr);
    virConnectPtr (*open)(const char *);
    int (*register_any)(virConnectPtr, virDomainPtr, int, virConnectDomainEventGenericCallback,
                        void *, virFreeCallback);
    const char *(*domain_name)(virDomainPtr);
};

static struct event_api api;
static pthread_once_t api_once = PTHREAD_ONCE_INIT;
/* Set before the first watch; the same for every watch of the process. */
static sp_events_stop_fn stop_callback;
static pthread_mutex_t watched_lock = PTHREAD_MUTEX_INITIALIZER;
#define MAX_WATCHED 8
static char *watched[MAX_WATCHED];

#define RESOLVE(field, name) \
    do { \
        void *sym = dlsym(RTLD_DEFAULT, name); \
        __builtin_memcpy(&api.field, &sym, sizeof(sym)); \
    } while (0)

static void resolve(void)
{
    RESOLVE(get_uri, "virConnectGetURI");
    RESOLVE(open, "virConnectOpen");
    RESOLVE(register_any, "virConnectDomainEventRegisterAny");
    RESOLVE(domain_name, "virDomainGetName");
}

struct stopped {
    virConnectPtr own;
    char vm[];
};

static void *stop_thread(void *arg)
{
    struct stopped *s = arg;
    stop_callback(s->vm, s->own);
    free(s);
    return NULL;
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    (void)detail, (void)opaque;
    if (event != VIR_DOMAIN_EVENT_STOPPED || !api.domain_name)
        return 0;
    const char *name = api.domain_name(dom);
    size_t len = name ? strlen(name) : 0;
    struct stopped *s = name ? malloc(sizeof(*s) + len + 1) : NULL;
    pthread_t t;
    pthread_attr_t attr;
    if (!s || pthread_attr_init(&attr) != 0)
        return free(s), 0;
    s->own = conn;
    memcpy(s->vm, name, len + 1);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, stop_thread, s) != 0)
        free(s);
    pthread_attr_destroy(&attr);
    return 0;
}

/* Claims uri in the watched list; 0 when it was already there. */
static int claim(const char *uri, sp_events_stop_fn on_stop)
{
    int fresh = 1;
    pthread_mutex_lock(&watched_lock);
    stop_callback = on_stop;
    int slot = -1;
    for (int i = 0; i < MAX_WATCHED; i++) {
        if (watched[i] && strcmp(watched[i], uri) == 0)
            fresh = 0;
        if (!watched[i] && slot < 0)
            slot = i;
    }
    if (fresh && slot >= 0)
        watched[slot] = strdup(uri);
    pthread_mutex_unlock(&watched_lock);
    return fresh && slot >= 0;
}

void sp_events_watch(virConnectPtr conn, sp_events_stop_fn on_stop, void (*log)(const char *))
{
    pthread_once(&api_once, resolve);
    if (!api.get_uri || !api.open || !api.register_any)
        return;
    char *uri = api.get_uri(conn);
    if (!uri || !claim(uri, on_stop)) {
        free(uri);
        return;
    }
    /* A connection of our own, kept for the life of the process. */
    virConnectPtr own = api.open(uri);
    if (!own || api.register_any(own, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                 VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), NULL, NULL) < 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "cannot watch %s for VM stops: release=\"yes\" devices stay on "
                                   "vfio-pci until `synopassthru release`", uri);
        log(msg);
    }
    free(uri);
}
