/* check: whether a VM's devices can go to vfio-pci, before anything is
 * touched: IOMMU on, vfio-pci present, each device there with the expected
 * IDs, each IOMMU group viable (every other member a bridge, already on
 * vfio-pci, or given to the same VM), and nothing below it used by the host
 * (vfio/hostuse.h). Every problem is listed, with what to do about it.
 * Never writes to sysfs. */
#ifndef SP_VFIO_CHECK_H
#define SP_VFIO_CHECK_H

#include <stddef.h>

#include "../common/err.h"
#include "../pci/pci.h"
#include "sysfs.h"

struct sp_vfio_device {
    struct sp_pci_addr addr;
    int has_ids;
    struct sp_pci_ids ids; /* expected */
    int allow_host_use;    /* host_use="allow": what the host uses goes too, unless / or
                            * the DSM boot device depends on it */
};

struct sp_problems {
    char **items;
    size_t n;
};

void sp_problems_add(struct sp_problems *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sp_problems_free(struct sp_problems *p);
/* All problems joined with "; " into err. Returns -1 when there are any. */
int sp_problems_to_err(const struct sp_problems *p, struct sp_err *err);

/* Checks devs (the VM's whole set) under the sysfs root, and what the host
 * uses under proc_root. Problems go to out; returns -1 only on failures to
 * read the tree that are not the device's own problem. */
int sp_vfio_check(const char *root, const char *proc_root, const struct sp_vfio_device *devs,
                  size_t n, struct sp_problems *out);

enum sp_group_verdict {
    SP_GROUP_ALONE,      /* can be passed alone */
    SP_GROUP_WHOLE,      /* only together with the rest of its group */
    SP_GROUP_NO,         /* cannot be passed (no group, or a bridge itself) */
};

/* The verdict for one device, with the reason in why. */
enum sp_group_verdict sp_vfio_verdict(const char *root, const struct sp_pci_info *info,
                                      char *why, size_t size);

/* "0000:05:00.0 [8086:10fb] Ethernet controller: Intel ... (driver ixgbe)". */
void sp_vfio_describe(const struct sp_pci_info *info, char *out, size_t size);

#endif
