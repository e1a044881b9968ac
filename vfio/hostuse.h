/* hostuse: finds what the host itself uses below one PCI device, each use as
 * one chain ("0000:02:00.1 -> sda -> sda1 -> md0, mounted at /"). Owns the
 * rules below. Reads only under the sysfs and proc roots; never writes, never
 * decides to refuse (vfio/check.c does).
 *
 * The rules. Below the device: block devices in class/block whose sysfs path
 * is inside the device's (SATA, SAS, NVMe, USB storage), their partitions and
 * whatever holds them (holders/, up to 8 deep: md, dm, LVM, bcache). One is in
 * use when /proc/mounts mounts it (by kernel name, /dev/mapper/NAME or
 * /dev/VG/LV for dm, /dev/root through cmdline's root=), /proc/swaps swaps on
 * it, or it is an md array /proc/mdstat shows active with nothing above it in
 * use. A disk named synoboot* is DSM's boot stick (never mounted while DSM
 * runs) and always in use. Interfaces in class/net below the device: in use
 * when up (operstate up, unknown or dormant) with an address, or when their
 * master or an upper_* interface is, followed the same way; a port of Open
 * vSwitch counts through DSM's ovs_PORT, and as in use when there is none.
 * sysfs has no addresses: IPv4 is a route on the interface in /proc/net/route
 * outside 169.254.0.0/16, IPv6 an address in /proc/net/if_inet6 outside
 * fe80::/10. A use is "system" when it ends at a mount on / or is the boot
 * stick. /proc is read only once something is found below the device. */
#ifndef SP_VFIO_HOSTUSE_H
#define SP_VFIO_HOSTUSE_H

#include <stddef.h>

#include "../common/err.h"
#include "../pci/pci.h"
#include "procview.h"

struct sp_host_use {
    char *chain;
    int system; /* / depends on it, or DSM's boot device: no override covers it */
};

struct sp_host_uses {
    struct sp_host_use *items;
    size_t n;
};

/* One look at a host: the roots, and /proc read at the first need. */
struct sp_host_scan {
    const char *sysfs_root;
    const char *proc_root;
    int loaded;
    struct sp_proc_view view;
};

void sp_host_scan_init(struct sp_host_scan *s, const char *sysfs_root, const char *proc_root);
void sp_host_scan_free(struct sp_host_scan *s);

/* Every use found below addr, in name order. -1 with err when it cannot be
 * told (a /proc file unreadable, a holder chain too deep or too wide): the
 * caller must then treat the device as in use. */
int sp_host_use_find(struct sp_host_scan *s, const struct sp_pci_addr *addr,
                     struct sp_host_uses *out, struct sp_err *err);
void sp_host_uses_free(struct sp_host_uses *u);

#endif
