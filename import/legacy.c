#include "legacy.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/fsutil.h"
#include "../config/snippet.h"
#include "array.h"
#include "shvars.h"

#define SCRIPT_MAX_BYTES (1u << 20)
#define OLD_PREFIX SP_LEGACY_DIR "/"
#define VMVGA_VENDOR 0x15ad
#define VMVGA_DEVICE 0x0405

/* ---- the plan's lists ------------------------------------------------------ */

static int add_skip(struct sp_legacy_plan *p, const char *file, int line, int keeps_old,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int add_skip(struct sp_legacy_plan *p, const char *file, int line, int keeps_old,
                    const char *fmt, ...)
{
    struct sp_legacy_skip *grown = sp_array_grow(p->skips, p->n_skips, sizeof(*grown));
    if (!grown)
        return -1;
    p->skips = grown;
    struct sp_legacy_skip *s = &grown[p->n_skips++];
    s->line = line;
    s->keeps_old = keeps_old;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s->reason, fmt, ap);
    va_end(ap);
    s->file = strdup(file);
    if (n < 0)
        s->reason = NULL;
    return s->file && s->reason ? 0 : -1;
}

static int add_string(char ***list, size_t *n, const char *s)
{
    char **grown = sp_array_grow(*list, *n, sizeof(*grown));
    if (!grown)
        return -1;
    *list = grown;
    grown[*n] = strdup(s);
    return grown[(*n)++] ? 0 : -1;
}

static int has_string(char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

static int has_control_char(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* ---- paths -------------------------------------------------------------------- */

/* A path the old scripts name, on this machine: one in their own folder is
 * read from where->dir (which may be a copy), any other absolute one under
 * the root, a relative one against base. */
static char *local_path(const struct sp_legacy_where *w, const char *base, const char *path)
{
    char *out = NULL;
    if (strncmp(path, OLD_PREFIX, strlen(OLD_PREFIX)) == 0)
        return sp_path_join(w->dir, path + strlen(OLD_PREFIX));
    if (path[0] == '/')
        return asprintf(&out, "%s%s", w->root, path) < 0 ? NULL : out;
    return sp_path_join(base, path);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
}

static int has_dotdot(const char *rel)
{
    for (const char *p = rel; (p = strstr(p, "..")); p += 2)
        if ((p == rel || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return 1;
    return 0;
}

/* The name of a script the master runs, relative to the folder; NULL when
 * it lies outside (reason says why) or memory runs out (reason empty). */
static char *script_rel(const char *path, char *reason, size_t size)
{
    reason[0] = '\0';
    const char *rel = path;
    if (path[0] == '/') {
        if (strncmp(path, OLD_PREFIX, strlen(OLD_PREFIX)) != 0) {
            snprintf(reason, size, "runs %s, outside %s: import reads only that folder", path,
                     SP_LEGACY_DIR);
            return NULL;
        }
        rel = path + strlen(OLD_PREFIX);
    }
    while (strncmp(rel, "./", 2) == 0)
        rel += 2;
    if (!*rel || has_dotdot(rel)) {
        snprintf(reason, size, "runs %s: import does not follow '..' out of the folder", path);
        return NULL;
    }
    return strdup(rel);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---- variables of one script --------------------------------------------------- */

struct var {
    const char *name;
    const char *value;    /* NULL: set from something import cannot know */
    const char *from_ref; /* that something */
    int line;
};

struct vars {
    struct var *v;
    size_t n;
};

static const struct var *vars_find(const struct vars *vs, const char *name)
{
    for (size_t i = vs->n; i-- > 0;)
        if (strcmp(vs->v[i].name, name) == 0)
            return &vs->v[i];
    return NULL;
}

static int vars_set(struct vars *vs, const struct sp_sh_stmt *st)
{
    struct var *grown = sp_array_grow(vs->v, vs->n, sizeof(*grown));
    if (!grown)
        return -1;
    vs->v = grown;
    struct var *v = &grown[vs->n++];
    v->name = st->name;
    v->line = st->line;
    v->value = st->value.text;
    if (st->value.ref) {
        const struct var *from = vars_find(vs, st->value.ref);
        v->value = from ? from->value : NULL;
        v->from_ref = from && !from->value ? from->from_ref : st->value.ref;
    }
    return 0;
}

/* The value of a word, or NULL with the reason. */
static const char *resolve(const struct vars *vs, const struct sp_sh_word *w, char *why,
                           size_t size)
{
    if (w->text)
        return w->text;
    const struct var *v = vars_find(vs, w->ref);
    if (!v)
        snprintf(why, size, "uses $%s, which the script does not set", w->ref);
    else if (!v->value)
        snprintf(why, size, "%s is set from $%s at line %d: import knows no value for it",
                 v->name, v->from_ref, v->line);
    return v ? v->value : NULL;
}

/* ---- one device ----------------------------------------------------------------- */

/* What a worker call says, its words resolved. */
struct call {
    const char *file;
    int line;
    int detach;
    const char *vm, *address, *vendor, *product, *rom;
    const char *script_dir; /* the script's folder on this machine */
};

static struct sp_legacy_vm *vm_for(struct sp_legacy_plan *p, const char *name)
{
    char *key = sp_vm_key_normalize(name);
    if (!key)
        return NULL;
    struct sp_legacy_vm *found = NULL;
    for (size_t i = 0; i < p->n_vms && !found; i++) {
        char *other = sp_vm_key_normalize(p->vms[i].name);
        if (other && strcmp(other, key) == 0)
            found = &p->vms[i];
        free(other);
    }
    free(key);
    if (found)
        return found;
    struct sp_legacy_vm *grown = sp_array_grow(p->vms, p->n_vms, sizeof(*grown));
    if (!grown)
        return NULL;
    p->vms = grown;
    found = &grown[p->n_vms];
    found->name = strdup(name);
    if (!found->name)
        return NULL;
    p->n_vms++;
    return found;
}

static int same_device(const struct sp_legacy_dev *a, const struct sp_legacy_dev *b)
{
    if (a->has_addr != b->has_addr || a->has_ids != b->has_ids ||
        (a->rom_src == NULL) != (b->rom_src == NULL))
        return 0;
    return (!a->has_addr || sp_pci_addr_cmp(&a->addr, &b->addr) == 0) &&
           (!a->has_ids || (a->ids.vendor == b->ids.vendor && a->ids.device == b->ids.device)) &&
           (!a->rom_src || strcmp(a->rom_src, b->rom_src) == 0);
}

static void dev_free(struct sp_legacy_dev *d)
{
    free(d->file);
    free(d->rom_src);
    free(d->rom_name);
    free(d->host);
    free(d->host_error);
    memset(d, 0, sizeof(*d));
}

/* Takes d into the VM's list: a device named twice is kept once, and an
 * address named again with other IDs or another ROM is not guessed at. */
static int add_device(struct sp_legacy_plan *p, const char *vm_name, struct sp_legacy_dev *d)
{
    struct sp_legacy_vm *vm = vm_for(p, vm_name);
    if (!vm)
        return -1;
    for (size_t i = 0; i < vm->n_devs; i++) {
        const struct sp_legacy_dev *o = &vm->devs[i];
        if (same_device(o, d)) {
            dev_free(d);
            return 0;
        }
        if (o->has_addr && d->has_addr && sp_pci_addr_cmp(&o->addr, &d->addr) == 0) {
            char addr[SP_PCI_ADDR_STRLEN];
            sp_pci_addr_format(&d->addr, addr);
            return add_skip(p, d->file, d->line, 1, "%s is given to VM '%s' at %s:%d already, "
                            "with other IDs or another ROM: import keeps the first", addr,
                            vm->name, o->file, o->line);
        }
    }
    struct sp_legacy_dev *grown = sp_array_grow(vm->devs, vm->n_devs, sizeof(*grown));
    if (!grown)
        return -1;
    vm->devs = grown;
    grown[vm->n_devs++] = *d;
    memset(d, 0, sizeof(*d));
    return 0;
}

/* VENDOR and PRODUCT: both or neither. 1 set, 0 none, -1 reason in why. */
static int read_ids(const struct call *c, struct sp_pci_ids *ids, char *why, size_t size)
{
    if (!c->vendor[0] && !c->product[0])
        return 0;
    if (!c->vendor[0] || !c->product[0])
        snprintf(why, size, "VENDOR='%s' PRODUCT='%s': give both or neither", c->vendor,
                 c->product);
    else if (sp_pci_id_parse(c->vendor, &ids->vendor) < 0)
        snprintf(why, size, "VENDOR='%s' is not a 4-digit hex PCI ID", c->vendor);
    else if (sp_pci_id_parse(c->product, &ids->device) < 0)
        snprintf(why, size, "PRODUCT='%s' is not a 4-digit hex PCI ID", c->product);
    else
        return 1;
    return -1;
}

static int skip_detach(struct sp_legacy_plan *p, const struct call *c, const struct sp_legacy_dev *d)
{
    if (d->has_ids && d->ids.vendor == VMVGA_VENDOR && d->ids.device == VMVGA_DEVICE)
        return add_skip(p, c->file, c->line, 0, "%s", SP_LEGACY_VMVGA_REASON);
    char what[64];
    if (d->has_ids)
        snprintf(what, sizeof(what), "%04x:%04x", d->ids.vendor, d->ids.device);
    else
        snprintf(what, sizeof(what), "ADDRESS='%s'", c->address);
    return add_skip(p, c->file, c->line, 1, "DETACH of %s is not imported: SynoPassthru only "
                    "adds devices to a VM, it does not take away one the VM manager gives it",
                    what);
}

/* The ROM the call names: found on this machine and given a name for
 * rom/. 0, or -1 with the reason (why[0] empty: out of memory). */
static int find_rom(const struct sp_legacy_where *w, const struct call *c,
                    struct sp_legacy_dev *d, char *why, size_t size)
{
    why[0] = '\0';
    d->rom_src = local_path(w, c->script_dir, c->rom);
    if (!d->rom_src)
        return -1;
    struct stat st;
    if (stat(d->rom_src, &st) < 0)
        snprintf(why, size, "ROM '%s' (%s): %s", c->rom, d->rom_src, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        snprintf(why, size, "ROM '%s' (%s): not a regular file", c->rom, d->rom_src);
    else if (has_control_char(c->rom))
        snprintf(why, size, "ROM name has a control character");
    else if (!(d->rom_name = strdup(sp_sh_basename(d->rom_src))))
        return -1;
    else
        return 0;
    return -1;
}

/* No address: which devices that is on this host now. */
static int look_up_host(const struct sp_legacy_where *w, struct sp_legacy_dev *d)
{
    struct sp_err e;
    if (sp_pci_find_by_ids(w->sysfs_root, &d->ids, &d->host, &d->n_host, &e) < 0)
        return (d->host_error = strdup(e.msg)) ? 0 : -1;
    return 0;
}

/* Checks what the call says and fills d; -1 with the reason in why (why
 * empty: out of memory). */
static int read_call(const struct sp_legacy_where *w, const struct call *c,
                     struct sp_legacy_dev *d, char *why, size_t size)
{
    struct sp_err e;
    why[0] = '\0';
    int ids = read_ids(c, &d->ids, why, size);
    if (ids < 0)
        return -1;
    d->has_ids = ids;
    if (c->address[0]) {
        if (sp_pci_addr_parse(c->address, &d->addr, &e) < 0) {
            snprintf(why, size, "ADDRESS='%s': %s", c->address, e.msg);
            return -1;
        }
        d->has_addr = 1;
    }
    if (!d->has_addr && !d->has_ids) {
        snprintf(why, size, "neither ADDRESS nor VENDOR and PRODUCT: no device named");
        return -1;
    }
    if (c->rom[0] && find_rom(w, c, d, why, size) < 0)
        return -1;
    if (!d->has_addr && look_up_host(w, d) < 0)
        return -1;
    return (d->file = strdup(c->file)) ? 0 : -1;
}

static int take_detach(struct sp_legacy_plan *p, const struct call *c)
{
    char why[256];
    struct sp_legacy_dev d = {0};
    int ids = read_ids(c, &d.ids, why, sizeof(why));
    if (ids < 0)
        return add_skip(p, c->file, c->line, 1, "%s", why);
    d.has_ids = ids;
    return skip_detach(p, c, &d);
}

static int take_call(const struct sp_legacy_where *w, struct sp_legacy_plan *p, const struct call *c)
{
    if (!c->vm[0])
        return add_skip(p, c->file, c->line, 1, "VM_NAME is empty: no VM to give the device to");
    if (has_control_char(c->vm))
        return add_skip(p, c->file, c->line, 1, "VM_NAME has a control character");
    if (c->detach)
        return take_detach(p, c);
    char why[512];
    struct sp_legacy_dev d = {.line = c->line};
    int rc;
    if (read_call(w, c, &d, why, sizeof(why)) < 0)
        rc = why[0] ? add_skip(p, c->file, c->line, 1, "%s", why) : -1;
    else
        rc = add_device(p, c->vm, &d);
    dev_free(&d);
    return rc;
}

/* ---- one per-device script ------------------------------------------------------- */

static void describe_words(const struct sp_sh_stmt *st, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < st->n_words && used < size; i++) {
        const struct sp_sh_word *w = &st->words[i];
        int n = snprintf(out + used, size - used, "%s%s%s", i ? " " : "", w->ref ? "$" : "",
                         w->ref ? w->ref : w->text);
        used += n > 0 ? (size_t)n : 0;
    }
}

/* Lines of a device script that import does not read: every one is a
 * skip. Returns how many, or -1 when memory runs out. */
static int script_problems(struct sp_legacy_plan *p, const char *file,
                           const struct sp_sh_script *sc)
{
    int bad = 0, open_guard = 0, rc = 0;
    char what[160];
    for (size_t i = 0; i < sc->n_stmts && rc == 0; i++) {
        const struct sp_sh_stmt *st = &sc->stmts[i];
        if (st->kind == SP_SH_UNKNOWN) {
            rc = add_skip(p, file, st->line, 1, "%s", st->text);
        } else if (st->kind == SP_SH_COMMAND) {
            describe_words(st, what, sizeof(what));
            rc = add_skip(p, file, st->line, 1, "a command import does not read: '%s'", what);
        } else if (st->kind == SP_SH_GUARD_BEGIN && open_guard) {
            rc = add_skip(p, file, st->line, 1, "an if inside the guard");
        } else if (st->kind == SP_SH_GUARD_END && !open_guard) {
            rc = add_skip(p, file, st->line, 1, "a fi without its if");
        } else {
            open_guard += st->kind == SP_SH_GUARD_BEGIN ? 1 : st->kind == SP_SH_GUARD_END ? -1 : 0;
            continue;
        }
        bad++;
    }
    if (rc == 0 && open_guard) {
        rc = add_skip(p, file, 0, 1, "the guard's if has no fi");
        bad++;
    }
    return rc < 0 ? -1 : bad;
}

/* The worker's arguments in the call (missing ones are empty, as for the
 * worker). -1: a word could not be resolved (reason in why). */
static int call_args(const struct vars *vs, const struct sp_sh_stmt *st, const char **vals,
                     size_t n_vals, char *why, size_t size)
{
    for (size_t i = 0; i < n_vals; i++)
        vals[i] = "";
    for (size_t i = 0; i < st->n_words && i < n_vals; i++)
        if (!(vals[i] = resolve(vs, &st->words[i], why, size)))
            return -1;
    return 0;
}

static int take_worker(const struct sp_legacy_where *w, struct sp_legacy_plan *p,
                       const struct vars *vs, const struct sp_sh_stmt *st, struct call *c)
{
    char why[256];
    const char *vals[4];
    c->line = st->line;
    c->detach = st->worker == SP_SH_WORKER_DETACH;
    if (call_args(vs, st, vals, 4, why, sizeof(why)) < 0)
        return add_skip(p, c->file, st->line, 1, "%s", why);
    if (st->worker == SP_SH_WORKER_PREDECESSOR) {
        c->vendor = vals[0];
        c->product = vals[1];
        c->vm = vals[2];
        c->address = c->rom = "";
        if (vals[3][0] && add_skip(p, c->file, st->line, 1, "the vfio_pci module options "
                                   "'%s' are not imported: SynoPassthru does not reload "
                                   "vfio_pci; set them as module options yourself", vals[3]) < 0)
            return -1;
        return take_call(w, p, c);
    }
    c->address = vals[0];
    c->vendor = vals[1];
    c->product = vals[2];
    c->rom = vals[3];
    struct sp_sh_word vm_word = {.ref = "VM_NAME"};
    if (!(c->vm = resolve(vs, &vm_word, why, sizeof(why))))
        return add_skip(p, c->file, st->line, 1, "%s", why);
    return take_call(w, p, c);
}

static int script_devices(const struct sp_legacy_where *w, struct sp_legacy_plan *p,
                          const char *file, const char *script_dir, const struct sp_sh_script *sc)
{
    struct vars vs = {0};
    struct call c = {.file = file, .script_dir = script_dir};
    int rc = 0, calls = 0;
    for (size_t i = 0; i < sc->n_stmts && rc == 0; i++) {
        const struct sp_sh_stmt *st = &sc->stmts[i];
        if (st->kind == SP_SH_ASSIGN) {
            rc = vars_set(&vs, st);
        } else if (st->kind == SP_SH_WORKER) {
            calls++;
            rc = take_worker(w, p, &vs, st, &c);
        }
    }
    if (rc == 0 && calls == 0)
        rc = add_skip(p, file, 0, 0, "no call of %s or %s: nothing to import",
                      SP_SH_WORKER_CURRENT, SP_SH_WORKER_OLD);
    free(vs.v);
    return rc;
}

int sp_legacy_read_script(const struct sp_legacy_where *where, const char *file,
                          const char *text, size_t len, struct sp_legacy_plan *plan)
{
    struct sp_sh_script sc;
    if (sp_sh_parse(text, len, &sc) < 0)
        return -1;
    char *local = sp_path_join(where->dir, file);
    char *script_dir = local ? dir_of(local) : NULL;
    int bad = script_dir ? script_problems(plan, file, &sc) : -1;
    int rc = bad;
    if (bad > 0)
        rc = add_skip(plan, file, 0, 1, "nothing from this script is imported: import takes no "
                      "device from a script with a line it cannot read exactly");
    else if (bad == 0)
        rc = script_devices(where, plan, file, script_dir, &sc);
    free(script_dir);
    free(local);
    sp_sh_script_free(&sc);
    return rc < 0 ? -1 : 0;
}

/* ---- the master script ------------------------------------------------------------ */

struct master {
    const struct sp_legacy_where *where;
    struct sp_legacy_plan *plan;
    char **commented; /* scripts commented out, and the line of each */
    int *commented_line;
    size_t n_commented;
};

/* rm -f /var/log/NAME.log: the old scripts' debug log, nothing to import. */
static int is_log_reset(const struct sp_sh_stmt *st)
{
    if (st->n_words < 2 || !st->words[0].text || strcmp(st->words[0].text, "rm") != 0)
        return 0;
    int paths = 0;
    for (size_t i = 1; i < st->n_words; i++) {
        const char *w = st->words[i].text;
        if (!w || (w[0] != '-' && (strncmp(w, "/var/log/", 9) != 0 || !ends_with(w, ".log"))))
            return 0;
        paths += w[0] != '-';
    }
    return paths > 0;
}

static int run_script(struct master *m, const char *path, int line)
{
    char why[512];
    char *rel = script_rel(path, why, sizeof(why));
    if (!rel)
        return why[0] ? add_skip(m->plan, m->plan->master, line, 1, "%s", why) : -1;
    int rc = has_string(m->plan->called, m->plan->n_called, rel)
                 ? 0 : add_string(&m->plan->called, &m->plan->n_called, rel);
    free(rel);
    return rc;
}

static int master_command(struct master *m, const struct sp_sh_stmt *st)
{
    size_t prog = st->n_words > 1 && st->words[0].text &&
                  (strcmp(st->words[0].text, "sh") == 0 || strcmp(st->words[0].text, "bash") == 0);
    const char *name = st->words[prog].text;
    if (is_log_reset(st))
        return 0;
    if (name && ends_with(name, ".sh") && st->n_words == prog + 1)
        return run_script(m, name, st->line);
    char what[160];
    describe_words(st, what, sizeof(what));
    return add_skip(m->plan, m->plan->master, st->line, 1,
                    "a command import does not read: '%s'", what);
}

/* #/usr/local/libvirt/user/x.sh: a script switched off. */
static int note_comment(struct master *m, const struct sp_sh_stmt *st)
{
    const char *t = st->text;
    while (*t == ' ' || *t == '\t')
        t++;
    char why[512];
    if (strpbrk(t, " \t") || !ends_with(t, ".sh"))
        return 0;
    char *rel = script_rel(t, why, sizeof(why));
    if (!rel)
        return why[0] ? 0 : -1;
    char **grown = sp_array_grow(m->commented, m->n_commented, sizeof(*grown));
    int *lines = grown ? sp_array_grow(m->commented_line, m->n_commented, sizeof(*lines)) : NULL;
    if (grown)
        m->commented = grown;
    if (!lines) {
        free(rel);
        return -1;
    }
    m->commented_line = lines;
    grown[m->n_commented] = rel;
    lines[m->n_commented++] = st->line;
    return 0;
}

/* TARGET_VM="$1" and export TARGET_VM: how the master hands the VM to the
 * scripts, nothing to import. */
static int is_target_vm(const struct sp_sh_stmt *st)
{
    if (st->kind == SP_SH_ASSIGN)
        return strcmp(st->name, "TARGET_VM") == 0 && st->value.ref &&
               strcmp(st->value.ref, "1") == 0;
    for (size_t i = 0; i < st->n_words; i++)
        if (!st->words[i].text || strcmp(st->words[i].text, "TARGET_VM") != 0)
            return 0;
    return 1;
}

static int master_stmt(struct master *m, const struct sp_sh_stmt *st)
{
    const char *file = m->plan->master;
    switch (st->kind) {
    case SP_SH_COMMENT:
        return note_comment(m, st);
    case SP_SH_COMMAND:
        return master_command(m, st);
    case SP_SH_ASSIGN:
    case SP_SH_EXPORT:
        return is_target_vm(st) ? 0
                                : add_skip(m->plan, file, st->line, 1, "a variable set in the "
                                           "master: import does not carry it into the scripts");
    case SP_SH_WORKER:
        return add_skip(m->plan, file, st->line, 1, "a worker call in the master itself: "
                        "import reads devices only from the scripts the master runs");
    case SP_SH_UNKNOWN:
        return add_skip(m->plan, file, st->line, 1, "%s", st->text);
    default:
        return add_skip(m->plan, file, st->line, 1, "an if in the master: import reads it "
                        "only as a list of scripts");
    }
}

static int read_called(const struct sp_legacy_where *w, struct sp_legacy_plan *p)
{
    for (size_t i = 0; i < p->n_called; i++) {
        char *path = sp_path_join(w->dir, p->called[i]);
        char *text = NULL;
        size_t len = 0;
        struct sp_err e;
        int rc = !path ? -1
                 : sp_read_file(path, SCRIPT_MAX_BYTES, &text, &len, &e) < 0
                     ? add_skip(p, p->called[i], 0, 1, "the master runs it, but it cannot be "
                                "read: %s", e.msg)
                     : sp_legacy_read_script(w, p->called[i], text, len, p);
        free(text);
        free(path);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ---- scripts the master does not run ------------------------------------------------ */

static int is_known_file(const char *name)
{
    static const char *const known[] = {SP_LEGACY_MASTER, SP_LEGACY_MASTER_OLD,
                                        SP_SH_WORKER_CURRENT, SP_SH_WORKER_OLD,
                                        "my_hook_setup.sh", NULL};
    for (const char *const *k = known; *k; k++)
        if (strcmp(name, *k) == 0)
            return 1;
    return 0;
}

static int add_unused(struct master *m, const char *rel)
{
    struct sp_legacy_plan *p = m->plan;
    struct sp_legacy_unused *grown = sp_array_grow(p->unused, p->n_unused, sizeof(*grown));
    if (!grown)
        return -1;
    p->unused = grown;
    struct sp_legacy_unused *u = &grown[p->n_unused];
    for (size_t i = 0; i < m->n_commented && !u->commented_at; i++)
        if (strcmp(m->commented[i], rel) == 0)
            u->commented_at = m->commented_line[i];
    u->file = strdup(rel);
    if (!u->file)
        return -1;
    p->n_unused++;
    return 0;
}

/* Every *.sh in dir/sub that is not a known file of the scripts and not run. */
static int list_unused(struct master *m, const char *sub)
{
    char *dir = sub[0] ? sp_path_join(m->where->dir, sub) : strdup(m->where->dir);
    DIR *d = dir ? opendir(dir) : NULL;
    int rc = dir ? 0 : -1;
    for (struct dirent *e; d && rc == 0 && (e = readdir(d));) {
        char *rel = NULL, *path = NULL;
        struct stat st;
        if (!ends_with(e->d_name, ".sh") || (!sub[0] && is_known_file(e->d_name)))
            continue;
        if (asprintf(&rel, "%s%s%s", sub, sub[0] ? "/" : "", e->d_name) < 0 ||
            !(path = sp_path_join(dir, e->d_name)))
            rc = -1;
        else if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
                 !has_string(m->plan->called, m->plan->n_called, rel))
            rc = add_unused(m, rel);
        free(rel);
        free(path);
    }
    if (d)
        closedir(d);
    free(dir);
    return rc;
}

static int by_file(const void *a, const void *b)
{
    return strcmp(((const struct sp_legacy_unused *)a)->file,
                  ((const struct sp_legacy_unused *)b)->file);
}

/* ---- the install -------------------------------------------------------------------- */

static int is_file(const char *dir, const char *name)
{
    char *path = sp_path_join(dir, name);
    struct stat st;
    int yes = path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
    free(path);
    return yes;
}

static int read_master(struct master *m, struct sp_err *err)
{
    char *path = sp_path_join(m->where->dir, m->plan->master);
    char *text = NULL;
    size_t len = 0;
    struct sp_sh_script sc = {0};
    int rc = !path ? sp_err_set(err, "out of memory")
             : sp_read_file(path, SCRIPT_MAX_BYTES, &text, &len, err) < 0 ? -1
             : sp_sh_parse(text, len, &sc) < 0 ? sp_err_set(err, "out of memory") : 0;
    for (size_t i = 0; rc == 0 && i < sc.n_stmts; i++)
        if (master_stmt(m, &sc.stmts[i]) < 0)
            rc = sp_err_set(err, "out of memory");
    sp_sh_script_free(&sc);
    free(text);
    free(path);
    return rc;
}

static int read_install(struct master *m, struct sp_err *err)
{
    struct sp_legacy_plan *p = m->plan;
    if (read_master(m, err) < 0)
        return -1;
    if (read_called(m->where, p) < 0 || list_unused(m, "") < 0 ||
        (p->format == SP_LEGACY_SYNOPASSTHRU && list_unused(m, "user") < 0))
        return sp_err_set(err, "out of memory");
    if (p->n_unused)
        qsort(p->unused, p->n_unused, sizeof(*p->unused), by_file);
    return 0;
}

int sp_legacy_read(const struct sp_legacy_where *where, struct sp_legacy_plan *out,
                   struct sp_err *err)
{
    memset(out, 0, sizeof(*out));
    if (is_file(where->dir, SP_LEGACY_MASTER)) {
        out->format = SP_LEGACY_SYNOPASSTHRU;
        out->master = SP_LEGACY_MASTER;
    } else if (is_file(where->dir, SP_LEGACY_MASTER_OLD)) {
        out->format = SP_LEGACY_PREDECESSOR;
        out->master = SP_LEGACY_MASTER_OLD;
    } else {
        return 0;
    }
    if (!(out->dir = strdup(where->dir)))
        return sp_err_set(err, "out of memory");
    struct master m = {.where = where, .plan = out};
    int rc = read_install(&m, err);
    for (size_t i = 0; i < m.n_commented; i++)
        free(m.commented[i]);
    free(m.commented);
    free(m.commented_line);
    if (rc < 0) {
        sp_legacy_plan_free(out);
        return -1;
    }
    return 1;
}

void sp_legacy_plan_free(struct sp_legacy_plan *p)
{
    for (size_t i = 0; i < p->n_vms; i++) {
        for (size_t j = 0; j < p->vms[i].n_devs; j++)
            dev_free(&p->vms[i].devs[j]);
        free(p->vms[i].devs);
        free(p->vms[i].name);
    }
    for (size_t i = 0; i < p->n_skips; i++) {
        free(p->skips[i].file);
        free(p->skips[i].reason);
    }
    for (size_t i = 0; i < p->n_unused; i++)
        free(p->unused[i].file);
    for (size_t i = 0; i < p->n_called; i++)
        free(p->called[i]);
    free(p->vms);
    free(p->skips);
    free(p->unused);
    free(p->called);
    free(p->dir);
    memset(p, 0, sizeof(*p));
}
