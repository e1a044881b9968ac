/* xmlpatch: hostdevs merged into a domain: guest slots, multifunction,
 * q35 root ports, idempotence, raw hostdevs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/xmlutil.h"
#include "../../xmlpatch/domain.h"
#include "../../xmlpatch/xmlpatch.h"
#include "testutil.h"

#define I440FX "<domain type='kvm'><name>v</name><os><type machine='pc-i440fx-2.2'>hvm</type></os>"
#define Q35 "<domain type='kvm'><name>v</name><os><type machine='pc-q35-7.2'>hvm</type></os>"

static struct sp_patch_dev dev(unsigned bus, unsigned slot, unsigned fn, const char *rom)
{
    struct sp_patch_dev d = {.has_host = 1, .host = {0, bus, slot, fn}, .rom = rom};
    return d;
}

static void adds_hostdev_with_rom_and_top_slot(void **state)
{
    (void)state;
    struct sp_patch_dev d = dev(8, 0, 0, "/roms/v.bin");
    struct sp_patch_report rep;
    char *out = tu_patch(I440FX "<devices/></domain>", &d, 1, &rep);
    assert_int_equal(rep.n_added, 1);
    assert_non_null(strstr(out, "<hostdev mode=\"subsystem\" type=\"pci\" managed=\"no\">"
                                "<source><address domain=\"0x0000\" bus=\"0x08\" slot=\"0x00\" "
                                "function=\"0x0\"/></source><rom file=\"/roms/v.bin\"/>"
                                "<alias name=\"ua-sp-0000-08-00-0\"/>"
                                "<address type=\"pci\" domain=\"0x0000\" bus=\"0x00\" "
                                "slot=\"0x1f\" function=\"0x0\"/></hostdev>"));
    free(out);
    sp_patch_report_free(&rep);
}

static void functions_of_one_slot_share_a_guest_slot(void **state)
{
    (void)state;
    /* Given out of order: guest functions follow host order. */
    struct sp_patch_dev d[] = {dev(8, 0, 6, NULL), dev(3, 0, 0, NULL), dev(8, 0, 0, NULL),
                               dev(8, 0, 1, NULL)};
    struct sp_patch_report rep;
    char *out = tu_patch(I440FX "<devices/></domain>", d, 4, &rep);
    assert_int_equal(rep.n_added, 4);
    assert_non_null(strstr(rep.added[0], "<alias name=\"ua-sp-0000-08-00-0\"/><address type=\"pci\" "
                                         "domain=\"0x0000\" bus=\"0x00\" slot=\"0x1f\" "
                                         "function=\"0x0\" multifunction=\"on\"/>"));
    assert_non_null(strstr(rep.added[1], "<alias name=\"ua-sp-0000-08-00-1\"/><address type=\"pci\" "
                                         "domain=\"0x0000\" bus=\"0x00\" slot=\"0x1f\" "
                                         "function=\"0x1\"/>"));
    assert_non_null(strstr(rep.added[2], "<alias name=\"ua-sp-0000-08-00-6\"/><address type=\"pci\" "
                                         "domain=\"0x0000\" bus=\"0x00\" slot=\"0x1f\" "
                                         "function=\"0x2\"/>"));
    /* A different host slot never shares: the USB controller gets 0x1e. */
    assert_non_null(strstr(rep.added[3], "bus=\"0x03\""));
    assert_non_null(strstr(rep.added[3], "slot=\"0x1e\" function=\"0x0\"/>"));
    assert_int_equal(tu_count(out, "multifunction"), 1);
    free(out);
    sp_patch_report_free(&rep);
}

static void q35_gets_one_root_port_per_host_slot(void **state)
{
    (void)state;
    struct sp_patch_dev d[] = {dev(8, 0, 0, NULL), dev(8, 0, 1, NULL), dev(5, 0, 0, NULL)};
    struct sp_patch_report rep;
    char *out = tu_patch(Q35 "<devices><controller type='pci' index='0' model='pcie-root'/>"
                             "<controller type='pci' index='1' model='pcie-root-port'>"
                             "<address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>"
                             "</controller></devices></domain>", d, 3, &rep);
    assert_int_equal(rep.n_added, 5);
    assert_string_equal(rep.added[0], "<controller type=\"pci\" index=\"2\" model=\"pcie-root-port\">"
                                      "<alias name=\"ua-sp-port-0000-08-00\"/>"
                                      "<address type=\"pci\" domain=\"0x0000\" bus=\"0x00\" "
                                      "slot=\"0x1c\" function=\"0x0\"/></controller>");
    assert_non_null(strstr(rep.added[1], "<address type=\"pci\" domain=\"0x0000\" bus=\"0x02\" "
                                         "slot=\"0x00\" function=\"0x0\" multifunction=\"on\"/>"));
    assert_non_null(strstr(rep.added[2], "bus=\"0x02\" slot=\"0x00\" function=\"0x1\"/>"));
    assert_non_null(strstr(rep.added[3], "index=\"3\""));
    assert_non_null(strstr(rep.added[3], "slot=\"0x1b\""));
    assert_non_null(strstr(rep.added[4], "bus=\"0x03\" slot=\"0x00\" function=\"0x0\"/>"));
    free(out);
    sp_patch_report_free(&rep);
}

static void second_pass_adds_nothing(void **state)
{
    (void)state;
    struct sp_patch_dev d[] = {dev(8, 0, 0, "/r.bin"), dev(8, 0, 1, NULL), dev(3, 0, 0, NULL)};
    struct sp_patch_report rep;
    char *once = tu_patch(Q35 "<devices/></domain>", d, 3, &rep);
    sp_patch_report_free(&rep);
    char *twice = tu_patch(once, d, 3, &rep);
    assert_int_equal(rep.n_added, 0);
    assert_int_equal(rep.n_present, 3);
    assert_string_equal(once, twice);
    free(once);
    free(twice);
    sp_patch_report_free(&rep);
}

static void missing_function_joins_its_present_sibling(void **state)
{
    (void)state;
    struct sp_patch_dev d[] = {dev(8, 0, 0, NULL), dev(8, 0, 1, NULL)};
    struct sp_patch_report rep;
    char *out = tu_patch(I440FX "<devices><hostdev mode='subsystem' type='pci'><source>"
                                "<address domain='0' bus='8' slot='0' function='0'/></source>"
                                "<address type='pci' domain='0' bus='0' slot='9' function='0' "
                                "multifunction='on'/></hostdev></devices></domain>", d, 2, &rep);
    assert_int_equal(rep.n_added, 1);
    assert_int_equal(rep.n_present, 1);
    assert_non_null(strstr(rep.added[0], "bus=\"0x00\" slot=\"0x09\" function=\"0x1\"/>"));
    free(out);
    sp_patch_report_free(&rep);
}

/* Regression: joining a slot whose function 0 lacked multifunction='on'
 * left the new function invisible to the guest. */
static void joining_a_slot_marks_function0_multifunction(void **state)
{
    (void)state;
    struct sp_patch_dev d[] = {dev(8, 0, 0, NULL), dev(8, 0, 1, NULL)};
    struct sp_patch_report rep;
    char *out = tu_patch(I440FX "<devices><hostdev mode='subsystem' type='pci'><source>"
                                "<address domain='0' bus='8' slot='0' function='1'/></source>"
                                "<address type='pci' domain='0' bus='0' slot='5' function='0'/>"
                                "</hostdev></devices></domain>", d, 2, &rep);
    assert_int_equal(rep.n_added, 1);
    assert_non_null(strstr(out, "<address type=\"pci\" domain=\"0\" bus=\"0\" slot=\"5\" "
                                "function=\"0\" multifunction=\"on\"/>"));
    assert_non_null(strstr(rep.added[0], "bus=\"0x00\" slot=\"0x05\" function=\"0x1\"/>"));
    free(out);
    sp_patch_report_free(&rep);
}

/* What xmlpatch adds, it can take out again: back to the same bytes. */
static void strip_takes_out_exactly_what_was_added(void **state)
{
    (void)state;
    const char *text = Q35 "\n  <devices>\n    <disk type='file'/>\n  </devices>\n</domain>\n";
    struct sp_patch_dev d[] = {dev(8, 0, 0, "/r.bin"), dev(8, 0, 1, NULL), dev(5, 0, 0, NULL)};
    struct sp_patch_report rep;
    struct sp_err err;
    char *patched = tu_patch(text, d, 3, &rep);
    xmlDocPtr doc = sp_domain_parse(patched, strlen(patched), &err);
    assert_int_equal(sp_xmlpatch_strip(doc, &err), 5); /* 3 hostdevs, 2 root ports */
    char *out;
    size_t len;
    assert_int_equal(sp_domain_serialize(doc, patched, strlen(patched), &out, &len, &err), 0);
    assert_string_equal(out, "<domain type=\"kvm\"><name>v</name><os><type machine=\"pc-q35-7.2\">"
                             "hvm</type></os>\n  <devices>\n    <disk type=\"file\"/>\n"
                             "  </devices>\n</domain>\n");
    free(out);
    free(patched);
    xmlFreeDoc(doc);
    sp_patch_report_free(&rep);
}

static void creates_devices_when_absent(void **state)
{
    (void)state;
    struct sp_patch_dev d = dev(8, 0, 0, NULL);
    struct sp_patch_report rep;
    char *out = tu_patch("<domain type='kvm'>\n  <name>v</name>\n</domain>\n", &d, 1, &rep);
    assert_non_null(strstr(out, "  <name>v</name>\n  <devices>\n    <hostdev "));
    assert_non_null(strstr(out, "</hostdev>\n  </devices>\n</domain>\n"));
    free(out);
    sp_patch_report_free(&rep);
}

static void raw_hostdev_is_copied_and_keeps_its_address(void **state)
{
    (void)state;
    struct sp_patch_dev d[] = {
        {.has_host = 1, .host = {0, 8, 0, 6},
         .raw_xml = "<hostdev mode='subsystem' type='pci' managed='yes'><source><address "
                    "domain='0x0000' bus='0x08' slot='0x00' function='0x6'/></source>"
                    "<address type='pci' domain='0x0000' bus='0x00' slot='0x1f' function='0x0'/>"
                    "<driver name='vfio'/></hostdev>"},
        dev(5, 0, 0, NULL),
    };
    struct sp_patch_report rep;
    char *out = tu_patch(I440FX "<devices/></domain>", d, 2, &rep);
    assert_int_equal(rep.n_added, 2);
    assert_non_null(strstr(rep.added[0], "managed=\"yes\""));
    assert_non_null(strstr(rep.added[0], "<driver name=\"vfio\"/>"));
    /* 0x1f belongs to the raw hostdev, so the NIC gets 0x1e. */
    assert_non_null(strstr(rep.added[1], "slot=\"0x1e\""));
    free(out);
    sp_patch_report_free(&rep);
}

static void interface_hostdev_counts_as_present(void **state)
{
    (void)state;
    struct sp_patch_dev d = dev(5, 0, 0, NULL);
    struct sp_patch_report rep;
    char *out = tu_patch(I440FX "<devices><interface type='hostdev'><source><address type='pci' "
                                "domain='0' bus='5' slot='0' function='0'/></source></interface>"
                                "</devices></domain>", &d, 1, &rep);
    assert_int_equal(rep.n_added, 0);
    assert_int_equal(rep.n_present, 1);
    free(out);
    sp_patch_report_free(&rep);
}

static void full_bus_refuses(void **state)
{
    (void)state;
    char text[8192] = I440FX "<devices>";
    for (unsigned s = 3; s <= 0x1f; s++) {
        char addr[160];
        snprintf(addr, sizeof(addr), "<interface><address type='pci' domain='0' bus='0' "
                                     "slot='%u' function='0'/></interface>", s);
        strcat(text, addr);
    }
    strcat(text, "</devices></domain>");
    struct sp_err err;
    xmlDocPtr doc = sp_domain_parse(text, strlen(text), &err);
    struct sp_patch_dev d = dev(8, 0, 0, NULL);
    struct sp_patch_report rep;
    assert_int_equal(sp_xmlpatch_apply(doc, &d, 1, &rep, &err), -1);
    assert_non_null(strstr(err.msg, "no free slot left on guest PCI bus 0"));
    sp_patch_report_free(&rep);
    xmlFreeDoc(doc);
}

/* The identity comes from a stream and says what the tree says:
 * predefined entities, character references, CDATA and nested text count,
 * comments do not; a namespaced or nested <name>, or a second one, is not
 * the VM's. */
static void identity_from_the_stream_is_the_tree_content(void **state)
{
    (void)state;
    const char *xml = "<domain xmlns:x='urn:x'><x:name>no</x:name><description><name>no</name>"
                      "</description><name> a&amp;b&#x263A;<![CDATA[<c>]]><i>d</i>e<!-- no --> "
                      "</name><name>second</name><uuid>\n 591328D9-88d5-42aa-9551-bb793c3330cf\n"
                      "</uuid><title> T &lt;1&gt; </title></domain>";
    struct sp_domain_id id;
    struct sp_err err;
    assert_int_equal(sp_domain_identify(xml, strlen(xml), &id, &err), 0);
    assert_string_equal(id.name, "a&b\xe2\x98\xba<c>de");
    assert_string_equal(id.uuid, "591328D9-88d5-42aa-9551-bb793c3330cf");
    assert_string_equal(id.title, " T <1> ");
    assert_false(id.doctype);
    assert_null(id.unknown);
    sp_domain_id_free(&id);
    const char *bad[][2] = {
        {"<domain><name>x</name>", "domain XML:1: "},
        {"<network><name>a</name></network>", "domain XML: root element is <network>, expected "
                                              "<domain>"},
        {"<domain><uuid>u</uuid><name> </name></domain>", "domain XML has no <name>"},
        {"<domain><name>a&b;</name></domain>", "domain XML:1: Entity 'b' not defined"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sp_domain_identify(bad[i][0], strlen(bad[i][0]), &id, &err), -1);
        if (!strstr(err.msg, bad[i][1]))
            fail_msg("expected '%s' in '%s'", bad[i][1], err.msg);
    }
}

/* A DOCTYPE: the tree parse refuses it where it starts; the stream reads
 * around it and says which element rests on an entity. */
static void doctype_is_refused_or_read_around(void **state)
{
    (void)state;
    const char *xml = "<?xml version='1.0'?>\n<!-- a comment -->\n<!DOCTYPE domain [\n"
                      "<!ENTITY e 'expanded'><!ATTLIST domain type CDATA 'kvm'>]>\n"
                      "<domain><name>vm&amp;1</name><title>x&e;</title></domain>";
    struct sp_err err;
    assert_null(sp_domain_parse(xml, strlen(xml), &err));
    assert_string_equal(err.msg, "domain XML:3: a DOCTYPE is not supported: the entities it "
                                 "declares are never expanded (take it out)");
    struct sp_domain_id id;
    assert_int_equal(sp_domain_identify(xml, strlen(xml), &id, &err), 0);
    assert_true(id.doctype);
    assert_string_equal(id.name, "vm&1");
    assert_string_equal(id.title, "x");
    assert_string_equal(id.unknown, "title");
    char *label = sp_domain_label(&id);
    assert_string_equal(label, "'vm&1'");
    free(label);
    sp_domain_id_free(&id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(adds_hostdev_with_rom_and_top_slot),
        cmocka_unit_test(functions_of_one_slot_share_a_guest_slot),
        cmocka_unit_test(q35_gets_one_root_port_per_host_slot),
        cmocka_unit_test(second_pass_adds_nothing),
        cmocka_unit_test(missing_function_joins_its_present_sibling),
        cmocka_unit_test(joining_a_slot_marks_function0_multifunction),
        cmocka_unit_test(strip_takes_out_exactly_what_was_added),
        cmocka_unit_test(creates_devices_when_absent),
        cmocka_unit_test(raw_hostdev_is_copied_and_keeps_its_address),
        cmocka_unit_test(interface_hostdev_counts_as_present),
        cmocka_unit_test(full_bus_refuses),
        cmocka_unit_test(identity_from_the_stream_is_the_tree_content),
        cmocka_unit_test(doctype_is_refused_or_read_around),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
