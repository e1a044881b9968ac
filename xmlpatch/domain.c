#include "domain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlsave.h>

#include "../common/xmlutil.h"

xmlDocPtr sp_domain_parse(const char *xml, size_t len, struct sp_err *err)
{
    xmlDocPtr doc = sp_xml_parse(xml, len, "domain XML", 0, err);
    if (doc && !sp_xml_is(xmlDocGetRootElement(doc), "domain")) {
        sp_err_set(err, "domain XML: root element is <%s>, expected <domain>",
                   (const char *)xmlDocGetRootElement(doc)->name);
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

static char *child_text(xmlNodePtr root, const char *name)
{
    xmlNodePtr n = sp_xml_child(root, name);
    if (!n)
        return NULL;
    xmlChar *content = xmlNodeGetContent(n);
    char *out = content ? strdup((const char *)content) : NULL;
    xmlFree(content);
    return out;
}

/* libvirt ignores surrounding whitespace in <name> and <uuid>. */
static void trim_in_place(char *s)
{
    if (!s)
        return;
    size_t start = strspn(s, " \t\r\n");
    size_t len = strlen(s + start);
    memmove(s, s + start, len + 1);
    while (len > 0 && strchr(" \t\r\n", s[len - 1]))
        s[--len] = '\0';
}

int sp_domain_identity(xmlDocPtr doc, struct sp_domain_id *id, struct sp_err *err)
{
    memset(id, 0, sizeof(*id));
    xmlNodePtr root = xmlDocGetRootElement(doc);
    id->name = child_text(root, "name");
    trim_in_place(id->name);
    if (!id->name || !id->name[0]) {
        sp_domain_id_free(id);
        return sp_err_set(err, "domain XML has no <name>");
    }
    id->uuid = child_text(root, "uuid");
    trim_in_place(id->uuid);
    id->title = child_text(root, "title");
    return 0;
}

void sp_domain_id_free(struct sp_domain_id *id)
{
    free(id->name);
    free(id->uuid);
    free(id->title);
    memset(id, 0, sizeof(*id));
}

char *sp_domain_label(const struct sp_domain_id *id)
{
    char *out = NULL;
    int rc;
    if (id->title && id->title[0] && strcmp(id->title, id->name) != 0)
        rc = asprintf(&out, "'%s' (%s)", id->title, id->name);
    else
        rc = asprintf(&out, "'%s'", id->name);
    return rc < 0 ? NULL : out;
}

static int starts_with_declaration(const char *s, size_t len)
{
    /* A UTF-8 byte order mark may come first. */
    if (len >= 3 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
        (unsigned char)s[2] == 0xBF) {
        s += 3;
        len -= 3;
    }
    /* "<?xml-stylesheet" is a processing instruction, not a declaration. */
    return len >= 6 && memcmp(s, "<?xml", 5) == 0 && strchr(" \t\r\n", s[5]) && s[5];
}

int sp_domain_serialize(xmlDocPtr doc, const char *original, size_t original_len,
                        char **out, size_t *out_len, struct sp_err *err)
{
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf)
        return sp_err_set(err, "out of memory");
    int options = starts_with_declaration(original, original_len) ? 0 : XML_SAVE_NO_DECL;
    xmlSaveCtxtPtr save = xmlSaveToBuffer(buf, "UTF-8", options);
    int rc = save ? 0 : -1;
    if (rc == 0 && xmlSaveDoc(save, doc) < 0)
        rc = -1;
    if (save && xmlSaveClose(save) < 0)
        rc = -1;
    if (rc < 0) {
        xmlBufferFree(buf);
        return sp_err_set(err, "cannot serialize the domain XML");
    }
    size_t len = (size_t)xmlBufferLength(buf);
    const char *text = (const char *)xmlBufferContent(buf);
    int keep_newline = original_len > 0 && original[original_len - 1] == '\n';
    if (!keep_newline && len > 0 && text[len - 1] == '\n')
        len--;
    *out = malloc(len + 1);
    if (!*out) {
        xmlBufferFree(buf);
        return sp_err_set(err, "out of memory");
    }
    memcpy(*out, text, len);
    (*out)[len] = '\0';
    *out_len = len;
    xmlBufferFree(buf);
    return 0;
}
