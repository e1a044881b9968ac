/* xmlpatch: hostdevs merged into a domain: guest slots, multifunction,
 * q35 root ports, idempotence, raw hostdevs; the edits of the domain's own
 * elements (video="none", hypervisor="hidden") and their taking back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/xmlutil.h"
#include "../../core/persist.h"
#include "../../xmlpatch/domain.h"
#include "../../xmlpatch/edits.h"
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

static void rom_bar_off_hides_the_rom_bar(void **state)
{
    (void)state;
    struct sp_patch_dev d = {.has_host = 1, .host = {0, 5, 0, 0}, .rom_bar_off = 1};
    struct sp_patch_report rep;
    char *out = tu_patch(I440FX "<devices/></domain>", &d, 1, &rep);
    assert_non_null(strstr(rep.added[0], "</source><rom bar=\"off\"/><alias "));
    free(out);
    sp_patch_report_free(&rep);
}

/* --- video="none", hypervisor="hidden" ------------------------------------ */

static const struct sp_edit_opts BOTH = {.video_none = 1, .hide_hypervisor = 1};

/* The domain's text after the edits (rep filled); NULL when refused, with
 * the reason in err. */
static char *edit(const char *text, const struct sp_edit_opts *opts, struct sp_patch_report *rep,
                  struct sp_err *err)
{
    memset(rep, 0, sizeof(*rep));
    xmlDocPtr doc = sp_domain_parse(text, strlen(text), err);
    assert_non_null(doc);
    char *out = NULL;
    size_t len;
    if (sp_edits_apply(doc, opts, rep, err) == 0)
        assert_int_equal(sp_domain_serialize(doc, text, strlen(text), &out, &len, err), 0);
    xmlFreeDoc(doc);
    return out;
}

static char *edited(const char *text, const struct sp_edit_opts *opts, struct sp_patch_report *rep)
{
    struct sp_err err;
    char *out = edit(text, opts, rep, &err);
    if (!out)
        fail_msg("refused: %s", err.msg);
    return out;
}

/* A VM manager's domain: a vmvga display, host-passthrough, no <kvm>. */
#define VMM_DOMAIN                                                                        \
    "<domain type=\"kvm\">\n"                                                             \
    "  <name>vm</name>\n"                                                                 \
    "  <title>Desk</title>\n"                                                             \
    "  <memory unit=\"KiB\">1048576</memory>\n"                                           \
    "  <os>\n"                                                                            \
    "    <type arch=\"x86_64\" machine=\"pc-i440fx-2.2\">hvm</type>\n"                    \
    "  </os>\n"                                                                           \
    "  <features>\n"                                                                      \
    "    <acpi/>\n"                                                                       \
    "  </features>\n"                                                                     \
    "  <cpu mode=\"host-passthrough\" check=\"none\"/>\n"                                 \
    "  <clock offset=\"utc\"/>\n"                                                         \
    "  <devices>\n"                                                                       \
    "    <graphics type=\"vnc\" port=\"-1\" autoport=\"yes\"/>\n"                         \
    "    <video>\n"                                                                       \
    "      <model type=\"vmvga\" vram=\"16384\" heads=\"1\" primary=\"yes\"/>\n"          \
    "      <address type=\"pci\" domain=\"0x0000\" bus=\"0x00\" slot=\"0x02\" "           \
    "function=\"0x0\"/>\n"                                                                \
    "    </video>\n"                                                                      \
    "    <memballoon model=\"virtio\"/>\n"                                                \
    "  </devices>\n"                                                                      \
    "</domain>\n"

#define VMVGA                                                                             \
    "<video><model type=\"vmvga\" vram=\"16384\" heads=\"1\" primary=\"yes\"/><address "  \
    "type=\"pci\" domain=\"0x0000\" bus=\"0x00\" slot=\"0x02\" function=\"0x0\"/></video>"

static void vmm_domain_gets_video_none_and_kvm_hidden(void **state)
{
    (void)state;
    struct sp_patch_report rep;
    char *out = edited(VMM_DOMAIN, &BOTH, &rep);
    assert_string_equal(out,
        "<domain type=\"kvm\">\n"
        "  <name>vm</name>\n"
        "  <title>Desk</title>\n"
        "  <metadata>\n"
        "    <synopassthru:edits xmlns:synopassthru=\"urn:synopassthru:edits:1\">\n"
        "      <synopassthru:video>&lt;video&gt;&lt;model type=\"vmvga\" vram=\"16384\" "
        "heads=\"1\" primary=\"yes\"/&gt;&lt;address type=\"pci\" domain=\"0x0000\" "
        "bus=\"0x00\" slot=\"0x02\" function=\"0x0\"/&gt;&lt;/video&gt;</synopassthru:video>\n"
        "      <synopassthru:kvm-hidden added=\"kvm\"/>\n"
        "      <synopassthru:cpu-hypervisor added=\"feature\"/>\n"
        "    </synopassthru:edits>\n"
        "  </metadata>\n"
        "  <memory unit=\"KiB\">1048576</memory>\n"
        "  <os>\n"
        "    <type arch=\"x86_64\" machine=\"pc-i440fx-2.2\">hvm</type>\n"
        "  </os>\n"
        "  <features>\n"
        "    <acpi/>\n"
        "    <kvm>\n"
        "      <hidden state=\"on\"/>\n"
        "    </kvm>\n"
        "  </features>\n"
        "  <cpu mode=\"host-passthrough\" check=\"none\">\n"
        "    <feature policy=\"disable\" name=\"hypervisor\"/>\n"
        "  </cpu>\n"
        "  <clock offset=\"utc\"/>\n"
        "  <devices>\n"
        "    <graphics type=\"vnc\" port=\"-1\" autoport=\"yes\"/>\n"
        "    <video>\n"
        "      <model type=\"none\"/>\n"
        "      <alias name=\"ua-sp-video\"/>\n"
        "    </video>\n"
        "    <memballoon model=\"virtio\"/>\n"
        "  </devices>\n"
        "</domain>\n");
    assert_int_equal(rep.n_added, 0);
    assert_int_equal(rep.video.n, 2);
    assert_string_equal(rep.video.text[0], "removed " VMVGA);
    assert_string_equal(rep.video.text[1], "added <video><model type=\"none\"/>"
                                           "<alias name=\"ua-sp-video\"/></video>");
    assert_int_equal(rep.features.n, 1);
    assert_string_equal(rep.features.text[0], "added <kvm><hidden state=\"on\"/></kvm>");
    assert_int_equal(rep.cpu.n, 1);
    assert_string_equal(rep.cpu.text[0], "added <feature policy=\"disable\" name=\"hypervisor\"/>");
    assert_true(sp_patch_report_changed(&rep));
    sp_patch_report_free(&rep);

    /* Again: nothing more to do, to the byte. */
    char *again = edited(out, &BOTH, &rep);
    assert_string_equal(again, out);
    assert_false(sp_patch_report_changed(&rep));
    sp_patch_report_free(&rep);
    free(again);
    free(out);
}

/* Each option alone touches only its own elements. */
static void each_option_alone(void **state)
{
    (void)state;
    struct sp_patch_report rep;
    const struct sp_edit_opts video = {.video_none = 1}, hidden = {.hide_hypervisor = 1};
    char *out = edited(VMM_DOMAIN, &video, &rep);
    assert_int_equal(tu_count(out, "<kvm>"), 0);
    assert_int_equal(tu_count(out, "name=\"hypervisor\""), 0);
    assert_int_equal(tu_count(out, "<model type=\"none\"/>"), 1);
    assert_int_equal(rep.features.n + rep.cpu.n, 0);
    sp_patch_report_free(&rep);
    free(out);
    out = edited(VMM_DOMAIN, &hidden, &rep);
    assert_int_equal(tu_count(out, "vmvga"), 1);
    assert_int_equal(tu_count(out, "<hidden state=\"on\"/>"), 1);
    assert_int_equal(rep.video.n, 0);
    sp_patch_report_free(&rep);
    free(out);
    const struct sp_edit_opts none = {0};
    out = edited(VMM_DOMAIN, &none, &rep);
    assert_false(sp_patch_report_changed(&rep));
    free(out);
}

/* Every <video> goes, ours takes the first one's place; a domain without
 * one gets ours too, else libvirt would add its default display. */
static void every_video_gives_way_to_one_none(void **state)
{
    (void)state;
    struct sp_patch_report rep;
    const struct sp_edit_opts video = {.video_none = 1};
    char *out = edited("<domain><name>v</name><devices><input type='tablet'/><video><model "
                       "type='qxl'/></video><sound model='ich9'/><video><model type='virtio'/>"
                       "</video></devices></domain>", &video, &rep);
    assert_string_equal(out, "<domain><name>v</name><metadata><synopassthru:edits xmlns:"
                             "synopassthru=\"urn:synopassthru:edits:1\"><synopassthru:video>"
                             "&lt;video&gt;&lt;model type=\"qxl\"/&gt;&lt;/video&gt;"
                             "</synopassthru:video><synopassthru:video>&lt;video&gt;&lt;model "
                             "type=\"virtio\"/&gt;&lt;/video&gt;</synopassthru:video>"
                             "</synopassthru:edits></metadata><devices><input type=\"tablet\"/>"
                             "<video><model type=\"none\"/><alias name=\"ua-sp-video\"/></video>"
                             "<sound model=\"ich9\"/></devices></domain>");
    assert_int_equal(rep.video.n, 3);
    sp_patch_report_free(&rep);
    free(out);
    /* Nothing to note: our <video> is found by its alias. */
    out = edited("<domain><name>v</name><devices><graphics type='vnc'/></devices></domain>",
                 &video, &rep);
    assert_string_equal(out, "<domain><name>v</name><devices><graphics type=\"vnc\"/><video>"
                             "<model type=\"none\"/><alias name=\"ua-sp-video\"/></video>"
                             "</devices></domain>");
    assert_int_equal(rep.video.n, 1);
    sp_patch_report_free(&rep);
    free(out);
    /* Ours from an earlier start is not noted as the domain's own. */
    out = edited("<domain><name>v</name><devices><video><model type='none'/><alias "
                 "name='ua-sp-video'/></video><video><model type='vga'/></video></devices>"
                 "</domain>", &video, &rep);
    assert_int_equal(rep.video.n, 2);
    assert_string_equal(rep.video.text[0], "removed <video><model type=\"vga\"/></video>");
    assert_int_equal(tu_count(out, "<synopassthru:video>"), 1);
    sp_patch_report_free(&rep);
    free(out);
    /* A lone 'none' video, ours or not, is what was asked. */
    out = edited("<domain><name>v</name><devices><video><model type='none'/></video></devices>"
                 "</domain>", &video, &rep);
    assert_false(sp_patch_report_changed(&rep));
    free(out);
}

/* No <features>, <cpu>, <metadata> or <devices>: each is made where libvirt
 * writes it, and the CPU is the one libvirt would choose (qemu64). */
static void missing_elements_are_made_in_libvirt_order(void **state)
{
    (void)state;
    struct sp_patch_report rep;
    char *out = edited("<domain type='kvm' xmlns:qemu='" SP_QEMU_NS "'>\n"
                       "  <name>v</name>\n"
                       "  <memory>1</memory>\n"
                       "  <os>\n"
                       "    <type>hvm</type>\n"
                       "  </os>\n"
                       "  <on_poweroff>destroy</on_poweroff>\n"
                       "  <qemu:commandline/>\n"
                       "</domain>\n", &BOTH, &rep);
    assert_string_equal(out, "<domain xmlns:qemu=\"" SP_QEMU_NS "\" type=\"kvm\">\n"
                             "  <name>v</name>\n"
                             "  <metadata>\n"
                             "    <synopassthru:edits xmlns:synopassthru=\"" SP_EDITS_NS "\">\n"
                             "      <synopassthru:kvm-hidden added=\"features\"/>\n"
                             "      <synopassthru:cpu-hypervisor added=\"cpu\"/>\n"
                             "    </synopassthru:edits>\n"
                             "  </metadata>\n"
                             "  <memory>1</memory>\n"
                             "  <os>\n"
                             "    <type>hvm</type>\n"
                             "  </os>\n"
                             "  <features>\n"
                             "    <kvm>\n"
                             "      <hidden state=\"on\"/>\n"
                             "    </kvm>\n"
                             "  </features>\n"
                             "  <cpu mode=\"custom\" match=\"exact\" check=\"none\">\n"
                             "    <model fallback=\"forbid\">qemu64</model>\n"
                             "    <feature policy=\"disable\" name=\"hypervisor\"/>\n"
                             "  </cpu>\n"
                             "  <on_poweroff>destroy</on_poweroff>\n"
                             "  <devices>\n"
                             "    <video>\n"
                             "      <model type=\"none\"/>\n"
                             "      <alias name=\"ua-sp-video\"/>\n"
                             "    </video>\n"
                             "  </devices>\n"
                             "  <qemu:commandline/>\n"
                             "</domain>\n");
    assert_string_equal(rep.features.text[0], "added <features><kvm><hidden state=\"on\"/>"
                                              "</kvm></features>");
    assert_string_equal(rep.cpu.text[0], "added <cpu mode=\"custom\" match=\"exact\" "
                                         "check=\"none\"><model fallback=\"forbid\">qemu64"
                                         "</model><feature policy=\"disable\" "
                                         "name=\"hypervisor\"/></cpu>");
    sp_patch_report_free(&rep);
    free(out);
}

/* What is there is switched, never doubled; what already hides the
 * hypervisor is left alone. */
static void existing_settings_are_switched(void **state)
{
    (void)state;
    struct sp_patch_report rep;
    const struct sp_edit_opts hidden = {.hide_hypervisor = 1};
    char *out = edited("<domain><name>v</name><features><kvm><hidden state='off'/></kvm>"
                       "</features><cpu mode='host-model'><feature policy='require' "
                       "name='hypervisor'/><numa><cell memory='1'/></numa></cpu></domain>",
                       &hidden, &rep);
    assert_non_null(strstr(out, "<kvm><hidden state=\"on\"/></kvm>"));
    assert_non_null(strstr(out, "<feature policy=\"disable\" name=\"hypervisor\"/><numa>"));
    assert_non_null(strstr(out, "<synopassthru:kvm-hidden was=\"off\"/>"
                                "<synopassthru:cpu-hypervisor was=\"require\"/>"));
    assert_string_equal(rep.features.text[0], "changed <hidden state=\"off\"/> to state='on'");
    assert_string_equal(rep.cpu.text[0], "changed <feature policy=\"require\" "
                                         "name=\"hypervisor\"/> to policy='disable'");
    sp_patch_report_free(&rep);
    free(out);
    /* A feature added goes before <numa>, where libvirt writes features. */
    out = edited("<domain><name>v</name><features><kvm><hint-dedicated state='on'/></kvm>"
                 "</features><cpu mode='custom'><model>EPYC</model><numa><cell memory='1'/>"
                 "</numa></cpu></domain>", &hidden, &rep);
    assert_non_null(strstr(out, "<kvm><hint-dedicated state=\"on\"/><hidden state=\"on\"/>"
                                "</kvm>"));
    assert_non_null(strstr(out, "<model>EPYC</model><feature policy=\"disable\" "
                                "name=\"hypervisor\"/><numa>"));
    assert_non_null(strstr(out, "<synopassthru:kvm-hidden added=\"hidden\"/>"));
    sp_patch_report_free(&rep);
    free(out);
    const char *done = "<domain><name>v</name><features><kvm><hidden state='on'/></kvm>"
                       "</features><cpu mode='host-passthrough'><feature policy='forbid' "
                       "name='hypervisor'/></cpu></domain>";
    out = edited(done, &hidden, &rep);
    assert_false(sp_patch_report_changed(&rep));
    assert_null(strstr(out, "metadata"));
    free(out);
}

/* libvirt refuses a <feature> in a <cpu> with neither mode nor model;
 * choosing a CPU model for the VM is not ours to do. */
static void cpu_without_model_is_refused(void **state)
{
    (void)state;
    struct sp_patch_report rep;
    struct sp_err err;
    const struct sp_edit_opts hidden = {.hide_hypervisor = 1};
    assert_null(edit("<domain><name>v</name><cpu><topology sockets='1' cores='2' threads='1'/>"
                     "</cpu></domain>", &hidden, &rep, &err));
    assert_string_equal(err.msg, "hypervisor='hidden' cannot disable the CPU feature "
                                 "'hypervisor': the domain's <cpu> has neither a mode nor a "
                                 "<model>, and libvirt takes no <feature> in such a <cpu> (give "
                                 "it mode='host-passthrough', or a <model>)");
    sp_patch_report_free(&rep);
}

/* The patched domain as libvirt gives it back (live XML), defined again:
 * everything we added goes, everything we changed comes back. */
static void clean(const char *text, const char *expected)
{
    char *out = NULL;
    struct sp_err err;
    assert_int_equal(sp_persist_clean(text, &out, &err), 1);
    assert_string_equal(out, expected);
    char *again = NULL;
    assert_int_equal(sp_persist_clean(out, &again, &err), 0);
    free(out);
}

static void clean_takes_every_edit_back(void **state)
{
    (void)state;
    struct sp_patch_report rep;
    struct sp_patch_dev d = dev(8, 0, 0, "/r.bin");
    char *patched = tu_patch(VMM_DOMAIN, &d, 1, &rep);
    sp_patch_report_free(&rep);
    char *edited_text = edited(patched, &BOTH, &rep);
    sp_patch_report_free(&rep);
    char *marked = NULL;
    struct sp_err err;
    assert_int_equal(sp_persist_mark(edited_text, strlen(edited_text), VMM_DOMAIN, &marked, &err), 0);
    clean(edited_text, VMM_DOMAIN);
    clean(marked, VMM_DOMAIN);
    free(marked);
    free(edited_text);
    free(patched);

    const char *cases[] = {
        /* made: <features>, <cpu>, <metadata> */
        "<domain>\n  <name>v</name>\n  <os>\n    <type>hvm</type>\n  </os>\n  <devices>\n"
        "    <disk type=\"file\"/>\n  </devices>\n</domain>\n",
        /* switched back: state, policy; the second video comes back too */
        "<domain>\n  <name>v</name>\n  <metadata>\n    <x:y xmlns:x=\"urn:x\"/>\n  </metadata>\n"
        "  <features>\n    <kvm>\n      <hidden state=\"off\"/>\n    </kvm>\n  </features>\n"
        "  <cpu mode=\"custom\">\n    <model>EPYC</model>\n"
        "    <feature policy=\"optional\" name=\"hypervisor\"/>\n  </cpu>\n  <devices>\n"
        "    <video>\n      <model type=\"vga\"/>\n    </video>\n    <video>\n"
        "      <model type=\"virtio\"/>\n    </video>\n  </devices>\n</domain>\n",
        /* added: <kvm> into <features>, <hidden> into <kvm> */
        "<domain>\n  <name>v</name>\n  <features>\n    <acpi/>\n  </features>\n"
        "  <devices>\n    <graphics type=\"vnc\"/>\n  </devices>\n</domain>\n",
        "<domain>\n  <name>v</name>\n  <features>\n    <kvm>\n"
        "      <hint-dedicated state=\"on\"/>\n    </kvm>\n  </features>\n  <cpu mode=\"host-model\">\n"
        "    <feature policy=\"disable\" name=\"svm\"/>\n  </cpu>\n  <devices>\n"
        "    <video>\n      <model type=\"vmvga\"/>\n    </video>\n  </devices>\n</domain>\n",
    };
    /* hypervisor="hidden" alone leaves no alias of ours: the note is all. */
    const struct sp_edit_opts hidden = {.hide_hypervisor = 1};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int alone = 0; alone < 2; alone++) {
            char *out = edited(cases[i], alone ? &hidden : &BOTH, &rep);
            sp_patch_report_free(&rep);
            clean(out, cases[i]);
            free(out);
        }
    }
}

/* What was changed since (by hand in the live XML) is not ours to take
 * back; the note goes all the same. */
static void clean_leaves_what_changed_since(void **state)
{
    (void)state;
    struct sp_patch_report rep;
    char *out = edited(VMM_DOMAIN, &BOTH, &rep);
    sp_patch_report_free(&rep);
    char *a = tu_replace_all(out, "<model type=\"none\"/>", "<model type=\"qxl\"/>");
    char *b = tu_replace_all(a, "<hidden state=\"on\"/>", "<hidden state=\"off\"/>");
    char *c = tu_replace_all(b, "policy=\"disable\" name=\"hypervisor\"",
                             "policy=\"require\" name=\"hypervisor\"");
    char *cleaned = NULL;
    struct sp_err err;
    assert_int_equal(sp_persist_clean(c, &cleaned, &err), 1);
    assert_null(strstr(cleaned, "metadata"));
    assert_null(strstr(cleaned, "vmvga"));
    assert_non_null(strstr(cleaned, "<hidden state=\"off\"/>"));
    assert_non_null(strstr(cleaned, "policy=\"require\" name=\"hypervisor\""));
    /* The qxl carries our alias: it goes with the hostdevs. */
    assert_null(strstr(cleaned, "<video>"));
    free(cleaned);
    free(c);
    free(b);
    free(a);
    free(out);
}

/* libvirt keeps one element per namespace in <metadata>; a definition
 * written by hand may have two markers or two notes: one clean takes all,
 * and a second finds nothing. */
static void clean_takes_every_marker_and_note(void **state)
{
    (void)state;
    const char *twice = "<domain><name>v</name><metadata>"
                        "<a:original xmlns:a=\"" SP_PERSIST_NS "\">x</a:original>"
                        "<b:edits xmlns:b=\"" SP_EDITS_NS "\"><b:kvm-hidden added=\"hidden\"/>"
                        "</b:edits>"
                        "<a:original xmlns:a=\"" SP_PERSIST_NS "\">y</a:original>"
                        "<b:edits xmlns:b=\"" SP_EDITS_NS "\"><b:cpu-hypervisor added=\"feature\"/>"
                        "</b:edits></metadata><features><kvm><hidden state=\"on\"/>"
                        "<hint-dedicated state=\"on\"/></kvm></features><cpu mode=\"host-model\">"
                        "<feature policy=\"disable\" name=\"hypervisor\"/><model>x</model></cpu>"
                        "</domain>";
    clean(twice, "<domain><name>v</name><features><kvm><hint-dedicated state=\"on\"/></kvm>"
                 "</features><cpu mode=\"host-model\"><model>x</model></cpu></domain>");
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
        cmocka_unit_test(rom_bar_off_hides_the_rom_bar),
        cmocka_unit_test(vmm_domain_gets_video_none_and_kvm_hidden),
        cmocka_unit_test(each_option_alone),
        cmocka_unit_test(every_video_gives_way_to_one_none),
        cmocka_unit_test(missing_elements_are_made_in_libvirt_order),
        cmocka_unit_test(existing_settings_are_switched),
        cmocka_unit_test(cpu_without_model_is_refused),
        cmocka_unit_test(clean_takes_every_edit_back),
        cmocka_unit_test(clean_leaves_what_changed_since),
        cmocka_unit_test(clean_takes_every_marker_and_note),
        cmocka_unit_test(identity_from_the_stream_is_the_tree_content),
        cmocka_unit_test(doctype_is_refused_or_read_around),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
