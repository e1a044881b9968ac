/* array: the one helper the import modules share to grow their lists by
 * one zeroed element. Owns nothing; the caller keeps the pointer and the
 * count. Never frees. */
#ifndef SP_IMPORT_ARRAY_H
#define SP_IMPORT_ARRAY_H

#include <stdlib.h>
#include <string.h>

/* arr (n elements of size bytes) grown by one zeroed element; NULL when
 * memory runs out (arr is then unchanged). */
static inline void *sp_array_grow(void *arr, size_t n, size_t size)
{
    char *p = realloc(arr, (n + 1) * size);
    if (p)
        memset(p + n * size, 0, size);
    return p;
}

#endif
