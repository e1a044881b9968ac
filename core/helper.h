/* helper: runs the vfio helper as a child process: fork + execve of our
 * own binary, no shell, a clean environment, its output captured, and a
 * deadline after which it is killed. Used by the shim and the CLI alike.
 * Never waits longer than the deadline (plus a short reap). */
#ifndef SP_HELPER_H
#define SP_HELPER_H

#include <stddef.h>

#include "../common/err.h"

#define SP_HELPER_OUTPUT_MAX 16384

struct sp_helper_result {
    int exit_code;   /* -1 when killed or not started */
    int timed_out;
    char out[SP_HELPER_OUTPUT_MAX];  /* stdout */
    char errout[SP_HELPER_OUTPUT_MAX]; /* stderr, trailing newline removed */
};

/* argv[0] is the program path. Returns 0 when the helper ran to an exit
 * (whatever its code), -1 when it could not be started or timed out. */
int sp_helper_run(char *const argv[], int timeout_ms, struct sp_helper_result *res,
                  struct sp_err *err);

#endif
