#include "persist.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "../common/xmlutil.h"
#include "../xmlpatch/domain.h"
#include "../xmlpatch/layout.h"
#include "../xmlpatch/xmlpatch.h"

static int is_marker(xmlNodePtr node)
{
    return node->type == XML_ELEMENT_NODE && node->ns && node->ns->href &&
           xmlStrEqual(node->ns->href, BAD_CAST SP_PERSIST_NS) &&
           xmlStrEqual(node->name, BAD_CAST "original");
}

static xmlNodePtr find_marker(xmlDocPtr doc)
{
    xmlNodePtr metadata = sp_xml_child(xmlDocGetRootElement(doc), "metadata");
    for (xmlNodePtr c = metadata ? metadata->children : NULL; c; c = c->next)
        if (is_marker(c))
            return c;
    return NULL;
}

char *sp_persist_original(const char *xml)
{
    if (!xml || !strstr(xml, SP_PERSIST_NS))
        return NULL;
    xmlDocPtr doc = sp_domain_parse(xml, strlen(xml), NULL);
    xmlNodePtr marker = doc ? find_marker(doc) : NULL;
    xmlChar *text = marker ? xmlNodeGetContent(marker) : NULL;
    char *original = text && text[0] ? strdup((const char *)text) : NULL;
    xmlFree(text);
    if (doc)
        xmlFreeDoc(doc);
    return original;
}

int sp_persist_mark(const char *patched, size_t len, const char *original, char **out,
                    struct sp_err *err)
{
    xmlDocPtr doc = sp_domain_parse(patched, len, err);
    if (!doc)
        return -1;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr metadata = sp_xml_child(root, "metadata");
    int rc = 0;
    if (!metadata) {
        metadata = xmlNewDocNode(doc, NULL, BAD_CAST "metadata", NULL);
        rc = metadata && sp_layout_append(root, metadata) == 0 ? 0 : -1;
    }
    xmlNodePtr marker = rc == 0 ? xmlNewDocNode(doc, NULL, BAD_CAST "original", NULL) : NULL;
    xmlNsPtr ns = marker ? xmlNewNs(marker, BAD_CAST SP_PERSIST_NS, BAD_CAST "synopassthru") : NULL;
    if (!marker || !ns) {
        xmlFreeNode(marker);
        xmlFreeDoc(doc);
        return sp_err_set(err, "out of memory");
    }
    xmlSetNs(marker, ns);
    xmlNodeAddContent(marker, BAD_CAST original);
    if (sp_layout_append(metadata, marker) < 0 ||
        sp_domain_serialize(doc, patched, len, out, &len, err) < 0)
        rc = sp_err_set(err, "cannot add the marker to the definition");
    xmlFreeDoc(doc);
    return rc;
}

int sp_persist_clean(const char *xml, char **out, struct sp_err *err)
{
    *out = NULL;
    if (!xml || (!strstr(xml, SP_ALIAS_PREFIX) && !strstr(xml, SP_PERSIST_NS)))
        return 0;
    size_t len = strlen(xml);
    xmlDocPtr doc = sp_domain_parse(xml, len, err);
    if (!doc)
        return -1;
    int removed = sp_xmlpatch_strip(doc, err);
    xmlNodePtr marker = removed >= 0 ? find_marker(doc) : NULL;
    if (marker) {
        xmlNodePtr metadata = marker->parent;
        sp_layout_remove(marker);
        /* A <metadata> that held only our marker goes too. */
        if (!xmlFirstElementChild(metadata))
            sp_layout_remove(metadata);
        removed++;
    }
    int rc = removed;
    if (removed > 0 && sp_domain_serialize(doc, xml, len, out, &len, err) < 0)
        rc = -1;
    xmlFreeDoc(doc);
    return rc < 0 ? -1 : rc > 0;
}
