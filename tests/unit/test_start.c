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
#include "../../core/start.h"
#include "testutil.h"

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

static void functions_all_passes_the_whole_slot(void **state)
{
    struct fixture *f = *state;
    snippet(f, "a.xml", "<passthrough vm='win11'><pci address='08:00.0' vendor='1002' "
                        "product='1638' rom='good.bin' functions='all'/></passthrough>");
    assert_int_equal(decide(f, DOMAIN("win11", "")), SP_READY);
    assert_int_equal(f->st.n_devs, 3); /* 08:00.0, .1 and .6 on the default host */
    assert_int_equal(f->st.devs[1].addr.function, 1);
    assert_int_equal(f->st.devs[2].addr.function, 6);
    assert_non_null(f->st.devs[0].rom);
    assert_null(f->st.devs[1].rom);
    /* One guest slot, functions 0..2, multifunction on 0. */
    assert_non_null(strstr(f->st.xml, "function=\"0x2\"/>"));
    assert_non_null(strstr(f->st.xml, "multifunction=\"on\""));
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

int main(void)
{
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
        T(functions_all_passes_the_whole_slot),
        T(same_device_twice_is_given_once),
        T(two_roms_for_one_device_conflict),
        T(broken_snippet_refuses_its_vm),
        T(unsafe_config_dir_refuses_matched_vms_only),
        T(bad_domain_xml_is_bad_input),
        T(already_present_gives_the_same_bytes),
        T(doctype_refuses_a_matched_vm_only),
        T(encoding_errors_stay_out_of_stderr),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_rm_rf(sysfs);
    free(sysfs);
    return rc;
}
