/* vfio: checks and the bind/release sequences against the kernel model
 * (tests/tools/kmodel.c, linked into this test) on the shipped fake hosts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/fsutil.h"
#include "../../vfio/bind.h"
#include "../../vfio/state.h"
#include "../tools/fakesysfs.h"
#include "testutil.h"

struct host {
    char *root;
    char *state;
};

static struct host *make_host(const char *name)
{
    struct host *h = calloc(1, sizeof(*h));
    h->root = tu_mkdtemp("vfio-host");
    h->state = tu_mkdtemp("vfio-state");
    char spec[512];
    snprintf(spec, sizeof(spec), "%s/tests/data/hosts/%s.txt", tu_src_dir(), name);
    assert_int_equal(fakesysfs_build_from_file(h->root, spec), 0);
    return h;
}

static int setup_apu(void **state)
{
    *state = make_host("amd-apu");
    return 0;
}

static int teardown(void **state)
{
    struct host *h = *state;
    tu_rm_rf(h->root);
    tu_rm_rf(h->state);
    free(h->root);
    free(h->state);
    free(h);
    return 0;
}

static struct sp_pci_addr addr(const char *text)
{
    struct sp_pci_addr a;
    assert_int_equal(sp_pci_addr_parse(text, &a, NULL), 0);
    return a;
}

static void expect_driver(const struct host *h, const char *where, const char *want)
{
    char now[64];
    struct sp_pci_addr a = addr(where);
    assert_int_equal(sp_sysfs_driver(h->root, &a, now, sizeof(now), NULL), 0);
    if (strcmp(now, want) != 0)
        fail_msg("%s is bound to '%s', expected '%s'", where, now, want);
}

static int bind(const struct host *h, const char *vm, const char *const *addrs, size_t n,
                struct sp_err *err)
{
    struct sp_vfio_device devs[8];
    struct sp_pci_addr list[8];
    for (size_t i = 0; i < n; i++) {
        devs[i] = (struct sp_vfio_device){.addr = addr(addrs[i])};
        list[i] = devs[i].addr;
    }
    struct sp_vfio_request req = {h->root, "/proc", h->state, vm, devs, n, list, NULL, n};
    return sp_vfio_bind_request(&req, NULL, err);
}

static void binds_with_override_unbind_probe(void **state)
{
    struct host *h = *state;
    struct sp_err err;
    static const char *const gpu[] = {"08:00.0", "08:00.1"};
    assert_int_equal(bind(h, "win11", gpu, 2, &err), 0);
    expect_driver(h, "08:00.0", "vfio-pci");
    expect_driver(h, "08:00.1", "vfio-pci");
    struct sp_hold hold;
    struct sp_pci_addr a = addr("08:00.0");
    assert_int_equal(sp_state_read(h->state, &a, &hold, &err), 1);
    assert_string_equal(hold.vm, "win11");
    assert_string_equal(hold.driver, "amdgpu");
    /* Never new_id: it would catch every device with the same IDs. */
    char *note = sp_path_join(h->root, ".new_id-used");
    assert_int_not_equal(access(note, F_OK), 0);
    free(note);
    /* Binding again is a no-op. */
    assert_int_equal(bind(h, "win11", gpu, 2, &err), 0);
}

static void release_gives_the_host_driver_back(void **state)
{
    struct host *h = *state;
    struct sp_err err;
    static const char *const gpu[] = {"08:00.0", "06:00.0"};
    assert_int_equal(bind(h, "win11", gpu, 2, &err), 0);
    struct sp_pci_addr list[] = {addr("08:00.0"), addr("06:00.0")};
    assert_int_equal(sp_vfio_release(h->root, h->state, "win11", list, 2, NULL, &err), 0);
    expect_driver(h, "08:00.0", "amdgpu");
    expect_driver(h, "06:00.0", ""); /* the TPU had no driver */
    char override[64];
    assert_int_equal(sp_sysfs_driver_override(h->root, &list[0], override, sizeof(override),
                                              &err), 0);
    assert_string_equal(override, "");
    struct sp_hold hold;
    assert_int_equal(sp_state_read(h->state, &list[0], &hold, &err), 0);
}

static void non_viable_group_lists_every_culprit(void **state)
{
    struct host *h = *state;
    struct sp_err err;
    static const char *const nic[] = {"03:00.0"};
    assert_int_equal(bind(h, "router", nic, 1, &err), -1);
    assert_non_null(strstr(err.msg, "device 0000:03:00.0: IOMMU group 2 is not viable"));
    assert_non_null(strstr(err.msg, "0000:02:00.0 [1022:43ee]"));
    assert_non_null(strstr(err.msg, "(driver xhci_hcd)"));
    assert_non_null(strstr(err.msg, "0000:02:00.1 [1022:43eb]"));
    assert_null(strstr(err.msg, "0000:02:00.2")); /* a bridge is no culprit */
    assert_non_null(strstr(err.msg, "pass the whole group"));
    expect_driver(h, "03:00.0", "igc"); /* nothing touched */
    /* The whole group (bridges aside) is fine. */
    static const char *const whole[] = {"03:00.0", "02:00.0", "02:00.1"};
    assert_int_equal(bind(h, "router", whole, 3, &err), 0);
    expect_driver(h, "02:00.1", "vfio-pci");
}

static void wrong_ids_are_named(void **state)
{
    struct host *h = *state;
    struct sp_vfio_device d = {.addr = addr("05:00.0"), .has_ids = 1, .ids = {0x1002, 0x1638}};
    struct sp_problems p = {0};
    sp_vfio_check(h->root, &d, 1, &p);
    assert_int_equal(p.n, 1);
    assert_non_null(strstr(p.items[0], "device 0000:05:00.0 is 8086:10fb"));
    assert_non_null(strstr(p.items[0], "not the configured 1002:1638"));
    assert_non_null(strstr(p.items[0], "82599"));  /* a name from pci.ids */
    sp_problems_free(&p);
}

static void failed_device_rolls_back_the_others(void **state)
{
    struct host *h = *state;
    char *flag = sp_path_join(h->root, "bus/pci/drivers/snd_hda_intel/.refuse-unbind");
    free(tu_write(h->root, "bus/pci/drivers/snd_hda_intel/.refuse-unbind", "", 0644));
    struct sp_err err;
    static const char *const gpu[] = {"08:00.0", "08:00.1"};
    assert_int_equal(bind(h, "win11", gpu, 2, &err), -1);
    assert_non_null(strstr(err.msg, "device 0000:08:00.1: write '0000:08:00.1' to"));
    assert_non_null(strstr(err.msg, "Device or resource busy"));
    expect_driver(h, "08:00.0", "amdgpu"); /* put back */
    expect_driver(h, "08:00.1", "snd_hda_intel");
    struct sp_hold hold;
    struct sp_pci_addr a = addr("08:00.0");
    assert_int_equal(sp_state_read(h->state, &a, &hold, &err), 0);
    unlink(flag);
    free(flag);
}

static void a_device_held_by_another_vm_is_refused(void **state)
{
    struct host *h = *state;
    struct sp_err err;
    static const char *const tpu[] = {"06:00.0"};
    assert_int_equal(bind(h, "frigate", tpu, 1, &err), 0);
    assert_int_equal(bind(h, "other", tpu, 1, &err), -1);
    assert_string_equal(err.msg, "device 0000:06:00.0 is held by VM 'frigate'");
    /* A hold whose VM is gone (old, no QEMU process) is free. */
    struct sp_hold old = {.vm = "frigate", .since = (long long)time(NULL) - 3600};
    struct sp_pci_addr a = addr("06:00.0");
    assert_int_equal(sp_state_write(h->state, &a, &old, &err), 0);
    assert_int_equal(bind(h, "other", tpu, 1, &err), 0);
}

static void iommu_off_and_no_vfio_are_their_own_errors(void **state)
{
    (void)state;
    struct host *off = make_host("iommu-off");
    struct sp_vfio_device d = {.addr = addr("08:00.0")};
    struct sp_problems p = {0};
    sp_vfio_check(off->root, &d, 1, &p);
    assert_int_equal(p.n, 1);
    assert_non_null(strstr(p.items[0], "the IOMMU is off"));
    sp_problems_free(&p);
    void *s = off;
    teardown(&s);

    struct host *h = make_host("amd-apu");
    char *vfio = sp_path_join(h->root, "bus/pci/drivers/vfio-pci");
    tu_rm_rf(vfio);
    free(vfio);
    sp_vfio_check(h->root, &d, 1, &p);
    assert_int_equal(p.n, 1);
    assert_non_null(strstr(p.items[0], "vfio-pci driver is not loaded"));
    sp_problems_free(&p);
    s = h;
    teardown(&s);
}

static void bridge_only_group_is_viable(void **state)
{
    (void)state;
    struct host *h = make_host("gpu-with-bridge");
    struct sp_err err;
    static const char *const gpu[] = {"01:00.0", "01:00.1"};
    assert_int_equal(bind(h, "gaming", gpu, 2, &err), 0);
    expect_driver(h, "01:00.0", "vfio-pci");
    expect_driver(h, "00:01.0", "pcieport");
    /* The GPU alone is not viable: its audio function is an endpoint. */
    struct sp_pci_info info;
    struct sp_pci_addr a = addr("01:00.0");
    char why[512];
    assert_int_equal(sp_vfio_release(h->root, h->state, NULL, &a, 1, NULL, &err), 0);
    a = addr("01:00.1");
    assert_int_equal(sp_vfio_release(h->root, h->state, NULL, &a, 1, NULL, &err), 0);
    a = addr("01:00.0");
    assert_int_equal(sp_sysfs_device_info(h->root, &a, &info, &err), 0);
    assert_int_equal(sp_vfio_verdict(h->root, &info, why, sizeof(why)), SP_GROUP_WHOLE);
    assert_non_null(strstr(why, "0000:01:00.1"));
    void *s = h;
    teardown(&s);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_apu, teardown)
    const struct CMUnitTest tests[] = {
        T(binds_with_override_unbind_probe),
        T(release_gives_the_host_driver_back),
        T(non_viable_group_lists_every_culprit),
        T(wrong_ids_are_named),
        T(failed_device_rolls_back_the_others),
        T(a_device_held_by_another_vm_is_refused),
        cmocka_unit_test(iommu_off_and_no_vfio_are_their_own_errors),
        cmocka_unit_test(bridge_only_group_is_viable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
