/* vmindex: the VM entries of a snapshot by key, as a fixed table of
 * buckets, each a sorted array of entry pointers. Owns the sharing: a new
 * index starts as a copy of the last one (the bucket pointers only, each
 * bucket reference-counted) and a change copies just the bucket it lands
 * in, so an update costs what changed, not the size of the config; entries
 * are reference-counted too. Never reads files or parses anything. */
#ifndef SP_VMINDEX_H
#define SP_VMINDEX_H

#include <stddef.h>

#include "config.h"

/* A copy of `from` (NULL: empty), to change with sp_index_set before it is
 * published; NULL when memory runs out. */
struct sp_vm_index *sp_index_copy(const struct sp_vm_index *from);
void sp_index_free(struct sp_vm_index *ix);

/* Files entry under key, replacing what was there (entry NULL: removes the
 * key). Takes over the caller's reference to entry, also on failure (-1,
 * out of memory; the index is unchanged then). */
int sp_index_set(struct sp_vm_index *ix, const char *key, struct sp_vm_entry *entry);

size_t sp_index_size(const struct sp_vm_index *ix);
const struct sp_vm_entry *sp_index_find(const struct sp_vm_index *ix, const char *key);
/* The entry after prev (NULL: the first), in no particular order. */
const struct sp_vm_entry *sp_index_next(const struct sp_vm_index *ix,
                                        const struct sp_vm_entry *prev);

/* An entry as made by its maker (config.c) starts with one reference;
 * the last release frees it there. */
void sp_vm_entry_release(struct sp_vm_entry *e);

#endif
