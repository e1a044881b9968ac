/* Fuzzes the DSM start-hook editing (sp_dsm_hook_insert, sp_dsm_hook_strip)
 * on any script text. Properties: no memory errors, leaks or UB; stripping
 * is idempotent; a script the insert accepts gets exactly one block, right
 * after its first line, and stripping that gives back the script without
 * any old block, byte for byte. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../injector/dsm_hook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *script = malloc(size + 1);
    if (!script)
        return 0;
    memcpy(script, data, size);
    script[size] = '\0';
    struct sp_err err;
    char *block = sp_dsm_block("/usr/local/bin/synopassthru", "/usr/local/etc/synopassthru",
                               "pkg-libvirtd", &err);
    char *stripped = sp_dsm_hook_strip(script);
    char *stripped2 = stripped ? sp_dsm_hook_strip(stripped) : NULL;
    if (!block || !stripped || !stripped2 || strcmp(stripped, stripped2) != 0)
        abort();
    char *inserted = sp_dsm_hook_insert(script, block, &err);
    if (inserted) {
        const char *first_end = strchr(inserted, '\n');
        if (!first_end || strncmp(first_end + 1, block, strlen(block)) != 0)
            abort();
        char *back = sp_dsm_hook_strip(inserted);
        if (!back || strcmp(back, stripped) != 0)
            abort();
        char *twice = sp_dsm_hook_insert(inserted, block, &err);
        if (!twice || strcmp(twice, inserted) != 0)
            abort();
        free(twice);
        free(back);
    }
    free(inserted);
    free(stripped2);
    free(stripped);
    free(block);
    free(script);
    return 0;
}
