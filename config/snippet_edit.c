#include "snippet_edit.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "../common/xmlutil.h"
#include "snippet_format.h"

struct sp_snippet_edit {
    char *path;
    char *original; /* the text as read */
    size_t original_len;
    size_t prolog_len; /* the XML declaration and the blanks after it, kept as written */
    xmlDocPtr doc;
};

void sp_snippet_edit_free(struct sp_snippet_edit *e)
{
    if (!e)
        return;
    xmlFreeDoc(e->doc);
    free(e->original);
    free(e->path);
    free(e);
}

/* The tree keeps no XML declaration, nor the blanks that follow it: they
 * are carried over from the text as written. */
static size_t prolog_length(const char *text, size_t len)
{
    if (len < 6 || strncmp(text, "<?xml", 5) != 0 || !strchr(" \t\r\n", text[5]))
        return 0;
    const char *end = memmem(text, len, "?>", 2);
    if (!end)
        return 0;
    size_t n = (size_t)(end - text) + 2;
    while (n < len && text[n] != '\0' && strchr(" \t\r\n", text[n]))
        n++;
    return n;
}

int sp_snippet_edit_open(const char *path, const char *text, size_t len,
                         struct sp_snippet_edit **out, struct sp_err *err)
{
    *out = NULL;
    struct sp_snippet_edit *e = calloc(1, sizeof(*e));
    if (!e || !(e->path = strdup(path)) || !(e->original = malloc(len + 1))) {
        sp_snippet_edit_free(e);
        return sp_err_set(err, "%s: out of memory", path);
    }
    memcpy(e->original, text, len);
    e->original[len] = '\0';
    e->original_len = len;
    e->prolog_len = prolog_length(text, len);
    e->doc = sp_xml_parse(text, len, path, err);
    if (!e->doc) {
        sp_snippet_edit_free(e);
        return -1;
    }
    if (!sp_xml_is(xmlDocGetRootElement(e->doc), "passthrough")) {
        sp_snippet_edit_free(e);
        return sp_err_set(err, "%s: its root element is not <passthrough>", path);
    }
    *out = e;
    return 0;
}

char *sp_snippet_edit_text(const struct sp_snippet_edit *e, size_t *len, struct sp_err *err)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlSaveCtxtPtr save = buf ? xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_NO_DECL) : NULL;
    int failed = !save || xmlSaveDoc(save, e->doc) < 0;
    if (save)
        failed |= xmlSaveClose(save) < 0;
    char *text = NULL;
    if (!failed) {
        size_t body = (size_t)xmlBufferLength(buf);
        text = malloc(e->prolog_len + body + 1);
        if (text) {
            memcpy(text, e->original, e->prolog_len);
            memcpy(text + e->prolog_len, xmlBufferContent(buf), body);
            text[e->prolog_len + body] = '\0';
            *len = e->prolog_len + body;
        }
    }
    xmlBufferFree(buf);
    if (!text)
        sp_err_set(err, "%s: out of memory", e->path);
    return text;
}

/* The 1-based line of text where a differs from b first. */
static int first_changed_line(const char *a, size_t a_len, const char *b, size_t b_len)
{
    int line = 1;
    for (size_t i = 0; i < a_len && i < b_len && a[i] == b[i]; i++)
        line += a[i] == '\n';
    return line;
}

int sp_snippet_edit_round_trip(const struct sp_snippet_edit *e, struct sp_err *err)
{
    size_t len = 0;
    char *text = sp_snippet_edit_text(e, &len, err);
    if (!text)
        return -1;
    int same = len == e->original_len && memcmp(text, e->original, len) == 0;
    int line = same ? 0 : first_changed_line(e->original, e->original_len, text, len);
    free(text);
    if (same)
        return 0;
    return sp_err_set(err, "%s:%d: rewriting this file would change its formatting from "
                      "this line on (the XML parser keeps comments and blanks between "
                      "elements, not quotes, spacing inside tags or entities as written), "
                      "so it is left as it is; edit it by hand", e->path, line);
}

static int is_device(xmlNodePtr n)
{
    return sp_xml_is(n, "pci") || sp_xml_is(n, "hostdev");
}

/* The host PCI address a device element names: 1 with *out, 0 none. */
static int device_address(xmlNodePtr n, struct sp_pci_addr *out)
{
    if (sp_xml_is(n, "hostdev")) {
        xmlNodePtr a = sp_xml_hostdev_source_address(n);
        return a && sp_xml_read_pci_address(a, out) == 0;
    }
    xmlChar *text = xmlGetNoNsProp(n, BAD_CAST "address");
    int ok = text && sp_pci_addr_parse((const char *)text, out, NULL) == 0;
    xmlFree(text);
    return ok;
}

static int names(xmlNodePtr n, const struct sp_pci_addr *addr)
{
    struct sp_pci_addr found;
    return is_device(n) && device_address(n, &found) && sp_pci_addr_cmp(&found, addr) == 0;
}

int sp_snippet_edit_has(const struct sp_snippet_edit *e, const struct sp_pci_addr *addr)
{
    for (xmlNodePtr c = xmlDocGetRootElement(e->doc)->children; c; c = c->next)
        if (names(c, addr))
            return 1;
    return 0;
}

size_t sp_snippet_edit_devices(const struct sp_snippet_edit *e)
{
    size_t n = 0;
    for (xmlNodePtr c = xmlDocGetRootElement(e->doc)->children; c; c = c->next)
        n += is_device(c);
    return n;
}

static int is_blank_text(xmlNodePtr n)
{
    if (!n || n->type != XML_TEXT_NODE)
        return 0;
    for (const xmlChar *p = n->content; p && *p; p++)
        if (!strchr(" \t\r\n", *p))
            return 0;
    return 1;
}

/* The indentation of a device: the blanks after the last newline before
 * it; "  " when it has none of its own. */
static char *indent_of(xmlNodePtr device)
{
    xmlNodePtr prev = device ? device->prev : NULL;
    const char *nl = is_blank_text(prev) ? strrchr((const char *)prev->content, '\n') : NULL;
    return strdup(nl ? nl + 1 : "  ");
}

/* spec's <pci> element as the one snippet writer writes it, made in doc. */
static xmlNodePtr formatted_pci(xmlDocPtr doc, const struct sp_dev_spec *spec,
                                struct sp_err *err)
{
    struct sp_snippet_head head = {.vm = "-", .bind = 1};
    char *text = NULL;
    if (sp_snippet_format(&head, spec, NULL, 1, &text, err) < 0)
        return NULL;
    xmlDocPtr made = sp_xml_parse(text, strlen(text), "new <pci>", err);
    free(text);
    xmlNodePtr pci = made ? sp_xml_child(xmlDocGetRootElement(made), "pci") : NULL;
    xmlNodePtr copy = pci ? xmlDocCopyNode(pci, doc, 1) : NULL;
    xmlFreeDoc(made);
    if (!copy && made)
        sp_err_set(err, "out of memory");
    return copy;
}

static xmlNodePtr last_device(xmlNodePtr root)
{
    xmlNodePtr last = NULL;
    for (xmlNodePtr c = root->children; c; c = c->next)
        if (is_device(c))
            last = c;
    return last;
}

/* A comment right after n on n's line (blanks between them allowed). */
static xmlNodePtr comment_on_line_after(xmlNodePtr n)
{
    xmlNodePtr next = n->next;
    if (is_blank_text(next) && !strchr((const char *)next->content, '\n'))
        next = next->next;
    return next && next->type == XML_COMMENT_NODE ? next : NULL;
}

/* Where a new device goes: after the last device and a comment about it
 * on its line; NULL when the snippet has no device. */
static xmlNodePtr insertion_anchor(xmlNodePtr root)
{
    xmlNodePtr anchor = last_device(root), comment;
    while (anchor && (comment = comment_on_line_after(anchor)))
        anchor = comment;
    return anchor;
}

/* pci, on a line of its own with indent, into root: after anchor, else
 * before the blanks that close <passthrough>, else at its end. The element
 * goes in first: libxml2 merges a text node added beside another one. */
static int place(xmlNodePtr root, xmlNodePtr anchor, xmlNodePtr pci, const char *indent)
{
    size_t n = strlen(indent);
    char *lead = malloc(n + 2);
    if (!lead)
        return -1;
    lead[0] = '\n';
    memcpy(lead + 1, indent, n + 1);
    xmlNodePtr space = xmlNewDocText(root->doc, BAD_CAST lead);
    free(lead);
    xmlNodePtr closing = is_blank_text(root->last) ? root->last : NULL;
    xmlNodePtr end = anchor || closing ? NULL : xmlNewDocText(root->doc, BAD_CAST "\n");
    if (!space || (!anchor && !closing && !end)) {
        xmlFreeNode(space);
        return -1;
    }
    if (anchor)
        xmlAddNextSibling(anchor, pci);
    else if (closing)
        xmlAddPrevSibling(closing, pci);
    else
        xmlAddChild(root, pci);
    xmlAddPrevSibling(pci, space);
    if (end)
        xmlAddNextSibling(pci, end);
    return 0;
}

int sp_snippet_edit_add(struct sp_snippet_edit *e, const struct sp_dev_spec *spec,
                        struct sp_err *err)
{
    xmlNodePtr root = xmlDocGetRootElement(e->doc);
    xmlNodePtr pci = formatted_pci(e->doc, spec, err);
    if (!pci)
        return -1;
    char *indent = indent_of(last_device(root));
    int rc = indent ? place(root, insertion_anchor(root), pci, indent) : -1;
    free(indent);
    if (rc < 0) {
        if (!pci->parent)
            xmlFreeNode(pci);
        return sp_err_set(err, "%s: out of memory", e->path);
    }
    return 0;
}

/* Takes out the blanks that indent node on its line (the text from the
 * last newline before it). */
static void drop_indentation(xmlNodePtr node)
{
    xmlNodePtr prev = node->prev;
    if (!is_blank_text(prev))
        return;
    const char *content = (const char *)prev->content;
    const char *nl = strrchr(content, '\n');
    size_t keep = nl ? (size_t)(nl - content) : 0;
    xmlChar *kept = keep ? xmlStrndup(BAD_CAST content, (int)keep) : NULL;
    if (kept) {
        xmlNodeSetContent(prev, kept); /* frees the old content: hence the copy */
        xmlFree(kept);
    } else {
        xmlUnlinkNode(prev);
        xmlFreeNode(prev);
    }
}

int sp_snippet_edit_remove(struct sp_snippet_edit *e, const struct sp_pci_addr *addr,
                           struct sp_err *err)
{
    int removed = 0;
    xmlNodePtr next;
    for (xmlNodePtr c = xmlDocGetRootElement(e->doc)->children; c; c = next) {
        next = c->next;
        if (!names(c, addr))
            continue;
        drop_indentation(c);
        xmlUnlinkNode(c);
        xmlFreeNode(c);
        removed++;
    }
    if (removed)
        return 0;
    char text[SP_PCI_ADDR_STRLEN];
    sp_pci_addr_format(addr, text);
    return sp_err_set(err, "%s: no device %s in it", e->path, text);
}

int sp_snippet_edit_set_head(struct sp_snippet_edit *e, const char *name, const char *value,
                             struct sp_err *err)
{
    if (!xmlSetProp(xmlDocGetRootElement(e->doc), BAD_CAST name, BAD_CAST value))
        return sp_err_set(err, "%s: out of memory", e->path);
    return 0;
}

char *sp_snippet_edit_head(const struct sp_snippet_edit *e, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(xmlDocGetRootElement(e->doc), BAD_CAST name);
    char *out = v ? strdup((const char *)v) : NULL;
    xmlFree(v);
    return out;
}

void sp_snippet_file_name(const char *vm, char *out, size_t size)
{
    size_t w = 0;
    const size_t max = size > 69 ? 64 : size > 5 ? size - 5 : 0;
    for (const char *p = vm; *p && w < max; p++) {
        char c = *p;
        int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '-' || (c == '.' && w > 0);
        out[w++] = keep ? c : '-';
    }
    if (w == 0 && max >= 2) {
        memcpy(out, "vm", 2);
        w = 2;
    }
    if (size >= w + 5)
        memcpy(out + w, ".xml", 5);
    else if (size)
        out[0] = '\0';
}
