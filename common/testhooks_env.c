/* The test hooks from the environment: for the CLI and the test programs,
 * never linked into the shim or the helper (see testhooks.h). */
#include "testhooks.h"

#include <stdlib.h>

static const char *const names[] = {
    [SP_TEST_ENV_SYSFS_ROOT] = SP_ENV_SYSFS_ROOT,
    [SP_TEST_ENV_PROC_ROOT] = SP_ENV_PROC_ROOT,
    [SP_TEST_ENV_TRUSTED_UID] = SP_ENV_TRUSTED_UID,
    [SP_TEST_ENV_FAULT_FILE] = SP_ENV_TEST_FAULT_FILE,
    [SP_TEST_ENV_WATCH_FAULT] = SP_ENV_TEST_WATCH_FAULT,
};

const char *sp_test_env(enum sp_test_env hook)
{
    if ((unsigned)hook >= sizeof(names) / sizeof(names[0]))
        return NULL;
    return secure_getenv(names[hook]);
}
