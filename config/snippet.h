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

struct sp_dev_spec {
    enum sp_spec_kind kind;
    int has_addr;
    struct sp_pci_addr addr;
    int has_ids;
    struct sp_pci_ids ids;
    int has_subsys;
    struct sp_pci_ids subsys; /* subsystem="VVVV:DDDD": subsystem vendor and device */
    int all_functions; /* functions="all": every function of the address's slot */
    char *rom;     /* as written (relative to rom_dir or absolute); NULL if none */
    int rom_bar_off; /* rombar="off": the guest sees no ROM BAR (never with rom) */
    char *raw_xml; /* SP_SPEC_RAW: the element as written */
    int bind;      /* 0 when the snippet says bind="no" */
    int release;   /* 1 when release="yes": back to the host driver at VM stop */
    int allow_host_use; /* host_use="allow" on <pci>: see vfio/hostuse.h */
    /* The VM's own elements, asked for on <passthrough> (xmlpatch/edits.h): */
    int video_none;      /* video="none" */
    int hide_hypervisor; /* hypervisor="hidden" */
    char *file;    /* snippet the spec comes from (in a snippet: its path, shared) */
    int line;
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

int sp_dev_spec_copy(struct sp_dev_spec *dst, const struct sp_dev_spec *src);
void sp_dev_spec_free(struct sp_dev_spec *s);

/* Canonical form of a VM key: UUIDs lower-case with dashes, anything else
 * as written. Returns malloc'd string or NULL. */
char *sp_vm_key_normalize(const char *key);

#endif
