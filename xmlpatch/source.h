/* source: which host device a <hostdev> names, for every kind libvirt takes.
 * Owns when two elements name the same device, and the alias key made from it.
 * Never changes a document. */
#ifndef SP_SOURCE_H
#define SP_SOURCE_H

#include <stddef.h>

#include <libxml/tree.h>

#include "../common/err.h"
#include "../pci/pci.h"

/* Room for a key (an alias without its "ua-sp-" prefix), with "port-"
 * in front for the root port of a device that needs one. */
#define SP_SRC_KEY_MAX 192

struct sp_hostdev_src {
    /* Letters, digits, '_' and '-' only; the same device gives the same key,
     * whatever the spelling (hex or decimal, case, a UUID's dashes). */
    char key[SP_SRC_KEY_MAX];
    int usb;                     /* USB: named by IDs, by place, or by both */
    int has_ids, has_place;
    unsigned vendor, product;    /* <vendor id>, <product id> */
    unsigned bus, device;        /* <address bus device> on the host */
    int guest_pci;               /* it takes a guest PCI slot */
};

/* Reads what device a <hostdev> element names. Returns 0, or -1 with err
 * saying what is missing (err may be NULL). */
int sp_hostdev_src_read(xmlNodePtr hostdev, struct sp_hostdev_src *src, struct sp_err *err);

/* Both name the same host device. For USB, every part both give (IDs,
 * place) is equal and they give at least one part in common. */
int sp_hostdev_src_same(const struct sp_hostdev_src *a, const struct sp_hostdev_src *b);

/* The key of a PCI host address: "DDDD-BB-SS-F", or "DDDD-BB-SS" for the
 * slot alone. */
void sp_src_pci_key(char *out, size_t size, const struct sp_pci_addr *host, int with_function);

#endif
