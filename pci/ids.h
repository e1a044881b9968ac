/* ids: vendor, device and class names from the pci.ids database text.
 * Owns the reading of that format, libpci's name formats, and the one copy
 * of the host's pci.ids loaded per process. Never writes, never reads a device. */
#ifndef SP_PCI_IDS_H
#define SP_PCI_IDS_H

#include <stddef.h>
#include <stdint.h>

/* The whole file is read; pci.ids is about 1.4 MB. */
#define SP_IDS_MAX_BYTES (16u * 1024 * 1024)

/* Both take the pci.ids text ids[0..len), not necessarily NUL-terminated
 * (NULL when len is 0); malformed lines are skipped. They write libpci's
 * names into out and return out ("" when size is 0); a name longer than
 * out ends in "...", as libpci's does. */

/* "<vendor> <device>", "<vendor> Device dddd" when only the vendor is
 * listed, "Device vvvv:dddd" when the vendor is not. */
const char *sp_ids_device_name(const char *ids, size_t len, uint16_t vendor, uint16_t device,
                               char *out, size_t size);
/* For class_code 0xccssii (prog-if ignored): the subclass name, else
 * "<class> [ccss]", else "Class ccss". */
const char *sp_ids_class_name(const char *ids, size_t len, uint32_t class_code,
                              char *out, size_t size);

/* The host's pci.ids, read once per process (thread-safe) from the first
 * readable of SP_DATADIR/pci.ids, /usr/share/misc/pci.ids,
 * /usr/share/hwdata/pci.ids, /usr/share/pci.ids. Empty ("", 0) when none is. */
const char *sp_ids_system(size_t *len);

#endif
