/* xmlutil: libxml2 helpers shared by config/ and xmlpatch/: parsing a
 * buffer with the error captured per parser (never through libxml2's global
 * handlers, which belong to the host process), and reading libvirt-style
 * numeric attributes and PCI <address> elements. */
#ifndef SP_XMLUTIL_H
#define SP_XMLUTIL_H

#include <libxml/tree.h>

#include "../pci/pci.h"
#include "err.h"

#define SP_QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

/* Parses buf without network access or entity expansion. On failure the
 * error reads "<name>:<line>: <libxml2 message>". With recover set, a
 * damaged document still yields whatever libxml2 could salvage. */
xmlDocPtr sp_xml_parse(const char *buf, size_t len, const char *name, int recover,
                       struct sp_err *err);

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
