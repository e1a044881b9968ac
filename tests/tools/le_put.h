/* Little-endian stores for the tests that build option ROMs and ACPI tables
 * byte by byte (the mkrom fixture tool, the rom unit and fuzz tests). */
#ifndef SP_TESTS_LE_PUT_H
#define SP_TESTS_LE_PUT_H

#include <stdint.h>

static inline void le_put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void le_put32(uint8_t *p, uint32_t v)
{
    le_put16(p, v & 0xffff);
    le_put16(p + 2, v >> 16);
}

#endif
