/* names: vendor, device and class names from the pci.ids database through
 * libpci (no table of our own). Reads no device: libpci's dump method is
 * pointed at /dev/null so that it never scans the host. */
#ifndef SP_VFIO_NAMES_H
#define SP_VFIO_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* "Advanced Micro Devices, Inc. [AMD/ATI] Cezanne [...]" into out. */
const char *sp_pci_name_device(uint16_t vendor, uint16_t device, char *out, size_t size);
/* "VGA compatible controller" for class 0x0300xx. */
const char *sp_pci_name_class(uint32_t class_code, char *out, size_t size);

#endif
