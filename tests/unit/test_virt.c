/* virt: the libvirt client loaded at run time. A library that is missing or
 * lacks a function is said by name and nothing else happens; libvirt's own
 * test driver (test:///default, in the client library itself) is listed with
 * name, UUID, title and state; a URI that is down is an error naming it;
 * a VM is found by name, then UUID in any form, then title. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../cli/virt.h"

static void missing_library(void **state)
{
    (void)state;
    struct sp_virt_list list;
    struct sp_err err;
    assert_int_equal(sp_virt_list_vms("libvirt-not-here.so.0", "test:///default", &list, &err), -1);
    assert_non_null(strstr(err.msg, "libvirt's client library (libvirt-not-here.so.0) is not "
                                    "installed: dlopen: "));
    assert_int_equal(list.n, 0);
    /* A library without libvirt's functions: the first one missing is named. */
    assert_int_equal(sp_virt_list_vms("libc.so.6", "test:///default", &list, &err), -1);
    assert_string_equal(err.msg, "libvirt's client library (libc.so.6) has no "
                                 "virConnectOpenReadOnly: too old for this tool");
}

static void test_driver_listed(void **state)
{
    (void)state;
    struct sp_virt_list list;
    struct sp_err err;
    if (sp_virt_list_vms(SP_VIRT_LIBRARY, "test:///default", &list, &err) < 0)
        fail_msg("%s", err.msg);
    assert_string_equal(list.uri, "test:///default");
    assert_int_equal(list.n, 1); /* the test driver's one domain */
    assert_string_equal(list.vms[0].name, "test");
    assert_int_equal(strlen(list.vms[0].uuid), 36);
    assert_null(list.vms[0].title);
    assert_string_equal(list.vms[0].state, "running");
    sp_virt_list_free(&list);
}

static void down_uri(void **state)
{
    (void)state;
    struct sp_virt_list list;
    struct sp_err err;
    const char *uri = "test+unix:///default?socket=/nonexistent/libvirt-sock";
    assert_int_equal(sp_virt_list_vms(SP_VIRT_LIBRARY, uri, &list, &err), -1);
    assert_non_null(strstr(err.msg, "cannot connect to test+unix:///default?socket=/nonexistent"));
    assert_null(list.vms);
}

static void found_by_name_uuid_title(void **state)
{
    (void)state;
    struct sp_virt_vm vms[] = {
        {.name = "0b6a1e43-3c39-4d0c-9b47-2f0c8d1e5a77",
         .uuid = "0b6a1e43-3c39-4d0c-9b47-2f0c8d1e5a77",
         .title = "Living room"},
        {.name = "plain", .uuid = "11111111-2222-3333-4444-555555555555", .title = NULL},
        {.name = "Living room", .uuid = "66666666-2222-3333-4444-555555555555", .title = "x"},
    };
    struct sp_virt_list list = {.vms = vms, .n = 3};
    assert_ptr_equal(sp_virt_find(&list, "plain"), &vms[1]);
    assert_ptr_equal(sp_virt_find(&list, "11111111222233334444555555555555"), &vms[1]);
    assert_ptr_equal(sp_virt_find(&list, "0B6A1E43-3C39-4D0C-9B47-2F0C8D1E5A77"), &vms[0]);
    assert_ptr_equal(sp_virt_find(&list, "x"), &vms[2]);
    /* A name wins over another VM's title. */
    assert_ptr_equal(sp_virt_find(&list, "Living room"), &vms[2]);
    assert_null(sp_virt_find(&list, "living room"));
    assert_null(sp_virt_find(&list, "nobody"));
}

static void uri_choice(void **state)
{
    (void)state;
    unsetenv("LIBVIRT_DEFAULT_URI");
    assert_string_equal(sp_virt_uri_choose(NULL), "qemu:///system");
    setenv("LIBVIRT_DEFAULT_URI", "test:///default", 1);
    assert_string_equal(sp_virt_uri_choose(NULL), "test:///default");
    assert_string_equal(sp_virt_uri_choose("qemu:///session"), "qemu:///session");
    unsetenv("LIBVIRT_DEFAULT_URI");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(missing_library),
        cmocka_unit_test(test_driver_listed),
        cmocka_unit_test(down_uri),
        cmocka_unit_test(found_by_name_uuid_title),
        cmocka_unit_test(uri_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
