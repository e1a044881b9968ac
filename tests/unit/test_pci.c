/* pci: address syntax, ID syntax and read-only lookups in a fake sysfs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/fsutil.h"
#include "../../pci/pci.h"
#include "../../pci/reset.h"
#include "../tools/fakesysfs.h"
#include "testutil.h"

static char *sysfs;

static void parses_short_and_long_addresses(void **state)
{
    (void)state;
    struct sp_pci_addr a;
    char text[SP_PCI_ADDR_STRLEN];
    assert_int_equal(sp_pci_addr_parse("08:00.0", &a, NULL), 0);
    sp_pci_addr_format(&a, text);
    assert_string_equal(text, "0000:08:00.0");
    assert_int_equal(sp_pci_addr_parse("0001:0A:1f.7", &a, NULL), 0);
    assert_int_equal(a.domain, 1);
    assert_int_equal(a.bus, 0x0a);
    assert_int_equal(a.slot, 0x1f);
    assert_int_equal(a.function, 7);
}

/* Hex as printf's "%0*x" writes it, and paths that just fit or just do not. */
static void formats_hex_addresses_and_paths(void **state)
{
    (void)state;
    static const struct {
        unsigned v, min;
        const char *want;
    } cases[] = {{0, 1, "0"}, {0, 4, "0000"}, {0xa, 2, "0a"}, {0x1f, 1, "1f"},
                 {0x12345, 4, "12345"}, {0xffffffffu, 2, "ffffffff"}, {0x10, 0, "10"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[9] = {0};
        size_t n = sp_pci_hex(out, cases[i].v, cases[i].min);
        assert_int_equal(n, strlen(cases[i].want));
        assert_string_equal(out, cases[i].want);
    }
    char text[SP_PCI_ADDR_STRLEN];
    struct sp_pci_addr widest = {0xffff, 0xff, 0x1f, 7};
    sp_pci_addr_format(&widest, text);
    assert_string_equal(text, "ffff:ff:1f.7");
    const char *want = "/s/bus/pci/devices/ffff:ff:1f.7";
    char path[64];
    struct sp_err err;
    assert_int_equal(sp_pci_device_path("/s", &widest, NULL, path, strlen(want) + 1, &err), 0);
    assert_string_equal(path, want);
    assert_int_equal(sp_pci_device_path("/s", &widest, NULL, path, strlen(want), &err), -1);
    assert_string_equal(path, "");
    assert_non_null(strstr(err.msg, "device ffff:ff:1f.7: its path is too long (under /s)"));
}

static void rejects_malformed_addresses(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "08", "08:00", "08:00.8", "08:20.0", "x8:00.0",
                                      "08:00.0.1", "100:00.0", "12345:08:00.0", ":00.0",
                                      "08:.0", "08:00.", "1:2:3:4.0", " 08:00.0"};
    struct sp_pci_addr a;
    struct sp_err err;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sp_pci_addr_parse(bad[i], &a, &err), -1);
        assert_non_null(strstr(err.msg, "invalid PCI address"));
    }
}

static void parses_ids(void **state)
{
    (void)state;
    uint16_t id;
    assert_int_equal(sp_pci_id_parse("1002", &id), 0);
    assert_int_equal(id, 0x1002);
    assert_int_equal(sp_pci_id_parse("0xABcd", &id), 0);
    assert_int_equal(id, 0xabcd);
    assert_int_equal(sp_pci_id_parse("102", &id), -1);
    assert_int_equal(sp_pci_id_parse("10021", &id), -1);
    assert_int_equal(sp_pci_id_parse("10g2", &id), -1);
}

static void reads_ids_from_sysfs(void **state)
{
    (void)state;
    struct sp_pci_addr a = {.bus = 8};
    struct sp_pci_ids ids;
    struct sp_err err;
    assert_int_equal(sp_pci_read_ids(sysfs, &a, &ids, &err), 0);
    assert_int_equal(ids.vendor, 0x1002);
    assert_int_equal(ids.device, 0x1638);
}

static void missing_device_is_named(void **state)
{
    (void)state;
    struct sp_pci_addr a = {.bus = 0x42, .slot = 3, .function = 1};
    struct sp_pci_ids ids;
    struct sp_err err;
    assert_int_equal(sp_pci_read_ids(sysfs, &a, &ids, &err), -1);
    assert_non_null(strstr(err.msg, "device 0000:42:03.1 not found under"));
    assert_non_null(strstr(err.msg, sysfs));
}

static void finds_every_device_with_ids_sorted(void **state)
{
    (void)state;
    struct sp_pci_ids want = {0x1022, 0x1639};
    struct sp_pci_addr *found;
    size_t n;
    struct sp_err err;
    assert_int_equal(sp_pci_find_by_ids(sysfs, &want, &found, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(found[0].bus, 3);
    assert_int_equal(found[1].bus, 4);
    free(found);
    struct sp_pci_ids none = {0xdead, 0xbeef};
    assert_int_equal(sp_pci_find_by_ids(sysfs, &none, &found, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_null(found);
}

static void sysfs_root_prefers_environment(void **state)
{
    (void)state;
    unsetenv(SP_ENV_SYSFS_ROOT);
    assert_string_equal(sp_pci_sysfs_root(NULL), "/sys");
    assert_string_equal(sp_pci_sysfs_root("/fake"), "/fake");
    setenv(SP_ENV_SYSFS_ROOT, "/env", 1);
    assert_string_equal(sp_pci_sysfs_root("/fake"), "/env");
    unsetenv(SP_ENV_SYSFS_ROOT);
}

/* Regression (found on a real kernel): sysfs reports 4096 bytes for every
 * attribute, and a size check before reading refused them all. */
static void reads_files_whose_size_is_a_guess(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    struct sp_err err;
    assert_int_equal(sp_read_file("/proc/self/stat", 64, &text, &len, &err), -1);
    assert_non_null(strstr(err.msg, "file too large (limit 64 bytes)"));
    assert_int_equal(sp_read_file("/proc/self/stat", 4096, &text, &len, &err), 0);
    assert_true(len > 0);
    free(text);
    char *dir = tu_mkdtemp("size");
    char *path = tu_write(dir, "big", "0123456789", 0644);
    assert_int_equal(sp_read_file(path, 9, &text, &len, &err), -1);
    assert_int_equal(sp_read_file(path, 10, &text, &len, &err), 0);
    assert_int_equal(len, 10);
    free(text);
    free(path);
    tu_rm_rf(dir);
    free(dir);
}

static int setup(void **state)
{
    (void)state;
    sysfs = tu_default_sysfs();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rm_rf(sysfs);
    free(sysfs);
    return 0;
}

/* A path that does not fit is refused, never cut (a cut path names
 * another file). */
static void paths_are_never_cut(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(sp_path_fmt(out, sizeof(out), "%s/%s", "/sys", "bus"), 0);
    assert_string_equal(out, "/sys/bus");
    assert_int_equal(sp_path_fmt(out, sizeof(out), "%s/%s", "/sys", "bus/pci/devices"), -1);
    assert_string_equal(out, "");
    char *root = malloc(SP_PATH_MAX);
    memset(root, 'r', SP_PATH_MAX - 1);
    root[0] = '/';
    root[SP_PATH_MAX - 1] = '\0';
    struct sp_pci_addr a = {0, 8, 0, 0};
    struct sp_pci_ids ids;
    struct sp_err err;
    char path[SP_PATH_MAX];
    assert_int_equal(sp_pci_device_path("/sys", &a, "vendor", path, sizeof(path), &err), 0);
    assert_string_equal(path, "/sys/bus/pci/devices/0000:08:00.0/vendor");
    assert_int_equal(sp_pci_read_ids(root, &a, &ids, &err), -1);
    assert_non_null(strstr(err.msg, "device 0000:08:00.0: its path is too long"));
    free(root);
}

/* --- reset ---------------------------------------------------------------- */

/* An APU's functions on one bus, a NIC with FLR, a device whose methods were
 * all turned off, and one as a kernel before 5.15 shows it. */
static const char reset_host[] =
    "0000:08:00.0 1002 1638 0x030000 amdgpu 4\n"
    "0000:08:00.1 1002 1637 0x040300 snd_hda_intel 5\n"
    "0000:08:00.2 1022 15df 0x108000 ccp 6\n"
    "0000:05:00.0 8086 10fb 0x020000 ixgbe 10\n"
    "0000:06:00.0 1ac1 089a 0x088000 - 11\n"
    "0000:07:00.0 1022 1639 0x0c0330 xhci_hcd 12\n"
    "!no-reset 0000:08:00.0\n"
    "!pcie 0000:08:00.0 no-flr\n"
    "!reset 0000:08:00.1 bus\n"
    "!reset 0000:05:00.0 flr bus\n"
    "!pcie 0000:05:00.0 flr\n"
    "!reset 0000:06:00.0 -\n";

static char *reset_root(void)
{
    char *root = tu_mkdtemp("reset");
    assert_int_equal(fakesysfs_build(root, reset_host), 0);
    return root;
}

static struct sp_pci_reset read_reset(const char *root, const char *addr, char *text,
                                      size_t size)
{
    struct sp_pci_addr a;
    struct sp_pci_reset r;
    struct sp_err err;
    assert_int_equal(sp_pci_addr_parse(addr, &a, NULL), 0);
    assert_int_equal(sp_pci_read_reset(root, &a, &r, &err), 0);
    assert_int_equal(r.flr, -1); /* a start never reads the config space */
    r.flr = sp_pci_read_flr(root, &a);
    sp_pci_reset_describe(&r, text, size);
    return r;
}

static void reads_how_each_device_resets(void **state)
{
    (void)state;
    char *root = reset_root(), text[256];
    struct sp_pci_reset r = read_reset(root, "05:00.0", text, sizeof(text));
    assert_true(r.listed && r.reset_file && r.flr == 1);
    assert_string_equal(text, "flr bus; FLR advertised");
    r = read_reset(root, "08:00.0", text, sizeof(text));
    assert_true(!r.listed && !r.reset_file && r.flr == 0 && !sp_pci_reset_available(&r));
    assert_string_equal(text, "none (no reset_method or reset file); no FLR");
    r = read_reset(root, "06:00.0", text, sizeof(text));
    assert_true(r.listed && r.reset_file && !sp_pci_reset_available(&r));
    assert_string_equal(text, "none (reset_method is empty)");
    r = read_reset(root, "07:00.0", text, sizeof(text));
    assert_true(!r.listed && r.reset_file && r.flr == -1 && sp_pci_reset_available(&r));
    assert_string_equal(text, "yes (this kernel does not name its methods)");
    /* The kernel's words, however they are spaced. */
    char *dev = sp_path_join(root, "devices/pci0000:00/0000:07:00.0");
    free(tu_write(dev, "reset_method", "pm \t bus\n", 0444));
    r = read_reset(root, "07:00.0", text, sizeof(text));
    assert_string_equal(r.methods, "pm bus");
    free(dev);
    tu_rm_rf(root);
    free(root);
}

/* A config space with a PM capability at 0x40 and a PCIe one at 0x60. */
static void make_config(unsigned char c[256], int flr)
{
    memset(c, 0, 256);
    c[0x06] = 0x10;
    c[0x34] = 0x40;
    c[0x40] = 0x01;
    c[0x41] = 0x60;
    c[0x60] = 0x10;
    c[0x67] = flr ? 0x10 : 0x00; /* DevCap bit 28 */
}

static void finds_flr_in_the_config_space(void **state)
{
    (void)state;
    unsigned char c[256];
    make_config(c, 1);
    assert_int_equal(sp_pci_config_flr(c, sizeof(c)), 1);
    make_config(c, 0);
    assert_int_equal(sp_pci_config_flr(c, sizeof(c)), 0);
    /* What a user who is not root reads: the header only. */
    assert_int_equal(sp_pci_config_flr(c, 64), -1);
    assert_int_equal(sp_pci_config_flr(c, 0x66), -1);
    assert_int_equal(sp_pci_config_flr(c, 0), -1);
    c[0x41] = 0x00; /* the list ends at 0x40, but the bytes stop before its next pointer */
    assert_int_equal(sp_pci_config_flr(c, sizeof(c)), 0);
    assert_int_equal(sp_pci_config_flr(c, 0x41), -1);
    make_config(c, 1);
    c[0x06] = 0; /* no capability list */
    assert_int_equal(sp_pci_config_flr(c, sizeof(c)), 0);
    make_config(c, 1);
    c[0x41] = 0x40; /* a list that loops never reaches the PCIe one */
    assert_int_equal(sp_pci_config_flr(c, sizeof(c)), 0);
    make_config(c, 1);
    c[0x40] = 0xff; /* a device that is gone reads all ones */
    assert_int_equal(sp_pci_config_flr(c, sizeof(c)), 0);
}

static enum sp_reset_verdict judge(const char *root, const char *addr, const char *const *given,
                                   char *why, size_t size)
{
    struct sp_pci_addr a, set[8];
    size_t n = 0;
    char text[256];
    struct sp_pci_reset r = read_reset(root, addr, text, sizeof(text));
    assert_int_equal(sp_pci_addr_parse(addr, &a, NULL), 0);
    for (; given[n]; n++)
        assert_int_equal(sp_pci_addr_parse(given[n], &set[n], NULL), 0);
    return sp_pci_reset_judge(root, &a, &r, set, n, why, size);
}

static void judges_whether_a_vm_can_count_on_a_reset(void **state)
{
    (void)state;
    char *root = reset_root(), why[1024];
    const char *const nic[] = {"05:00.0", NULL};
    assert_int_equal(judge(root, "05:00.0", nic, why, sizeof(why)), SP_RESET_OK);
    assert_string_equal(why, "");
    const char *const gpu[] = {"08:00.0", "08:00.1", NULL};
    assert_int_equal(judge(root, "08:00.0", gpu, why, sizeof(why)), SP_RESET_NONE);
    assert_string_equal(why, "the kernel cannot reset it (no reset_method or reset file)");
    const char *const tpu[] = {"06:00.0", NULL};
    assert_int_equal(judge(root, "06:00.0", tpu, why, sizeof(why)), SP_RESET_NONE);
    assert_string_equal(why, "the kernel cannot reset it (reset_method is empty)");
    /* Only a bus reset, and the bus holds a device the VM does not get. */
    assert_int_equal(judge(root, "08:00.1", gpu, why, sizeof(why)), SP_RESET_BUS_SHARED);
    assert_string_equal(why, "the kernel can reset it only with its whole bus (reset_method: "
                             "bus), and that bus also holds 0000:08:00.2: neither the kernel "
                             "nor QEMU resets a bus under devices the VM does not have");
    const char *const whole_bus[] = {"08:00.0", "08:00.1", "08:00.2", NULL};
    assert_int_equal(judge(root, "08:00.1", whole_bus, why, sizeof(why)), SP_RESET_OK);
    const char *const old_kernel[] = {"07:00.0", NULL};
    assert_int_equal(judge(root, "07:00.0", old_kernel, why, sizeof(why)), SP_RESET_OK);
    tu_rm_rf(root);
    free(root);
}

static void finds_the_devices_on_a_bus(void **state)
{
    (void)state;
    char *root = reset_root();
    struct sp_pci_addr a = {.bus = 8, .function = 1}, *found = NULL;
    size_t n = 0;
    struct sp_err err;
    assert_int_equal(sp_pci_bus_devices(root, &a, &found, &n, &err), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_true(found[i].bus == 8 && found[i].function == i);
    free(found);
    tu_rm_rf(root);
    free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_short_and_long_addresses),
        cmocka_unit_test(formats_hex_addresses_and_paths),
        cmocka_unit_test(rejects_malformed_addresses),
        cmocka_unit_test(parses_ids),
        cmocka_unit_test(reads_ids_from_sysfs),
        cmocka_unit_test(missing_device_is_named),
        cmocka_unit_test(finds_every_device_with_ids_sorted),
        cmocka_unit_test(sysfs_root_prefers_environment),
        cmocka_unit_test(reads_files_whose_size_is_a_guess),
        cmocka_unit_test(paths_are_never_cut),
        cmocka_unit_test(reads_how_each_device_resets),
        cmocka_unit_test(finds_flr_in_the_config_space),
        cmocka_unit_test(judges_whether_a_vm_can_count_on_a_reset),
        cmocka_unit_test(finds_the_devices_on_a_bus),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
