/* config: the config directory (synopassthru.conf + vm.d/NAME.xml) as an
 * immutable, reference-counted snapshot indexed by VM key (vmindex.h). Owns
 * reloading: each refresh drains the inotify events (watch.h) and re-reads
 * only the files they name, plus symlinked or multiply-linked snippets,
 * which are stat'ed (a change through another name raises no event on
 * vm.d); without inotify, or after the queue overflowed, every file is
 * stat'ed as a fallback. StrictModes checks happen here. Thread-safe: the
 * cache lock is held only while refreshing, never while a caller uses a
 * snapshot. Never looks at sysfs or at domain XML. */
#ifndef SP_CONFIG_H
#define SP_CONFIG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "settings.h"
#include "snippet.h"

#ifndef SP_DEFAULT_CONFIG_DIR
#define SP_DEFAULT_CONFIG_DIR "/usr/local/etc/synopassthru"
#endif
#define SP_ENV_CONFIG_DIR "SYNOPASSTHRU_CONFIG_DIR"
#define SP_SNIPPET_DIR "vm.d"
#define SP_SNIPPET_MAX_BYTES (1u << 20)

struct sp_shared_snippet; /* one read of a snippet file (config.c) */

/* Immutable once in an index; shared by the snapshots that have it. Its
 * fields point into the reads of its snippets, which it holds. */
struct sp_vm_entry {
    atomic_int refs;
    uint32_t n_specs, n_files, n_from; /* 32 bits: one entry per VM is held */
    char *key; /* normalized vm attribute */
    struct sp_dev_spec *specs;
    char **files; /* snippets naming this VM, in name order */
    char *error; /* first error of those snippets, or NULL */
    struct sp_shared_snippet *from[]; /* the reads, in name order (n_from) */
};

struct sp_vm_index; /* vmindex.h */

struct sp_snapshot {
    atomic_int refs;
    char *config_dir;
    struct sp_settings settings;
    char *global_error; /* config dir or conf unusable: matched VMs are refused */
    struct sp_vm_index *index; /* NULL when no snippet names a VM */
    size_t n_vms;              /* entries in index */
    size_t n_snippets;
    char **orphan_errors; /* broken snippets whose VM could not be read: whole sentences */
    size_t n_orphan_errors;
    unsigned long generation; /* counts the snapshots of one sp_config, from 1 */
};

struct sp_config;

/* The directory: explicit, else $SYNOPASSTHRU_CONFIG_DIR, else the default. */
const char *sp_config_dir_choose(const char *explicit_dir);

struct sp_config *sp_config_new(const char *dir);
void sp_config_free(struct sp_config *cfg);

/* Refreshes what changed and returns a reference to the current snapshot.
 * Fails only when memory runs out; problems in the files are recorded in
 * the snapshot, not returned. */
int sp_config_snapshot(struct sp_config *cfg, struct sp_snapshot **out, struct sp_err *err);

/* vm.d/NAME read from text instead of the disk (text NULL: as if it were
 * absent), for the config as it would be after an edit that is not written
 * yet (`add`, `remove`). Call before the first snapshot. */
int sp_config_override_snippet(struct sp_config *cfg, const char *name, const char *text,
                               size_t len);

/* How many files were (re)parsed since creation: lets tests prove that an
 * unchanged config is not read again. */
unsigned long sp_config_parse_count(struct sp_config *cfg);

struct sp_snapshot *sp_snapshot_ref(struct sp_snapshot *snap);
void sp_snapshot_release(struct sp_snapshot *snap);

/* Entry for a VM key (name, UUID or title; UUIDs in any case). */
const struct sp_vm_entry *sp_snapshot_lookup(const struct sp_snapshot *snap, const char *key);

/* The keys one VM is known by: its name, UUID and title. */
#define SP_VM_KEYS 3
/* The entries of the VM known by keys (a NULL key skipped), each once, in
 * the keys' order: every snippet naming the VM by any of them, as a start
 * finds them. Returns how many are in out. */
size_t sp_snapshot_lookup_vm(const struct sp_snapshot *snap, const char *const keys[SP_VM_KEYS],
                             const struct sp_vm_entry *out[SP_VM_KEYS]);
/* Every entry: the one after prev (NULL: the first), in no particular order. */
const struct sp_vm_entry *sp_snapshot_next(const struct sp_snapshot *snap,
                                           const struct sp_vm_entry *prev);

#endif
