/* json: the writer's exact bytes (compact and indented, the same as
 * jansson's json_dumps), escapes, UTF-8 kept or replaced, misuse refused;
 * jansson parses every output back; audit records survive invalid UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../common/json.h"

#define FFFD "\xef\xbf\xbd"

/* ---- helpers ---- */

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!v)
        fail_msg("jansson cannot parse (%s): %s", jerr.text, text);
    return v;
}

/* The text, which must equal want byte for byte and parse back to expect
 * (a reference stolen). Frees the text. */
static void check_text(char *text, const char *want, json_t *expect)
{
    assert_non_null(text);
    assert_string_equal(text, want);
    json_t *back = parse(text);
    if (!json_equal(back, expect))
        fail_msg("parsed back to something else: %s", text);
    json_decref(back);
    json_decref(expect);
    free(text);
}

/* A document holding one string, compact. */
static char *one_string(const char *s, size_t len)
{
    struct sp_json j;
    sp_json_init(&j, 0);
    sp_json_string_len(&j, s, len);
    return sp_json_take(&j);
}

/* One string in, the exact JSON text out, and jansson reads back the value
 * (want_value: the UTF-8 it must hold). */
static void check_string(const char *in, size_t len, const char *want_text,
                         const char *want_value)
{
    check_text(one_string(in, len), want_text, json_string(want_value));
}

#define CHECK_STRING(in, text, value) check_string(in, sizeof(in) - 1, text, value)

/* The same document built with the writer and with jansson: an object of
 * every kind of member, nested two deep, empties included. */
static void build_sample(struct sp_json *j)
{
    sp_json_begin_object(j);
    sp_json_member_str(j, "name", "a \"quoted\" / path\n");
    sp_json_member_str(j, "none", NULL);
    sp_json_member_int(j, "n", -42);
    sp_json_member_bool(j, "yes", 1);
    sp_json_member_bool(j, "no", 0);
    sp_json_key(j, "empty_object");
    sp_json_begin_object(j);
    sp_json_end_object(j);
    sp_json_key(j, "empty_array");
    sp_json_begin_array(j);
    sp_json_end_array(j);
    sp_json_key(j, "list");
    sp_json_begin_array(j);
    sp_json_int(j, 1);
    sp_json_string(j, "");
    sp_json_null(j);
    sp_json_begin_object(j);
    sp_json_member_str(j, "deep", "Gäming 😀");
    sp_json_key(j, "deeper");
    sp_json_begin_array(j);
    sp_json_begin_array(j);
    sp_json_end_array(j);
    sp_json_end_array(j);
    sp_json_end_object(j);
    sp_json_end_array(j);
    sp_json_end_object(j);
}

static json_t *jansson_sample(void)
{
    return json_pack("{s:s, s:n, s:I, s:b, s:b, s:{}, s:[], s:[i, s, n, {s:s, s:[[]]}]}", "name",
                     "a \"quoted\" / path\n", "none", "n", (json_int_t)-42, "yes", 1, "no", 0,
                     "empty_object", "empty_array", "list", 1, "", "deep", "Gäming 😀", "deeper");
}

/* ours must be json_dumps(ref, flags) to the byte and parse back to ref
 * (stolen). Frees ours. */
static void check_as_jansson(char *ours, json_t *ref, size_t flags)
{
    assert_non_null(ref);
    char *theirs = json_dumps(ref, flags);
    assert_non_null(theirs);
    check_text(ours, theirs, ref);
    free(theirs);
}

/* The writer with this indent against json_dumps with these flags. */
static void same_as_jansson(int indent, size_t flags)
{
    struct sp_json j;
    sp_json_init(&j, indent);
    build_sample(&j);
    check_as_jansson(sp_json_take(&j), jansson_sample(), flags | JSON_PRESERVE_ORDER);
}

/* ---- layout ---- */

static void compact_nesting(void **state)
{
    (void)state;
    struct sp_json j;
    sp_json_init(&j, 0);
    sp_json_begin_object(&j);
    sp_json_key(&j, "a");
    sp_json_begin_array(&j);
    sp_json_int(&j, 1);
    sp_json_begin_object(&j);
    sp_json_member_str(&j, "b", NULL);
    sp_json_end_object(&j);
    sp_json_begin_array(&j);
    sp_json_end_array(&j);
    sp_json_end_array(&j);
    sp_json_key(&j, "c");
    sp_json_begin_object(&j);
    sp_json_end_object(&j);
    sp_json_end_object(&j);
    check_text(sp_json_take(&j), "{\"a\":[1,{\"b\":null},[]],\"c\":{}}",
               json_pack("{s:[i, {s:n}, []], s:{}}", "a", 1, "b", "c"));
}

static void indented_layout(void **state)
{
    (void)state;
    struct sp_json j;
    sp_json_init(&j, 2);
    sp_json_begin_object(&j);
    sp_json_member_str(&j, "file", "x");
    sp_json_key(&j, "list");
    sp_json_begin_array(&j);
    sp_json_string(&j, "1638");
    sp_json_string(&j, "15e7");
    sp_json_end_array(&j);
    sp_json_key(&j, "none");
    sp_json_begin_array(&j);
    sp_json_end_array(&j);
    sp_json_end_object(&j);
    check_text(sp_json_take(&j),
               "{\n  \"file\": \"x\",\n  \"list\": [\n    \"1638\",\n    \"15e7\"\n  ],\n"
               "  \"none\": []\n}",
               json_pack("{s:s, s:[s, s], s:[]}", "file", "x", "list", "1638", "15e7", "none"));
}

static void compact_same_as_jansson(void **state)
{
    (void)state;
    same_as_jansson(0, JSON_COMPACT);
}

static void indented_same_as_jansson(void **state)
{
    (void)state;
    same_as_jansson(2, JSON_INDENT(2));
    same_as_jansson(4, JSON_INDENT(4));
    same_as_jansson(SP_JSON_MAX_INDENT, JSON_INDENT(31));
}

static void empty_documents(void **state)
{
    (void)state;
    for (int indent = 0; indent <= 2; indent += 2) {
        struct sp_json j;
        sp_json_init(&j, indent);
        sp_json_begin_object(&j);
        sp_json_end_object(&j);
        check_text(sp_json_take(&j), "{}", json_object());
        sp_json_begin_array(&j); /* take left j ready for another document */
        sp_json_end_array(&j);
        check_text(sp_json_take(&j), "[]", json_array());
        sp_json_string(&j, "");
        check_text(sp_json_take(&j), "\"\"", json_string(""));
        sp_json_begin_object(&j);
        sp_json_member_str(&j, "", "");
        sp_json_end_object(&j);
        check_text(sp_json_take(&j), indent ? "{\n  \"\": \"\"\n}" : "{\"\":\"\"}",
                   json_pack("{s:s}", "", ""));
    }
}

static void scalars(void **state)
{
    (void)state;
    const long long values[] = {0, 1, -1, 42, -42, LLONG_MAX, LLONG_MIN};
    const char *texts[] = {"0", "1", "-1", "42", "-42", "9223372036854775807",
                           "-9223372036854775808"};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        struct sp_json j;
        sp_json_init(&j, 0);
        sp_json_int(&j, values[i]);
        check_text(sp_json_take(&j), texts[i], json_integer(values[i]));
    }
    struct sp_json j;
    sp_json_init(&j, 0);
    sp_json_begin_array(&j);
    sp_json_bool(&j, 1);
    sp_json_bool(&j, 0);
    sp_json_bool(&j, 7);
    sp_json_null(&j);
    sp_json_string_or_null(&j, NULL);
    sp_json_string_or_null(&j, "s");
    sp_json_end_array(&j);
    check_text(sp_json_take(&j), "[true,false,true,null,null,\"s\"]",
               json_pack("[b, b, b, n, n, s]", 1, 0, 1, "s"));
}

static void large_document(void **state)
{
    (void)state;
    struct sp_json j;
    sp_json_init(&j, 2);
    json_t *expect = json_array();
    sp_json_begin_array(&j);
    for (int i = 0; i < 5000; i++) {
        char text[32];
        snprintf(text, sizeof(text), "item %d \"%d\"", i, i);
        sp_json_string(&j, text);
        json_array_append_new(expect, json_string(text));
    }
    sp_json_end_array(&j);
    check_as_jansson(sp_json_take(&j), expect, JSON_INDENT(2));
}

/* ---- strings ---- */

static void every_escape(void **state)
{
    (void)state;
    CHECK_STRING("\"\\\b\f\n\r\t", "\"\\\"\\\\\\b\\f\\n\\r\\t\"", "\"\\\b\f\n\r\t");
    CHECK_STRING("\x01\x1f\x0b", "\"\\u0001\\u001F\\u000B\"", "\x01\x1f\x0b");
    /* DEL and / go out as they are, as jansson writes them */
    CHECK_STRING("a/b\x7f", "\"a/b\x7f\"", "a/b\x7f");
    char *nul = one_string("\0x", 2); /* only through string_len */
    assert_string_equal(nul, "\"\\u0000x\"");
    json_t *back = json_loads(nul, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    assert_int_equal(json_string_length(back), 2);
    assert_memory_equal(json_string_value(back), "\0x", 2);
    json_decref(back);
    free(nul);
    for (int c = 1; c < 0x80; c++) {
        char in[2] = {(char)c, 0};
        check_as_jansson(one_string(in, 1), json_string(in), JSON_ENCODE_ANY);
    }
}

static void escapes_in_keys(void **state)
{
    (void)state;
    struct sp_json j;
    sp_json_init(&j, 0);
    sp_json_begin_object(&j);
    sp_json_member_int(&j, "k\"\\\n\x01\xff", 1);
    sp_json_end_object(&j);
    check_text(sp_json_take(&j), "{\"k\\\"\\\\\\n\\u0001" FFFD "\":1}",
               json_pack("{s:i}", "k\"\\\n\x01" FFFD, 1));
}

static void valid_utf8_unchanged(void **state)
{
    (void)state;
    const char *valid[] = {
        "\xc2\x80", "\xdf\xbf",                     /* U+0080, U+07FF */
        "\xe0\xa0\x80", "\xed\x9f\xbf",             /* U+0800, U+D7FF */
        "\xee\x80\x80", "\xef\xbf\xbf",             /* U+E000, U+FFFF */
        "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",     /* U+10000, U+10FFFF */
        "Gäming & more — € 😀 日本", FFFD,
    };
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        char want[64];
        snprintf(want, sizeof(want), "\"%s\"", valid[i]);
        check_string(valid[i], strlen(valid[i]), want, valid[i]);
    }
}

/* Each ill-formed sequence is one U+FFFD: its lead byte and the continuation
 * bytes that could still have fitted (Unicode's "maximal subpart"). */
static void invalid_utf8_replaced(void **state)
{
    (void)state;
    /* lead bytes that never lead */
    CHECK_STRING("a\x80z", "\"a" FFFD "z\"", "a" FFFD "z");
    CHECK_STRING("\xbf", "\"" FFFD "\"", FFFD);
    CHECK_STRING("\xff\xfe", "\"" FFFD FFFD "\"", FFFD FFFD);
    CHECK_STRING("\xf5\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"", FFFD FFFD FFFD FFFD);
    /* truncated: at the end, before ASCII, before another lead byte */
    CHECK_STRING("\xc3", "\"" FFFD "\"", FFFD);
    CHECK_STRING("\xe2\x82", "\"" FFFD "\"", FFFD);
    CHECK_STRING("\xe2\x82" "A", "\"" FFFD "A\"", FFFD "A");
    CHECK_STRING("\xf0\x9f\x98", "\"" FFFD "\"", FFFD);
    CHECK_STRING("a\xf0\x9f\x98\x80\xf0\x9f" "b", "\"a😀" FFFD "b\"", "a😀" FFFD "b");
    CHECK_STRING("\xe2\xc3\xa9", "\"" FFFD "é\"", FFFD "é");
    /* a truncated sequence before an escaped character */
    CHECK_STRING("\xe2\"", "\"" FFFD "\\\"\"", FFFD "\"");
    /* overlong */
    CHECK_STRING("\xc0\xaf", "\"" FFFD FFFD "\"", FFFD FFFD);
    CHECK_STRING("\xc1\xbf", "\"" FFFD FFFD "\"", FFFD FFFD);
    CHECK_STRING("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"", FFFD FFFD FFFD);
    CHECK_STRING("\xf0\x80\x80\xaf", "\"" FFFD FFFD FFFD FFFD "\"", FFFD FFFD FFFD FFFD);
    /* surrogates */
    CHECK_STRING("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"", FFFD FFFD FFFD);
    CHECK_STRING("\xed\xbf\xbf", "\"" FFFD FFFD FFFD "\"", FFFD FFFD FFFD);
    /* above U+10FFFF */
    CHECK_STRING("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"", FFFD FFFD FFFD FFFD);
}

/* ---- misuse and limits ---- */

/* The document is refused: take says NULL. */
static void refused(struct sp_json *j)
{
    assert_null(sp_json_take(j));
}

static void misuse_refused(void **state)
{
    (void)state;
    struct sp_json j;
    sp_json_init(&j, 2);
    refused(&j); /* nothing written */
    sp_json_begin_object(&j);
    sp_json_int(&j, 1); /* a value without a key */
    sp_json_end_object(&j);
    refused(&j);
    sp_json_begin_array(&j);
    sp_json_key(&j, "k"); /* a key in an array */
    refused(&j);
    sp_json_begin_object(&j);
    sp_json_key(&j, "a");
    sp_json_key(&j, "b"); /* two keys in a row */
    refused(&j);
    sp_json_begin_object(&j);
    sp_json_key(&j, "a");
    sp_json_end_object(&j); /* a key without its value */
    refused(&j);
    sp_json_begin_object(&j);
    sp_json_end_array(&j); /* the wrong end */
    refused(&j);
    sp_json_end_array(&j); /* an end with nothing open */
    refused(&j);
    sp_json_begin_array(&j); /* never closed */
    refused(&j);
    sp_json_int(&j, 1);
    sp_json_int(&j, 2); /* two documents */
    refused(&j);
    sp_json_string(&j, NULL);
    refused(&j);
    sp_json_begin_object(&j);
    sp_json_key(&j, NULL);
    refused(&j);
    sp_json_key(&j, "top-level key");
    refused(&j);
}

static void depth_bounded(void **state)
{
    (void)state;
    struct sp_json j;
    sp_json_init(&j, 0);
    for (int i = 0; i < SP_JSON_MAX_DEPTH; i++)
        sp_json_begin_array(&j);
    for (int i = 0; i < SP_JSON_MAX_DEPTH; i++)
        sp_json_end_array(&j);
    char *text = sp_json_take(&j);
    assert_non_null(text);
    assert_int_equal(strlen(text), 2 * SP_JSON_MAX_DEPTH);
    json_decref(parse(text));
    free(text);
    for (int i = 0; i <= SP_JSON_MAX_DEPTH; i++)
        sp_json_begin_array(&j);
    for (int i = 0; i <= SP_JSON_MAX_DEPTH; i++)
        sp_json_end_array(&j);
    refused(&j);
}

/* A text built again in the same buffer: each line is its own text and a
 * newline, and the buffer is kept. */
static void reset_builds_in_the_kept_buffer(void **state)
{
    (void)state;
    struct sp_json j;
    size_t len = 0;
    sp_json_init(&j, 0);
    build_sample(&j);
    char *first = sp_json_take(&j);
    sp_json_init(&j, 0);
    build_sample(&j);
    const char *line = sp_json_line(&j, &len);
    assert_non_null(line);
    assert_int_equal(len, strlen(first) + 1);
    assert_memory_equal(line, first, len - 1);
    assert_int_equal(line[len - 1], '\n');
    free(first);
    const char *buf = j.buf;
    sp_json_reset(&j, 0);
    sp_json_begin_object(&j);
    sp_json_member_int(&j, "a", 1);
    assert_null(sp_json_line(&j, &len)); /* not complete yet */
    sp_json_end_object(&j);
    line = sp_json_line(&j, &len);
    assert_string_equal(line, "{\"a\":1}\n");
    assert_int_equal(len, 8);
    assert_ptr_equal(line, buf);
    sp_json_free(&j);
    assert_null(j.buf);
}

static void print_adds_a_newline(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    assert_non_null(f);
    struct sp_json j;
    sp_json_init(&j, 2);
    sp_json_begin_array(&j);
    sp_json_int(&j, 1);
    sp_json_end_array(&j);
    assert_int_equal(sp_json_print(&j, f), 0);
    sp_json_begin_array(&j); /* never finished: nothing is written */
    assert_int_equal(sp_json_print(&j, f), -1);
    fclose(f);
    assert_string_equal(buf, "[\n  1\n]\n");
    free(buf);
    FILE *full = fopen("/dev/full", "w");
    if (full) { /* a write error is an error */
        sp_json_int(&j, 1);
        assert_int_equal(sp_json_print(&j, full), -1);
        fclose(full);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compact_nesting),
        cmocka_unit_test(indented_layout),
        cmocka_unit_test(compact_same_as_jansson),
        cmocka_unit_test(indented_same_as_jansson),
        cmocka_unit_test(empty_documents),
        cmocka_unit_test(scalars),
        cmocka_unit_test(large_document),
        cmocka_unit_test(every_escape),
        cmocka_unit_test(escapes_in_keys),
        cmocka_unit_test(valid_utf8_unchanged),
        cmocka_unit_test(invalid_utf8_replaced),
        cmocka_unit_test(misuse_refused),
        cmocka_unit_test(depth_bounded),
        cmocka_unit_test(print_adds_a_newline),
        cmocka_unit_test(reset_builds_in_the_kept_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
