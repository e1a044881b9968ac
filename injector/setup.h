/* setup: the one root step that gets the shim into the VM manager's daemon,
 * and its exact undo. From a release tree (the unpacked tarball, or the DSM
 * package's target dir, owned by the package's own user) it installs
 * root-owned copies of the programs, proves the shim loads, makes the config
 * dir, writes the systemd drop-in and the DSM start-hook block, and records
 * every file and directory it created or changed in a manifest (with a
 * backup of each changed file). Removal restores each changed file byte for
 * byte and deletes what it created, but leaves alone anything someone else
 * changed since, and says so. Never touches vm.d/ or rom/ unless purging. */
#ifndef SP_SETUP_H
#define SP_SETUP_H

#include <stdio.h>

#include "../common/err.h"

struct sp_setup_opts {
    const char *root;       /* "" or a tree standing in for / (tests, images) */
    const char *config_dir; /* as the daemon will see it */
    const char *unit;       /* the daemon's systemd unit (pkg-libvirtd on DSM) */
    const char *self;       /* the running CLI; the release tree is found beside it */
    int dry_run;            /* say each action, change nothing */
    int purge;              /* removal: also the config dirs setup made, and the audit log */
};

/* Installs (or brings up to date). 0 done; -1 with err set, and then
 * nothing is left changed by this run. Each action is a line on out. */
int sp_setup_install(const struct sp_setup_opts *o, FILE *out, struct sp_err *err);

/* Undoes what the manifest records. 0 done; 1 done, but files someone else
 * changed since were left (each named on out); -1 with err set. */
int sp_setup_remove(const struct sp_setup_opts *o, FILE *out, struct sp_err *err);

/* Where setup keeps its manifest, under the root (malloc'd). */
char *sp_setup_manifest_path(const char *root);

#endif
