/* synopassthru groups --tree: the PCI topology as a tree (root buses,
 * bridges, functions), each device with what `groups` says of it: its IDs,
 * name, driver, IOMMU group, and a verdict mark ([ok], [shares group 2
 * with ...], [a bridge: ...]) or what the host uses below it. Reads only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pci/tree.h"
#include "../vfio/check.h"
#include "../vfio/hostuse.h"
#include "cli.h"
#include "term.h"

#define DEPTH_MAX 32

struct tree_walk {
    const char *root;
    struct sp_host_scan scan;
    const struct sp_pci_node *nodes;
    size_t n;
    int colour;
    char prefix[DEPTH_MAX * 4 + 1]; /* "|   " or "    " per level above */
};

/* The mark after a device: what the host uses below it, else its verdict. */
static void print_mark(struct tree_walk *w, const struct sp_pci_info *info)
{
    struct sp_host_uses uses = {0};
    struct sp_err err;
    char why[1024];
    enum sp_group_verdict v = sp_vfio_verdict(w->root, info, why, sizeof(why));
    enum sp_tone tone = v == SP_GROUP_ALONE ? SP_TONE_OK
                        : v == SP_GROUP_WHOLE ? SP_TONE_WARNING
                                              : SP_TONE_PROBLEM;
    if (sp_host_use_find(&w->scan, &info->addr, &uses, &err) < 0) {
        snprintf(why, sizeof(why), "host use unknown: %s", err.msg);
        tone = SP_TONE_PROBLEM;
    } else if (uses.n > 0) {
        snprintf(why, sizeof(why), "host uses it: %s%s", uses.items[0].chain,
                 uses.n > 1 ? ", and more" : "");
        tone = SP_TONE_PROBLEM;
    } else if (v == SP_GROUP_ALONE) {
        snprintf(why, sizeof(why), "ok");
    }
    printf(" %s[%s]%s\n", sp_term_on(w->colour, tone), why, sp_term_off(w->colour));
    sp_host_uses_free(&uses);
}

static void print_node(struct tree_walk *w, long i, int last)
{
    struct sp_pci_info info;
    struct sp_err err;
    char text[512];
    printf("%s%s", w->prefix, last ? "\\- " : "+- ");
    if (sp_sysfs_device_info(w->root, &w->nodes[i].addr, &info, &err) < 0) {
        printf("%s\n", err.msg);
        return;
    }
    sp_vfio_describe(&info, text, sizeof(text));
    printf("%s, group ", text);
    if (info.group >= 0)
        printf("%d", info.group);
    else
        printf("none");
    print_mark(w, &info);
}

/* The next child of parent after index after; at the top (parent -1) only
 * those on root bus top_bus (domain << 8 | bus). */
static long next_child(const struct tree_walk *w, long parent, long after, unsigned top_bus)
{
    long i = after;
    while ((i = sp_pci_tree_next_child(w->nodes, w->n, parent, i)) >= 0)
        if (parent >= 0 || (w->nodes[i].addr.domain << 8 | w->nodes[i].addr.bus) == top_bus)
            break;
    return i;
}

/* The children of parent, each followed by its own. */
static void walk(struct tree_walk *w, long parent, unsigned top_bus, size_t depth)
{
    size_t len = strlen(w->prefix);
    for (long i = next_child(w, parent, -1, top_bus); i >= 0;) {
        long next = next_child(w, parent, i, top_bus);
        print_node(w, i, next < 0);
        if (depth < DEPTH_MAX) {
            snprintf(w->prefix + len, sizeof(w->prefix) - len, "%s", next < 0 ? "    " : "|   ");
            walk(w, i, top_bus, depth + 1);
            w->prefix[len] = '\0';
        }
        i = next;
    }
}

int sp_cli_groups_tree(const char *root, const char *proc_root)
{
    struct tree_walk w = {.root = root, .colour = sp_term_colour(stdout)};
    struct sp_pci_node *nodes;
    struct sp_err err;
    if (sp_pci_tree_read(root, &nodes, &w.n, &err) < 0) {
        sp_cli_error("groups: %s", err.msg);
        return SP_EXIT_INPUT;
    }
    w.nodes = nodes;
    sp_host_scan_init(&w.scan, root, proc_root);
    unsigned shown = ~0u; /* the root bus last printed */
    for (long i = sp_pci_tree_next_child(nodes, w.n, -1, -1); i >= 0;
         i = sp_pci_tree_next_child(nodes, w.n, -1, i)) {
        unsigned bus = nodes[i].addr.domain << 8 | nodes[i].addr.bus;
        if (bus == shown)
            continue;
        printf("[%04x:%02x]\n", nodes[i].addr.domain, nodes[i].addr.bus);
        walk(&w, -1, bus, 0);
        shown = bus;
    }
    sp_host_scan_free(&w.scan);
    free(nodes);
    return SP_EXIT_OK;
}
