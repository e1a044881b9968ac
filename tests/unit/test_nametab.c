/* nametab: objects are found by name through collisions, wrap-around and
 * deletions, and a loop that deletes as it goes sees every object. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../config/nametab.h"

struct item {
    int value;
    char name[16];
};

#define N 500

static struct item items[N];

static struct sp_nametab filled(void)
{
    struct sp_nametab t = SP_NAMETAB_INIT(struct item, name);
    for (int i = 0; i < N; i++) {
        items[i].value = i;
        snprintf(items[i].name, sizeof(items[i].name), "vm-%d", i);
        assert_int_equal(sp_nametab_add(&t, &items[i]), 0);
    }
    assert_int_equal(t.n, N);
    return t;
}

static void test_finds_each_name(void **state)
{
    (void)state;
    struct sp_nametab t = filled();
    for (int i = 0; i < N; i++)
        assert_ptr_equal(sp_nametab_find(&t, items[i].name), &items[i]);
    assert_null(sp_nametab_find(&t, "vm-500"));
    assert_null(sp_nametab_find(&t, ""));
    sp_nametab_free(&t);
    struct sp_nametab empty = SP_NAMETAB_INIT(struct item, name);
    assert_null(sp_nametab_find(&empty, "vm-1"));
}

/* Every other one out: the rest stay reachable past the holes. */
static void test_deleted_leave_the_rest_found(void **state)
{
    (void)state;
    struct sp_nametab t = filled();
    for (int i = 0; i < N; i += 2)
        sp_nametab_del(&t, &items[i]);
    assert_int_equal(t.n, N / 2);
    for (int i = 0; i < N; i++)
        assert_ptr_equal(sp_nametab_find(&t, items[i].name), i % 2 ? &items[i] : NULL);
    sp_nametab_free(&t);
}

/* As config.c drops the snippets a listing no longer has. */
static void test_delete_while_looping(void **state)
{
    (void)state;
    struct sp_nametab t = filled();
    for (size_t i = 0; i < t.cap;) {
        struct item *it = t.slots[i];
        if (it && it->value % 3 != 0) {
            size_t n = t.n;
            sp_nametab_del(&t, it);
            assert_int_equal(t.n, n - 1); /* else the loop would stay here */
        } else {
            i++;
        }
    }
    int kept = 0;
    for (size_t i = 0; i < t.cap; i++) {
        struct item *it = t.slots[i];
        if (it) {
            assert_int_equal(it->value % 3, 0);
            assert_ptr_equal(sp_nametab_find(&t, it->name), it);
            kept++;
        }
    }
    assert_int_equal(kept, (N + 2) / 3);
    assert_int_equal(t.n, kept);
    sp_nametab_free(&t);
}

/* The existing object when the name is there; else a new zeroed one
 * holding the name, added. */
static void test_find_or_new(void **state)
{
    (void)state;
    struct sp_nametab t = filled();
    assert_ptr_equal(sp_nametab_find_or_new(&t, "vm-7"), &items[7]);
    struct item *fresh = sp_nametab_find_or_new(&t, "vm-new");
    assert_non_null(fresh);
    assert_int_equal(fresh->value, 0);
    assert_string_equal(fresh->name, "vm-new");
    assert_ptr_equal(sp_nametab_find(&t, "vm-new"), fresh);
    assert_int_equal(t.n, N + 1);
    sp_nametab_del(&t, fresh);
    free(fresh);
    sp_nametab_free(&t);
}

/* A second shape of object: a name held elsewhere, through name_of. */
struct alias {
    const char *name;
};

static const char *name_of_either(const void *slot)
{
    const struct item *it = slot;
    return it >= items && it < items + N ? it->name : ((const struct alias *)slot)->name;
}

/* An object stands in for another of the same name, in its slot. */
static void test_replace_keeps_the_slot(void **state)
{
    (void)state;
    struct sp_nametab t = filled();
    t.name_of = name_of_either;
    struct alias stand_in[N];
    for (int i = 0; i < N; i++) {
        stand_in[i].name = items[i].name;
        sp_nametab_replace(&t, &items[i], &stand_in[i]);
    }
    assert_int_equal(t.n, N);
    for (int i = 0; i < N; i++)
        assert_ptr_equal(sp_nametab_find(&t, items[i].name), &stand_in[i]);
    for (int i = 0; i < N; i += 2)
        sp_nametab_del(&t, &stand_in[i]);
    for (int i = 0; i < N; i++)
        assert_ptr_equal(sp_nametab_find(&t, items[i].name), i % 2 ? &stand_in[i] : NULL);
    sp_nametab_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finds_each_name),
        cmocka_unit_test(test_deleted_leave_the_rest_found),
        cmocka_unit_test(test_delete_while_looping),
        cmocka_unit_test(test_find_or_new),
        cmocka_unit_test(test_replace_keeps_the_slot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
