/* xmlutil: libxml2 helpers shared by config/ and xmlpatch/: a buffer parsed
 * into a tree or scanned as a stream, never with a DTD, its errors caught per
 * parser (never by libxml2's global handlers, which belong to the host
 * process); libvirt-style numeric attributes and PCI <address> elements. */
#ifndef SP_XMLUTIL_H
#define SP_XMLUTIL_H

#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "../pci/pci.h"
#include "err.h"

#define SP_QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

/* Parses buf into a tree without network access, XInclude or a DTD: a
 * DOCTYPE is refused where it starts, before any of its declarations is
 * read, so no entity is ever declared or expanded (the predefined ones and
 * character references still work). On failure the error reads
 * "<name>:<line>: <libxml2 message>" on one line. */
xmlDocPtr sp_xml_parse(const char *buf, size_t len, const char *name, struct sp_err *err);

/* libxml2 goes on after many of its allocations fail: an attribute is left
 * empty or nameless, a text or a node is left out, and only an error raised
 * on the thread says so. A guard catches those errors (and keeps them from
 * libxml2's global handlers, which belong to the host process) from begin
 * to end; end returns 1 when an allocation failed meanwhile, and what was
 * built then must not be used. Guards nest. */
struct sp_xml_oom_guard {
    xmlStructuredErrorFunc saved_handler;
    void *saved_context;
    int oom;
};
void sp_xml_oom_guard_begin(struct sp_xml_oom_guard *g);
int sp_xml_oom_guard_end(struct sp_xml_oom_guard *g);

/* What sp_xml_scan reports; any callback may be NULL, and one that returns
 * nonzero ends the scan. The root element is at depth 0; uri is NULL for an
 * element in no namespace, "" for one whose prefix nothing declares;
 * attributes come as libxml2's SAX2 gives them (see sp_xml_scan_attr). */
struct sp_xml_scan_ops {
    int (*start)(void *user, int depth, const xmlChar *localname, const xmlChar *uri,
                 int nb_attributes, const xmlChar **attributes);
    int (*end)(void *user, int depth);
    int (*text)(void *user, const xmlChar *text, int len);
    /* A reference to an entity only the DOCTYPE could declare, which stays
     * unexpanded and unknown: in text, before the text that follows it; in
     * an attribute value, before its element's start. */
    int (*entity)(void *user);
};

/* Reads buf as a stream of events with no tree, for a look at a few
 * elements of a document of any size, at a cost that grows with its length
 * only. A DOCTYPE sets *doctype; its declarations are read and dropped,
 * never kept, so no entity is ever expanded. Returns 0, 1 when a callback
 * ended the scan (the part read being well-formed; the rest is not read),
 * or -1 with err worded as sp_xml_parse words it (SP_XML_OOM when memory
 * ran out). */
#define SP_XML_OOM (-2)
int sp_xml_scan(const char *buf, size_t len, const char *name, const struct sp_xml_scan_ops *ops,
                void *user, int *doctype, struct sp_err *err);

/* The attribute name (no namespace) of a scan's start event: 1 with its
 * value in *out (malloc'd), 0 when absent, -1 when memory runs out. */
int sp_xml_scan_attr(int nb_attributes, const xmlChar **attributes, const char *name,
                     char **out);

/* Unsigned attribute as libvirt reads it (base auto: "0x1f", "31").
 * Returns 1 when present and valid, 0 when absent, -1 when malformed. */
int sp_xml_attr_uint(xmlNodePtr node, const char *attr, unsigned max, unsigned *out);

/* True when the attribute (no namespace) is present and equals value. */
int sp_xml_attr_is(xmlNodePtr node, const char *attr, const char *value);

/* True when node is an element with this local name and no namespace. */
int sp_xml_is(xmlNodePtr node, const char *name);

/* Reads domain/bus/slot/function of a libvirt <address> element.
 * Missing domain means 0. Returns 0, or -1 when incomplete or malformed. */
int sp_xml_read_pci_address(xmlNodePtr addr, struct sp_pci_addr *out);

/* The <address> inside <source> of a PCI subsystem <hostdev>, or NULL. */
xmlNodePtr sp_xml_hostdev_source_address(xmlNodePtr hostdev);

/* Serializes a node (not a document) to a malloc'd string, or NULL. */
char *sp_xml_node_to_string(xmlNodePtr node);

/* First element child with this name (no namespace), or NULL. */
xmlNodePtr sp_xml_child(xmlNodePtr parent, const char *name);

#endif
