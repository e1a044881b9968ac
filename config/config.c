#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "nametab.h"
#include "vmindex.h"
#include "watch.h"

struct vm_files;

/* One read of a snippet, immutable: the entries made from it point into it
 * and hold a reference, so a snapshot keeps it while the cache moves on.
 * One block: the snippet's specs and strings follow it (sp_snippet_pack). */
struct sp_shared_snippet {
    atomic_int refs;
    struct sp_snippet s;
    struct sp_dev_spec packed[];
};

struct cached_snippet {
    struct sp_file_id id; /* the file as last read */
    struct sp_shared_snippet *parsed;    /* the latest read, or NULL */
    struct sp_shared_snippet *last_good; /* while parsed has an error: the last read without one */
    time_t read_at;              /* when parsed was read */
    /* The VM it is indexed under: its record, or when it alone names that
     * VM (and the VM is not dirty), the read whose vm= is the VM's key in
     * sp_config.vms, held so that the key outlives a re-read. */
    union {
        struct vm_files *files;
        struct sp_shared_snippet *read;
    } filed;
    uint32_t note_slot : 26; /* 1 + its place in sp_config.noted, 0 when it has no note */
    unsigned alone : 1; /* filed by filed.read, with no record */
    unsigned keeps_good : 1; /* parsed is broken beyond its vm=: last_good is in force */
    unsigned listed : 1;
    unsigned changed : 1; /* named by an event since the last refresh */
    unsigned link : 1;    /* a symlink */
    /* A symlink or a file with other links: a write through another name
     * raises no event on vm.d, so it is stat'ed at each refresh. */
    unsigned polled : 1;
    char name[]; /* file name inside vm.d */
};

/* The snippets naming one VM, whose entry is made again when dirty (a VM
 * of one snippet has a record only while dirty: see lone_slot). One is
 * held in place; two or more are an array, whose room
 * is the least power of two that holds n (see add_member). */
struct vm_files {
    union {
        struct cached_snippet *one; /* n <= 1 */
        struct cached_snippet **many;
    } m;
    uint32_t n;
    uint8_t dirty;
    char key[]; /* the vm attribute */
};

struct file_state {
    int exists;
    int error; /* stat's errno when it does not exist as far as we can tell */
    struct stat st;
    time_t read_at; /* when it was last read (listed, for vm.d) */
};

struct sp_config {
    pthread_mutex_t lock;
    char *dir;
    char *conf_path;
    char *vmd_path;
    struct file_state dir_state, conf_state, vmd_state;
    char *real_dir; /* the config dir, symlinks resolved; NULL when absent */
    char *dir_error;
    char *conf_error;
    char *list_error; /* vm.d could not be listed: the last listing stands */
    struct sp_settings settings;
    struct sp_nametab snippets; /* struct cached_snippet by name */
    /* Events (watch.h) spare an unchanged vm.d any per-file look: only the
     * files named by events are looked at, plus the polled ones. */
    struct sp_watch *watch;
    struct cached_snippet **events; /* named by events since the last refresh */
    size_t n_events, cap_events;
    struct cached_snippet **polled;
    size_t n_polled;
    int polled_stale; /* polled no longer lists exactly the polled entries */
    /* The index is updated, not rebuilt: the VMs whose snippets changed
     * since the last snapshot get new entries, the rest are shared. */
    struct sp_nametab vms; /* by key: struct vm_files, or a lone snippet (lone_slot) */
    struct vm_files **dirty;
    size_t n_dirty, cap_dirty;
    struct cached_snippet **noted; /* snippets with a note for the log */
    size_t n_noted, cap_noted;
    int watch_noted;  /* the log said once that events are unavailable */
    int must_walk;    /* memory ran out half way: events may not say what is left */
    char *watch_note; /* for the log with the next snapshot */
    struct sp_snapshot *current;
    unsigned long parses;
    unsigned long generations;
    /* sp_config_override_snippet: one vm.d file read from this text */
    char *override_name;
    char *override_text; /* NULL: the file reads as absent */
    size_t override_len;
};

const char *sp_config_dir_choose(const char *explicit_dir)
{
    if (explicit_dir && *explicit_dir)
        return explicit_dir;
    const char *env = secure_getenv(SP_ENV_CONFIG_DIR);
    if (env && *env)
        return env;
    return SP_DEFAULT_CONFIG_DIR;
}

/* Paths derived from the config dir (ROMs above all) end up in the domain
 * XML, where libvirt wants them absolute, and are opened by a daemon whose
 * working directory is not the user's: anchor a relative dir here, once. */
static char *absolute_dir(const char *dir)
{
    if (dir[0] == '/')
        return strdup(dir);
    char *cwd = getcwd(NULL, 0);
    char *abs = cwd ? sp_path_join(cwd, dir) : NULL;
    free(cwd);
    return abs;
}

/* --- the VM table's two shapes ------------------------------------------ */

/* A VM that one snippet alone names has no record: its slot in
 * sp_config.vms is the snippet itself, tagged by the low bit (blocks from
 * malloc are aligned). A record is made again when the VM turns dirty or a
 * second snippet names it, and dropped when it settles with one. */
static void *lone_slot(const struct cached_snippet *c)
{
    return (void *)((uintptr_t)c | 1);
}

static struct cached_snippet *lone_of(const void *slot)
{
    return (uintptr_t)slot & 1 ? (struct cached_snippet *)((uintptr_t)slot & ~(uintptr_t)1)
                               : NULL;
}

static const char *vm_key(const void *slot)
{
    const struct cached_snippet *c = lone_of(slot);
    return c ? c->filed.read->s.vm : ((const struct vm_files *)slot)->key;
}

struct sp_config *sp_config_new(const char *dir)
{
    struct sp_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return NULL;
    pthread_mutex_init(&cfg->lock, NULL);
    cfg->snippets = (struct sp_nametab)SP_NAMETAB_INIT(struct cached_snippet, name);
    cfg->vms = (struct sp_nametab){.name_of = vm_key};
    cfg->dir = absolute_dir(dir);
    cfg->conf_path = cfg->dir ? sp_path_join(cfg->dir, SP_CONF_FILE) : NULL;
    cfg->vmd_path = cfg->dir ? sp_path_join(cfg->dir, SP_SNIPPET_DIR) : NULL;
    if (!cfg->dir || !cfg->conf_path || !cfg->vmd_path ||
        sp_settings_defaults(&cfg->settings, cfg->dir) < 0) {
        sp_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static struct cached_snippet **members(struct vm_files *v)
{
    return v->n > 1 ? v->m.many : &v->m.one;
}

static void free_vm_files(struct vm_files *v)
{
    if (v->n > 1)
        free(v->m.many);
    free(v);
}

/* When n is a power of two the array is full: it moves to one twice the
 * size (from `one`, to an array of two). Room never shrinks but to `one`,
 * so there is room for n + 1 whenever n is not a power of two. */
static int add_member(struct vm_files *v, struct cached_snippet *c)
{
    if (v->n == 0) {
        v->m.one = c;
        v->n = 1;
        return 0;
    }
    if ((v->n & (v->n - 1)) == 0) {
        struct cached_snippet **grown = malloc(2 * v->n * sizeof(*grown));
        if (!grown)
            return -1;
        memcpy(grown, members(v), v->n * sizeof(*grown));
        if (v->n > 1)
            free(v->m.many);
        v->m.many = grown;
    }
    v->m.many[v->n++] = c;
    return 0;
}

static void drop_member(struct vm_files *v, const struct cached_snippet *c)
{
    struct cached_snippet **m = members(v);
    for (uint32_t i = 0; i < v->n; i++) {
        if (m[i] == c) {
            m[i] = m[--v->n];
            break;
        }
    }
    if (v->n == 1 && m != &v->m.one) {
        v->m.one = m[0];
        free(m);
    }
}

/* The i-th slot of the snippet table: NULL when free. */
static struct cached_snippet *snippet_slot(const struct sp_config *cfg, size_t i)
{
    return cfg->snippets.slots[i];
}

static const struct sp_snippet no_read; /* a snippet not read (yet) */

static const struct sp_snippet *read_of(const struct sp_shared_snippet *p)
{
    return p ? &p->s : &no_read;
}

/* Takes over what s owns (freed now: the read is a packed copy). */
static struct sp_shared_snippet *share_read(struct sp_snippet *s)
{
    struct sp_shared_snippet *p = malloc(sizeof(*p) + sp_snippet_pack_size(s));
    if (!p)
        return NULL;
    atomic_init(&p->refs, 1);
    sp_snippet_pack(s, &p->s, p->packed);
    sp_snippet_free(s);
    return p;
}

static void release_read(struct sp_shared_snippet *p)
{
    if (p && atomic_fetch_sub(&p->refs, 1) == 1)
        free(p);
}

static int is_filed(const struct cached_snippet *c)
{
    return c->alone || c->filed.files;
}

static const char *filed_key(const struct cached_snippet *c)
{
    return c->alone ? c->filed.read->s.vm : c->filed.files->key;
}

static struct vm_files *new_vm_files(const char *key)
{
    size_t len = strlen(key);
    struct vm_files *v = calloc(1, sizeof(*v) + len + 1);
    if (v)
        memcpy(v->key, key, len + 1);
    return v;
}

/* A lone snippet's VM gets its record back (NULL when memory runs out). */
static struct vm_files *record_lone(struct sp_config *cfg, struct cached_snippet *c)
{
    struct vm_files *v = new_vm_files(c->filed.read->s.vm);
    if (!v)
        return NULL;
    v->m.one = c;
    v->n = 1;
    sp_nametab_replace(&cfg->vms, lone_slot(c), v);
    release_read(c->filed.read);
    c->alone = 0;
    c->filed.files = v;
    return v;
}

/* The record of the VM a snippet is filed under, made when it has none. */
static struct vm_files *record_of(struct sp_config *cfg, struct cached_snippet *c)
{
    return c->alone ? record_lone(cfg, c) : c->filed.files;
}

/* Out of memory while a lone snippet leaves: it leaves the table anyway
 * (its VM's entry stays as it was until that VM changes again). */
static void drop_lone(struct sp_config *cfg, struct cached_snippet *c)
{
    sp_nametab_del(&cfg->vms, lone_slot(c));
    release_read(c->filed.read);
    c->alone = 0;
    c->filed.files = NULL;
}

static void forget_reads(struct cached_snippet *c)
{
    release_read(c->parsed);
    release_read(c->last_good);
    c->parsed = c->last_good = NULL;
    c->keeps_good = 0;
}

static void free_cached(struct cached_snippet *c)
{
    if (c->alone)
        release_read(c->filed.read);
    forget_reads(c);
    free(c);
}

void sp_config_free(struct sp_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->snippets.cap; i++)
        if (snippet_slot(cfg, i))
            free_cached(snippet_slot(cfg, i));
    sp_nametab_free(&cfg->snippets);
    if (cfg->current)
        sp_snapshot_release(cfg->current);
    for (size_t i = 0; i < cfg->vms.cap; i++)
        if (cfg->vms.slots[i] && !lone_of(cfg->vms.slots[i]))
            free_vm_files(cfg->vms.slots[i]);
    sp_nametab_free(&cfg->vms);
    free(cfg->dirty);
    free(cfg->noted);
    sp_watch_free(cfg->watch);
    free(cfg->events);
    free(cfg->polled);
    free(cfg->watch_note);
    sp_settings_free(&cfg->settings);
    free(cfg->real_dir);
    free(cfg->dir_error);
    free(cfg->conf_error);
    free(cfg->list_error);
    free(cfg->dir);
    free(cfg->conf_path);
    free(cfg->vmd_path);
    free(cfg->override_name);
    free(cfg->override_text);
    pthread_mutex_destroy(&cfg->lock);
    free(cfg);
}

unsigned long sp_config_parse_count(struct sp_config *cfg)
{
    pthread_mutex_lock(&cfg->lock);
    unsigned long n = cfg->parses;
    pthread_mutex_unlock(&cfg->lock);
    return n;
}

/* --- change detection --------------------------------------------------- */

/* Stats path into a fresh state; returns 1 when it differs from *old. */
/* File times are coarse (a kernel tick): a change made in the same tick
 * as our last read leaves the stat exactly as it was. Whatever was modified
 * within a second of when it was read is read again, until it is older. */
static int maybe_changed_unseen(const struct stat *st, time_t read_at)
{
    return st->st_mtim.tv_sec >= read_at - 1;
}

static int restat(const char *path, struct file_state *old)
{
    struct file_state now = {.read_at = old->read_at};
    now.exists = stat(path, &now.st) == 0;
    now.error = now.exists ? 0 : errno;
    int changed = now.exists != old->exists || (now.exists && !sp_stat_same(&now.st, &old->st));
    *old = now;
    return changed;
}

static int replace_string(char **field, const char *value)
{
    char *copy = value ? strdup(value) : NULL;
    if (value && !copy)
        return -1;
    free(*field);
    *field = copy;
    return 0;
}

/* StrictModes for vm.d: it and the directories above it, and no symlink
 * out of the config dir. */
static int check_snippet_dir(struct sp_config *cfg, struct sp_err *e)
{
    char *real = NULL;
    int rc = sp_check_dir_chain(cfg->vmd_path, "snippet dir", NULL, e);
    if (rc == 0 && cfg->real_dir)
        rc = sp_resolve_within(cfg->vmd_path, cfg->real_dir, "the config dir", &real, e);
    free(real);
    return rc;
}

/* Returns 1 when *field changes to value, 0 when not, -1 out of memory. */
static int update_string(char **field, const char *value)
{
    if ((!*field && !value) || (*field && value && strcmp(*field, value) == 0))
        return 0;
    return replace_string(field, value) < 0 ? -1 : 1;
}

/* StrictModes for the config dir, vm.d and every directory above them, run
 * at each refresh (a directory above may change without the config dir
 * changing); the first problem wins. Returns 1 when the verdict changed, 0
 * when not, -1 out of memory; *moved: the config dir resolves elsewhere. */
/* A directory that may exist but cannot be looked at (EACCES, ELOOP ...):
 * not the same as one that is not there. */
static int unreachable(const struct file_state *f, const char *path, const char *what,
                       struct sp_err *e)
{
    if (f->exists || f->error == ENOENT)
        return 0;
    sp_err_set(e, "%s %s: %s", what, path, strerror(f->error));
    return 1;
}

static int check_dirs(struct sp_config *cfg, int *moved)
{
    struct sp_err e;
    const char *problem = NULL;
    char *real = cfg->dir_state.exists ? realpath(cfg->dir, NULL) : NULL;
    int rc = update_string(&cfg->real_dir, real);
    free(real);
    if (rc < 0)
        return -1;
    *moved = rc;
    if (cfg->dir_state.exists && (sp_check_dir_chain(cfg->dir, "config dir", NULL, &e) < 0 ||
                                  (cfg->vmd_state.exists && check_snippet_dir(cfg, &e) < 0)))
        problem = e.msg;
    else if (unreachable(&cfg->dir_state, cfg->dir, "config dir", &e) ||
             unreachable(&cfg->vmd_state, cfg->vmd_path, "snippet dir", &e))
        problem = e.msg;
    return update_string(&cfg->dir_error, problem);
}

/* A file of the config dir, read through one fd (never a FIFO, a device or
 * a symlink out of the config dir), with that fd's fstat in *st. */
static int read_config_file(struct sp_config *cfg, const char *path, char **buf, size_t *len,
                            struct stat *st, struct sp_err *e)
{
    char *real = NULL;
    if (cfg->real_dir && sp_resolve_within(path, cfg->real_dir, "the config dir", &real, e) < 0)
        return -1;
    int rc = sp_read_file_stat(real ? real : path, real ? SP_OPEN_NOFOLLOW : 0,
                               SP_SNIPPET_MAX_BYTES, buf, len, st, e);
    if (rc < 0 && real && strcmp(real, path) != 0)
        sp_err_prefix(e, "%s", path);
    free(real);
    return rc;
}

static int reload_conf(struct sp_config *cfg)
{
    struct sp_settings fresh;
    if (sp_settings_defaults(&fresh, cfg->dir) < 0)
        return -1;
    struct sp_err e;
    const char *problem = NULL;
    if (cfg->conf_state.exists) {
        cfg->parses++;
        char *buf = NULL;
        size_t len = 0;
        struct stat st;
        if (read_config_file(cfg, cfg->conf_path, &buf, &len, &st, &e) < 0 ||
            sp_check_strict_mode(cfg->conf_path, &st, "config file", &e) < 0 ||
            sp_settings_parse(&fresh, cfg->conf_path, buf, len, cfg->dir, &e) < 0)
            problem = e.msg;
        free(buf);
    }
    sp_settings_free(&cfg->settings);
    cfg->settings = fresh;
    return replace_string(&cfg->conf_error, problem);
}

static int has_xml_suffix(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".xml") == 0;
}

/* --- which VM each snippet counts for ------------------------------------ */

/* The version of a snippet that is in force. */
static const struct sp_snippet *in_force(const struct cached_snippet *c)
{
    return read_of(c->keeps_good ? c->last_good : c->parsed);
}

/* A snippet has a note for the log while it is kept at its last good
 * version or names no VM because of an error. */
static int has_note(const struct cached_snippet *c)
{
    return c->keeps_good || (!in_force(c)->vm && in_force(c)->error);
}

static int grow(void *list, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t more = *cap ? 2 * *cap : 2;
    void *grown = realloc(*(void **)list, more * size);
    if (!grown)
        return -1;
    *(void **)list = grown;
    *cap = more;
    return 0;
}

/* The most dirty VMs a refresh keeps room for afterwards. */
#define DIRTY_KEPT 64

static int mark_dirty(struct sp_config *cfg, struct vm_files *v)
{
    if (v->dirty)
        return 0;
    if (grow(&cfg->dirty, &cfg->cap_dirty, cfg->n_dirty, sizeof(*cfg->dirty)) < 0)
        return -1;
    cfg->dirty[cfg->n_dirty++] = v;
    v->dirty = 1;
    return 0;
}

static void drop_note(struct sp_config *cfg, struct cached_snippet *c)
{
    if (!c->note_slot)
        return;
    struct cached_snippet *last = cfg->noted[--cfg->n_noted];
    cfg->noted[c->note_slot - 1] = last;
    last->note_slot = c->note_slot;
    c->note_slot = 0;
}

static int keep_note(struct sp_config *cfg, struct cached_snippet *c)
{
    if (c->note_slot)
        return 0;
    if (grow(&cfg->noted, &cfg->cap_noted, cfg->n_noted, sizeof(*cfg->noted)) < 0)
        return -1;
    cfg->noted[cfg->n_noted++] = c;
    c->note_slot = cfg->n_noted;
    return 0;
}

/* Takes the snippet out of its VM's files (that VM's entry is made again). */
static int unfile(struct sp_config *cfg, struct cached_snippet *c)
{
    drop_note(cfg, c);
    if (!is_filed(c))
        return 0;
    struct vm_files *v = record_of(cfg, c);
    if (!v) {
        drop_lone(cfg, c);
        return -1;
    }
    drop_member(v, c);
    c->filed.files = NULL;
    return mark_dirty(cfg, v);
}

/* The record of a VM, made (with no snippet) when it has none. */
static struct vm_files *files_of(struct sp_config *cfg, const char *key)
{
    void *slot = sp_nametab_find(&cfg->vms, key);
    if (slot)
        return lone_of(slot) ? record_lone(cfg, lone_of(slot)) : slot;
    struct vm_files *v = new_vm_files(key);
    if (v && sp_nametab_add(&cfg->vms, v) < 0) {
        free(v);
        return NULL;
    }
    return v;
}

/* After a snippet changed: filed under the VM it names now, and the VMs
 * it left and joined marked for new entries. */
static int refile(struct sp_config *cfg, struct cached_snippet *c)
{
    const char *vm = in_force(c)->vm;
    if (is_filed(c) && (!vm || strcmp(filed_key(c), vm) != 0) && unfile(cfg, c) < 0)
        return -1;
    if (has_note(c) ? keep_note(cfg, c) < 0 : (drop_note(cfg, c), 0))
        return -1;
    if (is_filed(c)) {
        struct vm_files *filed = record_of(cfg, c);
        return filed ? mark_dirty(cfg, filed) : -1;
    }
    if (!vm)
        return 0;
    struct vm_files *v = files_of(cfg, vm);
    if (!v || add_member(v, c) < 0)
        return -1;
    c->filed.files = v;
    return mark_dirty(cfg, v);
}

int sp_config_override_snippet(struct sp_config *cfg, const char *name, const char *text,
                               size_t len)
{
    free(cfg->override_name);
    free(cfg->override_text);
    cfg->override_text = NULL;
    cfg->override_len = len;
    cfg->override_name = strdup(name);
    if (!cfg->override_name || (text && !(cfg->override_text = strndup(text, len))))
        return -1;
    return 0;
}

static int is_override(const struct sp_config *cfg, const char *name)
{
    return cfg->override_name && strcmp(cfg->override_name, name) == 0;
}

/* The cache entry of a file in vm.d, added (unparsed) when new. */
static struct cached_snippet *cached_for(struct sp_config *cfg, const char *name)
{
    return sp_nametab_find_or_new(&cfg->snippets, name);
}

static void drop_cached(struct sp_config *cfg, struct cached_snippet *c)
{
    unfile(cfg, c);
    if (c->polled)
        cfg->polled_stale = 1;
    sp_nametab_del(&cfg->snippets, c);
    free_cached(c);
}

static int is_symlink(const struct sp_config *cfg, const char *name)
{
    struct stat st;
    char *path = sp_path_join(cfg->vmd_path, name);
    int link = path && lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
    free(path);
    return link;
}

/* Events named entries that a listing may drop: a walk looks at all anyway. */
static void forget_events(struct sp_config *cfg)
{
    for (size_t i = 0; i < cfg->n_events; i++)
        cfg->events[i]->changed = 0;
    cfg->n_events = 0;
}

/* Re-reads vm.d's listing: new files are added (unparsed), gone ones dropped. */
static int relist_snippets(struct sp_config *cfg)
{
    struct cached_snippet *c;
    int gone = !cfg->vmd_state.exists && cfg->vmd_state.error == ENOENT;
    DIR *d = gone ? NULL : opendir(cfg->vmd_path);
    if (!gone && !d) {
        /* Not the same as empty: the VMs of the last listing stay known
         * (and are refused with this reason), none starts bare. */
        char *why = NULL;
        if (asprintf(&why, "snippet dir %s: cannot list it: %s", cfg->vmd_path,
                     strerror(errno)) < 0)
            return -1;
        free(cfg->list_error);
        cfg->list_error = why;
        return 0;
    }
    free(cfg->list_error);
    cfg->list_error = NULL;
    forget_events(cfg);
    for (size_t i = 0; i < cfg->snippets.cap; i++)
        if ((c = snippet_slot(cfg, i)))
            c->listed = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (!has_xml_suffix(de->d_name))
            continue;
        if (!(c = cached_for(cfg, de->d_name))) {
            closedir(d);
            return -1;
        }
        c->listed = 1;
        c->link = de->d_type == DT_UNKNOWN ? is_symlink(cfg, c->name) : de->d_type == DT_LNK;
    }
    if (d)
        closedir(d);
    if (cfg->override_name) {
        if (!(c = cached_for(cfg, cfg->override_name)))
            return -1;
        c->listed = cfg->override_text != NULL;
    }
    /* A drop moves a later snippet into slot i: i is looked at again. */
    for (size_t i = 0; i < cfg->snippets.cap;) {
        if ((c = snippet_slot(cfg, i)) && !c->listed)
            drop_cached(cfg, c);
        else
            i++;
    }
    return 0;
}

/* Before a re-read: a good parse becomes the version to fall back on. */
static void retire_parse(struct cached_snippet *c)
{
    if (read_of(c->parsed)->path && !read_of(c->parsed)->error) {
        release_read(c->last_good);
        c->last_good = c->parsed;
        c->parsed = NULL;
    }
    release_read(c->parsed);
    c->parsed = NULL;
    c->keeps_good = 0;
}

/* The VM the file named when last read (a read broken beyond its vm=
 * names none: then the VM of its last good version). */
static const char *last_named_vm(const struct cached_snippet *c)
{
    return read_of(c->parsed)->vm ? read_of(c->parsed)->vm : read_of(c->last_good)->vm;
}

/* A snippet that cannot be read or trusted: it keeps the VM it named when
 * it was last read, so that VM is refused with the reason instead of
 * starting without the devices; otherwise the error stands alone (logged,
 * the file skipped). */
static int unusable_snippet(struct cached_snippet *c, const char *path, const char *why)
{
    const char *named = last_named_vm(c);
    struct sp_snippet s = {.vm = named ? strdup(named) : NULL, .path = strdup(path)};
    struct sp_shared_snippet *p = NULL;
    if ((named && !s.vm) || !s.path || sp_snippet_set_error(&s, why) < 0 ||
        !(p = share_read(&s))) {
        sp_snippet_free(&s);
        return -1;
    }
    retire_parse(c);
    c->parsed = p;
    return 0;
}

/* The new read in force; a good one leaves nothing to fall back on. An
 * editor's in-place write truncates the file first: a read caught mid-write
 * that no longer says which VM it is for leaves the last good version in
 * force (note_snippet says so in the log). */
static int install_parse(struct cached_snippet *c, struct sp_snippet *fresh)
{
    struct sp_shared_snippet *p = share_read(fresh);
    if (!p)
        return -1;
    retire_parse(c);
    c->parsed = p;
    if (!p->s.error) {
        release_read(c->last_good);
        c->last_good = NULL;
    }
    c->keeps_good = p->s.error && !p->s.vm && read_of(c->last_good)->path;
    return 0;
}

static int parse_snippet_file(struct sp_config *cfg, struct cached_snippet *c, const char *path)
{
    cfg->parses++;
    struct sp_err e;
    char *buf = NULL;
    size_t len = 0;
    struct stat st;
    if (read_config_file(cfg, path, &buf, &len, &st, &e) < 0)
        return unusable_snippet(c, path, e.msg);
    sp_file_id_set(&c->id, &st);
    struct sp_snippet fresh;
    int rc = sp_snippet_parse(path, buf, len, &fresh);
    free(buf);
    /* StrictModes on the fd that was read: the verdict is about these bytes,
     * and a file failing it is no version to keep. */
    int untrusted = rc == 0 && sp_check_strict_mode(path, &st, "snippet", &e) < 0;
    if (untrusted && !fresh.vm) {
        sp_snippet_free(&fresh);
        return unusable_snippet(c, path, e.msg);
    }
    if (untrusted)
        rc = sp_snippet_set_error(&fresh, e.msg);
    if (rc < 0 || install_parse(c, &fresh) < 0) {
        sp_snippet_free(&fresh);
        memset(&c->id, 0, sizeof(c->id)); /* out of memory: read it again next time */
        return -1;
    }
    return 0;
}

/* The overriding text in place of the file, parsed once: it is what the
 * caller is about to write, so the file's owner and mode are not its.
 * Returns 1 when parsed now, 0 when it was already, -1 out of memory. */
static int parse_override(struct sp_config *cfg, struct cached_snippet *c, const char *path)
{
    if (read_of(c->parsed)->path)
        return 0;
    cfg->parses++;
    struct sp_snippet fresh;
    if (sp_snippet_parse(path, cfg->override_text, cfg->override_len, &fresh) < 0 ||
        install_parse(c, &fresh) < 0) {
        sp_snippet_free(&fresh);
        return -1;
    }
    return 1;
}

/* Whether a snippet must be stat'ed at each refresh (see polled). */
static void set_polled(struct sp_config *cfg, struct cached_snippet *c, int polled)
{
    if (c->polled != (unsigned)polled)
        cfg->polled_stale = 1;
    c->polled = polled ? 1 : 0;
}

/* Stats one known snippet and re-parses it when it changed, or anyway when
 * forced (an event named it, or the config dir resolves elsewhere now:
 * what is inside it changed). Returns 1 when something changed, 0 when
 * not, -1 on memory failure. */
static int refresh_one(struct sp_config *cfg, struct cached_snippet *c, int force)
{
    char *path = sp_path_join(cfg->vmd_path, c->name);
    if (!path)
        return -1;
    struct stat st;
    int rc = 0, changed = 0;
    int failed = stat(path, &st) < 0 ? errno : 0;
    set_polled(cfg, c, c->link || (!failed && st.st_nlink > 1));
    if (is_override(cfg, c->name)) {
        rc = parse_override(cfg, c, path);
        changed = rc > 0;
    } else if (failed == ENOENT) {
        /* Listed but not there: a symlink whose target is missing (a
         * removed file goes with its event, or vm.d's next listing). It
         * names no VM until its target appears, and is polled. */
        if (read_of(c->parsed)->path) {
            forget_reads(c);
            memset(&c->id, 0, sizeof(c->id));
            changed = 1;
        }
    } else if (failed) {
        /* There but out of reach: its VM is refused with the reason
         * (said once; it is read again once it can be stat'ed). */
        if (sp_file_id_taken(&c->id) || !read_of(c->parsed)->path) {
            char why[128];
            snprintf(why, sizeof(why), "cannot stat it: %s", strerror(failed));
            memset(&c->id, 0, sizeof(c->id));
            rc = unusable_snippet(c, path, why);
            changed = 1;
        }
    } else if (force || !read_of(c->parsed)->path || !sp_file_id_same(&c->id, &st) ||
               maybe_changed_unseen(&st, c->read_at)) {
        sp_file_id_set(&c->id, &st);
        c->read_at = time(NULL);
        rc = parse_snippet_file(cfg, c, path);
        changed = 1;
    }
    free(path);
    if (rc < 0 || (changed && refile(cfg, c) < 0))
        return -1;
    return changed;
}

static int rebuild_polled(struct sp_config *cfg)
{
    size_t n = 0;
    struct cached_snippet *c;
    for (size_t i = 0; i < cfg->snippets.cap; i++)
        if ((c = snippet_slot(cfg, i)))
            n += c->polled;
    struct cached_snippet **list = n ? malloc(n * sizeof(*list)) : NULL;
    if (n && !list)
        return -1;
    n = 0;
    for (size_t i = 0; i < cfg->snippets.cap; i++)
        if ((c = snippet_slot(cfg, i)) && c->polled)
            list[n++] = c;
    free(cfg->polled);
    cfg->polled = list;
    cfg->n_polled = n;
    cfg->polled_stale = 0;
    return 0;
}

/* Stats every known snippet and re-parses those that changed.
 * Returns 1 when something changed, 0 when not, -1 on memory failure. */
static int refresh_snippets(struct sp_config *cfg, int moved)
{
    int changed = 0;
    for (size_t i = 0; i < cfg->snippets.cap; i++) {
        struct cached_snippet *c = snippet_slot(cfg, i);
        int rc = c ? refresh_one(cfg, c, moved) : 0;
        if (rc < 0)
            return -1;
        changed |= rc;
    }
    return rebuild_polled(cfg) < 0 ? -1 : changed;
}

/* --- events ------------------------------------------------------------- */

/* sp_watch_drain's callback: a name in vm.d to look at in this refresh. */
static int queue_event(void *ctx, const char *name)
{
    struct sp_config *cfg = ctx;
    if (!has_xml_suffix(name))
        return 0;
    struct cached_snippet *c = cached_for(cfg, name);
    if (!c)
        return -1;
    if (c->changed)
        return 0;
    if (grow(&cfg->events, &cfg->cap_events, cfg->n_events, sizeof(*cfg->events)) < 0)
        return -1;
    cfg->events[cfg->n_events++] = c;
    c->changed = 1;
    return 0;
}

/* A name an event gave: gone (dropped at once), or read again. */
static int refresh_named(struct sp_config *cfg, struct cached_snippet *c)
{
    struct stat st;
    char *path = sp_path_join(cfg->vmd_path, c->name);
    if (!path)
        return -1;
    int gone = lstat(path, &st) < 0 && errno == ENOENT;
    c->link = !gone && S_ISLNK(st.st_mode);
    free(path);
    if (gone) {
        drop_cached(cfg, c);
        return 1;
    }
    int added = !c->listed; /* counted now, though it may name no VM yet */
    c->listed = 1;
    int rc = refresh_one(cfg, c, 1);
    return rc < 0 ? -1 : rc | added;
}

/* The snippets events named, then the polled ones. Returns 1 when
 * something changed, 0 when not, -1 on memory failure. */
static int refresh_changed(struct sp_config *cfg)
{
    int changed = 0, rc = 0;
    size_t i, n = cfg->n_events;
    forget_events(cfg); /* the list stays as it is until the next drain */
    for (i = 0; i < n && rc >= 0; i++)
        changed |= rc = refresh_named(cfg, cfg->events[i]);
    if (rc < 0 || (cfg->polled_stale && rebuild_polled(cfg) < 0))
        return -1;
    for (i = 0; i < cfg->n_polled && rc >= 0; i++)
        changed |= rc = refresh_one(cfg, cfg->polled[i], 0);
    if (rc < 0 || (cfg->polled_stale && rebuild_polled(cfg) < 0))
        return -1;
    return changed;
}

/* Said once in the log, with the next snapshot. */
__attribute__((format(printf, 2, 3))) static void watch_says(struct sp_config *cfg,
                                                            const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    free(cfg->watch_note);
    cfg->watch_note = msg;
}

/* Drains the events queued since the last refresh. Returns SP_WATCH_*
 * flags, with SP_WATCH_WALK when every file must be looked at (then the
 * watches are set again first, so that no change after the walk's reads
 * goes unseen); -1 when events cannot be had at all. */
static long watch_events(struct sp_config *cfg)
{
    if (!cfg->watch && !(cfg->watch = sp_watch_new()))
        return -1;
    unsigned flags = sp_watch_drain(cfg->watch, queue_event, cfg);
    if (!sp_watch_covers(cfg->watch, &cfg->dir_state.st, &cfg->vmd_state.st))
        flags |= SP_WATCH_WALK;
    if (flags & SP_WATCH_WALK) {
        forget_events(cfg);
        sp_watch_arm(cfg->watch, cfg->dir, cfg->vmd_path);
    }
    const char *why = sp_watch_unavailable(cfg->watch);
    if (why && !cfg->watch_noted)
        watch_says(cfg, "config dir %s: no change notification (%s): each VM start stats "
                   "every snippet instead", cfg->dir, why);
    else if (flags & SP_WATCH_OVERFLOW)
        watch_says(cfg, "config dir %s: more changes at once than the change notification "
                   "queue holds: every snippet was looked at again", cfg->dir);
    cfg->watch_noted |= why != NULL;
    return why ? -1 : (long)flags;
}

/* --- snapshots ---------------------------------------------------------- */

static int append_string(char ***list, size_t *n, const char *s)
{
    char **grown = realloc(*list, (*n + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    *list = grown;
    if (!(grown[*n] = strdup(s)))
        return -1;
    (*n)++;
    return 0;
}

static void free_strings(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

static void free_snapshot(struct sp_snapshot *snap)
{
    sp_index_free(snap->index);
    sp_settings_free(&snap->settings);
    free_strings(snap->orphan_errors, snap->n_orphan_errors);
    free(snap->global_error);
    free(snap->config_dir);
    free(snap);
}

static int by_name(const void *a, const void *b)
{
    const struct cached_snippet *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* The devices and files of several snippets, in one array each (their
 * strings stay the snippets'). */
static int join_reads(struct sp_vm_entry *e)
{
    size_t n_specs = 0;
    for (size_t i = 0; i < e->n_from; i++)
        n_specs += e->from[i]->s.n_specs;
    e->files = malloc(e->n_from * sizeof(*e->files));
    e->specs = n_specs ? malloc(n_specs * sizeof(*e->specs)) : NULL;
    if (!e->files || (n_specs && !e->specs))
        return -1;
    for (size_t i = 0; i < e->n_from; i++) {
        const struct sp_snippet *s = &e->from[i]->s;
        e->files[e->n_files++] = s->path;
        if (!e->error)
            e->error = s->error;
        if (s->n_specs)
            memcpy(&e->specs[e->n_specs], s->specs, s->n_specs * sizeof(*s->specs));
        e->n_specs += s->n_specs;
    }
    return 0;
}

/* The entry of one VM: its snippets' devices in file name order. It points
 * into the reads in force (one allocation for a VM of one snippet). */
static struct sp_vm_entry *make_entry(struct vm_files *v)
{
    struct cached_snippet **m = members(v);
    if (v->n > 1)
        qsort(m, v->n, sizeof(*m), by_name);
    struct sp_vm_entry *e = calloc(1, sizeof(*e) + v->n * sizeof(*e->from));
    if (!e)
        return NULL;
    atomic_init(&e->refs, 1);
    for (size_t i = 0; i < v->n; i++) {
        struct cached_snippet *c = m[i];
        e->from[i] = c->keeps_good ? c->last_good : c->parsed;
        atomic_fetch_add(&e->from[i]->refs, 1);
        e->n_from++;
    }
    const struct sp_snippet *first = &e->from[0]->s;
    e->key = first->vm;
    if (v->n > 1) {
        if (join_reads(e) < 0) {
            sp_vm_entry_release(e);
            return NULL;
        }
        return e;
    }
    e->specs = first->specs;
    e->n_specs = first->n_specs;
    e->files = &e->from[0]->s.path;
    e->n_files = 1;
    e->error = first->error;
    return e;
}

void sp_vm_entry_release(struct sp_vm_entry *e)
{
    if (!e || atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    if (e->n_from > 1) {
        free(e->specs);
        free(e->files);
    }
    for (size_t i = 0; i < e->n_from; i++)
        release_read(e->from[i]);
    free(e);
}

/* The last snapshot's index with new entries for the VMs whose snippets
 * changed; only their buckets are copied. NULL when no VM is left. */
static int update_index(struct sp_config *cfg, struct sp_snapshot *snap)
{
    struct sp_vm_index *ix = sp_index_copy(cfg->current ? cfg->current->index : NULL);
    if (!ix)
        return -1;
    for (size_t i = 0; i < cfg->n_dirty; i++) {
        struct vm_files *v = cfg->dirty[i];
        struct sp_vm_entry *e = v->n ? make_entry(v) : NULL;
        if ((v->n && !e) || sp_index_set(ix, v->key, e) < 0) {
            sp_index_free(ix);
            return -1;
        }
    }
    if (sp_index_size(ix) == 0) {
        sp_index_free(ix);
        ix = NULL;
    }
    snap->index = ix;
    snap->n_vms = sp_index_size(ix);
    return 0;
}

/* A VM of one snippet, whose entry is made, keeps no record: the snippet
 * holds its read in force, whose vm= is the key. */
static void make_lone(struct sp_config *cfg, struct vm_files *v)
{
    struct cached_snippet *c = v->m.one;
    struct sp_shared_snippet *r = c->keeps_good ? c->last_good : c->parsed;
    if (!r || !r->s.vm || strcmp(r->s.vm, v->key) != 0)
        return; /* refiling it failed half way: it stays on record */
    atomic_fetch_add(&r->refs, 1);
    c->filed.read = r;
    c->alone = 1;
    sp_nametab_replace(&cfg->vms, v, lone_slot(c));
    free_vm_files(v);
}

/* Once the snapshot is in force: VMs with no snippet left are forgotten,
 * those of one snippet keep no record. */
static void settle_dirty(struct sp_config *cfg)
{
    for (size_t i = 0; i < cfg->n_dirty; i++) {
        struct vm_files *v = cfg->dirty[i];
        v->dirty = 0;
        if (v->n == 0) {
            sp_nametab_del(&cfg->vms, v);
            free_vm_files(v);
        } else if (v->n == 1) {
            make_lone(cfg, v);
        }
    }
    cfg->n_dirty = 0;
    /* The first load dirties every VM: a list that size is not kept. */
    if (cfg->cap_dirty > DIRTY_KEPT) {
        free(cfg->dirty);
        cfg->dirty = NULL;
        cfg->cap_dirty = 0;
    }
}

/* One whole sentence for the log about a snippet not used as written. */
__attribute__((format(printf, 2, 3))) static int note(struct sp_snapshot *snap,
                                                      const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    int rc = append_string(&snap->orphan_errors, &snap->n_orphan_errors, msg);
    free(msg);
    return rc;
}

static int note_snippet(struct sp_snapshot *snap, const struct cached_snippet *c)
{
    if (c->keeps_good)
        return note(snap, "%s; keeping its last good version (VM '%s') until it parses again",
                    read_of(c->parsed)->error, read_of(c->last_good)->vm);
    return note(snap, "skipped a snippet, the VM it names is unknown: %s", in_force(c)->error);
}

/* The snippets' notes, in file name order. */
static int note_snippets(struct sp_config *cfg, struct sp_snapshot *snap)
{
    if (cfg->n_noted > 1)
        qsort(cfg->noted, cfg->n_noted, sizeof(*cfg->noted), by_name);
    for (size_t i = 0; i < cfg->n_noted; i++) {
        cfg->noted[i]->note_slot = i + 1;
        if (note_snippet(snap, cfg->noted[i]) < 0)
            return -1;
    }
    return 0;
}

static int missing_dir(const struct sp_config *cfg)
{
    return !cfg->dir_state.exists && cfg->dir_state.error == ENOENT;
}

static struct sp_snapshot *build_snapshot(struct sp_config *cfg)
{
    struct sp_snapshot *snap = calloc(1, sizeof(*snap));
    if (!snap)
        return NULL;
    atomic_init(&snap->refs, 1);
    snap->generation = ++cfg->generations;
    snap->n_snippets = cfg->snippets.n;
    const char *global = cfg->dir_error    ? cfg->dir_error
                         : cfg->list_error ? cfg->list_error
                                           : cfg->conf_error;
    snap->config_dir = strdup(cfg->dir);
    if (!snap->config_dir || sp_settings_copy(&snap->settings, &cfg->settings) < 0 ||
        (global && !(snap->global_error = strdup(global))) || update_index(cfg, snap) < 0 ||
        note_snippets(cfg, snap) < 0 ||
        (missing_dir(cfg) && note(snap, "config dir %s does not exist: no VM gets passthrough "
                                  "devices", cfg->dir) < 0) ||
        (cfg->watch_note && note(snap, "%s", cfg->watch_note) < 0)) {
        free_snapshot(snap);
        return NULL;
    }
    return snap;
}

/* Without events: whether conf or vm.d's listing is to be read again,
 * changed as far as stat tells or maybe changed unseen. */
static int stale(const struct file_state *f, int stat_changed)
{
    return stat_changed || (f->exists && maybe_changed_unseen(&f->st, f->read_at));
}

static int refresh_locked(struct sp_config *cfg)
{
    int changed = cfg->current == NULL;
    int dir_changed = restat(cfg->dir, &cfg->dir_state);
    int vmd_changed = restat(cfg->vmd_path, &cfg->vmd_state);
    int moved = 0;
    int dirs_changed = check_dirs(cfg, &moved);
    if (dirs_changed < 0)
        return -1;
    long events = watch_events(cfg);
    int watched = events >= 0; /* else: no events, stat everything */
    int walk = !watched || (events & SP_WATCH_WALK) || moved || !cfg->current || cfg->must_walk;
    cfg->must_walk = walk; /* until the walk is done */
    /* A walk is for lost events too: then stat decides, as without events. */
    int conf_changed = restat(cfg->conf_path, &cfg->conf_state);
    if (conf_changed || moved || !cfg->current || (watched && (events & SP_WATCH_CONF)) ||
        (walk && stale(&cfg->conf_state, 0))) {
        cfg->conf_state.read_at = time(NULL);
        if (reload_conf(cfg) < 0)
            return -1;
        changed = 1;
    }
    /* With events, vm.d is listed only for a walk: a name events gave is
     * added or dropped by itself. */
    if (watched ? walk : !cfg->current || stale(&cfg->vmd_state, vmd_changed)) {
        cfg->vmd_state.read_at = time(NULL);
        if (relist_snippets(cfg) < 0)
            return -1;
        changed = 1;
    }
    int snippets_changed = walk ? refresh_snippets(cfg, moved) : refresh_changed(cfg);
    cfg->must_walk = snippets_changed < 0;
    if (snippets_changed < 0)
        return -1; /* memory ran out: the next refresh walks */
    if (!(changed || dir_changed || dirs_changed || snippets_changed || cfg->watch_note ||
          cfg->n_dirty))
        return 0;
    struct sp_snapshot *snap = build_snapshot(cfg);
    if (!snap)
        return -1;
    free(cfg->watch_note);
    cfg->watch_note = NULL;
    settle_dirty(cfg);
    if (cfg->current)
        sp_snapshot_release(cfg->current);
    cfg->current = snap;
    return 0;
}

int sp_config_snapshot(struct sp_config *cfg, struct sp_snapshot **out, struct sp_err *err)
{
    pthread_mutex_lock(&cfg->lock);
    int rc = refresh_locked(cfg);
    if (rc == 0)
        *out = sp_snapshot_ref(cfg->current);
    pthread_mutex_unlock(&cfg->lock);
    if (rc < 0)
        return sp_err_set(err, "config %s: out of memory while loading", cfg->dir);
    return 0;
}

struct sp_snapshot *sp_snapshot_ref(struct sp_snapshot *snap)
{
    atomic_fetch_add(&snap->refs, 1);
    return snap;
}

void sp_snapshot_release(struct sp_snapshot *snap)
{
    if (snap && atomic_fetch_sub(&snap->refs, 1) == 1)
        free_snapshot(snap);
}

const struct sp_vm_entry *sp_snapshot_lookup(const struct sp_snapshot *snap, const char *key)
{
    char *norm = sp_vm_key_normalize(key);
    if (!norm)
        return NULL;
    const struct sp_vm_entry *e = sp_index_find(snap->index, norm);
    free(norm);
    return e;
}

size_t sp_snapshot_lookup_vm(const struct sp_snapshot *snap, const char *const keys[SP_VM_KEYS],
                             const struct sp_vm_entry *out[SP_VM_KEYS])
{
    size_t n = 0;
    for (size_t k = 0; k < SP_VM_KEYS; k++) {
        const struct sp_vm_entry *e = keys[k] ? sp_snapshot_lookup(snap, keys[k]) : NULL;
        int seen = 0;
        for (size_t i = 0; i < n; i++)
            seen |= out[i] == e;
        if (e && !seen)
            out[n++] = e;
    }
    return n;
}

const struct sp_vm_entry *sp_snapshot_next(const struct sp_snapshot *snap,
                                           const struct sp_vm_entry *prev)
{
    return sp_index_next(snap->index, prev);
}
