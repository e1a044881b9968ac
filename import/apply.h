/* apply: puts an import plan into the config dir: one snippet per VM in
 * vm.d/ (imported-NAME.xml) and the ROMs they name in the ROM dir, each ROM
 * checked against its device's IDs as a start checks it. Owns the decision
 * per file (new, identical, refused) and the rule that a VM with a refused
 * file writes nothing. Never overwrites a different file, never touches the
 * old scripts. */
#ifndef SP_APPLY_H
#define SP_APPLY_H

#include <stddef.h>

#include "../common/err.h"
#include "../config/config.h"
#include "legacy.h"

#define SP_APPLY_SNIPPET_PREFIX "imported-"

enum sp_apply_state {
    SP_APPLY_NEW,     /* not there yet: to be written */
    SP_APPLY_SAME,    /* the same bytes are there already */
    SP_APPLY_REFUSED, /* a different file is there, or a file it needs is refused */
    SP_APPLY_WRITTEN,
    SP_APPLY_FAILED,  /* the write failed */
};

struct sp_apply_rom {
    char *src;  /* the old scripts' file */
    char *dest; /* in the ROM dir */
    char *bytes;
    size_t len;
    enum sp_apply_state state;
    char *why; /* refused or failed: the reason */
};

/* The ROM check of one device. */
struct sp_apply_check {
    long rom; /* index in roms, -1 when the device has none */
    int fits;
    char *verdict; /* "fits 1002:1638", "does NOT fit ..." */
};

struct sp_apply_vm {
    const struct sp_legacy_vm *vm;
    char *path; /* vm.d/imported-NAME.xml */
    char *text;
    enum sp_apply_state state;
    char *why;
    struct sp_apply_check *checks; /* one per device of vm */
    char **others; /* other snippets that already name this VM */
    size_t n_others;
};

struct sp_apply {
    char *config_dir, *snippet_dir, *rom_dir;
    struct sp_apply_vm *vms;
    size_t n_vms;
    struct sp_apply_rom *roms;
    size_t n_roms;
};

/* Decides every file and checks every ROM; writes nothing. origin names
 * the scripts' folder in the snippets' comment. -1 with err only when
 * memory runs out (or a VM name XML cannot carry). */
int sp_apply_prepare(const struct sp_legacy_plan *plan, const struct sp_snapshot *snap,
                     const char *origin, struct sp_apply *out, struct sp_err *err);

/* Writes the new files of the VMs that are not refused: ROMs first, then
 * snippets, each atomically with mode 0644. Returns how many writes
 * failed. */
int sp_apply_write(struct sp_apply *a);

/* True when ROM r is used by a VM that is not refused (so it is written). */
int sp_apply_rom_needed(const struct sp_apply *a, size_t r);

/* The file name a VM's snippet gets: imported-NAME.xml, NAME made of
 * letters, digits, '.', '_' and '-' only. malloc'd. */
char *sp_apply_snippet_name(const char *vm);

void sp_apply_free(struct sp_apply *a);

#endif
