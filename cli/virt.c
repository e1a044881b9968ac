/* virt: libvirt's client library through dlopen/dlsym (see virt.h). The
 * libvirt headers are not included: the release build needs none of libvirt
 * at build time, so the few types and constants are declared here as the
 * public API documents them. */
#include "virt.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/snippet.h"

/* virDomainMetadataType: VIR_DOMAIN_METADATA_TITLE. */
#define VIRT_METADATA_TITLE 1
/* virDomainModificationImpact: VIR_DOMAIN_AFFECT_CURRENT. */
#define VIRT_AFFECT_CURRENT 0
/* VIR_UUID_STRING_BUFLEN */
#define VIRT_UUID_BUFLEN 37

typedef void *virt_conn;   /* virConnectPtr */
typedef void *virt_domain; /* virDomainPtr */

/* The functions used, resolved by name from the library. */
struct virt_api {
    void *handle;
    virt_conn (*open_ro)(const char *uri);
    int (*close)(virt_conn conn);
    char *(*get_uri)(virt_conn conn);
    int (*list_all)(virt_conn conn, virt_domain **domains, unsigned int flags);
    const char *(*get_name)(virt_domain d);
    int (*get_uuid)(virt_domain d, char *buf);
    char *(*get_metadata)(virt_domain d, int type, const char *uri, unsigned int flags);
    int (*get_state)(virt_domain d, int *state, int *reason, unsigned int flags);
    int (*free_domain)(virt_domain d);
    const char *(*last_error)(void);
    void (*set_error_func)(void *data, void (*handler)(void *data, void *error));
};

static const struct {
    const char *name;
    size_t offset;
} virt_symbols[] = {
    {"virConnectOpenReadOnly", offsetof(struct virt_api, open_ro)},
    {"virConnectClose", offsetof(struct virt_api, close)},
    {"virConnectGetURI", offsetof(struct virt_api, get_uri)},
    {"virConnectListAllDomains", offsetof(struct virt_api, list_all)},
    {"virDomainGetName", offsetof(struct virt_api, get_name)},
    {"virDomainGetUUIDString", offsetof(struct virt_api, get_uuid)},
    {"virDomainGetMetadata", offsetof(struct virt_api, get_metadata)},
    {"virDomainGetState", offsetof(struct virt_api, get_state)},
    {"virDomainFree", offsetof(struct virt_api, free_domain)},
    {"virGetLastErrorMessage", offsetof(struct virt_api, last_error)},
    {"virSetErrorFunc", offsetof(struct virt_api, set_error_func)},
};

/* libvirt prints every error on stderr unless told otherwise: the CLI says
 * what went wrong itself, once. */
static void quiet_errors(void *data, void *error)
{
    (void)data;
    (void)error;
}

static int load_api(const char *lib, struct virt_api *api, struct sp_err *err)
{
    memset(api, 0, sizeof(*api));
    api->handle = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!api->handle)
        return sp_err_set(err, "libvirt's client library (%s) is not installed: dlopen: %s", lib,
                          dlerror());
    for (size_t i = 0; i < sizeof(virt_symbols) / sizeof(virt_symbols[0]); i++) {
        void *fn = dlsym(api->handle, virt_symbols[i].name);
        if (!fn) {
            sp_err_set(err, "libvirt's client library (%s) has no %s: too old for this tool", lib,
                       virt_symbols[i].name);
            dlclose(api->handle);
            api->handle = NULL;
            return -1;
        }
        /* POSIX guarantees a function pointer and void * convert both ways. */
        memcpy((char *)api + virt_symbols[i].offset, &fn, sizeof(fn));
    }
    api->set_error_func(NULL, quiet_errors);
    return 0;
}

const char *sp_virt_state_name(int state)
{
    static const char *const names[] = {"no state", "running",  "idle",       "paused",
                                        "in shutdown", "shut off", "crashed", "pmsuspended"};
    return state >= 0 && (size_t)state < sizeof(names) / sizeof(names[0]) ? names[state]
                                                                          : "unknown";
}

static int read_vm(const struct virt_api *api, virt_domain d, struct sp_virt_vm *vm)
{
    int state = -1, reason;
    const char *name = api->get_name(d);
    memset(vm, 0, sizeof(*vm));
    vm->name = strdup(name ? name : "");
    if (!vm->name)
        return -1;
    char uuid[VIRT_UUID_BUFLEN] = "";
    if (api->get_uuid(d, uuid) == 0) {
        char *norm = sp_vm_key_normalize(uuid);
        snprintf(vm->uuid, sizeof(vm->uuid), "%s", norm ? norm : uuid);
        free(norm);
    }
    /* No title is an error libvirt reports (and NULL): not ours to say. */
    vm->title = api->get_metadata(d, VIRT_METADATA_TITLE, NULL, VIRT_AFFECT_CURRENT);
    if (api->get_state(d, &state, &reason, 0) < 0)
        state = -1;
    vm->state = sp_virt_state_name(state);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct sp_virt_vm *)a)->name, ((const struct sp_virt_vm *)b)->name);
}

/* The domains of conn into out; the domain handles freed either way. */
static int read_domains(const struct virt_api *api, virt_conn conn, struct sp_virt_list *out,
                        struct sp_err *err)
{
    virt_domain *doms = NULL;
    int n = api->list_all(conn, &doms, 0);
    if (n < 0)
        return sp_err_set(err, "cannot list its domains: %s", api->last_error());
    out->vms = calloc(n > 0 ? (size_t)n : 1, sizeof(*out->vms));
    int rc = out->vms ? 0 : sp_err_set(err, "out of memory");
    for (int i = 0; i < n; i++) {
        if (rc == 0 && read_vm(api, doms[i], &out->vms[out->n]) == 0)
            out->n++;
        else if (rc == 0)
            rc = sp_err_set(err, "out of memory");
        api->free_domain(doms[i]);
    }
    free(doms);
    if (rc == 0)
        qsort(out->vms, out->n, sizeof(*out->vms), by_name);
    return rc;
}

int sp_virt_list_vms(const char *lib, const char *uri, struct sp_virt_list *out,
                     struct sp_err *err)
{
    struct virt_api api;
    memset(out, 0, sizeof(*out));
    if (load_api(lib, &api, err) < 0)
        return -1;
    int rc = 0;
    virt_conn conn = api.open_ro(uri);
    if (!conn) {
        rc = sp_err_set(err, "cannot connect to %s: %s", uri, api.last_error());
    } else {
        out->uri = api.get_uri(conn);
        rc = read_domains(&api, conn, out, err);
        if (rc == 0 && !out->uri)
            out->uri = strdup(uri);
        if (rc < 0)
            sp_err_prefix(err, "libvirt at %s", uri);
        api.close(conn);
    }
    /* The library stays loaded: its threads and atexit handlers may still
     * refer to it, and the CLI exits soon. */
    if (rc < 0)
        sp_virt_list_free(out);
    return rc;
}

void sp_virt_list_free(struct sp_virt_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        free(list->vms[i].name);
        free(list->vms[i].title);
    }
    free(list->vms);
    free(list->uri);
    memset(list, 0, sizeof(*list));
}

const char *sp_virt_uri_choose(const char *explicit_uri)
{
    if (explicit_uri && explicit_uri[0])
        return explicit_uri;
    const char *env = getenv("LIBVIRT_DEFAULT_URI");
    return env && env[0] ? env : SP_VIRT_DEFAULT_URI;
}

const struct sp_virt_vm *sp_virt_find(const struct sp_virt_list *list, const char *arg)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->vms[i].name, arg) == 0)
            return &list->vms[i];
    char *norm = sp_vm_key_normalize(arg);
    const struct sp_virt_vm *found = NULL;
    for (size_t i = 0; norm && i < list->n && !found; i++)
        if (list->vms[i].uuid[0] && strcmp(list->vms[i].uuid, norm) == 0)
            found = &list->vms[i];
    free(norm);
    for (size_t i = 0; i < list->n && !found; i++)
        if (list->vms[i].title && strcmp(list->vms[i].title, arg) == 0)
            found = &list->vms[i];
    return found;
}
