/* Fuzzes sp_snippet_parse (vm.d/NAME.xml snippets: <passthrough> with <pci>
 * and raw <hostdev> children). Property: any input parses or yields an error
 * without memory errors, leaks or UB, and every field of the result is sane
 * (rombar='off' never with a ROM; <passthrough>'s attributes on every spec). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../config/snippet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every byte of a string so that ASan checks the whole allocation. */
static size_t touch_str(const char *s)
{
    size_t sum = 0;
    if (!s)
        return 0;
    for (const char *p = s; *p; p++)
        sum += (unsigned char)*p;
    return sum + strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sp_snippet snip;
    if (sp_snippet_parse("vm.d/fuzz.xml", (const char *)data, size, &snip) < 0) {
        sp_snippet_free(&snip);
        return 0;
    }
    volatile size_t sink = touch_str(snip.path) + touch_str(snip.vm) + touch_str(snip.error);
    /* An errored snippet contributes no devices. */
    if (snip.error && (snip.n_specs != 0 || snip.specs != NULL))
        abort();
    if (!snip.error && !snip.vm)
        abort();
    for (size_t i = 0; i < snip.n_specs; i++) {
        const struct sp_dev_spec *s = &snip.specs[i];
        if (s->kind != SP_SPEC_PCI && s->kind != SP_SPEC_RAW)
            abort();
        if (s->has_addr && (s->addr.domain > 0xffff || s->addr.bus > 0xff ||
                            s->addr.slot > 0x1f || s->addr.function > 7))
            abort();
        if (s->kind == SP_SPEC_PCI && !s->has_addr && !s->has_ids)
            abort();
        if (s->kind == SP_SPEC_RAW && !s->raw_xml)
            abort();
        if (!s->file)
            abort();
        /* rombar='off' never with a ROM file; what <passthrough> says, every
         * spec of it says. */
        if (s->rom_bar_off && s->rom)
            abort();
        if (s->video_none != snip.specs[0].video_none ||
            s->hide_hypervisor != snip.specs[0].hide_hypervisor || s->bind != snip.specs[0].bind)
            abort();
        sink += (size_t)s->has_ids + s->ids.vendor + s->ids.device + (size_t)s->bind +
                (size_t)s->line;
        sink += touch_str(s->rom) + touch_str(s->raw_xml) + touch_str(s->file);
    }
    (void)sink;
    sp_snippet_free(&snip);
    return 0;
}
