/* manifest: the record setup keeps of every file and directory it created
 * or changed (with the digest, mode and owner it left, and for a changed
 * file the digest of what was there before and where its backup is), so
 * that removal puts back exactly what was there and leaves alone what
 * someone else changed since. Text in, text out; never touches files. */
#ifndef SP_MANIFEST_H
#define SP_MANIFEST_H

#include <stddef.h>

#include "../common/err.h"
#include "../common/sha256.h"

#define SP_MANIFEST_HEADER "# synopassthru setup manifest 1\n"

enum sp_manifest_kind { SP_MANIFEST_FILE, SP_MANIFEST_DIR };
enum sp_manifest_how { SP_MANIFEST_CREATED, SP_MANIFEST_CHANGED };

struct sp_manifest_entry {
    enum sp_manifest_kind kind;
    enum sp_manifest_how how;
    char sha[SP_SHA256_HEX_LEN + 1];      /* as setup left it; "-" for a directory */
    unsigned mode, uid, gid;              /* as setup left it */
    char orig_sha[SP_SHA256_HEX_LEN + 1]; /* a changed file before setup; else "-" */
    char backup[32];                      /* a changed file's backup name; else "-" */
    char *path;                           /* absolute, as on the box (no --root) */
};

struct sp_manifest {
    struct sp_manifest_entry *entries;
    size_t n, cap;
};

/* Parses a manifest's text; errors give the line. An empty text is an
 * empty manifest. */
int sp_manifest_parse(const char *text, size_t len, struct sp_manifest *m, struct sp_err *err);

/* The text of m (malloc'd), header first, one line per entry in order. */
char *sp_manifest_format(const struct sp_manifest *m);

/* The entry for path, or NULL. */
struct sp_manifest_entry *sp_manifest_find(const struct sp_manifest *m, const char *path);

/* Appends a copy of e (its path copied). Paths must be absolute and hold no
 * tab, line end or other control character. */
int sp_manifest_add(struct sp_manifest *m, const struct sp_manifest_entry *e,
                    struct sp_err *err);

/* Drops the last entry (undo of an add). */
void sp_manifest_drop_last(struct sp_manifest *m);

void sp_manifest_free(struct sp_manifest *m);

#endif
