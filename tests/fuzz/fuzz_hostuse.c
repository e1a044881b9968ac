/* Fuzzes the /proc readers of vfio/procview.c: mounts, swaps, mdstat,
 * net/route, net/if_inet6 and cmdline's root=, each on the same input.
 * Property: any input parses without memory errors, leaks or UB; every
 * item has a non-empty name; no parser yields more items than the input has
 * lines; a second parse gives the same items; matching names against each
 * other (the LVM and mapper forms) never reads out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vfio/procview.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*parse_fn)(const char *text, struct sp_proc_list *out);

static int parse_mounts(const char *text, struct sp_proc_list *out)
{
    return sp_proc_parse_mounts(text, "md0", out);
}

static void same_items(const struct sp_proc_list *a, const struct sp_proc_list *b)
{
    if (a->n != b->n)
        abort();
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->items[i].name, b->items[i].name) != 0 ||
            strcmp(a->items[i].detail, b->items[i].detail) != 0)
            abort();
}

static void check_parser(parse_fn parse, const char *text, size_t lines)
{
    struct sp_proc_list a = {0}, b = {0};
    if (parse(text, &a) < 0) {
        sp_proc_list_free(&a);
        return;
    }
    if (a.n > lines)
        abort();
    for (size_t i = 0; i < a.n; i++) {
        if (!a.items[i].name[0])
            abort();
        /* Every name against every other, as a mount against a dm device. */
        for (size_t j = 0; j < a.n && j < 16; j++)
            (void)sp_proc_dev_is(a.items[i].name, a.items[j].name, a.items[j].detail);
    }
    if (parse(text, &b) == 0)
        same_items(&a, &b);
    sp_proc_list_free(&a);
    sp_proc_list_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    static const parse_fn parsers[] = {parse_mounts, sp_proc_parse_swaps, sp_proc_parse_mdstat,
                                       sp_proc_parse_route, sp_proc_parse_inet6};
    for (size_t i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++)
        check_parser(parsers[i], text, lines);
    char root[64];
    sp_proc_cmdline_root(text, root, sizeof(root));
    if (strlen(root) >= sizeof(root))
        abort();
    free(text);
    return 0;
}
