/* snippet_format: the text of a vm.d snippet (<passthrough> with <pci> and
 * raw <hostdev> children) made from device specs, every attribute value
 * XML-escaped, so that sp_snippet_parse reads the same specs back. Owns the
 * layout of generated snippets. Never writes files or looks at devices. */
#ifndef SP_SNIPPET_FORMAT_H
#define SP_SNIPPET_FORMAT_H

#include <stddef.h>

#include "../common/err.h"
#include "snippet.h"

struct sp_snippet_head {
    const char *vm;      /* the vm attribute: name, UUID or title */
    const char *comment; /* an XML comment above <passthrough>, or NULL */
    int bind;            /* 0 writes bind="no" */
    int release;         /* 1 writes release="yes" */
};

/* The snippet for these specs; dev_comments is NULL or one comment (or NULL)
 * per spec, written above it. *out is malloc'd. Fails on a value XML cannot
 * carry (a control character) or when memory runs out. */
int sp_snippet_format(const struct sp_snippet_head *head, const struct sp_dev_spec *specs,
                      const char *const *dev_comments, size_t n, char **out,
                      struct sp_err *err);

/* text with & < > " ' as entities and tab/newline/CR as character
 * references; NULL when text holds another control character (XML 1.0 has
 * no way to write it) or memory runs out. */
char *sp_xml_escape_attr(const char *text);

/* text made safe between <!-- and -->: "--" broken up, no '-' at the end,
 * control characters other than newline and tab as '?'. NULL: out of memory. */
char *sp_xml_comment_text(const char *text);

#endif
