#include "names.h"

#include <stdio.h>

#include <pci/pci.h>

static struct pci_access *names_access(void)
{
    static struct pci_access *access;
    if (!access) {
        access = pci_alloc();
        if (!access)
            return NULL;
        access->method = PCI_ACCESS_DUMP;
        pci_set_param(access, "dump.name", "/dev/null");
        pci_init(access);
    }
    return access;
}

const char *sp_pci_name_device(uint16_t vendor, uint16_t device, char *out, size_t size)
{
    struct pci_access *a = names_access();
    if (!a || !pci_lookup_name(a, out, (int)size, PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE,
                               vendor, device))
        snprintf(out, size, "%04x:%04x", vendor, device);
    return out;
}

const char *sp_pci_name_class(uint32_t class_code, char *out, size_t size)
{
    struct pci_access *a = names_access();
    if (!a || !pci_lookup_name(a, out, (int)size, PCI_LOOKUP_CLASS, (int)(class_code >> 8)))
        snprintf(out, size, "class %06x", class_code);
    return out;
}
