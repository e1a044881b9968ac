/* vfio/sysfs: what the vfio helper reads and writes under the sysfs root,
 * one small function per kernel file: a device's IDs, class, driver and
 * IOMMU group; writes to driver_override, unbind and drivers_probe. Each
 * failure is reported where it happens, with the device, the path and the
 * errno text. Never decides anything. */
#ifndef SP_VFIO_SYSFS_H
#define SP_VFIO_SYSFS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../pci/pci.h"

#define SP_VFIO_DRIVER "vfio-pci"

struct sp_pci_info {
    struct sp_pci_addr addr;
    uint16_t vendor, device;
    uint32_t class_code; /* 24 bits */
    char driver[64];     /* "" when unbound */
    int group;           /* IOMMU group, -1 when none */
};

/* The first line of a small sysfs file, without its newline. */
int sp_sysfs_read_line(const char *path, char *out, size_t size, struct sp_err *err);
/* The last component of a symlink's target ("" when there is no link). */
int sp_sysfs_link_name(const char *link, char *out, size_t size, struct sp_err *err);

int sp_sysfs_device_info(const char *root, const struct sp_pci_addr *addr,
                         struct sp_pci_info *info, struct sp_err *err);

/* The driver bound to addr, "" when none. */
int sp_sysfs_driver(const char *root, const struct sp_pci_addr *addr, char *out, size_t size,
                    struct sp_err *err);

/* driver_override: "" when unset (the kernel shows "(null)"). */
int sp_sysfs_driver_override(const char *root, const struct sp_pci_addr *addr, char *out,
                             size_t size, struct sp_err *err);

int sp_sysfs_set_driver_override(const char *root, const struct sp_pci_addr *addr,
                                 const char *driver, struct sp_err *err);
int sp_sysfs_unbind(const char *root, const struct sp_pci_addr *addr, const char *driver,
                    struct sp_err *err);
int sp_sysfs_drivers_probe(const char *root, const struct sp_pci_addr *addr, struct sp_err *err);

/* kernel/iommu_groups has at least one group. */
int sp_sysfs_iommu_enabled(const char *root);
/* The vfio-pci driver is registered (bus/pci/drivers/vfio-pci exists). */
int sp_sysfs_driver_available(const char *root, const char *driver);

/* The members of an IOMMU group, sorted. *out is malloc'd. */
int sp_sysfs_group_members(const char *root, int group, struct sp_pci_addr **out, size_t *n,
                           struct sp_err *err);
/* Every IOMMU group number, sorted. *out is malloc'd. */
int sp_sysfs_groups(const char *root, int **out, size_t *n, struct sp_err *err);

#endif
