/* jsonread: a strict recursive-descent JSON reader (see jsonread.h). */
#include "jsonread.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct reader {
    const char *p, *end, *start;
    int depth;
    struct sp_err *err;
};

static int fail(struct reader *r, const char *what)
{
    return sp_err_set(r->err, "%s at byte %zu", what, (size_t)(r->p - r->start));
}

static void skip_space(struct reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int literal(struct reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return fail(r, "not a JSON value");
    r->p += n;
    return 0;
}

/* A growing byte buffer for a string's decoded bytes. */
struct bytes {
    char *buf;
    size_t len, cap;
};

static int put_bytes(struct bytes *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->buf, cap);
        if (!grown)
            return -1;
        b->buf = grown;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return 0;
}

static int put_codepoint(struct bytes *b, unsigned long c)
{
    char u[4];
    size_t n;
    if (c < 0x80) {
        u[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xc0 | (c >> 6));
        u[1] = (char)(0x80 | (c & 0x3f));
        n = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xe0 | (c >> 12));
        u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        u[2] = (char)(0x80 | (c & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (c >> 18));
        u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
        u[3] = (char)(0x80 | (c & 0x3f));
        n = 4;
    }
    return put_bytes(b, u, n);
}

static int hex4(struct reader *r, unsigned long *out)
{
    if (r->end - r->p < 4)
        return fail(r, "truncated \\u escape");
    unsigned long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = r->p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return fail(r, "bad \\u escape");
        v = v * 16 + (unsigned long)d;
    }
    r->p += 4;
    *out = v;
    return 0;
}

/* After "\u": one code point, a surrogate pair taken whole. */
static int unicode_escape(struct reader *r, struct bytes *b)
{
    unsigned long hi, lo;
    if (hex4(r, &hi) < 0)
        return -1;
    if (hi >= 0xdc00 && hi <= 0xdfff)
        return fail(r, "lone low surrogate");
    if (hi >= 0xd800 && hi <= 0xdbff) {
        if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
            return fail(r, "lone high surrogate");
        r->p += 2;
        if (hex4(r, &lo) < 0)
            return -1;
        if (lo < 0xdc00 || lo > 0xdfff)
            return fail(r, "high surrogate without its low one");
        hi = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
    }
    return put_codepoint(b, hi) < 0 ? fail(r, "out of memory") : 0;
}

static int escape(struct reader *r, struct bytes *b)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (r->p >= r->end)
        return fail(r, "truncated escape");
    char c = *r->p++;
    if (c == 'u')
        return unicode_escape(r, b);
    const char *at = strchr(from, c);
    if (!at || c == '\0') {
        r->p--;
        return fail(r, "bad escape");
    }
    return put_bytes(b, &to[at - from], 1) < 0 ? fail(r, "out of memory") : 0;
}

/* After the opening quote: the decoded bytes into *b. */
static int string_body(struct reader *r, struct bytes *b)
{
    if (put_bytes(b, "", 0) < 0)
        return fail(r, "out of memory");
    for (;;) {
        const char *run = r->p;
        while (r->p < r->end && *r->p != '"' && *r->p != '\\' &&
               (unsigned char)*r->p >= 0x20 && (unsigned char)*r->p < 0x80)
            r->p++;
        if (put_bytes(b, run, (size_t)(r->p - run)) < 0)
            return fail(r, "out of memory");
        if (r->p >= r->end)
            return fail(r, "unterminated string");
        unsigned char c = (unsigned char)*r->p;
        if (c == '"') {
            r->p++;
            return 0;
        }
        if (c == '\\') {
            r->p++;
            if (escape(r, b) < 0)
                return -1;
        } else if (c < 0x20) {
            return fail(r, "control character in a string");
        } else {
            int valid;
            size_t n = sp_utf8_sequence((const unsigned char *)r->p, (size_t)(r->end - r->p),
                                        &valid);
            if (!valid)
                return fail(r, "ill-formed UTF-8 in a string");
            if (put_bytes(b, r->p, n) < 0)
                return fail(r, "out of memory");
            r->p += n;
        }
    }
}

static int parse_string(struct reader *r, char **out, size_t *len)
{
    struct bytes b = {0};
    r->p++; /* the opening quote */
    if (string_body(r, &b) < 0) {
        free(b.buf);
        return -1;
    }
    *out = b.buf;
    *len = b.len;
    return 0;
}

static const char *digits(const char *p, const char *end)
{
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    return p;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(struct reader *r, struct sp_jv *v)
{
    const char *s = r->p, *p = s;
    if (p < r->end && *p == '-')
        p++;
    if (p >= r->end || *p < '0' || *p > '9')
        return fail(r, "not a JSON value");
    p = *p == '0' ? p + 1 : digits(p, r->end);
    int integral = 1;
    if (p < r->end && *p == '.') {
        const char *f = digits(p + 1, r->end);
        if (f == p + 1)
            return fail(r, "a number's fraction has no digits");
        p = f;
        integral = 0;
    }
    if (p < r->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < r->end && (*p == '+' || *p == '-'))
            p++;
        const char *e = digits(p, r->end);
        if (e == p)
            return fail(r, "a number's exponent has no digits");
        p = e;
        integral = 0;
    }
    v->type = SP_JV_NUMBER;
    v->len = (size_t)(p - s);
    v->text = strndup(s, v->len);
    if (!v->text)
        return fail(r, "out of memory");
    r->p = p;
    if (integral) {
        errno = 0;
        v->integer = strtoll(v->text, NULL, 10);
        v->is_int = errno != ERANGE;
    }
    return 0;
}

static int parse_value(struct reader *r, struct sp_jv *v);

/* A new last slot in v's items (and keys, for an object). */
static struct sp_jv *grow(struct reader *r, struct sp_jv *v, size_t *cap)
{
    if (v->n == *cap) {
        size_t n = *cap ? *cap * 2 : 4;
        struct sp_jv *items = realloc(v->items, n * sizeof(*items));
        if (items)
            v->items = items;
        if (items && v->type == SP_JV_OBJECT) {
            char **keys = realloc(v->keys, n * sizeof(*keys));
            if (keys)
                v->keys = keys;
            size_t *lens = keys ? realloc(v->key_lens, n * sizeof(*lens)) : NULL;
            if (lens)
                v->key_lens = lens;
            items = lens ? items : NULL;
        }
        if (!items) {
            fail(r, "out of memory");
            return NULL;
        }
        *cap = n;
    }
    struct sp_jv *slot = &v->items[v->n];
    memset(slot, 0, sizeof(*slot));
    return slot;
}

/* One member "key": value of an object being read, at r->p. */
static int parse_member(struct reader *r, struct sp_jv *v, size_t *cap)
{
    struct sp_jv *slot = grow(r, v, cap);
    if (!slot)
        return -1;
    if (r->p >= r->end || *r->p != '"')
        return fail(r, "expected a member name");
    if (parse_string(r, &v->keys[v->n], &v->key_lens[v->n]) < 0)
        return -1;
    v->n++; /* the key is owned from here; its value is null until read */
    skip_space(r);
    if (r->p >= r->end || *r->p != ':')
        return fail(r, "expected ':'");
    r->p++;
    return parse_value(r, slot);
}

/* An array or object, from its opening bracket. */
static int parse_container(struct reader *r, struct sp_jv *v, char close)
{
    if (r->depth >= SP_JSON_MAX_DEPTH)
        return fail(r, "nested too deep");
    r->depth++;
    r->p++;
    v->type = close == '}' ? SP_JV_OBJECT : SP_JV_ARRAY;
    size_t cap = 0;
    skip_space(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        r->depth--;
        return 0;
    }
    for (;;) {
        skip_space(r);
        int rc;
        if (close == '}') {
            rc = parse_member(r, v, &cap);
        } else {
            struct sp_jv *slot = grow(r, v, &cap);
            rc = slot ? (v->n++, parse_value(r, slot)) : -1;
        }
        if (rc < 0)
            return -1;
        skip_space(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == close) {
            r->p++;
            r->depth--;
            return 0;
        }
        return fail(r, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int parse_value(struct reader *r, struct sp_jv *v)
{
    skip_space(r);
    if (r->p >= r->end)
        return fail(r, "unexpected end of text");
    switch (*r->p) {
    case '{':
        return parse_container(r, v, '}');
    case '[':
        return parse_container(r, v, ']');
    case '"':
        v->type = SP_JV_STRING;
        return parse_string(r, &v->text, &v->len);
    case 't':
        v->type = SP_JV_BOOL;
        v->boolean = 1;
        return literal(r, "true");
    case 'f':
        v->type = SP_JV_BOOL;
        return literal(r, "false");
    case 'n':
        v->type = SP_JV_NULL;
        return literal(r, "null");
    default:
        return parse_number(r, v);
    }
}

static void free_contents(struct sp_jv *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free_contents(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->key_lens);
    free(v->text);
}

void sp_jv_free(struct sp_jv *v)
{
    if (!v)
        return;
    free_contents(v);
    free(v);
}

int sp_jsonread_parse(const char *text, size_t len, size_t max_bytes, struct sp_jv **out,
                      struct sp_err *err)
{
    *out = NULL;
    if (len > max_bytes)
        return sp_err_set(err, "%zu bytes, more than the %zu allowed", len, max_bytes);
    struct reader r = {.p = text, .end = text + len, .start = text, .err = err};
    struct sp_jv *v = calloc(1, sizeof(*v));
    if (!v)
        return sp_err_set(err, "out of memory");
    int rc = parse_value(&r, v);
    if (rc == 0) {
        skip_space(&r);
        if (r.p != r.end)
            rc = fail(&r, "text after the value");
    }
    if (rc < 0) {
        sp_jv_free(v);
        return -1;
    }
    *out = v;
    return 0;
}

const struct sp_jv *sp_jv_get(const struct sp_jv *v, const char *key)
{
    if (!v || v->type != SP_JV_OBJECT)
        return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < v->n; i++)
        if (v->key_lens[i] == n && memcmp(v->keys[i], key, n) == 0)
            return &v->items[i];
    return NULL;
}

const char *sp_jv_get_str(const struct sp_jv *v, const char *key)
{
    const struct sp_jv *m = sp_jv_get(v, key);
    return m && m->type == SP_JV_STRING ? m->text : NULL;
}

int sp_jv_write(struct sp_json *j, const struct sp_jv *v)
{
    switch (v->type) {
    case SP_JV_NULL:
        sp_json_null(j);
        break;
    case SP_JV_BOOL:
        sp_json_bool(j, v->boolean);
        break;
    case SP_JV_NUMBER:
        sp_json_number_text(j, v->text);
        break;
    case SP_JV_STRING:
        sp_json_string_len(j, v->text, v->len);
        break;
    case SP_JV_ARRAY:
    case SP_JV_OBJECT:
        if (v->type == SP_JV_OBJECT)
            sp_json_begin_object(j);
        else
            sp_json_begin_array(j);
        for (size_t i = 0; i < v->n; i++) {
            if (v->type == SP_JV_OBJECT)
                sp_json_key_len(j, v->keys[i], v->key_lens[i]);
            sp_jv_write(j, &v->items[i]);
        }
        if (v->type == SP_JV_OBJECT)
            sp_json_end_object(j);
        else
            sp_json_end_array(j);
        break;
    }
    return j->failed ? -1 : 0;
}
