/* snippet: the <passthrough> format, its specs and its error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../config/snippet.h"
#include "xmlmem.h"

static void parse(const char *text, struct sp_snippet *s)
{
    assert_int_equal(sp_snippet_parse("/cfg/vm.d/a.xml", text, strlen(text), s), 0);
}

static void reads_pci_and_raw_hostdev(void **state)
{
    (void)state;
    struct sp_snippet s;
    parse("<passthrough vm=\"win11\">\n"
          "  <pci address=\"08:00.0\" vendor=\"1002\" product=\"1638\" rom=\"v.bin\"/>\n"
          "  <!-- comment -->\n"
          "  <pci vendor=\"1022\" product=\"1639\"/>\n"
          "  <hostdev mode=\"subsystem\" type=\"pci\" managed=\"no\">\n"
          "    <source><address domain=\"0x0000\" bus=\"0x08\" slot=\"0x00\" function=\"0x6\"/></source>\n"
          "  </hostdev>\n"
          "</passthrough>\n", &s);
    assert_null(s.error);
    assert_string_equal(s.vm, "win11");
    assert_int_equal(s.n_specs, 3);
    assert_int_equal(s.specs[0].kind, SP_SPEC_PCI);
    assert_true(s.specs[0].has_addr && s.specs[0].has_ids);
    assert_int_equal(s.specs[0].addr.bus, 8);
    assert_int_equal(s.specs[0].ids.vendor, 0x1002);
    assert_string_equal(s.specs[0].rom, "v.bin");
    assert_int_equal(s.specs[0].line, 2);
    assert_int_equal(s.specs[0].bind, 1);
    assert_false(s.specs[1].has_addr);
    assert_int_equal(s.specs[1].ids.device, 0x1639);
    assert_int_equal(s.specs[2].kind, SP_SPEC_RAW);
    assert_int_equal(s.specs[2].addr.function, 6);
    assert_non_null(strstr(s.specs[2].raw_xml, "function=\"0x6\""));
    assert_string_equal(s.specs[2].file, "/cfg/vm.d/a.xml");
    sp_snippet_free(&s);
}

static void bind_no_and_uuid_key(void **state)
{
    (void)state;
    struct sp_snippet s;
    parse("<passthrough vm='591328D9-88D5-42AA-9551-BB793C3330CF' bind='no'>"
          "<pci address='0000:08:00.0'/></passthrough>", &s);
    assert_null(s.error);
    assert_string_equal(s.vm, "591328d9-88d5-42aa-9551-bb793c3330cf");
    assert_int_equal(s.specs[0].bind, 0);
    sp_snippet_free(&s);
}

/* video= and hypervisor= on <passthrough> reach every spec of it, as bind=
 * does; rombar= belongs to its <pci>. */
static void domain_attributes_and_rombar(void **state)
{
    (void)state;
    struct sp_snippet s;
    parse("<passthrough vm='win' video='none' hypervisor='hidden'>"
          "<pci address='08:00.0' rombar='off'/><pci address='08:00.1'/>"
          "<hostdev type='usb'><source><vendor id='0x046d'/><product id='0xc52b'/></source>"
          "</hostdev></passthrough>", &s);
    assert_null(s.error);
    assert_int_equal(s.n_specs, 3);
    for (size_t i = 0; i < s.n_specs; i++) {
        assert_int_equal(s.specs[i].video_none, 1);
        assert_int_equal(s.specs[i].hide_hypervisor, 1);
    }
    assert_int_equal(s.specs[0].rom_bar_off, 1);
    assert_int_equal(s.specs[1].rom_bar_off, 0);
    sp_snippet_free(&s);
    parse("<passthrough vm='win' hypervisor='hidden'><pci address='08:00.0'/></passthrough>", &s);
    assert_int_equal(s.specs[0].video_none, 0);
    assert_int_equal(s.specs[0].hide_hypervisor, 1);
    sp_snippet_free(&s);
}

static void uuid_normalization(void **state)
{
    (void)state;
    char *k = sp_vm_key_normalize("591328D988D542AA9551BB793C3330CF");
    assert_string_equal(k, "591328d9-88d5-42aa-9551-bb793c3330cf");
    free(k);
    k = sp_vm_key_normalize("My VM");
    assert_string_equal(k, "My VM");
    free(k);
    k = sp_vm_key_normalize("deadbeef");
    assert_string_equal(k, "deadbeef");
    free(k);
}

static void expect_error(const char *text, const char *message, const char *vm)
{
    struct sp_snippet s;
    parse(text, &s);
    assert_non_null(s.error);
    if (!strstr(s.error, message))
        fail_msg("expected '%s' in '%s'", message, s.error);
    assert_int_equal(s.n_specs, 0);
    if (vm)
        assert_string_equal(s.vm, vm);
    else
        assert_null(s.vm);
    sp_snippet_free(&s);
}

static void errors_name_file_line_and_cause(void **state)
{
    (void)state;
    expect_error("<passthrough vm='a'>\n<pci address='zz:00.0'/>\n</passthrough>",
                 "/cfg/vm.d/a.xml:2: invalid PCI address 'zz:00.0'", "a");
    expect_error("<passthrough vm='a'>\n\n<usb/>\n</passthrough>",
                 "a.xml:3: unknown element <usb> in <passthrough>", "a");
    expect_error("<passthrough vm='a'><pci vendor='1002'/></passthrough>",
                 "needs both vendor and product", "a");
    expect_error("<passthrough vm='a'><pci/></passthrough>", "needs an address", "a");
    expect_error("<passthrough vm='a'><pci address='08:00.0' subsystem='1043'/></passthrough>",
                 "subsystem='1043' is not VVVV:DDDD", "a");
    expect_error("<passthrough vm='a'><pci address='08:00.0' functions='some'/></passthrough>",
                 "functions='some': the only value is 'all'", "a");
    expect_error("<passthrough vm='a'><pci vendor='1002' product='1638' functions='all'/>"
                 "</passthrough>", "functions='all' needs an address", "a");
    expect_error("<passthrough vm='a'><pci address='08:00.0' colour='red'/></passthrough>",
                 "unknown attribute 'colour' on <pci>", "a");
    expect_error("<passthrough vm='a'><pci address='08:00.0' vendor='12345' product='1'/></passthrough>",
                 "vendor='12345' is not a 4-digit hex PCI ID", "a");
    expect_error("<passthrough vm='a' bind='maybe'/>", "bind must be 'yes' or 'no', not 'maybe'", "a");
    expect_error("<passthrough vm='a'>text</passthrough>", "unexpected text", "a");
    expect_error("<passthrough vm='a' release='later'/>", "release must be 'yes' or 'no'", "a");
    expect_error("<passthrough vm='a' bind='no' release='yes'/>", "release='yes' needs the devices "
                 "bound", "a");
    expect_error("<passthrough><pci address='08:00.0'/></passthrough>", "needs a non-empty vm", NULL);
    expect_error("<devices vm='a'/>", "root element is <devices>", NULL);
    expect_error("<passthrough vm='a' xmlns:q='urn:q'>\n<hostdev type='pci'><q:x/></hostdev>"
                 "</passthrough>", "a.xml:2: namespaced content in <hostdev> (<x>)", "a");
    expect_error("<passthrough vm='a'><pci address='08:00.0' vendor='12345' product='1'/></passthrough>",
                 "vendor='12345'", "a");
    expect_error("<passthrough vm='a'><hostdev type='pci'><source><address bus='0x100' slot='0'/>"
                 "</source></hostdev></passthrough>", "source <address> needs valid", "a");
    expect_error("<passthrough vm='a'>\n<pci address='08:00.0' rom='v.bin' rombar='off'/>"
                 "</passthrough>", "/cfg/vm.d/a.xml:2: rombar='off' and rom='v.bin' contradict "
                 "each other: the guest reads a ROM file through the ROM BAR that rombar='off' "
                 "hides", "a");
    expect_error("<passthrough vm='a'><pci address='08:00.0' rombar='on'/></passthrough>",
                 "rombar='on': the only value is 'off'", "a");
    expect_error("<passthrough vm='a' video='vga'><pci address='08:00.0'/></passthrough>",
                 "a.xml:1: video='vga': the only value is 'none'", "a");
    expect_error("<passthrough vm='a' hypervisor='shown'><pci address='08:00.0'/></passthrough>",
                 "hypervisor='shown': the only value is 'hidden'", "a");
    expect_error("<passthrough vm='a' video='none'/>", "a.xml:1: video='none' on a <passthrough> "
                 "that passes no device: it goes with the devices it is for (the GPU, say)", "a");
    expect_error("<passthrough vm='a' hypervisor='hidden'>\n</passthrough>",
                 "hypervisor='hidden' on a <passthrough> that passes no device", "a");
}

static void syntax_error_keeps_the_vm_it_names(void **state)
{
    (void)state;
    expect_error("<passthrough vm='win11'>\n  <pci address='08:00.0'>\n</passthrough>\n",
                 "/cfg/vm.d/a.xml:3:", "win11");
    expect_error("not xml at all", "a.xml:1:", NULL);
    expect_error("", "a.xml", NULL);
}

/* Regression: a DOCTYPE's entities were expanded where the snippet used
 * them, under the config lock (a 1 MB snippet held it for minutes). A
 * DOCTYPE is now refused before any of it is read; the vm it names is kept
 * when written out, and never read through an entity. */
static void doctype_is_refused_before_its_entities(void **state)
{
    (void)state;
    char *dtd = tu_entity_bomb_dtd("passthrough");
    const char *bodies[] = {"<passthrough vm='" TU_BOMB_REFS "'><pci address='08:00.0'/>"
                            "</passthrough>",
                            "<passthrough vm='win11'>" TU_BOMB_REFS "<pci address='08:00.0'/>"
                            "</passthrough>",
                            "<passthrough vm='win11'><pci address='08:00.0' rom='" TU_BOMB_REFS
                            "'/></passthrough>"};
    const char *vms[] = {NULL, "win11", "win11"};
    for (size_t i = 0; i < 3; i++) {
        char *text = NULL;
        assert_true(asprintf(&text, "%s\n%s", dtd, bodies[i]) > 0);
        tu_xml_mem_reset(1 << 20);
        struct sp_snippet s;
        parse(text, &s);
        size_t peak = tu_xml_mem_peak(), refused = tu_xml_mem_refused();
        tu_xml_mem_reset((size_t)-1);
        if (refused || peak > 256 * 1024)
            fail_msg("case %zu: libxml2 held %zu bytes at the peak, %zu allocations over 1 MiB "
                     "refused", i, peak, refused);
        sp_snippet_free(&s);
        expect_error(text, "/cfg/vm.d/a.xml:1: a DOCTYPE is not supported", vms[i]);
        free(text);
    }
    free(dtd);
    expect_error("<!DOCTYPE passthrough>\n<passthrough vm='Tom &amp; Jerry'/>",
                 "a.xml:1: a DOCTYPE is not supported", "Tom & Jerry");
}

/* libxml2's own messages are one line each ("...encoding !\nBytes: ..."),
 * with file and line. */
static void libxml2_messages_are_one_line(void **state)
{
    (void)state;
    expect_error("<passthrough vm='a'>\n<pci address='08:00.0'/>\xff\xfe</passthrough>",
                 "/cfg/vm.d/a.xml:2: Input is not proper UTF-8, indicate encoding ! Bytes: 0xFF",
                 "a");
    struct sp_snippet s;
    parse("<passthrough vm='a'>\t\n<pci\taddress='08:00.0'>\n</passthrough>", &s);
    assert_non_null(s.error);
    assert_null(strpbrk(s.error, "\n\t\r"));
    sp_snippet_free(&s);
}

/* A broken snippet still refuses the VM it names, '&' and all. */
static void salvaged_vm_keeps_predefined_entities(void **state)
{
    (void)state;
    expect_error("<passthrough vm='Tom &amp; Jerry &#x263A;'>\n<pci address='08:00.0'>\n"
                 "</passthrough>", "a.xml:3:", "Tom & Jerry \xe2\x98\xba");
}

int main(void)
{
    tu_xml_mem_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_pci_and_raw_hostdev),
        cmocka_unit_test(bind_no_and_uuid_key),
        cmocka_unit_test(domain_attributes_and_rombar),
        cmocka_unit_test(uuid_normalization),
        cmocka_unit_test(errors_name_file_line_and_cause),
        cmocka_unit_test(syntax_error_keeps_the_vm_it_names),
        cmocka_unit_test(doctype_is_refused_before_its_entities),
        cmocka_unit_test(libxml2_messages_are_one_line),
        cmocka_unit_test(salvaged_vm_keeps_predefined_entities),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
