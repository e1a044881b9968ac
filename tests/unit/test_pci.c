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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_short_and_long_addresses),
        cmocka_unit_test(rejects_malformed_addresses),
        cmocka_unit_test(parses_ids),
        cmocka_unit_test(reads_ids_from_sysfs),
        cmocka_unit_test(missing_device_is_named),
        cmocka_unit_test(finds_every_device_with_ids_sorted),
        cmocka_unit_test(sysfs_root_prefers_environment),
        cmocka_unit_test(reads_files_whose_size_is_a_guess),
        cmocka_unit_test(paths_are_never_cut),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
