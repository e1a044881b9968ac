/* virt: the VMs libvirt knows (name, UUID, title, state), through libvirt's
 * client library loaded at run time, so that the CLI runs where libvirt is
 * not installed. Owns the library handle while it lists and the list it
 * returns. Never changes anything in libvirt: the connection is read-only. */
#ifndef SP_VIRT_H
#define SP_VIRT_H

#include <stddef.h>

#include "../common/err.h"

/* The library dlopen'd; the URI when neither --connect nor
 * $LIBVIRT_DEFAULT_URI names one. */
#define SP_VIRT_LIBRARY "libvirt.so.0"
#define SP_VIRT_DEFAULT_URI "qemu:///system"

struct sp_virt_vm {
    char *name;
    char uuid[37];  /* 8-4-4-4-12, lower case */
    char *title;    /* NULL when the domain has none */
    const char *state; /* "running", "shut off", ... as virsh says it */
};

struct sp_virt_list {
    char *uri; /* the URI the connection got (libvirt's own spelling) */
    struct sp_virt_vm *vms;
    size_t n;
};

/* The URI to connect to: explicit, else $LIBVIRT_DEFAULT_URI, else the
 * default above. */
const char *sp_virt_uri_choose(const char *explicit_uri);

/* Every domain at uri, sorted by name, from the library lib (normally
 * SP_VIRT_LIBRARY). -1 with err when the library or one of its functions is
 * missing, or libvirt cannot be reached: the caller goes on without it. */
int sp_virt_list_vms(const char *lib, const char *uri, struct sp_virt_list *out,
                     struct sp_err *err);
void sp_virt_list_free(struct sp_virt_list *list);

/* The VM that arg names: its name, else its UUID (any case, with or without
 * dashes), else its title (the first VM with it). NULL when none. */
const struct sp_virt_vm *sp_virt_find(const struct sp_virt_list *list, const char *arg);

/* virDomainState as virsh names it. */
const char *sp_virt_state_name(int state);

#endif
