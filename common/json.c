#include "json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* U+FFFD REPLACEMENT CHARACTER, in place of each ill-formed UTF-8 sequence. */
static const char replacement[] = "\xef\xbf\xbd";

void sp_json_init(struct sp_json *j, int indent)
{
    memset(j, 0, sizeof(*j));
    j->indent = indent < 0 ? 0 : indent > SP_JSON_MAX_INDENT ? SP_JSON_MAX_INDENT : indent;
}

static void fail(struct sp_json *j)
{
    j->failed = 1;
}

/* Room for n more bytes plus the final NUL; NULL (and failed) when there is none. */
static char *reserve(struct sp_json *j, size_t n)
{
    if (j->failed)
        return NULL;
    if (n >= SIZE_MAX / 2 - j->len) {
        fail(j);
        return NULL;
    }
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 256;
        while (cap < j->len + n + 1)
            cap *= 2;
        char *bigger = realloc(j->buf, cap);
        if (!bigger) {
            fail(j);
            return NULL;
        }
        j->buf = bigger;
        j->cap = cap;
    }
    char *at = j->buf + j->len;
    j->len += n;
    return at;
}

static void append(struct sp_json *j, const char *s, size_t n)
{
    char *at = reserve(j, n);
    if (at)
        memcpy(at, s, n);
}

static void append_str(struct sp_json *j, const char *s)
{
    append(j, s, strlen(s));
}

/* Indented output only: a new line, then depth levels of indentation. */
static void new_line(struct sp_json *j, int depth)
{
    if (j->indent == 0)
        return;
    char *at = reserve(j, 1 + (size_t)depth * (size_t)j->indent);
    if (!at)
        return;
    at[0] = '\n';
    memset(at + 1, ' ', (size_t)depth * (size_t)j->indent);
}

/* Before a key (is_key) or a value: checks it may come here and writes the
 * comma and indentation. 0, or -1 (failed) when it may not. */
static int before_item(struct sp_json *j, int is_key)
{
    if (j->failed)
        return -1;
    if (j->depth == 0) {
        if (!is_key && !j->done)
            return 0;
        fail(j);
        return -1;
    }
    struct sp_json_level *l = &j->stack[j->depth - 1];
    if (l->is_object && !is_key && l->after_key) {
        l->after_key = 0;
        return 0;
    }
    if (l->is_object != is_key || l->after_key) {
        fail(j);
        return -1;
    }
    if (l->has_items)
        append(j, ",", 1);
    l->has_items = 1;
    l->after_key = (unsigned char)is_key;
    new_line(j, j->depth);
    return j->failed ? -1 : 0;
}

/* After a complete value: at the top level, the document is complete. */
static void after_value(struct sp_json *j)
{
    if (j->depth == 0)
        j->done = 1;
}

static void begin(struct sp_json *j, int is_object)
{
    if (before_item(j, 0) < 0)
        return;
    if (j->depth == SP_JSON_MAX_DEPTH) {
        fail(j);
        return;
    }
    j->stack[j->depth++] = (struct sp_json_level){.is_object = (unsigned char)is_object};
    append(j, is_object ? "{" : "[", 1);
}

static void end(struct sp_json *j, int is_object)
{
    if (j->failed)
        return;
    struct sp_json_level *l = j->depth ? &j->stack[j->depth - 1] : NULL;
    if (!l || l->is_object != is_object || l->after_key) {
        fail(j);
        return;
    }
    if (l->has_items)
        new_line(j, j->depth - 1);
    j->depth--;
    append(j, is_object ? "}" : "]", 1);
    after_value(j);
}

void sp_json_begin_object(struct sp_json *j)
{
    begin(j, 1);
}

void sp_json_end_object(struct sp_json *j)
{
    end(j, 1);
}

void sp_json_begin_array(struct sp_json *j)
{
    begin(j, 0);
}

void sp_json_end_array(struct sp_json *j)
{
    end(j, 0);
}

/* ---- strings ---- */

/* The length of the UTF-8 sequence at p (at most n bytes) and whether it is
 * well-formed (Unicode table 3-7). An ill-formed one is its maximal subpart:
 * the lead byte and the continuation bytes that could still have fitted. */
size_t sp_utf8_sequence(const unsigned char *p, size_t n, int *valid)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t want;
    *valid = 0;
    if (c < 0x80)
        want = 1;
    else if (c >= 0xc2 && c <= 0xdf)
        want = 2;
    else if (c >= 0xe0 && c <= 0xef)
        want = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        want = 4;
    else
        return 1;
    if (c == 0xe0)
        lo = 0xa0; /* overlong below U+0800 */
    else if (c == 0xed)
        hi = 0x9f; /* surrogates U+D800..U+DFFF */
    else if (c == 0xf0)
        lo = 0x90; /* overlong below U+10000 */
    else if (c == 0xf4)
        hi = 0x8f; /* above U+10FFFF */
    for (size_t i = 1; i < want; i++) {
        if (i >= n || p[i] < lo || p[i] > hi)
            return i;
        lo = 0x80;
        hi = 0xbf;
    }
    *valid = 1;
    return want;
}

/* The escape for an ASCII byte, or NULL when it goes out as it is. */
static const char *escape_of(unsigned char c, char *buf, size_t size)
{
    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: break;
    }
    if (c >= 0x20)
        return NULL;
    snprintf(buf, size, "\\u%04X", (unsigned)c); /* upper case, as jansson */
    return buf;
}

/* Printable ASCII other than " and \: goes out as it is. */
static int plain_ascii(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* The quoted, escaped string; runs that need no change are copied whole. */
static void append_quoted(struct sp_json *j, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0, i = 0;
    append(j, "\"", 1);
    while (i < len) {
        /* Most of a record is plain ASCII: skip it without decoding. */
        if (plain_ascii(p[i])) {
            i++;
            continue;
        }
        char buf[8];
        int valid;
        size_t n = sp_utf8_sequence(p + i, len - i, &valid);
        const char *esc = !valid ? replacement : n == 1 ? escape_of(p[i], buf, sizeof(buf)) : NULL;
        if (esc) {
            /* The run before it and the escape, in one reservation. */
            size_t elen = strlen(esc);
            char *at = reserve(j, i - run + elen);
            if (at) {
                memcpy(at, s + run, i - run);
                memcpy(at + (i - run), esc, elen);
            }
            run = i + n;
        }
        i += n;
    }
    append(j, s + run, len - run);
    append(j, "\"", 1);
}

void sp_json_key_len(struct sp_json *j, const char *key, size_t len)
{
    if (!key) {
        fail(j);
        return;
    }
    if (before_item(j, 1) < 0)
        return;
    append_quoted(j, key, len);
    append_str(j, j->indent ? ": " : ":");
}

void sp_json_key(struct sp_json *j, const char *key)
{
    sp_json_key_len(j, key, key ? strlen(key) : 0);
}

void sp_json_string_len(struct sp_json *j, const char *s, size_t len)
{
    if (!s) {
        fail(j);
        return;
    }
    if (before_item(j, 0) < 0)
        return;
    append_quoted(j, s, len);
    after_value(j);
}

void sp_json_string(struct sp_json *j, const char *s)
{
    sp_json_string_len(j, s, s ? strlen(s) : 0);
}

void sp_json_string_or_null(struct sp_json *j, const char *s)
{
    if (s)
        sp_json_string(j, s);
    else
        sp_json_null(j);
}

/* ---- scalars ---- */

static void literal(struct sp_json *j, const char *text)
{
    if (before_item(j, 0) < 0)
        return;
    append_str(j, text);
    after_value(j);
}

void sp_json_int(struct sp_json *j, long long v)
{
    char text[32];
    snprintf(text, sizeof(text), "%lld", v);
    literal(j, text);
}

void sp_json_number_text(struct sp_json *j, const char *text)
{
    literal(j, text);
}

void sp_json_bool(struct sp_json *j, int v)
{
    literal(j, v ? "true" : "false");
}

void sp_json_null(struct sp_json *j)
{
    literal(j, "null");
}

void sp_json_member_str(struct sp_json *j, const char *key, const char *s)
{
    sp_json_key(j, key);
    sp_json_string_or_null(j, s);
}

void sp_json_member_int(struct sp_json *j, const char *key, long long v)
{
    sp_json_key(j, key);
    sp_json_int(j, v);
}

void sp_json_member_bool(struct sp_json *j, const char *key, int v)
{
    sp_json_key(j, key);
    sp_json_bool(j, v);
}

void sp_json_member_strings(struct sp_json *j, const char *key, char *const *items, size_t n)
{
    sp_json_key(j, key);
    sp_json_begin_array(j);
    for (size_t i = 0; i < n; i++)
        sp_json_string(j, items[i]);
    sp_json_end_array(j);
}

char *sp_json_take(struct sp_json *j)
{
    char *text = j->buf;
    int ok = !j->failed && j->done && j->depth == 0 && text;
    if (ok)
        text[j->len] = '\0';
    else
        free(text);
    int indent = j->indent;
    sp_json_init(j, indent);
    return ok ? text : NULL;
}

void sp_json_reset(struct sp_json *j, int indent)
{
    char *buf = j->buf;
    size_t cap = j->cap;
    sp_json_init(j, indent);
    j->buf = buf;
    j->cap = cap;
}

const char *sp_json_line(struct sp_json *j, size_t *len)
{
    if (j->failed || !j->done || j->depth != 0 || !j->buf)
        return NULL;
    char *at = reserve(j, 1);
    if (!at)
        return NULL;
    *at = '\n';
    j->buf[j->len] = '\0';
    *len = j->len;
    return j->buf;
}

void sp_json_free(struct sp_json *j)
{
    free(j->buf);
    sp_json_init(j, j->indent);
}

int sp_json_print(struct sp_json *j, FILE *out)
{
    char *text = sp_json_take(j);
    int rc = !text || fputs(text, out) < 0 || putc('\n', out) == EOF || fflush(out) != 0;
    free(text);
    return rc ? -1 : 0;
}
