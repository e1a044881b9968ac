/* names: vendor, device and class names for what the vfio checks print.
 * Owns nothing: the names come from the host's pci.ids through pci/ids.h
 * (our own reader, no libpci). Reads no device. */
#ifndef SP_VFIO_NAMES_H
#define SP_VFIO_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* "Advanced Micro Devices, Inc. [AMD/ATI] Cezanne [...]" into out. */
const char *sp_pci_name_device(uint16_t vendor, uint16_t device, char *out, size_t size);
/* "VGA compatible controller" for class 0x0300xx. */
const char *sp_pci_name_class(uint32_t class_code, char *out, size_t size);

#endif
