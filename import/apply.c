#include "apply.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/fsutil.h"
#include "../config/snippet_format.h"
#include "../rom/rom.h"
#include "array.h"
#include "dirs.h"

#define SAFE_NAME_MAX 64
/* How many image IDs a verdict lists at most. */
#define VERDICT_IDS 8

/* ---- names --------------------------------------------------------------------- */

static int is_safe_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

char *sp_apply_snippet_name(const char *vm)
{
    char safe[SAFE_NAME_MAX + 1];
    size_t n = 0;
    for (const char *p = vm; *p && n < SAFE_NAME_MAX; p++) {
        char c = is_safe_char(*p) ? *p : '-';
        if ((c == '-' || c == '.') && (n == 0 || safe[n - 1] == '-'))
            continue; /* no leading dot or dash, no runs of dashes */
        safe[n++] = c;
    }
    while (n > 0 && (safe[n - 1] == '-' || safe[n - 1] == '.'))
        n--;
    safe[n] = '\0';
    char *out = NULL;
    if (asprintf(&out, SP_APPLY_SNIPPET_PREFIX "%s.xml", n ? safe : "vm") < 0)
        return NULL;
    return out;
}

/* The VM's snippet path; another VM's name that comes out the same gets
 * -2, -3, ... */
static char *snippet_path(const struct sp_apply *a, const char *vm)
{
    char *name = sp_apply_snippet_name(vm);
    char *path = name ? sp_path_join(a->snippet_dir, name) : NULL;
    for (int k = 2; path; k++) {
        int taken = 0;
        for (size_t i = 0; i < a->n_vms && !taken; i++)
            taken = a->vms[i].path && strcmp(a->vms[i].path, path) == 0;
        if (!taken)
            break;
        free(path);
        path = NULL;
        size_t stem = strlen(name) - strlen(".xml");
        if (asprintf(&path, "%s/%.*s-%d.xml", a->snippet_dir, (int)stem, name, k) < 0)
            path = NULL;
    }
    free(name);
    return path;
}

/* ---- what is there already -------------------------------------------------------- */

static int set_why(char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_why(char **why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(why, fmt, ap);
    va_end(ap);
    if (n < 0)
        *why = NULL;
    return n < 0 ? -1 : 0;
}

/* NEW when path does not exist, SAME when it holds these bytes, FAILED
 * when it cannot even be looked at, else REFUSED; the reason in why. -1:
 * out of memory. */
static int decide(const char *path, const char *bytes, size_t len, enum sp_apply_state *state,
                  char **why)
{
    struct stat st;
    *state = SP_APPLY_REFUSED;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT) {
            *state = SP_APPLY_NEW;
            return 0;
        }
        *state = SP_APPLY_FAILED; /* a parent that is not a folder, no access, ... */
        return set_why(why, "%s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode) || (size_t)st.st_size != len)
        return set_why(why, "a different %s is already there: not overwriting it (move it "
                       "away to import it again)", path);
    char *old = NULL;
    struct sp_err e;
    if (sp_read_file(path, len, &old, NULL, &e) < 0)
        return set_why(why, "%s is there and cannot be compared (%s): not overwriting it", path,
                       e.msg);
    int same = memcmp(old, bytes, len) == 0;
    free(old);
    if (same) {
        *state = SP_APPLY_SAME;
        return 0;
    }
    return set_why(why, "a different %s is already there: not overwriting it (move it away "
                   "to import it again)", path);
}

/* ---- ROMs --------------------------------------------------------------------------- */

static long find_rom(const struct sp_apply *a, const char *dest)
{
    for (size_t i = 0; i < a->n_roms; i++)
        if (strcmp(a->roms[i].dest, dest) == 0 && a->roms[i].state != SP_APPLY_REFUSED)
            return (long)i;
    return -1;
}

static void rom_free(struct sp_apply_rom *r)
{
    free(r->src);
    free(r->dest);
    free(r->bytes);
    free(r->why);
    memset(r, 0, sizeof(*r));
}

/* Decides r: refused when it cannot be read or another imported ROM of the
 * same name has other bytes. Returns the index of an identical item
 * already taken, -1 for none, -2 when memory runs out. */
static long decide_rom(const struct sp_apply *a, struct sp_apply_rom *r)
{
    struct sp_err e;
    long same = find_rom(a, r->dest);
    if (sp_read_file(r->src, SP_ROM_MAX_BYTES, &r->bytes, &r->len, &e) < 0)
        return set_why(&r->why, "cannot read the ROM: %s", e.msg) < 0 ? -2 : -1;
    if (same >= 0 && a->roms[same].len == r->len &&
        memcmp(a->roms[same].bytes, r->bytes, r->len) == 0)
        return same;
    if (same >= 0)
        return set_why(&r->why, "%s is also the name of another imported ROM (from %s): not "
                       "importing this one", r->dest, a->roms[same].src) < 0 ? -2 : -1;
    return decide(r->dest, r->bytes, r->len, &r->state, &r->why) < 0 ? -2 : -1;
}

/* The device's ROM as an item of a->roms: its index, or -1 when memory
 * runs out. */
static long take_rom(struct sp_apply *a, const struct sp_legacy_dev *d)
{
    struct sp_apply_rom r = {.state = SP_APPLY_REFUSED};
    r.src = strdup(d->rom_src);
    r.dest = sp_path_join(a->rom_dir, d->rom_name);
    long same = r.src && r.dest ? decide_rom(a, &r) : -2;
    struct sp_apply_rom *grown = same == -1 ? sp_array_grow(a->roms, a->n_roms, sizeof(*grown))
                                            : NULL;
    if (!grown) {
        rom_free(&r);
        return same >= 0 ? same : -1;
    }
    a->roms = grown;
    grown[a->n_roms] = r;
    return (long)a->n_roms++;
}

/* "1002:1638, 10de:1b80": the IDs of a ROM's images. */
static void rom_ids(const struct sp_rom *rom, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < rom->n_images && i < VERDICT_IDS && used < size; i++) {
        int n = snprintf(out + used, size - used, "%s%04x:%04x", i ? ", " : "",
                         rom->images[i].vendor, rom->images[i].device);
        used += n > 0 ? (size_t)n : 0;
    }
}

/* As a start checks it (sp_rom_fit): the ROM parses and names the device,
 * or is an EFI driver image that UEFI firmware loads from any function. */
static int check_rom(const struct sp_apply_rom *r, const struct sp_legacy_dev *d,
                     struct sp_apply_check *c)
{
    struct sp_rom rom;
    struct sp_err e;
    char ids[160];
    int n;
    if (!r->bytes)
        return (c->verdict = strdup("not checked: the ROM could not be read")) ? 0 : -1;
    if (sp_rom_parse((const uint8_t *)r->bytes, r->len, &rom, &e) < 0)
        return asprintf(&c->verdict, "does NOT parse: %s", e.msg) < 0 ? -1 : 0;
    enum sp_rom_fit fit = d->has_ids ? sp_rom_fit(&rom, d->ids.vendor, d->ids.device)
                                     : SP_ROM_FITS;
    c->fits = fit == SP_ROM_FITS || fit == SP_ROM_EFI_DRIVER;
    rom_ids(&rom, ids, sizeof(ids));
    char note[256];
    if (!d->has_ids)
        n = asprintf(&c->verdict, "parses (images name %s); the script gave no IDs to check it "
                     "against", ids);
    else if (fit == SP_ROM_EFI_DRIVER)
        n = asprintf(&c->verdict, "fits %04x:%04x: %s", d->ids.vendor, d->ids.device,
                     sp_rom_efi_driver_note(&rom, note, sizeof(note)));
    else if (c->fits)
        n = asprintf(&c->verdict, "fits %04x:%04x", d->ids.vendor, d->ids.device);
    else
        n = asprintf(&c->verdict, "does NOT fit %04x:%04x: its images name %s", d->ids.vendor,
                     d->ids.device, ids);
    sp_rom_free(&rom);
    return n < 0 ? -1 : 0;
}

/* ---- one VM ------------------------------------------------------------------------ */

static char *device_comment(const struct sp_legacy_dev *d)
{
    char *out = NULL;
    if (asprintf(&out, "from %s line %d%s", d->file, d->line,
                 d->has_addr ? "" : "; ADDRESS was empty: every device with these IDs") < 0)
        return NULL;
    return out;
}

static int format_snippet(const struct sp_legacy_plan *plan, const struct sp_legacy_vm *vm,
                          const char *origin, char **out, struct sp_err *err)
{
    struct sp_dev_spec *specs = calloc(vm->n_devs + 1, sizeof(*specs));
    char **comments = calloc(vm->n_devs + 1, sizeof(*comments));
    char *head_comment = NULL;
    int rc = -1;
    if (!specs || !comments ||
        asprintf(&head_comment, "Imported by `synopassthru import` from the community "
                 "passthrough scripts\n     in %s (%s).", origin, plan->master) < 0) {
        head_comment = NULL;
        sp_err_set(err, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < vm->n_devs; i++) {
        const struct sp_legacy_dev *d = &vm->devs[i];
        specs[i] = (struct sp_dev_spec){.kind = SP_SPEC_PCI, .has_addr = d->has_addr,
                                        .addr = d->addr, .has_ids = d->has_ids, .ids = d->ids,
                                        .rom = d->rom_name, .bind = 1};
        if (!(comments[i] = device_comment(d))) {
            sp_err_set(err, "out of memory");
            goto done;
        }
    }
    struct sp_snippet_head head = {.vm = vm->name, .comment = head_comment, .bind = 1};
    rc = sp_snippet_format(&head, specs, (const char *const *)comments, vm->n_devs, out, err);
    if (rc < 0)
        sp_err_prefix(err, "VM '%s'", vm->name);
done:
    for (size_t i = 0; comments && i < vm->n_devs; i++)
        free(comments[i]);
    free(comments);
    free(specs);
    free(head_comment);
    return rc;
}

static int list_others(struct sp_apply_vm *v, const struct sp_snapshot *snap)
{
    const struct sp_vm_entry *e = sp_snapshot_lookup(snap, v->vm->name);
    for (size_t i = 0; e && i < e->n_files; i++) {
        if (strcmp(e->files[i], v->path) == 0)
            continue;
        char **grown = sp_array_grow(v->others, v->n_others, sizeof(*grown));
        if (!grown)
            return -1;
        v->others = grown;
        if (!(grown[v->n_others] = strdup(e->files[i])))
            return -1;
        v->n_others++;
    }
    return 0;
}

/* The ROMs of the VM's devices, each checked. */
static int take_roms(struct sp_apply *a, struct sp_apply_vm *v)
{
    for (size_t i = 0; i < v->vm->n_devs; i++) {
        const struct sp_legacy_dev *d = &v->vm->devs[i];
        v->checks[i].rom = -1;
        if (!d->rom_src)
            continue;
        long r = take_rom(a, d);
        if (r < 0 || check_rom(&a->roms[r], d, &v->checks[i]) < 0)
            return -1;
        v->checks[i].rom = r;
    }
    return 0;
}

/* A VM with a refused ROM writes nothing: its snippet would name a ROM
 * that is not the one the old scripts used. */
static int refuse_for_roms(const struct sp_apply *a, struct sp_apply_vm *v)
{
    if (v->state == SP_APPLY_REFUSED)
        return 0;
    for (size_t i = 0; i < v->vm->n_devs; i++) {
        long r = v->checks[i].rom;
        if (r >= 0 && a->roms[r].state == SP_APPLY_REFUSED) {
            v->state = SP_APPLY_REFUSED;
            return set_why(&v->why, "not written, because its ROM %s is refused",
                           a->roms[r].dest);
        }
    }
    return 0;
}

static int prepare_vm(struct sp_apply *a, const struct sp_legacy_plan *plan,
                      const struct sp_legacy_vm *vm, const struct sp_snapshot *snap,
                      const char *origin, struct sp_err *err)
{
    struct sp_apply_vm *grown = sp_array_grow(a->vms, a->n_vms, sizeof(*grown));
    if (!grown)
        return sp_err_set(err, "out of memory");
    a->vms = grown;
    struct sp_apply_vm *v = &grown[a->n_vms];
    v->vm = vm;
    v->path = snippet_path(a, vm->name);
    a->n_vms++;
    if (!v->path || !(v->checks = calloc(vm->n_devs + 1, sizeof(*v->checks))))
        return sp_err_set(err, "out of memory");
    if (format_snippet(plan, vm, origin, &v->text, err) < 0)
        return -1;
    if (decide(v->path, v->text, strlen(v->text), &v->state, &v->why) < 0 ||
        list_others(v, snap) < 0 || take_roms(a, v) < 0 || refuse_for_roms(a, v) < 0)
        return sp_err_set(err, "out of memory");
    return 0;
}

int sp_apply_prepare(const struct sp_legacy_plan *plan, const struct sp_snapshot *snap,
                     const char *origin, struct sp_apply *out, struct sp_err *err)
{
    memset(out, 0, sizeof(*out));
    out->config_dir = strdup(snap->config_dir);
    out->snippet_dir = sp_path_join(snap->config_dir, SP_SNIPPET_DIR);
    out->rom_dir = strdup(snap->settings.rom_dir);
    if (!out->config_dir || !out->snippet_dir || !out->rom_dir) {
        sp_apply_free(out);
        return sp_err_set(err, "out of memory");
    }
    for (size_t i = 0; i < plan->n_vms; i++) {
        if (prepare_vm(out, plan, &plan->vms[i], snap, origin, err) < 0) {
            sp_apply_free(out);
            return -1;
        }
    }
    /* A ROM refused for one VM refuses every VM that uses it. */
    for (size_t i = 0; i < out->n_vms; i++) {
        if (refuse_for_roms(out, &out->vms[i]) < 0) {
            sp_apply_free(out);
            return sp_err_set(err, "out of memory");
        }
    }
    return 0;
}

/* ---- writing ----------------------------------------------------------------------- */

/* path with mode 0644; dir (vm.d/ or rom/) and the folders above it are
 * made (0755) when they are not there. */
static int write_item(const char *dir, const char *path, const char *bytes, size_t len,
                      enum sp_apply_state *state, char **why)
{
    struct sp_err e;
    int rc = sp_import_mkdirs(dir, 0755, &e) < 0 || sp_write_file_atomic(path, bytes, len, 0644, &e) < 0
                 ? -1 : 0;
    *state = rc < 0 ? SP_APPLY_FAILED : SP_APPLY_WRITTEN;
    if (rc < 0)
        *why = strdup(e.msg);
    return rc;
}

int sp_apply_rom_needed(const struct sp_apply *a, size_t r)
{
    for (size_t i = 0; i < a->n_vms; i++)
        for (size_t j = 0; a->vms[i].state != SP_APPLY_REFUSED && j < a->vms[i].vm->n_devs; j++)
            if (a->vms[i].checks[j].rom == (long)r)
                return 1;
    return 0;
}

static int vm_rom_failed(const struct sp_apply *a, const struct sp_apply_vm *v)
{
    for (size_t j = 0; j < v->vm->n_devs; j++)
        if (v->checks[j].rom >= 0 && a->roms[v->checks[j].rom].state == SP_APPLY_FAILED)
            return 1;
    return 0;
}

int sp_apply_write(struct sp_apply *a)
{
    int failed = 0;
    for (size_t i = 0; i < a->n_roms; i++) {
        struct sp_apply_rom *r = &a->roms[i];
        if (r->state == SP_APPLY_NEW && sp_apply_rom_needed(a, i))
            failed += write_item(a->rom_dir, r->dest, r->bytes, r->len, &r->state, &r->why) < 0;
    }
    for (size_t i = 0; i < a->n_vms; i++) {
        struct sp_apply_vm *v = &a->vms[i];
        if (v->state == SP_APPLY_REFUSED || v->state == SP_APPLY_FAILED)
            continue; /* decided before: nothing to write */
        if (vm_rom_failed(a, v)) {
            v->state = SP_APPLY_FAILED;
            v->why = strdup("not written, because one of its ROMs could not be written");
            failed++;
        } else if (v->state == SP_APPLY_NEW) {
            failed += write_item(a->snippet_dir, v->path, v->text, strlen(v->text), &v->state,
                                 &v->why) < 0;
        }
    }
    return failed;
}

void sp_apply_free(struct sp_apply *a)
{
    for (size_t i = 0; i < a->n_vms; i++) {
        struct sp_apply_vm *v = &a->vms[i];
        for (size_t j = 0; v->checks && j < v->vm->n_devs; j++)
            free(v->checks[j].verdict);
        for (size_t j = 0; j < v->n_others; j++)
            free(v->others[j]);
        free(v->others);
        free(v->checks);
        free(v->path);
        free(v->text);
        free(v->why);
    }
    for (size_t i = 0; i < a->n_roms; i++) {
        free(a->roms[i].src);
        free(a->roms[i].dest);
        free(a->roms[i].bytes);
        free(a->roms[i].why);
    }
    free(a->vms);
    free(a->roms);
    free(a->config_dir);
    free(a->snippet_dir);
    free(a->rom_dir);
    memset(a, 0, sizeof(*a));
}
