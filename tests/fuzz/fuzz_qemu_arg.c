/* Fuzzes sp_qemu_arg_slots, which finds "addr=" slots in one QEMU
 * command-line argument. Property: no memory errors or UB, and every slot
 * reported fits on a PCI bus (<= 0x1f), since callers shift 1u by it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../xmlpatch/slots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_slot(unsigned slot, void *opaque)
{
    if (slot > 0x1f)
        abort();
    (*(size_t *)opaque)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *arg = malloc(size + 1);
    if (!arg)
        return 0;
    memcpy(arg, data, size);
    arg[size] = '\0';
    size_t calls = 0;
    sp_qemu_arg_slots(arg, check_slot, &calls);
    /* Each call needs at least "addr=X" (6 bytes) of its own. */
    if (calls > size / 6 + 1)
        abort();
    free(arg);
    return 0;
}
