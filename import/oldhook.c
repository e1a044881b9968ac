#include "oldhook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../injector/dsm_hook.h"
#include "dirs.h"

#define HOOK_MAX_BYTES (1u << 20)

/* ---- deploy.sh's lines ----------------------------------------------------------- */

struct line {
    const char *start;
    size_t len; /* without the newline */
    int newline;
    int drop;   /* the whole line goes */
    size_t cut; /* glued marker: these last bytes go, and the newline with them */
};

static struct line *split_lines(const char *text, size_t len, size_t *n)
{
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        count += text[i] == '\n';
    struct line *lines = calloc(count + 1, sizeof(*lines));
    if (!lines)
        return NULL;
    *n = 0;
    for (const char *p = text, *end = text + len; p < end; (*n)++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        lines[*n] = (struct line){.start = p, .len = (size_t)((nl ? nl : end) - p),
                                  .newline = nl != NULL};
        p = nl ? nl + 1 : end;
    }
    return lines;
}

static int line_is(const struct line *l, const char *s)
{
    return l->len == strlen(s) && memcmp(l->start, s, l->len) == 0;
}

static int line_ends_with(const struct line *l, const char *s)
{
    size_t n = strlen(s);
    return l->len > n && memcmp(l->start + l->len - n, s, n) == 0;
}

/* The last marker line; *glued set when it sits at the end of another
 * line. -1 when there is none. */
static long find_marker(const struct line *lines, size_t n, int *glued)
{
    *glued = 0;
    for (size_t i = n; i-- > 0;)
        if (line_is(&lines[i], SP_OLDHOOK_MARKER))
            return (long)i;
    for (size_t i = n; i-- > 0;) {
        if (line_ends_with(&lines[i], SP_OLDHOOK_MARKER)) {
            *glued = 1;
            return (long)i;
        }
    }
    return -1;
}

static void record(int lines[3], size_t *n, int line)
{
    size_t at = (*n)++;
    while (at > 0 && lines[at - 1] > line) {
        lines[at] = lines[at - 1];
        at--;
    }
    lines[at] = line;
}

/* Marks deploy.sh's lines in lines[]; returns the glued line or -1. */
static long mark_deploy_lines(struct line *lines, size_t n, int numbers[3], size_t *n_numbers)
{
    int glued;
    long m = find_marker(lines, n, &glued);
    *n_numbers = 0;
    if (m < 0)
        return -1;
    if (glued)
        lines[m].cut = strlen(SP_OLDHOOK_MARKER);
    else
        lines[m].drop = 1;
    record(numbers, n_numbers, (int)m + 1);
    static const char *const after[] = {SP_OLDHOOK_MKDIR, SP_OLDHOOK_COPY};
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = (size_t)m + 1; i < n; i++) {
            if (!lines[i].drop && line_is(&lines[i], after[k])) {
                lines[i].drop = 1;
                record(numbers, n_numbers, (int)i + 1);
                break;
            }
        }
    }
    return glued ? m : -1;
}

int sp_oldhook_strip(const char *text, size_t len, char **out, size_t *out_len, int lines[3],
                     size_t *n_lines)
{
    size_t n = 0;
    struct line *ls = split_lines(text, len, &n);
    char *buf = malloc(len + 1);
    if (!ls || !buf) {
        free(ls);
        free(buf);
        return -1;
    }
    long glued = mark_deploy_lines(ls, n, lines, n_lines);
    long last = -1;
    for (size_t i = 0; i < n; i++)
        if (!ls[i].drop)
            last = (long)i;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (ls[i].drop)
            continue;
        memcpy(buf + w, ls[i].start, ls[i].len - ls[i].cut);
        w += ls[i].len - ls[i].cut;
        /* A glued marker took the newline the original last line lacked. */
        if (ls[i].newline && !((long)i == glued && glued == last))
            buf[w++] = '\n';
    }
    buf[w] = '\0';
    free(ls);
    *out = buf;
    *out_len = w;
    return 0;
}

/* ---- finding them ------------------------------------------------------------------- */

/* Reads path when it exists: 1 read, 0 absent, -1 with err. */
static int read_if_there(const char *path, char **text, size_t *len, mode_t *mode,
                         struct sp_err *err)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return sp_err_set(err, "%s: %s", path, strerror(errno));
    }
    *mode = st.st_mode & 07777;
    return sp_read_file(path, HOOK_MAX_BYTES, text, len, err) < 0 ? -1 : 1;
}

static int first_line_with(const char *text, const char *needle)
{
    const char *hit = strstr(text, needle);
    if (!hit)
        return 0;
    int line = 1;
    for (const char *p = text; p < hit; p++)
        line += *p == '\n';
    return line;
}

/* ROOT + system_path into *path, read when it is there: 1 read, 0
 * absent, -1 with err. */
static int read_hook(const char *root, const char *system_path, char **path, char **text,
                     size_t *len, mode_t *mode, struct sp_err *err)
{
    if (asprintf(path, "%s%s", root, system_path) < 0) {
        *path = NULL;
        return sp_err_set(err, "out of memory");
    }
    return read_if_there(*path, text, len, mode, err);
}

static int find_qemu(const char *root, struct sp_oldhook *h, struct sp_err *err)
{
    int rc = read_hook(root, SP_OLDHOOK_QEMU, &h->qemu_path, &h->qemu_text, &h->qemu_len,
                       &h->qemu_mode, err);
    if (rc <= 0)
        return rc;
    h->qemu = strstr(h->qemu_text, "attach_detach_all.sh") || strstr(h->qemu_text, "attach_all.sh")
                  ? SP_OLDHOOK_THEIRS : SP_OLDHOOK_OTHER;
    return 0;
}

static int find_dsm(const char *root, struct sp_oldhook *h, struct sp_err *err)
{
    int rc = read_hook(root, SP_DSM_HOOK_PATH, &h->dsm_path, &h->dsm_text, &h->dsm_len,
                       &h->dsm_mode, err);
    if (rc <= 0)
        return rc;
    h->manual_line = first_line_with(h->dsm_text, SP_OLDHOOK_MANUAL);
    if (sp_oldhook_strip(h->dsm_text, h->dsm_len, &h->dsm_kept, &h->dsm_kept_len,
                         h->removed_lines, &h->n_removed) < 0)
        return sp_err_set(err, "out of memory");
    return 0;
}

int sp_oldhook_find(const char *root, struct sp_oldhook *out, struct sp_err *err)
{
    memset(out, 0, sizeof(*out));
    if (find_qemu(root, out, err) < 0 || find_dsm(root, out, err) < 0) {
        sp_oldhook_free(out);
        return -1;
    }
    return 0;
}

int sp_oldhook_live(const struct sp_oldhook *h)
{
    return h->qemu == SP_OLDHOOK_THEIRS || h->n_removed > 0 || h->manual_line > 0;
}

/* ---- backing up and removing ---------------------------------------------------------- */

/* Every missing folder above path (mode 0700: backups are root's). */
static int make_parents(const char *path, struct sp_err *err)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash && slash != path ? strndup(path, (size_t)(slash - path)) : NULL;
    int rc = dir ? sp_import_mkdirs(dir, 0700, err) : sp_err_set(err, "%s: no folder", path);
    free(dir);
    return rc;
}

/* backup_dir + system_path (the file's path without the root). */
static char *back_up(const char *backup_dir, const char *system_path, const char *text,
                     size_t len, mode_t mode, struct sp_err *err)
{
    char *path = NULL;
    if (asprintf(&path, "%s%s", backup_dir, system_path) < 0) {
        sp_err_set(err, "out of memory");
        return NULL;
    }
    if (make_parents(path, err) < 0 ||
        sp_write_file_atomic(path, text, len, mode & 0755, err) < 0) {
        sp_err_prefix(err, "backup");
        free(path);
        return NULL;
    }
    return path;
}

static int back_up_both(const struct sp_oldhook *h, const char *backup_dir,
                        struct sp_oldhook_done *done, struct sp_err *err)
{
    if (h->qemu == SP_OLDHOOK_THEIRS &&
        !(done->qemu_backup = back_up(backup_dir, SP_OLDHOOK_QEMU, h->qemu_text, h->qemu_len,
                                      h->qemu_mode, err)))
        return -1;
    if (h->n_removed > 0 &&
        !(done->dsm_backup = back_up(backup_dir, SP_DSM_HOOK_PATH, h->dsm_text, h->dsm_len,
                                     h->dsm_mode, err)))
        return -1;
    return 0;
}

int sp_oldhook_remove(const struct sp_oldhook *h, const char *backup_dir,
                      struct sp_oldhook_done *done, struct sp_err *err)
{
    memset(done, 0, sizeof(*done));
    if (back_up_both(h, backup_dir, done, err) < 0)
        return -1;
    if (h->n_removed > 0 &&
        sp_write_file_atomic(h->dsm_path, h->dsm_kept, h->dsm_kept_len, h->dsm_mode, err) < 0)
        return -1;
    if (h->qemu == SP_OLDHOOK_THEIRS && unlink(h->qemu_path) < 0)
        return sp_err_set(err, "%s: %s", h->qemu_path, strerror(errno));
    return 0;
}

char *sp_oldhook_backup_dir(const char *config_dir, time_t now, struct sp_err *err)
{
    char stamp[32];
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm)) {
        sp_err_set(err, "cannot format the time for the backup folder");
        return NULL;
    }
    for (int k = 1; k < 100; k++) {
        char *dir = NULL;
        int n = k == 1 ? asprintf(&dir, "%s/" SP_OLDHOOK_BACKUP_DIR "/%s", config_dir, stamp)
                       : asprintf(&dir, "%s/" SP_OLDHOOK_BACKUP_DIR "/%s-%d", config_dir, stamp, k);
        if (n < 0)
            break;
        if (make_parents(dir, err) < 0) {
            free(dir);
            return NULL;
        }
        if (mkdir(dir, 0700) == 0 && chmod(dir, 0700) == 0)
            return dir;
        int saved = errno;
        if (saved != EEXIST) {
            sp_err_set(err, "%s: %s", dir, strerror(saved));
            free(dir);
            return NULL;
        }
        free(dir);
    }
    sp_err_set(err, "cannot make a backup folder under %s/" SP_OLDHOOK_BACKUP_DIR, config_dir);
    return NULL;
}

void sp_oldhook_free(struct sp_oldhook *h)
{
    free(h->qemu_path);
    free(h->qemu_text);
    free(h->dsm_path);
    free(h->dsm_text);
    free(h->dsm_kept);
    memset(h, 0, sizeof(*h));
}

void sp_oldhook_done_free(struct sp_oldhook_done *d)
{
    free(d->qemu_backup);
    free(d->dsm_backup);
    memset(d, 0, sizeof(*d));
}
