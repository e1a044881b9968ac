#include "start.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/xmlutil.h"
#include "../pci/reset.h"
#include "../rom/rom.h"
#include "../xmlpatch/edits.h"

/* Collects device problems: every one is listed, not just the first. */
struct problems {
    struct sp_err *err;
    size_t count;
};

static void add_problem(struct problems *pr, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_problem(struct problems *pr, const char *fmt, ...)
{
    char text[SP_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    size_t used = pr->count ? strlen(pr->err->msg) : 0;
    snprintf(pr->err->msg + used, sizeof(pr->err->msg) - used, "%s%s", pr->count ? "; " : "",
             text);
    pr->count++;
}

static const char *sysfs_root(const struct sp_start *st)
{
    return sp_pci_sysfs_root(st->snap->settings.sysfs_root);
}

/* --- finding the VM's entries ------------------------------------------- */

static const char *first_entry_error(const struct sp_start *st)
{
    for (size_t i = 0; i < st->n_entries; i++)
        if (st->entries[i]->error)
            return st->entries[i]->error;
    return NULL;
}

/* --- resolving device specs --------------------------------------------- */

static struct sp_resolved_dev *new_dev(struct sp_start *st, const struct sp_dev_spec *spec)
{
    struct sp_resolved_dev *grown = realloc(st->devs, (st->n_devs + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    st->devs = grown;
    struct sp_resolved_dev *d = &st->devs[st->n_devs++];
    memset(d, 0, sizeof(*d));
    d->raw_xml = spec->raw_xml;
    d->bind = spec->bind;
    d->release = spec->release;
    d->allow_host_use = spec->allow_host_use;
    d->rom_bar_off = spec->rom_bar_off;
    d->file = spec->file;
    d->line = spec->line;
    return d;
}

static int set_rom_path(struct sp_start *st, struct sp_resolved_dev *d, const char *rom)
{
    if (!rom)
        return 0;
    d->rom = rom[0] == '/' ? strdup(rom) : sp_path_join(st->snap->settings.rom_dir, rom);
    return d->rom ? 0 : -1;
}

static void check_subsystem(struct sp_start *st, const struct sp_resolved_dev *d,
                            const struct sp_dev_spec *spec, struct problems *pr)
{
    struct sp_pci_ids sub;
    struct sp_err e;
    char name[SP_PCI_ADDR_STRLEN];
    sp_pci_addr_format(&d->addr, name);
    if (sp_pci_read_subsystem_ids(sysfs_root(st), &d->addr, &sub, &e) < 0)
        add_problem(pr, "device %s: cannot read its subsystem IDs: %s", name, e.msg);
    else if (sub.vendor != spec->subsys.vendor || sub.device != spec->subsys.device)
        add_problem(pr, "device %s has subsystem %04x:%04x, but %s:%d expects %04x:%04x", name,
                    sub.vendor, sub.device, spec->file, spec->line, spec->subsys.vendor,
                    spec->subsys.device);
}

/* Checks that the device is there and, when the snippet gives IDs, that
 * they match: after a hardware change an address may hold another device. */
static void check_device(struct sp_start *st, struct sp_resolved_dev *d,
                         const struct sp_dev_spec *spec, struct problems *pr)
{
    struct sp_err e;
    struct sp_pci_ids found;
    if (sp_pci_read_ids(sysfs_root(st), &d->addr, &found, &e) < 0) {
        add_problem(pr, "%s (%s:%d)", e.msg, spec->file, spec->line);
        return;
    }
    d->has_ids = 1;
    d->ids = found;
    if (spec->has_subsys)
        check_subsystem(st, d, spec, pr);
    if (spec->has_ids && (found.vendor != spec->ids.vendor || found.device != spec->ids.device)) {
        char name[SP_PCI_ADDR_STRLEN];
        sp_pci_addr_format(&d->addr, name);
        add_problem(pr, "device %s is %04x:%04x, but %s:%d expects %04x:%04x", name,
                    found.vendor, found.device, spec->file, spec->line, spec->ids.vendor,
                    spec->ids.device);
    }
}

/* Class codes: base class in the top byte, subclass below it. */
#define CLASS_BASE(c) ((c) >> 16)
#define CLASS_DISPLAY 0x03
#define CLASS_SUB(c) ((c) >> 8)
#define CLASS_AUDIO_DEVICE 0x0401
#define CLASS_HD_AUDIO 0x0403

struct function_facts {
    struct sp_pci_ids ids;
    uint32_t class_code;
    int group;
};

static int read_facts(const char *root, const struct sp_pci_addr *addr,
                      struct function_facts *f, struct sp_err *err)
{
    if (sp_pci_read_ids(root, addr, &f->ids, err) < 0 ||
        sp_pci_read_class(root, addr, &f->class_code, err) < 0)
        return -1;
    f->group = sp_pci_iommu_group(root, addr);
    return 0;
}

/* Why functions="all" takes a sibling, or NULL when it leaves it: the
 * functions that share the named one's IOMMU group (they move together or
 * not at all), and for a display device its vendor's display and audio
 * functions (an APU's HDMI audio has a group of its own). Never the rest of
 * the slot: on an APU the crypto processor, the USB controllers and the
 * board's own audio sit there too, and the host uses them. */
static const char *sibling_reason(const struct function_facts *named,
                                  const struct function_facts *other)
{
    if (named->group >= 0 && other->group == named->group)
        return "shares its IOMMU group";
    if (CLASS_BASE(named->class_code) != CLASS_DISPLAY || other->ids.vendor != named->ids.vendor)
        return NULL;
    if (CLASS_BASE(other->class_code) == CLASS_DISPLAY)
        return "a display function of the same vendor";
    if (CLASS_SUB(other->class_code) == CLASS_HD_AUDIO ||
        CLASS_SUB(other->class_code) == CLASS_AUDIO_DEVICE)
        return "the display's audio function";
    return NULL;
}

/* The other functions functions="all" takes (no ROM, no ID check: the
 * snippet's IDs and ROM belong to the function it names). */
static int add_sibling_functions(struct sp_start *st, const struct sp_dev_spec *spec,
                                 struct problems *pr)
{
    struct sp_pci_addr *found = NULL;
    size_t n = 0;
    struct sp_err e;
    struct function_facts named, other;
    if (read_facts(sysfs_root(st), &spec->addr, &named, &e) < 0 ||
        sp_pci_slot_functions(sysfs_root(st), &spec->addr, &found, &n, &e) < 0) {
        add_problem(pr, "%s (%s:%d)", e.msg, spec->file, spec->line);
        return 0;
    }
    struct sp_dev_spec plain = *spec;
    plain.has_ids = 0;
    for (size_t i = 0; i < n; i++) {
        if (found[i].function == spec->addr.function)
            continue;
        if (read_facts(sysfs_root(st), &found[i], &other, &e) < 0) {
            add_problem(pr, "%s (%s:%d)", e.msg, spec->file, spec->line);
            continue;
        }
        const char *why = sibling_reason(&named, &other);
        if (!why)
            continue;
        struct sp_resolved_dev *d = new_dev(st, spec);
        if (!d) {
            free(found);
            return -1;
        }
        d->has_addr = 1;
        d->addr = found[i];
        d->joined = why;
        d->rom_bar_off = 0; /* like the ROM, the named function's */
        check_device(st, d, &plain, pr);
    }
    free(found);
    return 0;
}

static int resolve_by_address(struct sp_start *st, const struct sp_dev_spec *spec,
                              struct problems *pr)
{
    struct sp_resolved_dev *d = new_dev(st, spec);
    if (!d)
        return -1;
    d->has_addr = 1;
    d->addr = spec->addr;
    if (set_rom_path(st, d, spec->rom) < 0)
        return -1;
    check_device(st, d, spec, pr);
    return spec->all_functions ? add_sibling_functions(st, spec, pr) : 0;
}

static int resolve_by_ids(struct sp_start *st, const struct sp_dev_spec *spec, struct problems *pr)
{
    struct sp_pci_addr *found = NULL;
    size_t n = 0;
    struct sp_err e;
    if (sp_pci_find_by_ids(sysfs_root(st), &spec->ids, &found, &n, &e) < 0) {
        add_problem(pr, "%s (%s:%d)", e.msg, spec->file, spec->line);
        return 0;
    }
    if (n == 0)
        add_problem(pr, "no device %04x:%04x under %s/bus/pci/devices (%s:%d)", spec->ids.vendor,
                    spec->ids.device, sysfs_root(st), spec->file, spec->line);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct sp_resolved_dev *d = new_dev(st, spec);
        if (!d) {
            rc = -1;
            break;
        }
        d->has_addr = 1;
        d->addr = found[i];
        d->has_ids = 1;
        d->ids = spec->ids;
        rc = set_rom_path(st, d, spec->rom);
    }
    free(found);
    return rc;
}

static int resolve_spec(struct sp_start *st, const struct sp_dev_spec *spec, struct problems *pr)
{
    if (spec->kind == SP_SPEC_RAW) {
        struct sp_resolved_dev *d = new_dev(st, spec);
        if (!d || set_rom_path(st, d, spec->rom) < 0)
            return -1;
        if (spec->has_addr) {
            d->has_addr = 1;
            d->addr = spec->addr;
            check_device(st, d, spec, pr);
        }
        return 0;
    }
    return spec->has_addr ? resolve_by_address(st, spec, pr) : resolve_by_ids(st, spec, pr);
}

/* --- ROMs --------------------------------------------------------------- */

static void add_warning(struct sp_start *st, const char *text)
{
    char **grown = realloc(st->warnings, (st->n_warnings + 1) * sizeof(*grown));
    if (!grown)
        return;
    st->warnings = grown;
    if ((grown[st->n_warnings] = strdup(text)) != NULL)
        st->n_warnings++;
}

/* "ROM <path> for <device>: <cause>", the path said once. */
static void rom_why(const struct sp_resolved_dev *d, const char *name, const char *cause,
                    char *why, size_t size)
{
    size_t n = strlen(d->rom);
    if (strncmp(cause, d->rom, n) == 0 && cause[n] == ':' && cause[n + 1] == ' ')
        cause += n + 2;
    snprintf(why, size, "ROM %s for %s: %s", d->rom, name, cause);
}

/* Opens the ROM through one fd: the path must resolve inside rom_dir
 * (symlinks and ".." followed), rom_dir and the directories above it must
 * pass StrictModes, and the file must be a regular one (a FIFO or a device
 * is never opened, so nothing here can block a start). */
static int open_rom(const struct sp_settings *s, const char *rom, struct stat *st,
                    struct sp_err *e)
{
    char *real = NULL;
    int fd = -1;
    if (sp_resolve_within(rom, s->rom_dir, "the ROM dir", &real, e) == 0 &&
        sp_check_dir_chain(s->rom_dir, "ROM dir", NULL, e) == 0)
        fd = sp_open_read(real, SP_OPEN_NOFOLLOW, st, e);
    free(real);
    return fd;
}

/* The file itself, judged on the fstat of the fd that is read. */
static int rom_file_ok(const struct stat *st, struct sp_err *e)
{
    char reason[128];
    if (st->st_size == 0)
        return sp_err_set(e, "file is empty");
    if (sp_strict_mode_reason(st, reason, sizeof(reason)))
        return sp_err_set(e, "%s, refusing it", reason);
    return 0;
}

/* What a start learns from a ROM's content besides its verdict. */
struct rom_facts {
    int read;
    int uefi, bios;        /* as in struct sp_resolved_dev */
    char note[SP_ERR_MAX]; /* "" when the fit goes without saying */
};

/* The parsed ROM against the device, on sp_rom_fit's rule: 1 it fits (an
 * EFI-only ROM naming others with a note saying what it is), 0 not. */
static int rom_fits_device(const struct sp_rom *rom, const struct sp_resolved_dev *d,
                           const char *name, char *why, size_t size, struct rom_facts *facts)
{
    enum sp_rom_fit fit = sp_rom_fit(rom, d->ids.vendor, d->ids.device);
    if (fit == SP_ROM_EFI_DRIVER)
        sp_rom_efi_driver_note(rom, facts->note, sizeof(facts->note));
    if (fit == SP_ROM_FITS || fit == SP_ROM_EFI_DRIVER)
        return 1;
    int x86 = fit == SP_ROM_X86_OTHER;
    char ids[256];
    size_t n = sp_rom_names(rom, x86, ids, sizeof(ids));
    snprintf(why, size, "ROM %s for %s (%04x:%04x) belongs to another device: %s %s", d->rom,
             name, d->ids.vendor, d->ids.device,
             !x86 ? "its images name" : n == 1 ? "its x86 image names" : "its x86 images name",
             ids);
    return 0;
}

/* The bytes read from fd parse and fit the device. */
static int rom_content_fits(int fd, const struct stat *st, const struct sp_resolved_dev *d,
                            const char *name, char *why, size_t size, struct rom_facts *facts)
{
    struct sp_rom rom;
    struct sp_err e;
    if (sp_rom_load_fd(fd, st, d->rom, &rom, &e) < 0) {
        rom_why(d, name, e.msg, why, size);
        return 0;
    }
    int fits = !d->has_ids || rom_fits_device(&rom, d, name, why, size, facts);
    if (d->has_ids) {
        facts->read = 1;
        facts->uefi = sp_rom_has_x64_efi_driver(&rom);
        facts->bios = sp_rom_has_bios_image(&rom, d->ids.vendor, d->ids.device);
    }
    sp_rom_free(&rom);
    return fits;
}

/* ROM_MISFIT: a sound file whose content does not fit the device, which
 * rom_check = warn lets through; ROM_REFUSED: the file itself is not. */
enum rom_verdict { ROM_FITS, ROM_MISFIT, ROM_REFUSED };

/* The whole check, open to parse, through one fd: the ROM judged is the
 * ROM read. With content 0 (rom_check = off) the bytes are not parsed. */
static enum rom_verdict judge_rom(const struct sp_start *start, const struct sp_resolved_dev *d,
                                  int content, char *why, size_t size, struct rom_facts *facts)
{
    char name[SP_PCI_ADDR_STRLEN] = "hostdev";
    if (d->has_addr)
        sp_pci_addr_format(&d->addr, name);
    struct sp_err e;
    struct stat st;
    int fd = open_rom(&start->snap->settings, d->rom, &st, &e);
    if (fd < 0 || rom_file_ok(&st, &e) < 0) {
        rom_why(d, name, e.msg, why, size);
        if (fd >= 0)
            close(fd);
        return ROM_REFUSED;
    }
    enum rom_verdict v =
        !content || rom_content_fits(fd, &st, d, name, why, size, facts) ? ROM_FITS : ROM_MISFIT;
    close(fd);
    return v;
}

int sp_start_rom_fits(const struct sp_start *st, const struct sp_resolved_dev *d, char *why,
                      size_t size)
{
    struct rom_facts facts = {0};
    return judge_rom(st, d, 1, why, size, &facts) == ROM_FITS;
}

/* What the start keeps of a ROM it takes, for the record and the firmware
 * check. A note lost to memory running out loses only words. */
static void keep_facts(struct sp_resolved_dev *d, const struct rom_facts *facts)
{
    d->rom_read = facts->read;
    d->rom_uefi = facts->uefi;
    d->rom_bios = facts->bios;
    if (facts->note[0])
        d->rom_note = strdup(facts->note);
}

static void check_rom(struct sp_start *st, struct sp_resolved_dev *d, struct problems *pr)
{
    int mode = st->snap->settings.rom_check;
    char why[SP_ERR_MAX];
    struct rom_facts facts = {0};
    enum rom_verdict v = judge_rom(st, d, mode != SP_ROM_CHECK_OFF, why, sizeof(why), &facts);
    if (v == ROM_MISFIT && mode == SP_ROM_CHECK_WARN)
        add_warning(st, why);
    else if (v != ROM_FITS)
        add_problem(pr, "%s", why);
    if (v == ROM_FITS || mode == SP_ROM_CHECK_WARN)
        keep_facts(d, &facts);
}

/* --- the firmware the VM boots and its GPUs' ROMs ------------------------ */

/* UEFI for <os firmware='efi'> or a <loader> whose path names OVMF, edk2 or
 * EFI; SeaBIOS, libvirt's default on x86, for any other <os>. The machine
 * type (i440fx, q35) does not matter. */
static enum sp_firmware domain_firmware(xmlDocPtr doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr os = root ? sp_xml_child(root, "os") : NULL;
    if (!os)
        return SP_FIRMWARE_UNKNOWN;
    if (sp_xml_attr_is(os, "firmware", "efi"))
        return SP_FIRMWARE_UEFI;
    xmlNodePtr loader = sp_xml_child(os, "loader");
    xmlChar *path = loader ? xmlNodeGetContent(loader) : NULL;
    const char *p = (const char *)path;
    int uefi = p && (strcasestr(p, "ovmf") || strcasestr(p, "edk2") || strcasestr(p, "efi"));
    xmlFree(path);
    return uefi ? SP_FIRMWARE_UEFI : SP_FIRMWARE_BIOS;
}

static int is_display(const struct sp_start *st, const struct sp_resolved_dev *d)
{
    uint32_t class_code;
    struct sp_err e;
    return d->has_addr && sp_pci_read_class(sysfs_root(st), &d->addr, &class_code, &e) == 0 &&
           CLASS_BASE(class_code) == CLASS_DISPLAY;
}

/* UEFI firmware loads a GOP driver from any function's ROM: the guides put
 * it on the GPU's audio function, so every function of the slot counts. */
static int slot_has_uefi_driver(const struct sp_start *st, const struct sp_resolved_dev *gpu)
{
    for (size_t i = 0; i < st->n_devs; i++) {
        const struct sp_resolved_dev *d = &st->devs[i];
        if (d->has_addr && d->rom_uefi && d->addr.domain == gpu->addr.domain &&
            d->addr.bus == gpu->addr.bus && d->addr.slot == gpu->addr.slot)
            return 1;
    }
    return 0;
}

static void warn_firmware(struct sp_start *st, const struct sp_resolved_dev *d)
{
    char name[SP_PCI_ADDR_STRLEN], text[SP_ERR_MAX];
    sp_pci_addr_format(&d->addr, name);
    if (st->firmware == SP_FIRMWARE_UEFI)
        snprintf(text, sizeof(text), "VM %s boots UEFI (OVMF), but the ROM %s for %s has no x64 "
                 "EFI image, and no other function of the GPU has one: the firmware cannot show "
                 "anything on this GPU before the guest's driver loads. Give a GOP driver (an "
                 "x64 EFI image) in the ROM of the GPU's audio function or appended to this ROM, "
                 "or boot the VM with SeaBIOS", st->label, d->rom, name);
    else
        snprintf(text, sizeof(text), "VM %s boots SeaBIOS, but the ROM %s for %s has no x86 "
                 "image for %04x:%04x: SeaBIOS runs none of it, so nothing shows on this GPU "
                 "before the guest's driver loads. Give the GPU's vBIOS (synopassthru rom "
                 "extract --vfct for an AMD iGPU, --pci for a card) or boot the VM with UEFI "
                 "(OVMF)", st->label, d->rom, name, d->ids.vendor, d->ids.device);
    add_warning(st, text);
}

/* A GPU whose ROM the VM's firmware cannot run is a warning, not a refusal:
 * the guest's driver may still bring it up. */
static void check_boot_display(struct sp_start *st)
{
    for (size_t i = 0; i < st->n_devs; i++) {
        const struct sp_resolved_dev *d = &st->devs[i];
        if (!d->rom || !d->rom_read || !is_display(st, d))
            continue;
        if ((st->firmware == SP_FIRMWARE_UEFI && !slot_has_uefi_driver(st, d)) ||
            (st->firmware == SP_FIRMWARE_BIOS && !d->rom_bios))
            warn_firmware(st, d);
    }
}

/* --- resets ------------------------------------------------------------ */

int sp_start_reset_ok(const struct sp_start *st, const struct sp_resolved_dev *d, char *why,
                      size_t size)
{
    char name[SP_PCI_ADDR_STRLEN], cause[SP_ERR_MAX];
    struct sp_pci_reset r;
    struct sp_err e;
    sp_pci_addr_format(&d->addr, name);
    if (sp_pci_read_reset(sysfs_root(st), &d->addr, &r, &e) < 0) {
        snprintf(why, size, "device %s: cannot tell whether the kernel can reset it: %s", name,
                 e.msg);
        return 0;
    }
    struct sp_pci_addr *given = calloc(st->n_devs + 1, sizeof(*given));
    size_t n = 0;
    for (size_t i = 0; given && i < st->n_devs; i++)
        if (st->devs[i].has_addr)
            given[n++] = st->devs[i].addr;
    enum sp_reset_verdict v =
        sp_pci_reset_judge(sysfs_root(st), &d->addr, &r, given, n, cause, sizeof(cause));
    free(given);
    if (v == SP_RESET_OK)
        return 1;
    snprintf(why, size, "device %s: %s; %s", name, cause, SP_RESET_CONSEQUENCE);
    return 0;
}

/* Each device the kernel cannot reset is a warning, and is named in the
 * note for the record of a start that libvirt fails. */
static int check_resets(struct sp_start *st)
{
    char names[1024] = "";
    size_t used = 0;
    for (size_t i = 0; i < st->n_devs; i++) {
        char why[SP_ERR_MAX], name[SP_PCI_ADDR_STRLEN];
        if (!st->devs[i].has_addr || sp_start_reset_ok(st, &st->devs[i], why, sizeof(why)))
            continue;
        add_warning(st, why);
        sp_pci_addr_format(&st->devs[i].addr, name);
        if (used < sizeof(names))
            used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
                                     used ? ", " : "", name);
    }
    if (used && asprintf(&st->reset_note, "the kernel cannot reset %s: a device that ran in a "
                         "VM since the host booted keeps that run's state until the host "
                         "reboots, which may be why the start failed", names) < 0) {
        st->reset_note = NULL;
        return -1;
    }
    return 0;
}

/* --- duplicates --------------------------------------------------------- */

static int same_rom(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The same device named twice for one VM is given once; two different ROMs
 * for it is a conflict the user must settle. */
static void drop_duplicates(struct sp_start *st, struct problems *pr)
{
    size_t kept = 0;
    for (size_t i = 0; i < st->n_devs; i++) {
        struct sp_resolved_dev *d = &st->devs[i];
        struct sp_resolved_dev *first = NULL;
        for (size_t j = 0; j < kept && d->has_addr; j++)
            if (st->devs[j].has_addr && sp_pci_addr_cmp(&st->devs[j].addr, &d->addr) == 0)
                first = &st->devs[j];
        if (!first) {
            st->devs[kept++] = *d;
            continue;
        }
        if (!same_rom(first->rom, d->rom)) {
            char name[SP_PCI_ADDR_STRLEN];
            sp_pci_addr_format(&d->addr, name);
            add_problem(pr, "device %s has two different ROMs: %s (%s:%d) and %s (%s:%d)", name,
                        first->rom ? first->rom : "none", first->file, first->line,
                        d->rom ? d->rom : "none", d->file, d->line);
        }
        if (first->rom_bar_off != d->rom_bar_off) {
            char name[SP_PCI_ADDR_STRLEN];
            sp_pci_addr_format(&d->addr, name);
            add_problem(pr, "device %s: rombar='off' at %s:%d but not at %s:%d", name,
                        first->rom_bar_off ? first->file : d->file,
                        first->rom_bar_off ? first->line : d->line,
                        first->rom_bar_off ? d->file : first->file,
                        first->rom_bar_off ? d->line : first->line);
        }
        free(d->rom);
    }
    st->n_devs = kept;
}

/* --- the decision ------------------------------------------------------- */

static int resolve_devices(struct sp_start *st, struct problems *pr)
{
    for (size_t i = 0; i < st->n_entries; i++)
        for (size_t j = 0; j < st->entries[i]->n_specs; j++)
            if (resolve_spec(st, &st->entries[i]->specs[j], pr) < 0)
                return -1;
    drop_duplicates(st, pr);
    for (size_t i = 0; i < st->n_devs; i++)
        if (st->devs[i].rom)
            check_rom(st, &st->devs[i], pr);
    check_boot_display(st);
    return 0;
}

/* What the VM's snippets ask of its own elements (any of them asking). */
static struct sp_edit_opts edit_opts(const struct sp_start *st)
{
    struct sp_edit_opts o = {0};
    for (size_t i = 0; i < st->n_entries; i++)
        for (size_t j = 0; j < st->entries[i]->n_specs; j++) {
            o.video_none |= st->entries[i]->specs[j].video_none;
            o.hide_hypervisor |= st->entries[i]->specs[j].hide_hypervisor;
        }
    return o;
}

static int merge_devices(struct sp_start *st, xmlDocPtr doc, const char *xml, size_t len)
{
    struct sp_patch_dev *pd = calloc(st->n_devs ? st->n_devs : 1, sizeof(*pd));
    if (!pd)
        return -1;
    for (size_t i = 0; i < st->n_devs; i++) {
        pd[i].has_host = st->devs[i].has_addr;
        pd[i].host = st->devs[i].addr;
        pd[i].rom = st->devs[i].rom;
        pd[i].rom_bar_off = st->devs[i].rom_bar_off;
        pd[i].raw_xml = st->devs[i].raw_xml;
        pd[i].file = st->devs[i].file;
        pd[i].line = st->devs[i].line;
    }
    struct sp_err e;
    int rc = sp_xmlpatch_apply(doc, pd, st->n_devs, &st->report, &e);
    free(pd);
    struct sp_edit_opts opts = edit_opts(st);
    if (rc == 0)
        rc = sp_edits_apply(doc, &opts, &st->report, &e);
    if (rc < 0) {
        st->verdict = SP_REFUSED;
        sp_err_set(&st->err, "VM %s: %s", st->label, e.msg);
        return 0;
    }
    if (!sp_patch_report_changed(&st->report)) {
        /* Nothing new: the very same bytes go on. */
        st->xml = malloc(len + 1);
        if (!st->xml)
            return -1;
        memcpy(st->xml, xml, len);
        st->xml[len] = '\0';
        st->xml_len = len;
    } else if (sp_domain_serialize(doc, xml, len, &st->xml, &st->xml_len, &e) < 0) {
        st->verdict = SP_REFUSED;
        sp_err_set(&st->err, "VM %s: %s", st->label, e.msg);
        return 0;
    }
    st->verdict = SP_READY;
    return 0;
}

static int decide_matched(struct sp_start *st, xmlDocPtr doc, const char *xml, size_t len)
{
    st->label = sp_domain_label(&st->id);
    if (!st->label)
        return -1;
    const char *broken = st->snap->global_error ? st->snap->global_error : first_entry_error(st);
    if (broken) {
        st->verdict = SP_REFUSED;
        sp_err_set(&st->err, "VM %s: %s", st->label, broken);
        return 0;
    }
    struct sp_err problems_err;
    struct problems pr = {.err = &problems_err};
    st->firmware = domain_firmware(doc);
    if (resolve_devices(st, &pr) < 0)
        return -1;
    if (pr.count > 0) {
        st->verdict = SP_REFUSED;
        sp_err_set(&st->err, "VM %s: %s", st->label, problems_err.msg);
        return 0;
    }
    if (check_resets(st) < 0)
        return -1;
    return merge_devices(st, doc, xml, len);
}

/* The VM's identity and entries, from the head of the document (whole 0)
 * or all of it: 1 when the rest of it was not read, 0 when it was, -1 when
 * the verdict is given (the document is bad, or memory ran out). */
static int identify(struct sp_start *st, const char *xml, size_t len, int whole)
{
    sp_domain_id_free(&st->id);
    st->n_entries = 0;
    int rc = whole ? sp_domain_identify(xml, len, &st->id, &st->err)
                   : sp_domain_identify_head(xml, len, &st->id, &st->err);
    if (rc == SP_XML_OOM) {
        /* Which VM this is cannot be told: it may be one with devices. */
        st->verdict = SP_REFUSED;
        sp_err_prefix(&st->err, "cannot tell which VM starts");
        return -1;
    }
    if (rc < 0) {
        st->verdict = SP_BAD_INPUT;
        return -1;
    }
    const char *keys[SP_VM_KEYS] = {st->id.name, st->id.uuid, st->id.title};
    st->n_entries = sp_snapshot_lookup_vm(st->snap, keys, st->entries);
    return rc;
}

/* A DOCTYPE is never read: its entities could cost any amount of memory
 * and time to expand. A VM a snippet names is refused, and so is one whose
 * name, uuid or title refers to an entity, as whether a snippet names it
 * cannot be told. Any other VM goes on untouched. */
static int decide_doctype(struct sp_start *st)
{
    if (!st->n_entries && !st->id.unknown)
        return 0;
    st->label = sp_domain_label(&st->id);
    if (!st->label)
        return -1;
    st->verdict = SP_REFUSED;
    if (st->n_entries)
        sp_err_set(&st->err, "VM %s: domain XML with a DOCTYPE is not supported", st->label);
    else
        sp_err_set(&st->err, "domain XML with a DOCTYPE is not supported: its <%s> refers to "
                   "an entity, so which VM it starts cannot be told", st->id.unknown);
    return 0;
}

/* A VM a snippet names, parsed into a tree to be patched. One that cannot
 * be (libvirt might still take the text, or memory ran out) is refused:
 * it must not start without its devices. When only the head was read, a
 * document that is not well-formed is bad input, as read whole. */
static int decide_parsed(struct sp_start *st, const char *xml, size_t len, int head_only)
{
    struct sp_err why;
    xmlDocPtr doc = sp_domain_parse(xml, len, &why);
    if (!doc && head_only && identify(st, xml, len, 1) != 0)
        return 0; /* the rest of the document says why: as if read whole */
    if (!doc) {
        st->label = sp_domain_label(&st->id);
        if (!st->label)
            return -1;
        st->verdict = SP_REFUSED;
        sp_err_set(&st->err, "VM %s: %s", st->label, why.msg);
        return 0;
    }
    int rc = decide_matched(st, doc, xml, len);
    xmlFreeDoc(doc);
    return rc;
}

static int names_a_vm(const struct sp_snapshot *snap, const char *key)
{
    return key && sp_snapshot_lookup(snap, key);
}

int sp_start_untouched(const struct sp_snapshot *snap, const char *xml, size_t len)
{
    struct sp_domain_id id;
    struct sp_err err;
    int rc = sp_domain_identify_head(xml, len, &id, &err);
    if (rc < 0)
        return rc != SP_XML_OOM; /* a bad document: sp_start_prepare's too */
    int untouched = !id.unknown && !names_a_vm(snap, id.name) && !names_a_vm(snap, id.uuid) &&
                    !names_a_vm(snap, id.title);
    sp_domain_id_free(&id);
    return untouched;
}

/* untouched_ok: a VM whose head shows no snippet names it is SP_UNMATCHED
 * without the rest of the document being read (sp_start_untouched's rule). */
static int prepare(struct sp_snapshot *snap, const char *xml, size_t len, struct sp_start *st,
                   int untouched_ok)
{
    memset(st, 0, sizeof(*st));
    st->snap = sp_snapshot_ref(snap);
    st->verdict = SP_UNMATCHED;
    if (!xml) {
        st->verdict = SP_BAD_INPUT;
        sp_err_set(&st->err, "no domain XML given");
        return 0;
    }
    /* Identified from a stream, ended after <name>, <uuid> and <title>. A
     * VM a snippet names is judged whole by its tree; any other by the
     * stream read to the end (a document that is not well-formed is bad
     * input, not unmatched). */
    int head_only = identify(st, xml, len, 0);
    if (untouched_ok && !st->n_entries && !st->id.unknown)
        return 0;
    if (head_only == 1 && (!st->n_entries || st->id.doctype))
        head_only = identify(st, xml, len, 1);
    if (head_only < 0)
        return 0;
    if (st->id.doctype)
        return decide_doctype(st);
    return st->n_entries ? decide_parsed(st, xml, len, head_only) : 0;
}

int sp_start_prepare(struct sp_snapshot *snap, const char *xml, size_t len, struct sp_start *st)
{
    return prepare(snap, xml, len, st, 0);
}

int sp_start_decide(struct sp_snapshot *snap, const char *xml, size_t len, struct sp_start *st)
{
    return prepare(snap, xml, len, st, 1);
}

void sp_start_free(struct sp_start *st)
{
    for (size_t i = 0; i < st->n_devs; i++) {
        free(st->devs[i].rom);
        free(st->devs[i].rom_note);
    }
    free(st->devs);
    for (size_t i = 0; i < st->n_warnings; i++)
        free(st->warnings[i]);
    free(st->warnings);
    free(st->reset_note);
    free(st->xml);
    free(st->label);
    sp_patch_report_free(&st->report);
    sp_domain_id_free(&st->id);
    if (st->snap)
        sp_snapshot_release(st->snap);
    memset(st, 0, sizeof(*st));
}
