/* fuzz_json: the JSON writer. The input (after a first byte that picks the
 * indentation and the outer container) is split at 0xFF bytes into strings;
 * each one becomes a value, a key, a new object or array, or closes one.
 * Properties: jansson parses every output; every string that was valid UTF-8
 * (jansson's own check decides) comes back exactly, every other one comes
 * back holding U+FFFD; with only valid strings, the bytes are json_dumps'. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../common/json.h"

#define MAX_STRINGS 256
#define FFFD "\xef\xbf\xbd"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *text)
{
    fprintf(stderr, "fuzz_json: %s\n%s\n", what, text ? text : "(null)");
    abort();
}

/* The same document built twice: by the writer, and as a jansson tree (the
 * mirror) where a string that is not valid UTF-8 stands as null and a key
 * that is not as its index alone, without the ':'. */
struct build {
    struct sp_json j;
    json_t *stack[SP_JSON_MAX_DEPTH];
    int depth;
    int all_valid;
};

static void add(struct build *b, const char *key, json_t *value)
{
    json_t *top = b->stack[b->depth - 1];
    if (json_is_object(top))
        json_object_set_new(top, key, value);
    else
        json_array_append_new(top, value);
}

/* In an object: the key "INDEX:TEXT" (TEXT up to a NUL) is written, and the
 * mirror's key returned (malloc'd). NULL in an array. */
static char *key(struct build *b, size_t index, const char *s, size_t len)
{
    if (!json_is_object(b->stack[b->depth - 1]))
        return NULL;
    char *text = malloc(len + 32);
    if (!text)
        abort();
    snprintf(text, len + 32, "%zu:%.*s", index, (int)strnlen(s, len), s);
    sp_json_key(&b->j, text);
    json_t *probe = json_string(text);
    if (!probe) {
        snprintf(text, len + 32, "%zu", index);
        b->all_valid = 0;
    }
    json_decref(probe);
    return text;
}

static void string_value(struct build *b, const char *k, const char *s, size_t len)
{
    sp_json_string_len(&b->j, s, len);
    json_t *v = json_stringn(s, len);
    if (!v)
        b->all_valid = 0;
    add(b, k, v ? v : json_null());
}

static void open_container(struct build *b, const char *k, int object)
{
    json_t *c = object ? json_object() : json_array();
    if (object)
        sp_json_begin_object(&b->j);
    else
        sp_json_begin_array(&b->j);
    if (b->depth > 0)
        add(b, k, json_incref(c));
    b->stack[b->depth++] = c;
}

static void close_container(struct build *b)
{
    json_t *c = b->stack[--b->depth];
    if (json_is_object(c))
        sp_json_end_object(&b->j);
    else
        sp_json_end_array(&b->j);
    if (b->depth > 0)
        json_decref(c);
}

/* One string: what it becomes depends on its length. */
static void step(struct build *b, size_t index, const char *s, size_t len)
{
    long long n = (long long)len * (index % 2 ? -1 : 1) * 1000003LL;
    int kind = (int)(len % 5);
    if ((kind == 1 || kind == 2) && b->depth == SP_JSON_MAX_DEPTH)
        kind = 0;
    if (kind == 3 && b->depth > 1)
        close_container(b);
    char *k = key(b, index, s, len);
    if (kind == 1 || kind == 2) {
        open_container(b, k, kind == 1);
    } else if (kind == 4) {
        sp_json_int(&b->j, n);
        add(b, k, json_integer(n));
    } else {
        string_value(b, k, s, len);
    }
    free(k);
}

/* The parsed document against the mirror. */
static int same(json_t *parsed, json_t *mirror);

static int same_member(const char *pkey, json_t *pv, const char *mkey, json_t *mv)
{
    if (strchr(mkey, ':') ? strcmp(pkey, mkey) != 0
                          : strncmp(pkey, mkey, strlen(mkey)) != 0 || !strstr(pkey, FFFD))
        return 0;
    return same(pv, mv);
}

static int same(json_t *parsed, json_t *mirror)
{
    if (json_is_null(mirror))
        return json_is_string(parsed) &&
               memmem(json_string_value(parsed), json_string_length(parsed), FFFD, 3) != NULL;
    if (json_is_array(mirror)) {
        if (!json_is_array(parsed) || json_array_size(parsed) != json_array_size(mirror))
            return 0;
        for (size_t i = 0; i < json_array_size(mirror); i++)
            if (!same(json_array_get(parsed, i), json_array_get(mirror, i)))
                return 0;
        return 1;
    }
    if (json_is_object(mirror)) {
        if (!json_is_object(parsed) || json_object_size(parsed) != json_object_size(mirror))
            return 0;
        void *pi = json_object_iter(parsed), *mi = json_object_iter(mirror);
        for (; pi && mi; pi = json_object_iter_next(parsed, pi),
                         mi = json_object_iter_next(mirror, mi))
            if (!same_member(json_object_iter_key(pi), json_object_iter_value(pi),
                             json_object_iter_key(mi), json_object_iter_value(mi)))
                return 0;
        return 1;
    }
    return json_equal(parsed, mirror);
}

/* With only valid strings the writer's bytes are jansson's own. */
static void check_bytes(const char *text, json_t *mirror, int indent)
{
    size_t flags = (indent ? JSON_INDENT(indent) : JSON_COMPACT) | JSON_PRESERVE_ORDER;
    char *theirs = json_dumps(mirror, flags);
    if (!theirs || strcmp(text, theirs) != 0) {
        fprintf(stderr, "jansson writes:\n%s\n", theirs ? theirs : "(null)");
        die("the bytes differ from json_dumps", text);
    }
    free(theirs);
}

static void check(const char *text, json_t *mirror, int all_valid, int indent)
{
    if (!text)
        die("the writer failed", NULL);
    json_error_t jerr;
    json_t *parsed = json_loads(text, JSON_ALLOW_NUL, &jerr);
    if (!parsed)
        die(jerr.text, text);
    if (!same(parsed, mirror))
        die("a string did not come back", text);
    if (all_valid)
        check_bytes(text, mirror, indent);
    json_decref(parsed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int indent = data[0] & 7;
    struct build b = {.all_valid = 1};
    sp_json_init(&b.j, indent);
    open_container(&b, NULL, data[0] & 8);
    const char *s = (const char *)data + 1, *end = (const char *)data + size;
    for (size_t index = 0; index < MAX_STRINGS; index++) {
        const char *sep = memchr(s, 0xff, (size_t)(end - s));
        size_t len = sep ? (size_t)(sep - s) : (size_t)(end - s);
        step(&b, index, s, len);
        if (!sep)
            break;
        s = sep + 1;
    }
    json_t *mirror = b.stack[0];
    while (b.depth > 0)
        close_container(&b);
    char *text = sp_json_take(&b.j);
    check(text, mirror, b.all_valid, indent);
    free(text);
    json_decref(mirror);
    return 0;
}
