/* jsonread: what a strict reader takes (every JSON form, escapes, surrogate
 * pairs, NULs in strings, numbers kept as written) and what it refuses with
 * the byte offset (trailing commas, comments, leading zeros, bad escapes,
 * lone surrogates, raw control characters, ill-formed UTF-8, too deep, too
 * big); written back with common/json.h, a text comes back byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/json.h"
#include "../../common/jsonread.h"

#define MAX (1u << 20)

static struct sp_jv *parse_ok(const char *text)
{
    struct sp_jv *v = NULL;
    struct sp_err err = {{0}};
    if (sp_jsonread_parse(text, strlen(text), MAX, &v, &err) != 0)
        fail_msg("refused %s: %s", text, err.msg);
    return v;
}

/* Refused, with a message holding want. */
static void parse_bad(const char *text, size_t len, const char *want)
{
    struct sp_jv *v = NULL;
    struct sp_err err = {{0}};
    if (sp_jsonread_parse(text, len, MAX, &v, &err) == 0)
        fail_msg("took %s", text);
    assert_null(v);
    if (!strstr(err.msg, want))
        fail_msg("%s: said '%s', not '%s'", text, err.msg, want);
}

static char *write_back(const struct sp_jv *v)
{
    struct sp_json j;
    sp_json_init(&j, 0);
    assert_int_equal(sp_jv_write(&j, v), 0);
    char *text = sp_json_take(&j);
    assert_non_null(text);
    return text;
}

static void round_trip(const char *text)
{
    struct sp_jv *v = parse_ok(text);
    char *back = write_back(v);
    assert_string_equal(back, text);
    free(back);
    sp_jv_free(v);
}

static void object_members(void **state)
{
    (void)state;
    struct sp_jv *v = parse_ok(" {\"a\": 1, \"b\" : [true, false, null], \"c\":\"x\",\"a\":2}\n");
    assert_int_equal(v->type, SP_JV_OBJECT);
    assert_int_equal(v->n, 4);
    const struct sp_jv *a = sp_jv_get(v, "a");
    assert_non_null(a);
    assert_int_equal(a->type, SP_JV_NUMBER);
    assert_true(a->is_int);
    assert_int_equal(a->integer, 1); /* the first of a name */
    const struct sp_jv *b = sp_jv_get(v, "b");
    assert_int_equal(b->type, SP_JV_ARRAY);
    assert_int_equal(b->n, 3);
    assert_int_equal(b->items[0].type, SP_JV_BOOL);
    assert_true(b->items[0].boolean);
    assert_false(b->items[1].boolean);
    assert_int_equal(b->items[2].type, SP_JV_NULL);
    assert_string_equal(sp_jv_get_str(v, "c"), "x");
    assert_null(sp_jv_get_str(v, "b"));
    assert_null(sp_jv_get(v, "zz"));
    assert_null(sp_jv_get(b, "a"));
    sp_jv_free(v);
}

static void numbers(void **state)
{
    (void)state;
    struct sp_jv *v =
        parse_ok("[0, -7, 9223372036854775807, 9223372036854775808, 1.5, -0.25e+3, 2E9]");
    assert_int_equal(v->n, 7);
    assert_true(v->items[0].is_int);
    assert_int_equal(v->items[1].integer, -7);
    assert_true(v->items[2].is_int);
    assert_false(v->items[3].is_int); /* beyond long long: kept as text */
    assert_string_equal(v->items[3].text, "9223372036854775808");
    assert_false(v->items[4].is_int);
    assert_string_equal(v->items[5].text, "-0.25e+3");
    assert_string_equal(v->items[6].text, "2E9");
    sp_jv_free(v);
}

static void string_escapes(void **state)
{
    (void)state;
    struct sp_jv *v = parse_ok("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u0000z\"");
    static const char want[] = "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80\0z";
    assert_int_equal(v->type, SP_JV_STRING);
    assert_int_equal(v->len, sizeof(want) - 1);
    assert_memory_equal(v->text, want, sizeof(want) - 1);
    sp_jv_free(v);
    v = parse_ok("\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    assert_string_equal(v->text, "h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    sp_jv_free(v);
}

static void refused_with_offset(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *want;
    } bad[] = {
        {"", "unexpected end"},
        {"[1,]", "not a JSON value at byte 3"},
        {"{\"a\":1,}", "expected a member name at byte 7"},
        {"{\"a\" 1}", "expected ':'"},
        {"[1 2]", "expected ',' or ']'"},
        {"{\"a\":1 \"b\":2}", "expected ',' or '}'"},
        {"01", "text after the value at byte 1"},
        {"-", "not a JSON value"},
        {"1.", "fraction has no digits"},
        {"1e+", "exponent has no digits"},
        {"+1", "not a JSON value"},
        {"tru", "not a JSON value"},
        {"nul", "not a JSON value"},
        {"// c\n1", "not a JSON value"},
        {"\"abc", "unterminated string"},
        {"\"\\x\"", "bad escape at byte 2"},
        {"\"\\u12G4\"", "bad \\u escape"},
        {"\"\\u12\"", "truncated \\u escape"},
        {"\"\\ud800\"", "lone high surrogate"},
        {"\"\\ud800\\u0041\"", "without its low one"},
        {"\"\\udc00\"", "lone low surrogate"},
        {"\"a\tb\"", "control character"},
        {"\"\xc3\"", "ill-formed UTF-8"},
        {"\"\xc0\xaf\"", "ill-formed UTF-8"},
        {"\"\xed\xa0\x80\"", "ill-formed UTF-8"},
        {"\"\xf4\x90\x80\x80\"", "ill-formed UTF-8"},
        {"\"\xff\"", "ill-formed UTF-8"},
        {"[1] [2]", "text after the value"},
        {"{1:2}", "expected a member name"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        parse_bad(bad[i].text, strlen(bad[i].text), bad[i].want);
    parse_bad("\"a\0b\"", 5, "control character");
}

static char *nested(int depth)
{
    char *text = malloc((size_t)depth * 2 + 1);
    assert_non_null(text);
    for (int i = 0; i < depth; i++) {
        text[i] = '[';
        text[depth * 2 - 1 - i] = ']';
    }
    text[depth * 2] = '\0';
    return text;
}

static void limits(void **state)
{
    (void)state;
    char *ok = nested(SP_JSON_MAX_DEPTH);
    struct sp_jv *v = parse_ok(ok);
    char *back = write_back(v); /* the writer can nest as deep */
    assert_string_equal(back, ok);
    free(back);
    sp_jv_free(v);
    free(ok);
    char *deep = nested(SP_JSON_MAX_DEPTH + 1);
    parse_bad(deep, strlen(deep), "nested too deep");
    free(deep);
    /* A deep text far beyond the limit is refused without recursing. */
    deep = nested(100000);
    parse_bad(deep, strlen(deep), "nested too deep");
    free(deep);
    struct sp_jv *out = NULL;
    struct sp_err err;
    assert_int_equal(sp_jsonread_parse("[1, 2, 3]", 9, 8, &out, &err), -1);
    assert_non_null(strstr(err.msg, "more than the 8 allowed"));
    assert_int_equal(sp_jsonread_parse("[1, 2, 3]", 9, 9, &out, &err), 0);
    sp_jv_free(out);
}

static void written_back_byte_for_byte(void **state)
{
    (void)state;
    round_trip("{\"time\":\"2026-11-25T12:06:45.339Z\",\"vm\":{\"name\":\"a\",\"title\":null},"
               "\"devices\":[{\"address\":\"0000:08:00.0\",\"bind\":true}],\"n\":-12,"
               "\"f\":1.5e-3,\"empty\":{},\"none\":[],\"s\":\"q\\\"\\\\\\n\\u0001\"}");
    round_trip("\"\\u0000 in \\u0000 a string\"");
    round_trip("{\"k\\u0000ey\":0}");
    round_trip("[\"\xf0\x9f\x98\x80\"]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(object_members),
        cmocka_unit_test(numbers),
        cmocka_unit_test(string_escapes),
        cmocka_unit_test(refused_with_offset),
        cmocka_unit_test(limits),
        cmocka_unit_test(written_back_byte_for_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
