/* synopassthru rom info|extract: what an option ROM holds and whether it fits a
 * device; saves a vBIOS from the ACPI VFCT table or a device's ROM. Owns the sysfs
 * ROM switch ("1", one read, "0" always) and the atomic output. Never edits config. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/json.h"
#include "../config/config.h"
#include "../pci/pci.h"
#include "../rom/rom.h"
#include "../rom/vfct.h"
#include "cli.h"

static const char rom_usage[] =
    "Usage: synopassthru [--config DIR] rom info FILE [--json] [--for ADDR]\n"
    "       synopassthru [--config DIR] rom extract --vfct [--for ADDR] [-o FILE] [--force]\n"
    "       synopassthru [--config DIR] rom extract --pci ADDR [-o FILE] [--force]\n"
    "info     lists the images of an option ROM; with --for, says whether it fits\n"
    "         the device at ADDR (exit 1 when it does not). A FILE without a '/'\n"
    "         that is not in the current directory is looked for in CONFIG/rom/,\n"
    "         as a snippet's rom= is\n"
    "extract  saves a vBIOS: --vfct from the ACPI VFCT table (AMD iGPUs), --pci\n"
    "         from the device's ROM; default output: CONFIG/rom/vbios_VVVV_DDDD.bin;\n"
    "         a file there with other bytes is kept unless --force (exit 1)\n";

/* How many distinct vendor:device names a verdict lists at most. */
#define MAX_NAMES 64
#define ROM_READ_CHUNK 65536

/* ---- command line ---- */

struct rom_args {
    const char *file;     /* info */
    int json;             /* info */
    const char *for_addr; /* info, extract --vfct */
    int vfct;             /* extract */
    const char *pci;      /* extract */
    const char *out;      /* extract */
    int force;            /* extract: replace a file with other bytes */
};

/* "--name VALUE" or "--name=VALUE": 1 taken, 0 not this option, -1 no value. */
static int take_value(int argc, char **argv, int *i, const char *name, const char **value,
                      const char *cmd)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (*i + 1 >= argc) {
        sp_cli_error("rom %s: %s needs a value", cmd, name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

/* 1 when argv[i] is a value option of this subcommand (stored), 0 when not,
 * -1 on a missing value. */
static int take_option(int argc, char **argv, int *i, int extract, struct rom_args *a)
{
    const char *cmd = extract ? "extract" : "info";
    int rc = take_value(argc, argv, i, "--for", &a->for_addr, cmd);
    if (rc != 0 || !extract)
        return rc;
    if ((rc = take_value(argc, argv, i, "--pci", &a->pci, cmd)) != 0)
        return rc;
    return take_value(argc, argv, i, "-o", &a->out, cmd);
}

/* 0 parsed, 1 help printed, -1 usage error (already reported). */
static int parse_args(int argc, char **argv, int extract, struct rom_args *a)
{
    const char *cmd = extract ? "extract" : "info";
    memset(a, 0, sizeof(*a));
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        int rc = take_option(argc, argv, &i, extract, a);
        if (rc < 0)
            return -1;
        if (rc > 0)
            continue;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(rom_usage, stdout);
            return 1;
        } else if (!extract && strcmp(arg, "--json") == 0) {
            a->json = 1;
        } else if (extract && strcmp(arg, "--vfct") == 0) {
            a->vfct = 1;
        } else if (extract && strcmp(arg, "--force") == 0) {
            a->force = 1;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            sp_cli_error("rom %s: unknown option '%s' (see synopassthru rom --help)", cmd, arg);
            return -1;
        } else if (extract || a->file) {
            sp_cli_error("rom %s: unexpected argument '%s'", cmd, arg);
            return -1;
        } else {
            a->file = arg;
        }
    }
    return 0;
}

static int check_info_args(const struct rom_args *a)
{
    if (!a->file) {
        sp_cli_error("rom info: which FILE? (synopassthru rom info FILE [--json] [--for ADDR])");
        return -1;
    }
    return 0;
}

static int check_extract_args(const struct rom_args *a)
{
    if (a->vfct == !!a->pci) {
        sp_cli_error("rom extract: give exactly one of --vfct and --pci ADDR");
        return -1;
    }
    if (a->pci && a->for_addr) {
        sp_cli_error("rom extract: --for goes with --vfct; --pci names the device itself");
        return -1;
    }
    return 0;
}

static int parse_addr(const char *cmd, const char *text, struct sp_pci_addr *addr)
{
    struct sp_err err;
    if (sp_pci_addr_parse(text, addr, &err) < 0) {
        sp_cli_error("rom %s: %s", cmd, err.msg);
        return -1;
    }
    return 0;
}

/* ---- names ---- */

static const char *efi_compression_name(uint16_t v)
{
    return v == 0 ? "none" : v == 1 ? "EFI compressed" : "unknown";
}

/* "ok", "BAD" or "n/a" (not a legacy image). */
static const char *checksum_state(const struct sp_rom_image *img)
{
    return !img->has_checksum ? "n/a" : img->checksum_ok ? "ok" : "BAD";
}

/* ---- the verdict of rom info --for ---- */

struct verdict {
    char addr[SP_PCI_ADDR_STRLEN];
    struct sp_pci_ids ids;
    enum sp_rom_fit fit;
    int fits;
    char note[SP_ERR_MAX];     /* SP_ROM_EFI_DRIVER: what the ROM is; else "" */
    char reason[SP_ERR_MAX];   /* not fitting: "images name ..." */
    uint32_t names[MAX_NAMES]; /* vendor << 16 | device, in image order */
    size_t n_names;            /* the JSON lists at most MAX_NAMES */
};

static void add_name(struct verdict *v, uint16_t vendor, uint16_t device)
{
    uint32_t id = (uint32_t)vendor << 16 | device;
    for (size_t i = 0; i < v->n_names; i++)
        if (v->names[i] == id)
            return;
    if (v->n_names < MAX_NAMES)
        v->names[v->n_names++] = id;
}

static void judge(const struct sp_rom *rom, const struct sp_pci_addr *addr,
                  const struct sp_pci_ids *ids, struct verdict *v)
{
    memset(v, 0, sizeof(*v));
    sp_pci_addr_format(addr, v->addr);
    v->ids = *ids;
    v->fit = sp_rom_fit(rom, ids->vendor, ids->device);
    v->fits = v->fit == SP_ROM_FITS || v->fit == SP_ROM_EFI_DRIVER;
    if (v->fit == SP_ROM_EFI_DRIVER)
        sp_rom_efi_driver_note(rom, v->note, sizeof(v->note));
    if (!v->fits) {
        int x86 = v->fit == SP_ROM_X86_OTHER;
        char names[SP_ERR_MAX - 32];
        size_t n = sp_rom_names(rom, x86, names, sizeof(names));
        snprintf(v->reason, sizeof(v->reason), "%s %s",
                 !x86 ? "images name" : n == 1 ? "its x86 image names" : "its x86 images name",
                 names);
    }
    for (size_t i = 0; i < rom->n_images; i++) {
        const struct sp_rom_image *img = &rom->images[i];
        add_name(v, img->vendor, img->device);
        for (size_t j = 0; j < img->n_device_list; j++)
            add_name(v, img->vendor, img->device_list[j]);
    }
}

/* ---- rom info: text ---- */

static void print_device_list(const struct sp_rom_image *img)
{
    printf("  device list    ");
    if (img->n_device_list == 0)
        fputs("-", stdout);
    for (size_t i = 0; i < img->n_device_list; i++)
        printf("%s%04x:%04x", i ? ", " : "", img->vendor, img->device_list[i]);
    putchar('\n');
}

static void print_efi(const struct sp_rom_image *img)
{
    if (img->code_type != SP_ROM_CODE_EFI)
        return;
    if (!img->efi) {
        printf("  EFI header     missing (no 0x0EF1 signature)\n");
        return;
    }
    printf("  EFI header     subsystem 0x%04x (%s), machine 0x%04x (%s), "
           "compression 0x%04x (%s)\n", img->efi_subsystem,
           sp_rom_efi_subsystem_name(img->efi_subsystem), img->efi_machine,
           sp_rom_efi_machine_name(img->efi_machine), img->efi_compression,
           efi_compression_name(img->efi_compression));
}

static void print_image(size_t index, const struct sp_rom_image *img)
{
    char type[32];
    printf("image %zu at 0x%zx:\n", index, img->offset);
    printf("  length         0x%zx (%zu bytes)\n", img->length, img->length);
    printf("  vendor:device  %04x:%04x\n", img->vendor, img->device);
    print_device_list(img);
    printf("  class code     0x%06x\n", (unsigned)img->class_code);
    printf("  code type      %s\n", sp_rom_code_type_name(img->code_type, type, sizeof(type)));
    printf("  last image     %s\n", img->last ? "yes" : "no");
    printf("  PCIR           at 0x%zx, revision %u\n", img->pcir_offset, img->pcir_revision);
    printf("  checksum       %s\n", checksum_state(img));
    print_efi(img);
    printf("  ATOM BIOS      %s\n", img->atom ? "yes" : "no");
}

static void print_verdict(const struct verdict *v)
{
    if (v->fits) {
        printf("verdict: fits %s (%04x:%04x)%s%s\n", v->addr, v->ids.vendor, v->ids.device,
               v->note[0] ? ": " : "", v->note);
        return;
    }
    printf("verdict: does NOT fit %s (%04x:%04x): %s\n", v->addr, v->ids.vendor, v->ids.device,
           v->reason);
}

static int print_text(const char *file, const struct sp_rom *rom, const struct verdict *v)
{
    printf("%s: %zu image%s\n", file, rom->n_images, rom->n_images == 1 ? "" : "s");
    for (size_t i = 0; i < rom->n_images; i++)
        print_image(i, &rom->images[i]);
    if (v)
        print_verdict(v);
    return fflush(stdout) == 0 ? 0 : -1;
}

/* ---- rom info: JSON ---- */

/* value as `digits` lower-case hex digits, in text. */
static const char *hex(char *text, size_t size, unsigned value, int digits)
{
    snprintf(text, size, "%0*x", digits, value);
    return text;
}

static void put_hex(struct sp_json *j, const char *key, unsigned value, int digits)
{
    char text[16];
    sp_json_member_str(j, key, hex(text, sizeof(text), value, digits));
}

static void put_device_list(struct sp_json *j, const struct sp_rom_image *img)
{
    char text[16];
    sp_json_key(j, "device_list");
    sp_json_begin_array(j);
    for (size_t i = 0; i < img->n_device_list; i++)
        sp_json_string(j, hex(text, sizeof(text), img->device_list[i], 4));
    sp_json_end_array(j);
}

static void put_efi(struct sp_json *j, const struct sp_rom_image *img)
{
    sp_json_key(j, "efi");
    if (!img->efi) {
        sp_json_null(j);
        return;
    }
    sp_json_begin_object(j);
    put_hex(j, "subsystem", img->efi_subsystem, 4);
    put_hex(j, "machine", img->efi_machine, 4);
    put_hex(j, "compression", img->efi_compression, 4);
    sp_json_end_object(j);
}

static void put_image(struct sp_json *j, const struct sp_rom_image *img)
{
    char type[32];
    sp_json_begin_object(j);
    sp_json_member_int(j, "offset", (long long)img->offset);
    sp_json_member_int(j, "length", (long long)img->length);
    put_hex(j, "vendor", img->vendor, 4);
    put_hex(j, "device", img->device, 4);
    put_device_list(j, img);
    put_hex(j, "class_code", img->class_code, 6);
    sp_json_member_str(j, "code_type", sp_rom_code_type_name(img->code_type, type, sizeof(type)));
    sp_json_member_bool(j, "last", img->last);
    sp_json_member_int(j, "pcir_offset", (long long)img->pcir_offset);
    sp_json_member_int(j, "pcir_revision", img->pcir_revision);
    sp_json_member_str(j, "checksum", !img->has_checksum ? NULL : img->checksum_ok ? "ok" : "bad");
    put_efi(j, img);
    sp_json_member_bool(j, "atom", img->atom);
    sp_json_end_object(j);
}

/* The rule a verdict was made on, as README's ROM section names it. */
static const char *fit_rule(enum sp_rom_fit fit)
{
    switch (fit) {
    case SP_ROM_FITS: return "names the device";
    case SP_ROM_EFI_DRIVER: return "EFI drivers only";
    case SP_ROM_X86_OTHER: return "x86 image of another device";
    default: return "another device";
    }
}

static void put_verdict(struct sp_json *j, const struct verdict *v)
{
    sp_json_key(j, "verdict");
    sp_json_begin_object(j);
    sp_json_member_str(j, "address", v->addr);
    put_hex(j, "vendor", v->ids.vendor, 4);
    put_hex(j, "device", v->ids.device, 4);
    sp_json_member_bool(j, "fits", v->fits);
    sp_json_member_str(j, "rule", fit_rule(v->fit));
    sp_json_member_str(j, "note", v->note[0] ? v->note : NULL);
    sp_json_member_str(j, "reason", v->reason[0] ? v->reason : NULL);
    sp_json_key(j, "images_name");
    sp_json_begin_array(j);
    for (size_t i = 0; i < v->n_names; i++) {
        char text[16];
        snprintf(text, sizeof(text), "%04x:%04x", v->names[i] >> 16, v->names[i] & 0xffff);
        sp_json_string(j, text);
    }
    sp_json_end_array(j);
    sp_json_end_object(j);
}

static int print_json(const char *file, const struct sp_rom *rom, const struct verdict *v)
{
    struct sp_json j;
    sp_cli_json_begin(&j);
    sp_json_member_str(&j, "file", file);
    sp_json_key(&j, "images");
    sp_json_begin_array(&j);
    for (size_t i = 0; i < rom->n_images; i++)
        put_image(&j, &rom->images[i]);
    sp_json_end_array(&j);
    if (v)
        put_verdict(&j, v);
    sp_json_end_object(&j);
    return sp_json_print(&j, stdout);
}

/* ---- rom info ---- */

/* Reads the IDs of the device named by --for. */
static int read_for_ids(const char *cmd, const struct sp_pci_addr *addr, struct sp_pci_ids *ids)
{
    struct sp_err err;
    if (sp_pci_read_ids(sp_pci_sysfs_root(NULL), addr, ids, &err) < 0) {
        sp_cli_error("rom %s: %s", cmd, err.msg);
        return -1;
    }
    return 0;
}

static int show_rom(const struct rom_args *a, const struct sp_rom *rom,
                    const struct sp_pci_addr *addr, const struct sp_pci_ids *ids)
{
    struct verdict v;
    if (addr)
        judge(rom, addr, ids, &v);
    int rc = a->json ? print_json(a->file, rom, addr ? &v : NULL)
                     : print_text(a->file, rom, addr ? &v : NULL);
    if (rc < 0) {
        sp_cli_error("rom info: cannot write the output");
        return SP_EXIT_INTERNAL;
    }
    return addr && !v.fits ? SP_EXIT_REFUSED : SP_EXIT_OK;
}

static char *configured_rom_dir(const struct sp_cli_opts *opts);

/* FILE as given, or, for a bare name not in the current directory, the
 * one in the config's rom dir (where a snippet's rom= would find it). */
static char *info_path(const struct sp_cli_opts *opts, const char *file)
{
    struct stat st;
    if (strchr(file, '/') || lstat(file, &st) == 0)
        return strdup(file);
    char *dir = configured_rom_dir(opts);
    char *in_dir = dir ? sp_path_join(dir, file) : NULL;
    free(dir);
    if (in_dir && lstat(in_dir, &st) == 0)
        return in_dir;
    free(in_dir);
    return strdup(file);
}

static int cmd_info(const struct sp_cli_opts *opts, int argc, char **argv)
{
    struct rom_args a;
    int parsed = parse_args(argc, argv, 0, &a);
    if (parsed != 0)
        return parsed > 0 ? SP_EXIT_OK : SP_EXIT_USAGE;
    struct sp_pci_addr addr;
    if (check_info_args(&a) < 0 || (a.for_addr && parse_addr("info", a.for_addr, &addr) < 0))
        return SP_EXIT_USAGE;
    char *path = info_path(opts, a.file);
    if (!path) {
        sp_cli_error("rom info: out of memory");
        return SP_EXIT_INTERNAL;
    }
    a.file = path;
    struct sp_err err;
    struct sp_rom rom;
    if (sp_rom_load(a.file, &rom, &err) < 0) {
        sp_cli_error("rom info: %s", err.msg);
        free(path);
        return SP_EXIT_INPUT;
    }
    struct sp_pci_ids ids;
    int code = SP_EXIT_INPUT;
    if (!a.for_addr || read_for_ids("info", &addr, &ids) == 0)
        code = show_rom(&a, &rom, a.for_addr ? &addr : NULL, &ids);
    sp_rom_free(&rom);
    free(path);
    return code;
}

/* ---- rom extract: the output file ---- */


/* The config's rom_dir: where snippets' relative rom= names are looked up. */
static char *configured_rom_dir(const struct sp_cli_opts *opts)
{
    struct sp_config *cfg = sp_config_new(sp_config_dir_choose(opts->config_dir));
    struct sp_snapshot *snap = NULL;
    struct sp_err ignored;
    char *dir = NULL;
    if (cfg && sp_config_snapshot(cfg, &snap, &ignored) == 0)
        dir = strdup(snap->settings.rom_dir);
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    return dir;
}

/* -o FILE, else ROM_DIR/vbios_VVVV_DDDD.bin; the rom dir must exist. */
static char *output_path(const struct sp_cli_opts *opts, const char *explicit_out,
                         const struct sp_rom_image *first, struct sp_err *err)
{
    if (explicit_out)
        return strdup(explicit_out);
    char *dir = configured_rom_dir(opts);
    if (!dir)
        return NULL;
    struct stat st;
    const char *why = stat(dir, &st) < 0 ? strerror(errno)
                      : !S_ISDIR(st.st_mode) ? "not a directory" : NULL;
    if (why) {
        sp_err_set(err, "ROM dir %s: %s (create it, or give -o FILE)", dir, why);
        free(dir);
        return NULL;
    }
    char *path = NULL;
    if (asprintf(&path, "%s/vbios_%04x_%04x.bin", dir, first->vendor, first->device) < 0)
        path = NULL;
    free(dir);
    return path;
}

/* 1 when path exists and is not exactly buf (a file of the same bytes is
 * written again, which changes nothing). */
static int keeps_other_bytes(const char *path, const uint8_t *buf, size_t len)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    char *old = NULL;
    size_t old_len = 0;
    int same = S_ISREG(st.st_mode) &&
               sp_read_file(path, SP_ROM_MAX_BYTES, &old, &old_len, NULL) == 0 &&
               old_len == len && memcmp(old, buf, len) == 0;
    free(old);
    return !same;
}

static int save_image(const struct sp_cli_opts *opts, const struct rom_args *a,
                      const struct sp_rom *rom, const uint8_t *buf, size_t len)
{
    struct sp_err err;
    snprintf(err.msg, sizeof(err.msg), "out of memory");
    char *path = output_path(opts, a->out, &rom->images[0], &err);
    int kept = path && !a->force ? keeps_other_bytes(path, buf, len) : 0;
    if (kept) {
        sp_cli_error("rom extract: %s is there with other bytes; it is kept (--force replaces "
                     "it)", path);
        free(path);
        return SP_EXIT_REFUSED;
    }
    if (!path || sp_write_file_atomic(path, buf, len, 0644, &err) < 0) {
        sp_cli_error("rom extract: %s", err.msg);
        free(path);
        return SP_EXIT_INTERNAL;
    }
    printf("%s\n", path);
    free(path);
    return fflush(stdout) == 0 ? SP_EXIT_OK : SP_EXIT_INTERNAL;
}

/* ---- rom extract --vfct ---- */

static void format_entry(const struct sp_vfct_entry *e, char *buf, size_t size)
{
    snprintf(buf, size, "%02x:%02x.%x (%04x:%04x)", (unsigned)e->bus, (unsigned)e->device,
             (unsigned)e->function, e->vendor_id, e->device_id);
}

/* "08:00.0 (1002:1638), 03:00.0 (1002:73bf)" into buf. */
static void list_entries(const struct sp_vfct *v, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < v->n_entries && used < size; i++) {
        char one[64];
        format_entry(&v->entries[i], one, sizeof(one));
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", one);
        used += n > 0 ? (size_t)n : 0;
    }
}

static int entry_is(const struct sp_vfct_entry *e, const struct sp_pci_addr *addr)
{
    /* VFCT has no PCI domain; amdgpu matches bus/device/function only. */
    return e->bus == addr->bus && e->device == addr->slot && e->function == addr->function;
}

/* The entry for addr, or without addr the only one. Returns an exit code. */
static int pick_entry(const struct sp_vfct *v, const char *path, const struct sp_pci_addr *addr,
                      const struct sp_vfct_entry **out)
{
    char all[512];
    list_entries(v, all, sizeof(all));
    if (v->n_entries == 0) {
        sp_cli_error("rom extract: %s has no image entries", path);
        return SP_EXIT_INPUT;
    }
    if (!addr && v->n_entries > 1) {
        sp_cli_error("rom extract: %s has %zu entries: %s; choose one with --for ADDR", path,
                     v->n_entries, all);
        return SP_EXIT_USAGE;
    }
    for (size_t i = 0; i < v->n_entries; i++) {
        if (!addr || entry_is(&v->entries[i], addr)) {
            *out = &v->entries[i];
            return SP_EXIT_OK;
        }
    }
    char name[SP_PCI_ADDR_STRLEN];
    sp_pci_addr_format(addr, name);
    sp_cli_error("rom extract: %s has no entry for %s (entries: %s)", path, name, all);
    return SP_EXIT_INPUT;
}

/* --for: the device at that address must carry the entry's IDs, as amdgpu
 * requires before it uses an entry. */
static int check_entry_device(const struct sp_vfct_entry *e, const struct sp_pci_addr *addr)
{
    struct sp_pci_ids ids;
    if (read_for_ids("extract", addr, &ids) < 0)
        return SP_EXIT_INPUT;
    if (ids.vendor == e->vendor_id && ids.device == e->device_id)
        return SP_EXIT_OK;
    char name[SP_PCI_ADDR_STRLEN];
    sp_pci_addr_format(addr, name);
    sp_cli_error("rom extract: the VFCT entry for %s names %04x:%04x, but that device is "
                 "%04x:%04x", name, e->vendor_id, e->device_id, ids.vendor, ids.device);
    return SP_EXIT_REFUSED;
}

/* What amdgpu checks (0x55AA, the ATOM marker) plus the whole image chain. */
static int check_vbios(const struct sp_vfct_entry *e, const char *path, struct sp_rom *rom)
{
    char what[64];
    format_entry(e, what, sizeof(what));
    if (e->image_length < 2 || e->image[0] != 0x55 || e->image[1] != 0xaa) {
        sp_cli_error("rom extract: %s: entry %s at 0x%zx: the image does not begin with 0x55AA",
                     path, what, e->offset);
        return SP_EXIT_INPUT;
    }
    struct sp_err err;
    if (sp_rom_parse(e->image, e->image_length, rom, &err) < 0) {
        sp_cli_error("rom extract: %s: entry %s at 0x%zx: image %s", path, what, e->offset,
                     err.msg);
        return SP_EXIT_INPUT;
    }
    if (!rom->images[0].atom) {
        sp_cli_error("rom extract: %s: entry %s at 0x%zx: no ATOM BIOS marker, not an AMD "
                     "vBIOS", path, what, e->offset);
        sp_rom_free(rom);
        return SP_EXIT_INPUT;
    }
    return SP_EXIT_OK;
}

static int extract_entry(const struct sp_cli_opts *opts, const struct rom_args *a,
                         const struct sp_vfct *v, const char *path)
{
    struct sp_pci_addr addr;
    if (a->for_addr && parse_addr("extract", a->for_addr, &addr) < 0)
        return SP_EXIT_USAGE;
    const struct sp_vfct_entry *e = NULL;
    int code = pick_entry(v, path, a->for_addr ? &addr : NULL, &e);
    if (code == SP_EXIT_OK && a->for_addr)
        code = check_entry_device(e, &addr);
    struct sp_rom rom;
    if (code == SP_EXIT_OK && (code = check_vbios(e, path, &rom)) == SP_EXIT_OK) {
        code = save_image(opts, a, &rom, e->image, e->image_length);
        sp_rom_free(&rom);
    }
    return code;
}

static int extract_vfct(const struct sp_cli_opts *opts, const struct rom_args *a)
{
    char path[SP_PATH_MAX];
    if (sp_path_fmt(path, sizeof(path), "%s/firmware/acpi/tables/VFCT",
                    sp_pci_sysfs_root(NULL)) < 0) {
        sp_cli_error("rom extract: the sysfs root's path is too long");
        return SP_EXIT_INPUT;
    }
    struct sp_err err;
    char *buf = NULL;
    size_t len = 0;
    struct sp_vfct v;
    int code = SP_EXIT_INPUT;
    struct stat st;
    if (stat(path, &st) < 0 && errno == ENOENT)
        sp_cli_error("rom extract: no VFCT table at %s: the firmware left no vBIOS copy there "
                     "(AMD firmware does, for an iGPU)", path);
    else if (sp_read_file(path, SP_ROM_MAX_BYTES, &buf, &len, &err) < 0)
        sp_cli_error("rom extract: %s", err.msg);
    else if (sp_vfct_parse((const uint8_t *)buf, len, &v, &err) < 0)
        sp_cli_error("rom extract: %s: %s", path, err.msg);
    else {
        code = extract_entry(opts, a, &v, path);
        sp_vfct_free(&v);
    }
    free(buf);
    return code;
}

/* ---- rom extract --pci: the sysfs ROM switch ----
 * The kernel's ROM attribute reads only while enabled: writing "1\n"
 * enables it, "0\n" (exactly these two bytes at offset 0) disables it, and
 * neither changes what reads return. So: open, write "1\n", close; open,
 * read to EOF, close; open, write "0\n", close -- `echo 1 > rom; cat rom;
 * echo 0 > rom`. Each open starts at offset 0 and nothing is truncated or
 * created. The file type is not checked (sysfs attributes are regular
 * files; the test suite stands in for the kernel with a FIFO). */

static int rom_switch(const char *path, const char *value, struct sp_err *err)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return sp_err_set(err, "%s: cannot write %c to it: %s", path, value[0],
                          strerror(errno));
    ssize_t n;
    do
        n = write(fd, value, 2);
    while (n < 0 && errno == EINTR);
    int saved = errno;
    if (close(fd) < 0 && n == 2) {
        n = -1;
        saved = errno;
    }
    if (n != 2)
        return sp_err_set(err, "%s: cannot write %c to it: %s", path, value[0],
                          n < 0 ? strerror(saved) : "short write");
    return 0;
}

/* Reads to EOF, at most SP_ROM_MAX_BYTES (one byte more is an error). */
static int read_fd_all(int fd, const char *path, uint8_t **out, size_t *len, struct sp_err *err)
{
    size_t cap = 0, used = 0;
    uint8_t *buf = NULL;
    for (;;) {
        if (used > SP_ROM_MAX_BYTES) {
            free(buf);
            return sp_err_set(err, "%s: more than %u MiB, larger than any option ROM", path,
                              SP_ROM_MAX_BYTES >> 20);
        }
        if (used == cap) {
            size_t ncap = cap ? cap * 2 : ROM_READ_CHUNK;
            ncap = ncap > SP_ROM_MAX_BYTES + 1 ? SP_ROM_MAX_BYTES + 1 : ncap;
            uint8_t *bigger = realloc(buf, ncap);
            if (!bigger) {
                free(buf);
                return sp_err_set(err, "%s: out of memory", path);
            }
            buf = bigger;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + used, cap - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            free(buf);
            return sp_err_set(err, "%s: %s%s", path, strerror(saved),
                              saved == EIO ? " (the device shows no ROM; for an AMD iGPU "
                                             "use --vfct)" : "");
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    *out = buf;
    *len = used;
    return 0;
}

static int read_rom_file(const char *path, uint8_t **out, size_t *len, struct sp_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return sp_err_set(err, "%s: %s", path, strerror(errno));
    int rc = read_fd_all(fd, path, out, len, err);
    close(fd);
    return rc;
}

/* "1", read, and "0" whatever happened to the read. */
static int read_rom_bar(const char *path, uint8_t **out, size_t *len, struct sp_err *err)
{
    if (rom_switch(path, "1\n", err) < 0)
        return -1;
    int rc = read_rom_file(path, out, len, err);
    struct sp_err off_err;
    if (rom_switch(path, "0\n", &off_err) < 0 && rc == 0) {
        free(*out);
        *out = NULL;
        *err = off_err;
        rc = -1;
    }
    return rc;
}

/* The device must exist and have a ROM attribute; returns an exit code. */
static int check_pci_device(const struct sp_pci_addr *addr, const char *path,
                            struct sp_pci_ids *ids)
{
    if (read_for_ids("extract", addr, ids) < 0)
        return SP_EXIT_INPUT;
    struct stat st;
    if (stat(path, &st) < 0) {
        sp_cli_error("rom extract: %s: %s (the device has no ROM BAR)", path, strerror(errno));
        return SP_EXIT_INPUT;
    }
    return SP_EXIT_OK;
}

static int validate_pci_rom(const char *path, const uint8_t *buf, size_t len,
                            const struct sp_pci_ids *ids, struct sp_rom *rom)
{
    struct sp_err err;
    if (sp_rom_parse(buf, len, rom, &err) < 0) {
        sp_cli_error("rom extract: %s: %s", path, err.msg);
        return SP_EXIT_INPUT;
    }
    if (sp_rom_matches(rom, ids->vendor, ids->device))
        return SP_EXIT_OK;
    sp_cli_error("rom extract: %s: the ROM names %04x:%04x, not the device's %04x:%04x", path,
                 rom->images[0].vendor, rom->images[0].device, ids->vendor, ids->device);
    sp_rom_free(rom);
    return SP_EXIT_REFUSED;
}

static int extract_pci(const struct sp_cli_opts *opts, const struct rom_args *a)
{
    struct sp_pci_addr addr;
    if (parse_addr("extract", a->pci, &addr) < 0)
        return SP_EXIT_USAGE;
    char path[SP_PATH_MAX];
    struct sp_err err;
    if (sp_pci_device_path(sp_pci_sysfs_root(NULL), &addr, "rom", path, sizeof(path), &err) < 0) {
        sp_cli_error("rom extract: %s", err.msg);
        return SP_EXIT_INPUT;
    }
    struct sp_pci_ids ids;
    int code = check_pci_device(&addr, path, &ids);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (code == SP_EXIT_OK && read_rom_bar(path, &buf, &len, &err) < 0) {
        sp_cli_error("rom extract: %s", err.msg);
        code = SP_EXIT_INPUT;
    }
    struct sp_rom rom;
    if (code == SP_EXIT_OK && (code = validate_pci_rom(path, buf, len, &ids, &rom)) == 0) {
        code = save_image(opts, a, &rom, buf, len);
        sp_rom_free(&rom);
    }
    free(buf);
    return code;
}

static int cmd_extract(const struct sp_cli_opts *opts, int argc, char **argv)
{
    struct rom_args a;
    int parsed = parse_args(argc, argv, 1, &a);
    if (parsed != 0)
        return parsed > 0 ? SP_EXIT_OK : SP_EXIT_USAGE;
    if (check_extract_args(&a) < 0)
        return SP_EXIT_USAGE;
    return a.vfct ? extract_vfct(opts, &a) : extract_pci(opts, &a);
}

int sp_cmd_rom(const struct sp_cli_opts *opts)
{
    const char *sub = opts->argc > 0 ? opts->argv[0] : NULL;
    if (sub && (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0)) {
        fputs(rom_usage, stdout);
        return SP_EXIT_OK;
    }
    if (sub && strcmp(sub, "info") == 0)
        return cmd_info(opts, opts->argc - 1, opts->argv + 1);
    if (sub && strcmp(sub, "extract") == 0)
        return cmd_extract(opts, opts->argc - 1, opts->argv + 1);
    if (sub)
        sp_cli_error("rom: unknown subcommand '%s' (expected info or extract; see "
                     "synopassthru rom --help)", sub);
    else
        sp_cli_error("rom: expected a subcommand, info or extract (see synopassthru rom --help)");
    return SP_EXIT_USAGE;
}
