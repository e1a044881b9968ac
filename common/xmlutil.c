#include "xmlutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlsave.h>

/* The first error libxml2 raises is the one that explains the problem;
 * later ones are usually its consequences. */
struct first_error {
    int seen;
    int line;
    char message[512];
};

static void capture_first_error(void *data, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = data;
    struct first_error *first = ctxt ? ctxt->_private : NULL;
    if (!first || first->seen || !e || e->level < XML_ERR_ERROR)
        return;
    first->seen = 1;
    first->line = e->line;
    snprintf(first->message, sizeof(first->message), "%s", e->message ? e->message : "");
    size_t n = strlen(first->message);
    while (n > 0 && (first->message[n - 1] == '\n' || first->message[n - 1] == ' '))
        first->message[--n] = '\0';
}

static void format_parse_error(const struct first_error *first, const char *name,
                               struct sp_err *err)
{
    if (!first->seen)
        sp_err_set(err, "%s: not a well-formed XML document", name);
    else
        sp_err_set(err, "%s:%d: %s", name, first->line, first->message);
}

xmlDocPtr sp_xml_parse(const char *buf, size_t len, const char *name, int recover,
                       struct sp_err *err)
{
    if (len > INT_MAX) {
        sp_err_set(err, "%s: document too large", name);
        return NULL;
    }
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        sp_err_set(err, "%s: out of memory", name);
        return NULL;
    }
    /* Errors go to this parser's own handler, never to libxml2's global
     * ones, which belong to the host process. */
    struct first_error first = {0};
    ctxt->_private = &first;
    ctxt->sax->serror = capture_first_error;
    int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    if (recover)
        options |= XML_PARSE_RECOVER;
    /* Some errors (input encoding) are raised without the parser context:
     * catch them with this thread's structured handler, then put back
     * whatever the host process had there. */
    xmlStructuredErrorFunc saved_handler = xmlStructuredError;
    void *saved_context = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(ctxt, capture_first_error);
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, (int)len, name, NULL, options);
    xmlSetStructuredErrorFunc(saved_context, saved_handler);
    if (!doc || (!recover && !ctxt->wellFormed)) {
        format_parse_error(&first, name, err);
        if (doc)
            xmlFreeDoc(doc);
        doc = NULL;
    } else if (!xmlDocGetRootElement(doc)) {
        sp_err_set(err, "%s: no root element", name);
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    return doc;
}

int sp_xml_attr_uint(xmlNodePtr node, const char *attr, unsigned max, unsigned *out)
{
    xmlChar *v = xmlGetNoNsProp(node, BAD_CAST attr);
    if (!v)
        return 0;
    const char *s = (const char *)v;
    char *end = NULL;
    errno = 0;
    unsigned long n = (*s == '-' || *s == '\0') ? 0 : strtoul(s, &end, 0);
    int ok = *s != '-' && *s != '\0' && errno == 0 && end && *end == '\0' && n <= max;
    xmlFree(v);
    if (!ok)
        return -1;
    *out = (unsigned)n;
    return 1;
}

int sp_xml_is(xmlNodePtr node, const char *name)
{
    return node && node->type == XML_ELEMENT_NODE && node->ns == NULL &&
           xmlStrEqual(node->name, BAD_CAST name);
}

int sp_xml_read_pci_address(xmlNodePtr addr, struct sp_pci_addr *out)
{
    struct sp_pci_addr a = {0};
    if (sp_xml_attr_uint(addr, "domain", 0xffff, &a.domain) < 0)
        return -1;
    if (sp_xml_attr_uint(addr, "bus", 0xff, &a.bus) != 1 ||
        sp_xml_attr_uint(addr, "slot", 0x1f, &a.slot) != 1 ||
        sp_xml_attr_uint(addr, "function", 7, &a.function) < 0)
        return -1;
    *out = a;
    return 0;
}

xmlNodePtr sp_xml_child(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
        if (sp_xml_is(c, name))
            return c;
    return NULL;
}

int sp_xml_attr_is(xmlNodePtr node, const char *attr, const char *value)
{
    xmlChar *v = xmlGetNoNsProp(node, BAD_CAST attr);
    int eq = v && xmlStrEqual(v, BAD_CAST value);
    xmlFree(v);
    return eq;
}

xmlNodePtr sp_xml_hostdev_source_address(xmlNodePtr hostdev)
{
    if (!sp_xml_is(hostdev, "hostdev") || !sp_xml_attr_is(hostdev, "type", "pci"))
        return NULL;
    xmlChar *mode = xmlGetNoNsProp(hostdev, BAD_CAST "mode");
    int subsystem = !mode || xmlStrEqual(mode, BAD_CAST "subsystem");
    xmlFree(mode);
    if (!subsystem)
        return NULL;
    return sp_xml_child(sp_xml_child(hostdev, "source"), "address");
}

char *sp_xml_node_to_string(xmlNodePtr node)
{
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf)
        return NULL;
    char *out = NULL;
    if (xmlNodeDump(buf, node->doc, node, 0, 0) >= 0)
        out = strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    return out;
}
