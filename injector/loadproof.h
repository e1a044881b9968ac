/* loadproof: shows that a shim loads before anything preloads it into the
 * daemon. A preloaded library whose dependencies or symbol versions cannot be
 * resolved makes the dynamic loader kill the process at start (and the VM
 * manager's daemon with every VM), while a missing file is only skipped with
 * a warning. So the proof runs a child process of ours with the shim
 * preloaded and every symbol bound at once, and the child confirms that the
 * shim's own exports are in it. Never touches the daemon. */
#ifndef SP_LOADPROOF_H
#define SP_LOADPROOF_H

#include "../common/err.h"

/* The hidden command-line argument that makes our CLI the child side. */
#define SP_LOADPROOF_ARG "--prove-shim-loads"

/* Runs `self` (the path of our own CLI) as the child with SHIM preloaded.
 * On refusal err holds the loader's own message (or why the child could not
 * tell), naming the shim. */
int sp_loadproof_run(const char *self, const char *shim, struct sp_err *err);

/* The child side, run inside the process the loader built: 0 when the
 * interposed entry points resolve to a library at `shim`; prints one line. */
int sp_loadproof_child(const char *shim);

/* LD_PRELOAD splits its value at spaces and colons: a path holding one (or
 * any control character) cannot be preloaded. NULL when fine, else why. */
const char *sp_loadproof_bad_path(const char *shim);

#endif
