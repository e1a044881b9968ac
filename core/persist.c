#include "persist.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "../common/xmlutil.h"
#include "../xmlpatch/domain.h"
#include "../xmlpatch/edits.h"
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
    xmlNodePtr metadata = sp_layout_domain_child(xmlDocGetRootElement(doc), "metadata");
    int rc = 0;
    xmlNodePtr marker = metadata ? xmlNewDocNode(doc, NULL, BAD_CAST "original", NULL) : NULL;
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
    if (!xml || (!strstr(xml, SP_ALIAS_PREFIX) && !strstr(xml, SP_PERSIST_NS) &&
                 !strstr(xml, SP_EDITS_NS)))
        return 0;
    size_t len = strlen(xml);
    xmlDocPtr doc = sp_domain_parse(xml, len, err);
    if (!doc)
        return -1;
    /* Before the strip, which would take out the 'none' <video> that the
     * noted ones go back in place of. */
    int reverted = sp_edits_revert(doc, err);
    int removed = reverted < 0 ? -1 : sp_xmlpatch_strip(doc, err);
    if (removed >= 0)
        removed += reverted;
    /* libvirt keeps one marker; a text written by hand may have more, and
     * a second clean must find none. */
    for (xmlNodePtr marker; removed >= 0 && (marker = find_marker(doc)) != NULL; removed++) {
        xmlNodePtr metadata = marker->parent;
        sp_layout_remove(marker);
        /* A <metadata> that held only our marker goes too. */
        if (!xmlFirstElementChild(metadata))
            sp_layout_remove(metadata);
    }
    int rc = removed;
    if (removed > 0 && sp_domain_serialize(doc, xml, len, out, &len, err) < 0)
        rc = -1;
    xmlFreeDoc(doc);
    return rc < 0 ? -1 : rc > 0;
}
