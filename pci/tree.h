/* tree: the PCI topology as lspci -t shows it: a device's parent is the
 * bridge whose secondary bus (type 1 header, config space offset 0x19) is
 * the device's bus; a device no bridge leads to sits on a root bus. Owns
 * only that reading; never names or judges a device. */
#ifndef SP_PCI_TREE_H
#define SP_PCI_TREE_H

#include <stddef.h>

#include "pci.h"

struct sp_pci_node {
    struct sp_pci_addr addr;
    long parent; /* index of the bridge above it, -1 on a root bus */
};

/* Every device under root with its parent, sorted by address; *out
 * malloc'd. -1 with err when bus/pci/devices cannot be read. */
int sp_pci_tree_read(const char *root, struct sp_pci_node **out, size_t *n, struct sp_err *err);

/* The next child of parent (-1: the root buses) after index after (-1:
 * the first), in address order; -1 when there is none. */
long sp_pci_tree_next_child(const struct sp_pci_node *nodes, size_t n, long parent, long after);

#endif
