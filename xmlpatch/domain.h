/* domain: a libvirt domain document in and out. Owns parsing (no network,
 * no DTD, no entity expansion), the VM's identity (<name>, <uuid>, <title>)
 * read from a stream with no tree, and serialization that keeps the input's
 * XML declaration and final newline. Never decides what to add: xmlpatch.c. */
#ifndef SP_DOMAIN_H
#define SP_DOMAIN_H

#include <stddef.h>

#include <libxml/tree.h>

#include "../common/err.h"

struct sp_domain_id {
    char *name;
    char *uuid;  /* NULL when absent */
    char *title; /* NULL when absent */
    int doctype; /* the document has a DOCTYPE (never read) */
    const char *unknown; /* "name", "uuid" or "title" when that element refers
                          * to an entity of the DOCTYPE: what it says is not
                          * known; NULL otherwise */
};

/* Parses a domain document; the root must be <domain>. A DOCTYPE is
 * refused before any of it is read ("domain XML:LINE: a DOCTYPE ..."). */
xmlDocPtr sp_domain_parse(const char *xml, size_t len, struct sp_err *err);

/* Reads name (required unless unknown), uuid and title as a stream: no
 * tree, and a DOCTYPE's declarations skipped, so no entity is expanded. The
 * root must be <domain> and the document well-formed, as sp_domain_parse
 * wants it. Returns 0, -1 with err, or SP_XML_OOM when memory ran out (the
 * VM is then unknown, not absent). */
int sp_domain_identify(const char *xml, size_t len, struct sp_domain_id *id, struct sp_err *err);

/* The same read, ended as soon as <name>, <uuid> and <title> have each been
 * read whole (libvirt writes them first): 1 then, with the rest of the
 * document not read, so not known to be well-formed; otherwise as
 * sp_domain_identify, the document read to its end. What it finds is what
 * sp_domain_identify finds whenever that one succeeds. */
int sp_domain_identify_head(const char *xml, size_t len, struct sp_domain_id *id,
                            struct sp_err *err);
void sp_domain_id_free(struct sp_domain_id *id);

/* "'title' (name)" or "'name'": how messages name the VM. malloc'd. */
char *sp_domain_label(const struct sp_domain_id *id);

/* Serializes doc as UTF-8; the XML declaration and the trailing newline
 * follow the original text. */
int sp_domain_serialize(xmlDocPtr doc, const char *original, size_t original_len,
                        char **out, size_t *out_len, struct sp_err *err);

#endif
