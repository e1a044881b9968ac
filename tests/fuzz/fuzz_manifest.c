/* Fuzzes sp_manifest_parse (setup's record of what it created and changed,
 * read back at removal). Property: any input parses or yields an error
 * without memory errors, leaks or UB; what parses formats to a text that
 * parses to the same entries, and formats to the same text again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../injector/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sp_manifest m, again;
    struct sp_err err;
    if (sp_manifest_parse((const char *)data, size, &m, &err) < 0)
        return 0;
    char *text = sp_manifest_format(&m);
    if (!text)
        abort();
    if (sp_manifest_parse(text, strlen(text), &again, &err) < 0 || again.n != m.n)
        abort();
    for (size_t i = 0; i < m.n; i++) {
        const struct sp_manifest_entry *a = &m.entries[i], *b = &again.entries[i];
        if (strcmp(a->path, b->path) != 0 || strcmp(a->sha, b->sha) != 0 ||
            strcmp(a->orig_sha, b->orig_sha) != 0 || strcmp(a->backup, b->backup) != 0 ||
            a->mode != b->mode || a->uid != b->uid || a->gid != b->gid || a->kind != b->kind ||
            a->how != b->how)
            abort();
    }
    char *text2 = sp_manifest_format(&again);
    if (!text2 || strcmp(text, text2) != 0)
        abort();
    free(text2);
    free(text);
    sp_manifest_free(&again);
    sp_manifest_free(&m);
    return 0;
}
