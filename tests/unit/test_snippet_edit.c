/* snippet_edit: devices added to and taken out of a hand-written snippet,
 * every other byte kept, and the files it refuses to rewrite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../config/snippet.h"
#include "../../config/snippet_edit.h"

#define PATH "/cfg/vm.d/win.xml"

static struct sp_snippet_edit *open_text(const char *text)
{
    struct sp_snippet_edit *e = NULL;
    struct sp_err err;
    assert_int_equal(sp_snippet_edit_open(PATH, text, strlen(text), &e, &err), 0);
    assert_int_equal(sp_snippet_edit_round_trip(e, &err), 0);
    return e;
}

static struct sp_pci_addr addr_of(const char *text)
{
    struct sp_pci_addr a;
    assert_int_equal(sp_pci_addr_parse(text, &a, NULL), 0);
    return a;
}

static struct sp_dev_spec pci_spec(const char *addr, uint16_t vendor, uint16_t device)
{
    struct sp_dev_spec s = {.kind = SP_SPEC_PCI, .has_addr = 1, .has_ids = 1};
    s.addr = addr_of(addr);
    s.ids.vendor = vendor;
    s.ids.device = device;
    return s;
}

/* The text now equals want, byte for byte, and parses as a snippet. */
static void text_is(struct sp_snippet_edit *e, const char *want)
{
    struct sp_err err;
    size_t len = 0;
    char *text = sp_snippet_edit_text(e, &len, &err);
    assert_non_null(text);
    assert_string_equal(text, want);
    assert_int_equal(len, strlen(want));
    struct sp_snippet s;
    assert_int_equal(sp_snippet_parse(PATH, text, len, &s), 0);
    assert_null(s.error);
    sp_snippet_free(&s);
    free(text);
}

static void add_keeps_comments_and_odd_indentation(void **state)
{
    (void)state;
    struct sp_snippet_edit *e = open_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        "<!-- the living room PC: café -->\n"
        "<passthrough vm=\"win11\">\n"
        "\t <!-- the iGPU -->\n"
        "\t <pci address=\"08:00.0\" vendor=\"1002\" product=\"1638\"/>  <!-- its note -->\n"
        "\n"
        "</passthrough>\n");
    struct sp_dev_spec audio = pci_spec("08:00.1", 0x1002, 0x1637);
    struct sp_err err;
    assert_int_equal(sp_snippet_edit_add(e, &audio, &err), 0);
    text_is(e, "<?xml version='1.0' encoding='UTF-8'?>\n"
               "<!-- the living room PC: café -->\n"
               "<passthrough vm=\"win11\">\n"
               "\t <!-- the iGPU -->\n"
               "\t <pci address=\"08:00.0\" vendor=\"1002\" product=\"1638\"/>  <!-- its note -->\n"
               "\t <pci address=\"0000:08:00.1\" vendor=\"1002\" product=\"1637\"/>\n"
               "\n"
               "</passthrough>\n");
    assert_int_equal(sp_snippet_edit_devices(e), 2);
    sp_snippet_edit_free(e);
}

static void add_after_cdata_and_raw_hostdev(void **state)
{
    (void)state;
    struct sp_snippet_edit *e = open_text(
        "<passthrough vm=\"nas\">\n"
        "    <hostdev mode=\"subsystem\" type=\"pci\" managed=\"no\">\n"
        "      <source><address domain=\"0x0000\" bus=\"0x08\" slot=\"0x00\" function=\"0x6\"/></source>\n"
        "      <!-- <![CDATA[ a note ]]> -->\n"
        "    </hostdev>\n"
        "    <pci vendor=\"1022\" product=\"1639\"><![CDATA[ x < y ]]></pci>\n"
        "</passthrough>\n");
    struct sp_dev_spec tpu = pci_spec("0000:06:00.0", 0x1ac1, 0x089a);
    tpu.rom = "coral&<rom>.bin";
    tpu.all_functions = 1;
    struct sp_err err;
    assert_true(sp_snippet_edit_has(e, &(struct sp_pci_addr){0, 8, 0, 6}));
    assert_int_equal(sp_snippet_edit_add(e, &tpu, &err), 0);
    text_is(e, "<passthrough vm=\"nas\">\n"
               "    <hostdev mode=\"subsystem\" type=\"pci\" managed=\"no\">\n"
               "      <source><address domain=\"0x0000\" bus=\"0x08\" slot=\"0x00\" function=\"0x6\"/></source>\n"
               "      <!-- <![CDATA[ a note ]]> -->\n"
               "    </hostdev>\n"
               "    <pci vendor=\"1022\" product=\"1639\"><![CDATA[ x < y ]]></pci>\n"
               "    <pci address=\"0000:06:00.0\" vendor=\"1ac1\" product=\"089a\" "
               "functions=\"all\" rom=\"coral&amp;&lt;rom&gt;.bin\"/>\n"
               "</passthrough>\n");
    /* A raw <hostdev> is a device too: counted, and taken out by address. */
    assert_int_equal(sp_snippet_edit_devices(e), 3);
    assert_int_equal(sp_snippet_edit_remove(e, &(struct sp_pci_addr){0, 8, 0, 6}, &err), 0);
    assert_int_equal(sp_snippet_edit_devices(e), 2);
    sp_snippet_edit_free(e);
}

static void add_to_an_empty_passthrough(void **state)
{
    (void)state;
    struct sp_snippet_edit *e = open_text("<passthrough vm=\"x\"/>\n");
    struct sp_dev_spec nic = pci_spec("05:00.0", 0x8086, 0x10fb);
    struct sp_err err;
    assert_int_equal(sp_snippet_edit_add(e, &nic, &err), 0);
    text_is(e, "<passthrough vm=\"x\">\n"
               "  <pci address=\"0000:05:00.0\" vendor=\"8086\" product=\"10fb\"/>\n"
               "</passthrough>\n");
    sp_snippet_edit_free(e);
}

static void remove_the_middle_device(void **state)
{
    (void)state;
    struct sp_snippet_edit *e = open_text(
        "<passthrough vm=\"win11\" bind=\"no\">\n"
        "  <pci address=\"08:00.0\" vendor=\"1002\" product=\"1638\"/>\n"
        "\n"
        "  <!-- between the devices -->\n"
        "  <pci address=\"0000:08:00.1\" vendor=\"1002\" product=\"1637\"/>\n"
        "  <pci address=\"05:00.0\" vendor=\"8086\" product=\"10fb\"/>\n"
        "</passthrough>\n");
    struct sp_pci_addr audio = addr_of("08:00.1");
    struct sp_err err;
    assert_int_equal(sp_snippet_edit_remove(e, &audio, &err), 0);
    assert_false(sp_snippet_edit_has(e, &audio));
    text_is(e, "<passthrough vm=\"win11\" bind=\"no\">\n"
               "  <pci address=\"08:00.0\" vendor=\"1002\" product=\"1638\"/>\n"
               "\n"
               "  <!-- between the devices -->\n"
               "  <pci address=\"05:00.0\" vendor=\"8086\" product=\"10fb\"/>\n"
               "</passthrough>\n");
    assert_int_equal(sp_snippet_edit_devices(e), 2);
    /* What is not there is an error naming it and the file. */
    assert_int_equal(sp_snippet_edit_remove(e, &audio, &err), -1);
    assert_string_equal(err.msg, PATH ": no device 0000:08:00.1 in it");
    sp_snippet_edit_free(e);
}

static void head_attributes(void **state)
{
    (void)state;
    struct sp_snippet_edit *e = open_text("<passthrough vm=\"x\">\n"
                                          "  <pci address=\"05:00.0\"/>\n"
                                          "</passthrough>\n");
    struct sp_err err;
    assert_null(sp_snippet_edit_head(e, "bind"));
    assert_int_equal(sp_snippet_edit_set_head(e, "release", "yes", &err), 0);
    char *release = sp_snippet_edit_head(e, "release");
    assert_string_equal(release, "yes");
    free(release);
    text_is(e, "<passthrough vm=\"x\" release=\"yes\">\n"
               "  <pci address=\"05:00.0\"/>\n"
               "</passthrough>\n");
    sp_snippet_edit_free(e);
}

/* Each of these reads fine but would come back changed: the edit is
 * refused, naming the file and the first line that would change. */
static void refuses_what_does_not_round_trip(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int line;
    } cases[] = {
        {"<passthrough vm='x'>\n</passthrough>\n", 1},
        {"<passthrough vm=\"x\">\n  <pci   address=\"05:00.0\"/>\n</passthrough>\n", 2},
        {"<passthrough vm=\"x\">\n  <pci address=\"05:00.0\"></pci>\n</passthrough>\n", 2},
        {"<passthrough vm=\"x\">\n  <pci address=\"&#x30;5:00.0\"/>\n</passthrough>\n", 2},
        {"<passthrough vm=\"x\">\n</passthrough>", 2},
        {"<!-- a --> <passthrough vm=\"x\">\n</passthrough>\n", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sp_snippet_edit *e = NULL;
        struct sp_err err;
        assert_int_equal(sp_snippet_edit_open(PATH, cases[i].text, strlen(cases[i].text), &e,
                                              &err), 0);
        assert_int_equal(sp_snippet_edit_round_trip(e, &err), -1);
        char where[64];
        snprintf(where, sizeof(where), PATH ":%d: rewriting this file would change its "
                 "formatting", cases[i].line);
        assert_non_null(strstr(err.msg, where));
        sp_snippet_edit_free(e);
    }
}

static void refuses_what_is_not_a_snippet(void **state)
{
    (void)state;
    struct sp_snippet_edit *e = NULL;
    struct sp_err err;
    assert_int_equal(sp_snippet_edit_open(PATH, "<domain/>", 9, &e, &err), -1);
    assert_string_equal(err.msg, PATH ": its root element is not <passthrough>");
    assert_int_equal(sp_snippet_edit_open(PATH, "<passthrough", 12, &e, &err), -1);
    assert_non_null(strstr(err.msg, PATH ":1:"));
    assert_null(e);
}

static void safe_file_names(void **state)
{
    (void)state;
    char name[80];
    sp_snippet_file_name("Living room PC", name, sizeof(name));
    assert_string_equal(name, "Living-room-PC.xml");
    sp_snippet_file_name("../../etc/passwd", name, sizeof(name));
    assert_string_equal(name, "-.-..-etc-passwd.xml");
    sp_snippet_file_name(".hidden", name, sizeof(name));
    assert_string_equal(name, "-hidden.xml");
    sp_snippet_file_name("", name, sizeof(name));
    assert_string_equal(name, "vm.xml");
    sp_snippet_file_name("591328d9-88d5-42aa-9551-bb793c3330cf", name, sizeof(name));
    assert_string_equal(name, "591328d9-88d5-42aa-9551-bb793c3330cf.xml");
    char long_vm[200];
    memset(long_vm, 'a', sizeof(long_vm) - 1);
    long_vm[sizeof(long_vm) - 1] = '\0';
    sp_snippet_file_name(long_vm, name, sizeof(name));
    assert_int_equal(strlen(name), 64 + 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_keeps_comments_and_odd_indentation),
        cmocka_unit_test(add_after_cdata_and_raw_hostdev),
        cmocka_unit_test(add_to_an_empty_passthrough),
        cmocka_unit_test(remove_the_middle_device),
        cmocka_unit_test(head_attributes),
        cmocka_unit_test(refuses_what_does_not_round_trip),
        cmocka_unit_test(refuses_what_is_not_a_snippet),
        cmocka_unit_test(safe_file_names),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
