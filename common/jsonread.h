/* jsonread: a small strict JSON reader (RFC 8259) into a tree of values.
 * Owns the tree it builds; rejects anything not JSON (trailing commas,
 * comments, leading zeros, bad escapes, lone surrogates, raw control
 * characters, ill-formed UTF-8), nesting deeper than SP_JSON_MAX_DEPTH and
 * texts over the caller's size limit. Never writes JSON (common/json.h does). */
#ifndef SP_JSONREAD_H
#define SP_JSONREAD_H

#include <stddef.h>

#include "err.h"

enum sp_jv_type {
    SP_JV_NULL,
    SP_JV_BOOL,
    SP_JV_NUMBER,
    SP_JV_STRING,
    SP_JV_ARRAY,
    SP_JV_OBJECT,
};

struct sp_jv {
    enum sp_jv_type type;
    int boolean;        /* SP_JV_BOOL */
    int is_int;         /* SP_JV_NUMBER without fraction or exponent, in range */
    long long integer;  /* its value when is_int */
    char *text;         /* STRING: its bytes, NUL-terminated (may hold NULs);
                         * NUMBER: as written */
    size_t len;         /* bytes in text */
    struct sp_jv *items; /* ARRAY elements, OBJECT member values */
    char **keys;         /* OBJECT member names (NUL-terminated) */
    size_t *key_lens;    /* their lengths (a name may hold NULs) */
    size_t n;
};

/* Parses exactly one value (whitespace around it allowed) from text[0..len).
 * max_bytes: a longer text is refused. 0 and *out set, or -1 with err saying
 * what is wrong and at which byte offset. */
int sp_jsonread_parse(const char *text, size_t len, size_t max_bytes, struct sp_jv **out,
                      struct sp_err *err);

void sp_jv_free(struct sp_jv *v);

/* An object's member (the first of that name), NULL when v is no object or
 * has none. */
const struct sp_jv *sp_jv_get(const struct sp_jv *v, const char *key);

/* The member's string, NULL when absent or not a string. */
const char *sp_jv_get_str(const struct sp_jv *v, const char *key);

struct sp_json;
/* Writes v with the JSON writer as it was read (member order kept); -1 when
 * the writer failed. */
int sp_jv_write(struct sp_json *j, const struct sp_jv *v);

#endif
