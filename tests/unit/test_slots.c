/* slots: which guest PCI slots a document already uses, and which one an
 * injected device gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/xmlutil.h"
#include "../../xmlpatch/slots.h"

static void collect(unsigned slot, void *opaque)
{
    uint32_t *mask = opaque;
    *mask |= 1u << slot;
}

static uint32_t arg_slots(const char *arg)
{
    uint32_t mask = 0;
    sp_qemu_arg_slots(arg, collect, &mask);
    return mask;
}

static void qemu_addr_forms(void **state)
{
    (void)state;
    assert_int_equal(arg_slots("vhost-scsi-pci,wwpn=naa.1,addr=0xa,bus=pci.0"), 1u << 0xa);
    assert_int_equal(arg_slots("addr=0b.1"), 1u << 0xb);
    assert_int_equal(arg_slots("e1000,addr=1f"), 1u << 0x1f);
    assert_int_equal(arg_slots("x,addr=0x0c.0,y,addr=0x0d"), (1u << 0xc) | (1u << 0xd));
    /* Not addresses: out of range, not hex, a different key, empty. */
    assert_int_equal(arg_slots("addr=0x20"), 0);
    assert_int_equal(arg_slots("addr=zz"), 0);
    assert_int_equal(arg_slots("myaddr=0xa"), 0);
    assert_int_equal(arg_slots("addr="), 0);
    assert_int_equal(arg_slots(""), 0);
    assert_int_equal(arg_slots("-device"), 0);
}

static xmlDocPtr doc_of(const char *text)
{
    struct sp_err err;
    xmlDocPtr doc = sp_xml_parse(text, strlen(text), "t", &err);
    assert_non_null(doc);
    return doc;
}

static void reads_addresses_controllers_and_commandline(void **state)
{
    (void)state;
    xmlDocPtr doc = doc_of(
        "<domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
        "<os><type machine='pc-i440fx-2.2'>hvm</type></os><devices>"
        "<controller type='pci' index='0' model='pci-root'/>"
        "<controller type='pci' index='3' model='pci-bridge'>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></controller>"
        "<interface><address type='pci' domain='0x0000' bus='0x00' slot='0x1f' function='0x0'/>"
        "</interface></devices><qemu:commandline><qemu:arg value='vhost-scsi-pci,addr=0x1e'/>"
        "</qemu:commandline></domain>");
    struct sp_slot_map map;
    struct sp_err err;
    assert_int_equal(sp_slot_map_from_doc(doc, &map, &err), 0);
    assert_false(map.pcie);
    assert_int_equal(map.next_bus, 4);
    assert_true(map.bus0_taken & (1u << 5));
    assert_true(map.bus0_taken & (1u << 0x1e));
    unsigned slot;
    assert_int_equal(sp_slot_map_take_bus0_slot(&map, &slot, &err), 0);
    assert_int_equal(slot, 0x1d); /* highest free: 1f and 1e are taken */
    assert_int_equal(sp_slot_map_take_bus(&map), 4);
    sp_slot_map_free(&map);
    xmlFreeDoc(doc);
}

static void q35_keeps_chipset_slots(void **state)
{
    (void)state;
    xmlDocPtr doc = doc_of("<domain><os><type machine='pc-q35-7.2'>hvm</type></os></domain>");
    struct sp_slot_map map;
    struct sp_err err;
    assert_int_equal(sp_slot_map_from_doc(doc, &map, &err), 0);
    assert_true(map.pcie);
    unsigned slot;
    assert_int_equal(sp_slot_map_take_bus0_slot(&map, &slot, &err), 0);
    assert_int_equal(slot, 0x1c);
    assert_int_equal(sp_slot_map_take_bus(&map), 1);
    sp_slot_map_free(&map);
    xmlFreeDoc(doc);
}

static void full_bus_is_an_error(void **state)
{
    (void)state;
    xmlDocPtr doc = doc_of("<domain/>");
    struct sp_slot_map map;
    struct sp_err err;
    assert_int_equal(sp_slot_map_from_doc(doc, &map, &err), 0);
    unsigned slot, taken = 0;
    while (sp_slot_map_take_bus0_slot(&map, &slot, &err) == 0) {
        assert_true(slot >= 3);
        taken++;
    }
    assert_int_equal(taken, 29); /* 0x03..0x1f on i440fx */
    assert_non_null(strstr(err.msg, "no free slot"));
    sp_slot_map_free(&map);
    xmlFreeDoc(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qemu_addr_forms),
        cmocka_unit_test(reads_addresses_controllers_and_commandline),
        cmocka_unit_test(q35_keeps_chipset_slots),
        cmocka_unit_test(full_bus_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
