/* json: an append-only JSON text builder (objects, arrays, strings, integers,
 * bools, null), compact or indented byte for byte as jansson prints them.
 * Owns its growing buffer and the comma/nesting bookkeeping. Never parses JSON. */
#ifndef SP_JSON_H
#define SP_JSON_H

#include <stddef.h>
#include <stdio.h>

/* How deep objects and arrays may nest; deeper is a failure. */
#define SP_JSON_MAX_DEPTH 32
/* The widest indentation (jansson's JSON_INDENT accepts 0 to 31 too). */
#define SP_JSON_MAX_INDENT 31

struct sp_json_level {
    unsigned char is_object;
    unsigned char has_items;
    unsigned char after_key; /* a key is written, its value is not yet */
};

struct sp_json {
    char *buf;
    size_t len, cap;
    int indent; /* spaces per level; 0: compact */
    int depth;
    int done;   /* the top-level value is complete */
    int failed; /* out of memory, or a call out of place: sp_json_take says NULL */
    struct sp_json_level stack[SP_JSON_MAX_DEPTH];
};

/* indent 0: compact, as JSON_COMPACT ({"a":1,"b":[]}); indent n: one
 * member per line, n spaces per level, as JSON_INDENT(n) ({"a": 1}). */
void sp_json_init(struct sp_json *j, int indent);

void sp_json_begin_object(struct sp_json *j);
void sp_json_end_object(struct sp_json *j);
void sp_json_begin_array(struct sp_json *j);
void sp_json_end_array(struct sp_json *j);
/* An object member's name; the member's value is the next call. */
void sp_json_key(struct sp_json *j, const char *key);
/* The same for a name of len bytes (it may hold NULs). */
void sp_json_key_len(struct sp_json *j, const char *key, size_t len);

/* Strings are escaped (" \ and control characters; / is not) and valid
 * UTF-8 passes unchanged. Each ill-formed sequence (bad lead byte, truncated,
 * overlong, surrogate, above U+10FFFF) becomes one U+FFFD, so the output is
 * always valid JSON. A NULL string is a failure: say string_or_null. */
void sp_json_string(struct sp_json *j, const char *s);
void sp_json_string_len(struct sp_json *j, const char *s, size_t len);
void sp_json_string_or_null(struct sp_json *j, const char *s);
void sp_json_int(struct sp_json *j, long long v);
/* A number written as text already known to be a JSON number (one that
 * common/jsonread.h read); the writer does not check it. */
void sp_json_number_text(struct sp_json *j, const char *text);
void sp_json_bool(struct sp_json *j, int v);
void sp_json_null(struct sp_json *j);

/* Key and value in one call; a NULL string is written as null. */
void sp_json_member_str(struct sp_json *j, const char *key, const char *s);
void sp_json_member_int(struct sp_json *j, const char *key, long long v);
void sp_json_member_bool(struct sp_json *j, const char *key, int v);
/* "key": [each of the n strings]. */
void sp_json_member_strings(struct sp_json *j, const char *key, char *const *items, size_t n);

/* The length of the UTF-8 sequence at p (at most n bytes) and whether it is
 * well-formed; an ill-formed one is its maximal subpart (at least 1). */
size_t sp_utf8_sequence(const unsigned char *p, size_t n, int *valid);

/* The text (malloc'd, NUL-terminated, no trailing newline), or NULL when
 * anything failed or the top-level value is not complete. Either way the
 * buffer is handed over or freed, and j may be initialised again. */
char *sp_json_take(struct sp_json *j);

/* Starts another text in the buffer j already holds (a text that fits in it
 * needs no allocation). j was initialised before. */
void sp_json_reset(struct sp_json *j, int indent);

/* The text followed by a newline, NUL-terminated, in j's own buffer (valid
 * until j changes; call it once per text), its length in *len; NULL when
 * anything failed or the top-level value is not complete. */
const char *sp_json_line(struct sp_json *j, size_t *len);

/* Frees j's buffer. */
void sp_json_free(struct sp_json *j);

/* Takes the text and writes it to out with a newline, flushed. 0, or -1 when
 * the text could not be built or written. */
int sp_json_print(struct sp_json *j, FILE *out);

#endif
