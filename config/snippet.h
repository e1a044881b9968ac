/* snippet: one vm.d/NAME.xml file, <passthrough vm="..."> with <pci> and raw
 * <hostdev> children, parsed into device specs; what <passthrough> says
 * (bind, release, video, hypervisor) is carried by each of its specs. Owns the snippet syntax and
 * its error messages (file, line, cause). Never looks at sysfs: an ID-only
 * <pci> stays a spec until a VM starts. */
#ifndef SP_SNIPPET_H
#define SP_SNIPPET_H

#include <stddef.h>

#include "../common/err.h"
#include "../pci/pci.h"

enum sp_spec_kind {
    SP_SPEC_PCI, /* <pci address= vendor= product= rom=> */
    SP_SPEC_RAW, /* <hostdev> copied as written */
};

/* Flags are bits and the address is binary: a daemon holds two or more of
 * these for each of up to 10,000 snippets. */
struct sp_dev_spec {
    struct sp_pci_addr addr;
    struct sp_pci_ids ids;
    struct sp_pci_ids subsys; /* subsystem="VVVV:DDDD": subsystem vendor and device */
    char *rom;     /* as written (relative to rom_dir or absolute); NULL if none */
    char *raw_xml; /* SP_SPEC_RAW: the element as written */
    char *file;    /* snippet the spec comes from (in a snippet: its path, shared) */
    int line;
    enum sp_spec_kind kind : 2;
    unsigned has_addr : 1;
    unsigned has_ids : 1;
    unsigned has_subsys : 1;
    unsigned all_functions : 1; /* functions="all": every function of the address's slot */
    unsigned rom_bar_off : 1;   /* rombar="off": the guest sees no ROM BAR (never with rom) */
    unsigned bind : 1;          /* 0 when the snippet says bind="no" */
    unsigned release : 1;       /* 1 when release="yes": back to the host driver at VM stop */
    unsigned allow_host_use : 1; /* host_use="allow" on <pci>: see vfio/hostuse.h */
    /* The VM's own elements, asked for on <passthrough> (xmlpatch/edits.h): */
    unsigned video_none : 1;      /* video="none" */
    unsigned hide_hypervisor : 1; /* hypervisor="hidden" */
};

struct sp_snippet {
    char *path;
    char *vm;    /* the vm attribute, NULL when it could not be read */
    char *error; /* NULL when usable; else "file:line: cause" */
    struct sp_dev_spec *specs;
    size_t n_specs;
};

/* Parses the snippet text; always fills out (error inside on bad input).
 * Returns -1 only when memory runs out. */
int sp_snippet_parse(const char *path, const char *buf, size_t len, struct sp_snippet *out);

/* Records an error against a snippet (e.g. an unsafe mode), replacing its
 * specs: a snippet that cannot be trusted contributes no devices. */
int sp_snippet_set_error(struct sp_snippet *s, const char *msg);

void sp_snippet_free(struct sp_snippet *s);

/* A copy of a snippet in one block, for a cache that holds many: what
 * sp_snippet_pack writes into an area of sp_snippet_pack_size bytes,
 * aligned for struct sp_dev_spec (its specs first, then every string).
 * The copy's pointers all point into the area: freeing the area frees it
 * (never sp_snippet_free a packed copy). */
size_t sp_snippet_pack_size(const struct sp_snippet *s);
void sp_snippet_pack(const struct sp_snippet *s, struct sp_snippet *dst, void *area);

int sp_dev_spec_copy(struct sp_dev_spec *dst, const struct sp_dev_spec *src);
void sp_dev_spec_free(struct sp_dev_spec *s);

/* Canonical form of a VM key: UUIDs lower-case with dashes, anything else
 * as written. Returns malloc'd string or NULL. */
char *sp_vm_key_normalize(const char *key);

#endif
