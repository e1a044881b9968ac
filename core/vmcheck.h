/* vmcheck: what `check VM` and `doctor` ask of one VM: the start's own
 * decision, read-only, with every problem it meets (the config's refusal
 * and the vfio helper's check both, so that all show at once). Owns nothing
 * but that sequence; never binds, never writes. */
#ifndef SP_VMCHECK_H
#define SP_VMCHECK_H

#include <stddef.h>

#include "../config/config.h"
#include "../vfio/check.h"
#include "start.h"

/* Who the VM is: the name it was given by, and what libvirt told of it. */
struct sp_vmcheck_vm {
    const char *arg;       /* as given (a name, UUID or title) */
    const char *name;      /* libvirt's name for it; NULL: not known */
    const char *uuid;      /* NULL or "": not known */
    const char *title;     /* NULL: none, or not known */
    const char *unreached; /* why libvirt could not be asked; NULL or "": it was */
};

/* The start of vm, prepared in st (free it with sp_start_free), and its
 * problems added to problems. domain is the VM's own XML (its firmware
 * counts) or NULL for a stand-in that carries the VM's keys. -1 when memory
 * runs out. */
int sp_vmcheck(struct sp_snapshot *snap, const struct sp_vmcheck_vm *vm, const char *domain,
               size_t domain_len, struct sp_start *st, struct sp_problems *problems);

#endif
