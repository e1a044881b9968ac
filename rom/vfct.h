/* vfct: the ACPI VFCT table, in which AMD firmware leaves a copy of the
 * GPU's vBIOS: a 36-byte ACPI header ("VFCT", length), a 16-byte UUID, the
 * offset of the first image entry (u32) and then entries of a 28-byte
 * header (PCI bus, device, function as u32; vendor, device, subsystem
 * vendor, subsystem device as u16; revision u32; image length u32) followed
 * by the image. Every entry is checked against the table's length; errors
 * name the offset. Never touches sysfs. */
#ifndef SP_VFCT_H
#define SP_VFCT_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

struct sp_vfct_entry {
    size_t offset;       /* of the entry header in the table */
    uint32_t bus, device, function;
    uint16_t vendor_id, device_id, subsystem_vendor, subsystem_device;
    uint32_t revision;
    const uint8_t *image; /* points into the table buffer */
    size_t image_length;
};

struct sp_vfct {
    struct sp_vfct_entry *entries;
    size_t n_entries;
};

int sp_vfct_parse(const uint8_t *buf, size_t len, struct sp_vfct *out, struct sp_err *err);
void sp_vfct_free(struct sp_vfct *vfct);

#endif
