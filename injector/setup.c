#include "setup.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/sha256.h"
#include "../config/settings.h"
#include "dropin.h"
#include "dsm_hook.h"
#include "loadproof.h"
#include "manifest.h"

#ifndef SP_PREFIX
#define SP_PREFIX "/usr/local"
#endif
#ifndef SP_BINDIR
#define SP_BINDIR SP_PREFIX "/bin"
#endif
#ifndef SP_LIBDIR
#define SP_LIBDIR SP_PREFIX "/lib/synopassthru"
#endif
#ifndef SP_DATADIR
#define SP_DATADIR SP_PREFIX "/share/synopassthru"
#endif
/* Where the manual pages and the bash completion go (the Makefile's
 * MANDIR and BASH_COMPLETION_DIR). */
#define SP_MANDIR SP_PREFIX "/share/man"
#define SP_BASH_COMPLETION_DIR SP_PREFIX "/share/bash-completion/completions"

#define SHIM_PATH SP_LIBDIR "/libsynopassthru.so"
#define CLI_PATH SP_BINDIR "/synopassthru"
#define SETUP_DIR SP_LIBDIR "/setup"
#define MANIFEST_PATH SETUP_DIR "/manifest"
#define BACKUP_DIR SETUP_DIR "/backup"
#define PAYLOAD_MAX (256u << 20)

/* What setup installs: each file at its path on the box, found in the
 * release tree at the same path below PREFIX. */
static const struct payload_file {
    const char *dest;
    unsigned mode;
} payload[] = {
    {SP_BINDIR "/synopassthru", 0755},
    {SP_BINDIR "/synopassthru-virsh", 0755},
    {SHIM_PATH, 0755},
    {SP_LIBEXECDIR "/synopassthru-vfio", 0755},
    {SP_DATADIR "/pci.ids", 0644},
    {SP_MANDIR "/man1/synopassthru.1", 0644},
    {SP_MANDIR "/man5/synopassthru.conf.5", 0644},
    {SP_MANDIR "/man5/synopassthru-snippet.5", 0644},
    {SP_BASH_COMPLETION_DIR "/synopassthru", 0644},
};
#define N_PAYLOAD (sizeof(payload) / sizeof(payload[0]))

/* One change made by this run, so that a failure can take it back. */
struct undo {
    char *path;          /* as on the box */
    int was_dir;         /* a directory this run made */
    char *before;        /* a file's content before (NULL: it did not exist) */
    size_t before_len;
    struct stat before_st;
};

struct run {
    const struct sp_setup_opts *o;
    FILE *out;
    struct sp_manifest m;
    char *manifest_before; /* the manifest's text before this run (NULL: none) */
    struct undo *undo;
    size_t n_undo;
    int dropin_changed;
    int manifest_home; /* the manifest's directory exists (or would, in a dry run) */
};

/* ---- small helpers ---- */

static char *under_root(const struct run *r, const char *path)
{
    char *full = NULL;
    return asprintf(&full, "%s%s", r->o->root, path) < 0 ? NULL : full;
}

/* One action, as done ("created directory X") or, in a dry run, as it
 * would be ("would create directory X"). */
static void say(const struct run *r, const char *done, const char *would, const char *path)
{
    fprintf(r->out, "%s%s %s\n", r->o->dry_run ? "would " : "", r->o->dry_run ? would : done,
            path);
}

static int read_optional(const char *full, char **buf, size_t *len, struct stat *st,
                         struct sp_err *err)
{
    *buf = NULL;
    *len = 0;
    if (lstat(full, st) < 0) {
        if (errno == ENOENT)
            return 0;
        return sp_err_set(err, "%s: %s", full, strerror(errno));
    }
    if (!S_ISREG(st->st_mode))
        return sp_err_set(err, "%s is not a regular file: refusing to replace it", full);
    return sp_read_file(full, PAYLOAD_MAX, buf, len, err) < 0 ? -1 : 1;
}

static int remember(struct run *r, const char *path, int was_dir, char *before, size_t len,
                    const struct stat *st, struct sp_err *err)
{
    struct undo *grown = realloc(r->undo, (r->n_undo + 1) * sizeof(*grown));
    char *copy = strdup(path);
    if (!grown || !copy) {
        free(copy);
        if (grown)
            r->undo = grown;
        return sp_err_set(err, "out of memory");
    }
    r->undo = grown;
    struct undo *u = &r->undo[r->n_undo++];
    memset(u, 0, sizeof(*u));
    u->path = copy;
    u->was_dir = was_dir;
    u->before = before;
    u->before_len = len;
    if (st)
        u->before_st = *st;
    return 0;
}

/* ---- the manifest on disk ---- */

char *sp_setup_manifest_path(const char *root)
{
    char *path = NULL;
    return asprintf(&path, "%s%s", root, MANIFEST_PATH) < 0 ? NULL : path;
}

static int load_manifest(struct run *r, struct sp_err *err)
{
    char *full = under_root(r, MANIFEST_PATH), *text = NULL;
    size_t len = 0;
    struct stat st;
    int rc = full ? read_optional(full, &text, &len, &st, err) : sp_err_set(err, "out of memory");
    if (rc > 0 && sp_manifest_parse(text, len, &r->m, err) < 0)
        rc = sp_err_prefix(err, "%s (setup's record of what it did, damaged: nothing was "
                                "changed; move it aside to start over)", full);
    if (rc > 0)
        r->manifest_before = text;
    else
        free(text);
    free(full);
    return rc < 0 ? -1 : 0;
}

static int save_manifest(struct run *r, struct sp_err *err)
{
    if (r->o->dry_run || !r->manifest_home)
        return 0;
    char *full = under_root(r, MANIFEST_PATH), *text = sp_manifest_format(&r->m);
    int rc = full && text ? sp_write_file_atomic(full, text, strlen(text), 0644, err)
                          : sp_err_set(err, "out of memory");
    free(text);
    free(full);
    return rc;
}

/* ---- directories ---- */

/* Refuses a directory on the way to what root will run that someone other
 * than root could write to (that someone could swap the program). */
static int check_dir_safe(const char *full, const struct stat *st, struct sp_err *err)
{
    char reason[128];
    if (!S_ISDIR(st->st_mode))
        return sp_err_set(err, "%s is not a directory", full);
    if (sp_strict_mode_reason(st, reason, sizeof(reason)))
        return sp_err_set(err, "%s is %s: refusing to install there (whoever can write there "
                               "could change what root runs)", full, reason);
    return 0;
}

/* Checks every existing directory from the root down to path, and that the
 * deepest one can be written. */
static int check_dir_chain(const struct run *r, const char *path, struct sp_err *err)
{
    char *full = under_root(r, path);
    if (!full)
        return sp_err_set(err, "out of memory");
    size_t root_len = strlen(r->o->root);
    int rc = 0;
    char *deepest = NULL;
    for (char *p = full + root_len + 1; rc == 0; p++) {
        char saved = *p;
        if (saved != '/' && saved != '\0')
            continue;
        *p = '\0';
        struct stat st;
        if (stat(full, &st) == 0) {
            rc = check_dir_safe(full, &st, err);
            free(deepest);
            deepest = strdup(full);
        } else if (errno != ENOENT) {
            rc = sp_err_set(err, "%s: %s", full, strerror(errno));
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    struct statvfs vfs;
    if (rc == 0 && deepest && statvfs(deepest, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
        rc = sp_err_set(err, "%s is on a read-only file system", deepest);
    else if (rc == 0 && deepest && access(deepest, W_OK) < 0)
        rc = sp_err_set(err, "cannot write in %s: %s", deepest, strerror(errno));
    free(deepest);
    free(full);
    return rc;
}

/* mkdir -p below the root, recording each directory it makes. */
static int ensure_dir(struct run *r, const char *path, struct sp_err *err)
{
    char *full = under_root(r, path);
    if (!full)
        return sp_err_set(err, "out of memory");
    size_t root_len = strlen(r->o->root);
    int rc = 0;
    for (char *p = full + root_len + 1; rc == 0; p++) {
        char saved = *p;
        if (saved != '/' && saved != '\0')
            continue;
        *p = '\0';
        struct stat st;
        if (stat(full, &st) < 0 && !(r->o->dry_run && sp_manifest_find(&r->m, full + root_len))) {
            say(r, "created directory", "create directory", full + root_len);
            if (!r->o->dry_run && (mkdir(full, 0755) < 0 || chmod(full, 0755) < 0))
                rc = sp_err_set(err, "%s: %s", full, strerror(errno));
            struct sp_manifest_entry e = {.kind = SP_MANIFEST_DIR, .how = SP_MANIFEST_CREATED,
                                          .sha = "-", .mode = 0755, .uid = (unsigned)geteuid(),
                                          .gid = (unsigned)getegid(), .orig_sha = "-",
                                          .backup = "-", .path = full + root_len};
            if (rc == 0 && !r->o->dry_run)
                rc = remember(r, full + root_len, 1, NULL, 0, NULL, err);
            if (rc == 0 && !sp_manifest_find(&r->m, e.path))
                rc = sp_manifest_add(&r->m, &e, err);
            if (rc == 0)
                rc = save_manifest(r, err);
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(full);
    return rc;
}

/* ---- files ---- */

struct file_change {
    const char *path;         /* as on the box */
    const void *data;         /* what it should hold */
    size_t len;
    unsigned mode, uid, gid;
    const char *done, *would; /* "installed"/"install", ... */
    /* For a file that exists: what counts as its original (the DSM hook
     * without our block); NULL means its content as it is. */
    const char *original;
};

static int next_backup_name(const struct run *r, char *name, size_t size)
{
    unsigned long max = 0;
    for (size_t i = 0; i < r->m.n; i++) {
        unsigned long v = strtoul(r->m.entries[i].backup, NULL, 10);
        if (v > max)
            max = v;
    }
    return snprintf(name, size, "%lu", max + 1) < (int)size ? 0 : -1;
}

static int write_backup(struct run *r, const char *name, const void *data, size_t len,
                        const struct stat *st, struct sp_err *err)
{
    char *dir_path = NULL, *full = NULL;
    int rc = 0;
    if (asprintf(&dir_path, "%s/%s", BACKUP_DIR, name) < 0 || !(full = under_root(r, dir_path)))
        rc = sp_err_set(err, "out of memory");
    if (rc == 0)
        rc = ensure_dir(r, BACKUP_DIR, err);
    if (rc == 0 && !r->o->dry_run)
        rc = sp_write_file_atomic(full, data, len, st->st_mode & 07777, err);
    if (rc == 0 && !r->o->dry_run && chown(full, st->st_uid, st->st_gid) < 0 && geteuid() == 0)
        rc = sp_err_set(err, "%s: chown: %s", full, strerror(errno));
    free(full);
    free(dir_path);
    return rc;
}

/* The first record of a file: created, or changed with a backup of its
 * original. */
static int record_new_entry(struct run *r, const struct file_change *c, const char *old,
                            size_t old_len, const struct stat *st,
                            struct sp_manifest_entry *e, struct sp_err *err)
{
    e->kind = SP_MANIFEST_FILE;
    e->how = old ? SP_MANIFEST_CHANGED : SP_MANIFEST_CREATED;
    strcpy(e->orig_sha, "-");
    strcpy(e->backup, "-");
    if (!old)
        return 0;
    const char *orig = c->original ? c->original : old;
    size_t orig_len = c->original ? strlen(c->original) : old_len;
    sp_sha256_hex(orig, orig_len, e->orig_sha);
    if (next_backup_name(r, e->backup, sizeof(e->backup)) < 0)
        return sp_err_set(err, "too many backups");
    say(r, "kept a backup of", "keep a backup of", c->path);
    return write_backup(r, e->backup, orig, orig_len, st, err);
}

static int same_file(const struct file_change *c, const char *old, size_t old_len,
                     const struct stat *st)
{
    return old && old_len == c->len && memcmp(old, c->data, c->len) == 0 &&
           (st->st_mode & 07777) == c->mode && st->st_uid == c->uid && st->st_gid == c->gid;
}

static int write_file(struct run *r, const struct file_change *c, const char *full,
                      struct sp_err *err)
{
    if (r->o->dry_run)
        return 0;
    if (sp_write_file_atomic(full, c->data, c->len, c->mode, err) < 0)
        return -1;
    if (chown(full, c->uid, c->gid) < 0 && geteuid() == 0)
        return sp_err_set(err, "%s: chown: %s", full, strerror(errno));
    return 0;
}

static int put_file(struct run *r, const struct file_change *c, int *changed,
                    struct sp_err *err)
{
    *changed = 0;
    char *full = under_root(r, c->path), *old = NULL;
    size_t old_len = 0;
    struct stat st;
    int rc = full ? read_optional(full, &old, &old_len, &st, err) : sp_err_set(err, "out of memory");
    if (rc >= 0 && same_file(c, old, old_len, &st)) {
        fprintf(r->out, "unchanged: %s\n", c->path);
        free(old);
        free(full);
        return 0;
    }
    int existed = rc > 0;
    struct sp_manifest_entry *known = rc >= 0 ? sp_manifest_find(&r->m, c->path) : NULL;
    struct sp_manifest_entry fresh = {.path = (char *)c->path};
    rc = rc < 0 ? -1 : 0;
    if (rc == 0 && !known)
        rc = record_new_entry(r, c, existed ? old : NULL, old_len, &st, &fresh, err);
    if (rc == 0) {
        fprintf(r->out, "%s%s %s%s\n", r->o->dry_run ? "would " : "",
                r->o->dry_run ? c->would : c->done, c->path, existed ? "" : " (new)");
        rc = write_file(r, c, full, err);
    }
    if (rc == 0 && !r->o->dry_run) {
        rc = remember(r, c->path, 0, existed ? old : NULL, old_len, existed ? &st : NULL, err);
        old = NULL; /* the undo log owns it now */
    }
    struct sp_manifest_entry *e = known ? known : &fresh;
    if (rc == 0) {
        sp_sha256_hex(c->data, c->len, e->sha);
        e->mode = c->mode;
        e->uid = c->uid;
        e->gid = c->gid;
        rc = known ? 0 : sp_manifest_add(&r->m, e, err);
    }
    if (rc == 0)
        rc = save_manifest(r, err);
    if (rc == 0)
        *changed = 1;
    free(old);
    free(full);
    return rc;
}

/* ---- the steps ---- */

/* The release tree: the directory above the one holding the running CLI. */
static char *release_tree(const char *self, struct sp_err *err)
{
    char real[PATH_MAX];
    if (!realpath(self, real)) {
        sp_err_set(err, "%s: %s", self, strerror(errno));
        return NULL;
    }
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(real, '/');
        if (!slash || slash == real) {
            sp_err_set(err, "%s is not inside a release tree (bin/ of an unpacked release, or "
                            "of the package's target dir)", self);
            return NULL;
        }
        *slash = '\0';
    }
    return strdup(real);
}

static const char *below_prefix(const char *dest)
{
    size_t n = strlen(SP_PREFIX);
    return strncmp(dest, SP_PREFIX "/", n + 1) == 0 ? dest + n + 1 : NULL;
}

/* Reads every payload file up front: a release tree that lacks one is
 * refused before anything changes. */
static int read_payload(const char *tree, char *bufs[N_PAYLOAD], size_t lens[N_PAYLOAD],
                        struct sp_err *err)
{
    for (size_t i = 0; i < N_PAYLOAD; i++) {
        const char *rel = below_prefix(payload[i].dest);
        char *src = NULL;
        if (!rel)
            return sp_err_set(err, "built with %s outside %s: cannot find it in a release tree",
                              payload[i].dest, SP_PREFIX);
        if (asprintf(&src, "%s/%s", tree, rel) < 0)
            return sp_err_set(err, "out of memory");
        int rc = sp_read_file(src, PAYLOAD_MAX, &bufs[i], &lens[i], err);
        free(src);
        if (rc < 0)
            return sp_err_prefix(err, "the release tree %s is incomplete", tree);
    }
    return 0;
}

static int check_targets(const struct run *r, struct sp_err *err)
{
    if (r->o->root[0]) {
        struct stat st;
        if (stat(r->o->root, &st) < 0 || !S_ISDIR(st.st_mode))
            return sp_err_set(err, "--root %s: %s", r->o->root,
                              errno ? strerror(errno) : "not a directory");
    }
    const char *dirs[] = {SP_BINDIR, SP_LIBDIR, SP_LIBEXECDIR, SP_DATADIR, r->o->config_dir};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (check_dir_chain(r, dirs[i], err) < 0)
            return -1;
    return 0;
}

static int prove(struct run *r, const char *cli, const char *shim, struct sp_err *err)
{
    if (sp_loadproof_run(cli, shim, err) < 0)
        return -1;
    fprintf(r->out, "proved: %s loads\n", shim);
    return 0;
}

static int install_payload(struct run *r, const char *tree, struct sp_err *err)
{
    char *bufs[N_PAYLOAD] = {0};
    size_t lens[N_PAYLOAD] = {0};
    int rc = read_payload(tree, bufs, lens, err);
    char *src_shim = NULL, *src_cli = NULL;
    if (rc == 0 && (asprintf(&src_shim, "%s/%s", tree, below_prefix(SHIM_PATH)) < 0 ||
                    asprintf(&src_cli, "%s/%s", tree, below_prefix(CLI_PATH)) < 0))
        rc = sp_err_set(err, "out of memory");
    /* The release's own shim first: nothing is copied if it cannot load. */
    if (rc == 0)
        rc = prove(r, src_cli, src_shim, err);
    for (size_t i = 0; rc == 0 && i < N_PAYLOAD; i++) {
        const char *dest = payload[i].dest;
        char *dir = strndup(dest, (size_t)(strrchr(dest, '/') - dest));
        rc = dir ? ensure_dir(r, dir, err) : sp_err_set(err, "out of memory");
        free(dir);
        struct file_change c = {.path = dest, .data = bufs[i], .len = lens[i],
                                .mode = payload[i].mode, .done = "installed", .would = "install"};
        int changed;
        if (rc == 0)
            rc = put_file(r, &c, &changed, err);
    }
    for (size_t i = 0; i < N_PAYLOAD; i++)
        free(bufs[i]);
    free(src_shim);
    free(src_cli);
    return rc;
}

static int install_config_dirs(struct run *r, struct sp_err *err)
{
    const char *names[] = {"", "/vm.d", "/rom"};
    for (size_t i = 0; i < 3; i++) {
        char *dir = NULL;
        if (asprintf(&dir, "%s%s", r->o->config_dir, names[i]) < 0)
            return sp_err_set(err, "out of memory");
        int rc = ensure_dir(r, dir, err);
        free(dir);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int install_dropin(struct run *r, struct sp_err *err)
{
    char *text = sp_dropin_text(SHIM_PATH, r->o->config_dir, err);
    char *dir = sp_dropin_dir("", r->o->unit), *path = sp_dropin_path("", r->o->unit);
    int rc = text && dir && path ? ensure_dir(r, dir, err) : -1;
    if (!dir || !path)
        rc = sp_err_set(err, "out of memory");
    struct file_change c = {.path = path, .data = text, .len = text ? strlen(text) : 0,
                            .mode = 0644, .done = "wrote the drop-in", .would = "write the drop-in"};
    if (rc == 0)
        rc = put_file(r, &c, &r->dropin_changed, err);
    free(path);
    free(dir);
    free(text);
    return rc;
}

static int install_hook(struct run *r, struct sp_err *err)
{
    char *full = under_root(r, SP_DSM_HOOK_PATH), *text = NULL;
    size_t len;
    struct stat st;
    int rc = full ? read_optional(full, &text, &len, &st, err) : sp_err_set(err, "out of memory");
    if (rc == 0) {
        fprintf(r->out, "no DSM start hook (%s): the Virtualization package is not installed "
                        "here; on DSM it keeps the drop-in across reboots\n", SP_DSM_HOOK_PATH);
        free(full);
        return 0;
    }
    char *block = rc > 0 ? sp_dsm_block(CLI_PATH, r->o->config_dir, r->o->unit, err) : NULL;
    char *next = block ? sp_dsm_hook_insert(text, block, err) : NULL;
    char *original = next ? sp_dsm_hook_strip(text) : NULL;
    rc = next && original ? 0 : -1;
    if (rc < 0 && next)
        sp_err_set(err, "out of memory");
    else if (rc < 0 && block)
        sp_err_prefix(err, "%s", SP_DSM_HOOK_PATH);
    struct file_change c = {.path = SP_DSM_HOOK_PATH, .data = next,
                            .len = next ? strlen(next) : 0, .mode = st.st_mode & 07777,
                            .uid = st.st_uid, .gid = st.st_gid,
                            .done = "added the start-hook block to",
                            .would = "add the start-hook block to", .original = original};
    int changed;
    if (rc == 0)
        rc = put_file(r, &c, &changed, err);
    free(original);
    free(next);
    free(block);
    free(text);
    free(full);
    return rc;
}

/* Takes back every change of this run, newest first: the manifest first,
 * since it lives in a directory this run may have made. */
static void undo_run(struct run *r)
{
    char *manifest = under_root(r, MANIFEST_PATH);
    if (manifest && r->manifest_before)
        sp_write_file_atomic(manifest, r->manifest_before, strlen(r->manifest_before), 0644,
                             NULL);
    else if (manifest)
        unlink(manifest);
    free(manifest);
    for (size_t i = r->n_undo; i-- > 0;) {
        struct undo *u = &r->undo[i];
        char *full = under_root(r, u->path);
        if (!full)
            continue;
        if (u->was_dir) {
            rmdir(full);
        } else if (!u->before) {
            unlink(full);
        } else {
            sp_write_file_atomic(full, u->before, u->before_len, u->before_st.st_mode & 07777,
                                 NULL);
            if (chown(full, u->before_st.st_uid, u->before_st.st_gid) < 0) {
                /* best effort: the error that stopped the run is the one to report */
            }
        }
        free(full);
    }
}

static void free_run(struct run *r)
{
    for (size_t i = 0; i < r->n_undo; i++) {
        free(r->undo[i].path);
        free(r->undo[i].before);
    }
    free(r->undo);
    free(r->manifest_before);
    sp_manifest_free(&r->m);
}

static void say_next_steps(const struct run *r)
{
    if (r->o->dry_run)
        return;
    fprintf(r->out, "\nDone. The shim is loaded the next time %s.service starts: restart it "
                    "while no VM runs\n(systemctl restart %s), or reboot. Then check with: "
                    "synopassthru status\n", r->o->unit, r->o->unit);
}

static int reload_if_needed(struct run *r, struct sp_err *err)
{
    if (!r->dropin_changed)
        return 0;
    if (r->o->root[0] || r->o->dry_run) {
        fprintf(r->out, "%s: systemctl daemon-reload\n", r->o->dry_run ? "would run" : "then");
        return 0;
    }
    if (sp_systemd_reload(err) < 0)
        return -1;
    fprintf(r->out, "ran systemctl daemon-reload\n");
    return 0;
}

int sp_setup_install(const struct sp_setup_opts *o, FILE *out, struct sp_err *err)
{
    if (!sp_unit_name_ok(o->unit))
        return sp_err_set(err, "setup: '%s' is not a unit name", o->unit);
    if (o->config_dir[0] != '/')
        return sp_err_set(err, "setup: the config dir %s is not an absolute path", o->config_dir);
    struct run r = {.o = o, .out = out};
    char *tree = release_tree(o->self, err);
    /* Nothing is touched, the manifest least of all, before it is read. */
    if (!tree || load_manifest(&r, err) < 0) {
        free(tree);
        free_run(&r);
        return -1;
    }
    int rc = check_targets(&r, err);
    /* The manifest's own directory first: every later step is recorded. */
    if (rc == 0)
        rc = ensure_dir(&r, SETUP_DIR, err);
    r.manifest_home = 1;
    if (rc == 0)
        rc = save_manifest(&r, err);
    if (rc == 0)
        rc = install_payload(&r, tree, err);
    char *installed_shim = under_root(&r, SHIM_PATH), *installed_cli = under_root(&r, CLI_PATH);
    if (rc == 0 && !o->dry_run)
        rc = installed_shim && installed_cli ? prove(&r, installed_cli, installed_shim, err)
                                             : sp_err_set(err, "out of memory");
    if (rc == 0)
        rc = install_config_dirs(&r, err);
    if (rc == 0)
        rc = install_dropin(&r, err);
    if (rc == 0)
        rc = install_hook(&r, err);
    if (rc == 0)
        rc = reload_if_needed(&r, err);
    if (rc < 0 && !o->dry_run) {
        undo_run(&r);
        sp_err_prefix(err, "setup (nothing was left changed)");
    } else if (rc == 0) {
        say_next_steps(&r);
    }
    free(installed_shim);
    free(installed_cli);
    free(tree);
    free_run(&r);
    return rc;
}

/* ---- removal ---- */

/* The content's digest now ("" when it is gone). */
static int current_digest(const char *full, char out[SP_SHA256_HEX_LEN + 1])
{
    struct stat st;
    out[0] = '\0';
    if (lstat(full, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    return S_ISREG(st.st_mode) ? sp_sha256_file(full, out, NULL) : -1;
}

static int restore_backup(struct run *r, const struct sp_manifest_entry *e, const char *full,
                          struct sp_err *err)
{
    char *rel = NULL, *backup = NULL, *data = NULL;
    size_t len = 0;
    struct stat st;
    int rc = asprintf(&rel, "%s/%s", BACKUP_DIR, e->backup) < 0 || !(backup = under_root(r, rel))
                 ? sp_err_set(err, "out of memory")
                 : 0;
    if (rc == 0 && (stat(backup, &st) < 0 || sp_read_file(backup, PAYLOAD_MAX, &data, &len, err) < 0))
        rc = sp_err_set(err, "the backup of %s (%s) is gone: left as it is", e->path, backup);
    if (rc == 0 && !r->o->dry_run &&
        sp_write_file_atomic(full, data, len, st.st_mode & 07777, err) < 0)
        rc = -1;
    if (rc == 0 && !r->o->dry_run && chown(full, st.st_uid, st.st_gid) < 0 && geteuid() == 0)
        rc = sp_err_set(err, "%s: chown: %s", full, strerror(errno));
    free(data);
    free(backup);
    free(rel);
    return rc;
}

/* One recorded file: deleted or restored when it is as setup left it. */
static int remove_file(struct run *r, const struct sp_manifest_entry *e, int *left,
                       struct sp_err *err)
{
    char *full = under_root(r, e->path);
    char now[SP_SHA256_HEX_LEN + 1];
    int rc = 0;
    if (!full)
        return sp_err_set(err, "out of memory");
    if (current_digest(full, now) < 0) {
        fprintf(r->out, "left as it is: %s (no longer a file setup wrote)\n", e->path);
        *left = 1;
    } else if (e->how == SP_MANIFEST_CHANGED && strcmp(now, e->orig_sha) == 0) {
        fprintf(r->out, "as before setup, byte for byte: %s\n", e->path);
    } else if (now[0] == '\0') {
        fprintf(r->out, "already gone: %s\n", e->path);
    } else if (strcmp(now, e->sha) != 0) {
        fprintf(r->out, "left as it is: %s was changed by someone else since setup\n", e->path);
        *left = 1;
    } else if (e->how == SP_MANIFEST_CREATED) {
        say(r, "removed", "remove", e->path);
        if (!r->o->dry_run && unlink(full) < 0)
            rc = sp_err_set(err, "%s: %s", full, strerror(errno));
    } else {
        say(r, "restored (byte for byte)", "restore", e->path);
        rc = restore_backup(r, e, full, err);
    }
    free(full);
    return rc;
}

static int is_config_dir(const struct run *r, const char *path)
{
    size_t n = strlen(r->o->config_dir);
    return strncmp(path, r->o->config_dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The config dirs (vm.d/, rom/) hold the user's own files: kept unless
 * purging (purge_config has emptied them then). Other directories go when
 * setup made them and they are empty. */
static int remove_dir(struct run *r, const struct sp_manifest_entry *e, int *left,
                      struct sp_err *err)
{
    char *full = under_root(r, e->path);
    if (!full)
        return sp_err_set(err, "out of memory");
    if (is_config_dir(r, e->path) && !r->o->purge) {
        fprintf(r->out, "kept: %s (your configuration; --purge removes it)\n", e->path);
    } else if (r->o->dry_run) {
        say(r, "removed directory", "remove directory", e->path);
    } else if (rmdir(full) == 0) {
        say(r, "removed directory", "remove directory", e->path);
    } else if (errno == ENOENT) {
        /* gone already (a purge took it) */
    } else if (errno == ENOTEMPTY || errno == EEXIST) {
        fprintf(r->out, "kept: %s (not empty)\n", e->path);
    } else {
        fprintf(r->out, "left: %s (%s)\n", e->path, strerror(errno));
        *left = 1;
    }
    (void)err;
    free(full);
    return 0;
}

/* --purge: what lives in the config dir by name (never anything else). */
static void purge_config(struct run *r)
{
    static const char *const names[] = {"vm.d", "rom", SP_CONF_FILE, "import-backup"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *rel = NULL, *full = NULL;
        if (asprintf(&rel, "%s/%s", r->o->config_dir, names[i]) >= 0 &&
            (full = under_root(r, rel)) && access(full, F_OK) == 0) {
            say(r, "removed (with everything in it)", "remove, with everything in it,", rel);
            if (!r->o->dry_run && sp_remove_tree(full) < 0)
                fprintf(r->out, "left: %s (%s)\n", rel, strerror(errno));
        }
        free(full);
        free(rel);
    }
    /* The config dir itself, when that emptied it (whoever made it). */
    char *dir = under_root(r, r->o->config_dir);
    if (dir && !r->o->dry_run && rmdir(dir) == 0)
        say(r, "removed directory", "remove directory", r->o->config_dir);
    free(dir);
}

static void purge_audit_log(struct run *r)
{
    struct sp_settings s;
    char *conf_rel = NULL, *conf = NULL, *text = NULL, *log = NULL;
    size_t len = 0;
    if (sp_settings_defaults(&s, r->o->config_dir) < 0)
        return;
    if (asprintf(&conf_rel, "%s/%s", r->o->config_dir, SP_CONF_FILE) >= 0 &&
        (conf = under_root(r, conf_rel)) && sp_read_file(conf, 65536, &text, &len, NULL) == 0)
        sp_settings_parse(&s, conf, text, len, r->o->config_dir, NULL);
    if (s.audit_log && s.audit_log[0] && (log = under_root(r, s.audit_log)) &&
        access(log, F_OK) == 0) {
        say(r, "removed the audit log", "remove the audit log", s.audit_log);
        if (!r->o->dry_run)
            unlink(log);
    }
    free(log);
    free(text);
    free(conf);
    free(conf_rel);
    sp_settings_free(&s);
}

/* The block comes out by its markers whatever else changed in the script. */
static void take_hook_block(struct run *r)
{
    int missing = 0;
    enum sp_change change = SP_UNCHANGED;
    struct sp_err err;
    if (r->o->dry_run)
        return;
    if (sp_dsm_hook_take(r->o->root, &missing, &change, &err) < 0 && !missing)
        fprintf(r->out, "could not take the block out of %s: %s\n", SP_DSM_HOOK_PATH, err.msg);
    else if (change == SP_CHANGED)
        fprintf(r->out, "took the start-hook block out of %s\n", SP_DSM_HOOK_PATH);
}

static int remove_setup_state(struct run *r, struct sp_err *err)
{
    for (size_t i = 0; i < r->m.n; i++) {
        const struct sp_manifest_entry *e = &r->m.entries[i];
        char *rel = NULL, *full = NULL;
        if (e->how != SP_MANIFEST_CHANGED)
            continue;
        if (asprintf(&rel, "%s/%s", BACKUP_DIR, e->backup) < 0 || !(full = under_root(r, rel))) {
            free(rel);
            return sp_err_set(err, "out of memory");
        }
        if (!r->o->dry_run)
            unlink(full);
        free(full);
        free(rel);
    }
    char *manifest = under_root(r, MANIFEST_PATH);
    if (manifest && !r->o->dry_run)
        unlink(manifest);
    free(manifest);
    return 0;
}

int sp_setup_remove(const struct sp_setup_opts *o, FILE *out, struct sp_err *err)
{
    struct run r = {.o = o, .out = out};
    if (load_manifest(&r, err) < 0)
        return -1;
    if (!r.manifest_before) {
        fprintf(out, "nothing to remove: setup has not run here (no %s)\n", MANIFEST_PATH);
        return 0;
    }
    int left = 0, rc = 0, dropin_gone = 0;
    char *dropin = sp_dropin_path("", o->unit);
    take_hook_block(&r);
    /* Newest first: files before the directories that hold them. */
    for (size_t i = r.m.n; rc == 0 && i-- > 0;) {
        const struct sp_manifest_entry *e = &r.m.entries[i];
        if (e->kind == SP_MANIFEST_FILE) {
            rc = remove_file(&r, e, &left, err);
            if (dropin && strcmp(e->path, dropin) == 0)
                dropin_gone = 1; /* systemd is told, even when it was gone already */
        }
    }
    if (rc == 0 && o->purge) {
        purge_audit_log(&r);
        purge_config(&r);
    }
    if (rc == 0)
        rc = remove_setup_state(&r, err);
    for (size_t i = r.m.n; rc == 0 && i-- > 0;)
        if (r.m.entries[i].kind == SP_MANIFEST_DIR)
            rc = remove_dir(&r, &r.m.entries[i], &left, err);
    r.dropin_changed = dropin_gone;
    if (rc == 0)
        rc = reload_if_needed(&r, err);
    if (rc == 0 && !o->dry_run)
        fprintf(out, "\nRemoved. A daemon started with the shim keeps it until it restarts "
                     "(systemctl restart %s while no VM runs).\n", o->unit);
    free(dropin);
    free_run(&r);
    return rc < 0 ? -1 : left;
}
