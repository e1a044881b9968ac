/* claim: one VM's claim on a bind's devices under the state lock, remembering each device's
 * hold and driver from before, so that it ends committed or rolled back to exactly that.
 * Owns the lock and those before-images. Never checks IDs, groups or other VMs' holds. */
#ifndef SP_VFIO_CLAIM_H
#define SP_VFIO_CLAIM_H

#include <stdio.h>

#include "state.h"

enum sp_claim_kind {
    SP_CLAIM_NEW,     /* moved to vfio-pci by this claim */
    SP_CLAIM_OURS,    /* already on vfio-pci, held by this VM */
    SP_CLAIM_ON_VFIO, /* already on vfio-pci, held by nobody or taken over */
};

struct sp_claim_item {
    struct sp_pci_addr addr;
    enum sp_claim_kind kind;
    char was[64];          /* the driver before, "" when none */
    int had_hold;          /* a hold was there before */
    struct sp_hold before; /* and what it said */
};

struct sp_claim {
    const char *root, *state_dir, *vm;
    long long now;
    int lock;
    struct sp_claim_item *items;
    size_t n;
};

/* Takes the state lock; the claim is empty. */
int sp_claim_begin(struct sp_claim *c, const char *root, const char *state_dir, const char *vm,
                   long long now, struct sp_err *err);

/* Puts addr on vfio-pci and writes this VM's hold on it. The hold keeps the
 * original driver a hold already there recorded when the device is on
 * vfio-pci now (this VM's, or a lapsed one taken over); else the driver it
 * is taken from. On failure addr itself is as it was (roll back the rest). */
int sp_claim_add(struct sp_claim *c, const struct sp_pci_addr *addr, int release,
                 struct sp_err *err);

/* The driver a new hold on item's device records as its original one. */
const char *sp_claim_original_driver(const struct sp_claim_item *item);

/* Ends the claim: reports each device on out ("bound ADDR was=DRIVER", or
 * "kept ADDR", with the VM it was taken over from), unlocks, frees. */
void sp_claim_commit(struct sp_claim *c, FILE *out);

/* Ends the claim: newly bound devices go back to their drivers and every
 * hold is as it was (rewritten, or removed when there was none), latest
 * first; unlocks, frees. */
void sp_claim_rollback(struct sp_claim *c);

#endif
