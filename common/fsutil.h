/* fsutil: file helpers shared by the modules: the one way a file is opened
 * (non-blocking, regular files only, size cap), StrictModes up to /, the one
 * atomic writer and tree removal. Never edits a file in place. */
#ifndef SP_FSUTIL_H
#define SP_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "err.h"
#include "testhooks.h"

/* sp_open_read flag: refuse a symbolic link as the last component. */
#define SP_OPEN_NOFOLLOW 1

/* The one way a file is opened for reading: anything but a regular file
 * (a FIFO, a socket, a device, a directory) is refused by its type before it
 * is opened, and again on the fd; the open is O_RDONLY | O_NONBLOCK |
 * O_CLOEXEC | O_NOCTTY (| O_NOFOLLOW), so nothing in a path can block the
 * caller. Returns the fd, with *st its fstat; -1 with err naming the path and
 * the cause ("x.xml: is a FIFO, not a regular file"). */
int sp_open_read(const char *path, int flags, struct stat *st, struct sp_err *err);

/* The same for a file written in place (an append-only log, a lock file):
 * flags O_WRONLY | O_APPEND or O_RDWR; created with mode when absent; never
 * through a symlink, never anything but a regular file, never blocking. */
int sp_open_write(const char *path, int flags, mode_t mode, struct stat *st, struct sp_err *err);

/* Reads fd to its end, at most max_bytes (a byte more is an error), into a
 * NUL-terminated buffer; st is the fd's fstat (a first guess of the size),
 * path names the file in errors. */
int sp_read_fd(int fd, const struct stat *st, const char *path, size_t max_bytes, char **out,
               size_t *len, struct sp_err *err);

/* sp_open_read, then sp_read_fd. With st, the fstat of the very fd that was
 * read: StrictModes on it judges the bytes the caller got. */
int sp_read_file_stat(const char *path, int flags, size_t max_bytes, char **out, size_t *len,
                      struct stat *st, struct sp_err *err);

/* sp_read_file_stat without flags or stat. */
int sp_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                 struct sp_err *err);

/* "a FIFO", "a socket", "a character device", "a directory", ... */
const char *sp_file_type_name(mode_t mode);

/* StrictModes: refuses a path whose owner is not root (or the uid of the
 * test hook SP_ENV_TRUSTED_UID, which never relaxes the mode check) or that
 * is group- or world-writable. `what` names the kind of file in the
 * message ("config dir", "snippet", "ROM"). */
int sp_check_strict_mode(const char *path, const struct stat *st,
                         const char *what, struct sp_err *err);

/* The StrictModes reason alone ("world-writable (mode 0666)", "owned by
 * uid 1000, not root"), or NULL when the file is acceptable. */
const char *sp_strict_mode_reason(const struct stat *st, char *buf, size_t size);

/* StrictModes for a directory and every directory above it, up to /, as
 * sshd checks them, on its resolved path (symlinks followed): each one a
 * directory owned by root (or the trusted uid) and not group- or
 * world-writable. Above dir (never dir itself), a root-owned sticky
 * directory such as /tmp may be writable by all. `what` names dir in the
 * message; with real_out, dir's resolved path (malloc'd). */
int sp_check_dir_chain(const char *dir, const char *what, char **real_out, struct sp_err *err);

/* Resolves path and dir (symlinks, "..") and requires path to lie inside
 * dir, which `dir_what` names ("the config dir"). 0 with *real_out, the
 * resolved path (malloc'd); -1 with err naming path and the cause (it does
 * not exist, or "outside the config dir /x (it resolves to /y): refusing
 * it"). */
int sp_resolve_within(const char *path, const char *dir, const char *dir_what, char **real_out,
                      struct sp_err *err);

/* True when both stat results describe the same unchanged file. */
int sp_stat_same(const struct stat *a, const struct stat *b);

/* What sp_stat_same compares (device, inode, size, both times to the
 * nanosecond, mode, owner, group, links), as one 64-bit digest: a cache
 * keeps one per file and only ever asks whether the file is unchanged. A
 * zeroed id was taken from no file (its digest is never 0). */
struct sp_file_id {
    uint64_t digest;
};
void sp_file_id_set(struct sp_file_id *id, const struct stat *st);
/* True when st describes the file id was taken from, unchanged (two
 * different stat results share a digest with odds of 2^-63). */
int sp_file_id_same(const struct sp_file_id *id, const struct stat *st);
/* True when id was taken from a file (sp_file_id_set), not zeroed. */
int sp_file_id_taken(const struct sp_file_id *id);

/* Writes all of buf to fd (again after EINTR or a short write): 0, or -1
 * with errno. */
int sp_write_all(int fd, const void *buf, size_t len);

/* Replaces path with buf in one step: a temp file beside it (same
 * directory), written, given `mode`, synced, renamed over path, and the
 * directory synced. Readers see the old file or the new one, never a part.
 * The file is owned by the caller's uid. */
int sp_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode,
                         struct sp_err *err);

/* Ends a text built with open_memstream into *text: the text when rc is 0
 * and the stream closes cleanly; otherwise it is freed, err is set (when rc
 * was 0: out of memory) and NULL returned. */
char *sp_memstream_done(FILE *f, char **text, int rc, struct sp_err *err);

/* rm -r of path: depth first, symlinks removed as links, never followed.
 * 0 when everything went; -1 (errno set) otherwise. */
int sp_remove_tree(const char *path);

/* Room for any path the project builds. */
#define SP_PATH_MAX 4096

/* snprintf into a path buffer that refuses to cut: 0, or -1 with errno
 * ENAMETOOLONG when the path does not fit (a cut path would name another
 * file). */
int sp_path_fmt(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Joins dir and name with one '/'; returns malloc'd string or NULL. */
char *sp_path_join(const char *dir, const char *name);

#endif
