/* bind: the kernel's per-device sequence to move a device to vfio-pci and
 * back: driver_override, unbind, drivers_probe, then a look at the driver
 * link to verify. Whole requests (several devices for one VM) are checked
 * first and rolled back on failure: nothing is left half done. Never uses
 * new_id, which would catch every device with the same IDs. */
#ifndef SP_VFIO_BIND_H
#define SP_VFIO_BIND_H

#include <stdio.h>

#include "check.h"

struct sp_vfio_request {
    const char *root;      /* sysfs root */
    const char *proc_root; /* /proc, or a stand-in */
    const char *state_dir;
    const char *vm;        /* domain name holding the devices */
    const struct sp_vfio_device *devs; /* the VM's whole device set (for groups) */
    size_t n_devs;
    const struct sp_pci_addr *bind; /* the ones to bind (bind="no" ones left out) */
    const unsigned char *release;   /* per bind[i]: give back when the VM stops */
    size_t n_bind;
};

/* Every problem a bind of req would be refused for, read-only: the devices,
 * the IOMMU, vfio-pci, the groups, the host's own use, and (with state_dir
 * and vm) other VMs' live holds. The helper's `check` says exactly this, so
 * that preview and check use a start's own words. */
void sp_vfio_precheck(const struct sp_vfio_request *req, struct sp_problems *problems);

/* Checks, then binds every device of req->bind as one claim (claim.h);
 * reports each on out as "bound ADDR was=DRIVER" or "kept ADDR". On failure
 * every driver and hold is as it was before, and err lists every problem. */
int sp_vfio_bind_request(const struct sp_vfio_request *req, FILE *out, struct sp_err *err);

/* A problem for each of addrs held by a VM other than vm that still counts
 * as alive (sp_hold_alive), naming it and why. Read under the lock or not. */
void sp_vfio_check_holds(const char *state_dir, const char *proc_root, const char *vm,
                         const struct sp_pci_addr *addrs, size_t n, struct sp_problems *out);

struct sp_vfio_giveback {
    const char *root;      /* sysfs root */
    const char *proc_root; /* where a holder's QEMU is looked for */
    const char *state_dir;
    const char *vm; /* only devices this VM holds; NULL: any holder */
    int force;      /* also when the holding VM still counts as alive */
};

/* Gives each device back to the driver it had before (from its hold; a
 * device nobody holds goes to whatever the kernel probes, or is left alone
 * when it is not on vfio-pci), and drops the hold. Refuses a device whose
 * holding VM still counts as alive unless g->force. Reports each on out:
 * "released ADDR driver=DRIVER[ (why)]" or "unheld ADDR driver=DRIVER (...)". */
int sp_vfio_release(const struct sp_vfio_giveback *g, const struct sp_pci_addr *addrs, size_t n,
                    FILE *out, struct sp_err *err);

/* The VM stopped: gives back every device it holds with release set. */
int sp_vfio_release_stopped(const struct sp_vfio_giveback *g, FILE *out, struct sp_err *err);

/* One device each way, for tests and the request code. */
int sp_vfio_bind_one(const char *root, const struct sp_pci_addr *addr, char *was, size_t size,
                     struct sp_err *err);
int sp_vfio_release_one(const char *root, const struct sp_pci_addr *addr, const char *expect,
                        struct sp_err *err);

#endif
