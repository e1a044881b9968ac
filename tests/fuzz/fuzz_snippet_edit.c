/* Fuzzes config/snippet_edit: an arbitrary file, then one <pci> added or
 * taken out. The first 4 bytes choose the edit (bit 0 of the first: add or
 * remove; the rest: bus, slot and function); the rest is the file.
 * Property: no memory errors, leaks or UB; a file that does not come back
 * byte for byte is refused; an edit of a valid snippet gives a valid
 * snippet with the device there (add) or gone (remove). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../config/snippet.h"
#include "../../config/snippet_edit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PATH "vm.d/fuzz.xml"

static int valid_snippet(const char *text, size_t len)
{
    struct sp_snippet s;
    int ok = sp_snippet_parse(PATH, text, len, &s) == 0 && !s.error;
    sp_snippet_free(&s);
    return ok;
}

static void edit(struct sp_snippet_edit *e, int add, const struct sp_pci_addr *addr)
{
    struct sp_err err;
    struct sp_dev_spec spec = {.kind = SP_SPEC_PCI, .has_addr = 1, .addr = *addr,
                               .has_ids = 1, .ids = {0x1002, 0x1638}, .bind = 1};
    size_t before = sp_snippet_edit_devices(e);
    int rc = add ? sp_snippet_edit_add(e, &spec, &err) : sp_snippet_edit_remove(e, addr, &err);
    if (rc < 0)
        return;
    if (sp_snippet_edit_has(e, addr) != add || (add && sp_snippet_edit_devices(e) != before + 1))
        abort();
    size_t len = 0;
    char *text = sp_snippet_edit_text(e, &len, &err);
    if (text && !valid_snippet(text, len))
        abort();
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    struct sp_pci_addr addr = {0, data[1], data[2] & 0x1f, data[3] & 7};
    const char *text = (const char *)data + 4;
    size_t len = size - 4;
    struct sp_snippet_edit *e = NULL;
    struct sp_err err;
    if (sp_snippet_edit_open(PATH, text, len, &e, &err) < 0)
        return 0;
    /* Only a valid snippet that comes back as written is edited. */
    if (sp_snippet_edit_round_trip(e, &err) == 0 && valid_snippet(text, len))
        edit(e, data[0] & 1, &addr);
    sp_snippet_edit_free(e);
    return 0;
}
