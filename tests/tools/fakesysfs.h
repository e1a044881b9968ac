/* fakesysfs: builds a fake sysfs tree for tests from a small text spec, one
 * device a line: "ADDRESS VENDOR DEVICE [CLASS [DRIVER]]" ('#' comments).
 * Layout as the kernel has it: devices/pci0000:00/ADDR/{vendor,device,class},
 * bus/pci/devices/ADDR -> the device dir, driver -> bus/pci/drivers/DRIVER. */
#ifndef SP_FAKESYSFS_H
#define SP_FAKESYSFS_H

/* Returns 0, or -1 with a message on stderr. */
int fakesysfs_build(const char *root, const char *spec_text);
int fakesysfs_build_from_file(const char *root, const char *spec_path);

#endif
