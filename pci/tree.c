/* tree: parents from the bridges' bus numbers in config space. */
#include "tree.h"

#include <stdlib.h>
#include <string.h>

#include "../common/fsutil.h"

/* The bus a bridge leads to, from its config space; -1 when addr is not a
 * bridge (or its config space cannot be read). */
static int secondary_bus(const char *root, const struct sp_pci_addr *addr)
{
    char path[SP_PATH_MAX];
    char *config = NULL;
    size_t len = 0;
    int bus = -1;
    if (sp_pci_device_path(root, addr, "config", path, sizeof(path), NULL) == 0 &&
        sp_read_file(path, 4096, &config, &len, NULL) == 0 && len > 0x19 &&
        (config[0x0e] & 0x7f) == 1)
        bus = (unsigned char)config[0x19];
    free(config);
    return bus;
}

int sp_pci_tree_read(const char *root, struct sp_pci_node **out, size_t *n, struct sp_err *err)
{
    struct sp_pci_addr *addrs = NULL;
    *out = NULL;
    *n = 0;
    if (sp_pci_all_devices(root, &addrs, n, err) < 0)
        return -1;
    *out = calloc(*n ? *n : 1, sizeof(**out));
    int *secondary = calloc(*n ? *n : 1, sizeof(*secondary));
    if (!*out || !secondary) {
        free(addrs);
        free(*out);
        free(secondary);
        *out = NULL;
        *n = 0;
        return sp_err_set(err, "out of memory");
    }
    for (size_t i = 0; i < *n; i++) {
        (*out)[i].addr = addrs[i];
        (*out)[i].parent = -1;
        secondary[i] = secondary_bus(root, &addrs[i]);
    }
    for (size_t i = 0; i < *n; i++)
        for (size_t p = 0; p < *n; p++)
            if (p != i && addrs[p].domain == addrs[i].domain &&
                secondary[p] == (int)addrs[i].bus && addrs[p].bus != addrs[i].bus)
                (*out)[i].parent = (long)p;
    free(secondary);
    free(addrs);
    return 0;
}

long sp_pci_tree_next_child(const struct sp_pci_node *nodes, size_t n, long parent, long after)
{
    for (size_t i = (size_t)(after + 1); i < n; i++)
        if (nodes[i].parent == parent)
            return (long)i;
    return -1;
}
