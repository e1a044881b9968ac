/* fuzz_persist: the persistent-domain texts: a marked definition's
 * original, and the cleaning of a definition on its way in. Properties: no
 * memory errors or UB; a cleaned definition holds no element of ours and
 * cleaning it again changes nothing. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/persist.h"
#include "../../xmlpatch/xmlpatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *xml = malloc(size + 1);
    if (!xml)
        return 0;
    memcpy(xml, data, size);
    xml[size] = '\0';
    free(sp_persist_original(xml));
    char *clean = NULL;
    struct sp_err err;
    if (sp_persist_clean(xml, &clean, &err) == 1) {
        char *again = NULL;
        int rc = sp_persist_clean(clean, &again, &err);
        if (rc == 1 && strstr(clean, "<alias name=\"" SP_ALIAS_PREFIX)) {
            fprintf(stderr, "fuzz_persist: cleaning twice removed more:\n%s\n", clean);
            abort();
        }
        free(again);
    }
    free(clean);
    free(xml);
    return 0;
}
