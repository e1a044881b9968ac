/* rom: walks the image chain of a PCI expansion ROM held in a buffer.
 * Owns the per-image checks (0x55AA, PCIR, length, device list, legacy
 * checksum, EFI header, ATOM marker) and the chain rules (last-image flag,
 * image cap), and which device and firmware a parsed ROM serves (sp_rom_fit).
 * Never reads past the buffer and never touches sysfs. */
#include "rom.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/fsutil.h"

/* Everything up to and including the PCIR pointer at 0x18. */
#define ROM_HEADER_LEN 0x1a
/* The PCIR fields every revision has. The structure-length field at 0xA is
 * not trusted: it only ever adds fields we do not read. */
#define PCIR_LEN 0x18
#define ROM_BLOCK 512u
#define ROM_MAX_IMAGES 32
#define ROM_MAX_DEVICE_LIST 1024
#define PCIR_LAST_IMAGE 0x80
#define EFI_SIGNATURE 0x0EF1u
/* AMD: the u16 at 0x48 of an x86 image points to the ATOM ROM header, whose
 * bytes 4..7 read "ATOM" (amdgpu also accepts the reversed "MOTA"). */
#define ATOM_HEADER_POINTER 0x48
#define ATOM_MARKER_AT 4

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* What one image occupies in the buffer. */
struct span {
    const uint8_t *buf;
    size_t len;    /* of the whole buffer */
    size_t offset; /* of the image */
};

static int check_header(const struct span *s, struct sp_err *err)
{
    size_t left = s->len - s->offset;
    if (left < ROM_HEADER_LEN)
        return sp_err_set(err, "offset 0x%zx: %zu bytes left, shorter than a ROM header "
                          "(0x%x bytes)", s->offset, left, ROM_HEADER_LEN);
    const uint8_t *p = s->buf + s->offset;
    if (p[0] != 0x55 || p[1] != 0xaa)
        return sp_err_set(err, "offset 0x%zx: no ROM signature 0x55AA (found 0x%02X%02X)",
                          s->offset, p[0], p[1]);
    return 0;
}

static int locate_pcir(const struct span *s, size_t *pcir, struct sp_err *err)
{
    unsigned ptr = rd16(s->buf + s->offset + 0x18);
    size_t at = s->offset + ptr;
    if (at > s->len || s->len - at < PCIR_LEN)
        return sp_err_set(err, "offset 0x%zx: PCIR pointer 0x%04x: the structure at 0x%zx "
                          "does not fit in the 0x%zx bytes of the file",
                          s->offset, ptr, at, s->len);
    if (memcmp(s->buf + at, "PCIR", 4) != 0)
        return sp_err_set(err, "offset 0x%zx: no \"PCIR\" signature at 0x%zx (PCIR pointer "
                          "0x%04x)", s->offset, at, ptr);
    *pcir = at;
    return 0;
}

static void read_pcir(const uint8_t *p, struct sp_rom_image *img)
{
    img->vendor = rd16(p + 0x4);
    img->device = rd16(p + 0x6);
    img->pcir_revision = p[0xc];
    img->class_code = (uint32_t)p[0xf] << 16 | (uint32_t)p[0xe] << 8 | p[0xd];
    img->length = (size_t)rd16(p + 0x10) * ROM_BLOCK;
    img->code_type = p[0x14];
    img->last = (p[0x15] & PCIR_LAST_IMAGE) != 0;
}

static int check_length(const struct span *s, const struct sp_rom_image *img,
                        struct sp_err *err)
{
    if (img->length == 0)
        return sp_err_set(err, "offset 0x%zx: image length 0 (PCIR at 0x%zx)", s->offset,
                          img->pcir_offset);
    if (img->length > s->len - s->offset)
        return sp_err_set(err, "offset 0x%zx: image length 0x%zx runs past the end of the "
                          "file at 0x%zx: truncated (PCIR at 0x%zx)", s->offset, img->length,
                          s->len, img->pcir_offset);
    if (img->pcir_offset + PCIR_LEN > s->offset + img->length)
        return sp_err_set(err, "offset 0x%zx: PCIR at 0x%zx lies outside the image "
                          "(length 0x%zx)", s->offset, img->pcir_offset, img->length);
    return 0;
}

/* Counts the entries of the 0-terminated list at `at`, bounded by `end`. */
static int measure_device_list(const uint8_t *buf, size_t at, size_t end, size_t image,
                               size_t *count, struct sp_err *err)
{
    size_t n = 0;
    for (size_t p = at;; p += 2, n++) {
        if (p > end || end - p < 2)
            return sp_err_set(err, "offset 0x%zx: device list at 0x%zx is not 0-terminated "
                              "within the image (ends at 0x%zx)", image, at, end);
        if (rd16(buf + p) == 0)
            break;
        if (n == ROM_MAX_DEVICE_LIST)
            return sp_err_set(err, "offset 0x%zx: device list at 0x%zx has more than %d "
                              "entries", image, at, ROM_MAX_DEVICE_LIST);
    }
    *count = n;
    return 0;
}

/* PCIR revision 3 and later: the u16 at PCIR+8 is the offset, from the PCIR
 * start, of a 0-terminated list of further device IDs (0 = no list). */
static int read_device_list(const struct span *s, struct sp_rom_image *img,
                            struct sp_err *err)
{
    unsigned ptr = rd16(s->buf + img->pcir_offset + 0x8);
    if (img->pcir_revision < 3 || ptr == 0)
        return 0;
    size_t at = img->pcir_offset + ptr, end = s->offset + img->length;
    if (at >= end)
        return sp_err_set(err, "offset 0x%zx: device list at 0x%zx runs past the image "
                          "(ends at 0x%zx; PCIR at 0x%zx)", s->offset, at, end,
                          img->pcir_offset);
    size_t n = 0;
    if (measure_device_list(s->buf, at, end, s->offset, &n, err) < 0)
        return -1;
    if (n == 0)
        return 0;
    img->device_list = malloc(n * sizeof(*img->device_list));
    if (!img->device_list)
        return sp_err_set(err, "out of memory");
    for (size_t i = 0; i < n; i++)
        img->device_list[i] = rd16(s->buf + at + 2 * i);
    img->n_device_list = n;
    return 0;
}

static void check_legacy(const uint8_t *p, struct sp_rom_image *img)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < img->length; i++)
        sum = (uint8_t)(sum + p[i]);
    img->has_checksum = 1;
    img->checksum_ok = sum == 0;

    /* The ATOM rule is amdgpu's (check_atom_bios), kept inside the image. */
    if (img->length < ATOM_HEADER_POINTER + 2)
        return;
    size_t hdr = rd16(p + ATOM_HEADER_POINTER);
    if (hdr == 0 || hdr + ATOM_MARKER_AT + 4 > img->length)
        return;
    const uint8_t *m = p + hdr + ATOM_MARKER_AT;
    img->atom = memcmp(m, "ATOM", 4) == 0 || memcmp(m, "MOTA", 4) == 0;
}

/* EFI image header (PCI Firmware spec): initialization size u16 at 0x2 (512-
 * byte units), EFI signature u32 at 0x4, subsystem 0x8, machine type 0xA,
 * compression 0xC, EFI image offset u16 at 0x16. A wrong signature just
 * means "no EFI header"; a right one makes the sizes binding. */
static int check_efi(const struct span *s, struct sp_rom_image *img, struct sp_err *err)
{
    const uint8_t *p = s->buf + s->offset;
    if (rd32(p + 0x4) != EFI_SIGNATURE)
        return 0;
    size_t init = (size_t)rd16(p + 0x2) * ROM_BLOCK;
    unsigned image_at = rd16(p + 0x16);
    if (init > img->length)
        return sp_err_set(err, "offset 0x%zx: EFI initialization size 0x%zx exceeds the image "
                          "length 0x%zx", s->offset, init, img->length);
    if (image_at < ROM_HEADER_LEN || image_at >= img->length)
        return sp_err_set(err, "offset 0x%zx: EFI image offset 0x%04x is outside the image "
                          "(0x%x..0x%zx)", s->offset, image_at, ROM_HEADER_LEN,
                          img->length - 1);
    img->efi = 1;
    img->efi_subsystem = rd16(p + 0x8);
    img->efi_machine = rd16(p + 0xa);
    img->efi_compression = rd16(p + 0xc);
    return 0;
}

static int parse_image(const struct span *s, struct sp_rom_image *img, struct sp_err *err)
{
    memset(img, 0, sizeof(*img));
    img->offset = s->offset;
    if (check_header(s, err) < 0 || locate_pcir(s, &img->pcir_offset, err) < 0)
        return -1;
    read_pcir(s->buf + img->pcir_offset, img);
    if (check_length(s, img, err) < 0 || read_device_list(s, img, err) < 0)
        return -1;
    if (img->code_type == SP_ROM_CODE_X86)
        check_legacy(s->buf + s->offset, img);
    else if (img->code_type == SP_ROM_CODE_EFI && check_efi(s, img, err) < 0) {
        free(img->device_list);
        img->device_list = NULL;
        return -1;
    }
    return 0;
}

/* Each image is parsed in place in a fixed array; lengths are never 0, so
 * the walk only moves forward and the cap bounds it. */
static int walk_chain(const uint8_t *buf, size_t len, struct sp_rom *rom, struct sp_err *err)
{
    struct span s = {buf, len, 0};
    for (;;) {
        if (rom->n_images == ROM_MAX_IMAGES)
            return sp_err_set(err, "offset 0x%zx: more than %d images in the chain and no "
                              "last-image flag", s.offset, ROM_MAX_IMAGES);
        struct sp_rom_image *img = &rom->images[rom->n_images];
        if (parse_image(&s, img, err) < 0)
            return -1;
        rom->n_images++;
        if (img->last || img->length >= len - s.offset)
            return 0;
        s.offset += img->length;
    }
}

int sp_rom_parse(const uint8_t *buf, size_t len, struct sp_rom *out, struct sp_err *err)
{
    memset(out, 0, sizeof(*out));
    if (len < ROM_HEADER_LEN)
        return sp_err_set(err, "offset 0x0: %zu bytes, shorter than a ROM header (0x%x bytes)",
                          len, ROM_HEADER_LEN);
    struct sp_rom rom = {calloc(ROM_MAX_IMAGES, sizeof(*rom.images)), 0};
    if (!rom.images)
        return sp_err_set(err, "out of memory");
    if (walk_chain(buf, len, &rom, err) < 0) {
        sp_rom_free(&rom);
        return -1;
    }
    *out = rom;
    return 0;
}

int sp_rom_load_fd(int fd, const struct stat *st, const char *path, struct sp_rom *out,
                   struct sp_err *err)
{
    memset(out, 0, sizeof(*out));
    if ((unsigned long long)st->st_size > SP_ROM_MAX_BYTES)
        return sp_err_set(err, "%s: %lld bytes, larger than any option ROM (limit %u MiB): "
                          "not reading it", path, (long long)st->st_size,
                          SP_ROM_MAX_BYTES >> 20);
    char *buf = NULL;
    size_t len = 0;
    if (sp_read_fd(fd, st, path, SP_ROM_MAX_BYTES, &buf, &len, err) < 0)
        return -1;
    int rc = sp_rom_parse((const uint8_t *)buf, len, out, err);
    if (rc < 0)
        sp_err_prefix(err, "%s", path);
    free(buf);
    return rc;
}

int sp_rom_load(const char *path, struct sp_rom *out, struct sp_err *err)
{
    memset(out, 0, sizeof(*out));
    struct stat st;
    int fd = sp_open_read(path, 0, &st, err);
    if (fd < 0)
        return -1;
    int rc = sp_rom_load_fd(fd, &st, path, out, err);
    close(fd);
    return rc;
}

void sp_rom_free(struct sp_rom *rom)
{
    if (!rom)
        return;
    for (size_t i = 0; rom->images && i < rom->n_images; i++)
        free(rom->images[i].device_list);
    free(rom->images);
    rom->images = NULL;
    rom->n_images = 0;
}

static int image_matches(const struct sp_rom_image *img, uint16_t vendor, uint16_t device)
{
    if (img->vendor != vendor)
        return 0;
    if (img->device == device)
        return 1;
    for (size_t i = 0; i < img->n_device_list; i++)
        if (img->device_list[i] == device)
            return 1;
    return 0;
}

int sp_rom_matches(const struct sp_rom *rom, uint16_t vendor, uint16_t device)
{
    for (size_t i = 0; i < rom->n_images; i++)
        if (image_matches(&rom->images[i], vendor, device))
            return 1;
    return 0;
}

const char *sp_rom_code_type_name(uint8_t code_type, char *buf, size_t size)
{
    static const char *const names[] = {"x86", "Open Firmware", "PA-RISC", "EFI"};
    if (code_type < sizeof(names) / sizeof(names[0]))
        snprintf(buf, size, "%s", names[code_type]);
    else
        snprintf(buf, size, "unknown (0x%02x)", code_type);
    return buf;
}

int sp_rom_image_is_efi_driver(const struct sp_rom_image *img)
{
    return img->code_type == SP_ROM_CODE_EFI && img->efi &&
           (img->efi_subsystem == SP_EFI_SUBSYSTEM_BOOT_DRIVER ||
            img->efi_subsystem == SP_EFI_SUBSYSTEM_RUNTIME_DRIVER);
}

enum sp_rom_fit sp_rom_fit(const struct sp_rom *rom, uint16_t vendor, uint16_t device)
{
    int named = 0, x86 = 0, x86_named = 0, all_efi_drivers = rom->n_images > 0;
    for (size_t i = 0; i < rom->n_images; i++) {
        const struct sp_rom_image *img = &rom->images[i];
        int names = image_matches(img, vendor, device);
        named |= names;
        if (img->code_type == SP_ROM_CODE_X86) {
            x86 = 1;
            x86_named |= names;
        }
        all_efi_drivers &= sp_rom_image_is_efi_driver(img);
    }
    if (x86 && !x86_named)
        return named ? SP_ROM_X86_OTHER : SP_ROM_OTHER;
    if (named)
        return SP_ROM_FITS;
    return all_efi_drivers ? SP_ROM_EFI_DRIVER : SP_ROM_OTHER;
}

int sp_rom_has_x64_efi_driver(const struct sp_rom *rom)
{
    for (size_t i = 0; i < rom->n_images; i++) {
        const struct sp_rom_image *img = &rom->images[i];
        if (sp_rom_image_is_efi_driver(img) &&
            (img->efi_machine == SP_EFI_MACHINE_X64 || img->efi_machine == SP_EFI_MACHINE_EBC))
            return 1;
    }
    return 0;
}

int sp_rom_has_bios_image(const struct sp_rom *rom, uint16_t vendor, uint16_t device)
{
    for (size_t i = 0; i < rom->n_images; i++) {
        const struct sp_rom_image *img = &rom->images[i];
        if (img->code_type == SP_ROM_CODE_X86 && img->vendor == vendor && img->device == device)
            return 1;
    }
    return 0;
}

/* Distinct vendor << 16 | device values, in order; more when they overflow. */
struct id_set {
    uint32_t ids[64];
    size_t n;
    int more;
};

static void id_set_add(struct id_set *s, uint16_t vendor, uint16_t device)
{
    uint32_t id = (uint32_t)vendor << 16 | device;
    for (size_t i = 0; i < s->n; i++)
        if (s->ids[i] == id)
            return;
    if (s->n == sizeof(s->ids) / sizeof(s->ids[0]))
        s->more = 1;
    else
        s->ids[s->n++] = id;
}

size_t sp_rom_names(const struct sp_rom *rom, int x86_only, char *out, size_t size)
{
    struct id_set s = {.n = 0};
    for (size_t i = 0; i < rom->n_images; i++) {
        const struct sp_rom_image *img = &rom->images[i];
        if (x86_only && img->code_type != SP_ROM_CODE_X86)
            continue;
        id_set_add(&s, img->vendor, img->device);
        for (size_t j = 0; j < img->n_device_list; j++)
            id_set_add(&s, img->vendor, img->device_list[j]);
    }
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < s.n && used < size; i++) {
        int n = snprintf(out + used, size - used, "%s%04x:%04x", i ? ", " : "",
                         (unsigned)(s.ids[i] >> 16), (unsigned)(s.ids[i] & 0xffff));
        used += n > 0 ? (size_t)n : 0;
    }
    if (s.more && used < size)
        snprintf(out + used, size - used, ", ...");
    return s.n + (size_t)s.more;
}

const char *sp_rom_efi_driver_note(const struct sp_rom *rom, char *out, size_t size)
{
    char kinds[256] = "", names[256];
    size_t used = 0;
    for (size_t i = 0; i < rom->n_images && used < sizeof(kinds); i++) {
        const struct sp_rom_image *img = &rom->images[i];
        int n = snprintf(kinds + used, sizeof(kinds) - used, "%s%s, %s", i ? "; " : "",
                         sp_rom_efi_machine_name(img->efi_machine),
                         sp_rom_efi_subsystem_name(img->efi_subsystem));
        used += n > 0 ? (size_t)n : 0;
    }
    sp_rom_names(rom, 0, names, sizeof(names));
    if (rom->n_images == 1)
        snprintf(out, size, "EFI driver image (%s), names %s; UEFI firmware loads it from "
                 "this function", kinds, names);
    else
        snprintf(out, size, "%zu EFI driver images (%s), name %s; UEFI firmware loads them "
                 "from this function", rom->n_images, kinds, names);
    return out;
}

const char *sp_rom_efi_subsystem_name(uint16_t subsystem)
{
    switch (subsystem) {
    case SP_EFI_SUBSYSTEM_APPLICATION: return "application";
    case SP_EFI_SUBSYSTEM_BOOT_DRIVER: return "boot service driver";
    case SP_EFI_SUBSYSTEM_RUNTIME_DRIVER: return "runtime driver";
    default: return "unknown";
    }
}

const char *sp_rom_efi_machine_name(uint16_t machine)
{
    switch (machine) {
    case SP_EFI_MACHINE_IA32: return "IA-32";
    case 0x0200: return "Itanium";
    case SP_EFI_MACHINE_EBC: return "EBC";
    case SP_EFI_MACHINE_X64: return "x64";
    case 0x01c2: return "ARM";
    case SP_EFI_MACHINE_AARCH64: return "AArch64";
    case 0x5064: return "RISC-V 64";
    case 0x6264: return "LoongArch 64";
    default: return "unknown";
    }
}
