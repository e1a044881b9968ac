/* Raw <hostdev> elements of every kind libvirt accepts: each gets its
 * ua-sp- alias, is not added when the domain has the same device (spelled
 * another way), is added once when patched again, takes a guest PCI slot
 * only when it is a PCI device in the guest, and goes again both with
 * sp_xmlpatch_strip and with the define-back cleaning (sp_persist_clean). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../core/persist.h"
#include "../../xmlpatch/domain.h"
#include "../../xmlpatch/xmlpatch.h"
#include "testutil.h"

#define HEAD "<domain type='kvm'><name>v</name><os><type machine='%s'>hvm</type></os><devices>"
#define TAIL "</devices></domain>"
#define I440FX "pc-i440fx-2.2"
#define Q35 "pc-q35-7.2"

struct raw_case {
    const char *name;
    const char *raw;     /* the snippet's element */
    const char *alias;   /* the alias it must get */
    const char *same;    /* the same device as a domain may have it, spelled otherwise */
    const char *other;   /* another device of the same kind */
    int guest_pci;       /* it takes a guest PCI slot */
    int has_host;        /* a PCI host address (core/start.c passes it) */
    struct sp_pci_addr host;
};

#define HD(attrs, body) "<hostdev " attrs ">" body "</hostdev>"
#define CAPS(type, body) HD("mode='capabilities' type='" type "'", "<source>" body "</source>")

static const struct raw_case cases[] = {
    {"pci", HD("mode='subsystem' type='pci' managed='yes'",
               "<source><address domain='0x0000' bus='0x08' slot='0x00' function='0x6'/></source>"),
     "ua-sp-0000-08-00-6",
     HD("type='pci'", "<source><address bus='8' slot='0' function='6'/></source>"),
     HD("type='pci'", "<source><address bus='8' slot='0' function='5'/></source>"), 1, 1,
     {0, 8, 0, 6}},
    {"usb-ids", HD("mode='subsystem' type='usb' managed='no'",
                   "<source><vendor id='0x046d'/><product id='0xc52b'/></source>"),
     "ua-sp-usb-046d-c52b",
     HD("mode='subsystem' type='usb'", "<source startupPolicy='optional'><vendor id='0x46D'/>"
        "<product id='50475'/><address bus='1' device='4'/></source>"),
     HD("type='usb'", "<source><vendor id='0x046d'/><product id='0xc52c'/></source>"), 0, 0, {0}},
    {"usb-place",
     HD("mode='subsystem' type='usb'", "<source><address bus='1' device='4'/></source>"),
     "ua-sp-usb-bus-1-dev-4",
     HD("type='usb'", "<source><address bus='0x1' device='0x04'/></source>"),
     HD("type='usb'", "<source><address bus='1' device='5'/></source>"), 0, 0, {0}},
    {"usb-both", HD("mode='subsystem' type='usb'", "<source><vendor id='0x046d'/>"
                    "<product id='0xc52b'/><address bus='1' device='4'/></source>"),
     "ua-sp-usb-046d-c52b-bus-1-dev-4",
     HD("type='usb'", "<source><vendor id='0x046d'/><product id='0xc52b'/></source>"),
     HD("type='usb'", "<source><vendor id='0x046d'/><product id='0xc52b'/>"
                      "<address bus='2' device='4'/></source>"), 0, 0, {0}},
    {"scsi", HD("mode='subsystem' type='scsi'", "<source><adapter name='scsi_host2'/>"
                "<address bus='0' target='1' unit='0'/></source>"),
     "ua-sp-scsi-scsi_host2-0-1-0",
     HD("type='scsi'", "<source protocol='adapter'><adapter type='scsi_host' name='scsi_host2'/>"
                       "<address bus='0x0' target='0x1' unit='0'/></source>"
                       "<address type='drive' controller='0' bus='0' target='0' unit='1'/>"),
     HD("type='scsi'", "<source><adapter name='scsi_host2'/>"
                       "<address bus='0' target='1' unit='1'/></source>"), 0, 0, {0}},
    {"iscsi", HD("mode='subsystem' type='scsi'",
                 "<source protocol='iscsi' name='iqn.2014-08.com.example:tape/1'>"
                 "<host name='nas.local' port='3260'/></source>"),
     "ua-sp-iscsi-iqn-x2e2014-x2d08-x2ecom-x2eexample-x3atape-x2f1",
     HD("type='scsi'", "<source protocol='iscsi' name='iqn.2014-08.com.example:tape/1'>"
                       "<host name='10.0.0.2'/></source>"),
     HD("type='scsi'", "<source protocol='iscsi' name='iqn.2014-08.com.example:tape/2'>"
                       "<host name='nas.local'/></source>"), 0, 0, {0}},
    {"scsi_host", HD("mode='subsystem' type='scsi_host'",
                     "<source protocol='vhost' wwpn='naa.5001405DF3E54061'/>"),
     "ua-sp-scsi_host-naa-5001405df3e54061",
     HD("type='scsi_host'", "<source protocol='vhost' wwpn='naa.5001405df3e54061'/>"),
     HD("type='scsi_host'", "<source protocol='vhost' wwpn='naa.5001405df3e54062'/>"), 1, 0, {0}},
    {"mdev", HD("mode='subsystem' type='mdev' model='vfio-pci'",
                "<source><address uuid='C2177883-F1BB-47F0-914D-32A22E3A8804'/></source>"),
     "ua-sp-mdev-c2177883-f1bb-47f0-914d-32a22e3a8804",
     HD("type='mdev' model='vfio-pci'",
        "<source><address uuid='c2177883f1bb47f0914d32a22e3a8804'/></source>"),
     HD("type='mdev' model='vfio-pci'",
        "<source><address uuid='c2177883-f1bb-47f0-914d-32a22e3a8805'/></source>"), 1, 0, {0}},
    {"mdev-ap", HD("mode='subsystem' type='mdev' model='vfio-ap'",
                   "<source><address uuid='4b0a4a44-1c9e-4f7d-8f3e-5d1f1a2b3c4d'/></source>"),
     "ua-sp-mdev-4b0a4a44-1c9e-4f7d-8f3e-5d1f1a2b3c4d",
     HD("type='mdev' model='vfio-ap'",
        "<source><address uuid=' 4B0A4A44-1C9E-4F7D-8F3E-5D1F1A2B3C4D '/></source>"),
     HD("type='mdev' model='vfio-ap'",
        "<source><address uuid='4b0a4a44-1c9e-4f7d-8f3e-5d1f1a2b3c4e'/></source>"), 0, 0, {0}},
    {"storage", CAPS("storage", "<block>/dev/sdf</block>"), "ua-sp-storage--x2fdev-x2fsdf",
     CAPS("storage", "<block>/dev/sdf</block>"), CAPS("storage", "<block>/dev/sdg</block>"), 0, 0,
     {0}},
    {"misc", CAPS("misc", "<char>/dev/input/event3</char>"), "ua-sp-misc--x2fdev-x2finput-x2fevent3",
     CAPS("misc", "<char>/dev/input/event3</char>"), CAPS("misc", "<char>/dev/input/event4</char>"),
     0, 0, {0}},
    {"net", CAPS("net", "<interface>eth3</interface>"), "ua-sp-net-eth3",
     CAPS("net", "<interface>eth3</interface>"), CAPS("net", "<interface>eth4</interface>"), 0, 0,
     {0}},
};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static struct sp_patch_dev dev_of(const struct raw_case *c)
{
    struct sp_patch_dev d = {.has_host = c->has_host, .host = c->host, .raw_xml = c->raw};
    return d;
}

static char *domain(const char *machine, const char *devices)
{
    char *text = NULL;
    assert_true(asprintf(&text, HEAD "%s" TAIL, machine, devices) > 0);
    return text;
}

/* The refusal message of a patch that must fail. */
static void expect_refused(const char *text, const struct sp_patch_dev *d, const char *message)
{
    struct sp_err err;
    struct sp_patch_report rep;
    xmlDocPtr doc = sp_domain_parse(text, strlen(text), &err);
    assert_non_null(doc);
    assert_int_equal(sp_xmlpatch_apply(doc, d, 1, &rep, &err), -1);
    if (!strstr(err.msg, message))
        fail_msg("expected '%s' in '%s'", message, err.msg);
    sp_patch_report_free(&rep);
    xmlFreeDoc(doc);
}

/* Added once, with its alias; patched again, nothing changes. */
static void check_added_once(const struct raw_case *c, const char *machine)
{
    struct sp_patch_dev d = dev_of(c);
    struct sp_patch_report rep;
    char *in = domain(machine, "<disk type='file'/>");
    char *once = tu_patch(in, &d, 1, &rep);
    /* On q35 a guest PCI device comes with its root port (one more address). */
    int port = c->guest_pci && strcmp(machine, Q35) == 0;
    if (rep.n_added != (size_t)(1 + port))
        fail_msg("%s: %zu elements added", c->name, rep.n_added);
    char alias[256];
    snprintf(alias, sizeof(alias), "<alias name=\"%s\"/>", c->alias);
    if (tu_count(once, alias) != 1)
        fail_msg("%s: want %s once in %s", c->name, alias, once);
    if (tu_count(once, "<address type=\"pci\"") != c->guest_pci + port)
        fail_msg("%s: wrong guest PCI addresses in %s", c->name, once);
    sp_patch_report_free(&rep);
    char *twice = tu_patch(once, &d, 1, &rep);
    assert_int_equal(rep.n_added, 0);
    assert_int_equal(rep.n_present, 1);
    assert_string_equal(once, twice);
    sp_patch_report_free(&rep);
    free(twice);
    free(once);
    free(in);
}

static void each_kind_is_added_once_with_its_alias(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CASES; i++) {
        check_added_once(&cases[i], I440FX);
        check_added_once(&cases[i], Q35);
    }
}

/* The domain has the device already, written another way: nothing added.
 * Another device of the same kind is added. */
static void the_same_device_is_not_added_another_is(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CASES; i++) {
        const struct raw_case *c = &cases[i];
        struct sp_patch_dev d = dev_of(c);
        struct sp_patch_report rep;
        char *in = domain(I440FX, c->same);
        free(tu_patch(in, &d, 1, &rep));
        if (rep.n_added != 0 || rep.n_present != 1)
            fail_msg("%s: added %zu, present %zu with %s", c->name, rep.n_added, rep.n_present,
                     c->same);
        sp_patch_report_free(&rep);
        free(in);
        in = domain(I440FX, c->other);
        free(tu_patch(in, &d, 1, &rep));
        if (rep.n_added != 1)
            fail_msg("%s: %s counted as the same device", c->name, c->other);
        sp_patch_report_free(&rep);
        free(in);
    }
}

/* What was added goes again, with its root port on q35, to the byte; by
 * the define-back cleaning too. */
static void strip_and_define_back_take_each_kind_out(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CASES; i++) {
        const struct raw_case *c = &cases[i];
        struct sp_patch_dev d = dev_of(c);
        struct sp_patch_report rep;
        char *in = domain(Q35, "<disk type='file'/>");
        char *before = tu_patch(in, NULL, 0, &rep); /* as serialized, nothing added */
        sp_patch_report_free(&rep);
        char *patched = tu_patch(in, &d, 1, &rep);
        struct sp_err err;
        xmlDocPtr doc = sp_domain_parse(patched, strlen(patched), &err);
        assert_int_equal(sp_xmlpatch_strip(doc, &err), (int)rep.n_added);
        xmlFreeDoc(doc);
        char *clean = NULL;
        if (sp_persist_clean(patched, &clean, &err) != 1)
            fail_msg("%s: the define-back cleaning kept it: %s", c->name, patched);
        if (strcmp(clean, before) != 0)
            fail_msg("%s: cleaned\n%s\nwant\n%s", c->name, clean, before);
        sp_patch_report_free(&rep);
        free(clean);
        free(patched);
        free(before);
        free(in);
    }
}

/* Two snippets naming one USB device (spelled two ways): added once. */
static void named_twice_is_added_once(void **state)
{
    (void)state;
    struct sp_patch_dev d[] = {dev_of(&cases[1]), {.raw_xml = cases[1].same}};
    struct sp_patch_report rep;
    char *in = domain(I440FX, "");
    char *out = tu_patch(in, d, 2, &rep);
    assert_int_equal(rep.n_added, 1);
    assert_int_equal(rep.n_present, 1);
    assert_int_equal(tu_count(out, "<hostdev "), 1);
    sp_patch_report_free(&rep);
    free(out);
    free(in);
}

/* USB takes no guest PCI slot: the PCI device after it still gets the top
 * one, and a USB guest address it brings stays as written. */
static void usb_takes_no_pci_slot(void **state)
{
    (void)state;
    struct sp_patch_dev d[] = {
        {.raw_xml = HD("mode='subsystem' type='usb'", "<source><address bus='1' device='4'/>"
                       "</source><address type='usb' bus='0' port='2'/>")},
        {.has_host = 1, .host = {0, 5, 0, 0}},
    };
    struct sp_patch_report rep;
    char *in = domain(I440FX, "");
    char *out = tu_patch(in, d, 2, &rep);
    assert_int_equal(rep.n_added, 2);
    assert_non_null(strstr(rep.added[0], "<address type=\"usb\" bus=\"0\" port=\"2\"/>"
                                         "<alias name=\"ua-sp-usb-bus-1-dev-4\"/>"));
    assert_null(strstr(rep.added[0], "type=\"pci\""));
    assert_non_null(strstr(rep.added[1], "slot=\"0x1f\""));
    sp_patch_report_free(&rep);
    free(out);
    free(in);
}

/* A guest PCI device without an address gets a free slot, like a host
 * PCI device: here beside qemu:commandline's addr=0x1f. */
static void mdev_gets_a_free_guest_slot(void **state)
{
    (void)state;
    struct sp_patch_dev d = dev_of(&cases[7]);
    struct sp_patch_report rep;
    const char *in = "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
                     "<name>v</name><os><type machine='pc-i440fx-2.2'>hvm</type></os><devices/>"
                     "<qemu:commandline><qemu:arg value='vhost-scsi-pci,addr=0x1f'/>"
                     "</qemu:commandline></domain>";
    char *out = tu_patch(in, &d, 1, &rep);
    assert_non_null(strstr(rep.added[0], "<address type=\"pci\" domain=\"0x0000\" bus=\"0x00\" "
                                         "slot=\"0x1e\" function=\"0x0\"/>"));
    sp_patch_report_free(&rep);
    free(out);
    /* On q35: a root port of its own, marked as ours. */
    char *q35 = domain(Q35, "");
    out = tu_patch(q35, &d, 1, &rep);
    assert_non_null(strstr(rep.added[0], "<alias name=\"ua-sp-port-mdev-c2177883-f1bb-47f0-914d-"
                                         "32a22e3a8804\"/>"));
    assert_non_null(strstr(rep.added[1], "bus=\"0x01\" slot=\"0x00\" function=\"0x0\"/>"));
    sp_patch_report_free(&rep);
    free(out);
    free(q35);
}

static void own_alias_is_kept_only_when_it_is_ours(void **state)
{
    (void)state;
    char *in = domain(I440FX, "");
    struct sp_patch_dev d = {
        .raw_xml = HD("type='usb'", "<source><vendor id='0x046d'/><product id='0xc52b'/></source>"
                      "<alias name='ua-sp-usb-046d-c52b'/>")};
    struct sp_patch_report rep;
    char *out = tu_patch(in, &d, 1, &rep);
    assert_int_equal(tu_count(out, "<alias "), 1);
    sp_patch_report_free(&rep);
    free(out);
    d.raw_xml = HD("type='usb'", "<source><vendor id='0x046d'/><product id='0xc52b'/></source>"
                   "<alias name='ua-receiver'/>");
    d.file = "/cfg/vm.d/office.xml";
    d.line = 3;
    expect_refused(in, &d, "/cfg/vm.d/office.xml:3: <hostdev> has <alias name='ua-receiver'/>, "
                           "but SynoPassthru names each device it adds itself "
                           "('ua-sp-usb-046d-c52b')");
    /* The same when the domain has the device already: the verdict never
     * depends on the domain. */
    char *has_it = domain(I440FX, cases[1].same);
    expect_refused(has_it, &d, "<hostdev> has <alias name='ua-receiver'/>");
    free(has_it);
    /* A raw PCI hostdev too. */
    struct sp_patch_dev pci = dev_of(&cases[0]);
    pci.raw_xml = HD("type='pci'", "<source><address bus='8' slot='0' function='6'/></source>"
                     "<alias name='hostdev0'/>");
    expect_refused(in, &pci, "<hostdev> has <alias name='hostdev0'/>");
    free(in);
}

static void a_source_that_names_no_device_is_refused(void **state)
{
    (void)state;
    char *in = domain(I440FX, "");
    struct sp_patch_dev d = {.raw_xml = HD("type='usb'", "<source/>"), .file = "f.xml", .line = 2};
    expect_refused(in, &d, "f.xml:2: <hostdev>: type='usb' needs <vendor id=>/<product id=> or "
                           "<address bus= device=> in <source>, so SynoPassthru cannot tell "
                           "whether the domain has the device already");
    d.raw_xml = HD("mode='subsystem' type='floppy'", "<source/>");
    expect_refused(in, &d, "mode='subsystem' type='floppy' is no kind of host device libvirt "
                           "knows");
    d.raw_xml = HD("type='scsi'", "<source><adapter name='scsi_host0'/></source>");
    expect_refused(in, &d, "type='scsi' needs <adapter name=> and <address bus= target= unit=>");
    d.raw_xml = HD("type='mdev' model='vfio-pci'", "<source><address uuid='nope'/></source>");
    expect_refused(in, &d, "type='mdev' needs <address uuid=> (a UUID)");
    d.raw_xml = HD("type='scsi_host'", "<source protocol='vhost' wwpn='naa.12'/>");
    expect_refused(in, &d, "type='scsi_host' needs <source protocol='vhost' wwpn=");
    /* A path whose alias would be too long. */
    char raw[512] = "<hostdev mode='capabilities' type='storage'><source><block>/dev/";
    memset(raw + strlen(raw), 'a', 200);
    strcat(raw, "</block></source></hostdev>");
    d.raw_xml = raw;
    expect_refused(in, &d, "its source is too long to be named in an alias");
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_kind_is_added_once_with_its_alias),
        cmocka_unit_test(the_same_device_is_not_added_another_is),
        cmocka_unit_test(strip_and_define_back_take_each_kind_out),
        cmocka_unit_test(named_twice_is_added_once),
        cmocka_unit_test(usb_takes_no_pci_slot),
        cmocka_unit_test(mdev_gets_a_free_guest_slot),
        cmocka_unit_test(own_alias_is_kept_only_when_it_is_ours),
        cmocka_unit_test(a_source_that_names_no_device_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
