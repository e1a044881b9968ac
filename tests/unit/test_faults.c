/* faults: what the start and the vfio helper meet when the machine itself
 * fails them, in-process where the moment can be chosen exactly:
 *  - libxml2 running out of memory at each allocation of a start's patch
 *    path in turn (xmlMemSetup): never a crash, and a VM a snippet names is
 *    either patched exactly as without the fault or refused with a reason,
 *    never handed on as if nothing named it (it would start without its
 *    devices);
 *  - a device vanishing from sysfs while it is being checked: between the
 *    start's reads of its IDs, and between the helper's check and its bind.
 *    A clear error names the device, and nothing is left bound.
 * The kernel model (tests/tools/kmodel.c) is compiled into this test, as in
 * test_vfio, so that the bind's writes move the fake tree's driver links. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/xmlmemory.h>

#include "../../common/fsutil.h"
#include "../../config/config.h"
#include "../../core/start.h"
#include "../../vfio/bind.h"
#include "../../vfio/check.h"
#include "../../vfio/state.h"
#include "../tools/fakesysfs.h"
#include "testutil.h"

/* A regression that blocks fails the test instead of hanging it. */
#define GUARD_SECONDS 60

/* ---- libxml2's allocator, failing one chosen allocation ---- */

static int armed;
static unsigned long counted, fail_at; /* fail_at 0: none fails */
static unsigned long failed;

static int refuse_this_one(void)
{
    if (!armed)
        return 0;
    if (++counted != fail_at)
        return 0;
    failed++;
    return 1;
}

static void *failing_malloc(size_t size)
{
    return refuse_this_one() ? NULL : malloc(size);
}

static void *failing_realloc(void *mem, size_t size)
{
    return refuse_this_one() ? NULL : realloc(mem, size);
}

static char *failing_strdup(const char *s)
{
    return refuse_this_one() ? NULL : strdup(s);
}

static void arm(unsigned long n)
{
    counted = 0;
    failed = 0;
    fail_at = n;
    armed = 1;
}

static void disarm(void)
{
    armed = 0;
}

/* ---- a start's patch path under allocation failure ---- */

struct oom_case {
    const char *golden; /* tests/data/<golden> */
};

static const char *verdict_name(enum sp_verdict v)
{
    static const char *const names[] = {"UNMATCHED", "READY", "REFUSED", "BAD_INPUT"};
    return names[v];
}

/* Every allocation libxml2 makes while one matched start is decided fails
 * in turn: the result is the fault-free one, byte for byte, or a refusal
 * that names the VM. */
static unsigned long run_oom_case(const struct oom_case *oc)
{
    char *case_dir = NULL;
    assert_true(asprintf(&case_dir, "%s/tests/data/%s", tu_src_dir(), oc->golden) > 0);
    char *sysfs = tu_case_sysfs(case_dir);
    setenv("SYNOPASSTHRU_SYSFS_ROOT", sysfs, 1);
    char *cfg_dir = tu_case_config(case_dir);
    char *domain_path = sp_path_join(case_dir, "domain.xml");
    size_t len;
    char *xml = tu_read(domain_path, &len);

    struct sp_config *cfg = sp_config_new(cfg_dir);
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    assert_int_equal(sp_config_snapshot(cfg, &snap, &err), 0);
    struct sp_start st;
    assert_int_equal(sp_start_prepare(snap, xml, len, &st), 0);
    if (st.verdict != SP_READY)
        fail_msg("%s: without a fault the verdict is %s (%s)", oc->golden,
                 verdict_name(st.verdict), st.err.msg);
    char *want = strdup(st.xml);
    char *label = strdup(st.label);
    sp_start_free(&st);

    /* Every n is tried; the first bad outcome of each kind is kept. */
    unsigned long n, refusals = 0, bad = 0;
    char first_bad[4][SP_ERR_MAX + 256] = {"", "", "", ""};
    for (n = 1;; n++) {
        arm(n);
        int rc = sp_start_prepare(snap, xml, len, &st);
        disarm();
        if (failed == 0) {
            /* Fewer allocations than n: every one has failed once. */
            assert_int_equal(rc, 0);
            assert_int_equal(st.verdict, SP_READY);
            sp_start_free(&st);
            break;
        }
        int kind = -1;
        char what[SP_ERR_MAX + 256] = "";
        if (rc < 0) {
            kind = 0;
            snprintf(what, sizeof(what), "allocation %lu: sp_start_prepare returned -1, so the "
                     "start goes on with the original XML", n);
        } else if (st.verdict == SP_READY && strcmp(st.xml, want) != 0) {
            kind = 1;
            snprintf(what, sizeof(what), "allocation %lu: the patched XML differs from the one "
                     "without the fault", n);
        } else if (st.verdict == SP_REFUSED &&
                   (!st.err.msg[0] || (st.id.name && !strstr(st.err.msg, label)))) {
            /* Named, unless the failure came before the VM was known. */
            kind = 2;
            snprintf(what, sizeof(what), "allocation %lu: a refusal that does not name the VM: "
                     "'%s'", n, st.err.msg);
        } else if (st.verdict != SP_READY && st.verdict != SP_REFUSED) {
            kind = 3;
            snprintf(what, sizeof(what), "allocation %lu: verdict %s (%s), so the start goes on "
                     "with the original XML", n, verdict_name(st.verdict), st.err.msg);
        } else if (st.verdict == SP_REFUSED) {
            refusals++;
        }
        if (kind >= 0) {
            bad++;
            if (!first_bad[kind][0])
                snprintf(first_bad[kind], sizeof(first_bad[kind]), "%s", what);
        }
        sp_start_free(&st);
    }
    print_message("%s: %lu libxml2 allocations, each failed once: %lu refused, %lu wrong, the "
                  "rest patched as without the fault\n", oc->golden, n - 1, refusals, bad);
    for (int k = 0; k < 4; k++)
        if (first_bad[k][0])
            print_error("%s: %s (VM %s would run without its devices, or with others)\n",
                        oc->golden, first_bad[k], label);
    /* The sweep reached the patch itself: some failure was a refusal. */
    assert_true(n > 10);
    assert_true(refusals > 0);

    sp_snapshot_release(snap);
    sp_config_free(cfg);
    tu_rm_rf(cfg_dir);
    tu_rm_rf(sysfs);
    free(cfg_dir);
    free(sysfs);
    free(xml);
    free(domain_path);
    free(case_dir);
    free(want);
    free(label);
    return bad;
}

static void oom_in_the_patch_path_refuses_or_patches_exactly(void **state)
{
    (void)state;
    alarm(GUARD_SECONDS);
    static const struct oom_case cases[] = {
        {"vmm-igpu-i440fx"},  /* ROM, title match, raw hostdev, IDs, qemu:commandline */
        {"q35-root-ports"},   /* root ports added */
        {"raw-usb-hostdev"},  /* raw USB hostdevs, already present ones */
        {"raw-scsi-mdev-hostdev"},
        {"functions-all"},
    };
    unsigned long bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        bad += run_oom_case(&cases[i]);
    alarm(0);
    if (bad)
        fail_msg("%lu failed allocations went wrong (the first of each kind is above)", bad);
}

/* ---- sysfs files vanishing mid-check ---- */

/* The test's own open() stands in for libc's: once the watched path has
 * been opened, the device named by vanish_dev is taken out of the fake
 * tree (its directory, its bus link and its driver's link back), as a
 * device unplugged or removed (echo 1 > remove) at that moment would be. */
static const char *vanish_root, *vanish_dev, *vanish_after;
static int vanished;

static void remove_device(const char *root, const char *dev)
{
    char path[SP_PATH_MAX], target[SP_PATH_MAX];
    snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", root, dev);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    if (n > 0) {
        target[n] = '\0';
        char back[SP_PATH_MAX];
        snprintf(back, sizeof(back), "%s/bus/pci/drivers/%s/%s", root, strrchr(target, '/') + 1,
                 dev);
        unlink(back);
    }
    snprintf(path, sizeof(path), "%s/devices/pci0000:00/%s", root, dev);
    tu_rm_rf(path);
    snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", root, dev);
    unlink(path);
}

/* The device goes, right after the code under test opened vanish_after. */
static void vanish_after_open(const char *path, int fd)
{
    (void)fd;
    if (vanish_after && !vanished) {
        size_t n = strlen(path), k = strlen(vanish_after);
        if (n >= k && strcmp(path + n - k, vanish_after) == 0) {
            remove_device(vanish_root, vanish_dev);
            vanished = 1;
        }
    }
}

static void watch(const char *root, const char *dev, const char *after)
{
    vanish_root = root;
    vanish_dev = dev;
    vanish_after = after;
    vanished = 0;
    tu_set_open_hook(vanish_after_open);
}

static void unwatch(void)
{
    vanish_after = NULL;
    tu_set_open_hook(NULL);
}

static char *driver(const char *root, const char *where)
{
    struct sp_pci_addr a;
    assert_int_equal(sp_pci_addr_parse(where, &a, NULL), 0);
    char now[64];
    assert_int_equal(sp_sysfs_driver(root, &a, now, sizeof(now), NULL), 0);
    return strdup(now);
}

static void expect_driver(const char *root, const char *where, const char *want)
{
    char *now = driver(root, where);
    if (strcmp(now, want) != 0)
        fail_msg("%s is bound to '%s', expected '%s'", where, now, want);
    free(now);
}

static void expect_in(const char *what, const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("%s: expected '%s' in '%s'", what, needle, text);
}

struct host {
    char *root, *state, *proc;
};

static int setup_host(void **state)
{
    struct host *h = calloc(1, sizeof(*h));
    h->root = tu_mkdtemp("faults-host");
    h->state = tu_mkdtemp("faults-state");
    h->proc = tu_mkdtemp("faults-proc");
    assert_int_equal(chmod(h->state, 0700), 0);
    char *spec = NULL;
    assert_true(asprintf(&spec, "%s/tests/data/hosts/amd-apu.txt", tu_src_dir()) > 0);
    assert_int_equal(fakesysfs_build_from_file(h->root, spec), 0);
    free(spec);
    alarm(GUARD_SECONDS);
    *state = h;
    return 0;
}

static int teardown_host(void **state)
{
    struct host *h = *state;
    unwatch();
    alarm(0);
    tu_rm_rf(h->root);
    tu_rm_rf(h->state);
    tu_rm_rf(h->proc);
    free(h->root);
    free(h->state);
    free(h->proc);
    free(h);
    return 0;
}

/* The start reads a device's vendor, then its device ID: the device goes
 * in between. The refusal names the VM, the device and the cause. */
static void a_device_gone_between_the_starts_reads_is_refused(void **state)
{
    struct host *h = *state;
    setenv("SYNOPASSTHRU_SYSFS_ROOT", h->root, 1);
    char *cfg_dir = tu_mkdtemp("faults-config");
    free(tu_write(cfg_dir, "synopassthru.conf", "audit_log =\n", 0644));
    free(tu_write(cfg_dir, "vm.d/a.xml",
                  "<passthrough vm='win11'><pci address='08:00.0' vendor='1002' "
                  "product='1638'/>\n<pci address='08:00.1'/></passthrough>", 0644));
    struct sp_config *cfg = sp_config_new(cfg_dir);
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    assert_int_equal(sp_config_snapshot(cfg, &snap, &err), 0);
    const char *xml = "<domain><name>win11</name><devices/></domain>";
    struct sp_start st;
    assert_int_equal(sp_start_prepare(snap, xml, strlen(xml), &st), 0);
    assert_int_equal(st.verdict, SP_READY);
    sp_start_free(&st);

    watch(h->root, "0000:08:00.1", "/0000:08:00.1/vendor");
    assert_int_equal(sp_start_prepare(snap, xml, strlen(xml), &st), 0);
    unwatch();
    assert_true(vanished);
    assert_int_equal(st.verdict, SP_REFUSED);
    expect_in("the refusal", st.err.msg, "VM 'win11': ");
    expect_in("the refusal", st.err.msg, "0000:08:00.1");
    expect_in("the refusal", st.err.msg, "vm.d/a.xml:2");
    sp_start_free(&st);
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    tu_rm_rf(cfg_dir);
    free(cfg_dir);
    unsetenv("SYNOPASSTHRU_SYSFS_ROOT");
}

static int bind_request(const struct host *h, const char *const *addrs, size_t n,
                        struct sp_err *err)
{
    struct sp_vfio_device devs[8];
    struct sp_pci_addr list[8];
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sp_pci_addr_parse(addrs[i], &devs[i].addr, NULL), 0);
        devs[i] = (struct sp_vfio_device){.addr = devs[i].addr};
        list[i] = devs[i].addr;
    }
    struct sp_vfio_request req = {h->root, h->proc, h->state, "win11", devs, n, list, NULL, n};
    return sp_vfio_bind_request(&req, NULL, err);
}

static void expect_no_hold(const struct host *h, const char *where)
{
    struct sp_pci_addr a;
    assert_int_equal(sp_pci_addr_parse(where, &a, NULL), 0);
    struct sp_hold hold;
    struct sp_err err;
    if (sp_state_read(h->state, &a, &hold, &err) != 0)
        fail_msg("%s: a hold is left (or unreadable: %s)", where, err.msg);
}

/* The helper checks every device, takes the state lock, and binds: the
 * second device goes after the check, before the bind. The request fails
 * naming that device, and the first one is back on its host driver. */
/* Binds the iGPU and its audio while 08:00.1 vanishes right after the
 * helper opens a file whose path ends in `after`: refused, naming it, and
 * nothing is left bound or held. */
static void device_gone_leaves_nothing_bound(struct host *h, const char *after)
{
    static const char *const gpu[] = {"08:00.0", "08:00.1"};
    struct sp_err err;
    watch(h->root, "0000:08:00.1", after);
    int rc = bind_request(h, gpu, 2, &err);
    unwatch();
    assert_true(vanished);
    assert_int_equal(rc, -1);
    expect_in("the bind's error", err.msg, "0000:08:00.1");
    expect_driver(h->root, "08:00.0", "amdgpu");
    expect_no_hold(h, "08:00.0");
    expect_no_hold(h, "08:00.1");
}

static void a_device_gone_between_check_and_bind_leaves_nothing_bound(void **state)
{
    /* the claim's lock, taken after the check */
    device_gone_leaves_nothing_bound(*state, "/lock");
}

/* The same, with the device going while the first one is being bound:
 * just after its driver_override is written. */
static void a_device_gone_during_the_bind_leaves_nothing_bound(void **state)
{
    device_gone_leaves_nothing_bound(*state, "/0000:08:00.0/driver_override");
}

/* A member of the device's IOMMU group goes while the group is checked
 * (listed in the group, gone when read): the group cannot be judged, so the
 * bind is refused, naming the member, and no driver changes. */
static void a_group_member_gone_mid_check_refuses_the_bind(void **state)
{
    struct host *h = *state;
    /* Group 2: the NIC, the chipset's USB and SATA, and two bridges; the
     * VM asks for all but the bridges, which may stay with the host. The
     * chipset's switch (a bridge) goes once the NIC's own IDs are read. */
    static const char *const chipset[] = {"03:00.0", "02:00.0", "02:00.1"};
    struct sp_err err;
    watch(h->root, "0000:02:00.2", "/0000:03:00.0/vendor");
    int rc = bind_request(h, chipset, 3, &err);
    unwatch();
    assert_true(vanished);
    assert_int_equal(rc, -1);
    expect_in("the bind's error", err.msg, "IOMMU group 2 is not viable");
    expect_in("the bind's error", err.msg, "0000:02:00.2");
    expect_driver(h->root, "03:00.0", "igc");
    expect_driver(h->root, "02:00.0", "xhci_hcd");
    expect_driver(h->root, "02:00.1", "ahci");
    for (size_t i = 0; i < 3; i++)
        expect_no_hold(h, chipset[i]);
}

/* Each /proc file the host-use check reads, as a FIFO (no writer, ever)
 * or a character device: the device is refused at once, naming the file,
 * never waited on. The SATA controller of the DSM box has disks below it,
 * so its check reads them all. */
static void a_proc_file_that_is_no_regular_file_refuses_at_once(void **state)
{
    (void)state;
    alarm(GUARD_SECONDS);
    static const char *const files[] = {"cmdline", "mounts", "swaps", "mdstat", "net/route",
                                        "net/if_inet6"};
    char *spec_path = sp_path_join(tu_src_dir(), "tests/data/hosts/dsm-box.txt");
    char *spec = tu_read(spec_path, NULL);
    struct sp_vfio_device sata = {0};
    assert_int_equal(sp_pci_addr_parse("02:00.1", &sata.addr, NULL), 0);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        for (int chardev = 0; chardev < 2; chardev++) {
            char *root = tu_mkdtemp("faults-dsm"), *proc = tu_mkdtemp("faults-dsm-proc");
            assert_int_equal(fakesysfs_build_host(root, proc, spec), 0);
            char *path = sp_path_join(proc, files[i]);
            unlink(path);
            if (chardev)
                assert_int_equal(mknod(path, S_IFCHR | 0444, makedev(1, 3)), 0);
            else
                assert_int_equal(mkfifo(path, 0444), 0);
            struct sp_problems p = {0};
            assert_int_equal(sp_vfio_check(root, proc, &sata, 1, &p), 0);
            char want[SP_PATH_MAX + 64];
            snprintf(want, sizeof(want), "%s: is %s, not a regular file", path,
                     chardev ? "a character device" : "a FIFO");
            int found = 0;
            for (size_t k = 0; k < p.n; k++)
                found |= strstr(p.items[k], "device 0000:02:00.1: cannot tell what the host uses") &&
                         strstr(p.items[k], want);
            if (!found)
                fail_msg("/proc/%s as %s: expected a refusal naming '%s', got %zu problems%s%s",
                         files[i], chardev ? "a character device" : "a FIFO", want, p.n,
                         p.n ? ": " : "", p.n ? p.items[0] : "");
            sp_problems_free(&p);
            tu_rm_rf(root);
            tu_rm_rf(proc);
            free(root);
            free(proc);
            free(path);
        }
    }
    free(spec);
    free(spec_path);
    alarm(0);
}

int main(void)
{
    if (xmlMemSetup(free, failing_malloc, failing_realloc, failing_strdup) != 0) {
        fprintf(stderr, "xmlMemSetup failed\n");
        return 1;
    }
    tu_trust_current_user();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oom_in_the_patch_path_refuses_or_patches_exactly),
        cmocka_unit_test_setup_teardown(a_device_gone_between_the_starts_reads_is_refused,
                                        setup_host, teardown_host),
        cmocka_unit_test_setup_teardown(a_device_gone_between_check_and_bind_leaves_nothing_bound,
                                        setup_host, teardown_host),
        cmocka_unit_test_setup_teardown(a_device_gone_during_the_bind_leaves_nothing_bound,
                                        setup_host, teardown_host),
        cmocka_unit_test_setup_teardown(a_group_member_gone_mid_check_refuses_the_bind,
                                        setup_host, teardown_host),
        cmocka_unit_test(a_proc_file_that_is_no_regular_file_refuses_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
