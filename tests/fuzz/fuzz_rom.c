/* Fuzzes sp_rom_parse and sp_vfct_parse on the same bytes, and on the bytes
 * behind a valid VFCT header (so the entry walk and the image parser behind
 * it are reached). Property: no memory error, leak or UB; on success every
 * image, PCIR, device list and VFCT entry lies inside its buffer, and the
 * chain is ordered and contiguous. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../rom/rom.h"
#include "../../rom/vfct.h"
#include "../tools/le_put.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VFCT_HEADER_LEN 76

/* The verdicts a start gives on this ROM, for IDs taken from the input:
 * consistent with each other, and the note says what the rule saw. */
static void check_fit(const struct sp_rom *rom, const uint8_t *buf, size_t len)
{
    uint16_t vendor = len >= 2 ? (uint16_t)(buf[len - 2] | buf[len - 1] << 8) : 0x1002;
    uint16_t device = len >= 4 ? (uint16_t)(buf[len - 4] | buf[len - 3] << 8) : 0x1638;
    enum sp_rom_fit fit = sp_rom_fit(rom, vendor, device);
    if ((fit == SP_ROM_FITS || fit == SP_ROM_X86_OTHER) != sp_rom_matches(rom, vendor, device))
        abort();
    int all_drivers = 1;
    for (size_t i = 0; i < rom->n_images; i++)
        all_drivers &= sp_rom_image_is_efi_driver(&rom->images[i]);
    if (fit == SP_ROM_EFI_DRIVER && !all_drivers)
        abort();
    char note[256], names[256];
    if (fit == SP_ROM_EFI_DRIVER && !strstr(sp_rom_efi_driver_note(rom, note, sizeof(note)),
                                            "EFI driver image"))
        abort();
    if (sp_rom_names(rom, 0, names, sizeof(names)) == 0)
        abort(); /* every image names some IDs */
    if (sp_rom_has_bios_image(rom, vendor, device) && fit != SP_ROM_FITS &&
        fit != SP_ROM_X86_OTHER)
        abort();
}

static void check_rom(const uint8_t *buf, size_t len)
{
    struct sp_rom rom;
    if (sp_rom_parse(buf, len, &rom, NULL) < 0) {
        if (rom.images || rom.n_images)
            abort();
        return;
    }
    if (rom.n_images == 0 || rom.n_images > 32)
        abort();
    size_t expect = 0;
    for (size_t i = 0; i < rom.n_images; i++) {
        const struct sp_rom_image *img = &rom.images[i];
        if (img->offset != expect || img->length == 0 || img->length > len - img->offset)
            abort();
        if (buf[img->offset] != 0x55 || buf[img->offset + 1] != 0xaa)
            abort();
        if (img->pcir_offset < img->offset ||
            img->pcir_offset + 0x18 > img->offset + img->length)
            abort();
        if (img->last && i + 1 != rom.n_images)
            abort();
        if (!img->has_checksum && img->checksum_ok)
            abort();
        if ((img->n_device_list == 0) != (img->device_list == NULL))
            abort();
        for (size_t j = 0; j < img->n_device_list; j++)
            if (img->device_list[j] == 0) /* the terminator is not an entry */
                abort();
        expect = img->offset + img->length;
    }
    check_fit(&rom, buf, len);
    sp_rom_free(&rom);
}

static void check_vfct(const uint8_t *buf, size_t len)
{
    struct sp_vfct v;
    if (sp_vfct_parse(buf, len, &v, NULL) < 0) {
        if (v.entries || v.n_entries)
            abort();
        return;
    }
    for (size_t i = 0; i < v.n_entries; i++) {
        const struct sp_vfct_entry *e = &v.entries[i];
        if (e->offset + 28 > len || e->image != buf + e->offset + 28 ||
            e->image_length > len - e->offset - 28)
            abort();
        check_rom(e->image, e->image_length);
    }
    sp_vfct_free(&v);
}

/* A VFCT header whose first entry starts right after it, with the input
 * as the entries. Exact size, so ASan sees any overread. */
static void check_behind_vfct_header(const uint8_t *data, size_t size)
{
    if (size > 0xffff)
        return;
    uint8_t *table = malloc(VFCT_HEADER_LEN + size);
    if (!table)
        return;
    memset(table, 0, VFCT_HEADER_LEN);
    memcpy(table, "VFCT", 4);
    le_put32(table + 4, (uint32_t)(VFCT_HEADER_LEN + size));
    le_put32(table + 52, VFCT_HEADER_LEN);
    if (size)
        memcpy(table + VFCT_HEADER_LEN, data, size);
    check_vfct(table, VFCT_HEADER_LEN + size);
    free(table);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_rom(data, size);
    check_vfct(data, size);
    check_behind_vfct_header(data, size);
    return 0;
}
