#include "names.h"

#include "../pci/ids.h"

const char *sp_pci_name_device(uint16_t vendor, uint16_t device, char *out, size_t size)
{
    size_t len;
    const char *ids = sp_ids_system(&len);
    return sp_ids_device_name(ids, len, vendor, device, out, size);
}

const char *sp_pci_name_class(uint32_t class_code, char *out, size_t size)
{
    size_t len;
    const char *ids = sp_ids_system(&len);
    return sp_ids_class_name(ids, len, class_code, out, size);
}
