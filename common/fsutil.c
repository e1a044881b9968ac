#include "fsutil.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sp_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                 struct sp_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sp_err_set(err, "%s: %s", path, strerror(errno));

    struct stat st;
    if (fstat(fd, &st) < 0) {
        int saved = errno;
        close(fd);
        return sp_err_set(err, "%s: %s", path, strerror(saved));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return sp_err_set(err, "%s: not a regular file", path);
    }
    /* The size is only a first guess: sysfs reports 4096 for every
     * attribute and procfs 0, so the limit is enforced on what is read. */
    size_t cap = ((size_t)st.st_size < max_bytes ? (size_t)st.st_size : max_bytes) + 2, used = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return sp_err_set(err, "%s: out of memory", path);
    }
    for (;;) {
        if (used + 1 >= cap) {
            if (used > max_bytes) {
                free(buf);
                close(fd);
                return sp_err_set(err, "%s: file too large (limit %zu bytes)", path, max_bytes);
            }
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                close(fd);
                return sp_err_set(err, "%s: out of memory", path);
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + used, cap - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            free(buf);
            close(fd);
            return sp_err_set(err, "%s: %s", path, strerror(saved));
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    if (used > max_bytes) {
        free(buf);
        close(fd);
        return sp_err_set(err, "%s: file too large (limit %zu bytes)", path, max_bytes);
    }
    close(fd);
    buf[used] = '\0';
    *out = buf;
    if (len)
        *len = used;
    return 0;
}

static int owner_is_trusted(uid_t uid)
{
    if (uid == 0)
        return 1;
    const char *extra = secure_getenv(SP_ENV_TRUSTED_UID);
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

int sp_stat_same(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
           a->st_size == b->st_size && a->st_mode == b->st_mode &&
           a->st_uid == b->st_uid &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
           a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
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

static int write_full(int fd, const void *buf, size_t len)
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
    int rc = write_full(fd, buf, len) < 0 || fchmod(fd, mode) < 0 || fsync(fd) < 0 ? -1 : 0;
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
