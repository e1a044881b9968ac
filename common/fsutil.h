/* fsutil: small file helpers shared by the modules: whole-file reads with a
 * size cap, the StrictModes check (owner root, not group/world-writable), and
 * the one atomic file writer and tree removal. Never edits a file in place. */
#ifndef SP_FSUTIL_H
#define SP_FSUTIL_H

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

#include "err.h"

/* The variable that lets a test suite accept files owned by one more uid
 * besides root. It never relaxes the mode check. */
#define SP_ENV_TRUSTED_UID "SYNOPASSTHRU_TRUSTED_UID"

/* Reads a whole regular file (at most max_bytes) into a NUL-terminated
 * buffer. Errors name the path and the cause. */
int sp_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                 struct sp_err *err);

/* StrictModes: refuses a path whose owner is not root (or the trusted uid)
 * or that is group- or world-writable. `what` names the kind of file in the
 * message ("config dir", "snippet", "ROM"). */
int sp_check_strict_mode(const char *path, const struct stat *st,
                         const char *what, struct sp_err *err);

/* The StrictModes reason alone ("world-writable (mode 0666)", "owned by
 * uid 1000, not root"), or NULL when the file is acceptable. */
const char *sp_strict_mode_reason(const struct stat *st, char *buf, size_t size);

/* True when both stat results describe the same unchanged file. */
int sp_stat_same(const struct stat *a, const struct stat *b);

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
