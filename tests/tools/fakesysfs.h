/* fakesysfs: builds a fake sysfs tree for tests from a small text spec, one
 * device a line: "ADDRESS VENDOR DEVICE [CLASS [DRIVER|- [GROUP|- [SUBVENDOR:SUBDEVICE]]]]" ('#'
 * comments), plus directives: "!no-iommu" (no kernel/iommu_groups),
 * "!no-vfio" (no vfio-pci driver), "!refuse-unbind DRIVER",
 * "!hang-unbind DRIVER". The layout is the kernel's:
 * devices/pci0000:00/ADDR/{vendor,device,class,driver_override,reset,iommu_group},
 * bus/pci/devices/ADDR -> the device dir, driver -> bus/pci/drivers/DRIVER,
 * bus/pci/drivers/DRIVER/{bind,unbind,new_id,remove_id}, bus/pci/drivers_probe,
 * kernel/iommu_groups/N/devices/ADDR. The kernel model (kmodel.c) gives the
 * writable files their effects.
 *
 * How a device resets (after the devices; by default it has a `reset` file
 * and no `reset_method`, as a kernel before 5.15 with some method shows it):
 *   !reset ADDR METHOD...       reset_method lists the METHODs ("flr bus"), as
 *                               Linux 5.15 and later do; "-" leaves it empty
 *   !no-reset ADDR              no method: neither reset nor reset_method
 *   !pcie ADDR flr|no-flr       a config file (256 bytes: the IDs and class,
 *                               a PM capability, then a PCIe one whose DevCap
 *                               advertises FLR or not); without it, none
 *   !bridge ADDR SECONDARY      a bridge's config file (64 bytes: its IDs,
 *                               class, header type 1) naming SECONDARY (hex)
 *                               as the bus behind it, for the topology
 *
 * What the host itself uses (built after the devices, in file order):
 *   !block ADDR DISK [PART...]  a disk below PCI device ADDR
 *                               (ADDR/host-DISK/block/DISK) and its partitions
 *                               (DISK/PART with a partition file); links in
 *                               class/block (and block/ for the disk)
 *   !holder NAME HOLDER [DM]    HOLDER holds block device NAME (NAME/holders/
 *                               HOLDER, HOLDER/slaves/NAME); a new HOLDER is
 *                               devices/virtual/block/HOLDER; DM its dm/name
 *   !net ADDR IFACE STATE       an interface below ADDR (ADDR/net/IFACE) with
 *                               operstate STATE; linked in class/net
 *   !iface IFACE STATE          a virtual one (bond, bridge, VLAN)
 *   !master IFACE MASTER        IFACE enslaved: master and upper_MASTER links,
 *                               MASTER/lower_IFACE
 *   !upper IFACE UPPER          upper_UPPER and UPPER/lower_IFACE (a VLAN)
 *   !proc FILE [TEXT]           TEXT as one more line of PROC/FILE ("mounts",
 *                               "net/route", ...); only with a proc root.
 * A host built with a proc root always has PROC/mounts and PROC/net/route. */
#ifndef SP_FAKESYSFS_H
#define SP_FAKESYSFS_H

/* The file that marks a tree as a fake the kernel model may act on. */
#define FAKESYSFS_MARKER ".fake-sysfs"
/* Per device: the driver the model binds on a probe without override. */
#define FAKESYSFS_NATIVE ".native-driver"

/* Returns 0, or -1 with a message on stderr. */
int fakesysfs_build(const char *root, const char *spec_text);
int fakesysfs_build_from_file(const char *root, const char *spec_path);
/* The same with a fake /proc at proc_root (NULL: none, and no !proc). */
int fakesysfs_build_host(const char *root, const char *proc_root, const char *spec_text);
int fakesysfs_build_host_from_file(const char *root, const char *proc_root,
                                   const char *spec_path);

#endif
