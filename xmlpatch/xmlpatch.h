/* xmlpatch: merges passthrough devices into a parsed libvirt domain.
 * Owns the <hostdev> elements it adds (built, or raw from a snippet), their
 * aliases, guest PCI addresses and root ports. Never touches other content
 * (comments, namespaces, metadata, layout), nor adds a device the domain has. */
#ifndef SP_XMLPATCH_H
#define SP_XMLPATCH_H

#include <stddef.h>

#include <libxml/tree.h>

#include "../common/err.h"
#include "../pci/pci.h"

/* Every element xmlpatch adds carries a libvirt user alias with this
 * prefix (libvirt keeps "ua-" aliases in both the live and the stored
 * definition), so that it can be found again and taken out. */
#define SP_ALIAS_PREFIX "ua-sp-"

struct sp_patch_dev {
    int has_host;            /* 0 only for a raw non-PCI hostdev */
    struct sp_pci_addr host; /* host address */
    const char *rom;         /* absolute ROM path or NULL */
    const char *raw_xml;     /* raw <hostdev> to copy as written, or NULL */
    const char *file;        /* raw: the snippet and line, for messages (file may be NULL) */
    int line;
};

struct sp_patch_report {
    char **added;     /* each element added, serialized */
    size_t n_added;
    size_t n_present; /* devices skipped because the domain already had them */
};

int sp_xmlpatch_apply(xmlDocPtr doc, const struct sp_patch_dev *devs, size_t n,
                      struct sp_patch_report *report, struct sp_err *err);

void sp_patch_report_free(struct sp_patch_report *report);

/* Takes out every element xmlpatch added (found by alias), with the
 * whitespace before it. Returns how many went, or -1 on error. */
int sp_xmlpatch_strip(xmlDocPtr doc, struct sp_err *err);

#endif
