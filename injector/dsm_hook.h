/* dsm_hook: the block the injector keeps in DSM's Virtualization package
 * start script (which runs when its libvirt service starts, before the
 * daemon): it puts the drop-in back, proven to load, if a reboot took /etc
 * away. The text functions here are pure; the block goes right after the
 * script's first line, so that no `exit` in the script can skip it, and
 * comes out again byte for byte. Never edits anything outside the block. */
#ifndef SP_DSM_HOOK_H
#define SP_DSM_HOOK_H

#include <stdio.h>

#include "../common/err.h"
#include "dropin.h"

#define SP_DSM_HOOK_PATH "/var/packages/Virtualization/conf/systemd/insert_libvirtd_ko.sh"
#define SP_DSM_UNIT "pkg-libvirtd"

/* 'text' for the shell: single quotes, each ' written as '\''; -1 (err
 * set) when it holds a control character. */
int sp_shell_put_quoted(FILE *f, const char *text, struct sp_err *err);

/* The block: runs CLI --config CONFIG_DIR inject systemd --unit UNIT
 * --reload, every path single-quoted for the shell. NULL (err set) when a
 * value holds a control character. */
char *sp_dsm_block(const char *cli, const char *config_dir, const char *unit,
                   struct sp_err *err);

/* SCRIPT without our blocks (a copy; the same bytes when there is none). */
char *sp_dsm_hook_strip(const char *script);

/* SCRIPT with BLOCK after its first line (any old block of ours taken out
 * first). Refuses a script that is not a shell script with a line end
 * after its first line. */
char *sp_dsm_hook_insert(const char *script, const char *block, struct sp_err *err);

/* The file at ROOT + SP_DSM_HOOK_PATH with the block put in or taken out,
 * keeping its mode and owner. A missing script is an error that says the
 * Virtualization package is not installed (errno ENOENT kept in *missing). */
int sp_dsm_hook_put(const char *root, const char *block, int *missing, enum sp_change *change,
                    struct sp_err *err);
int sp_dsm_hook_take(const char *root, int *missing, enum sp_change *change, struct sp_err *err);

#endif
