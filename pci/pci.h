/* pci: PCI addresses and read-only device lookups under the sysfs root.
 * Owns the address syntax ("08:00.0", "0000:08:00.0") and the sysfs layout
 * (bus/pci/devices/<addr>/{vendor,device,class}). Never writes to sysfs. */
#ifndef SP_PCI_H
#define SP_PCI_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../common/testhooks.h"

#define SP_DEFAULT_SYSFS_ROOT "/sys"
#define SP_DEFAULT_PROC_ROOT "/proc"

struct sp_pci_addr {
    unsigned domain;   /* 0..0xffff */
    unsigned bus;      /* 0..0xff */
    unsigned slot;     /* 0..0x1f */
    unsigned function; /* 0..7 */
};

/* "0000:08:00.0" plus NUL. */
#define SP_PCI_ADDR_STRLEN 13

/* Parses "BB:SS.F" or "DDDD:BB:SS.F" (hex). Returns 0 or -1 with a reason. */
int sp_pci_addr_parse(const char *text, struct sp_pci_addr *out, struct sp_err *err);
void sp_pci_addr_format(const struct sp_pci_addr *addr, char out[SP_PCI_ADDR_STRLEN]);
/* v in lower-case hex, at least min digits (printf's "%0*x"), into out
 * (room for 8 digits), no NUL; returns the digits written. A start writes
 * many addresses: this is their formatting without printf's cost. */
size_t sp_pci_hex(char *out, unsigned v, unsigned min);
int sp_pci_addr_cmp(const struct sp_pci_addr *a, const struct sp_pci_addr *b);
int sp_pci_same_slot(const struct sp_pci_addr *a, const struct sp_pci_addr *b);

/* Appends to a malloc'd address list; -1 with err when memory runs out. */
int sp_pci_addr_list_add(struct sp_pci_addr **list, size_t *n, const struct sp_pci_addr *addr,
                         struct sp_err *err);
/* Sorts a list by address. */
void sp_pci_addr_list_sort(struct sp_pci_addr *list, size_t n);

/* Parses a 16-bit PCI ID written as "1002" or "0x1002". */
int sp_pci_id_parse(const char *text, uint16_t *out);

struct sp_pci_ids {
    uint16_t vendor;
    uint16_t device;
};

/* ROOT/bus/pci/devices/ADDR[/FILE] into out: the one way the project
 * names a device's sysfs files. -1 (err says so) when it does not fit. */
int sp_pci_device_path(const char *root, const struct sp_pci_addr *addr, const char *file,
                       char *out, size_t size, struct sp_err *err);

/* Reads vendor and device of the device at addr under root. A missing
 * device gives "device 0000:08:00.0 not found under ROOT". */
int sp_pci_read_ids(const char *root, const struct sp_pci_addr *addr,
                    struct sp_pci_ids *ids, struct sp_err *err);

/* Reads subsystem_vendor and subsystem_device of the device at addr. */
int sp_pci_read_subsystem_ids(const char *root, const struct sp_pci_addr *addr,
                              struct sp_pci_ids *ids, struct sp_err *err);

/* Every device under root with the given IDs, sorted by address.
 * *out is malloc'd (NULL when none). */
int sp_pci_find_by_ids(const char *root, const struct sp_pci_ids *ids,
                       struct sp_pci_addr **out, size_t *count, struct sp_err *err);

/* The 24-bit class code ("0x030000": display, VGA). */
int sp_pci_read_class(const char *root, const struct sp_pci_addr *addr, uint32_t *class_code,
                      struct sp_err *err);

/* The IOMMU group number from the iommu_group link, -1 when there is none
 * (the IOMMU is off) or it cannot be read. */
int sp_pci_iommu_group(const char *root, const struct sp_pci_addr *addr);

/* Every function present in addr's slot (same domain, bus, slot), sorted. */
int sp_pci_slot_functions(const char *root, const struct sp_pci_addr *addr,
                          struct sp_pci_addr **out, size_t *count, struct sp_err *err);
/* Every device on addr's bus (same domain and bus, addr itself too), sorted. */
int sp_pci_bus_devices(const char *root, const struct sp_pci_addr *addr,
                       struct sp_pci_addr **out, size_t *count, struct sp_err *err);

/* Every device under bus/pci/devices, sorted. */
int sp_pci_all_devices(const char *root, struct sp_pci_addr **out, size_t *count,
                       struct sp_err *err);

/* Picks the sysfs root: the test hook SP_ENV_SYSFS_ROOT (never in the
 * shim or the helper), else the configured value, else /sys. */
const char *sp_pci_sysfs_root(const char *configured);
/* The same for /proc (mounts, swaps, mdstat, processes), SP_ENV_PROC_ROOT. */
const char *sp_pci_proc_root(const char *configured);

#endif
