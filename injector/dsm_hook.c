#include "dsm_hook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/fsutil.h"

#define BLOCK_BEGIN "# synopassthru: begin"
#define BLOCK_BEGIN_LINE BLOCK_BEGIN " (synopassthru setup --remove takes this out)\n"
#define BLOCK_END_LINE "# synopassthru: end\n"
#define HOOK_MAX (1u << 20)

/* 'text' for the shell: single quotes, each ' written as '\''. */
int sp_shell_put_quoted(FILE *f, const char *text, struct sp_err *err)
{
    fputc('\'', f);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return sp_err_set(err, "%s holds a control character: refusing to write it into a "
                                   "shell script", text);
        if (*p == '\'')
            fputs("'\\''", f);
        else
            fputc(*p, f);
    }
    fputc('\'', f);
    return 0;
}

char *sp_dsm_block(const char *cli, const char *config_dir, const char *unit,
                   struct sp_err *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        sp_err_set(err, "out of memory");
        return NULL;
    }
    /* The drop-in is proven and put back before the daemon starts; stdout
     * ("already in place") is noise at every start, errors are not. */
    fputs(BLOCK_BEGIN_LINE "if [ -x ", f);
    int rc = sp_shell_put_quoted(f, cli, err);
    fputs(" ]; then ", f);
    rc = rc < 0 ? rc : sp_shell_put_quoted(f, cli, err);
    fputs(" --config ", f);
    rc = rc < 0 ? rc : sp_shell_put_quoted(f, config_dir, err);
    fputs(" inject systemd --unit ", f);
    rc = rc < 0 ? rc : sp_shell_put_quoted(f, unit, err);
    fputs(" --reload >/dev/null || true; fi\n" BLOCK_END_LINE, f);
    return sp_memstream_done(f, &text, rc, err);
}

/* Where our block starts (at a line start) and where it ends (after its end
 * line); 0 when there is no complete block. */
static int find_block(const char *script, const char **begin, const char **end)
{
    for (const char *p = strstr(script, BLOCK_BEGIN); p; p = strstr(p + 1, BLOCK_BEGIN)) {
        if (p != script && p[-1] != '\n')
            continue;
        const char *e = strstr(p, "\n" BLOCK_END_LINE);
        if (!e)
            return 0;
        *begin = p;
        *end = e + 1 + strlen(BLOCK_END_LINE);
        return 1;
    }
    return 0;
}

char *sp_dsm_hook_strip(const char *script)
{
    char *out = strdup(script);
    const char *begin, *end;
    /* Every block: a script edited by hand may have gained a second. */
    while (out && find_block(out, &begin, &end))
        memmove((char *)begin, end, strlen(end) + 1);
    return out;
}

char *sp_dsm_hook_insert(const char *script, const char *block, struct sp_err *err)
{
    char *kept = sp_dsm_hook_strip(script);
    if (!kept) {
        sp_err_set(err, "out of memory");
        return NULL;
    }
    const char *first_end = strchr(kept, '\n');
    if (strncmp(kept, "#!", 2) != 0 || !first_end) {
        sp_err_set(err, "it does not start with a #! line and a line end: not the shell "
                        "script expected, left as it is");
        free(kept);
        return NULL;
    }
    size_t head = (size_t)(first_end + 1 - kept);
    char *out = NULL;
    if (asprintf(&out, "%.*s%s%s", (int)head, kept, block, kept + head) < 0) {
        sp_err_set(err, "out of memory");
        out = NULL;
    }
    free(kept);
    return out;
}

/* Reads the hook and its metadata; ENOENT is reported through *missing. */
static int read_hook(const char *path, char **text, struct stat *st, int *missing,
                     struct sp_err *err)
{
    *missing = 0;
    if (stat(path, st) < 0) {
        *missing = errno == ENOENT;
        return sp_err_set(err, "%s: %s%s", path, strerror(errno),
                          *missing ? " (is the Virtualization package installed?)" : "");
    }
    return sp_read_file(path, HOOK_MAX, text, NULL, err);
}

/* Replaces the hook with `next` unless that is what it holds, keeping its
 * mode and owner (the writer makes the file ours). */
static int write_hook(const char *path, const char *old, const char *next, const struct stat *st,
                      enum sp_change *change, struct sp_err *err)
{
    *change = SP_UNCHANGED;
    if (strcmp(old, next) == 0)
        return 0;
    if (sp_write_file_atomic(path, next, strlen(next), st->st_mode & 07777, err) < 0)
        return -1;
    if (chown(path, st->st_uid, st->st_gid) < 0 && geteuid() == 0)
        return sp_err_set(err, "%s: chown: %s", path, strerror(errno));
    *change = SP_CHANGED;
    return 0;
}

static char *hook_path(const char *root)
{
    char *path = NULL;
    return asprintf(&path, "%s%s", root, SP_DSM_HOOK_PATH) < 0 ? NULL : path;
}

/* The hook rewritten by edit (insert or strip): read, edited, written back
 * unless that changes nothing. */
static int edit_hook(const char *root, const char *block, int *missing, enum sp_change *change,
                     struct sp_err *err)
{
    *change = SP_UNCHANGED;
    *missing = 0;
    char *path = hook_path(root), *text = NULL, *next = NULL;
    struct stat st;
    int rc = path ? read_hook(path, &text, &st, missing, err) : sp_err_set(err, "out of memory");
    if (rc == 0) {
        next = block ? sp_dsm_hook_insert(text, block, err) : sp_dsm_hook_strip(text);
        if (next)
            rc = write_hook(path, text, next, &st, change, err);
        else
            rc = block ? sp_err_prefix(err, "%s", path) : sp_err_set(err, "out of memory");
    }
    free(next);
    free(text);
    free(path);
    return rc;
}

int sp_dsm_hook_put(const char *root, const char *block, int *missing, enum sp_change *change,
                    struct sp_err *err)
{
    return edit_hook(root, block, missing, change, err);
}

int sp_dsm_hook_take(const char *root, int *missing, enum sp_change *change, struct sp_err *err)
{
    return edit_hook(root, NULL, missing, change, err);
}
