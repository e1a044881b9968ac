/* launch: the start sequence as the shim carries it out, against a fake
 * libvirt (a stored definition, define, start) and the vfio helper with the
 * kernel model on a fake sysfs. The race tests open their window on
 * purpose: a second thread acts while the real start is in progress. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/fsutil.h"
#include "../../core/launch.h"
#include "../../core/persist.h"
#include "../tools/fakesysfs.h"
#include "testutil.h"

#define DOMAIN(name) \
    "<domain type='kvm'>\n  <name>" name "</name>\n  <devices>\n  </devices>\n</domain>\n"
#define NIC "0000:05:00.0"

/* --- the host: a log and the thread's error, recorded ------------------ */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char logged[16384];
static char reported[1024];
static int watches;

static void host_log(const char *line)
{
    pthread_mutex_lock(&log_mu);
    size_t n = strlen(logged);
    snprintf(logged + n, sizeof(logged) - n, "%s\n", line);
    pthread_mutex_unlock(&log_mu);
}

static void host_report(const char *message)
{
    snprintf(reported, sizeof(reported), "%s", message);
}

static const char *host_last_error(void)
{
    return "fake libvirt says no";
}

static int saved_errors;
static void *host_save_error(void)
{
    saved_errors++;
    return &saved_errors;
}

static void host_restore_error(void *saved)
{
    (void)saved;
    saved_errors--;
}

static void host_watch_stops(void *dom)
{
    (void)dom;
    watches++;
}

static const struct sp_launch_host host = {
    .log = host_log, .report = host_report, .last_error = host_last_error,
    .save_error = host_save_error, .restore_error = host_restore_error,
    .watch_stops = host_watch_stops,
};

/* --- a fake libvirt domain ------------------------------------------------ */

struct fake {
    pthread_mutex_t mu;
    char *stored;       /* the definition libvirt holds; NULL: undefined */
    char *started_with; /* the definition the start ran */
    int active;
    int starts;
    int refuse_marked;  /* a define of a marked definition fails */
    int start_fails;
    void (*during_start)(struct fake *);
};

static char *fake_inactive(void *dom)
{
    struct fake *f = dom;
    pthread_mutex_lock(&f->mu);
    char *xml = f->stored ? strdup(f->stored) : NULL;
    pthread_mutex_unlock(&f->mu);
    return xml;
}

static int fake_define(void *dom, const char *xml)
{
    struct fake *f = dom;
    if (f->refuse_marked && strstr(xml, SP_PERSIST_NS))
        return -1;
    pthread_mutex_lock(&f->mu);
    free(f->stored);
    f->stored = strdup(xml);
    pthread_mutex_unlock(&f->mu);
    return 0;
}

static int fake_is_active(void *dom)
{
    return ((struct fake *)dom)->active;
}

static int fake_start(void *dom, void *ctx)
{
    (void)ctx;
    struct fake *f = dom;
    f->starts++;
    pthread_mutex_lock(&f->mu);
    free(f->started_with);
    f->started_with = f->stored ? strdup(f->stored) : NULL;
    pthread_mutex_unlock(&f->mu);
    if (f->during_start)
        f->during_start(f);
    if (f->start_fails)
        return -1;
    f->active = 1;
    return 0;
}

static const struct sp_launch_domain *domain_of(struct fake *f, const char *name)
{
    static struct sp_launch_domain d;
    d = (struct sp_launch_domain){.dom = f, .name = name, .inactive_xml = fake_inactive,
                                  .define = fake_define, .is_active = fake_is_active};
    return &d;
}

/* --- the fixture: a config dir, a fake host, the model helper ------------- */

struct fixture {
    char *dir, *sysfs, *proc;
    struct sp_launcher *l;
    struct fake fake;
};

static struct fixture *F;

static void write_config(struct fixture *f, const char *helper)
{
    char conf[4096];
    snprintf(conf, sizeof(conf),
             "audit_log = %s/audit.log\nsysfs_root = %s\nproc_root = %s\nstate_dir = %s/state\n"
             "vfio_helper = %s\nhelper_timeout_ms = 10000\n",
             f->dir, f->sysfs, f->proc, f->dir, helper);
    free(tu_write(f->dir, "synopassthru.conf", conf, 0644));
}

static char *model_helper(void)
{
    const char *build = getenv("SP_BUILD");
    char *path = NULL;
    assert_true(asprintf(&path, "%s/tests/synopassthru-vfio-model", build ? build : "build") > 0);
    return path;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->dir = tu_mkdtemp("launch");
    f->sysfs = sp_path_join(f->dir, "sysfs");
    f->proc = sp_path_join(f->dir, "proc");
    assert_int_equal(fakesysfs_build_host(f->sysfs, f->proc,
                                          NIC " 8086 10fb 0x020000 ixgbe 7\n"), 0);
    char *helper = model_helper();
    write_config(f, helper);
    free(helper);
    free(tu_write(f->dir, "vm.d/win.xml",
                  "<passthrough vm='win' release='yes'><pci address='05:00.0'/></passthrough>\n",
                  0644));
    free(tu_write(f->dir, "vm.d/nobind.xml",
                  "<passthrough vm='plain' bind='no'><pci address='05:00.0'/></passthrough>\n",
                  0644));
    f->l = sp_launcher_new(f->dir, &host);
    assert_non_null(f->l);
    pthread_mutex_init(&f->fake.mu, NULL);
    logged[0] = reported[0] = '\0';
    watches = saved_errors = 0;
    F = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sp_launcher_free(f->l);
    free(f->fake.stored);
    free(f->fake.started_with);
    pthread_mutex_destroy(&f->fake.mu);
    tu_rm_rf(f->dir);
    free(f->dir);
    free(f->sysfs);
    free(f->proc);
    free(f);
    return 0;
}

static char *driver_of(struct fixture *f)
{
    static char name[64];
    char link[4096], target[4096];
    snprintf(link, sizeof(link), "%s/bus/pci/devices/" NIC "/driver", f->sysfs);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n < 0)
        return "";
    target[n] = '\0';
    snprintf(name, sizeof(name), "%s", strrchr(target, '/') + 1);
    return name;
}

static int audit_records(struct fixture *f)
{
    char *path = sp_path_join(f->dir, "audit.log");
    int n = 0;
    if (access(path, F_OK) == 0) {
        char *text = tu_read(path, NULL);
        n = tu_count(text, "\"event\":\"start\"") + tu_count(text, "\"event\": \"start\"");
        free(text);
    }
    free(path);
    return n;
}

/* --- defined domains ------------------------------------------------------ */

static void defined_start_runs_the_patch_and_puts_the_original_back(void **state)
{
    struct fixture *f = *state;
    f->fake.stored = strdup(DOMAIN("plain"));
    assert_int_equal(sp_launch_start_defined(f->l, "virDomainCreate", domain_of(&f->fake, "plain"),
                                             fake_start, NULL), 0);
    assert_non_null(strstr(f->fake.started_with, "<hostdev"));
    assert_non_null(strstr(f->fake.started_with, SP_PERSIST_NS));
    assert_string_equal(f->fake.stored, DOMAIN("plain"));
    assert_int_equal(audit_records(f), 1);
}

static void an_interrupted_start_is_healed_first(void **state)
{
    struct fixture *f = *state;
    const char *patched = DOMAIN("plain");
    char *marked = NULL;
    struct sp_err err;
    assert_int_equal(sp_persist_mark(patched, strlen(patched), DOMAIN("plain"), &marked, &err), 0);
    f->fake.stored = marked;
    assert_int_equal(sp_launch_start_defined(f->l, "virDomainCreate", domain_of(&f->fake, "plain"),
                                             fake_start, NULL), 0);
    assert_non_null(strstr(logged, "VM 'plain': put back a definition left patched"));
    assert_string_equal(f->fake.stored, DOMAIN("plain"));
    /* One marker, not a marker inside a marker. */
    assert_int_equal(tu_count(f->fake.started_with, SP_PERSIST_NS), 1);
}

static void a_refused_store_is_a_refused_start(void **state)
{
    struct fixture *f = *state;
    f->fake.stored = strdup(DOMAIN("plain"));
    f->fake.refuse_marked = 1;
    assert_int_equal(sp_launch_start_defined(f->l, "virDomainCreate", domain_of(&f->fake, "plain"),
                                             fake_start, NULL), -1);
    assert_int_equal(f->fake.starts, 0);
    assert_string_equal(reported, "VM 'plain': cannot store the patched definition: fake libvirt "
                                  "says no");
    assert_int_equal(audit_records(f), 1);
}

static void a_failed_start_keeps_its_error_across_the_put_back(void **state)
{
    struct fixture *f = *state;
    f->fake.stored = strdup(DOMAIN("plain"));
    f->fake.start_fails = 1;
    assert_int_equal(sp_launch_start_defined(f->l, "virDomainCreate", domain_of(&f->fake, "plain"),
                                             fake_start, NULL), -1);
    assert_string_equal(f->fake.stored, DOMAIN("plain"));
    assert_int_equal(saved_errors, 0); /* saved once, restored once */
    char *path = sp_path_join(f->dir, "audit.log");
    char *text = tu_read(path, NULL);
    assert_non_null(strstr(text, "fake libvirt says no"));
    free(text);
    free(path);
}

/* The record of a start libvirt fails names the devices the kernel cannot
 * reset: one may still be in the state an earlier run left. */
static void a_failed_start_notes_a_device_without_reset(void **state)
{
    struct fixture *f = *state;
    char *path = sp_path_join(f->dir, "audit.log");
    f->fake.stored = strdup(DOMAIN("plain"));
    f->fake.start_fails = 1;
    sp_launch_start_defined(f->l, "virDomainCreate", domain_of(&f->fake, "plain"), fake_start,
                            NULL);
    char *text = tu_read(path, NULL);
    assert_non_null(strstr(text, "\"error\":\"fake libvirt says no\",\"note\":null}"));
    free(text);
    char reset[4096];
    snprintf(reset, sizeof(reset), "%s/bus/pci/devices/" NIC "/reset", f->sysfs);
    assert_int_equal(unlink(reset), 0);
    sp_launch_start_defined(f->l, "virDomainCreate", domain_of(&f->fake, "plain"), fake_start,
                            NULL);
    text = tu_read(path, NULL);
    assert_non_null(strstr(text, "\"note\":\"the kernel cannot reset " NIC ": a device that ran "
                                 "in a VM since the host booted keeps that run's state until the "
                                 "host reboots, which may be why the start failed\"}"));
    assert_non_null(strstr(logged, "device " NIC ": the kernel cannot reset it (no reset_method "
                                   "or reset file); the VM may start only once per host boot"));
    free(text);
    /* A start that goes through has no note. */
    f->fake.start_fails = 0;
    assert_int_equal(sp_launch_start_defined(f->l, "virDomainCreate",
                                             domain_of(&f->fake, "plain"), fake_start, NULL), 0);
    text = tu_read(path, NULL);
    assert_non_null(strstr(text, "\"libvirt\":{\"ok\":true,\"error\":null,\"note\":null}"));
    free(text);
    free(path);
}

/* A second thread's call, made while the real start runs. */
struct racer {
    pthread_t thread;
    volatile int entered;
    void (*act)(void);
};

static struct racer racer;

static void *racer_main(void *arg)
{
    (void)arg;
    racer.entered = 1;
    racer.act();
    return NULL;
}

/* Inside the real start: lets the racer in and gives it time to cut in. */
static void let_the_racer_in(struct fake *f)
{
    (void)f;
    assert_int_equal(pthread_create(&racer.thread, NULL, racer_main, NULL), 0);
    while (!racer.entered)
        usleep(1000);
    usleep(200 * 1000);
}

static void *define_new(const char *xml, void *ctx)
{
    return fake_define(ctx, xml) == 0 ? ctx : NULL;
}

#define NEW_DEFINITION \
    "<domain type='kvm'>\n  <name>plain</name>\n  <memory>2048</memory>\n  <devices>\n" \
    "  </devices>\n</domain>\n"

static void define_new_definition(void)
{
    assert_non_null(sp_launch_define(F->l, "virDomainDefineXML", NEW_DEFINITION, define_new,
                                     &F->fake));
}

static void a_define_during_a_start_is_kept(void **state)
{
    struct fixture *f = *state;
    f->fake.stored = strdup(DOMAIN("plain"));
    f->fake.during_start = let_the_racer_in;
    racer = (struct racer){.act = define_new_definition};
    assert_int_equal(sp_launch_start_defined(f->l, "virDomainCreate", domain_of(&f->fake, "plain"),
                                             fake_start, NULL), 0);
    pthread_join(racer.thread, NULL);
    assert_non_null(strstr(f->fake.started_with, "<hostdev"));
    assert_string_equal(f->fake.stored, NEW_DEFINITION);
}

static int undefine(void *ctx)
{
    struct fake *f = ctx;
    pthread_mutex_lock(&f->mu);
    free(f->stored);
    f->stored = NULL;
    pthread_mutex_unlock(&f->mu);
    return 0;
}

static void undefine_now(void)
{
    assert_int_equal(sp_launch_locked(F->l, "virDomainUndefine", "plain", undefine, &F->fake), 0);
}

static void an_undefine_during_a_start_is_kept(void **state)
{
    struct fixture *f = *state;
    f->fake.stored = strdup(DOMAIN("plain"));
    f->fake.during_start = let_the_racer_in;
    racer = (struct racer){.act = undefine_now};
    assert_int_equal(sp_launch_start_defined(f->l, "virDomainCreate", domain_of(&f->fake, "plain"),
                                             fake_start, NULL), 0);
    pthread_join(racer.thread, NULL);
    assert_null(f->fake.stored);
}

static void a_define_loses_what_the_shim_added(void **state)
{
    struct fixture *f = *state;
    f->fake.stored = strdup(DOMAIN("plain"));
    f->fake.during_start = NULL;
    assert_int_equal(sp_launch_start_defined(f->l, "virDomainCreate", domain_of(&f->fake, "plain"),
                                             fake_start, NULL), 0);
    /* Live XML written back as the definition. */
    char *live = strdup(f->fake.started_with);
    assert_non_null(sp_launch_define(f->l, "virDomainDefineXML", live, define_new, &f->fake));
    assert_null(strstr(f->fake.stored, "<hostdev"));
    assert_null(strstr(f->fake.stored, SP_PERSIST_NS));
    free(live);
}

/* --- transient starts and stops ---------------------------------------- */

static void *create_ok(const char *xml, void *ctx)
{
    struct fake *f = ctx;
    fake_define(f, xml);
    if (f->during_start)
        f->during_start(f);
    f->active = 1;
    return f;
}

static void a_missing_real_function_binds_nothing(void **state)
{
    struct fixture *f = *state;
    assert_null(sp_launch_create(f->l, "virDomainCreateXML", DOMAIN("win"), NULL, NULL));
    assert_string_equal(reported, "the real virDomainCreateXML is not in this process");
    assert_string_equal(driver_of(f), "ixgbe");
    assert_int_equal(audit_records(f), 0);
    assert_int_equal(sp_launch_start_defined(f->l, "virDomainCreate",
                                             domain_of(&f->fake, "win"), NULL, NULL), -1);
    assert_string_equal(reported, "the real virDomainCreate is not in this process");
}

static void an_unmatched_start_gets_its_own_bytes(void **state)
{
    struct fixture *f = *state;
    const char *xml = DOMAIN("other");
    assert_ptr_equal(sp_launch_create(f->l, "virDomainCreateXML", xml, create_ok, &f->fake),
                     &f->fake);
    assert_string_equal(f->fake.stored, xml);
    assert_int_equal(audit_records(f), 0);
}

static int running_flag(const char *vm, void *ctx)
{
    (void)vm;
    return *(volatile int *)ctx;
}

static void a_stop_gives_the_devices_back(void **state)
{
    struct fixture *f = *state;
    assert_non_null(sp_launch_create(f->l, "virDomainCreateXML", DOMAIN("win"), create_ok,
                                     &f->fake));
    assert_string_equal(driver_of(f), "vfio-pci");
    assert_int_equal(watches, 1);
    int running = 0;
    sp_launch_stopped(f->l, "win", running_flag, &running);
    assert_string_equal(driver_of(f), "ixgbe");
}

static void stop_of_win(void)
{
    sp_launch_stopped(F->l, "win", running_flag, (void *)&F->fake.active);
}

/* The stop of the VM's last run arrives while it starts again: the release
 * waits for the start, then finds the VM running and leaves its devices. */
static void a_stop_during_the_next_start_leaves_the_devices(void **state)
{
    struct fixture *f = *state;
    assert_non_null(sp_launch_create(f->l, "virDomainCreateXML", DOMAIN("win"), create_ok,
                                      &f->fake));
    f->fake.active = 0; /* it stopped; its stop event is late */
    f->fake.during_start = let_the_racer_in;
    racer = (struct racer){.act = stop_of_win};
    assert_non_null(sp_launch_create(f->l, "virDomainCreateXML", DOMAIN("win"), create_ok,
                                     &f->fake));
    pthread_join(racer.thread, NULL);
    assert_string_equal(driver_of(f), "vfio-pci");
    assert_non_null(strstr(logged, "VM 'win' stopped and runs again"));
}

static void a_stop_without_holds_runs_no_helper(void **state)
{
    struct fixture *f = *state;
    write_config(f, "/nonexistent/synopassthru-vfio");
    int running = 0;
    sp_launch_stopped(f->l, "plain", running_flag, &running);
    assert_string_equal(logged, "");
    /* With a hold the helper runs (and here cannot), so the check can fail. */
    char *helper = model_helper();
    write_config(f, helper);
    free(helper);
    assert_non_null(sp_launch_create(f->l, "virDomainCreateXML", DOMAIN("win"), create_ok,
                                     &f->fake));
    write_config(f, "/nonexistent/synopassthru-vfio");
    sp_launch_stopped(f->l, "win", running_flag, &running);
    assert_non_null(strstr(logged, "VM 'win' stopped, but its devices were not given back"));
}

static void autostart_is_refused_for_a_named_vm(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(sp_launch_check_autostart(f->l, DOMAIN("other")), 0);
    assert_int_equal(sp_launch_check_autostart(f->l, DOMAIN("plain")), -1);
    assert_non_null(strstr(reported, "VM 'plain': libvirt's autostart would start it"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(defined_start_runs_the_patch_and_puts_the_original_back,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(an_interrupted_start_is_healed_first, setup, teardown),
        cmocka_unit_test_setup_teardown(a_refused_store_is_a_refused_start, setup, teardown),
        cmocka_unit_test_setup_teardown(a_failed_start_keeps_its_error_across_the_put_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_failed_start_notes_a_device_without_reset, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_define_during_a_start_is_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(an_undefine_during_a_start_is_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(a_define_loses_what_the_shim_added, setup, teardown),
        cmocka_unit_test_setup_teardown(a_missing_real_function_binds_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(an_unmatched_start_gets_its_own_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(a_stop_gives_the_devices_back, setup, teardown),
        cmocka_unit_test_setup_teardown(a_stop_during_the_next_start_leaves_the_devices, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_stop_without_holds_runs_no_helper, setup, teardown),
        cmocka_unit_test_setup_teardown(autostart_is_refused_for_a_named_vm, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
