/* fakesysfs: builds a fake sysfs tree for tests from a small text spec, one
 * device a line: "ADDRESS VENDOR DEVICE [CLASS [DRIVER|- [GROUP|- [SUBVENDOR:SUBDEVICE]]]]" ('#'
 * comments), plus directives: "!no-iommu" (no kernel/iommu_groups),
 * "!no-vfio" (no vfio-pci driver), "!refuse-unbind DRIVER",
 * "!hang-unbind DRIVER". The layout is the kernel's:
 * devices/pci0000:00/ADDR/{vendor,device,class,driver_override,iommu_group},
 * bus/pci/devices/ADDR -> the device dir, driver -> bus/pci/drivers/DRIVER,
 * bus/pci/drivers/DRIVER/{bind,unbind,new_id,remove_id}, bus/pci/drivers_probe,
 * kernel/iommu_groups/N/devices/ADDR. The kernel model (kmodel.c) gives the
 * writable files their effects. */
#ifndef SP_FAKESYSFS_H
#define SP_FAKESYSFS_H

/* The file that marks a tree as a fake the kernel model may act on. */
#define FAKESYSFS_MARKER ".fake-sysfs"
/* Per device: the driver the model binds on a probe without override. */
#define FAKESYSFS_NATIVE ".native-driver"

/* Returns 0, or -1 with a message on stderr. */
int fakesysfs_build(const char *root, const char *spec_text);
int fakesysfs_build_from_file(const char *root, const char *spec_path);

#endif
