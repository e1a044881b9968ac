/* start: the decision for one VM start, with the messages a user sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/fsutil.h"
#include "../../config/config.h"
#include "../../core/audit.h"
#include "../../core/start.h"
#include "../../rom/rom.h"
#include "../tools/fakesysfs.h"
#include "testutil.h"
#include "xmlmem.h"

static char *sysfs;

struct fixture {
    char *dir;
    struct sp_config *cfg;
    struct sp_snapshot *snap;
    struct sp_start st;
};

#define DOMAIN(name, extra) \
    "<domain type='kvm'>\n  <name>" name "</name>\n" extra "  <devices>\n  </devices>\n</domain>\n"
#define UUID "591328d9-88d5-42aa-9551-bb793c3330cf"

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->dir = tu_mkdtemp("start");
    char *vmd = sp_path_join(f->dir, "vm.d");
    mkdir(vmd, 0755);
    free(vmd);
    free(tu_write_rom(f->dir, "rom/good.bin", "legacy"));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sp_start_free(&f->st);
    sp_snapshot_release(f->snap);
    sp_config_free(f->cfg);
    tu_rm_rf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void snippet(struct fixture *f, const char *name, const char *text)
{
    char file[128];
    snprintf(file, sizeof(file), "vm.d/%s", name);
    free(tu_write(f->dir, file, text, 0644));
}

static enum sp_verdict decide(struct fixture *f, const char *xml)
{
    struct sp_err err;
    sp_start_free(&f->st);
    sp_snapshot_release(f->snap);
    sp_config_free(f->cfg);
    f->cfg = sp_config_new(f->dir);
    assert_int_equal(sp_config_snapshot(f->cfg, &f->snap, &err), 0);
    assert_int_equal(sp_start_prepare(f->snap, xml, strlen(xml), &f->st), 0);
    return f->st.verdict;
}

static void expect_refusal(struct fixture *f, const char *xml, const char *message)
{
    assert_int_equal(decide(f, xml), SP_REFUSED);
    if (!strstr(f->st.err.msg, message))
        fail_msg("expected '%s' in '%s'", message, f->st.err.msg);
}

static void unmatched_vm_is_left_alone(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='other'><pci address='08:00.0'/></passthrough>");
    assert_int_equal(decide(f, DOMAIN("win11", "")), SP_UNMATCHED);
    assert_null(f->st.xml);
}

static void matched_by_name_uuid_or_title(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='" UUID "'><pci address='08:00.0'/></passthrough>");
    snippet(f, "b.xml", "<passthrough vm='Gaming PC'><pci address='05:00.0'/></passthrough>");
    const char *xml = DOMAIN(UUID, "  <uuid>591328D9-88D5-42AA-9551-BB793C3330CF</uuid>\n"
                                   "  <title>Gaming PC</title>\n");
    assert_int_equal(decide(f, xml), SP_READY);
    assert_int_equal(f->st.n_entries, 2); /* name and uuid are one entry */
    assert_int_equal(f->st.n_devs, 2);
    assert_int_equal(f->st.report.n_added, 2);
    assert_string_equal(f->st.label, "'Gaming PC' (" UUID ")");
}

static void relative_rom_resolves_in_rom_dir(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0' vendor='1002' "
                        "product='1638' rom='good.bin'/></passthrough>");
    assert_int_equal(decide(f, DOMAIN("win11", "")), SP_READY);
    char *rom = sp_path_join(f->dir, "rom/good.bin");
    assert_string_equal(f->st.devs[0].rom, rom);
    assert_non_null(strstr(f->st.xml, rom));
    free(rom);
}

static void missing_rom_is_refused_with_the_documented_message(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0' rom='x.bin'/>"
                        "</passthrough>");
    char expected[512];
    snprintf(expected, sizeof(expected),
             "VM 'win11': ROM %s/rom/x.bin for 0000:08:00.0: No such file or directory", f->dir);
    assert_int_equal(decide(f, DOMAIN("win11", "")), SP_REFUSED);
    assert_string_equal(f->st.err.msg, expected);
}

static void unsafe_rom_is_refused(void **state)
{
    struct fixture *f = *state;
    char *rom = sp_path_join(f->dir, "rom/good.bin");
    chmod(rom, 0666);
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0' rom='good.bin'/>"
                        "</passthrough>");
    expect_refusal(f, DOMAIN("win11", ""), "for 0000:08:00.0: world-writable (mode 0666)");
    free(rom);
}

static void rom_of_another_device_is_refused(void **state)
{
    struct fixture *f = *state;
    free(tu_write_rom(f->dir, "rom/nvidia.bin", "wrong-ids"));
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0' rom='nvidia.bin'/>"
                        "</passthrough>");
    expect_refusal(f, DOMAIN("win11", ""), "/rom/nvidia.bin for 0000:08:00.0 (1002:1638) "
                                           "belongs to another device: its images name 10de:1b80");
    free(tu_write_rom(f->dir, "rom/trunc.bin", "truncated-image"));
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0' rom='trunc.bin'/>"
                        "</passthrough>");
    expect_refusal(f, DOMAIN("win11", ""), "/rom/trunc.bin for 0000:08:00.0: ");
    assert_non_null(strstr(f->st.err.msg, "offset 0x"));
}

static void rom_check_warn_lets_the_start_go_on(void **state)
{
    struct fixture *f = *state;
    free(tu_write_rom(f->dir, "rom/nvidia.bin", "wrong-ids"));
    free(tu_write(f->dir, "synopassthru.conf", "audit_log =\nrom_check = warn\n", 0644));
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0' rom='nvidia.bin'/>"
                        "</passthrough>");
    assert_int_equal(decide(f, DOMAIN("win11", "")), SP_READY);
    assert_int_equal(f->st.n_warnings, 1);
    assert_non_null(strstr(f->st.warnings[0], "belongs to another device"));
    free(tu_write(f->dir, "synopassthru.conf", "audit_log =\nrom_check = off\n", 0644));
    assert_int_equal(decide(f, DOMAIN("win11", "")), SP_READY);
    assert_int_equal(f->st.n_warnings, 0);
}

static void absent_device_and_wrong_ids_are_both_listed(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='win11'>\n<pci address='42:00.0'/>\n"
                        "<pci address='05:00.0' vendor='1002' product='1638'/>\n</passthrough>");
    expect_refusal(f, DOMAIN("win11", ""), "device 0000:42:00.0 not found under");
    assert_non_null(strstr(f->st.err.msg, "vm.d/a.xml:2)"));
    assert_non_null(strstr(f->st.err.msg, "; device 0000:05:00.0 is 8086:10fb, but "));
    assert_non_null(strstr(f->st.err.msg, "a.xml:3 expects 1002:1638"));
}

static void subsystem_ids_are_checked_when_given(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0' subsystem='1462:7c95'/>"
                        "</passthrough>");
    assert_int_equal(decide(f, DOMAIN("win11", "")), SP_READY);
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0' subsystem='1043:8877'/>"
                        "</passthrough>");
    expect_refusal(f, DOMAIN("win11", ""), "device 0000:08:00.0 has subsystem 1462:7c95, but ");
    assert_non_null(strstr(f->st.err.msg, "a.xml:1 expects 1043:8877"));
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='05:00.0' subsystem='1043:8877'/>"
                        "</passthrough>");
    expect_refusal(f, DOMAIN("win11", ""), "device 0000:05:00.0: cannot read its subsystem IDs");
}

static void ids_expand_to_every_matching_device(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='win11'><pci vendor='1022' product='1639'/></passthrough>");
    assert_int_equal(decide(f, DOMAIN("win11", "")), SP_READY);
    assert_int_equal(f->st.n_devs, 2);
    assert_int_equal(f->st.report.n_added, 2);
    snippet(f, "a.xml", "<passthrough vm='win11'><pci vendor='dead' product='beef'/></passthrough>");
    expect_refusal(f, DOMAIN("win11", ""), "no device dead:beef under");
}

/* functions="all" on the default host (no IOMMU groups there): the iGPU and
 * its vendor's HDMI audio, not the board's own audio at .6 (another vendor). */
static void functions_all_takes_the_display_and_its_audio(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0' vendor='1002' "
                        "product='1638' rom='good.bin' functions='all'/></passthrough>");
    assert_int_equal(decide(f, DOMAIN("win11", "")), SP_READY);
    assert_int_equal(f->st.n_devs, 2);
    assert_int_equal(f->st.devs[1].addr.function, 1);
    assert_string_equal(f->st.devs[1].joined, "the display's audio function");
    assert_null(f->st.devs[0].joined);
    assert_non_null(f->st.devs[0].rom);
    assert_null(f->st.devs[1].rom);
    /* One guest slot, functions 0..1, multifunction on 0. */
    assert_non_null(strstr(f->st.xml, "function=\"0x1\"/>"));
    assert_null(strstr(f->st.xml, "function=\"0x2\"/>"));
    assert_non_null(strstr(f->st.xml, "multifunction=\"on\""));
}

/* decide() on another fake host (spec text in fakesysfs's format). */
static enum sp_verdict decide_on_host(struct fixture *f, const char *host_spec, const char *xml)
{
    char *root = tu_mkdtemp("host");
    assert_int_equal(fakesysfs_build(root, host_spec), 0);
    setenv("SYNOPASSTHRU_SYSFS_ROOT", root, 1);
    enum sp_verdict v = decide(f, xml);
    setenv("SYNOPASSTHRU_SYSFS_ROOT", sysfs, 1);
    tu_rm_rf(root);
    free(root);
    return v;
}

static int has_function(const struct sp_start *st, unsigned function)
{
    for (size_t i = 0; i < st->n_devs; i++)
        if (st->devs[i].addr.function == function)
            return 1;
    return 0;
}

/* An APU's slot: the iGPU and its HDMI audio each in a group of their own,
 * with the crypto processor, two USB controllers and the board's audio
 * beside them. Only the HDMI audio goes with the iGPU. */
static void functions_all_on_an_apu_leaves_the_host_functions(void **state)
{
    struct fixture *f = *state;
    char *path = sp_path_join(tu_src_dir(), "tests/data/hosts/amd-apu.txt");
    char *spec = tu_read(path, NULL);
    free(path);
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0' functions='all'/>"
                        "</passthrough>");
    assert_int_equal(decide_on_host(f, spec, DOMAIN("win11", "")), SP_READY);
    assert_int_equal(f->st.n_devs, 2);
    assert_true(has_function(&f->st, 1));
    for (unsigned fn = 2; fn <= 6; fn++)
        assert_false(has_function(&f->st, fn));
    free(spec);
}

/* A discrete card whose VGA, audio, USB-C and UCSI functions share one
 * IOMMU group: all of them move together; a NIC's second port in a group
 * of its own stays, one in the same group goes. */
static void functions_all_takes_the_group(void **state)
{
    struct fixture *f = *state;
    static const char host[] =
        "0000:01:00.0 10de 1e84 0x030000 nouveau 1\n"
        "0000:01:00.1 10de 10f8 0x040300 snd_hda_intel 1\n"
        "0000:01:00.2 10de 1ad8 0x0c0330 xhci_hcd 1\n"
        "0000:01:00.3 10de 1ad9 0x0c8000 - 1\n"
        "0000:05:00.0 8086 10fb 0x020000 ixgbe 2\n"
        "0000:05:00.1 8086 10fb 0x020000 ixgbe 3\n"
        "0000:06:00.0 8086 1521 0x020000 igb 4\n"
        "0000:06:00.1 8086 1521 0x020000 igb 4\n";
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='01:00.0' functions='all'/>"
                        "<pci address='05:00.0' functions='all'/>"
                        "<pci address='06:00.0' functions='all'/></passthrough>");
    assert_int_equal(decide_on_host(f, host, DOMAIN("win11", "")), SP_READY);
    assert_int_equal(f->st.n_devs, 7); /* three named, four joined */
    size_t joined = 0;
    for (size_t i = 0; i < f->st.n_devs; i++) {
        assert_false(f->st.devs[i].addr.bus == 5 && f->st.devs[i].addr.function == 1);
        if (f->st.devs[i].joined) {
            joined++;
            assert_string_equal(f->st.devs[i].joined, "shares its IOMMU group");
        }
    }
    assert_int_equal(joined, 4); /* 01:00.1-.3 and 06:00.1 */
}

static void same_device_twice_is_given_once(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0' rom='good.bin'/>"
                        "</passthrough>");
    snippet(f, "b.xml", "<passthrough vm='win11'><pci address='0000:08:00.0' rom='good.bin'/>"
                        "<pci vendor='1002' product='1638' rom='good.bin'/></passthrough>");
    assert_int_equal(decide(f, DOMAIN("win11", "")), SP_READY);
    assert_int_equal(f->st.n_devs, 1);
    assert_int_equal(f->st.report.n_added, 1);
}

static void two_roms_for_one_device_conflict(void **state)
{
    struct fixture *f = *state;
    free(tu_write_rom(f->dir, "rom/other.bin", "legacy"));
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0' rom='good.bin'/>"
                        "</passthrough>");
    snippet(f, "b.xml", "<passthrough vm='win11'><pci address='08:00.0' rom='other.bin'/>"
                        "</passthrough>");
    expect_refusal(f, DOMAIN("win11", ""), "device 0000:08:00.0 has two different ROMs");
}

static void broken_snippet_refuses_its_vm(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0'/></passthrough>");
    snippet(f, "b.xml", "<passthrough vm='win11'>\n<pci adress='08:00.1'/></passthrough>");
    expect_refusal(f, DOMAIN("win11", ""), "VM 'win11': ");
    assert_non_null(strstr(f->st.err.msg, "vm.d/b.xml:2: unknown attribute 'adress' on <pci>"));
}

/* A raw <hostdev> xmlpatch cannot mark or cannot tell apart is refused
 * with the snippet's file and line. */
static void raw_hostdev_problems_name_file_and_line(void **state)
{
    struct fixture *f = *state;
    snippet(f, "usb.xml", "<passthrough vm='win11'>\n<hostdev type='usb'><source><vendor "
                          "id='0x046d'/><product id='0xc52b'/></source>\n<alias name='ua-kbd'/>"
                          "</hostdev></passthrough>");
    expect_refusal(f, DOMAIN("win11", ""), "VM 'win11': ");
    assert_non_null(strstr(f->st.err.msg, "vm.d/usb.xml:2: <hostdev> has <alias name='ua-kbd'/>"));
    snippet(f, "usb.xml", "<passthrough vm='win11'>\n\n<hostdev type='usb'><source/></hostdev>"
                          "</passthrough>");
    expect_refusal(f, DOMAIN("win11", ""), "vm.d/usb.xml:3: <hostdev>: type='usb' needs");
}

static void unsafe_config_dir_refuses_matched_vms_only(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0'/></passthrough>");
    chmod(f->dir, 0775);
    expect_refusal(f, DOMAIN("win11", ""), "config dir");
    assert_non_null(strstr(f->st.err.msg, "group-writable"));
    assert_int_equal(decide(f, DOMAIN("other", "")), SP_UNMATCHED);
    chmod(f->dir, 0755);
}

static void bad_domain_xml_is_bad_input(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0'/></passthrough>");
    assert_int_equal(decide(f, "<domain><name>x</name>"), SP_BAD_INPUT);
    assert_non_null(strstr(f->st.err.msg, "domain XML:1:"));
    assert_int_equal(decide(f, "<domain type='kvm'><uuid>" UUID "</uuid></domain>"), SP_BAD_INPUT);
    assert_string_equal(f->st.err.msg, "domain XML has no <name>");
    assert_int_equal(decide(f, "<network><name>win11</name></network>"), SP_BAD_INPUT);
    assert_non_null(strstr(f->st.err.msg, "root element is <network>"));
}

/* Regression (found by fuzz_domain): a DTD default xmlns moved our own
 * elements into a namespace, so every start added the devices again. */
static void doctype_refuses_a_matched_vm_only(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0'/></passthrough>");
    expect_refusal(f, "<!DOCTYPE d[<!ATTLIST devices xmlns CDATA 'x'>]><domain><name>win11</name>"
                      "</domain>", "VM 'win11': domain XML with a DOCTYPE is not supported");
    assert_int_equal(decide(f, "<!DOCTYPE domain><domain><name>other</name></domain>"),
                     SP_UNMATCHED);
}

/* Regression: <name>, <uuid> and <title> were read with the DOCTYPE's
 * entities expanded, on every start once a snippet existed (a 106 KB domain
 * cost 400 MB). A DOCTYPE is now never read: a bomb costs what its bytes do,
 * and a VM whose identity rests on an entity is refused. */
static void doctype_entities_are_never_expanded(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0'/></passthrough>");
    char *dtd = tu_entity_bomb_dtd("domain");
    const struct {
        const char *body;
        enum sp_verdict verdict;
        const char *message;
    } cases[] = {
        {"<name>hostile</name><title>" TU_BOMB_REFS "</title>", SP_REFUSED,
         "domain XML with a DOCTYPE is not supported: its <title> refers to an entity"},
        {"<name>" TU_BOMB_REFS "</name>", SP_REFUSED, "its <name> refers to an entity"},
        {"<name>win11</name><description>" TU_BOMB_REFS "</description>", SP_REFUSED,
         "VM 'win11': domain XML with a DOCTYPE is not supported"},
        {"<name>other</name><description>" TU_BOMB_REFS "</description>", SP_UNMATCHED, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *xml = NULL;
        assert_true(asprintf(&xml, "%s<domain type='kvm'>%s</domain>", dtd, cases[i].body) > 0);
        tu_xml_mem_reset(1 << 20);
        enum sp_verdict v = decide(f, xml);
        size_t peak = tu_xml_mem_peak(), refused = tu_xml_mem_refused();
        tu_xml_mem_reset((size_t)-1);
        if (refused || peak > 256 * 1024)
            fail_msg("case %zu: libxml2 held %zu bytes at the peak, %zu allocations over 1 MiB "
                     "refused", i, peak, refused);
        assert_int_equal(v, cases[i].verdict);
        if (cases[i].message && !strstr(f->st.err.msg, cases[i].message))
            fail_msg("case %zu: expected '%s' in '%s'", i, cases[i].message, f->st.err.msg);
        free(xml);
    }
    free(dtd);
}

/* Regression (found by fuzz_domain): input-encoding errors went to
 * libxml2's global handler, i.e. to the host process's stderr. */
static void encoding_errors_stay_out_of_stderr(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0'/></passthrough>");
    char *log = sp_path_join(f->dir, "stderr.txt");
    fflush(stderr);
    int saved = dup(2);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    enum sp_verdict v = decide(f, "<?xml version=\"1.0\" encoding=\"SHIFT_JIS\"?>"
                                  "<domain><name>a\xe6  <</name></domain>");
    fflush(stderr);
    dup2(saved, 2);
    close(fd);
    close(saved);
    assert_int_equal(v, SP_BAD_INPUT);
    assert_non_null(strstr(f->st.err.msg, "domain XML"));
    size_t len;
    free(tu_read(log, &len));
    assert_int_equal(len, 0);
    free(log);
}

static void already_present_gives_the_same_bytes(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0'/></passthrough>");
    const char *xml = "<domain type='kvm'><name>win11</name><devices><hostdev mode='subsystem' "
                      "type='pci'><source><address domain='0' bus='8' slot='0' function='0'/>"
                      "</source></hostdev></devices></domain>";
    assert_int_equal(decide(f, xml), SP_READY);
    assert_int_equal(f->st.report.n_added, 0);
    assert_string_equal(f->st.xml, xml);
}

/* ---- ROMs that are not what they seem ---- */

/* A regression that blocks on a FIFO fails the test instead of hanging. */
#define GUARD_SECONDS 10

static void conf(struct fixture *f, const char *text)
{
    free(tu_write(f->dir, "synopassthru.conf", text, 0644));
}

static void rom_snippet(struct fixture *f, const char *rom)
{
    char text[512];
    snprintf(text, sizeof(text), "<passthrough vm='win11'><pci address='08:00.0' vendor='1002' "
             "product='1638' rom='%s'/></passthrough>", rom);
    snippet(f, "a.xml", text);
}

/* With each rom_check: a FIFO, a socket, a directory, a huge file. */
static void rom_that_is_no_regular_file_is_refused_at_once(void **state)
{
    struct fixture *f = *state;
    alarm(GUARD_SECONDS);
    char *fifo = sp_path_join(f->dir, "rom/fifo.bin"); /* no writer, ever */
    char *sub = sp_path_join(f->dir, "rom/sub.bin");
    char *huge = tu_write(f->dir, "rom/huge.bin", "", 0644);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(truncate(huge, SP_ROM_MAX_BYTES + 1), 0);
    const char *modes[] = {"rom_check = refuse\n", "rom_check = warn\n", "rom_check = off\n"};
    for (size_t i = 0; i < 3; i++) {
        conf(f, modes[i]);
        rom_snippet(f, "fifo.bin");
        expect_refusal(f, DOMAIN("win11", ""), "/rom/fifo.bin for 0000:08:00.0: is a FIFO, "
                                               "not a regular file");
        rom_snippet(f, "sub.bin");
        expect_refusal(f, DOMAIN("win11", ""), "/rom/sub.bin for 0000:08:00.0: is a directory");
        /* Another VM starts meanwhile. */
        assert_int_equal(decide(f, DOMAIN("other", "")), SP_UNMATCHED);
    }
    conf(f, "rom_check = refuse\n");
    rom_snippet(f, "huge.bin");
    expect_refusal(f, DOMAIN("win11", ""), "larger than any option ROM (limit 16 MiB)");
    alarm(0);
    free(fifo);
    free(sub);
    free(huge);
}

static void rom_must_resolve_inside_rom_dir(void **state)
{
    struct fixture *f = *state;
    char *secret = tu_write(f->dir, "secret.bin", "root:$y$j9T$...:19000:0:99999:7:::\n", 0600);
    char *outside = tu_mkdtemp("outside-rom");
    char *far = tu_write_rom(outside, "far.bin", "legacy");
    char *link = sp_path_join(f->dir, "rom/link.bin");
    assert_int_equal(symlink(far, link), 0);
    char *alias = sp_path_join(f->dir, "rom/alias.bin");
    assert_int_equal(symlink("good.bin", alias), 0);
    char *rom_dir = sp_path_join(f->dir, "rom");
    char want[1024];
    /* rom_check = off reads nothing, yet the path is judged all the same. */
    conf(f, "rom_check = off\n");
    rom_snippet(f, "../secret.bin");
    snprintf(want, sizeof(want), "VM 'win11': ROM %s/../secret.bin for 0000:08:00.0: outside the "
             "ROM dir %s (it resolves to %s): refusing it", rom_dir, rom_dir, secret);
    assert_int_equal(decide(f, DOMAIN("win11", "")), SP_REFUSED);
    assert_string_equal(f->st.err.msg, want);
    rom_snippet(f, secret);
    expect_refusal(f, DOMAIN("win11", ""), "outside the ROM dir");
    rom_snippet(f, "link.bin");
    expect_refusal(f, DOMAIN("win11", ""), "/rom/link.bin for 0000:08:00.0: outside the ROM dir");
    /* With the content checked, no byte of a file outside is ever shown. */
    conf(f, "rom_check = refuse\n");
    rom_snippet(f, secret);
    expect_refusal(f, DOMAIN("win11", ""), "outside the ROM dir");
    assert_null(strstr(f->st.err.msg, "found 0x"));
    /* Inside it: a plain name, a symlink to a file there, an absolute path. */
    rom_snippet(f, "alias.bin");
    assert_int_equal(decide(f, DOMAIN("win11", "")), SP_READY);
    char *good = sp_path_join(rom_dir, "good.bin");
    rom_snippet(f, good);
    assert_int_equal(decide(f, DOMAIN("win11", "")), SP_READY);
    tu_rm_rf(outside);
    free(outside);
    free(secret);
    free(far);
    free(link);
    free(alias);
    free(rom_dir);
    free(good);
}

static void rom_dir_and_the_dirs_above_pass_strict_modes(void **state)
{
    struct fixture *f = *state;
    free(tu_write_rom(f->dir, "pub/roms/good.bin", "legacy"));
    char *pub = sp_path_join(f->dir, "pub");
    conf(f, "rom_dir = pub/roms\n");
    rom_snippet(f, "good.bin");
    assert_int_equal(decide(f, DOMAIN("win11", "")), SP_READY);
    assert_int_equal(chmod(pub, 0777), 0);
    expect_refusal(f, DOMAIN("win11", ""), "ROM dir ");
    assert_non_null(strstr(f->st.err.msg, "parent directory"));
    assert_non_null(strstr(f->st.err.msg, "is world-writable (mode 0777)"));
    assert_int_equal(chmod(pub, 0755), 0);
    char *roms = sp_path_join(pub, "roms");
    assert_int_equal(chmod(roms, 0775), 0);
    expect_refusal(f, DOMAIN("win11", ""), "pub/roms is group-writable (mode 0775)");
    free(pub);
    free(roms);
}

/* ---- ROMs and the firmware the VM boots ---- */

#define UEFI_OS "  <os firmware='efi'>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n"
#define BIOS_OS "  <os>\n    <type arch='x86_64' machine='pc-i440fx-2.2'>hvm</type>\n  </os>\n"
#define GOP_NOTE "EFI driver image (x64, boot service driver), names 03ea:0665; UEFI firmware " \
                 "loads it from this function"

static size_t warnings_with(const struct sp_start *st, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < st->n_warnings; i++)
        n += strstr(st->warnings[i], needle) != NULL;
    return n;
}

static size_t firmware_warnings(const struct sp_start *st)
{
    return warnings_with(st, " boots UEFI (OVMF), but ") + warnings_with(st, " boots SeaBIOS, but ");
}

/* The snippet on the APU box: AMD's GOP driver, whose PCIR names
 * 03ea:0665, on the iGPU's HDMI audio function. */
static void gop_driver_on_the_audio_function_is_taken_with_a_note(void **state)
{
    struct fixture *f = *state;
    char *path = sp_path_join(tu_src_dir(), "tests/data/hosts/amd-apu.txt");
    char *spec = tu_read(path, NULL);
    free(tu_write_rom(f->dir, "rom/AMDGopDriver_5600G.rom", "gop-driver"));
    snippet(f, "a.xml", "<passthrough vm='win11'>\n<pci address=\"08:00.1\" vendor=\"1002\" "
                        "product=\"1637\" rom=\"AMDGopDriver_5600G.rom\"/>\n</passthrough>");
    assert_int_equal(decide_on_host(f, spec, DOMAIN("win11", UEFI_OS)), SP_READY);
    assert_int_equal(f->st.n_devs, 1);
    assert_string_equal(f->st.devs[0].rom_note, GOP_NOTE);
    assert_int_equal(firmware_warnings(&f->st), 0);
    char *record = sp_audit_format(&f->st, "virDomainCreateXML", NULL);
    assert_non_null(strstr(record, "\"rom_note\":\"" GOP_NOTE "\""));
    free(record);
    /* A ROM that names its device needs no note. */
    rom_snippet(f, "good.bin");
    assert_int_equal(decide(f, DOMAIN("win11", BIOS_OS)), SP_READY);
    assert_null(f->st.devs[0].rom_note);
    record = sp_audit_format(&f->st, "virDomainCreateXML", NULL);
    assert_non_null(strstr(record, "\"rom_note\":null"));
    free(record);
    free(spec);
    free(path);
}

/* Any x86 image in the ROM must name the device: beside an EFI image that
 * names it, and on the sibling function of the GPU it names. */
static void x86_image_of_another_device_is_refused(void **state)
{
    struct fixture *f = *state;
    free(tu_write_rom(f->dir, "rom/mixed.bin", "legacy-efi"));
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='05:00.0' rom='mixed.bin'/>"
                        "</passthrough>");
    expect_refusal(f, DOMAIN("win11", UEFI_OS), "/rom/mixed.bin for 0000:05:00.0 (8086:10fb) "
                   "belongs to another device: its x86 image names 1002:1638");
    free(tu_write_rom(f->dir, "rom/vbios.bin", "apu-vbios-gop"));
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.1' rom='vbios.bin'/>"
                        "</passthrough>");
    expect_refusal(f, DOMAIN("win11", UEFI_OS), "/rom/vbios.bin for 0000:08:00.1 (1002:1637) "
                   "belongs to another device: its images name 1002:1638");
}

static void firmware_is_read_from_os(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *os;
        enum sp_firmware firmware;
    } cases[] = {
        {UEFI_OS, SP_FIRMWARE_UEFI},
        {"<os><type>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd"
         "</loader></os>", SP_FIRMWARE_UEFI},
        {"<os><loader>/usr/share/edk2/x64/OVMF_CODE.4m.fd</loader></os>", SP_FIRMWARE_UEFI},
        {"<os><loader type='pflash'>/usr/local/share/qemu/Efi-x86_64.bin</loader></os>",
         SP_FIRMWARE_UEFI},
        {"<os><type machine='q35'>hvm</type><loader>/usr/share/seabios/bios.bin</loader></os>",
         SP_FIRMWARE_BIOS},
        {"<os firmware='bios'><type>hvm</type></os>", SP_FIRMWARE_BIOS},
        {BIOS_OS, SP_FIRMWARE_BIOS},
        {"", SP_FIRMWARE_UNKNOWN},
    };
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0'/></passthrough>");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *xml = NULL;
        assert_true(asprintf(&xml, DOMAIN("win11", "%s"), cases[i].os) > 0);
        assert_int_equal(decide(f, xml), SP_READY);
        if (f->st.firmware != cases[i].firmware)
            fail_msg("case %zu: firmware %d, want %d", i, f->st.firmware, cases[i].firmware);
        free(xml);
    }
}

static void gpu_snippet(struct fixture *f, const char *gpu_rom, const char *audio_rom)
{
    char text[512];
    snprintf(text, sizeof(text), "<passthrough vm='win11'><pci address='08:00.0' rom='%s'/>%s%s%s"
             "</passthrough>", gpu_rom, audio_rom ? "<pci address='08:00.1' rom='" : "",
             audio_rom ? audio_rom : "", audio_rom ? "'/>" : "");
    snippet(f, "a.xml", text);
}

/* A UEFI VM shows nothing on a GPU before its driver loads unless an x64
 * EFI driver (the GOP) sits in the ROM of the GPU or of its audio function. */
static void uefi_vm_needs_a_gop_driver(void **state)
{
    struct fixture *f = *state;
    free(tu_write_rom(f->dir, "rom/gop.rom", "gop-driver"));
    free(tu_write_rom(f->dir, "rom/vbios-gop.bin", "apu-vbios-gop"));
    gpu_snippet(f, "good.bin", NULL);
    assert_int_equal(decide(f, DOMAIN("win11", UEFI_OS)), SP_READY);
    assert_int_equal(firmware_warnings(&f->st), 1);
    char want[1024];
    snprintf(want, sizeof(want), "VM 'win11' boots UEFI (OVMF), but the ROM %s/rom/good.bin for "
             "0000:08:00.0 has no x64 EFI image, and no other function of the GPU has one: the "
             "firmware cannot show anything on this GPU before the guest's driver loads. Give a "
             "GOP driver (an x64 EFI image) in the ROM of the GPU's audio function or appended "
             "to this ROM, or boot the VM with SeaBIOS", f->dir);
    assert_int_equal(warnings_with(&f->st, want), 1);
    assert_int_equal(decide(f, DOMAIN("win11", BIOS_OS)), SP_READY);
    assert_int_equal(firmware_warnings(&f->st), 0);
    /* check's stand-in domain has no <os>: which firmware is not known. */
    assert_int_equal(decide(f, DOMAIN("win11", "")), SP_READY);
    assert_int_equal(firmware_warnings(&f->st), 0);
    gpu_snippet(f, "good.bin", "gop.rom");
    assert_int_equal(decide(f, DOMAIN("win11", UEFI_OS)), SP_READY);
    assert_int_equal(firmware_warnings(&f->st), 0);
    gpu_snippet(f, "vbios-gop.bin", NULL);
    assert_int_equal(decide(f, DOMAIN("win11", UEFI_OS)), SP_READY);
    assert_int_equal(firmware_warnings(&f->st), 0);
    assert_int_equal(decide(f, DOMAIN("win11", BIOS_OS)), SP_READY);
    assert_int_equal(firmware_warnings(&f->st), 0);
}

/* SeaBIOS runs only an x86 image whose own PCIR IDs are the GPU's. */
static void seabios_vm_needs_an_x86_image(void **state)
{
    struct fixture *f = *state;
    free(tu_write_rom(f->dir, "rom/gop.rom", "gop-driver"));
    free(tu_write_rom(f->dir, "rom/devlist.bin", "devlist"));
    gpu_snippet(f, "gop.rom", NULL);
    assert_int_equal(decide(f, DOMAIN("win11", BIOS_OS)), SP_READY);
    assert_string_equal(f->st.devs[0].rom_note, GOP_NOTE);
    char want[1024];
    snprintf(want, sizeof(want), "VM 'win11' boots SeaBIOS, but the ROM %s/rom/gop.rom for "
             "0000:08:00.0 has no x86 image for 1002:1638: SeaBIOS runs none of it, so nothing "
             "shows on this GPU before the guest's driver loads. Give the GPU's vBIOS "
             "(synopassthru rom extract --vfct for an AMD iGPU, --pci for a card) or boot the "
             "VM with UEFI (OVMF)", f->dir);
    assert_int_equal(firmware_warnings(&f->st), 1);
    assert_int_equal(warnings_with(&f->st, want), 1);
    assert_int_equal(decide(f, DOMAIN("win11", UEFI_OS)), SP_READY);
    assert_int_equal(firmware_warnings(&f->st), 0);
    gpu_snippet(f, "devlist.bin", NULL); /* names 1638 in its device list only */
    assert_int_equal(decide(f, DOMAIN("win11", BIOS_OS)), SP_READY);
    assert_int_equal(warnings_with(&f->st, "has no x86 image for 1002:1638"), 1);
    /* Not a display device: its ROM is not the screen's. */
    free(tu_write_rom(f->dir, "rom/nic.bin", "efi"));
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='05:00.0' rom='nic.bin'/>"
                        "</passthrough>");
    assert_int_equal(decide(f, DOMAIN("win11", BIOS_OS)), SP_READY);
    assert_int_equal(firmware_warnings(&f->st), 0);
    /* rom_check = off reads no ROM, and so says nothing of it. */
    conf(f, "audit_log =\nrom_check = off\n");
    gpu_snippet(f, "gop.rom", NULL);
    assert_int_equal(decide(f, DOMAIN("win11", BIOS_OS)), SP_READY);
    assert_int_equal(firmware_warnings(&f->st), 0);
    assert_null(f->st.devs[0].rom_note);
}

int main(void)
{
    tu_xml_mem_install();
    tu_trust_current_user();
    sysfs = tu_default_sysfs();
    setenv("SYNOPASSTHRU_SYSFS_ROOT", sysfs, 1);
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(unmatched_vm_is_left_alone),
        T(matched_by_name_uuid_or_title),
        T(relative_rom_resolves_in_rom_dir),
        T(missing_rom_is_refused_with_the_documented_message),
        T(unsafe_rom_is_refused),
        T(rom_of_another_device_is_refused),
        T(rom_check_warn_lets_the_start_go_on),
        T(absent_device_and_wrong_ids_are_both_listed),
        T(subsystem_ids_are_checked_when_given),
        T(ids_expand_to_every_matching_device),
        T(functions_all_takes_the_display_and_its_audio),
        T(functions_all_on_an_apu_leaves_the_host_functions),
        T(functions_all_takes_the_group),
        T(same_device_twice_is_given_once),
        T(two_roms_for_one_device_conflict),
        T(broken_snippet_refuses_its_vm),
        T(raw_hostdev_problems_name_file_and_line),
        T(unsafe_config_dir_refuses_matched_vms_only),
        T(bad_domain_xml_is_bad_input),
        T(already_present_gives_the_same_bytes),
        T(doctype_refuses_a_matched_vm_only),
        T(doctype_entities_are_never_expanded),
        T(encoding_errors_stay_out_of_stderr),
        T(rom_that_is_no_regular_file_is_refused_at_once),
        T(rom_must_resolve_inside_rom_dir),
        T(rom_dir_and_the_dirs_above_pass_strict_modes),
        T(gop_driver_on_the_audio_function_is_taken_with_a_note),
        T(x86_image_of_another_device_is_refused),
        T(firmware_is_read_from_os),
        T(uefi_vm_needs_a_gop_driver),
        T(seabios_vm_needs_an_x86_image),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_rm_rf(sysfs);
    free(sysfs);
    return rc;
}
