/* fuzz_jsonread: the strict JSON reader. Any input: no crash, no leak, no
 * hang. Round trip against the writer (common/json.h): every text the reader
 * takes, written back, is read again into the same tree, and writing that
 * tree gives the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/json.h"
#include "../../common/jsonread.h"

#define MAX_BYTES (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *text)
{
    fprintf(stderr, "fuzz_jsonread: %s\n%s\n", what, text ? text : "(null)");
    abort();
}

static int same(const struct sp_jv *a, const struct sp_jv *b)
{
    if (a->type != b->type || a->n != b->n || a->boolean != b->boolean || a->len != b->len)
        return 0;
    if (a->text && memcmp(a->text, b->text, a->len) != 0)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        if (a->keys && (a->key_lens[i] != b->key_lens[i] ||
                        memcmp(a->keys[i], b->keys[i], a->key_lens[i]) != 0))
            return 0;
        if (!same(&a->items[i], &b->items[i]))
            return 0;
    }
    return 1;
}

static char *write_text(const struct sp_jv *v)
{
    struct sp_json j;
    sp_json_init(&j, 0);
    if (sp_jv_write(&j, v) < 0)
        die("the writer failed on a tree the reader made", NULL);
    char *text = sp_json_take(&j);
    if (!text)
        die("the writer gave no text", NULL);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sp_jv *v = NULL, *again = NULL;
    struct sp_err err;
    if (sp_jsonread_parse((const char *)data, size, MAX_BYTES, &v, &err) < 0)
        return 0;
    char *first = write_text(v);
    if (sp_jsonread_parse(first, strlen(first), SIZE_MAX, &again, &err) < 0)
        die(err.msg, first);
    if (!same(v, again))
        die("read back into another tree", first);
    char *second = write_text(again);
    if (strcmp(first, second) != 0)
        die("written twice into other bytes", second);
    free(first);
    free(second);
    sp_jv_free(v);
    sp_jv_free(again);
    return 0;
}
