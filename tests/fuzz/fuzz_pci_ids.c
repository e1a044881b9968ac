/* Fuzzes the pci.ids reader (sp_ids_device_name, sp_ids_class_name) on the
 * bytes as the whole database, asking for IDs the seeds list and for IDs
 * they do not, into buffers of several sizes. Property: no memory error or
 * UB; every result is a NUL-terminated string that fits its buffer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../pci/ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t devices[][2] = {{0x1002, 0x1638}, {0x1002, 0x1637}, {0x8086, 0x9a49},
                                      {0x0c03, 0x0300}, {0x000c, 0x0003}, {0xabcd, 0x0001}};
static const uint32_t classes[] = {0x030000, 0x038000, 0x0c0330, 0x030200, 0x120000};
static const size_t sizes[] = {1, 4, 24, 256};

static void check_fits(const char *name, const char *out, size_t size)
{
    if (name != out || memchr(out, '\0', size) == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *ids = (const char *)data;
    char out[256];
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
            check_fits(sp_ids_device_name(ids, size, devices[i][0], devices[i][1], out, sizes[s]),
                       out, sizes[s]);
        for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
            check_fits(sp_ids_class_name(ids, size, classes[i], out, sizes[s]), out, sizes[s]);
    }
    return 0;
}
