/* The test hooks of the shim and the helper: none (see testhooks.h). */
#include "testhooks.h"

#include <stddef.h>

const char *sp_test_env(enum sp_test_env hook)
{
    (void)hook;
    return NULL;
}
