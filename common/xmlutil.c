#include "xmlutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlsave.h>

/* One parse's state, reached from libxml2's callbacks through ctxt->_private.
 * The first error libxml2 raises is the one that explains the problem;
 * later ones are usually its consequences. */
struct parse_state {
    int seen;
    int fatal; /* a well-formedness error: what clears ctxt->wellFormed */
    int line;
    char message[512];
    int doctype;                       /* a DOCTYPE was met */
    int doctype_line;
    const struct sp_xml_scan_ops *ops; /* sp_xml_scan only */
    void *user;
    int depth;
    int stopped; /* a scan callback asked to stop */
    int wellformed_at_stop;
    int oom;
};

static struct parse_state *state_of(void *ctx)
{
    xmlParserCtxtPtr ctxt = ctx;
    return ctxt ? ctxt->_private : NULL;
}

static int current_line(void *ctx)
{
    xmlParserCtxtPtr ctxt = ctx;
    return ctxt && ctxt->input ? ctxt->input->line : 0;
}

/* libxml2's messages may hold newlines and tabs ("...encoding !\nBytes:
 * 0xFF..."): the log wants one line per error. */
static void fold_message(char *out, size_t size, const char *in)
{
    size_t n = 0;
    for (; in && *in && n + 1 < size; in++)
        out[n++] = (*in == '\n' || *in == '\r' || *in == '\t') ? ' ' : *in;
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

/* In a scan, a reference to an entity that only the skipped DOCTYPE could
 * declare is not an error: its declaration was dropped on purpose. */
static int dropped_declaration(const struct parse_state *st, int code)
{
    return st->ops && st->doctype &&
           (code == XML_ERR_UNDECLARED_ENTITY || code == XML_WAR_UNDECLARED_ENTITY ||
            code == XML_ERR_ENTITY_LOOP);
}

static void capture_first_error(void *data, xmlErrorPtr e)
{
    struct parse_state *st = state_of(data);
    if (!st || !e || e->level < XML_ERR_ERROR || dropped_declaration(st, e->code))
        return;
    st->fatal |= e->level == XML_ERR_FATAL;
    /* libxml2 stops at an allocation that fails, but may leave the
     * document well-formed as far as it got: never a success. */
    st->oom |= e->code == XML_ERR_NO_MEMORY;
    if (st->seen)
        return;
    st->seen = 1;
    /* Errors raised outside the parser (input encoding) carry no line. */
    st->line = e->line > 0 ? e->line : current_line(data);
    fold_message(st->message, sizeof(st->message), e->message);
}

static int set_parse_error(const struct parse_state *st, const char *name, struct sp_err *err)
{
    if (st->doctype && !st->ops)
        return sp_err_set(err, "%s:%d: a DOCTYPE is not supported: the entities it declares "
                          "are never expanded (take it out)", name, st->doctype_line);
    if (!st->seen)
        return sp_err_set(err, "%s: not a well-formed XML document", name);
    return sp_err_set(err, "%s:%d: %s", name, st->line, st->message);
}

/* The internalSubset handler, called at "<!DOCTYPE name ..." before any
 * declaration is read. A tree parse ends there; a scan goes on, its other
 * handlers dropping every declaration. */
static void meet_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
                         const xmlChar *system_id)
{
    (void)name, (void)external_id, (void)system_id;
    struct parse_state *st = state_of(ctx);
    st->doctype = 1;
    st->doctype_line = current_line(ctx);
    if (!st->ops)
        xmlStopParser(ctx);
}

/* No network, no XInclude, no DTD loading, no entity substitution
 * (XML_PARSE_NOENT unset); errors only through our handler. No dictionary:
 * a name it cannot store is left NULL without an error, while a name copied
 * with xmlStrdup raises one when memory runs out (see sp_xml_oom_guard). */
#define PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOXINCNODE | XML_PARSE_NOERROR | \
                       XML_PARSE_NOWARNING | XML_PARSE_NODICT)

static xmlParserCtxtPtr new_parser(struct parse_state *st, const char *name, size_t len,
                                   struct sp_err *err)
{
    if (len > INT_MAX) {
        sp_err_set(err, "%s: document too large", name);
        return NULL;
    }
    /* Its own failure would go to libxml2's global handlers. */
    struct sp_xml_oom_guard guard;
    sp_xml_oom_guard_begin(&guard);
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (sp_xml_oom_guard_end(&guard) || !ctxt || !ctxt->sax) {
        xmlFreeParserCtxt(ctxt);
        st->oom = 1;
        sp_err_set(err, "%s: out of memory", name);
        return NULL;
    }
    /* Errors go to this parser's own handler, never to libxml2's global
     * ones, which belong to the host process. */
    ctxt->_private = st;
    ctxt->sax->serror = capture_first_error;
    return ctxt;
}

static xmlDocPtr run_parser(xmlParserCtxtPtr ctxt, const char *buf, size_t len, const char *name,
                            int options)
{
    /* Some errors (input encoding) are raised without the parser context:
     * catch them with this thread's structured handler, then put back
     * whatever the host process had there. */
    xmlStructuredErrorFunc saved_handler = xmlStructuredError;
    void *saved_context = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(ctxt, capture_first_error);
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, (int)len, name, NULL, options);
    xmlSetStructuredErrorFunc(saved_context, saved_handler);
    return doc;
}

xmlDocPtr sp_xml_parse(const char *buf, size_t len, const char *name, struct sp_err *err)
{
    struct parse_state st = {0};
    xmlParserCtxtPtr ctxt = new_parser(&st, name, len, err);
    if (!ctxt)
        return NULL;
    ctxt->sax->internalSubset = meet_doctype;
    xmlDocPtr doc = run_parser(ctxt, buf, len, name, PARSE_OPTIONS);
    if (st.oom || ctxt->errNo == XML_ERR_NO_MEMORY) {
        /* What was parsed before the failed allocation is only a part. */
        sp_err_set(err, "%s: out of memory", name);
        if (doc)
            xmlFreeDoc(doc);
        doc = NULL;
    } else if (!doc || st.doctype || !ctxt->wellFormed) {
        set_parse_error(&st, name, err);
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

static void guard_error(void *ctx, xmlErrorPtr e)
{
    struct sp_xml_oom_guard *g = ctx;
    if (e && e->code == XML_ERR_NO_MEMORY)
        g->oom = 1;
}

void sp_xml_oom_guard_begin(struct sp_xml_oom_guard *g)
{
    g->saved_handler = xmlStructuredError;
    g->saved_context = xmlStructuredErrorContext;
    g->oom = 0;
    xmlSetStructuredErrorFunc(g, guard_error);
}

int sp_xml_oom_guard_end(struct sp_xml_oom_guard *g)
{
    xmlSetStructuredErrorFunc(g->saved_context, g->saved_handler);
    /* An outer guard hears of it too. */
    if (g->oom && g->saved_handler == guard_error)
        ((struct sp_xml_oom_guard *)g->saved_context)->oom = 1;
    return g->oom;
}

/* --- the scan: SAX events, no tree, no DTD ------------------------------ */

static void scan_stop_if(void *ctx, int stop)
{
    if (stop) {
        state_of(ctx)->stopped = 1;
        state_of(ctx)->wellformed_at_stop = ((xmlParserCtxtPtr)ctx)->wellFormed;
        xmlStopParser(ctx);
    }
}

/* An empty document of our own: with none, libxml2 would keep entity
 * declarations in one it makes itself ("SAX compatibility mode"). */
static void scan_start_document(void *ctx)
{
    xmlParserCtxtPtr ctxt = ctx;
    ctxt->myDoc = xmlNewDoc(BAD_CAST "1.0");
    if (!ctxt->myDoc) {
        state_of(ctx)->oom = 1;
        xmlStopParser(ctx);
    }
}

/* Every general entity that is not predefined is asked for here; none is
 * ever declared, so none is ever expanded. */
static xmlEntityPtr scan_get_entity(void *ctx, const xmlChar *name)
{
    (void)name;
    xmlParserCtxtPtr ctxt = ctx;
    struct parse_state *st = state_of(ctx);
    if (!ctxt->inSubset && st->ops->entity)
        scan_stop_if(ctx, st->ops->entity(st->user));
    return NULL;
}

static void scan_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                               const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                               int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    (void)nb_namespaces, (void)namespaces, (void)nb_defaulted;
    struct parse_state *st = state_of(ctx);
    int depth = st->depth++;
    /* A prefix no declaration binds: the tree keeps the name whole
     * ("x:name"), so it is not the unprefixed element either. */
    const xmlChar *ns = uri ? uri : prefix ? BAD_CAST "" : NULL;
    if (st->ops->start)
        scan_stop_if(ctx, st->ops->start(st->user, depth, localname, ns, nb_attributes,
                                         attributes));
}

static void scan_end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                             const xmlChar *uri)
{
    (void)localname, (void)prefix, (void)uri;
    struct parse_state *st = state_of(ctx);
    int depth = --st->depth;
    if (st->ops->end)
        scan_stop_if(ctx, st->ops->end(st->user, depth));
}

static void scan_text(void *ctx, const xmlChar *text, int len)
{
    struct parse_state *st = state_of(ctx);
    if (st->ops->text)
        scan_stop_if(ctx, st->ops->text(st->user, text, len));
}

/* Only the handlers below: no declaration of the internal subset is kept,
 * no external subset or entity is loaded, comments and PIs are skipped. */
static void set_scan_handlers(xmlSAXHandler *sax)
{
    xmlStructuredErrorFunc serror = sax->serror;
    memset(sax, 0, sizeof(*sax));
    sax->initialized = XML_SAX2_MAGIC;
    sax->serror = serror;
    sax->startDocument = scan_start_document;
    sax->internalSubset = meet_doctype;
    sax->getEntity = scan_get_entity;
    sax->startElementNs = scan_start_element;
    sax->endElementNs = scan_end_element;
    sax->characters = scan_text;
    sax->ignorableWhitespace = scan_text;
    sax->cdataBlock = scan_text;
}

int sp_xml_scan(const char *buf, size_t len, const char *name, const struct sp_xml_scan_ops *ops,
                void *user, int *doctype, struct sp_err *err)
{
    struct parse_state st = {.ops = ops, .user = user};
    *doctype = 0;
    xmlParserCtxtPtr ctxt = new_parser(&st, name, len, err);
    if (!ctxt)
        return st.oom ? SP_XML_OOM : -1;
    set_scan_handlers(ctxt->sax);
    /* Recovery only carries the scan past the references to entities the
     * DOCTYPE declared; any other error still fails it. */
    xmlDocPtr doc = run_parser(ctxt, buf, len, name, PARSE_OPTIONS | XML_PARSE_RECOVER);
    int wellformed = ctxt->wellFormed;
    st.oom |= ctxt->errNo == XML_ERR_NO_MEMORY;
    if (doc)
        xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    *doctype = st.doctype;
    if (st.oom) {
        sp_err_set(err, "%s: out of memory", name);
        return SP_XML_OOM;
    }
    /* As the tree parse judges: only a well-formedness error fails, in
     * what was read before a callback ended the scan. */
    if (st.stopped)
        wellformed = st.wellformed_at_stop;
    if (st.fatal || (!st.doctype && !wellformed))
        return set_parse_error(&st, name, err);
    if (st.stopped)
        return 1;
    return 0;
}

int sp_xml_scan_attr(int nb_attributes, const xmlChar **attributes, const char *name,
                     char **out)
{
    *out = NULL;
    for (int i = 0; i < nb_attributes; i++) {
        const xmlChar **a = attributes + 5 * i; /* localname, prefix, URI, value, end */
        if (a[2] || !xmlStrEqual(a[0], BAD_CAST name))
            continue;
        size_t len = (size_t)(a[4] - a[3]);
        char *value = malloc(len + 1);
        if (!value)
            return -1;
        /* Without entity substitution libxml2 hands '&' over as "&#38;". */
        size_t n = 0, k = 0;
        while (k < len) {
            if (len - k >= 5 && memcmp(a[3] + k, "&#38;", 5) == 0) {
                value[n++] = '&';
                k += 5;
            } else {
                value[n++] = (char)a[3][k++];
            }
        }
        value[n] = '\0';
        *out = value;
        return 1;
    }
    return 0;
}

/* The value of the attribute (no namespace), as xmlGetNoNsProp gives it,
 * but without a copy when it is one text node, as nearly always: a walk of
 * a whole document reads many. *copy is what to xmlFree after, or NULL. */
static const xmlChar *attr_value(xmlNodePtr node, const char *attr, xmlChar **copy)
{
    *copy = NULL;
    xmlAttrPtr a = xmlHasNsProp(node, BAD_CAST attr, NULL);
    if (!a)
        return NULL;
    if (a->type == XML_ATTRIBUTE_NODE && a->children && a->children->type == XML_TEXT_NODE &&
        !a->children->next && a->children->content)
        return a->children->content;
    return *copy = xmlGetNoNsProp(node, BAD_CAST attr);
}

int sp_xml_attr_uint(xmlNodePtr node, const char *attr, unsigned max, unsigned *out)
{
    xmlChar *copy;
    const xmlChar *v = attr_value(node, attr, &copy);
    if (!v)
        return 0;
    const char *s = (const char *)v;
    char *end = NULL;
    errno = 0;
    unsigned long n = (*s == '-' || *s == '\0') ? 0 : strtoul(s, &end, 0);
    int ok = *s != '-' && *s != '\0' && errno == 0 && end && *end == '\0' && n <= max;
    xmlFree(copy);
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
    xmlChar *copy;
    const xmlChar *v = attr_value(node, attr, &copy);
    int eq = v && xmlStrEqual(v, BAD_CAST value);
    xmlFree(copy);
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
