#include "domain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlsave.h>

#include "../common/xmlutil.h"

xmlDocPtr sp_domain_parse(const char *xml, size_t len, struct sp_err *err)
{
    xmlDocPtr doc = sp_xml_parse(xml, len, "domain XML", err);
    if (doc && !sp_xml_is(xmlDocGetRootElement(doc), "domain")) {
        sp_err_set(err, "domain XML: root element is <%s>, expected <domain>",
                   (const char *)xmlDocGetRootElement(doc)->name);
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
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

/* --- identity, from a stream -------------------------------------------- */

enum field { FIELD_NAME, FIELD_UUID, FIELD_TITLE, N_FIELDS };
static const char *const field_names[N_FIELDS] = {"name", "uuid", "title"};

/* The first <name>, <uuid> and <title> child of the root, each read whole
 * (all text below it, as libxml2's node content). */
struct id_scan {
    int root_seen;
    int root_is_domain;
    char *root_name;
    int reading; /* the field being read, or N_FIELDS */
    xmlBufferPtr text[N_FIELDS]; /* NULL until the element is met */
    int entity[N_FIELDS];        /* it refers to an entity of the DOCTYPE */
    int stop_when_known;         /* end the scan once all three are read */
    int oom;
};

static int field_of(const xmlChar *localname)
{
    for (int f = 0; f < N_FIELDS; f++)
        if (xmlStrEqual(localname, BAD_CAST field_names[f]))
            return f;
    return N_FIELDS;
}

static int id_root(struct id_scan *s, const xmlChar *localname, const xmlChar *uri)
{
    if (s->root_seen)
        return 0; /* recovery past a second root: the error says it */
    s->root_seen = 1;
    s->root_is_domain = !uri && xmlStrEqual(localname, BAD_CAST "domain");
    s->root_name = strdup((const char *)localname);
    s->oom = !s->root_name;
    return s->oom;
}

static int id_start(void *user, int depth, const xmlChar *localname, const xmlChar *uri,
                    int nb_attributes, const xmlChar **attributes)
{
    (void)nb_attributes, (void)attributes;
    struct id_scan *s = user;
    if (depth == 0)
        return id_root(s, localname, uri);
    int f = depth == 1 && s->root_is_domain && !uri ? field_of(localname) : N_FIELDS;
    if (f == N_FIELDS || s->text[f])
        return 0;
    s->text[f] = xmlBufferCreate();
    s->oom = !s->text[f];
    if (s->text[f])
        xmlBufferSetAllocationScheme(s->text[f], XML_BUFFER_ALLOC_DOUBLEIT);
    s->reading = f;
    return s->oom;
}

static int all_fields_read(const struct id_scan *s)
{
    for (int f = 0; f < N_FIELDS; f++)
        if (!s->text[f])
            return 0;
    return 1;
}

/* Only the first of each element counts, and each is whole once it ends:
 * nothing after the last of them can change the identity. */
static int id_end(void *user, int depth)
{
    struct id_scan *s = user;
    if (depth != 1)
        return 0;
    int ended_field = s->reading < N_FIELDS;
    s->reading = N_FIELDS;
    return ended_field && s->stop_when_known && all_fields_read(s);
}

static int id_text(void *user, const xmlChar *text, int len)
{
    struct id_scan *s = user;
    if (s->reading < N_FIELDS && xmlBufferAdd(s->text[s->reading], text, len) != 0)
        s->oom = 1;
    return s->oom;
}

static int id_entity(void *user)
{
    struct id_scan *s = user;
    if (s->reading < N_FIELDS)
        s->entity[s->reading] = 1;
    return 0;
}

static const struct sp_xml_scan_ops id_ops = {
    .start = id_start, .end = id_end, .text = id_text, .entity = id_entity,
};

static char *take_text(xmlBufferPtr buf, int *oom)
{
    if (!buf)
        return NULL;
    char *out = strdup((const char *)xmlBufferContent(buf));
    if (!out)
        *oom = 1;
    return out;
}

static int fill_identity(struct id_scan *s, struct sp_domain_id *id, struct sp_err *err)
{
    if (!s->root_seen)
        return sp_err_set(err, "domain XML: no root element");
    if (!s->root_is_domain)
        return sp_err_set(err, "domain XML: root element is <%s>, expected <domain>",
                          s->root_name);
    for (int f = 0; f < N_FIELDS && !id->unknown; f++)
        if (s->entity[f])
            id->unknown = field_names[f];
    id->name = take_text(s->text[FIELD_NAME], &s->oom);
    id->uuid = take_text(s->text[FIELD_UUID], &s->oom);
    id->title = take_text(s->text[FIELD_TITLE], &s->oom);
    if (s->oom)
        return sp_err_set(err, "domain XML: out of memory");
    trim_in_place(id->name);
    trim_in_place(id->uuid);
    if ((!id->name || !id->name[0]) && !s->entity[FIELD_NAME])
        return sp_err_set(err, "domain XML has no <name>");
    if (!id->name && !(id->name = strdup(""))) {
        s->oom = 1;
        return sp_err_set(err, "domain XML: out of memory");
    }
    return 0;
}

static int identify(const char *xml, size_t len, int stop_when_known, struct sp_domain_id *id,
                    struct sp_err *err)
{
    memset(id, 0, sizeof(*id));
    struct id_scan s = {.reading = N_FIELDS, .stop_when_known = stop_when_known};
    int rc = sp_xml_scan(xml, len, "domain XML", &id_ops, &s, &id->doctype, err);
    if (s.oom && rc != SP_XML_OOM) {
        sp_err_set(err, "domain XML: out of memory");
        rc = SP_XML_OOM;
    }
    if (rc >= 0 && fill_identity(&s, id, err) < 0)
        rc = s.oom ? SP_XML_OOM : -1;
    for (int f = 0; f < N_FIELDS; f++)
        if (s.text[f])
            xmlBufferFree(s.text[f]);
    free(s.root_name);
    if (rc < 0)
        sp_domain_id_free(id);
    return rc;
}

int sp_domain_identify(const char *xml, size_t len, struct sp_domain_id *id, struct sp_err *err)
{
    return identify(xml, len, 0, id, err);
}

int sp_domain_identify_head(const char *xml, size_t len, struct sp_domain_id *id,
                            struct sp_err *err)
{
    return identify(xml, len, 1, id, err);
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
    int title = id->title && id->title[0] && !(id->unknown && strcmp(id->unknown, "title") == 0);
    if (title && strcmp(id->title, id->name) != 0)
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
    /* The writer falls back (a character reference for a character it
     * could not encode) or drops output when an allocation fails. */
    struct sp_xml_oom_guard guard;
    sp_xml_oom_guard_begin(&guard);
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf) {
        sp_xml_oom_guard_end(&guard);
        return sp_err_set(err, "out of memory");
    }
    int options = starts_with_declaration(original, original_len) ? 0 : XML_SAVE_NO_DECL;
    xmlSaveCtxtPtr save = xmlSaveToBuffer(buf, "UTF-8", options);
    int rc = save ? 0 : -1;
    if (rc == 0 && xmlSaveDoc(save, doc) < 0)
        rc = -1;
    if (save && xmlSaveClose(save) < 0)
        rc = -1;
    if (sp_xml_oom_guard_end(&guard) && rc == 0) {
        xmlBufferFree(buf);
        return sp_err_set(err, "out of memory while writing the domain XML");
    }
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
