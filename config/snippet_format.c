#include "snippet_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/fsutil.h"

char *sp_xml_escape_attr(const char *text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    int bad = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && !bad; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        case '\t':
        case '\n':
        case '\r': fprintf(f, "&#x%X;", *p); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                bad = 1;
            else
                fputc(*p, f);
        }
    }
    if (fclose(f) != 0 || bad) {
        free(buf);
        return NULL;
    }
    return buf;
}

char *sp_xml_comment_text(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(2 * n + 2);
    if (!out)
        return NULL;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        out[w++] = (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ? '?' : (char)c;
        if (c == '-' && (i + 1 == n || text[i + 1] == '-'))
            out[w++] = ' ';
    }
    out[w] = '\0';
    return out;
}

/* name="escaped value" with a leading space; -1 when the value cannot be
 * written. */
static int put_attr(FILE *f, const char *name, const char *value, struct sp_err *err)
{
    char *escaped = sp_xml_escape_attr(value);
    if (!escaped)
        return sp_err_set(err, "%s='%s': a control character XML cannot carry (or out of "
                               "memory)", name, value);
    fprintf(f, " %s=\"%s\"", name, escaped);
    free(escaped);
    return 0;
}

static int put_comment(FILE *f, const char *indent, const char *text, struct sp_err *err)
{
    char *safe = sp_xml_comment_text(text);
    if (!safe)
        return sp_err_set(err, "out of memory");
    fprintf(f, "%s<!-- %s -->\n", indent, safe);
    free(safe);
    return 0;
}

static void put_id_attr(FILE *f, const char *name, uint16_t id)
{
    fprintf(f, " %s=\"%04x\"", name, id);
}

static int put_pci(FILE *f, const struct sp_dev_spec *s, struct sp_err *err)
{
    fputs("  <pci", f);
    if (s->has_addr) {
        char addr[SP_PCI_ADDR_STRLEN];
        sp_pci_addr_format(&s->addr, addr);
        fprintf(f, " address=\"%s\"", addr);
    }
    if (s->has_ids) {
        put_id_attr(f, "vendor", s->ids.vendor);
        put_id_attr(f, "product", s->ids.device);
    }
    if (s->has_subsys)
        fprintf(f, " subsystem=\"%04x:%04x\"", s->subsys.vendor, s->subsys.device);
    if (s->all_functions)
        fputs(" functions=\"all\"", f);
    if (s->rom && put_attr(f, "rom", s->rom, err) < 0)
        return -1;
    fputs("/>\n", f);
    return 0;
}

static int put_spec(FILE *f, const struct sp_dev_spec *s, const char *comment, struct sp_err *err)
{
    if (comment && put_comment(f, "  ", comment, err) < 0)
        return -1;
    if (s->kind == SP_SPEC_RAW) {
        fprintf(f, "  %s\n", s->raw_xml ? s->raw_xml : "");
        return 0;
    }
    return put_pci(f, s, err);
}

static int put_snippet(FILE *f, const struct sp_snippet_head *head,
                       const struct sp_dev_spec *specs, const char *const *dev_comments,
                       size_t n, struct sp_err *err)
{
    if (head->comment && put_comment(f, "", head->comment, err) < 0)
        return -1;
    fputs("<passthrough", f);
    if (put_attr(f, "vm", head->vm, err) < 0)
        return -1;
    if (!head->bind)
        fputs(" bind=\"no\"", f);
    if (head->release)
        fputs(" release=\"yes\"", f);
    fputs(">\n", f);
    for (size_t i = 0; i < n; i++)
        if (put_spec(f, &specs[i], dev_comments ? dev_comments[i] : NULL, err) < 0)
            return -1;
    fputs("</passthrough>\n", f);
    return 0;
}

int sp_snippet_format(const struct sp_snippet_head *head, const struct sp_dev_spec *specs,
                      const char *const *dev_comments, size_t n, char **out,
                      struct sp_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return sp_err_set(err, "out of memory");
    int rc = put_snippet(f, head, specs, dev_comments, n, err);
    *out = sp_memstream_done(f, &buf, rc, err);
    return *out ? 0 : -1;
}
