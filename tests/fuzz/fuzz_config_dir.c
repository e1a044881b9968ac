/* Fuzzes whole config directories as the shim loads them. The input is
 * decoded into a fresh directory tree (snippets, the conf, ROMs, FIFOs,
 * sockets, directories, symlinks inside and out, 64 MB sparse files, odd
 * modes and owners); sp_config_new + sp_config_snapshot and sp_start_prepare
 * on a fixed domain run over it, as often as the input asks; then a fresh
 * sp_config must see what the cached one sees, and the tree is removed.
 * Properties: no memory errors, leaks or UB; nothing blocks (a hang is a
 * timeout); each verdict agrees with the snapshot; the cache keeps up with
 * the files (also with a directory changed within one tick of the file
 * system's clock, behind an unchanged stat); the tree goes away.
 *
 * Nothing outside the fuzzer's temp dir ($TMPDIR/sp-fuzz-cfg.XXXXXX, made
 * once, removed at exit) is touched: it holds a small fake sysfs and proc
 * (SYNOPASSTHRU_SYSFS_ROOT and _PROC_ROOT win over whatever the conf says,
 * and a conf written here names them too) and each input's tree; a start
 * runs only when rom_dir resolves inside the temp dir, so no file outside
 * it is opened as a ROM; sp_start_prepare never runs the helper.
 *
 * Input: two header bytes, then records.
 *   byte 0  bits 0-2 vm.d: 0 a directory, 1 absent, 2 a symlink to rom,
 *           3 a symlink to /etc, 4 a symlink to the directory "snippets",
 *           5 a world-writable directory, 6 a FIFO, 7 a directory owned by
 *           uid 65534; bits 3-4 the config dir: 0755, 0775, 0777, owned by
 *           65534; bit 5 rom is world-writable; bit 6 uid 65534 is trusted
 *           (SYNOPASSTHRU_TRUSTED_UID).
 *   byte 1  bits 0-1 the domain XML (domains[] below).
 *   record  [kind][name, up to a NUL][length, 2 bytes little-endian][content]
 *           kind bits 0-2: 0 a file, 1 a 64 MB sparse file (content first),
 *           2 a FIFO, 3 a UNIX socket, 4 a directory, 5 a symlink to the
 *           content, 6 remove the entry, 7 take a snapshot and start now;
 *           bits 3-4 where: 0 vm.d, 1 rom, 2 the config dir,
 *           3 synopassthru.conf (the name is ignored); bits 5-7 the mode:
 *           0644, 0600, 0664, 0666, 0000, 0644 owned by 65534, 0755, 01777.
 * Names keep [A-Za-z0-9._-] (at most 32 bytes); in vm.d one without a '.'
 * gets ".xml". A conf written here loses its sysfs_root and proc_root lines
 * and ends with ones naming the fake roots. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../common/fsutil.h"
#include "../../common/testhooks.h"
#include "../../config/config.h"
#include "../../core/start.h"
#include "../../pci/pci.h"
#include "../tools/fakesysfs.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECORDS 64
#define MAX_STARTS 4
#define NAME_LEN 32
#define TARGET_LEN 64
#define BIG_SIZE (64L << 20)
#define OTHER_UID 65534

enum what { W_FILE, W_BIG, W_FIFO, W_SOCKET, W_DIR, W_SYMLINK, W_REMOVE, W_START };
enum where { IN_VMD, IN_ROM, IN_CFG, IN_CONF };

static const mode_t modes[8] = {0644, 0600, 0664, 0666, 0000, 0644, 0755, 01777};
#define PERM_OTHER_OWNER 5

static const char host_spec[] = "0000:01:00.0 10de 1e84 0x030000 nouveau 1\n"
                                "0000:01:00.1 10de 10f8 0x040300 snd_hda_intel 1\n"
                                "0000:05:00.0 8086 10fb 0x020000 ixgbe 2 8086:000c\n";

#define UUID "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
#define DOMAIN_TAIL "<memory unit='KiB'>1048576</memory><os><type arch='x86_64' machine='"
static const char *const domains[4] = {
    "<domain type='kvm'><name>vm0</name><uuid>" UUID "</uuid>" DOMAIN_TAIL
    "pc-q35-7.2'>hvm</type></os><devices><controller type='pci' index='0' "
    "model='pcie-root'/></devices></domain>",
    "<domain type='kvm'><name>vm0</name><uuid>" UUID "</uuid><title>vm0 title</title>"
    DOMAIN_TAIL "pc-i440fx-7.2'>hvm</type></os><devices><hostdev mode='subsystem' type='pci' "
    "managed='no'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/>"
    "</source></hostdev></devices></domain>",
    "<!DOCTYPE domain><domain type='kvm'><name>vm0</name><uuid>" UUID "</uuid>" DOMAIN_TAIL
    "pc-q35-7.2'>hvm</type></os><devices/></domain>",
    "<domain type='kvm'><name>vm1</name><uuid>" UUID "</uuid>" DOMAIN_TAIL
    "pc-q35-7.2'>hvm</type></os><devices/></domain>",
};
static const char *const titles[4] = {NULL, "vm0 title", NULL, NULL};
static const char *const names[4] = {"vm0", "vm0", "vm0", "vm1"};

/* The temp dir (sys/, proc/, in/) and its resolved path. */
static char base[SP_PATH_MAX], real_base[SP_PATH_MAX];

struct tree {
    char root[SP_PATH_MAX]; /* this input's tree: <base>/in */
    char cfg[SP_PATH_MAX];
    int fd[3];              /* IN_VMD, IN_ROM, IN_CFG: the directories written to, or -1 */
    int domain;
    int starts;
};

struct record {
    int what, where, perm;
    char name[NAME_LEN + 8];
    const uint8_t *content;
    size_t len;
};

struct input {
    const uint8_t *p;
    size_t left;
};

static void remove_base(void)
{
    if (base[0] && sp_remove_tree(base) < 0)
        fprintf(stderr, "fuzz_config_dir: cannot remove %s\n", base);
}

/* The input that failed reproduces it: its tree goes too. */
static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_config_dir: %s: %s\n", what, detail ? detail : "");
    remove_base();
    abort();
}

/* Reads every byte of a string so that ASan checks the whole allocation. */
static size_t touch_str(const char *s)
{
    size_t sum = 0;
    for (const char *p = s; p && *p; p++)
        sum += (unsigned char)*p;
    return sum;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* --- decoding ------------------------------------------------------------ */

static void keep_chars(const uint8_t *raw, size_t n, const char *extra, char *out, size_t max)
{
    size_t used = 0;
    for (size_t i = 0; i < n && used < max; i++) {
        char c = (char)raw[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            (c && strchr(extra, c)))
            out[used++] = c;
    }
    out[used] = '\0';
}

static void make_name(const uint8_t *raw, size_t n, int where, char *out)
{
    if (where == IN_CONF) {
        strcpy(out, SP_CONF_FILE);
        return;
    }
    keep_chars(raw, n, "._-", out, NAME_LEN);
    if (out[strspn(out, ".")] == '\0') /* "", ".", "..": no name of its own */
        strcpy(out, "x");
    if (where == IN_VMD && !strchr(out, '.'))
        strcat(out, ".xml");
}

static int next_record(struct input *in, struct record *r)
{
    if (in->left == 0)
        return 0;
    uint8_t kind = *in->p++;
    in->left--;
    const uint8_t *nul = memchr(in->p, 0, in->left);
    size_t name_len = nul ? (size_t)(nul - in->p) : in->left;
    r->what = kind & 7;
    r->where = (kind >> 3) & 3;
    r->perm = kind >> 5;
    make_name(in->p, name_len, r->where, r->name);
    in->p += name_len + (nul ? 1 : 0);
    in->left -= name_len + (nul ? 1 : 0);
    r->len = 0;
    if (in->left >= 2) {
        r->len = in->p[0] | (size_t)in->p[1] << 8;
        in->p += 2;
        in->left -= 2;
    }
    if (r->len > in->left)
        r->len = in->left;
    r->content = in->p;
    in->p += r->len;
    in->left -= r->len;
    return 1;
}

/* --- building the tree --------------------------------------------------- */

static int open_dir(int dirfd, const char *name)
{
    return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static void give_away(int dirfd, const char *name)
{
    if (fchownat(dirfd, name, OTHER_UID, OTHER_UID, AT_SYMLINK_NOFOLLOW) < 0 && geteuid() == 0)
        fail("chown", name);
}

/* A directory made here keeps its owner's rwx when not run as root, so that
 * the tree can still be removed. */
static void set_perm(int dirfd, const char *name, int perm, int is_dir)
{
    mode_t mode = modes[perm];
    if (is_dir && geteuid() != 0)
        mode |= 0700;
    if (fchmodat(dirfd, name, mode, 0) < 0)
        fail("chmod", name);
    if (perm == PERM_OTHER_OWNER)
        give_away(dirfd, name);
}


/* The conf's lines without sysfs_root and proc_root, then the fake roots. */
static char *conf_text(const struct record *r, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f)
        fail("open_memstream", strerror(errno));
    const char *p = (const char *)r->content, *end = p + r->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        if (!memmem(p, n, "sysfs_root", 10) && !memmem(p, n, "proc_root", 9)) {
            fwrite(p, 1, n, f);
            fputc('\n', f);
        }
        p += n + 1;
    }
    fprintf(f, "sysfs_root = %s/sys\nproc_root = %s/proc\n", base, base);
    if (fclose(f) != 0)
        fail("open_memstream", "cannot close");
    return text;
}

static void create_file(int dirfd, const struct record *r)
{
    int fd = openat(dirfd, r->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return; /* taken already, or its directory is gone */
    size_t len = r->len;
    char *conf = r->where == IN_CONF ? conf_text(r, &len) : NULL;
    if (sp_write_all(fd, conf ? conf : (const char *)r->content, len) < 0 ||
        (r->what == W_BIG && ftruncate(fd, BIG_SIZE) < 0))
        fail("write", r->name);
    free(conf);
    close(fd);
    set_perm(dirfd, r->name, r->perm, 0);
}

/* A socket file: bound through the directory's fd, then closed. */
static void create_socket(int dirfd, const struct record *r)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (sp_path_fmt(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd, r->name) < 0)
        return;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        fail("socket", strerror(errno));
    int rc = bind(s, (struct sockaddr *)&sa, sizeof(sa));
    close(s);
    if (rc == 0)
        set_perm(dirfd, r->name, r->perm, 0);
}

static void create_symlink(int dirfd, const struct record *r)
{
    char target[TARGET_LEN + 1];
    keep_chars(r->content, r->len, "._-/", target, TARGET_LEN);
    if (symlinkat(target[0] ? target : "missing", dirfd, r->name) == 0 &&
        r->perm == PERM_OTHER_OWNER)
        give_away(dirfd, r->name);
}

static void remove_entry(int dirfd, const char *name)
{
    if (unlinkat(dirfd, name, 0) < 0)
        (void)unlinkat(dirfd, name, AT_REMOVEDIR);
}

static void apply_record(const struct tree *t, const struct record *r)
{
    int dirfd = t->fd[r->where == IN_CONF ? IN_CFG : r->where];
    if (dirfd < 0)
        return;
    switch (r->what) {
    case W_FILE:
    case W_BIG: create_file(dirfd, r); break;
    case W_FIFO:
        if (mkfifoat(dirfd, r->name, 0600) == 0)
            set_perm(dirfd, r->name, r->perm, 0);
        break;
    case W_SOCKET: create_socket(dirfd, r); break;
    case W_DIR:
        if (mkdirat(dirfd, r->name, 0700) == 0)
            set_perm(dirfd, r->name, r->perm, 1);
        break;
    case W_SYMLINK: create_symlink(dirfd, r); break;
    case W_REMOVE: remove_entry(dirfd, r->name); break;
    default: break;
    }
}

static int make_subdir(int dirfd, const char *name, mode_t mode)
{
    if (mkdirat(dirfd, name, 0700) < 0 || fchmodat(dirfd, name, mode, 0) < 0)
        fail("mkdir", name);
    return open_dir(dirfd, name);
}

/* vm.d in the form byte 0 asks for; returns the directory snippets go to. */
static int make_vmd(const struct tree *t, int form)
{
    int cfg = t->fd[IN_CFG];
    switch (form) {
    case 0: return make_subdir(cfg, SP_SNIPPET_DIR, 0755);
    case 1: return -1;
    case 2:
        if (symlinkat("rom", cfg, SP_SNIPPET_DIR) < 0)
            fail("symlink", SP_SNIPPET_DIR);
        return dup(t->fd[IN_ROM]);
    case 3:
        if (symlinkat("/etc", cfg, SP_SNIPPET_DIR) < 0)
            fail("symlink", SP_SNIPPET_DIR);
        return -1;
    case 4:
        if (symlinkat("snippets", cfg, SP_SNIPPET_DIR) < 0)
            fail("symlink", SP_SNIPPET_DIR);
        return make_subdir(cfg, "snippets", 0755);
    case 5: return make_subdir(cfg, SP_SNIPPET_DIR, 0777);
    case 6:
        if (mkfifoat(cfg, SP_SNIPPET_DIR, 0644) < 0)
            fail("mkfifo", SP_SNIPPET_DIR);
        return -1;
    default: {
        int fd = make_subdir(cfg, SP_SNIPPET_DIR, 0755);
        give_away(cfg, SP_SNIPPET_DIR);
        return fd;
    }
    }
}

/* The temp dir with the fake roots, and the environment naming them: set
 * once, as each new value given to setenv stays allocated. */
static void make_base(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[SP_PATH_MAX];
    if (sp_path_fmt(base, sizeof(base), "%s/sp-fuzz-cfg.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0 ||
        !mkdtemp(base))
        fail("mkdtemp", strerror(errno));
    atexit(remove_base);
    if (!realpath(base, real_base))
        fail("realpath", base);
    if (sp_path_fmt(path, sizeof(path), "%s/sys", base) < 0 ||
        fakesysfs_build(path, host_spec) < 0 || setenv(SP_ENV_SYSFS_ROOT, path, 1) < 0 ||
        strcmp(sp_pci_sysfs_root("/sys"), path) != 0)
        fail("the fake sysfs is not the one the code reads", path);
    if (sp_path_fmt(path, sizeof(path), "%s/proc", base) < 0 || mkdir(path, 0755) < 0 ||
        setenv(SP_ENV_PROC_ROOT, path, 1) < 0 || strcmp(sp_pci_proc_root("/proc"), path) != 0)
        fail("the fake proc is not the one the code reads", path);
}

static void make_tree(struct tree *t, uint8_t flags, uint8_t flags2)
{
    memset(t, 0, sizeof(*t));
    t->domain = flags2 & 3;
    /* "" trusts no one but root. */
    if (setenv(SP_ENV_TRUSTED_UID, (flags & 0x40) ? "65534" : "", 1) < 0)
        fail("setenv", SP_ENV_TRUSTED_UID);
    static const mode_t cfg_modes[4] = {0755, 0775, 0777, 0755};
    if (sp_path_fmt(t->root, sizeof(t->root), "%s/in", base) < 0 || mkdir(t->root, 0700) < 0 ||
        sp_path_fmt(t->cfg, sizeof(t->cfg), "%s/cfg", t->root) < 0 || mkdir(t->cfg, 0700) < 0 ||
        chmod(t->cfg, cfg_modes[(flags >> 3) & 3]) < 0)
        fail("mkdir", t->cfg);
    if (((flags >> 3) & 3) == 3)
        give_away(AT_FDCWD, t->cfg);
    t->fd[IN_CFG] = open_dir(AT_FDCWD, t->cfg);
    t->fd[IN_ROM] = make_subdir(t->fd[IN_CFG], "rom", (flags & 0x20) ? 0777 : 0755);
    t->fd[IN_VMD] = make_vmd(t, flags & 7);
    if (t->fd[IN_CFG] < 0 || t->fd[IN_ROM] < 0)
        fail("open", t->cfg);
}

static void remove_tree(struct tree *t)
{
    for (int i = 0; i < 3; i++)
        if (t->fd[i] >= 0)
            close(t->fd[i]);
    if (sp_remove_tree(t->root) < 0 || access(t->root, F_OK) == 0)
        fail("cannot remove the tree", t->root);
}

/* --- loading and starting ------------------------------------------------ */

static void check_snapshot(const struct sp_snapshot *snap)
{
    volatile size_t sink = touch_str(snap->config_dir) + touch_str(snap->global_error);
    sink += touch_str(snap->settings.rom_dir) + touch_str(snap->settings.vfio_helper);
    for (size_t i = 0; i < snap->n_orphan_errors; i++)
        sink += touch_str(snap->orphan_errors[i]);
    for (const struct sp_vm_entry *e = sp_snapshot_next(snap, NULL); e;
         e = sp_snapshot_next(snap, e)) {
        if (!e->key || e->n_files == 0)
            fail("snapshot", "an entry without a key or a file");
        sink += touch_str(e->key) + touch_str(e->error);
        for (size_t i = 0; i < e->n_files; i++)
            sink += touch_str(e->files[i]);
        for (size_t i = 0; i < e->n_specs; i++)
            sink += touch_str(e->specs[i].file) + touch_str(e->specs[i].rom) +
                    touch_str(e->specs[i].raw_xml);
    }
    (void)sink;
}

/* The domain is one the snapshot names (by name, UUID or title). */
static int names_domain(const struct tree *t, const struct sp_snapshot *snap)
{
    return sp_snapshot_lookup(snap, names[t->domain]) || sp_snapshot_lookup(snap, UUID) ||
           (titles[t->domain] && sp_snapshot_lookup(snap, titles[t->domain]));
}

static void check_ready(const struct sp_snapshot *snap, const struct sp_start *st)
{
    if (!st->xml || st->xml[st->xml_len] != '\0' || snap->global_error || st->n_entries == 0)
        fail("start", "ready without XML, or over a broken config");
    for (size_t i = 0; i < st->n_entries; i++)
        if (st->entries[i]->error)
            fail("start", "ready although a snippet is broken");
    volatile size_t sink = touch_str(st->xml);
    for (size_t i = 0; i < st->n_devs; i++)
        sink += touch_str(st->devs[i].rom) + touch_str(st->devs[i].file);
    (void)sink;
}

static void check_start(const struct tree *t, const struct sp_snapshot *snap,
                        const struct sp_start *st)
{
    int named = names_domain(t, snap);
    switch (st->verdict) {
    case SP_UNMATCHED:
        if (named || st->n_entries)
            fail("start", "a named VM went on unmatched");
        break;
    case SP_READY:
        if (!named || t->domain == 2)
            fail("start", "ready for a VM no snippet names, or with a DOCTYPE");
        check_ready(snap, st);
        break;
    case SP_REFUSED:
        if (!named || !st->err.msg[0])
            fail("start", "refused without a reason, or for a VM no snippet names");
        break;
    default: fail("start", st->err.msg);
    }
}

/* Within the temp dir, or absent (then no ROM can be opened through it). */
static int rom_dir_inside(const struct sp_snapshot *snap)
{
    char *real = snap->settings.rom_dir ? realpath(snap->settings.rom_dir, NULL) : NULL;
    if (!real)
        return 1;
    size_t n = strlen(real_base);
    int inside = strncmp(real, real_base, n) == 0 && (real[n] == '/' || real[n] == '\0');
    free(real);
    return inside;
}

static struct sp_snapshot *snapshot(struct sp_config *cfg)
{
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    if (sp_config_snapshot(cfg, &snap, &err) < 0)
        fail("snapshot", err.msg);
    check_snapshot(snap);
    return snap;
}

static void start_once(struct tree *t, struct sp_config *cfg)
{
    struct sp_snapshot *snap = snapshot(cfg);
    if (rom_dir_inside(snap)) {
        const char *xml = domains[t->domain];
        struct sp_start st;
        if (sp_start_prepare(snap, xml, strlen(xml), &st) < 0)
            fail("start", "out of memory");
        check_start(t, snap, &st);
        sp_start_free(&st);
    }
    sp_snapshot_release(snap);
    t->starts++;
}

static int has_file(const struct sp_vm_entry *e, const char *file)
{
    for (size_t i = 0; i < e->n_files; i++)
        if (strcmp(e->files[i], file) == 0)
            return 1;
    return 0;
}

/* Each sound VM a fresh load finds is known to the cached one, from at
 * least the same files (the cached one may hold more: the last good version
 * of a snippet since broken). */
static void same_entries(const struct sp_snapshot *cached, const struct sp_snapshot *fresh)
{
    for (const struct sp_vm_entry *e = sp_snapshot_next(fresh, NULL); e;
         e = sp_snapshot_next(fresh, e)) {
        const struct sp_vm_entry *c = sp_snapshot_lookup(cached, e->key);
        if (!c)
            fail("cache: a VM only a fresh load finds", e->key);
        for (size_t i = 0; !e->error && !c->error && i < e->n_files; i++)
            if (!has_file(c, e->files[i]))
                fail("cache: a snippet only a fresh load finds", e->files[i]);
    }
}

/* What the cached config shows must be what a fresh one reads now. */
static void compare_fresh(const struct tree *t, struct sp_config *cfg)
{
    struct sp_config *other = sp_config_new(t->cfg);
    if (!other)
        fail("sp_config_new", t->cfg);
    struct sp_snapshot *cached = snapshot(cfg), *fresh = snapshot(other);
    if (!same_str(cached->global_error, fresh->global_error))
        fail("cache: the global error differs", cached->global_error ? cached->global_error
                                                                      : fresh->global_error);
    if (cached->n_snippets != fresh->n_snippets)
        fail("cache: another number of snippets", cached->config_dir);
    same_entries(cached, fresh);
    sp_snapshot_release(fresh);
    sp_snapshot_release(cached);
    sp_config_free(other);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    make_base();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct tree t;
    make_tree(&t, data[0], data[1]);
    struct sp_config *cfg = sp_config_new(t.cfg);
    if (!cfg)
        fail("sp_config_new", t.cfg);
    struct input in = {data + 2, size - 2};
    struct record r;
    for (int n = 0; n < MAX_RECORDS && next_record(&in, &r); n++) {
        if (r.what != W_START)
            apply_record(&t, &r);
        else if (t.starts < MAX_STARTS)
            start_once(&t, cfg);
    }
    start_once(&t, cfg);
    compare_fresh(&t, cfg);
    sp_config_free(cfg);
    remove_tree(&t);
    return 0;
}
