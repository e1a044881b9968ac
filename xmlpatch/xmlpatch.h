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

/* Every device xmlpatch adds (a hostdev, a root port, edits.h's 'none'
 * video) carries a libvirt user alias with this prefix (libvirt keeps "ua-"
 * aliases in both the live and the stored definition), so that it can be
 * found again and taken out. Elements that take no alias are noted
 * instead (edits.h). */
#define SP_ALIAS_PREFIX "ua-sp-"

struct sp_patch_dev {
    int has_host;            /* 0 only for a raw non-PCI hostdev */
    struct sp_pci_addr host; /* host address */
    const char *rom;         /* absolute ROM path or NULL */
    int rom_bar_off;         /* <rom bar='off'/>: the guest sees no ROM BAR (never with rom) */
    const char *raw_xml;     /* raw <hostdev> to copy as written, or NULL */
    const char *file;        /* raw: the snippet and line, for messages (file may be NULL) */
    int line;
};

/* Changes to one of the domain's own elements, each a line that names
 * what was done and the elements, serialized ("removed <video>...</video>"). */
struct sp_changes {
    char **text;
    size_t n;
};

struct sp_patch_report {
    char **added;     /* each element added, serialized */
    size_t n_added;
    size_t n_present; /* devices skipped because the domain already had them */
    struct sp_changes video, features, cpu; /* see edits.h */
};

int sp_xmlpatch_apply(xmlDocPtr doc, const struct sp_patch_dev *devs, size_t n,
                      struct sp_patch_report *report, struct sp_err *err);

void sp_patch_report_free(struct sp_patch_report *report);

/* 1 when the document was changed: a device added or an element edited. */
int sp_patch_report_changed(const struct sp_patch_report *report);

/* The element xml (compact: its whitespace-only text dropped), made a node
 * of doc, not yet placed; name is for parse errors. */
xmlNodePtr sp_xmlpatch_copy_in(xmlDocPtr doc, const char *xml, const char *name,
                               struct sp_err *err);

/* Takes out every element xmlpatch added (found by alias), with the
 * whitespace before it. Returns how many went, or -1 on error. */
int sp_xmlpatch_strip(xmlDocPtr doc, struct sp_err *err);

#endif
