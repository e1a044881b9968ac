/* vfio: checks, the bind/release sequences and the holds against the
 * kernel model (tests/tools/kmodel.c, linked into this test) on the shipped
 * fake hosts, with a fake proc tree where a VM's QEMU process is looked for. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/fsutil.h"
#include "../../vfio/bind.h"
#include "../../vfio/claim.h"
#include "../../vfio/state.h"
#include "../tools/fakesysfs.h"
#include "testutil.h"

struct host {
    char *root;
    char *state;
    char *proc; /* a stand-in for /proc: QEMU processes are faked here */
};

static struct host *make_host(const char *name)
{
    struct host *h = calloc(1, sizeof(*h));
    h->root = tu_mkdtemp("vfio-host");
    h->state = tu_mkdtemp("vfio-state");
    h->proc = tu_mkdtemp("vfio-proc");
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
    tu_rm_rf(h->proc);
    free(h->root);
    free(h->state);
    free(h->proc);
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

static int bind_to(const struct host *h, const char *vm, const char *const *addrs, size_t n,
                   FILE *out, struct sp_err *err)
{
    struct sp_vfio_device devs[8];
    struct sp_pci_addr list[8];
    for (size_t i = 0; i < n; i++) {
        devs[i] = (struct sp_vfio_device){.addr = addr(addrs[i])};
        list[i] = devs[i].addr;
    }
    struct sp_vfio_request req = {h->root, h->proc, h->state, vm, devs, n, list, NULL, n};
    return sp_vfio_bind_request(&req, out, err);
}

static int bind(const struct host *h, const char *vm, const char *const *addrs, size_t n,
                struct sp_err *err)
{
    return bind_to(h, vm, addrs, n, NULL, err);
}

/* sp_vfio_release as the helper runs it; vm NULL: any holder. */
static int release(const struct host *h, const char *vm, int force,
                   const struct sp_pci_addr *addrs, size_t n, FILE *out, struct sp_err *err)
{
    struct sp_vfio_giveback g = {h->root, h->proc, h->state, vm, force};
    return sp_vfio_release(&g, addrs, n, out, err);
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
    /* Just bound, so it counts as starting: only by force. */
    assert_int_equal(release(h, "win11", 1, list, 2, NULL, &err), 0);
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
    sp_vfio_check(h->root, h->proc, &d, 1, &p);
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
    assert_non_null(strstr(err.msg, "device 0000:06:00.0 is held by VM 'frigate' (it was bound "));
    assert_non_null(strstr(err.msg, "a start has 120s to get QEMU running)"));
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
    sp_vfio_check(off->root, off->proc, &d, 1, &p);
    assert_int_equal(p.n, 1);
    assert_non_null(strstr(p.items[0], "the IOMMU is off"));
    sp_problems_free(&p);
    void *s = off;
    teardown(&s);

    struct host *h = make_host("amd-apu");
    char *vfio = sp_path_join(h->root, "bus/pci/drivers/vfio-pci");
    tu_rm_rf(vfio);
    free(vfio);
    sp_vfio_check(h->root, h->proc, &d, 1, &p);
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
    assert_int_equal(release(h, NULL, 1, &a, 1, NULL, &err), 0);
    a = addr("01:00.1");
    assert_int_equal(release(h, NULL, 1, &a, 1, NULL, &err), 0);
    a = addr("01:00.0");
    assert_int_equal(sp_sysfs_device_info(h->root, &a, &info, &err), 0);
    assert_int_equal(sp_vfio_verdict(h->root, &info, why, sizeof(why)), SP_GROUP_WHOLE);
    assert_non_null(strstr(why, "0000:01:00.1"));
    void *s = h;
    teardown(&s);
}

/* ---- holds: who holds what, and that they tell the truth ---- */

/* A process under the fake proc root whose cmdline is the n bytes given. */
static void fake_cmdline(const struct host *h, const char *pid, const char *bytes, size_t n)
{
    char name[64];
    snprintf(name, sizeof(name), "%s/cmdline", pid);
    free(tu_write(h->proc, name, "", 0644));
    char *path = sp_path_join(h->proc, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
    free(path);
}

/* A QEMU process of VM under the fake proc root, as libvirt starts one (a
 * ',' in the name doubled, as QEMU's option syntax wants). */
static void fake_qemu(const struct host *h, const char *pid, const char *vm)
{
    char *escaped = tu_replace_all(vm, ",", ",,");
    char cmdline[1024];
    int n = snprintf(cmdline, sizeof(cmdline), "/usr/bin/qemu-system-x86_64%c-name%c"
                     "guest=%s,debug-threads=on%c-S%c", 0, 0, escaped, 0, 0);
    assert_true(n > 0 && (size_t)n < sizeof(cmdline));
    fake_cmdline(h, pid, cmdline, (size_t)n);
    free(escaped);
}

static struct sp_hold hold_of(const struct host *h, const char *where)
{
    struct sp_hold hold;
    struct sp_err err;
    struct sp_pci_addr a = addr(where);
    assert_int_equal(sp_state_read(h->state, &a, &hold, &err), 1);
    return hold;
}

static void expect_no_hold(const struct host *h, const char *where)
{
    struct sp_hold hold;
    struct sp_err err;
    struct sp_pci_addr a = addr(where);
    assert_int_equal(sp_state_read(h->state, &a, &hold, &err), 0);
}

/* Makes the hold on where `seconds` older. */
static void age_hold(const struct host *h, const char *where, long long seconds)
{
    struct sp_hold hold = hold_of(h, where);
    struct sp_err err;
    struct sp_pci_addr a = addr(where);
    hold.since -= seconds;
    assert_int_equal(sp_state_write(h->state, &a, &hold, &err), 0);
}

/* Releases where (from any holder) and checks it is back on driver, unheld. */
static void expect_release(const struct host *h, const char *where, int force,
                           const char *driver)
{
    struct sp_err err;
    struct sp_pci_addr a = addr(where);
    if (release(h, NULL, force, &a, 1, NULL, &err) != 0)
        fail_msg("release %s: %s", where, err.msg);
    expect_driver(h, where, driver);
    expect_no_hold(h, where);
}

/* The hold file's bytes, or "(no hold file)" (malloc'd). */
static char *hold_text(const struct host *h, const char *where)
{
    char name[64], path[4096];
    struct sp_pci_addr a = addr(where);
    sp_pci_addr_format(&a, name);
    snprintf(path, sizeof(path), "%s/%s.hold", h->state, name);
    if (access(path, F_OK) != 0)
        return strdup("(no hold file)");
    return tu_read(path, NULL);
}

/* where bound for vm `seconds` ago; the bytes of its hold (malloc'd). */
static char *held_since(const struct host *h, const char *vm, const char *where,
                        long long seconds)
{
    struct sp_err err;
    const char *one[] = {where};
    if (bind(h, vm, one, 1, &err) != 0)
        fail_msg("bind %s: %s", where, err.msg);
    age_hold(h, where, seconds);
    return hold_text(h, where);
}

/* What a call wrote to its FILE *out. */
struct capture {
    char *text;
    size_t len;
    FILE *f;
};

static FILE *capture_start(struct capture *c)
{
    c->text = NULL;
    c->f = open_memstream(&c->text, &c->len);
    assert_non_null(c->f);
    return c->f;
}

static char *capture_end(struct capture *c)
{
    fclose(c->f);
    return c->text;
}

static void stale_takeover_keeps_the_first_original_driver(void **state)
{
    struct host *h = *state;
    struct sp_err err;
    struct capture cap;
    static const char *const igpu[] = {"08:00.0"};
    assert_int_equal(bind(h, "frigate", igpu, 1, &err), 0);
    age_hold(h, "08:00.0", 3600); /* frigate is gone: no QEMU, bound long ago */
    assert_int_equal(bind_to(h, "nvr", igpu, 1, capture_start(&cap), &err), 0);
    char *said = capture_end(&cap);
    assert_string_equal(said, "kept 0000:08:00.0 (taken over from VM 'frigate', whose hold "
                              "had lapsed)\n");
    free(said);
    struct sp_hold hold = hold_of(h, "08:00.0");
    assert_string_equal(hold.vm, "nvr");
    assert_string_equal(hold.driver, "amdgpu"); /* not vfio-pci, where it is now */
    age_hold(h, "08:00.0", 3600); /* nvr is gone too */
    expect_release(h, "08:00.0", 0, "amdgpu");
}

static void rollback_keeps_the_hold_of_a_device_already_ours(void **state)
{
    struct host *h = *state;
    struct sp_err err;
    /* Its since must come back as it was. */
    char *before = held_since(h, "win11", "08:00.2", 600);
    free(tu_write(h->root, "bus/pci/drivers/xhci_hcd/.refuse-unbind", "", 0644));
    static const char *const three[] = {"08:00.0", "08:00.2", "08:00.3"};
    assert_int_equal(bind(h, "win11", three, 3, &err), -1);
    assert_non_null(strstr(err.msg, "device 0000:08:00.3: write '0000:08:00.3' to"));
    expect_driver(h, "08:00.0", "amdgpu");
    expect_driver(h, "08:00.2", "vfio-pci"); /* it was there before the request */
    expect_driver(h, "08:00.3", "xhci_hcd");
    char *after = hold_text(h, "08:00.2");
    assert_string_equal(after, before);
    expect_no_hold(h, "08:00.0");
    expect_no_hold(h, "08:00.3");
    free(before);
    free(after);
}

static void rollback_gives_a_taken_over_hold_back(void **state)
{
    struct host *h = *state;
    struct sp_err err;
    char *before = held_since(h, "frigate", "06:00.0", 3600);
    free(tu_write(h->root, "bus/pci/drivers/snd_hda_intel/.refuse-unbind", "", 0644));
    static const char *const two[] = {"06:00.0", "08:00.1"};
    assert_int_equal(bind(h, "nvr", two, 2, &err), -1);
    char *after = hold_text(h, "06:00.0");
    assert_string_equal(after, before); /* frigate's, as it was */
    expect_driver(h, "06:00.0", "vfio-pci");
    expect_driver(h, "08:00.1", "snd_hda_intel");
    free(before);
    free(after);
}

static void release_waits_while_the_holder_counts_as_running(void **state)
{
    struct host *h = *state;
    struct sp_err err;
    static const char *const igpu[] = {"08:00.0"};
    struct sp_pci_addr a = addr("08:00.0");
    assert_int_equal(bind(h, "win11", igpu, 1, &err), 0);
    /* Just bound: its start has the grace period to get QEMU running. */
    assert_int_equal(release(h, NULL, 0, &a, 1, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "device 0000:08:00.0 is held by VM 'win11', which still "
                                    "counts as running (it was bound "));
    assert_non_null(strstr(err.msg, "stop the VM first, or release --force"));
    /* Long ago, but its QEMU runs. */
    age_hold(h, "08:00.0", 3600);
    fake_qemu(h, "4242", "win11");
    assert_int_equal(release(h, "win11", 0, &a, 1, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "held by VM 'win11', which still counts as running (its "
                                    "QEMU runs)"));
    expect_driver(h, "08:00.0", "vfio-pci");
    assert_string_equal(hold_of(h, "08:00.0").vm, "win11");
    /* QEMU gone and the grace period over: it goes back. */
    char *pid = sp_path_join(h->proc, "4242");
    tu_rm_rf(pid);
    free(pid);
    expect_release(h, "08:00.0", 0, "amdgpu");
}

static void release_by_force_while_the_holder_runs(void **state)
{
    struct host *h = *state;
    struct sp_err err;
    static const char *const igpu[] = {"08:00.0"};
    assert_int_equal(bind(h, "win11", igpu, 1, &err), 0);
    fake_qemu(h, "4242", "win11");
    expect_release(h, "08:00.0", 1, "amdgpu");
}

static void release_of_an_unheld_device_says_so(void **state)
{
    struct host *h = *state;
    struct sp_err err;
    struct capture cap;
    struct sp_pci_addr a = addr("08:00.0");
    assert_int_equal(release(h, NULL, 0, &a, 1, capture_start(&cap), &err), 0);
    char *said = capture_end(&cap);
    assert_string_equal(said, "unheld 0000:08:00.0 driver=amdgpu (nobody holds it and it is "
                              "not on vfio-pci: left as it is)\n");
    free(said);
    expect_driver(h, "08:00.0", "amdgpu");
    /* On vfio-pci with no hold (someone else put it there): back, and said. */
    static const char *const igpu[] = {"08:00.0"};
    assert_int_equal(bind(h, "win11", igpu, 1, &err), 0);
    sp_state_remove(h->state, &a);
    assert_int_equal(release(h, NULL, 0, &a, 1, capture_start(&cap), &err), 0);
    said = capture_end(&cap);
    assert_string_equal(said, "released 0000:08:00.0 driver=amdgpu (nobody held it)\n");
    free(said);
    expect_driver(h, "08:00.0", "amdgpu");
}

/* How many problems the holds check finds for vm on addr. */
static size_t hold_problems(const struct host *h, const char *vm, const char *where,
                            const char *want)
{
    struct sp_problems p = {0};
    struct sp_pci_addr a = addr(where);
    sp_vfio_check_holds(h->state, h->proc, vm, &a, 1, &p);
    size_t n = p.n;
    if (want && (n != 1 || !strstr(p.items[0], want)))
        fail_msg("want one problem with '%s', got %zu: %s", want, n, n ? p.items[0] : "");
    sp_problems_free(&p);
    return n;
}

static void check_reports_a_live_foreign_hold(void **state)
{
    struct host *h = *state;
    struct sp_err err;
    static const char *const tpu[] = {"06:00.0"};
    assert_int_equal(bind(h, "frigate", tpu, 1, &err), 0);
    hold_problems(h, "other", "06:00.0", "device 0000:06:00.0 is held by VM 'frigate' (it "
                                         "was bound ");
    assert_int_equal(hold_problems(h, "frigate", "06:00.0", NULL), 0); /* its own */
    age_hold(h, "06:00.0", 3600);
    assert_int_equal(hold_problems(h, "other", "06:00.0", NULL), 0); /* lapsed */
    fake_qemu(h, "77", "frigate");
    hold_problems(h, "other", "06:00.0", "held by VM 'frigate' (its QEMU runs)");
}

static void claim_commits_or_rolls_back_exactly(void **state)
{
    struct host *h = *state;
    struct sp_err err;
    struct capture cap;
    char *before = held_since(h, "win11", "08:00.2", 600);
    struct sp_pci_addr igpu = addr("08:00.0"), crypto = addr("08:00.2");
    struct sp_claim c;
    assert_int_equal(sp_claim_begin(&c, h->root, h->state, "win11", time(NULL), &err), 0);
    assert_int_equal(sp_claim_add(&c, &igpu, 1, &err), 0);
    assert_int_equal(sp_claim_add(&c, &crypto, 0, &err), 0);
    assert_int_equal(c.items[0].kind, SP_CLAIM_NEW);
    assert_string_equal(sp_claim_original_driver(&c.items[0]), "amdgpu");
    assert_int_equal(c.items[1].kind, SP_CLAIM_OURS);
    assert_string_equal(sp_claim_original_driver(&c.items[1]), "ccp");
    assert_int_equal(hold_of(h, "08:00.0").release, 1);
    sp_claim_rollback(&c);
    expect_driver(h, "08:00.0", "amdgpu");
    expect_no_hold(h, "08:00.0");
    char *after = hold_text(h, "08:00.2");
    assert_string_equal(after, before);
    /* The lock is free again (flock would block here otherwise). */
    assert_int_equal(sp_claim_begin(&c, h->root, h->state, "win11", time(NULL), &err), 0);
    assert_int_equal(sp_claim_add(&c, &igpu, 0, &err), 0);
    sp_claim_commit(&c, capture_start(&cap));
    char *said = capture_end(&cap);
    assert_string_equal(said, "bound 0000:08:00.0 was=amdgpu\n");
    assert_string_equal(hold_of(h, "08:00.0").driver, "amdgpu");
    free(said);
    free(before);
    free(after);
}

/* ---- the state dir and its files: never a FIFO, never others' ---- */

static char *state_file(const struct host *h, const char *name)
{
    return sp_path_join(h->state, name);
}

static void a_fifo_for_a_hold_or_the_lock_is_refused_at_once(void **state)
{
    struct host *h = *state;
    alarm(10); /* a regression that blocks fails instead of hanging */
    char *hold = state_file(h, "0000:08:00.0.hold"); /* no writer, ever */
    assert_int_equal(mkfifo(hold, 0644), 0);
    struct sp_hold got;
    struct sp_err err;
    struct sp_pci_addr a = addr("08:00.0");
    assert_int_equal(sp_state_read(h->state, &a, &got, &err), -1);
    assert_non_null(strstr(err.msg, "0000:08:00.0.hold: is a FIFO, not a regular file"));
    static const char *const gpu[] = {"08:00.0"};
    assert_int_not_equal(bind(h, "win11", gpu, 1, &err), 0);
    expect_driver(h, "08:00.0", "amdgpu");
    unlink(hold);
    char *lock = state_file(h, "lock");
    assert_int_equal(mkfifo(lock, 0600), 0);
    assert_int_equal(sp_state_lock(h->state, &err), -1);
    assert_non_null(strstr(err.msg, "state lock"));
    assert_non_null(strstr(err.msg, "is a FIFO, not a regular file"));
    unlink(lock);
    alarm(0);
    free(hold);
    free(lock);
}

static void a_state_dir_others_could_change_is_refused(void **state)
{
    struct host *h = *state;
    struct sp_err err;
    assert_int_equal(chmod(h->state, 0777), 0);
    assert_int_equal(sp_state_lock(h->state, &err), -1);
    assert_non_null(strstr(err.msg, "state dir"));
    assert_non_null(strstr(err.msg, "is world-writable (mode 0777)"));
    assert_int_equal(chmod(h->state, 0700), 0);
    /* A hold that others may write is not believed. */
    static const char *const gpu[] = {"08:00.0"};
    assert_int_equal(bind(h, "win11", gpu, 1, &err), 0);
    char *hold = state_file(h, "0000:08:00.0.hold");
    assert_int_equal(chmod(hold, 0666), 0);
    struct sp_hold got;
    struct sp_pci_addr a = addr("08:00.0");
    assert_int_equal(sp_state_read(h->state, &a, &got, &err), -1);
    assert_non_null(strstr(err.msg, "is world-writable (mode 0666)"));
    /* The state dir as a symlink: refused, not followed. */
    char *link = sp_path_join(h->proc, "state-link");
    assert_int_equal(symlink(h->state, link), 0);
    assert_int_equal(sp_state_lock(link, &err), -1);
    assert_non_null(strstr(err.msg, "is a symbolic link, not a directory"));
    free(hold);
    free(link);
}

/* ---- hold files: one field a line, whatever the VM is called ---- */

static void a_vm_name_with_a_line_break_is_refused_not_written(void **state)
{
    struct host *h = *state;
    struct sp_err err;
    struct sp_pci_addr a = addr("08:00.0");
    struct sp_hold evil = {.vm = "a\nvm=evil\nsince=0", .driver = "amdgpu", .since = 5};
    assert_int_equal(sp_state_write(h->state, &a, &evil, &err), -1);
    assert_non_null(strstr(err.msg, "0000:08:00.0.hold: VM \"a\\nvm=evil\\nsince=0\" has a "
                                    "control character (\\n), which a hold cannot record"));
    expect_no_hold(h, "08:00.0");
    struct sp_hold other = {.vm = "tab\there", .driver = "amdgpu"};
    assert_int_equal(sp_state_write(h->state, &a, &other, &err), -1);
    assert_non_null(strstr(err.msg, "VM \"tab\\there\" has a control character (\\t)"));
    struct sp_hold del = {.vm = "vm", .driver = "amd\x7fgpu"};
    assert_int_equal(sp_state_write(h->state, &a, &del, &err), -1);
    assert_non_null(strstr(err.msg, "driver \"amd\\x7fgpu\" has a control character (\\x7f)"));
    expect_no_hold(h, "08:00.0");
    /* Through a bind: refused, and the device is given back. */
    static const char *const gpu[] = {"08:00.0"};
    assert_int_not_equal(bind(h, "a\nvm=evil\nsince=0", gpu, 1, &err), 0);
    assert_non_null(strstr(err.msg, "VM \"a\\nvm=evil\\nsince=0\" has a control character"));
    expect_driver(h, "08:00.0", "amdgpu");
    expect_no_hold(h, "08:00.0");
}

/* A name a hold cannot record whole is refused before anything is bound:
 * cut short, the VM would no longer match its own holds. */
static void a_vm_name_too_long_for_a_hold_binds_nothing(void **state)
{
    struct host *h = *state;
    struct sp_err err;
    char name[301];
    memset(name, 'v', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    static const char *const gpu[] = {"08:00.0"};
    assert_int_not_equal(bind(h, name, gpu, 1, &err), 0);
    assert_non_null(strstr(err.msg, "VM name of 300 bytes: a hold records at most 255"));
    expect_driver(h, "08:00.0", "amdgpu");
    expect_no_hold(h, "08:00.0");
    name[255] = '\0'; /* the longest that fits */
    assert_int_equal(bind(h, name, gpu, 1, &err), 0);
    assert_string_equal(hold_of(h, "08:00.0").vm, name);
}

static void any_printable_vm_name_reads_back_exactly(void **state)
{
    struct host *h = *state;
    struct sp_err err;
    struct sp_pci_addr a = addr("08:00.0");
    static const char *const names[] = {"a,b", "vm=evil since=0", "x,guest=vm", "été é", "="};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct sp_hold w = {.driver = "amdgpu", .since = 42, .release = 1};
        snprintf(w.vm, sizeof(w.vm), "%s", names[i]);
        assert_int_equal(sp_state_write(h->state, &a, &w, &err), 0);
        struct sp_hold r = hold_of(h, "08:00.0");
        assert_string_equal(r.vm, names[i]);
        assert_string_equal(r.driver, "amdgpu");
        assert_int_equal(r.since, 42);
        assert_int_equal(r.release, 1);
    }
}

/* ---- is the holder's QEMU running: its -name, read as QEMU reads it ---- */

/* Whether a hold of vm counts its QEMU as running when the only process
 * has the NULL-ended argv (each argument NUL-terminated, as in /proc). */
static int runs_with(const struct host *h, const char *vm, const char *const *argv)
{
    char cmdline[1024];
    size_t n = 0;
    for (; *argv; argv++) {
        size_t len = strlen(*argv) + 1;
        assert_true(n + len <= sizeof(cmdline));
        memcpy(cmdline + n, *argv, len);
        n += len;
    }
    fake_cmdline(h, "100", cmdline, n);
    struct sp_hold hold = {.since = 0};
    snprintf(hold.vm, sizeof(hold.vm), "%s", vm);
    return sp_hold_qemu_running(&hold, h->proc);
}

#define QEMU "/usr/bin/qemu-system-x86_64"
#define ARGV(...) ((const char *const[]){QEMU, __VA_ARGS__, NULL})

static void a_comma_in_the_name_is_read_doubled(void **state)
{
    struct host *h = *state;
    const char *const *a_b = ARGV("-name", "guest=a,,b,debug-threads=on", "-S");
    assert_true(runs_with(h, "a,b", a_b));
    assert_false(runs_with(h, "a", a_b));
    assert_false(runs_with(h, "b", a_b));
    assert_false(runs_with(h, "a,,b", a_b));
    /* A VM whose name looks like an option is not another's guest=. */
    const char *const *x = ARGV("-name", "guest=x,,guest=vm,debug-threads=on");
    assert_true(runs_with(h, "x,guest=vm", x));
    assert_false(runs_with(h, "vm", x));
    assert_true(runs_with(h, "a,", ARGV("-name", "guest=a,,,debug-threads=on")));
    assert_true(runs_with(h, "a,", ARGV("-name", "guest=a,,")));
    /* As fake_qemu writes it, libvirt's way. */
    fake_qemu(h, "100", "a,b,c");
    struct sp_hold hold = {.vm = "a,b,c"};
    assert_true(sp_hold_qemu_running(&hold, h->proc));
}

static void only_the_exact_name_counts(void **state)
{
    struct host *h = *state;
    const char *const *vm2 = ARGV("-name", "guest=vm2,debug-threads=on");
    assert_true(runs_with(h, "vm2", vm2));
    assert_false(runs_with(h, "vm", vm2));
    assert_false(runs_with(h, "m2", vm2));
    assert_false(runs_with(h, "vm2,debug-threads=on", vm2));
    assert_false(runs_with(h, "", vm2));
    assert_true(runs_with(h, "vm", ARGV("-name", "guest=vm,debug-threads=on")));
    assert_true(runs_with(h, "vm", ARGV("-name", "guest=vm")));
    assert_true(runs_with(h, "vm", ARGV("-name", "process=qemu,guest=vm")));
    assert_false(runs_with(h, "vm", ARGV("-name", "process=vm")));
    assert_false(runs_with(h, "vm", ARGV("-name", "guest=vmx,process=vm")));
}

static void the_name_elsewhere_on_the_command_line_does_not_count(void **state)
{
    struct host *h = *state;
    assert_false(runs_with(h, "vm", ARGV("-foo", "xguest=vm", "-name", "guest=other")));
    assert_false(runs_with(h, "vm", ARGV("-object", "secret,id=s,guest=vm", "-S")));
    assert_false(runs_with(h, "vm", ARGV("guest=vm")));
    assert_false(runs_with(h, "vm", ARGV("-name")));             /* nothing after it */
    assert_false(runs_with(h, "vm", ARGV("-namex", "guest=vm")));
    assert_false(runs_with(h, "vm", ARGV("-name=guest=vm")));    /* not QEMU syntax */
    assert_true(runs_with(h, "-name", ARGV("-name", "-name"))); /* its value, whatever it is */
    assert_true(runs_with(h, "vm", ARGV("-S", "-name", "guest=vm", "-foo", "xguest=other")));
    assert_true(runs_with(h, "vm", ARGV("--name", "guest=vm,debug-threads=on")));
    /* QEMU merges repeated -name options: the last guest wins. */
    assert_true(runs_with(h, "b", ARGV("-name", "guest=a", "-name", "guest=b")));
    assert_false(runs_with(h, "a", ARGV("-name", "guest=a", "-name", "guest=b")));
    assert_true(runs_with(h, "a", ARGV("-name", "guest=a", "-name", "debug-threads=on")));
}

static void the_old_bare_name_form_counts(void **state)
{
    struct host *h = *state;
    assert_true(runs_with(h, "vm", ARGV("-name", "vm")));
    assert_true(runs_with(h, "vm", ARGV("-name", "vm,process=qemu:vm")));
    assert_true(runs_with(h, "a,b", ARGV("-name", "a,,b,debug-threads=on")));
    assert_false(runs_with(h, "vm", ARGV("-name", "vm2")));
    assert_false(runs_with(h, "vm", ARGV("-name", "x,vm")));    /* "vm" is a flag there */
    assert_false(runs_with(h, "vm", ARGV("-name", "vm=on")));   /* a key, not a name */
}

static void a_long_command_line_is_read_to_its_end(void **state)
{
    struct host *h = *state;
    /* 200 KB of arguments before -name: more than any fixed buffer we had. */
    size_t n = 0, size = 256 * 1024;
    char *cmdline = malloc(size);
    assert_non_null(cmdline);
    n += (size_t)sprintf(cmdline, QEMU) + 1;
    while (n < 200 * 1024)
        n += (size_t)sprintf(cmdline + n, "-device%cvirtio-net,id=net%zu", 0, n) + 1;
    n += (size_t)sprintf(cmdline + n, "-name%cguest=far,debug-threads=on", 0); /* no last NUL */
    fake_cmdline(h, "100", cmdline, n);
    free(cmdline);
    struct sp_hold far = {.vm = "far"}, near = {.vm = "fa"};
    assert_true(sp_hold_qemu_running(&far, h->proc));
    assert_false(sp_hold_qemu_running(&near, h->proc));
}

/* Two threads ask about different proc trees at once: each must get the
 * answer of its own tree, every time. */
struct asker {
    const char *proc;
    const char *vm;
    int wrong;
};

static void *ask_often(void *arg)
{
    struct asker *a = arg;
    struct sp_hold hold = {.since = 0};
    snprintf(hold.vm, sizeof(hold.vm), "%s", a->vm);
    for (int i = 0; i < 3000; i++)
        a->wrong += !sp_hold_qemu_running(&hold, a->proc);
    return NULL;
}

static void concurrent_lookups_do_not_mix(void **state)
{
    struct host *h = *state;
    char *other = tu_mkdtemp("vfio-proc2");
    fake_qemu(h, "100", "alpha");
    struct host h2 = {.proc = other};
    fake_qemu(&h2, "100", "bravo");
    struct asker one = {h->proc, "alpha", 0}, two = {other, "bravo", 0};
    pthread_t t1, t2;
    assert_int_equal(pthread_create(&t1, NULL, ask_often, &one), 0);
    assert_int_equal(pthread_create(&t2, NULL, ask_often, &two), 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    tu_rm_rf(other);
    free(other);
    assert_int_equal(one.wrong, 0);
    assert_int_equal(two.wrong, 0);
}

int main(void)
{
    tu_trust_current_user();
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_apu, teardown)
    const struct CMUnitTest tests[] = {
        T(binds_with_override_unbind_probe),
        T(release_gives_the_host_driver_back),
        T(non_viable_group_lists_every_culprit),
        T(wrong_ids_are_named),
        T(failed_device_rolls_back_the_others),
        T(a_device_held_by_another_vm_is_refused),
        T(stale_takeover_keeps_the_first_original_driver),
        T(rollback_keeps_the_hold_of_a_device_already_ours),
        T(rollback_gives_a_taken_over_hold_back),
        T(release_waits_while_the_holder_counts_as_running),
        T(release_by_force_while_the_holder_runs),
        T(release_of_an_unheld_device_says_so),
        T(check_reports_a_live_foreign_hold),
        T(claim_commits_or_rolls_back_exactly),
        T(a_fifo_for_a_hold_or_the_lock_is_refused_at_once),
        T(a_state_dir_others_could_change_is_refused),
        T(a_vm_name_with_a_line_break_is_refused_not_written),
        T(a_vm_name_too_long_for_a_hold_binds_nothing),
        T(any_printable_vm_name_reads_back_exactly),
        T(a_comma_in_the_name_is_read_doubled),
        T(only_the_exact_name_counts),
        T(the_name_elsewhere_on_the_command_line_does_not_count),
        T(the_old_bare_name_form_counts),
        T(a_long_command_line_is_read_to_its_end),
        T(concurrent_lookups_do_not_mix),
        cmocka_unit_test(iommu_off_and_no_vfio_are_their_own_errors),
        cmocka_unit_test(bridge_only_group_is_viable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
