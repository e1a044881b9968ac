/* rom, vfct: option-ROM image chains and ACPI VFCT tables, on the fixtures
 * that tests/tools/mkrom writes ($SP_BUILD/tests/mkrom all DIR), and on
 * single-field corruptions of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/fsutil.h"
#include "../../rom/rom.h"
#include "../../rom/vfct.h"
#include "../tools/le_put.h"
#include "testutil.h"

static char *dir;

/* The bytes of DIR/KIND.bin (malloc'd). */
static uint8_t *fixture(const char *kind, size_t *len)
{
    char name[64];
    snprintf(name, sizeof(name), "%s.bin", kind);
    char *path = sp_path_join(dir, name);
    uint8_t *buf = (uint8_t *)tu_read(path, len);
    free(path);
    return buf;
}

/* Parses buf and expects an error containing both fragments. */
static void expect_rom_error(const uint8_t *buf, size_t len, const char *a, const char *b)
{
    struct sp_rom rom;
    struct sp_err err;
    assert_int_equal(sp_rom_parse(buf, len, &rom, &err), -1);
    assert_int_equal(rom.n_images, 0);
    assert_null(rom.images);
    if (!strstr(err.msg, a) || (b && !strstr(err.msg, b)))
        fail_msg("error '%s' lacks '%s' / '%s'", err.msg, a, b ? b : "");
}

static void parse_ok(const uint8_t *buf, size_t len, struct sp_rom *rom)
{
    struct sp_err err;
    if (sp_rom_parse(buf, len, rom, &err) < 0)
        fail_msg("unexpected error: %s", err.msg);
}

static void parse_kind(const char *kind, struct sp_rom *rom)
{
    size_t len;
    uint8_t *buf = fixture(kind, &len);
    parse_ok(buf, len, rom);
    free(buf);
}

/* ---- good images ---- */

static void legacy_image_fields(void **state)
{
    (void)state;
    struct sp_rom rom;
    parse_kind("legacy", &rom);
    assert_int_equal(rom.n_images, 1);
    const struct sp_rom_image *img = &rom.images[0];
    assert_int_equal(img->offset, 0);
    assert_int_equal(img->length, 0x400);
    assert_int_equal(img->pcir_offset, 0x80);
    assert_int_equal(img->vendor, 0x1002);
    assert_int_equal(img->device, 0x1638);
    assert_int_equal(img->pcir_revision, 3);
    assert_int_equal(img->class_code, 0x030000);
    assert_int_equal(img->code_type, SP_ROM_CODE_X86);
    assert_true(img->last);
    assert_true(img->has_checksum);
    assert_true(img->checksum_ok);
    assert_false(img->efi);
    assert_true(img->atom);
    assert_null(img->device_list);
    assert_int_equal(img->n_device_list, 0);
    sp_rom_free(&rom);
    assert_null(rom.images);
}

static void efi_image_fields(void **state)
{
    (void)state;
    struct sp_rom rom;
    parse_kind("efi", &rom);
    assert_int_equal(rom.n_images, 1);
    const struct sp_rom_image *img = &rom.images[0];
    assert_int_equal(img->vendor, 0x8086);
    assert_int_equal(img->device, 0x10fb);
    assert_int_equal(img->class_code, 0x020000);
    assert_int_equal(img->code_type, SP_ROM_CODE_EFI);
    assert_int_equal(img->pcir_offset, 0x1c);
    assert_true(img->efi);
    assert_int_equal(img->efi_subsystem, 0x000b);
    assert_int_equal(img->efi_machine, 0x8664);
    assert_int_equal(img->efi_compression, 0);
    assert_false(img->has_checksum);
    assert_false(img->atom);
    assert_true(img->last);
    sp_rom_free(&rom);
}

/* The image the e2e guest gives its NIC: mkrom's "for" kind, any IDs. */
static void image_made_for_given_ids(void **state)
{
    (void)state;
    char *path = sp_path_join(dir, "for-8086-10d3.bin");
    tu_run_mkrom((const char *const[]){"for", "8086", "10d3", path, NULL});
    struct sp_rom rom;
    struct sp_err err;
    assert_int_equal(sp_rom_load(path, &rom, &err), 0);
    assert_int_equal(rom.n_images, 1);
    assert_int_equal(rom.images[0].code_type, SP_ROM_CODE_X86);
    assert_int_equal(rom.images[0].class_code, 0x020000);
    assert_true(rom.images[0].checksum_ok);
    assert_true(rom.images[0].last);
    assert_true(sp_rom_matches(&rom, 0x8086, 0x10d3));
    assert_false(sp_rom_matches(&rom, 0x8086, 0x10d4));
    sp_rom_free(&rom);
    free(path);
}

static void legacy_then_efi_chain(void **state)
{
    (void)state;
    struct sp_rom rom;
    parse_kind("legacy-efi", &rom);
    assert_int_equal(rom.n_images, 2);
    assert_false(rom.images[0].last);
    assert_int_equal(rom.images[0].code_type, SP_ROM_CODE_X86);
    assert_true(rom.images[0].checksum_ok);
    assert_true(rom.images[0].atom);
    assert_int_equal(rom.images[1].offset, 0x400);
    assert_int_equal(rom.images[1].pcir_offset, 0x41c);
    assert_int_equal(rom.images[1].code_type, SP_ROM_CODE_EFI);
    assert_true(rom.images[1].efi);
    assert_true(rom.images[1].last);
    assert_true(sp_rom_matches(&rom, 0x1002, 0x1638));
    assert_true(sp_rom_matches(&rom, 0x8086, 0x10fb));
    assert_false(sp_rom_matches(&rom, 0x8086, 0x1638));
    sp_rom_free(&rom);
}

static void device_list_is_read_and_matched(void **state)
{
    (void)state;
    struct sp_rom rom;
    parse_kind("devlist", &rom);
    const struct sp_rom_image *img = &rom.images[0];
    assert_int_equal(img->device, 0x1636);
    assert_int_equal(img->n_device_list, 2);
    assert_int_equal(img->device_list[0], 0x1638);
    assert_int_equal(img->device_list[1], 0x15e7);
    assert_true(sp_rom_matches(&rom, 0x1002, 0x1636));
    assert_true(sp_rom_matches(&rom, 0x1002, 0x1638));
    assert_true(sp_rom_matches(&rom, 0x1002, 0x15e7));
    assert_false(sp_rom_matches(&rom, 0x1002, 0x1637));
    assert_false(sp_rom_matches(&rom, 0x10de, 0x1638)); /* the list is for PCIR's vendor */
    sp_rom_free(&rom);
}

static void device_list_ignored_before_revision_3(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("legacy", &len);
    buf[0x80 + 0xc] = 0;              /* PCIR revision 0 */
    le_put16(buf + 0x80 + 0x8, 0xfff0);  /* reserved there: a pointer far outside */
    struct sp_rom rom;
    parse_ok(buf, len, &rom);
    assert_int_equal(rom.images[0].pcir_revision, 0);
    assert_int_equal(rom.images[0].n_device_list, 0);
    sp_rom_free(&rom);
    free(buf);
}

static void checksum_states(void **state)
{
    (void)state;
    struct sp_rom rom;
    parse_kind("bad-checksum", &rom);
    assert_true(rom.images[0].has_checksum);
    assert_false(rom.images[0].checksum_ok);
    sp_rom_free(&rom);
}

static void ids_match_or_not(void **state)
{
    (void)state;
    struct sp_rom rom;
    parse_kind("legacy", &rom);
    assert_true(sp_rom_matches(&rom, 0x1002, 0x1638));
    assert_false(sp_rom_matches(&rom, 0x10de, 0x1b80));
    sp_rom_free(&rom);
    parse_kind("wrong-ids", &rom);
    assert_true(sp_rom_matches(&rom, 0x10de, 0x1b80));
    assert_false(sp_rom_matches(&rom, 0x1002, 0x1638));
    assert_false(rom.images[0].atom);
    sp_rom_free(&rom);
}

static void atom_marker_rule(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("legacy", &len);
    struct sp_rom rom;
    memcpy(buf + 0x104, "MOTA", 4); /* amdgpu accepts it reversed */
    parse_ok(buf, len, &rom);
    assert_true(rom.images[0].atom);
    sp_rom_free(&rom);
    memcpy(buf + 0x104, "ATOX", 4);
    parse_ok(buf, len, &rom);
    assert_false(rom.images[0].atom);
    sp_rom_free(&rom);
    memcpy(buf + 0x104, "ATOM", 4);
    le_put16(buf + 0x48, 0x3fa); /* marker would end past the image */
    parse_ok(buf, len, &rom);
    assert_false(rom.images[0].atom);
    sp_rom_free(&rom);
    le_put16(buf + 0x48, 0);
    parse_ok(buf, len, &rom);
    assert_false(rom.images[0].atom);
    sp_rom_free(&rom);
    free(buf);
}

static void padding_after_last_image_is_ignored(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("legacy", &len);
    uint8_t *padded = malloc(len + 0x200);
    memcpy(padded, buf, len);
    memset(padded + len, 0xff, 0x200);
    struct sp_rom rom;
    parse_ok(padded, len + 0x200, &rom);
    assert_int_equal(rom.n_images, 1);
    sp_rom_free(&rom);
    free(padded);
    free(buf);
}

static void chain_ending_at_eof_without_last_flag(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("legacy", &len);
    buf[0x80 + 0x15] = 0;
    struct sp_rom rom;
    parse_ok(buf, len, &rom);
    assert_int_equal(rom.n_images, 1);
    assert_false(rom.images[0].last);
    sp_rom_free(&rom);
    free(buf);
}

static void efi_header_rules(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("efi", &len);
    struct sp_rom rom;
    le_put32(buf + 4, 0x0EF2); /* no EFI header: not an error, just not EFI */
    parse_ok(buf, len, &rom);
    assert_false(rom.images[0].efi);
    assert_int_equal(rom.images[0].efi_machine, 0);
    sp_rom_free(&rom);
    le_put32(buf + 4, 0x0EF1);
    le_put16(buf + 2, 3); /* 0x600 bytes to initialize in a 0x400 image */
    expect_rom_error(buf, len, "offset 0x0: EFI initialization size 0x600", "0x400");
    le_put16(buf + 2, 2);
    le_put16(buf + 0x16, 0x400);
    expect_rom_error(buf, len, "offset 0x0: EFI image offset 0x0400 is outside the image", NULL);
    le_put16(buf + 0x16, 0x10);
    expect_rom_error(buf, len, "offset 0x0: EFI image offset 0x0010", NULL);
    free(buf);
}

/* ---- published shapes, and which device and firmware a ROM serves ---- */

/* A GOP driver as passthrough guides ship it: one compressed x64 EFI boot
 * service driver whose PCIR names neither function of the GPU. */
static void gop_driver_shape(void **state)
{
    (void)state;
    struct sp_rom rom;
    parse_kind("gop-driver", &rom);
    assert_int_equal(rom.n_images, 1);
    const struct sp_rom_image *img = &rom.images[0];
    assert_int_equal(img->code_type, SP_ROM_CODE_EFI);
    assert_int_equal(img->vendor, 0x03ea);
    assert_int_equal(img->device, 0x0665);
    assert_int_equal(img->class_code, 0x030000);
    assert_true(img->efi);
    assert_int_equal(img->efi_subsystem, SP_EFI_SUBSYSTEM_BOOT_DRIVER);
    assert_int_equal(img->efi_machine, SP_EFI_MACHINE_X64);
    assert_int_equal(img->efi_compression, 1);
    assert_true(img->last);
    assert_true(sp_rom_image_is_efi_driver(img));
    sp_rom_free(&rom);
}

/* An APU's vBIOS with its GOP driver after it, both naming the iGPU. */
static void vbios_with_gop_shape(void **state)
{
    (void)state;
    struct sp_rom rom;
    parse_kind("apu-vbios-gop", &rom);
    assert_int_equal(rom.n_images, 2);
    assert_int_equal(rom.images[0].code_type, SP_ROM_CODE_X86);
    assert_true(rom.images[0].atom);
    assert_true(rom.images[0].checksum_ok);
    assert_false(rom.images[0].last);
    assert_int_equal(rom.images[1].code_type, SP_ROM_CODE_EFI);
    assert_int_equal(rom.images[1].vendor, 0x1002);
    assert_int_equal(rom.images[1].device, 0x1638);
    assert_int_equal(rom.images[1].efi_compression, 1);
    assert_true(rom.images[1].last);
    sp_rom_free(&rom);
}

static enum sp_rom_fit fit_of(const uint8_t *buf, size_t len, uint16_t vendor, uint16_t device)
{
    struct sp_rom rom;
    parse_ok(buf, len, &rom);
    enum sp_rom_fit fit = sp_rom_fit(&rom, vendor, device);
    sp_rom_free(&rom);
    return fit;
}

static enum sp_rom_fit fit_of_kind(const char *kind, uint16_t vendor, uint16_t device)
{
    size_t len;
    uint8_t *buf = fixture(kind, &len);
    enum sp_rom_fit fit = fit_of(buf, len, vendor, device);
    free(buf);
    return fit;
}

/* The rule matrix of README's ROM section. */
static void fit_rule(void **state)
{
    (void)state;
    /* An image names the device: directly, in a device list, in a chain. */
    assert_int_equal(fit_of_kind("legacy", 0x1002, 0x1638), SP_ROM_FITS);
    assert_int_equal(fit_of_kind("devlist", 0x1002, 0x15e7), SP_ROM_FITS);
    assert_int_equal(fit_of_kind("apu-vbios-gop", 0x1002, 0x1638), SP_ROM_FITS);
    assert_int_equal(fit_of_kind("gop-driver", 0x03ea, 0x0665), SP_ROM_FITS);
    /* A legacy vBIOS of another device: refused. */
    assert_int_equal(fit_of_kind("wrong-ids", 0x1002, 0x1638), SP_ROM_OTHER);
    assert_int_equal(fit_of_kind("legacy", 0x1002, 0x1637), SP_ROM_OTHER);
    assert_int_equal(fit_of_kind("apu-vbios-gop", 0x1002, 0x1637), SP_ROM_OTHER);
    /* Mixed: the EFI image names the device, the x86 image another one. */
    assert_int_equal(fit_of_kind("legacy-efi", 0x8086, 0x10fb), SP_ROM_X86_OTHER);
    assert_int_equal(fit_of_kind("legacy-efi", 0x1002, 0x1638), SP_ROM_FITS);
    /* EFI drivers only, naming others: UEFI firmware loads them anyway. */
    assert_int_equal(fit_of_kind("gop-driver", 0x1002, 0x1637), SP_ROM_EFI_DRIVER);
    assert_int_equal(fit_of_kind("gop-driver", 0x1002, 0x1638), SP_ROM_EFI_DRIVER);
    assert_int_equal(fit_of_kind("efi", 0x1002, 0x1637), SP_ROM_EFI_DRIVER);
}

/* Only an image UEFI firmware loads as a driver counts as one. */
static void efi_driver_rule(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("gop-driver", &len);
    le_put16(buf + 0x8, SP_EFI_SUBSYSTEM_RUNTIME_DRIVER);
    assert_int_equal(fit_of(buf, len, 0x1002, 0x1637), SP_ROM_EFI_DRIVER);
    le_put16(buf + 0x8, SP_EFI_SUBSYSTEM_APPLICATION); /* never loaded from a ROM */
    assert_int_equal(fit_of(buf, len, 0x1002, 0x1637), SP_ROM_OTHER);
    le_put16(buf + 0x8, SP_EFI_SUBSYSTEM_BOOT_DRIVER);
    le_put32(buf + 0x4, 0x0EF2); /* code type EFI, but no EFI header */
    assert_int_equal(fit_of(buf, len, 0x1002, 0x1637), SP_ROM_OTHER);
    le_put32(buf + 0x4, 0x0EF1);
    buf[0x1c + 0x14] = 0x01; /* Open Firmware, not EFI */
    assert_int_equal(fit_of(buf, len, 0x1002, 0x1637), SP_ROM_OTHER);
    free(buf);
}

/* What x64 UEFI firmware (x64, EBC) and SeaBIOS (an x86 image whose own
 * PCIR IDs are the device's) would run. */
static void firmware_each_rom_serves(void **state)
{
    (void)state;
    static const struct {
        uint16_t machine;
        int runs;
    } machines[] = {{SP_EFI_MACHINE_X64, 1}, {SP_EFI_MACHINE_EBC, 1}, {SP_EFI_MACHINE_IA32, 0},
                    {SP_EFI_MACHINE_AARCH64, 0}};
    size_t len;
    uint8_t *buf = fixture("gop-driver", &len);
    struct sp_rom rom;
    for (size_t i = 0; i < sizeof(machines) / sizeof(machines[0]); i++) {
        le_put16(buf + 0xa, machines[i].machine);
        parse_ok(buf, len, &rom);
        assert_int_equal(sp_rom_has_x64_efi_driver(&rom), machines[i].runs);
        assert_false(sp_rom_has_bios_image(&rom, 0x03ea, 0x0665));
        sp_rom_free(&rom);
    }
    le_put16(buf + 0x8, SP_EFI_SUBSYSTEM_APPLICATION);
    le_put16(buf + 0xa, SP_EFI_MACHINE_X64);
    parse_ok(buf, len, &rom);
    assert_false(sp_rom_has_x64_efi_driver(&rom));
    sp_rom_free(&rom);
    free(buf);
    parse_kind("apu-vbios-gop", &rom);
    assert_true(sp_rom_has_x64_efi_driver(&rom));
    assert_true(sp_rom_has_bios_image(&rom, 0x1002, 0x1638));
    assert_false(sp_rom_has_bios_image(&rom, 0x1002, 0x1637));
    sp_rom_free(&rom);
    parse_kind("legacy", &rom);
    assert_false(sp_rom_has_x64_efi_driver(&rom));
    sp_rom_free(&rom);
    parse_kind("devlist", &rom); /* 1636, listing 1638: SeaBIOS reads no list */
    assert_true(sp_rom_has_bios_image(&rom, 0x1002, 0x1636));
    assert_false(sp_rom_has_bios_image(&rom, 0x1002, 0x1638));
    sp_rom_free(&rom);
}

static void efi_driver_note_says_what_it_is(void **state)
{
    (void)state;
    char note[512];
    struct sp_rom rom;
    parse_kind("gop-driver", &rom);
    assert_string_equal(sp_rom_efi_driver_note(&rom, note, sizeof(note)),
                        "EFI driver image (x64, boot service driver), names 03ea:0665; UEFI "
                        "firmware loads it from this function");
    sp_rom_free(&rom);
    /* Two drivers: the GOP, then an AArch64 one naming 1002:ffff. */
    size_t len;
    uint8_t *one = fixture("gop-driver", &len);
    uint8_t *two = malloc(2 * len);
    memcpy(two, one, len);
    memcpy(two + len, one, len);
    two[0x1c + 0x15] = 0; /* the first is no longer the last */
    le_put16(two + len + 0xa, SP_EFI_MACHINE_AARCH64);
    le_put16(two + len + 0x1c + 0x4, 0x1002);
    le_put16(two + len + 0x1c + 0x6, 0xffff);
    parse_ok(two, 2 * len, &rom);
    assert_string_equal(sp_rom_efi_driver_note(&rom, note, sizeof(note)),
                        "2 EFI driver images (x64, boot service driver; AArch64, boot service "
                        "driver), name 03ea:0665, 1002:ffff; UEFI firmware loads them from this "
                        "function");
    assert_int_equal(sp_rom_fit(&rom, 0x1002, 0x1637), SP_ROM_EFI_DRIVER);
    sp_rom_free(&rom);
    free(two);
    free(one);
}

static void names_are_distinct_and_may_be_the_x86_ones(void **state)
{
    (void)state;
    char names[256];
    struct sp_rom rom;
    parse_kind("devlist", &rom);
    assert_int_equal(sp_rom_names(&rom, 0, names, sizeof(names)), 3);
    assert_string_equal(names, "1002:1636, 1002:1638, 1002:15e7");
    sp_rom_free(&rom);
    parse_kind("legacy-efi", &rom);
    assert_int_equal(sp_rom_names(&rom, 0, names, sizeof(names)), 2);
    assert_string_equal(names, "1002:1638, 8086:10fb");
    assert_int_equal(sp_rom_names(&rom, 1, names, sizeof(names)), 1);
    assert_string_equal(names, "1002:1638");
    sp_rom_free(&rom);
    parse_kind("apu-vbios-gop", &rom); /* both images name the iGPU: once */
    assert_int_equal(sp_rom_names(&rom, 0, names, sizeof(names)), 1);
    assert_string_equal(names, "1002:1638");
    sp_rom_free(&rom);
}

static void efi_names(void **state)
{
    (void)state;
    assert_string_equal(sp_rom_efi_machine_name(0x8664), "x64");
    assert_string_equal(sp_rom_efi_machine_name(0x014c), "IA-32");
    assert_string_equal(sp_rom_efi_machine_name(0xaa64), "AArch64");
    assert_string_equal(sp_rom_efi_machine_name(0x0ebc), "EBC");
    assert_string_equal(sp_rom_efi_machine_name(0x1234), "unknown");
    assert_string_equal(sp_rom_efi_subsystem_name(10), "application");
    assert_string_equal(sp_rom_efi_subsystem_name(11), "boot service driver");
    assert_string_equal(sp_rom_efi_subsystem_name(12), "runtime driver");
    assert_string_equal(sp_rom_efi_subsystem_name(13), "unknown");
}

/* ---- bad images: every error names the offset ---- */

static void too_short_for_a_header(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("truncated-header", &len);
    expect_rom_error(buf, len, "offset 0x0: 16 bytes, shorter than a ROM header", NULL);
    expect_rom_error(buf, 0, "offset 0x0: 0 bytes", NULL);
    free(buf);
}

static void truncated_image(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("truncated-image", &len);
    expect_rom_error(buf, len, "offset 0x0: image length 0x400 runs past the end of the file "
                     "at 0x300", "PCIR at 0x80");
    free(buf);
}

static void chain_longer_than_the_cap(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("loop", &len);
    expect_rom_error(buf, len, "offset 0x4000: more than 32 images", "no last-image flag");
    free(buf);
}

static void missing_signatures(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("legacy-efi", &len);
    buf[0] = 0x56;
    expect_rom_error(buf, len, "offset 0x0: no ROM signature 0x55AA (found 0x56AA)", NULL);
    buf[0] = 0x55;
    buf[0x401] = 0x00; /* the second image, no last flag before it */
    expect_rom_error(buf, len, "offset 0x400: no ROM signature 0x55AA", NULL);
    buf[0x401] = 0xaa;
    memcpy(buf + 0x41c, "PCIX", 4);
    expect_rom_error(buf, len, "offset 0x400: no \"PCIR\" signature at 0x41c", NULL);
    free(buf);
}

static void pcir_pointer_out_of_bounds(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("legacy", &len);
    le_put16(buf + 0x18, 0x3f0); /* 0x18 bytes from 0x3f0 end past 0x400 */
    expect_rom_error(buf, len, "offset 0x0: PCIR pointer 0x03f0", "does not fit");
    le_put16(buf + 0x18, 0xffff);
    expect_rom_error(buf, len, "offset 0x0: PCIR pointer 0xffff", NULL);
    free(buf);
}

static void zero_image_length(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("legacy", &len);
    le_put16(buf + 0x80 + 0x10, 0);
    expect_rom_error(buf, len, "offset 0x0: image length 0 (PCIR at 0x80)", NULL);
    free(buf);
    buf = fixture("legacy-efi", &len);
    le_put16(buf + 0x41c + 0x10, 0);
    expect_rom_error(buf, len, "offset 0x400: image length 0 (PCIR at 0x41c)", NULL);
    free(buf);
}

static void pcir_outside_its_image(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("legacy-efi", &len);
    /* The first image points at the second one's PCIR, which says 1 block. */
    le_put16(buf + 0x18, 0x41c);
    le_put16(buf + 0x41c + 0x10, 1);
    expect_rom_error(buf, len, "offset 0x0: PCIR at 0x41c lies outside the image", NULL);
    free(buf);
}

static void device_list_errors(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("devlist", &len);
    le_put16(buf + 0x80 + 0x8, 0x380); /* 0x80 + 0x380 = the image's end */
    expect_rom_error(buf, len, "offset 0x0: device list at 0x400 runs past the image", NULL);
    le_put16(buf + 0x80 + 0x8, 0x37e); /* the last u16 of the image, non-zero */
    buf[0x3fe] = 0x11;
    buf[0x3ff] = 0x22;
    expect_rom_error(buf, len, "offset 0x0: device list at 0x3fe is not 0-terminated", NULL);
    le_put16(buf + 0x80 + 0x8, 0x37f); /* one odd byte before the end */
    expect_rom_error(buf, len, "offset 0x0: device list at 0x3ff is not 0-terminated", NULL);
    free(buf);
}

/* Every proper prefix of a valid image or table is refused with a reason,
 * except a ROM cut exactly where one of its images ends (the chain walk
 * stops at the end of the data): that parses to the images before the cut.
 * The whole is accepted, and the other parser copes with it too. Each
 * prefix is its own allocation of exactly that size, so ASan sees any read
 * past it. */
static int cut_at_image_end(const struct sp_rom *part, const struct sp_rom *whole, size_t n)
{
    if (part->n_images == 0 || part->n_images >= whole->n_images)
        return 0;
    const struct sp_rom_image *last = &part->images[part->n_images - 1];
    return last->offset + last->length == n &&
           last->length == whole->images[part->n_images - 1].length;
}

static void every_prefix_is_safe(void **state)
{
    (void)state;
    static const struct {
        const char *kind;
        int vfct;
    } cases[] = {{"legacy-efi", 0}, {"devlist", 0}, {"apu-vbios-gop", 0}, {"vfct-two", 1}};
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        size_t len;
        uint8_t *buf = fixture(cases[k].kind, &len);
        struct sp_rom whole = {0};
        assert_true(cases[k].vfct || sp_rom_parse(buf, len, &whole, NULL) == 0);
        for (size_t n = 0; n <= len; n++) {
            uint8_t *copy = malloc(n ? n : 1);
            memcpy(copy, buf, n);
            struct sp_rom rom;
            struct sp_vfct v;
            struct sp_err rom_err = {{0}}, vfct_err = {{0}};
            int rom_rc = sp_rom_parse(copy, n, &rom, &rom_err);
            int vfct_rc = sp_vfct_parse(copy, n, &v, &vfct_err);
            int own_rc = cases[k].vfct ? vfct_rc : rom_rc;
            const char *own_msg = cases[k].vfct ? vfct_err.msg : rom_err.msg;
            if (n == len && own_rc != 0)
                fail_msg("%s: the whole (%zu bytes) is refused: %s", cases[k].kind, len, own_msg);
            int image_cut = !cases[k].vfct && rom_rc == 0 && cut_at_image_end(&rom, &whole, n);
            if (n < len && !image_cut && (own_rc != -1 || own_msg[0] == '\0'))
                fail_msg("%s: the first %zu of %zu bytes are %s", cases[k].kind, n, len,
                         own_rc == 0 ? "accepted" : "refused without a reason");
            if (rom_rc == 0)
                sp_rom_free(&rom);
            if (vfct_rc == 0)
                sp_vfct_free(&v);
            free(copy);
        }
        if (!cases[k].vfct)
            sp_rom_free(&whole);
        free(buf);
    }
}

static void code_type_names(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(sp_rom_code_type_name(0, buf, sizeof(buf)), "x86");
    assert_string_equal(sp_rom_code_type_name(1, buf, sizeof(buf)), "Open Firmware");
    assert_string_equal(sp_rom_code_type_name(2, buf, sizeof(buf)), "PA-RISC");
    assert_string_equal(sp_rom_code_type_name(3, buf, sizeof(buf)), "EFI");
    assert_string_equal(sp_rom_code_type_name(0x42, buf, sizeof(buf)), "unknown (0x42)");
}

/* ---- sp_rom_load ---- */

static void load_reads_and_names_the_path(void **state)
{
    (void)state;
    char *path = sp_path_join(dir, "legacy.bin");
    struct sp_rom rom;
    struct sp_err err;
    assert_int_equal(sp_rom_load(path, &rom, &err), 0);
    assert_int_equal(rom.n_images, 1);
    sp_rom_free(&rom);
    free(path);

    path = sp_path_join(dir, "truncated-image.bin");
    assert_int_equal(sp_rom_load(path, &rom, &err), -1);
    char *want = NULL;
    assert_true(asprintf(&want, "%s: offset 0x0: image length 0x400", path) > 0);
    assert_non_null(strstr(err.msg, want));
    free(want);
    free(path);

    path = sp_path_join(dir, "missing.bin");
    assert_int_equal(sp_rom_load(path, &rom, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "No such file or directory"));
    free(path);
}

static void load_refuses_huge_files_before_reading(void **state)
{
    (void)state;
    char *path = sp_path_join(dir, "huge.bin");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), (off_t)SP_ROM_MAX_BYTES + 1), 0); /* sparse */
    fclose(f);
    struct sp_rom rom;
    struct sp_err err;
    assert_int_equal(sp_rom_load(path, &rom, &err), -1);
    char *want = NULL;
    assert_true(asprintf(&want, "%s: %u bytes, larger than any option ROM (limit 16 MiB): "
                         "not reading it", path, SP_ROM_MAX_BYTES + 1) > 0);
    assert_string_equal(err.msg, want);
    free(want);
    unlink(path);
    free(path);
}

/* A FIFO (no writer, ever) or a directory where a ROM should be: refused by
 * its type at once. SIGALRM fails a regression that would block. */
static void load_refuses_what_is_not_a_regular_file(void **state)
{
    (void)state;
    alarm(10);
    char *fifo = sp_path_join(dir, "fifo.bin");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    struct sp_rom rom;
    struct sp_err err;
    char *want = NULL;
    assert_int_equal(sp_rom_load(fifo, &rom, &err), -1);
    assert_true(asprintf(&want, "%s: is a FIFO, not a regular file", fifo) > 0);
    assert_string_equal(err.msg, want);
    free(want);
    assert_int_equal(sp_rom_load(dir, &rom, &err), -1);
    assert_non_null(strstr(err.msg, "is a directory, not a regular file"));
    unlink(fifo);
    free(fifo);
    alarm(0);
}

/* ---- VFCT ---- */

static void vfct_one_entry(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("vfct-one", &len);
    struct sp_vfct v;
    struct sp_err err;
    assert_int_equal(sp_vfct_parse(buf, len, &v, &err), 0);
    assert_int_equal(v.n_entries, 1);
    const struct sp_vfct_entry *e = &v.entries[0];
    assert_int_equal(e->offset, 76);
    assert_int_equal(e->bus, 8);
    assert_int_equal(e->device, 0);
    assert_int_equal(e->function, 0);
    assert_int_equal(e->vendor_id, 0x1002);
    assert_int_equal(e->device_id, 0x1638);
    assert_int_equal(e->subsystem_vendor, 0x1002);
    assert_int_equal(e->subsystem_device, 0x0123);
    assert_int_equal(e->revision, 0);
    assert_ptr_equal(e->image, buf + 76 + 28);
    assert_int_equal(e->image_length, 0x400);
    struct sp_rom rom;
    parse_ok(e->image, e->image_length, &rom);
    assert_true(rom.images[0].atom);
    assert_true(sp_rom_matches(&rom, e->vendor_id, e->device_id));
    sp_rom_free(&rom);
    sp_vfct_free(&v);
    free(buf);
}

static void vfct_two_entries(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("vfct-two", &len);
    struct sp_vfct v;
    struct sp_err err;
    assert_int_equal(sp_vfct_parse(buf, len, &v, &err), 0);
    assert_int_equal(v.n_entries, 2);
    assert_int_equal(v.entries[0].bus, 8);
    assert_int_equal(v.entries[1].offset, 76 + 28 + 0x400);
    assert_int_equal(v.entries[1].bus, 3);
    assert_int_equal(v.entries[1].vendor_id, 0x1002);
    assert_int_equal(v.entries[1].device_id, 0x73bf);
    assert_int_equal(v.entries[1].image_length, 0x400);
    sp_vfct_free(&v);
    free(buf);
}

static void vfct_truncated_entry(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("vfct-truncated", &len);
    struct sp_vfct v;
    struct sp_err err;
    assert_int_equal(sp_vfct_parse(buf, len, &v, &err), -1);
    assert_int_equal(v.n_entries, 0);
    assert_null(v.entries);
    assert_string_equal(err.msg, "offset 0x468: entry image of 0x400 bytes runs past the end "
                                 "of the table at 0x584");
    free(buf);
}

static void expect_vfct_error(const uint8_t *buf, size_t len, const char *want)
{
    struct sp_vfct v;
    struct sp_err err;
    assert_int_equal(sp_vfct_parse(buf, len, &v, &err), -1);
    if (!strstr(err.msg, want))
        fail_msg("error '%s' lacks '%s'", err.msg, want);
}

static void vfct_header_errors(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("vfct-one", &len);
    expect_vfct_error(buf, 35, "offset 0x0: 35 bytes, shorter than an ACPI table header");
    expect_vfct_error(buf, len - 1, "offset 0x4: table length 1128 exceeds the 1127 bytes");
    buf[0] = 'X';
    expect_vfct_error(buf, len, "offset 0x0: signature is not \"VFCT\"");
    buf[0] = 'V';
    le_put32(buf + 4, 75);
    expect_vfct_error(buf, len, "offset 0x4: table length 75 is shorter than the VFCT header");
    le_put32(buf + 4, (uint32_t)len);
    le_put32(buf + 0x34, 0x20);
    expect_vfct_error(buf, len, "offset 0x34: first image offset 0x20 is outside the table");
    le_put32(buf + 0x34, (uint32_t)len + 1);
    expect_vfct_error(buf, len, "offset 0x34: first image offset 0x469");
    free(buf);
}

/* The table's own length bounds the entries, not the buffer's. */
static void vfct_table_length_is_the_bound(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = fixture("vfct-one", &len);
    le_put32(buf + 4, (uint32_t)len - 0x10); /* the image now runs past the table */
    expect_vfct_error(buf, len, "offset 0x4c: entry image of 0x400 bytes runs past the end "
                                "of the table at 0x458");
    le_put32(buf + 4, 76 + 27); /* fewer than 28 bytes for an entry: no entries */
    struct sp_vfct v;
    struct sp_err err;
    assert_int_equal(sp_vfct_parse(buf, len, &v, &err), 0);
    assert_int_equal(v.n_entries, 0);
    sp_vfct_free(&v);
    free(buf);
}

static int setup(void **state)
{
    (void)state;
    dir = tu_mkdtemp("rom");
    tu_run_mkrom((const char *const[]){"all", dir, NULL});
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rm_rf(dir);
    free(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(legacy_image_fields),
        cmocka_unit_test(efi_image_fields),
        cmocka_unit_test(image_made_for_given_ids),
        cmocka_unit_test(legacy_then_efi_chain),
        cmocka_unit_test(device_list_is_read_and_matched),
        cmocka_unit_test(device_list_ignored_before_revision_3),
        cmocka_unit_test(checksum_states),
        cmocka_unit_test(ids_match_or_not),
        cmocka_unit_test(atom_marker_rule),
        cmocka_unit_test(padding_after_last_image_is_ignored),
        cmocka_unit_test(chain_ending_at_eof_without_last_flag),
        cmocka_unit_test(efi_header_rules),
        cmocka_unit_test(gop_driver_shape),
        cmocka_unit_test(vbios_with_gop_shape),
        cmocka_unit_test(fit_rule),
        cmocka_unit_test(efi_driver_rule),
        cmocka_unit_test(firmware_each_rom_serves),
        cmocka_unit_test(efi_driver_note_says_what_it_is),
        cmocka_unit_test(names_are_distinct_and_may_be_the_x86_ones),
        cmocka_unit_test(efi_names),
        cmocka_unit_test(too_short_for_a_header),
        cmocka_unit_test(truncated_image),
        cmocka_unit_test(chain_longer_than_the_cap),
        cmocka_unit_test(missing_signatures),
        cmocka_unit_test(pcir_pointer_out_of_bounds),
        cmocka_unit_test(zero_image_length),
        cmocka_unit_test(pcir_outside_its_image),
        cmocka_unit_test(device_list_errors),
        cmocka_unit_test(every_prefix_is_safe),
        cmocka_unit_test(code_type_names),
        cmocka_unit_test(load_reads_and_names_the_path),
        cmocka_unit_test(load_refuses_huge_files_before_reading),
        cmocka_unit_test(load_refuses_what_is_not_a_regular_file),
        cmocka_unit_test(vfct_one_entry),
        cmocka_unit_test(vfct_two_entries),
        cmocka_unit_test(vfct_truncated_entry),
        cmocka_unit_test(vfct_header_errors),
        cmocka_unit_test(vfct_table_length_is_the_bound),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
