/* layout: keeps a pretty-printed document pretty when elements are added.
 * Owns the whitespace text nodes around new elements: the indentation of
 * new children follows their siblings', and compact documents stay compact.
 * Never changes whitespace that was already there. */
#ifndef SP_LAYOUT_H
#define SP_LAYOUT_H

#include <libxml/tree.h>

/* Appends child as the last element of parent, indented like its siblings.
 * The child's own subtree is indented too when it was built compact. */
int sp_layout_append(xmlNodePtr parent, xmlNodePtr child);

/* Puts child just before ref, indented like ref (its subtree too when it
 * was built compact). */
int sp_layout_insert_before(xmlNodePtr ref, xmlNodePtr child);

/* The child element name of the <domain> root; when there is none, a new
 * empty one, put where libvirt writes it (libvirt's order of the domain's
 * elements). NULL when memory runs out. */
xmlNodePtr sp_layout_domain_child(xmlNodePtr root, const char *name);

/* Drops the whitespace-only text inside node, at every depth: a copied
 * element is then laid out like the document it goes into. */
void sp_layout_strip_blank(xmlNodePtr node);

/* Takes node out together with the whitespace that led up to it, the
 * inverse of sp_layout_append. */
void sp_layout_remove(xmlNodePtr node);

#endif
