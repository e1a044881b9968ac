#include "fsutil.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *sp_file_type_name(mode_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFSOCK: return "a socket";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFLNK: return "a symbolic link";
    default: return "not a file of a known type";
    }
}

static int refuse_type(const char *path, mode_t mode, struct sp_err *err)
{
    return sp_err_set(err, "%s: is %s, not a regular file", path, sp_file_type_name(mode));
}

/* fd's fstat into *st; fd is closed and -1 returned unless it is a regular
 * file (what took the path's place after a check is judged here). */
static int keep_regular(int fd, const char *path, struct stat *st, struct sp_err *err)
{
    if (fstat(fd, st) < 0) {
        int saved = errno;
        close(fd);
        return sp_err_set(err, "%s: %s", path, strerror(saved));
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return refuse_type(path, st->st_mode, err);
    }
    return fd;
}

int sp_open_read(const char *path, int flags, struct stat *st, struct sp_err *err)
{
    /* Looked at before the open: opening a device can act (a watchdog
     * starts, a tape rewinds), and is never needed. */
    int nofollow = flags & SP_OPEN_NOFOLLOW;
    if ((nofollow ? lstat(path, st) : stat(path, st)) < 0)
        return sp_err_set(err, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st->st_mode))
        return refuse_type(path, st->st_mode, err);
    /* O_NONBLOCK: should a FIFO take the file's place after the stat, the
     * open returns at once and keep_regular refuses it. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0)
        return sp_err_set(err, "%s: %s", path, strerror(errno));
    return keep_regular(fd, path, st, err);
}

int sp_open_write(const char *path, int flags, mode_t mode, struct stat *st, struct sp_err *err)
{
    if (lstat(path, st) == 0 && !S_ISREG(st->st_mode))
        return refuse_type(path, st->st_mode, err);
    int fd = open(path, flags | O_CREAT | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, mode);
    if (fd < 0)
        return sp_err_set(err, "%s: %s", path, strerror(errno));
    return keep_regular(fd, path, st, err);
}

static int too_large(const char *path, size_t max_bytes, struct sp_err *err)
{
    return sp_err_set(err, "%s: file too large (limit %zu bytes)", path, max_bytes);
}

/* Grows buf so that at least one more byte fits after used (and a NUL). */
static int grow(char **buf, size_t *cap, size_t used, const char *path, size_t max_bytes,
                struct sp_err *err)
{
    if (used + 1 < *cap)
        return 0;
    if (used > max_bytes)
        return too_large(path, max_bytes, err);
    char *bigger = realloc(*buf, *cap * 2);
    if (!bigger)
        return sp_err_set(err, "%s: out of memory", path);
    *buf = bigger;
    *cap *= 2;
    return 0;
}

int sp_read_fd(int fd, const struct stat *st, const char *path, size_t max_bytes, char **out,
               size_t *len, struct sp_err *err)
{
    /* The size is only a first guess: sysfs reports 4096 for every
     * attribute and procfs 0, so the limit is enforced on what is read. */
    size_t cap = ((size_t)st->st_size < max_bytes ? (size_t)st->st_size : max_bytes) + 2, used = 0;
    char *buf = malloc(cap);
    if (!buf)
        return sp_err_set(err, "%s: out of memory", path);
    for (;;) {
        if (grow(&buf, &cap, used, path, max_bytes, err) < 0) {
            free(buf);
            return -1;
        }
        ssize_t n = read(fd, buf + used, cap - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            free(buf);
            return sp_err_set(err, "%s: %s", path, strerror(saved));
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    if (used > max_bytes) {
        free(buf);
        return too_large(path, max_bytes, err);
    }
    buf[used] = '\0';
    *out = buf;
    if (len)
        *len = used;
    return 0;
}

int sp_read_file_stat(const char *path, int flags, size_t max_bytes, char **out, size_t *len,
                      struct stat *st, struct sp_err *err)
{
    struct stat own;
    struct stat *s = st ? st : &own;
    int fd = sp_open_read(path, flags, s, err);
    if (fd < 0)
        return -1;
    int rc = sp_read_fd(fd, s, path, max_bytes, out, len, err);
    close(fd);
    return rc;
}

int sp_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                 struct sp_err *err)
{
    return sp_read_file_stat(path, 0, max_bytes, out, len, NULL, err);
}

static int owner_is_trusted(uid_t uid)
{
    if (uid == 0)
        return 1;
    const char *extra = sp_test_env(SP_TEST_ENV_TRUSTED_UID);
    if (!extra || !*extra)
        return 0;
    char *end;
    errno = 0;
    unsigned long v = strtoul(extra, &end, 10);
    return errno == 0 && *end == '\0' && end != extra && (uid_t)v == uid;
}

const char *sp_strict_mode_reason(const struct stat *st, char *buf, size_t size)
{
    if (!owner_is_trusted(st->st_uid))
        snprintf(buf, size, "owned by uid %u, not root", (unsigned)st->st_uid);
    else if (st->st_mode & (S_IWGRP | S_IWOTH))
        snprintf(buf, size, "%s-writable (mode %04o)",
                 (st->st_mode & S_IWOTH) ? "world" : "group", (unsigned)(st->st_mode & 07777));
    else
        return NULL;
    return buf;
}

int sp_check_strict_mode(const char *path, const struct stat *st,
                         const char *what, struct sp_err *err)
{
    char reason[128];
    if (!sp_strict_mode_reason(st, reason, sizeof(reason)))
        return 0;
    const char *fix = st->st_mode & (S_IWGRP | S_IWOTH) && owner_is_trusted(st->st_uid)
                          ? "chmod go-w" : "chown root";
    return sp_err_set(err, "%s %s is %s: refusing it (%s %s)", what, path, reason, fix, path);
}

/* Above the checked directory, a root-owned directory with the sticky bit
 * (/tmp) may be writable by others: they can neither rename nor remove
 * what is in it, and that is checked in turn. */
static int sticky_root_dir(const struct stat *st)
{
    return st->st_uid == 0 && (st->st_mode & S_ISVTX);
}

/* One directory of the chain: `dir` itself (above == 0) or a directory
 * above it, `at`. */
static int check_chain_dir(const char *dir, const char *at, int above, const char *what,
                           struct sp_err *err)
{
    struct stat st;
    const char *shown = above ? at : dir;
    if (stat(at, &st) < 0)
        return sp_err_set(err, "%s %s: %s: %s", what, dir, at, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return sp_err_set(err, "%s %s is %s, not a directory", what, shown,
                          sp_file_type_name(st.st_mode));
    if (!above)
        return sp_check_strict_mode(dir, &st, what, err);
    if (sticky_root_dir(&st) || sp_check_strict_mode(at, &st, "parent directory", err) == 0)
        return 0;
    return sp_err_prefix(err, "%s %s", what, dir);
}

int sp_check_dir_chain(const char *dir, const char *what, char **real_out, struct sp_err *err)
{
    char *real = realpath(dir, NULL);
    if (!real)
        return sp_err_set(err, "%s %s: %s", what, dir, strerror(errno));
    int rc = check_chain_dir(dir, real, 0, what, err);
    char *at = rc == 0 ? strdup(real) : NULL;
    if (rc == 0 && !at)
        rc = sp_err_set(err, "%s %s: out of memory", what, dir);
    while (rc == 0 && strcmp(at, "/") != 0) {
        char *slash = strrchr(at, '/');
        slash[slash == at ? 1 : 0] = '\0';
        rc = check_chain_dir(dir, at, 1, what, err);
    }
    free(at);
    if (rc == 0 && real_out)
        *real_out = real;
    else
        free(real);
    return rc;
}

/* Whether real lies in real_dir (or is it); both resolved. */
static int path_within(const char *real, const char *real_dir)
{
    size_t n = strlen(real_dir);
    return strcmp(real_dir, "/") == 0 ||
           (strncmp(real, real_dir, n) == 0 && (real[n] == '/' || real[n] == '\0'));
}

int sp_resolve_within(const char *path, const char *dir, const char *dir_what, char **real_out,
                      struct sp_err *err)
{
    char *real = realpath(path, NULL);
    if (!real)
        return sp_err_set(err, "%s: %s", path, strerror(errno));
    char *real_dir = realpath(dir, NULL);
    int rc = 0;
    if (!real_dir) {
        rc = sp_err_set(err, "%s: %s %s: %s", path, dir_what, dir, strerror(errno));
    } else if (!path_within(real, real_dir)) {
        int same = strcmp(real, path) == 0;
        rc = sp_err_set(err, "%s: outside %s %s%s%s%s: refusing it", path, dir_what, dir,
                        same ? "" : " (it resolves to ", same ? "" : real, same ? "" : ")");
    }
    free(real_dir);
    if (rc == 0)
        *real_out = real;
    else
        free(real);
    return rc;
}

/* Folds one value into a running digest: a multiply-xorshift mix, so that
 * each input bit reaches every output bit. */
static uint64_t digest_fold(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t stat_digest(const struct stat *st)
{
    const uint64_t fields[] = {
        (uint64_t)st->st_dev,          (uint64_t)st->st_ino,
        (uint64_t)st->st_size,         (uint64_t)st->st_mtim.tv_sec,
        (uint64_t)st->st_mtim.tv_nsec, (uint64_t)st->st_ctim.tv_sec,
        (uint64_t)st->st_ctim.tv_nsec, (uint64_t)st->st_mode,
        (uint64_t)st->st_uid,          (uint64_t)st->st_gid,
        (uint64_t)st->st_nlink,
    };
    uint64_t h = 0;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        h = digest_fold(h, fields[i]);
    return h | 1; /* the low bit tells a taken id from a zeroed one */
}

void sp_file_id_set(struct sp_file_id *id, const struct stat *st)
{
    id->digest = stat_digest(st);
}

int sp_file_id_same(const struct sp_file_id *id, const struct stat *st)
{
    return id->digest == stat_digest(st);
}

int sp_file_id_taken(const struct sp_file_id *id)
{
    return id->digest != 0;
}

int sp_stat_same(const struct stat *a, const struct stat *b)
{
    struct sp_file_id id;
    sp_file_id_set(&id, a);
    return sp_file_id_same(&id, b);
}

char *sp_path_join(const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    size_t nl = strlen(name);
    char *p = malloc(dl + 1 + nl + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, dl);
    p[dl] = '/';
    memcpy(p + dl + 1, name, nl + 1);
    return p;
}

int sp_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* "<dir of path>/.<name of path>.XXXXXX", for mkstemp. */
static char *temp_template(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    int dir_len = slash ? (int)(slash - path) + 1 : 0;
    char *tmpl = NULL;
    if (asprintf(&tmpl, "%.*s.%s.XXXXXX", dir_len, path, name) < 0)
        return NULL;
    return tmpl;
}

/* The rename is only durable once the directory entry is on disk too. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int sp_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode,
                         struct sp_err *err)
{
    char *tmpl = temp_template(path);
    if (!tmpl)
        return sp_err_set(err, "%s: out of memory", path);
    int fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd < 0) {
        int saved = errno;
        free(tmpl);
        return sp_err_set(err, "%s: cannot create a temporary file next to it: %s", path,
                          strerror(saved));
    }
    int rc = sp_write_all(fd, buf, len) < 0 || fchmod(fd, mode) < 0 || fsync(fd) < 0 ? -1 : 0;
    int saved = errno;
    if (close(fd) < 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc == 0 && rename(tmpl, path) < 0) {
        rc = -1;
        saved = errno;
    }
    if (rc < 0) {
        unlink(tmpl);
        sp_err_set(err, "%s: %s", path, strerror(saved));
    } else {
        sync_parent_dir(path);
    }
    free(tmpl);
    return rc;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

int sp_remove_tree(const char *path)
{
    /* Depth first, and never through a symlink: a link inside is removed
     * as a link, not followed. */
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *sp_memstream_done(FILE *f, char **text, int rc, struct sp_err *err)
{
    if (fclose(f) != 0 && rc == 0)
        rc = sp_err_set(err, "out of memory");
    if (rc < 0) {
        free(*text);
        *text = NULL;
    }
    return *text;
}

int sp_path_fmt(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size) {
        if (size)
            out[0] = '\0';
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}
