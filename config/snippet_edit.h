/* snippet_edit: an existing vm.d snippet changed in place: PCI devices
 * added or taken out, every other byte (comments, indentation, CDATA) kept.
 * Owns the round-trip rule: a file whose untouched tree does not give back
 * its exact bytes is not rewritten. Never reads or writes files, never
 * looks at devices. */
#ifndef SP_SNIPPET_EDIT_H
#define SP_SNIPPET_EDIT_H

#include <stddef.h>

#include "../common/err.h"
#include "../pci/pci.h"
#include "snippet.h"

struct sp_snippet_edit;

/* Parses a snippet's text (path names it in errors): -1 with err when it
 * is not XML, or its root is not <passthrough>. */
int sp_snippet_edit_open(const char *path, const char *text, size_t len,
                         struct sp_snippet_edit **out, struct sp_err *err);
void sp_snippet_edit_free(struct sp_snippet_edit *e);

/* 0 when the tree, written out before any edit, is the text byte for byte;
 * else -1 with err naming the file and the first line that would change. */
int sp_snippet_edit_round_trip(const struct sp_snippet_edit *e, struct sp_err *err);

/* 1 when a <pci address=> or a PCI <hostdev> of the snippet names addr. */
int sp_snippet_edit_has(const struct sp_snippet_edit *e, const struct sp_pci_addr *addr);

/* Adds spec's <pci> (as sp_snippet_format writes it) after the last
 * device, with the devices' indentation. */
int sp_snippet_edit_add(struct sp_snippet_edit *e, const struct sp_dev_spec *spec,
                        struct sp_err *err);

/* Takes out every device element naming addr, with the indentation before
 * it; -1 with err when none names it. */
int sp_snippet_edit_remove(struct sp_snippet_edit *e, const struct sp_pci_addr *addr,
                           struct sp_err *err);

/* Sets an attribute of <passthrough> (bind="no", release="yes"). */
int sp_snippet_edit_set_head(struct sp_snippet_edit *e, const char *name, const char *value,
                             struct sp_err *err);

/* The attribute of <passthrough>, malloc'd; NULL when absent. */
char *sp_snippet_edit_head(const struct sp_snippet_edit *e, const char *name);

/* How many device elements (<pci>, <hostdev>) the snippet has. */
size_t sp_snippet_edit_devices(const struct sp_snippet_edit *e);

/* The text as it is now (NUL-terminated, malloc'd), or NULL with err. */
char *sp_snippet_edit_text(const struct sp_snippet_edit *e, size_t *len, struct sp_err *err);

/* A file name for a new snippet of vm: letters, digits, '.', '_' and '-'
 * kept, anything else as '-', no leading '.', at most 64 characters before
 * ".xml"; "vm.xml" when nothing is left. Never a path. */
void sp_snippet_file_name(const char *vm, char *out, size_t size);

#endif
