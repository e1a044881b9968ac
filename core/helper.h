/* helper: runs the vfio helper (and other programs) as a child process:
 * fork + execve, no shell, a given or clean environment, its output
 * captured, and a deadline after which it is killed with every process it
 * started (it runs as its own process group). Shim and CLI alike.
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

/* The environment our children get unless they need more: PATH, LC_ALL=C. */
extern char *const sp_clean_env[];

/* Runs argv (argv[0] is the program's path) with exactly the environment
 * envp; `what` names it in errors ("the vfio helper"). Returns 0 when it ran
 * to an exit (whatever its code), -1 when it could not be started, was
 * killed by a signal, or timed out (res->timed_out). */
int sp_child_run(const char *what, char *const argv[], char *const envp[], int timeout_ms,
                 struct sp_helper_result *res, struct sp_err *err);

/* The vfio helper (or another of our programs) with a clean environment.
 * argv[0] is the program path. Returns 0 when the helper ran to an exit
 * (whatever its code), -1 when it could not be started or timed out. */
int sp_helper_run(char *const argv[], int timeout_ms, struct sp_helper_result *res,
                  struct sp_err *err);

/* How a child closes every descriptor from `first` up before it execs:
 * close_range(2); else what /proc/self/fd lists; else every number below
 * limit (sp_fd_limit, taken before the fork). Only async-signal-safe calls.
 * The narrower ways are there so that tests can prove the fallbacks. */
enum sp_close_way { SP_CLOSE_ANY_WAY, SP_CLOSE_NO_RANGE, SP_CLOSE_BY_LIMIT };
void sp_close_fds_from(int first, enum sp_close_way way, int limit);
int sp_fd_limit(void);

#endif
