/* slots: the guest PCI address space of a domain document. Owns the rules
 * for picking a guest slot for an injected device: every <address
 * type='pci'> and every qemu:commandline "addr=" counts as taken; new slots
 * are taken from the top of bus 0 so that libvirt's own assignment keeps
 * the lowest free ones. Never modifies the document. */
#ifndef SP_SLOTS_H
#define SP_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "../common/err.h"
#include "../pci/pci.h"

struct sp_slot_map {
    struct sp_pci_addr *used; /* every guest address seen (bus, slot, function) */
    size_t n_used, cap;
    uint32_t bus0_taken;      /* bit s set: slot s on bus 0 is taken */
    unsigned next_bus;        /* first bus/controller index nothing uses */
    int pcie;                 /* q35/virt: pcie-root, hostdevs need root ports */
};

/* Reads every guest address, controller index and qemu addr= of doc. */
int sp_slot_map_from_doc(xmlDocPtr doc, struct sp_slot_map *map, struct sp_err *err);
void sp_slot_map_free(struct sp_slot_map *map);

int sp_slot_map_mark(struct sp_slot_map *map, const struct sp_pci_addr *guest);
int sp_slot_map_function_used(const struct sp_slot_map *map, unsigned bus, unsigned slot,
                              unsigned function);

/* Takes the highest free slot on bus 0 that the machine allows for an
 * injected device. Returns 0, or -1 when bus 0 is full. */
int sp_slot_map_take_bus0_slot(struct sp_slot_map *map, unsigned *slot, struct sp_err *err);

/* A fresh bus number for a new controller (index). */
unsigned sp_slot_map_take_bus(struct sp_slot_map *map);

/* Calls fn for each slot named by an "addr=" property in one QEMU
 * command-line argument ("vhost-scsi-pci,addr=0xa,..." or "addr=0b.1"). */
void sp_qemu_arg_slots(const char *arg, void (*fn)(unsigned slot, void *opaque), void *opaque);

#endif
