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

/* Takes node out together with the whitespace that led up to it, the
 * inverse of sp_layout_append. */
void sp_layout_remove(xmlNodePtr node);

#endif
