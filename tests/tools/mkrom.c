/* mkrom KIND OUT | mkrom all DIR (DIR/KIND.bin each) | mkrom for VVVV DDDD OUT:
 * writes the option ROMs and ACPI VFCT tables the rom tests read; "for" makes
 * a valid one-image x86 ROM (init entry a bare retf) for any vendor:device, as
 * the end-to-end guest needs for the device it passes. Standalone: it links
 * no project object, so a fixture never depends on the code it tests. Never
 * reads any file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "le_put.h"

#define BLOCK 512u
#define PCIR_AT_X86 0x80
#define DEVLIST_AT_X86 0xa0
#define ATOM_HEADER_AT 0x100
#define PCIR_AT_EFI 0x1c
#define EFI_IMAGE_AT 0x40
#define VFCT_HEADER_LEN 76
#define VFCT_ENTRY_HEADER_LEN 28

struct out {
    uint8_t *p;
    size_t len, cap;
};

struct image_spec {
    uint16_t vendor, device;
    uint32_t class_code;
    uint8_t code_type; /* 0 x86, 3 EFI */
    int last;
    unsigned blocks;
    const uint16_t *device_list; /* 0-terminated, or NULL */
    int atom;
    int bad_checksum;
    uint16_t efi_machine; /* 0: x64 */
    int efi_compressed;
};

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* Appends n bytes (zeroed) and returns where they start. */
static uint8_t *grow(struct out *o, size_t n)
{
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n)
            cap *= 2;
        uint8_t *p = realloc(o->p, cap);
        if (!p)
            die("mkrom: realloc");
        o->p = p;
        o->cap = cap;
    }
    uint8_t *at = o->p + o->len;
    memset(at, 0, n);
    o->len += n;
    return at;
}

/* Filler that is neither zero nor a signature anywhere it matters. */
static void fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31 + 7);
}

static void put_pcir(uint8_t *img, size_t at, const struct image_spec *s, unsigned devlist_at)
{
    uint8_t *p = img + at;
    memset(p, 0, 0x1c);
    memcpy(p, "PCIR", 4);
    le_put16(p + 0x4, s->vendor);
    le_put16(p + 0x6, s->device);
    le_put16(p + 0x8, s->device_list ? devlist_at - (unsigned)at : 0);
    le_put16(p + 0xa, 0x1c);
    p[0xc] = 3;
    p[0xd] = (uint8_t)s->class_code;
    p[0xe] = (uint8_t)(s->class_code >> 8);
    p[0xf] = (uint8_t)(s->class_code >> 16);
    le_put16(p + 0x10, s->blocks);
    le_put16(p + 0x12, 0x0001);
    p[0x14] = s->code_type;
    p[0x15] = s->last ? 0x80 : 0x00;
    if (!s->device_list)
        return;
    size_t i = 0;
    for (; s->device_list[i]; i++)
        le_put16(img + devlist_at + 2 * i, s->device_list[i]);
    le_put16(img + devlist_at + 2 * i, 0);
}

/* The ATOM ROM header that the u16 at 0x48 points to: "ATOM" at +4. */
static void put_atom_header(uint8_t *img)
{
    le_put16(img + 0x48, ATOM_HEADER_AT);
    uint8_t *h = img + ATOM_HEADER_AT;
    memset(h, 0, 0x24);
    le_put16(h, 0x24);
    h[2] = 2;
    h[3] = 2;
    memcpy(h + 4, "ATOM", 4);
}

static void fix_checksum(uint8_t *img, size_t len, int bad)
{
    uint8_t sum = 0;
    img[len - 1] = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + img[i]);
    img[len - 1] = (uint8_t)(0x100 - sum + (bad ? 1 : 0));
}

static void put_x86(struct out *o, const struct image_spec *s)
{
    size_t len = (size_t)s->blocks * BLOCK;
    uint8_t *img = grow(o, len);
    fill(img, len);
    img[0] = 0x55;
    img[1] = 0xaa;
    img[2] = (uint8_t)s->blocks;
    img[3] = 0xcb; /* retf: an init entry that does nothing */
    le_put16(img + 0x18, PCIR_AT_X86);
    le_put16(img + 0x48, 0);
    put_pcir(img, PCIR_AT_X86, s, DEVLIST_AT_X86);
    if (s->atom)
        put_atom_header(img);
    fix_checksum(img, len, s->bad_checksum);
}

/* EFI header: init size u16 @2, 0x0EF1 @4, subsystem @8 (boot service
 * driver), machine @0xA (x64 unless given), compression @0xC (1: EFI
 * compressed, as tools that wrap a driver into a ROM write it by default),
 * image offset @0x16. */
static void put_efi(struct out *o, const struct image_spec *s)
{
    size_t len = (size_t)s->blocks * BLOCK;
    uint8_t *img = grow(o, len);
    fill(img, len);
    memset(img, 0, PCIR_AT_EFI);
    img[0] = 0x55;
    img[1] = 0xaa;
    le_put16(img + 0x2, s->blocks);
    le_put32(img + 0x4, 0x0EF1);
    le_put16(img + 0x8, 0x000b);
    le_put16(img + 0xa, s->efi_machine ? s->efi_machine : 0x8664);
    le_put16(img + 0xc, s->efi_compressed ? 0x0001 : 0x0000);
    le_put16(img + 0x16, EFI_IMAGE_AT);
    le_put16(img + 0x18, PCIR_AT_EFI);
    put_pcir(img, PCIR_AT_EFI, s, 0);
    memcpy(img + EFI_IMAGE_AT, "MZ", 2);
}

static const uint16_t cezanne_list[] = {0x1638, 0x15e7, 0};

static const struct image_spec amd_igpu = {
    .vendor = 0x1002, .device = 0x1638, .class_code = 0x030000, .code_type = 0,
    .last = 1, .blocks = 2, .atom = 1,
};
static const struct image_spec amd_dgpu = {
    .vendor = 0x1002, .device = 0x73bf, .class_code = 0x030000, .code_type = 0,
    .last = 1, .blocks = 2, .atom = 1,
};
static const struct image_spec intel_nic_efi = {
    .vendor = 0x8086, .device = 0x10fb, .class_code = 0x020000, .code_type = 3,
    .last = 1, .blocks = 2,
};
static const struct image_spec nvidia = {
    .vendor = 0x10de, .device = 0x1b80, .class_code = 0x030000, .code_type = 0,
    .last = 1, .blocks = 2,
};

/* The shapes of published AMD iGPU ROMs. A vBIOS as the board firmware
 * keeps it for an APU (and as a discrete card's ROM holds it): an x86 image
 * with the ATOM marker naming the GPU, then the GOP driver as an EFI image
 * naming the same IDs. A GOP driver ROM as passthrough guides ship it for
 * the HDMI audio function: one compressed x64 EFI boot service driver image
 * whose PCIR names IDs of neither function (here 03ea:0665; 1002:ffff and
 * the GPU's own IDs are seen too). */
static const struct image_spec amd_gop = {
    .vendor = 0x1002, .device = 0x1638, .class_code = 0x030000, .code_type = 3,
    .last = 1, .blocks = 2, .efi_compressed = 1,
};
static const struct image_spec gop_driver = {
    .vendor = 0x03ea, .device = 0x0665, .class_code = 0x030000, .code_type = 3,
    .last = 1, .blocks = 2, .efi_compressed = 1,
};

static void kind_apu_vbios_gop(struct out *o)
{
    struct image_spec first = amd_igpu;
    first.last = 0;
    put_x86(o, &first);
    put_efi(o, &amd_gop);
}

static void kind_gop_driver(struct out *o)
{
    put_efi(o, &gop_driver);
}

static void kind_legacy(struct out *o)
{
    put_x86(o, &amd_igpu);
}

static void kind_efi(struct out *o)
{
    put_efi(o, &intel_nic_efi);
}

static void kind_legacy_efi(struct out *o)
{
    struct image_spec first = amd_igpu;
    first.last = 0;
    put_x86(o, &first);
    put_efi(o, &intel_nic_efi);
}

static void kind_devlist(struct out *o)
{
    struct image_spec s = amd_igpu;
    s.device = 0x1636;
    s.device_list = cezanne_list;
    put_x86(o, &s);
}

static void kind_bad_checksum(struct out *o)
{
    struct image_spec s = amd_igpu;
    s.bad_checksum = 1;
    put_x86(o, &s);
}

static void kind_truncated_header(struct out *o)
{
    uint8_t *p = grow(o, 0x10);
    p[0] = 0x55;
    p[1] = 0xaa;
    p[2] = 2;
}

static void kind_truncated_image(struct out *o)
{
    put_x86(o, &amd_igpu);
    o->len = 0x300;
}

/* 33 one-block images, none with the last-image flag: past the 32 cap. */
static void kind_loop(struct out *o)
{
    struct image_spec s = amd_igpu;
    s.last = 0;
    s.blocks = 1;
    s.atom = 0;
    for (int i = 0; i < 33; i++)
        put_x86(o, &s);
}

static void kind_wrong_ids(struct out *o)
{
    put_x86(o, &nvidia);
}

struct gpu {
    unsigned bus, dev, fn;
    uint16_t subsystem_vendor, subsystem_device;
    const struct image_spec *image;
    uint32_t claimed_length; /* 0: the real one */
    size_t cut_to;           /* 0: the whole image */
};

/* The ACPI header and the VFCT fields; returns where the table starts. */
static size_t vfct_begin(struct out *o)
{
    size_t start = o->len;
    uint8_t *h = grow(o, VFCT_HEADER_LEN);
    memcpy(h, "VFCT", 4);
    h[8] = 1; /* revision */
    memcpy(h + 10, "SPTEST", 6);
    memcpy(h + 16, "SPVFCT  ", 8);
    le_put32(h + 24, 1);
    memcpy(h + 28, "SPMK", 4);
    le_put32(h + 32, 1);
    for (int i = 0; i < 16; i++)
        h[36 + i] = (uint8_t)(0xa0 + i);
    le_put32(h + 52, VFCT_HEADER_LEN);
    return start;
}

static void vfct_entry(struct out *o, const struct gpu *g)
{
    size_t at = o->len;
    grow(o, VFCT_ENTRY_HEADER_LEN);
    put_x86(o, g->image);
    size_t image_len = o->len - at - VFCT_ENTRY_HEADER_LEN;
    if (g->cut_to)
        o->len = at + VFCT_ENTRY_HEADER_LEN + g->cut_to;
    uint8_t *h = o->p + at;
    le_put32(h, g->bus);
    le_put32(h + 4, g->dev);
    le_put32(h + 8, g->fn);
    le_put16(h + 12, g->image->vendor);
    le_put16(h + 14, g->image->device);
    le_put16(h + 16, g->subsystem_vendor);
    le_put16(h + 18, g->subsystem_device);
    le_put32(h + 20, 0);
    le_put32(h + 24, g->claimed_length ? g->claimed_length : (uint32_t)image_len);
}

/* Length and ACPI checksum (all bytes of the table sum to 0). */
static void vfct_end(struct out *o, size_t start)
{
    uint8_t *t = o->p + start;
    size_t len = o->len - start;
    le_put32(t + 4, (uint32_t)len);
    t[9] = 0;
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + t[i]);
    t[9] = (uint8_t)(0x100 - sum);
}

static const struct gpu igpu_08 = {8, 0, 0, 0x1002, 0x0123, &amd_igpu, 0, 0};
static const struct gpu dgpu_03 = {3, 0, 0, 0x1002, 0x0e3a, &amd_dgpu, 0, 0};

static void kind_vfct_one(struct out *o)
{
    size_t t = vfct_begin(o);
    vfct_entry(o, &igpu_08);
    vfct_end(o, t);
}

static void kind_vfct_two(struct out *o)
{
    size_t t = vfct_begin(o);
    vfct_entry(o, &igpu_08);
    vfct_entry(o, &dgpu_03);
    vfct_end(o, t);
}

/* The second entry claims 0x400 image bytes; the table ends 0x100 later. */
static void kind_vfct_truncated(struct out *o)
{
    size_t t = vfct_begin(o);
    vfct_entry(o, &igpu_08);
    struct gpu cut = dgpu_03;
    cut.claimed_length = 0x400;
    cut.cut_to = 0x100;
    vfct_entry(o, &cut);
    vfct_end(o, t);
}

struct kind {
    const char *name;
    void (*build)(struct out *o);
};

static const struct kind kinds[] = {
    {"legacy", kind_legacy},
    {"efi", kind_efi},
    {"legacy-efi", kind_legacy_efi},
    {"devlist", kind_devlist},
    {"bad-checksum", kind_bad_checksum},
    {"truncated-header", kind_truncated_header},
    {"truncated-image", kind_truncated_image},
    {"loop", kind_loop},
    {"wrong-ids", kind_wrong_ids},
    {"apu-vbios-gop", kind_apu_vbios_gop},
    {"gop-driver", kind_gop_driver},
    {"vfct-one", kind_vfct_one},
    {"vfct-two", kind_vfct_two},
    {"vfct-truncated", kind_vfct_truncated},
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

static void write_out(struct out *o, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        die(path);
    if (fwrite(o->p, 1, o->len, f) != o->len || fclose(f) != 0)
        die(path);
    free(o->p);
}

static void write_kind(const struct kind *k, const char *path)
{
    struct out o = {NULL, 0, 0};
    k->build(&o);
    write_out(&o, path);
}

static int usage(void)
{
    fprintf(stderr, "usage: mkrom KIND OUT | mkrom all DIR | mkrom for VVVV DDDD OUT\nkinds:");
    for (size_t i = 0; i < N_KINDS; i++)
        fprintf(stderr, " %s", kinds[i].name);
    fputc('\n', stderr);
    return 2;
}

static int write_all(const char *dir)
{
    for (size_t i = 0; i < N_KINDS; i++) {
        char path[4096];
        if (snprintf(path, sizeof(path), "%s/%s.bin", dir, kinds[i].name) >= (int)sizeof(path))
            return usage();
        write_kind(&kinds[i], path);
    }
    return 0;
}

/* A hex ID of one to four digits, or -1. */
static long parse_id(const char *text)
{
    char *end = NULL;
    long v = strtol(text, &end, 16);
    return *text && !*end && strlen(text) <= 4 && v >= 0 ? v : -1;
}

static int write_for_ids(const char *vendor, const char *device, const char *path)
{
    long v = parse_id(vendor), d = parse_id(device);
    if (v < 0 || d < 0) {
        fprintf(stderr, "mkrom: '%s' '%s' are not hex vendor and device IDs\n", vendor, device);
        return 2;
    }
    struct image_spec s = {.vendor = (uint16_t)v, .device = (uint16_t)d,
                           .class_code = 0x020000, .last = 1, .blocks = 2};
    struct out o = {NULL, 0, 0};
    put_x86(&o, &s);
    write_out(&o, path);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "for") == 0)
        return write_for_ids(argv[2], argv[3], argv[4]);
    if (argc != 3)
        return usage();
    if (strcmp(argv[1], "all") == 0)
        return write_all(argv[2]);
    for (size_t i = 0; i < N_KINDS; i++) {
        if (strcmp(argv[1], kinds[i].name) == 0) {
            write_kind(&kinds[i], argv[2]);
            return 0;
        }
    }
    fprintf(stderr, "mkrom: unknown kind '%s'\n", argv[1]);
    return usage();
}
