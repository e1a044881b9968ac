/* vfct: splits an ACPI VFCT table into its image entries.
 * Owns the table layout and its bounds: the table's own length field, never
 * the buffer's, limits every entry. Never copies images (entries point into
 * the caller's buffer) and never touches sysfs. */
#include "vfct.h"

#include <stdlib.h>
#include <string.h>

#define ACPI_HEADER_LEN 36
/* ACPI header, 16-byte UUID, VBIOSImageOffset, Lib1ImageOffset, 4 reserved
 * u32: the fixed part of the table as AMD (and amdgpu) define it. */
#define VFCT_HEADER_LEN 76
#define VFCT_FIRST_ENTRY_AT (ACPI_HEADER_LEN + 16)
#define ENTRY_HEADER_LEN 28

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Checks the ACPI header and returns the table length in *table_len. */
static int check_table(const uint8_t *buf, size_t len, size_t *table_len, struct sp_err *err)
{
    if (len < ACPI_HEADER_LEN)
        return sp_err_set(err, "offset 0x0: %zu bytes, shorter than an ACPI table header "
                          "(%d bytes)", len, ACPI_HEADER_LEN);
    if (memcmp(buf, "VFCT", 4) != 0)
        return sp_err_set(err, "offset 0x0: signature is not \"VFCT\"");
    uint32_t tlen = rd32(buf + 4);
    if (tlen < VFCT_HEADER_LEN)
        return sp_err_set(err, "offset 0x4: table length %u is shorter than the VFCT header "
                          "(%d bytes)", tlen, VFCT_HEADER_LEN);
    if (tlen > len)
        return sp_err_set(err, "offset 0x4: table length %u exceeds the %zu bytes at hand "
                          "(truncated)", tlen, len);
    *table_len = tlen;
    return 0;
}

static int append_entry(struct sp_vfct *v, size_t *cap, const struct sp_vfct_entry *e)
{
    if (v->n_entries == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        struct sp_vfct_entry *n = realloc(v->entries, ncap * sizeof(*n));
        if (!n)
            return -1;
        v->entries = n;
        *cap = ncap;
    }
    v->entries[v->n_entries++] = *e;
    return 0;
}

static int read_entry(const uint8_t *buf, size_t table_len, size_t at,
                      struct sp_vfct_entry *e, struct sp_err *err)
{
    const uint8_t *h = buf + at;
    e->offset = at;
    e->bus = rd32(h);
    e->device = rd32(h + 4);
    e->function = rd32(h + 8);
    e->vendor_id = rd16(h + 12);
    e->device_id = rd16(h + 14);
    e->subsystem_vendor = rd16(h + 16);
    e->subsystem_device = rd16(h + 18);
    e->revision = rd32(h + 20);
    uint32_t image_len = rd32(h + 24);
    size_t room = table_len - at - ENTRY_HEADER_LEN;
    if (image_len > room)
        return sp_err_set(err, "offset 0x%zx: entry image of 0x%x bytes runs past the end of "
                          "the table at 0x%zx", at, image_len, table_len);
    e->image = h + ENTRY_HEADER_LEN;
    e->image_length = image_len;
    return 0;
}

static int read_entries(const uint8_t *buf, size_t table_len, size_t first,
                        struct sp_vfct *v, struct sp_err *err)
{
    size_t cap = 0;
    for (size_t at = first; table_len - at >= ENTRY_HEADER_LEN;) {
        struct sp_vfct_entry e;
        if (read_entry(buf, table_len, at, &e, err) < 0)
            return -1;
        if (append_entry(v, &cap, &e) < 0)
            return sp_err_set(err, "out of memory");
        at += ENTRY_HEADER_LEN + e.image_length;
    }
    return 0;
}

int sp_vfct_parse(const uint8_t *buf, size_t len, struct sp_vfct *out, struct sp_err *err)
{
    memset(out, 0, sizeof(*out));
    size_t table_len = 0;
    if (check_table(buf, len, &table_len, err) < 0)
        return -1;
    uint32_t first = rd32(buf + VFCT_FIRST_ENTRY_AT);
    if (first < VFCT_HEADER_LEN || first > table_len)
        return sp_err_set(err, "offset 0x%x: first image offset 0x%x is outside the table "
                          "(0x%x..0x%zx)", VFCT_FIRST_ENTRY_AT, first, VFCT_HEADER_LEN,
                          table_len);
    struct sp_vfct v = {NULL, 0};
    if (read_entries(buf, table_len, first, &v, err) < 0) {
        sp_vfct_free(&v);
        return -1;
    }
    *out = v;
    return 0;
}

void sp_vfct_free(struct sp_vfct *vfct)
{
    if (!vfct)
        return;
    free(vfct->entries);
    vfct->entries = NULL;
    vfct->n_entries = 0;
}
