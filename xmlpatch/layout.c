#include "layout.h"

#include <stdlib.h>
#include <string.h>

#include "../common/xmlutil.h"

#define DEFAULT_UNIT "  "

static int is_blank_text(xmlNodePtr n)
{
    return n && n->type == XML_TEXT_NODE && xmlIsBlankNode(n);
}

/* The indentation after the last newline of a blank text node, or NULL
 * when the node is not blank text with a newline. Returns malloc'd. */
static char *indent_of(xmlNodePtr text)
{
    if (!is_blank_text(text) || !text->content)
        return NULL;
    const char *nl = strrchr((const char *)text->content, '\n');
    return nl ? strdup(nl + 1) : NULL;
}

/* a then b, malloc'd (NULL when memory runs out). Indentation is joined
 * for every element a merge adds: no printf for it. */
static char *joined(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *out = malloc(na + nb + 1);
    if (out) {
        memcpy(out, a, na);
        memcpy(out + na, b, nb + 1);
    }
    return out;
}

static xmlNodePtr first_element(xmlNodePtr parent)
{
    for (xmlNodePtr c = parent->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

/* Indentation of parent itself: from the blank text before it; "" for the
 * root element. NULL when the document is laid out compactly there. */
static char *own_indent(xmlNodePtr node)
{
    if (node->parent && node->parent->type == XML_DOCUMENT_NODE)
        return strdup("");
    return indent_of(node->prev);
}

/* Indentation for a new child of parent, or NULL when compact. */
static char *child_indent(xmlNodePtr parent)
{
    xmlNodePtr first = first_element(parent);
    if (first)
        return indent_of(first->prev);
    char *mine = own_indent(parent);
    if (!mine)
        return NULL;
    char *unit = NULL;
    xmlNodePtr p = parent->parent;
    if (p && p->type == XML_ELEMENT_NODE) {
        char *pi = own_indent(p);
        if (pi && strlen(mine) > strlen(pi) && strncmp(mine, pi, strlen(pi)) == 0)
            unit = strdup(mine + strlen(pi));
        free(pi);
    }
    char *out = joined(mine, unit ? unit : DEFAULT_UNIT);
    free(unit);
    free(mine);
    return out;
}

static xmlNodePtr newline_text(xmlDocPtr doc, const char *indent)
{
    char *s = joined("\n", indent);
    if (!s)
        return NULL;
    xmlNodePtr t = xmlNewDocText(doc, BAD_CAST s);
    free(s);
    return t;
}

/* Indents a subtree that we built without whitespace. */
static int indent_subtree(xmlNodePtr node, const char *indent, const char *unit)
{
    if (!first_element(node))
        return 0;
    char *inner = joined(indent, unit);
    if (!inner)
        return -1;
    int rc = 0;
    for (xmlNodePtr c = node->children; c && rc == 0; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        xmlNodePtr t = newline_text(node->doc, inner);
        if (!t || !xmlAddPrevSibling(c, t))
            rc = -1;
        else
            rc = indent_subtree(c, inner, unit);
    }
    xmlNodePtr closing = rc == 0 ? newline_text(node->doc, indent) : NULL;
    if (rc == 0 && (!closing || !xmlAddChild(node, closing)))
        rc = -1;
    free(inner);
    return rc;
}

static int has_whitespace(xmlNodePtr node)
{
    for (xmlNodePtr c = node->children; c; c = c->next)
        if (c->type == XML_TEXT_NODE)
            return 1;
    return 0;
}

static char *unit_between(xmlNodePtr parent, const char *indent)
{
    char *mine = own_indent(parent);
    char *unit = NULL;
    if (mine && strlen(indent) > strlen(mine) && strncmp(indent, mine, strlen(mine)) == 0)
        unit = strdup(indent + strlen(mine));
    else
        unit = strdup(DEFAULT_UNIT);
    free(mine);
    return unit;
}

int sp_layout_append(xmlNodePtr parent, xmlNodePtr child)
{
    char *indent = child_indent(parent);
    if (!indent)
        return xmlAddChild(parent, child) ? 0 : -1;

    char *unit = unit_between(parent, indent);
    int rc = unit ? 0 : -1;
    if (rc == 0 && !has_whitespace(child))
        rc = indent_subtree(child, indent, unit);
    free(unit);

    xmlNodePtr tail = is_blank_text(parent->last) ? parent->last : NULL;
    xmlNodePtr lead = rc == 0 ? newline_text(parent->doc, indent) : NULL;
    if (rc == 0 && !lead)
        rc = -1;
    if (rc == 0 && tail) {
        /* Keep the existing closing whitespace after the new element. */
        xmlNodePtr placed = xmlAddPrevSibling(tail, child);
        if (!placed || !xmlAddPrevSibling(placed, lead))
            rc = -1;
    } else if (rc == 0) {
        char *closing_indent = own_indent(parent);
        xmlNodePtr closing = closing_indent ? newline_text(parent->doc, closing_indent) : NULL;
        if (!xmlAddChild(parent, lead) || !xmlAddChild(parent, child) ||
            (closing && !xmlAddChild(parent, closing)))
            rc = -1;
        free(closing_indent);
    }
    free(indent);
    return rc;
}

int sp_layout_insert_before(xmlNodePtr ref, xmlNodePtr child)
{
    char *indent = indent_of(ref->prev);
    if (!indent)
        return xmlAddPrevSibling(ref, child) ? 0 : -1;
    char *unit = unit_between(ref->parent, indent);
    int rc = unit ? 0 : -1;
    if (rc == 0 && !has_whitespace(child))
        rc = indent_subtree(child, indent, unit);
    /* The whitespace before ref now leads to child; ref gets a copy. */
    xmlNodePtr lead = rc == 0 ? newline_text(ref->doc, indent) : NULL;
    if (rc == 0 && (!lead || !xmlAddPrevSibling(ref, child) || !xmlAddPrevSibling(ref, lead)))
        rc = -1;
    if (rc < 0 && lead && !lead->parent)
        xmlFreeNode(lead);
    free(unit);
    free(indent);
    return rc;
}

/* The children of <domain> in the order libvirt writes them; anything
 * else (namespaced elements such as qemu:commandline) comes after them. */
static const char *const domain_order[] = {
    "name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory",
    "currentMemory", "blkiotune", "memtune", "memoryBacking", "vcpu", "vcpus", "iothreads",
    "iothreadids", "defaultiothread", "cputune", "numatune", "resource", "sysinfo", "bootloader",
    "bootloader_args", "os", "idmap", "features", "cpu", "clock", "on_poweroff", "on_reboot",
    "on_crash", "on_lockfailure", "pm", "perf", "devices", "seclabel", "keywrap",
    "launchSecurity", NULL,
};

static size_t domain_rank(xmlNodePtr node)
{
    size_t i = 0;
    for (; domain_order[i]; i++)
        if (sp_xml_is(node, domain_order[i]))
            break;
    return i;
}

/* Before the first element that libvirt writes after child, else last. */
static int place_in_domain(xmlNodePtr root, xmlNodePtr child)
{
    size_t rank = domain_rank(child);
    for (xmlNodePtr c = root->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && domain_rank(c) > rank)
            return sp_layout_insert_before(c, child);
    return sp_layout_append(root, child);
}

xmlNodePtr sp_layout_domain_child(xmlNodePtr root, const char *name)
{
    xmlNodePtr found = sp_xml_child(root, name);
    if (found)
        return found;
    xmlNodePtr child = xmlNewDocNode(root->doc, NULL, BAD_CAST name, NULL);
    if (child && place_in_domain(root, child) == 0)
        return child;
    if (child && !child->parent)
        xmlFreeNode(child);
    return NULL;
}

void sp_layout_strip_blank(xmlNodePtr node)
{
    xmlNodePtr c = node->children;
    while (c) {
        xmlNodePtr next = c->next;
        if (c->type == XML_TEXT_NODE && xmlIsBlankNode(c)) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        } else if (c->type == XML_ELEMENT_NODE) {
            sp_layout_strip_blank(c);
        }
        c = next;
    }
}

void sp_layout_remove(xmlNodePtr node)
{
    xmlNodePtr lead = node->prev;
    if (is_blank_text(lead)) {
        xmlUnlinkNode(lead);
        xmlFreeNode(lead);
    }
    xmlUnlinkNode(node);
    xmlFreeNode(node);
}
