/* reset: whether the kernel can reset a PCI device, as sysfs says, and
 * whether a VM can count on that reset. A device that is never reset keeps
 * the state of one VM run into the next (the "AMD reset bug"), so its VM
 * may start only once per host boot. Read-only: the `reset` file is only
 * looked for, never opened (a write to it resets the device). */
#ifndef SP_PCI_RESET_H
#define SP_PCI_RESET_H

#include <stddef.h>

#include "../common/err.h"
#include "pci.h"

/* What to expect of a VM with a device the kernel cannot reset. */
#define SP_RESET_CONSEQUENCE                                                                     \
    "the VM may start only once per host boot; shut it down from inside the guest rather than " \
    "forcing it off"

struct sp_pci_reset {
    int listed;        /* reset_method exists (Linux 5.15 and later) */
    char methods[128]; /* its words, in the kernel's order; "" when none */
    int reset_file;    /* the reset file exists: the kernel has some method */
    int flr;           /* Function Level Reset in the PCIe DevCap: 1, 0, -1 unknown
                        * (or not read) */
};

/* Reads reset_method and looks for reset; flr is left unknown. */
int sp_pci_read_reset(const char *root, const struct sp_pci_addr *addr, struct sp_pci_reset *out,
                      struct sp_err *err);

/* FLR from the device's config file: -1 when it is absent, or cut to its
 * first 64 bytes as the kernel shows it to a user who is not root. Only for
 * what is shown: a read of config wakes a device the kernel has suspended,
 * so a start never reads it. */
int sp_pci_read_flr(const char *root, const struct sp_pci_addr *addr);

/* FLR from len bytes of config space: the PCIe capability's DevCap bit 28.
 * 1, 0 (no PCIe capability, or the bit is clear), -1 when the bytes do not
 * reach it. */
int sp_pci_config_flr(const unsigned char *config, size_t len);

/* The kernel has some method for the device. */
int sp_pci_reset_available(const struct sp_pci_reset *r);

/* "flr bus; FLR advertised", "none (no reset_method or reset file); no FLR". */
void sp_pci_reset_describe(const struct sp_pci_reset *r, char *out, size_t size);

enum sp_reset_verdict {
    SP_RESET_OK,
    SP_RESET_NONE,       /* the kernel has no method */
    SP_RESET_BUS_SHARED, /* only a bus reset, and the bus holds devices not given */
};

/* Whether a VM given the n devices `given` can count on a reset of the
 * device at addr (r its facts); why says why not. */
enum sp_reset_verdict sp_pci_reset_judge(const char *root, const struct sp_pci_addr *addr,
                                         const struct sp_pci_reset *r,
                                         const struct sp_pci_addr *given, size_t n, char *why,
                                         size_t size);

#endif
