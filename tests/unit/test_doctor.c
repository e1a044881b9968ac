/* doctor: each check against fake sysfs, proc, config and root trees, in
 * each of its states (ok, warning, problem), and the worst of a report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "../../common/fsutil.h"
#include "../../config/config.h"
#include "../../core/doctor.h"
#include "../../injector/dsm_hook.h"
#include "../tools/fakesysfs.h"
#include "testutil.h"

struct box {
    char *sysfs, *proc, *config, *root;
    struct sp_config *cfg;
    struct sp_snapshot *snap;
    struct sp_doctor_env env;
    struct sp_doctor d;
};

static int setup(void **state)
{
    struct box *b = calloc(1, sizeof(*b));
    char spec[512];
    b->sysfs = tu_mkdtemp("doctor-sysfs");
    b->proc = tu_mkdtemp("doctor-proc");
    b->config = tu_mkdtemp("doctor-config");
    b->root = tu_mkdtemp("doctor-root");
    snprintf(spec, sizeof(spec), "%s/tests/data/hosts/dsm-box.txt", tu_src_dir());
    assert_int_equal(fakesysfs_build_host_from_file(b->sysfs, b->proc, spec), 0);
    mkdir(b->config, 0755);
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    struct box *b = *state;
    sp_doctor_free(&b->d);
    if (b->snap)
        sp_snapshot_release(b->snap);
    sp_config_free(b->cfg);
    char *dirs[] = {b->sysfs, b->proc, b->config, b->root};
    for (size_t i = 0; i < 4; i++) {
        tu_rm_rf(dirs[i]);
        free(dirs[i]);
    }
    free(b);
    return 0;
}

/* The config as it is now, and the env over it. */
static const struct sp_doctor_env *env(struct box *b)
{
    char conf[1024];
    snprintf(conf, sizeof(conf), "audit_log = %s/log/audit.log\nstate_dir = %s/state\n",
             b->config, b->config);
    free(tu_write(b->config, "synopassthru.conf", conf, 0644));
    tu_age(b->config);
    if (b->snap)
        sp_snapshot_release(b->snap);
    sp_config_free(b->cfg);
    b->cfg = sp_config_new(b->config);
    assert_int_equal(sp_config_snapshot(b->cfg, &b->snap, NULL), 0);
    b->env = (struct sp_doctor_env){.snap = b->snap, .sysfs_root = b->sysfs,
                                    .proc_root = b->proc, .root = b->root,
                                    .unit = SP_DSM_UNIT};
    sp_doctor_free(&b->d);
    return &b->env;
}

/* The one line the check gave, with its status and a piece of its text. */
static void expect_line(const struct box *b, const char *id, enum sp_doctor_status status,
                        const char *text)
{
    assert_int_equal(b->d.n, 1);
    assert_string_equal(b->d.lines[0].id, id);
    if (!strstr(b->d.lines[0].message, text))
        fail_msg("'%s' not in '%s'", text, b->d.lines[0].message);
    assert_int_equal(b->d.lines[0].status, status);
    assert_true(status == SP_DOCTOR_OK ? b->d.lines[0].fix == NULL : b->d.lines[0].fix != NULL);
}

static void rm_under(const char *dir, const char *name)
{
    char *path = sp_path_join(dir, name);
    tu_rm_rf(path);
    free(path);
}

static void iommu_on_and_off(void **state)
{
    struct box *b = *state;
    sp_doctor_iommu(env(b), &b->d);
    expect_line(b, "iommu", SP_DOCTOR_OK, "IOMMU on: 12 groups");
    rm_under(b->sysfs, "kernel/iommu_groups");
    sp_doctor_iommu(env(b), &b->d);
    expect_line(b, "iommu", SP_DOCTOR_PROBLEM, "IOMMU is off");
}

static void vfio_driver_and_modules(void **state)
{
    struct box *b = *state;
    sp_doctor_vfio(env(b), &b->d);
    expect_line(b, "vfio", SP_DOCTOR_OK, "the vfio-pci driver is there");
    free(tu_write(b->proc, "modules", "vfio_pci 16384 0 - Live 0x0\n", 0644));
    sp_doctor_vfio(env(b), &b->d);
    expect_line(b, "vfio", SP_DOCTOR_WARNING, "vfio_iommu_type1 is not in");
    free(tu_write(b->proc, "modules", "vfio_pci 16384 0 - Live 0x0\n"
                                      "vfio_iommu_type1 40960 0 - Live 0x0\n", 0644));
    sp_doctor_vfio(env(b), &b->d);
    expect_line(b, "vfio", SP_DOCTOR_OK, "the vfio-pci driver is there");
    rm_under(b->sysfs, "bus/pci/drivers/vfio-pci");
    sp_doctor_vfio(env(b), &b->d);
    expect_line(b, "vfio", SP_DOCTOR_PROBLEM, "the vfio-pci driver is not there");
}

/* Process 100 under the fake proc root with libvirt (and the shim) mapped. */
static void fake_daemon(struct box *b, const char *comm, int shim, const char *config_dir)
{
    char maps[512], env_text[600];
    snprintf(maps, sizeof(maps), "7f00-7f01 r-xp 0 fd:01 1 /usr/lib/libvirt.so.0\n%s",
             shim ? "7f01-7f02 r-xp 0 fd:01 2 /nowhere/libsynopassthru.so\n" : "");
    int n = snprintf(env_text, sizeof(env_text), "SYNOPASSTHRU_CONFIG_DIR=%s", config_dir);
    free(tu_write(b->proc, "100/maps", maps, 0644));
    free(tu_write(b->proc, "100/comm", comm, 0644));
    char *path = sp_path_join(b->proc, "100/environ");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fwrite(env_text, 1, (size_t)n + 1, f);
    fclose(f);
    free(path);
}

static void daemon_with_and_without_the_shim(void **state)
{
    struct box *b = *state;
    sp_doctor_daemon(env(b), &b->d);
    expect_line(b, "daemon", SP_DOCTOR_WARNING, "no libvirt daemon runs");
    fake_daemon(b, "virsh\n", 0, b->config);
    sp_doctor_daemon(env(b), &b->d);
    expect_line(b, "daemon", SP_DOCTOR_WARNING, "no libvirt daemon runs");
    fake_daemon(b, "libvirtd\n", 0, b->config);
    sp_doctor_daemon(env(b), &b->d);
    expect_line(b, "daemon", SP_DOCTOR_PROBLEM, "libvirtd (pid 100) runs without the shim");
    fake_daemon(b, "libvirtd\n", 1, "/elsewhere");
    sp_doctor_daemon(env(b), &b->d);
    expect_line(b, "daemon", SP_DOCTOR_WARNING, "reads the config dir /elsewhere");
    fake_daemon(b, "libvirtd\n", 1, b->config);
    sp_doctor_daemon(env(b), &b->d);
    expect_line(b, "daemon", SP_DOCTOR_OK, "libvirtd (pid 100) has the shim");
}

#define DROPIN "etc/systemd/system/" SP_DSM_UNIT ".service.d/50-synopassthru.conf"

static void dropin_present_missing_and_wrong(void **state)
{
    struct box *b = *state;
    sp_doctor_dropin(env(b), &b->d);
    expect_line(b, "dropin", SP_DOCTOR_PROBLEM, "is missing");
    free(tu_write(b->root, DROPIN, "[Service]\nEnvironment=\"FOO=1\"\n", 0644));
    sp_doctor_dropin(env(b), &b->d);
    expect_line(b, "dropin", SP_DOCTOR_PROBLEM, "does not preload libsynopassthru.so");
    free(tu_write(b->root, DROPIN,
                  "[Service]\nEnvironment=\"LD_PRELOAD=/usr/lib/libsynopassthru.so\"\n", 0644));
    sp_doctor_dropin(env(b), &b->d);
    expect_line(b, "dropin", SP_DOCTOR_OK, "preloads the shim");
}

static void dsm_hook_block(void **state)
{
    struct box *b = *state;
    const char *hook = SP_DSM_HOOK_PATH + 1;
    sp_doctor_dsm_hook(env(b), &b->d);
    expect_line(b, "dsm-hook", SP_DOCTOR_WARNING, "is not there");
    free(tu_write(b->root, hook, "#!/bin/sh\nexit 0\n", 0755));
    sp_doctor_dsm_hook(env(b), &b->d);
    expect_line(b, "dsm-hook", SP_DOCTOR_PROBLEM, "has no synopassthru block");
    char *block = sp_dsm_block("/usr/local/bin/synopassthru", b->config, SP_DSM_UNIT, NULL);
    char *with = sp_dsm_hook_insert("#!/bin/sh\nexit 0\n", block, NULL);
    free(tu_write(b->root, hook, with, 0755));
    sp_doctor_dsm_hook(env(b), &b->d);
    expect_line(b, "dsm-hook", SP_DOCTOR_OK, "puts the drop-in back");
    free(block);
    free(with);
}

static void shim_loads_needs_a_dropin(void **state)
{
    struct box *b = *state;
    sp_doctor_shim_loads(env(b), &b->d);
    expect_line(b, "shim-loads", SP_DOCTOR_WARNING, "not proven");
}

static void modes_of_the_config(void **state)
{
    struct box *b = *state;
    free(tu_write(b->config, "vm.d/a.xml", "<passthrough vm=\"a\"/>\n", 0644));
    sp_doctor_modes(env(b), &b->d);
    expect_line(b, "modes", SP_DOCTOR_OK, "writable by nobody else");
    char *snippet = sp_path_join(b->config, "vm.d/a.xml");
    chmod(snippet, 0666);
    sp_doctor_modes(env(b), &b->d);
    expect_line(b, "modes", SP_DOCTOR_PROBLEM, "vm.d/a.xml is world-writable (mode 0666)");
    chmod(snippet, 0644);
    free(snippet);
    free(tu_write(b->config, "rom/x.bin", "x", 0644));
    char *rom = sp_path_join(b->config, "rom/x.bin");
    chmod(rom, 0664);
    free(rom);
    sp_doctor_modes(env(b), &b->d);
    expect_line(b, "modes", SP_DOCTOR_PROBLEM, "ROM");
}

static void snippets_and_vms(void **state)
{
    struct box *b = *state;
    sp_doctor_snippets(env(b), &b->d);
    expect_line(b, "snippets", SP_DOCTOR_OK, "0 snippet(s)");
    sp_doctor_vms(env(b), &b->d);
    expect_line(b, "vm", SP_DOCTOR_WARNING, "no VM to check");
    free(tu_write(b->config, "vm.d/gone.xml",
                  "<passthrough vm=\"gone\" bind=\"no\"><pci address=\"0f:00.0\"/></passthrough>\n",
                  0644));
    sp_doctor_vms(env(b), &b->d);
    expect_line(b, "vm", SP_DOCTOR_PROBLEM, "VM 'gone' would not start: ");
    free(tu_write(b->config, "vm.d/gone.xml", "<passthrough vm=\"gone\"><pci", 0644));
    sp_doctor_snippets(env(b), &b->d);
    expect_line(b, "snippets", SP_DOCTOR_PROBLEM, "gone.xml");
}

static void holds_stale_and_live(void **state)
{
    struct box *b = *state;
    sp_doctor_holds(env(b), &b->d);
    expect_line(b, "holds", SP_DOCTOR_OK, "0 hold(s)");
    char *dir = sp_path_join(b->config, "state");
    mkdir(dir, 0700);
    free(dir);
    free(tu_write(b->config, "state/0000:06:00.0.hold", "vm=frigate\ndriver=\nsince=1000\n",
                  0600));
    sp_doctor_holds(env(b), &b->d);
    expect_line(b, "holds", SP_DOCTOR_PROBLEM, "0000:06:00.0 is held by VM 'frigate'");
    char now[128];
    snprintf(now, sizeof(now), "vm=frigate\ndriver=\nsince=%lld\n", (long long)time(NULL));
    free(tu_write(b->config, "state/0000:06:00.0.hold", now, 0600));
    sp_doctor_holds(env(b), &b->d);
    expect_line(b, "holds", SP_DOCTOR_OK, "1 hold(s)");
}

static void audit_log_dir(void **state)
{
    struct box *b = *state;
    sp_doctor_audit_log(env(b), &b->d);
    expect_line(b, "audit-log", SP_DOCTOR_PROBLEM, "cannot be written");
    char *log = sp_path_join(b->config, "log");
    mkdir(log, 0755);
    free(log);
    sp_doctor_audit_log(env(b), &b->d);
    expect_line(b, "audit-log", SP_DOCTOR_OK, "can be written");
}

static void old_hook(void **state)
{
    struct box *b = *state;
    sp_doctor_old_hook(env(b), &b->d);
    expect_line(b, "old-hook", SP_DOCTOR_OK, "no hot-plug hook");
    free(tu_write(b->root, "etc/libvirt/hooks/qemu",
                  "#!/bin/bash\n/usr/local/libvirt/attach_detach_all.sh \"$@\"\n", 0755));
    sp_doctor_old_hook(env(b), &b->d);
    expect_line(b, "old-hook", SP_DOCTOR_PROBLEM, "still in place");
}

static void worst_of_a_report(void **state)
{
    struct sp_doctor d = {0};
    (void)state;
    assert_int_equal(sp_doctor_worst(&d), SP_DOCTOR_OK);
    sp_doctor_add(&d, "a", SP_DOCTOR_OK, NULL, "fine");
    sp_doctor_add(&d, "b", SP_DOCTOR_WARNING, "do this", "meh");
    assert_int_equal(sp_doctor_worst(&d), SP_DOCTOR_WARNING);
    sp_doctor_add(&d, "c", SP_DOCTOR_PROBLEM, "do that", "bad %d", 1);
    sp_doctor_add(&d, "d", SP_DOCTOR_OK, NULL, "fine");
    assert_int_equal(sp_doctor_worst(&d), SP_DOCTOR_PROBLEM);
    assert_string_equal(d.lines[2].message, "bad 1");
    sp_doctor_free(&d);
    d.failed = 1;
    assert_int_equal(sp_doctor_worst(&d), SP_DOCTOR_PROBLEM);
}

int main(void)
{
    tu_trust_current_user();
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(iommu_on_and_off),
        T(vfio_driver_and_modules),
        T(daemon_with_and_without_the_shim),
        T(dropin_present_missing_and_wrong),
        T(dsm_hook_block),
        T(shim_loads_needs_a_dropin),
        T(modes_of_the_config),
        T(snippets_and_vms),
        T(holds_stale_and_live),
        T(audit_log_dir),
        T(old_hook),
        T(worst_of_a_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
