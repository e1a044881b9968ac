#include "manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELDS 9

static int path_ok(const char *path)
{
    if (path[0] != '/' || strlen(path) > 4000)
        return 0;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

static int digest_ok(const char *s)
{
    if (strcmp(s, "-") == 0)
        return 1;
    if (strlen(s) != SP_SHA256_HEX_LEN)
        return 0;
    return strspn(s, "0123456789abcdef") == SP_SHA256_HEX_LEN;
}

int sp_manifest_add(struct sp_manifest *m, const struct sp_manifest_entry *e,
                    struct sp_err *err)
{
    if (!path_ok(e->path))
        return sp_err_set(err, "manifest: '%s' is not a path it can record", e->path);
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        struct sp_manifest_entry *grown = realloc(m->entries, cap * sizeof(*grown));
        if (!grown)
            return sp_err_set(err, "out of memory");
        m->entries = grown;
        m->cap = cap;
    }
    struct sp_manifest_entry *slot = &m->entries[m->n];
    *slot = *e;
    slot->path = strdup(e->path);
    if (!slot->path)
        return sp_err_set(err, "out of memory");
    m->n++;
    return 0;
}

void sp_manifest_drop_last(struct sp_manifest *m)
{
    if (m->n > 0)
        free(m->entries[--m->n].path);
}

void sp_manifest_free(struct sp_manifest *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->entries[i].path);
    free(m->entries);
    memset(m, 0, sizeof(*m));
}

struct sp_manifest_entry *sp_manifest_find(const struct sp_manifest *m, const char *path)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->entries[i].path, path) == 0)
            return &m->entries[i];
    return NULL;
}

/* Splits line (modified in place) at tabs into exactly FIELDS fields. */
static int split_fields(char *line, char *fields[FIELDS])
{
    int n = 0;
    for (char *p = line; n < FIELDS; n++) {
        fields[n] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            return n + 1 == FIELDS ? 0 : -1;
        if (n + 1 == FIELDS)
            return -1; /* more fields than expected */
        *tab = '\0';
        p = tab + 1;
    }
    return -1;
}

static int parse_number(const char *s, int base, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, base);
    if (errno || end == s || *end || s[0] == '-' || s[0] == '+' || s[0] == ' ' || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int copy_field(char *dst, size_t size, const char *src)
{
    size_t len = strlen(src);
    if (len >= size)
        return -1;
    memcpy(dst, src, len + 1);
    return 0;
}

/* One entry line: kind how sha mode uid gid orig_sha backup path. */
static int parse_entry(char *line, struct sp_manifest_entry *e)
{
    char *f[FIELDS];
    if (split_fields(line, f) < 0)
        return -1;
    memset(e, 0, sizeof(*e));
    if (strcmp(f[0], "file") == 0)
        e->kind = SP_MANIFEST_FILE;
    else if (strcmp(f[0], "dir") == 0)
        e->kind = SP_MANIFEST_DIR;
    else
        return -1;
    if (strcmp(f[1], "created") == 0)
        e->how = SP_MANIFEST_CREATED;
    else if (strcmp(f[1], "changed") == 0 && e->kind == SP_MANIFEST_FILE)
        e->how = SP_MANIFEST_CHANGED;
    else
        return -1;
    if (!digest_ok(f[2]) || !digest_ok(f[6]) || copy_field(e->sha, sizeof(e->sha), f[2]) < 0 ||
        copy_field(e->orig_sha, sizeof(e->orig_sha), f[6]) < 0 ||
        copy_field(e->backup, sizeof(e->backup), f[7]) < 0)
        return -1;
    if (parse_number(f[3], 8, 07777, &e->mode) < 0 || parse_number(f[4], 10, 0xfffffffeu, &e->uid) < 0 ||
        parse_number(f[5], 10, 0xfffffffeu, &e->gid) < 0)
        return -1;
    int changed = e->how == SP_MANIFEST_CHANGED;
    if (changed != (strcmp(e->orig_sha, "-") != 0) || changed != (strcmp(e->backup, "-") != 0))
        return -1;
    if (changed && strspn(e->backup, "0123456789") != strlen(e->backup))
        return -1;
    if ((e->kind == SP_MANIFEST_DIR) != (strcmp(e->sha, "-") == 0))
        return -1;
    e->path = f[8];
    return path_ok(e->path) ? 0 : -1;
}

int sp_manifest_parse(const char *text, size_t len, struct sp_manifest *m, struct sp_err *err)
{
    memset(m, 0, sizeof(*m));
    char *copy = malloc(len + 1);
    if (!copy)
        return sp_err_set(err, "out of memory");
    memcpy(copy, text, len);
    copy[len] = '\0';
    if (strlen(copy) != len) {
        free(copy);
        return sp_err_set(err, "manifest: holds a NUL byte");
    }
    int line_no = 0, rc = 0;
    for (char *line = copy, *next; rc == 0 && line && *line; line = next) {
        line_no++;
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : NULL;
        if (!nl) {
            rc = sp_err_set(err, "manifest: line %d has no line end (cut short?)", line_no);
            break;
        }
        *nl = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        struct sp_manifest_entry e;
        if (parse_entry(line, &e) < 0)
            rc = sp_err_set(err, "manifest: line %d is not an entry", line_no);
        else if (sp_manifest_find(m, e.path))
            rc = sp_err_set(err, "manifest: line %d: %s is there twice", line_no, e.path);
        else
            rc = sp_manifest_add(m, &e, err);
    }
    free(copy);
    if (rc < 0)
        sp_manifest_free(m);
    return rc;
}

char *sp_manifest_format(const struct sp_manifest *m)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    fputs(SP_MANIFEST_HEADER, f);
    for (size_t i = 0; i < m->n; i++) {
        const struct sp_manifest_entry *e = &m->entries[i];
        fprintf(f, "%s\t%s\t%s\t%04o\t%u\t%u\t%s\t%s\t%s\n",
                e->kind == SP_MANIFEST_FILE ? "file" : "dir",
                e->how == SP_MANIFEST_CREATED ? "created" : "changed", e->sha, e->mode, e->uid,
                e->gid, e->orig_sha, e->backup, e->path);
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
