/* ids: the pci.ids reader on a small hand-written database, on malformed
 * lines, and on the host's real /usr/share/misc/pci.ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/fsutil.h"
#include "../../pci/ids.h"
#include "../../vfio/names.h"

#define REAL_PCI_IDS "/usr/share/misc/pci.ids"
#define AMD "Advanced Micro Devices, Inc. [AMD/ATI]"
#define CEZANNE "Cezanne [Radeon Vega Series / Radeon Vega Mobile Series]"

/* A vendor 0c03 and a class 0c with subclass 03: neither may be taken for
 * the other. */
static const char fixture[] =
    "#\n"
    "#\tList of PCI ID's (a few, for the tests)\n"
    "#\n"
    "\n"
    "# Vendors, devices and subsystems.\n"
    "0c03  Vendor Named Like A Class\n"
    "\t0300  Not A Class\n"
    "1002  " AMD "\n"
    "\t1637  Renoir Radeon High Definition Audio Controller\n"
    "\t1638  " CEZANNE "\n"
    "\t\t1043 16c2  Radeon Vega 8\n"
    "# Used in the Steam Deck\n"
    "\t163f  VanGogh [AMD Custom GPU 0405]\n"
    "10de  NVIDIA Corporation\n"
    "\t1b80  GP104 [GeForce GTX 1080]\n"
    "8086  Intel Corporation\n"
    "\t9a49  TigerLake-LP GT2 [Iris Xe Graphics]\n"
    "\n"
    "# List of known device classes, subclasses and programming interfaces\n"
    "C 03  Display controller\n"
    "\t00  VGA compatible controller\n"
    "\t\t00  VGA controller\n"
    "\t80  Display controller\n"
    "C 0c  Serial bus controller\n"
    "\t03  USB controller\n"
    "\t\t30  XHCI\n"
    "C ff  Unassigned class\n";

/* The text in a buffer of exactly its length, no NUL after it, so that
 * ASan sees any read past the end. */
static char *exact(const char *text, size_t len)
{
    char *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    memcpy(buf, text, len);
    return buf;
}

/* One lookup and the name it must give: a device, or a class code. */
struct expect {
    int is_class;
    uint16_t vendor, device;
    uint32_t class_code;
    const char *name;
};
#define DEV(v, d, want) {0, v, d, 0, want}
#define CLS(code, want) {1, 0, 0, code, want}
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void check_all(const char *text, size_t len, const struct expect *cases, size_t n)
{
    char *buf = exact(text, len), out[256];
    for (size_t i = 0; i < n; i++) {
        const struct expect *e = &cases[i];
        const char *name = e->is_class
            ? sp_ids_class_name(buf, len, e->class_code, out, sizeof(out))
            : sp_ids_device_name(buf, len, e->vendor, e->device, out, sizeof(out));
        assert_string_equal(name, e->name);
    }
    free(buf);
}

#define FIXTURE fixture, sizeof(fixture) - 1

static void names_vendor_and_device(void **state)
{
    (void)state;
    static const struct expect cases[] = {
        DEV(0x1002, 0x1638, AMD " " CEZANNE),
        DEV(0x1002, 0x163f, AMD " VanGogh [AMD Custom GPU 0405]"),
        DEV(0x8086, 0x9a49, "Intel Corporation TigerLake-LP GT2 [Iris Xe Graphics]"),
    };
    check_all(FIXTURE, cases, COUNT(cases));
}

/* libpci's words: the vendor's name and the device number, else both numbers. */
static void unknown_device_and_vendor_are_numbered(void **state)
{
    (void)state;
    static const struct expect cases[] = {
        DEV(0x10de, 0x1b81, "NVIDIA Corporation Device 1b81"),
        DEV(0x1043, 0x16c2, "Device 1043:16c2"), /* a subsystem, not a vendor */
        DEV(0xabcd, 0x0001, "Device abcd:0001"),
    };
    check_all(FIXTURE, cases, COUNT(cases));
}

static void names_classes(void **state)
{
    (void)state;
    static const struct expect cases[] = {
        CLS(0x030000, "VGA compatible controller"),
        CLS(0x038000, "Display controller"),
        CLS(0x0c0330, "USB controller"), /* the prog-if is not looked up */
        CLS(0x030200, "Display controller [0302]"),
        CLS(0xff0000, "Unassigned class [ff00]"),
        CLS(0x120000, "Class 1200"),
    };
    check_all(FIXTURE, cases, COUNT(cases));
}

static void class_section_is_not_vendors(void **state)
{
    (void)state;
    static const struct expect cases[] = {
        DEV(0x0c03, 0x0300, "Vendor Named Like A Class Not A Class"),
        DEV(0x000c, 0x0003, "Device 000c:0003"),
        DEV(0x0c00, 0x0003, "Device 0c00:0003"),
        DEV(0x0003, 0x0000, "Device 0003:0000"),
        CLS(0x0c0300, "USB controller"),
        CLS(0x030000, "VGA compatible controller"),
    };
    check_all(FIXTURE, cases, COUNT(cases));
}

static void empty_database_numbers_everything(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(sp_ids_device_name(NULL, 0, 0x1002, 0x1638, out, sizeof(out)),
                        "Device 1002:1638");
    assert_string_equal(sp_ids_class_name(NULL, 0, 0x030000, out, sizeof(out)), "Class 0300");
    static const struct expect cases[] = {DEV(0x1002, 0x1638, "Device 1002:1638")};
    check_all("# only a comment", 16, cases, COUNT(cases));
}

static void last_line_needs_no_newline(void **state)
{
    (void)state;
    static const char text[] = "1002  " AMD "\n\t1638  " CEZANNE;
    static const struct expect device[] = {DEV(0x1002, 0x1638, AMD " " CEZANNE)};
    check_all(text, sizeof(text) - 1, device, COUNT(device));
    static const char cls[] = "C 03  Display controller\n\t00  VGA compatible controller";
    static const struct expect vga[] = {CLS(0x030000, "VGA compatible controller")};
    check_all(cls, sizeof(cls) - 1, vga, COUNT(vga));
    static const char cut[] = "1002  " AMD "\n\t16"; /* cut inside the ID */
    static const struct expect numbered[] = {DEV(0x1002, 0x16, AMD " Device 0016")};
    check_all(cut, sizeof(cut) - 1, numbered, COUNT(numbered));
}

/* Each bad line is skipped. A bad top-level line also ends the block
 * above it: the lines nested below it belong to no vendor. */
static const char malformed[] =
    "8086  Intel Corporation\n"
    "\t1234  Good Device\n"
    "zzzz  Vendor With Bad Hex\n"
    "\t1111  Below A Bad Vendor\n"
    "1af4\n"
    "\t1000  Below A Vendor Without Separator\n"
    "1b36  \n"
    "\t0001  Below A Vendor Without Name\n"
    " 10ec  Leading Space\n"
    "\t8168  Below A Vendor With A Leading Space\n"
    "10ee\tXilinx Corporation\n"
    "\t7021  Tab Separated\n"
    "\t 7022  Tab Then Space\n"
    "\t702  Short Hex\n"
    "\t70234  Long Hex\n"
    "\t7024\n"
    "\t7025   \t \n"
    "\t\t\t7026  Too Deep\n"
    "  \t  \n"
    "1b21  ASMedia Technology Inc.  \r\n"
    "\t1242  ASM1142 USB 3.1 Host Controller\r\n"
    "C 0x  Class With Bad Hex\n"
    "\t00  Below A Bad Class\n"
    "C 07\n"
    "\t00  Below A Class Line Without Name\n"
    "S 1b21\n"
    "\t1243  A Generic Subsystem\n"
    "X 01  A Block To Come\n"
    "\t1244  Inside It\n"
    "C 0d  Wireless controller\n"
    "\t1  Short Subclass\n"
    "\t100  Long Subclass\n";

#define MALFORMED malformed, sizeof(malformed) - 1

static void skips_malformed_lines(void **state)
{
    (void)state;
    static const struct expect cases[] = {
        DEV(0x8086, 0x1234, "Intel Corporation Good Device"),
        DEV(0x8086, 0x1111, "Intel Corporation Device 1111"),
        DEV(0x1af4, 0x1000, "Device 1af4:1000"),
        DEV(0x1b36, 0x0001, "Device 1b36:0001"),
        DEV(0x10ec, 0x8168, "Device 10ec:8168"),
        DEV(0x10ee, 0x7021, "Xilinx Corporation Tab Separated"),
        DEV(0x10ee, 0x7022, "Xilinx Corporation Device 7022"),
        DEV(0x10ee, 0x7023, "Xilinx Corporation Device 7023"),
        DEV(0x10ee, 0x7024, "Xilinx Corporation Device 7024"),
        DEV(0x10ee, 0x7025, "Xilinx Corporation Device 7025"),
        DEV(0x10ee, 0x7026, "Xilinx Corporation Device 7026"),
        DEV(0x10ee, 0x0702, "Xilinx Corporation Device 0702"),
        DEV(0x1b21, 0x1242, "ASMedia Technology Inc. ASM1142 USB 3.1 Host Controller"),
        DEV(0x1b21, 0x1243, "ASMedia Technology Inc. Device 1243"),
        DEV(0x1b21, 0x1244, "ASMedia Technology Inc. Device 1244"),
        CLS(0x000000, "Class 0000"),
        CLS(0x070000, "Class 0700"),
        CLS(0x0d0100, "Wireless controller [0d01]"),
        CLS(0x0d1000, "Wireless controller [0d10]"),
    };
    check_all(MALFORMED, cases, COUNT(cases));
}

static void a_nul_ends_a_line(void **state)
{
    (void)state;
    static const char text[] = "1d6a  Aquantia Corp.\0 and garbage\n\t07b1  AQC107\n";
    static const struct expect cases[] = {DEV(0x1d6a, 0x07b1, "Aquantia Corp. AQC107")};
    check_all(text, sizeof(text) - 1, cases, COUNT(cases));
}

static void long_names_are_cut_with_dots(void **state)
{
    (void)state;
    size_t name_len = 100000, len = 6 + name_len + 9;
    char *text = malloc(len);
    assert_non_null(text);
    memcpy(text, "abcd  ", 6);
    memset(text + 6, 'N', name_len);
    memcpy(text + 6 + name_len, "\n\t0001  X", 9);
    char out[32];
    const char *name = sp_ids_device_name(text, len, 0xabcd, 0x0001, out, sizeof(out));
    assert_int_equal(strlen(name), sizeof(out) - 1);
    assert_memory_equal(name, "NNNNN", 5);
    assert_string_equal(name + sizeof(out) - 4, "...");
    char tiny[1] = {'x'};
    assert_string_equal(sp_ids_device_name(text, len, 0xabcd, 0x0001, tiny, 1), "");
    tiny[0] = 'x';
    assert_string_equal(sp_ids_class_name(text, len, 0x030000, tiny, 0), "");
    assert_int_equal(tiny[0], 'x'); /* size 0: nothing written */
    free(text);
}

static void reads_the_real_pci_ids(void **state)
{
    (void)state;
    char *ids;
    size_t len;
    struct sp_err err;
    if (sp_read_file(REAL_PCI_IDS, SP_IDS_MAX_BYTES, &ids, &len, &err) < 0)
        fail_msg("%s (install the pci.ids package: deploy/debian-deps.sh)", err.msg);
    static const struct expect cases[] = {
        DEV(0x1002, 0x1638, AMD " " CEZANNE),
        CLS(0x030000, "VGA compatible controller"),
    };
    check_all(ids, len, cases, COUNT(cases));
    free(ids);

    /* The process-wide copy: SP_DATADIR's if installed, else this one. */
    char out[256];
    assert_non_null(strstr(sp_pci_name_device(0x1002, 0x1638, out, sizeof(out)), AMD " "));
    assert_string_equal(sp_pci_name_class(0x0c0330, out, sizeof(out)), "USB controller");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_vendor_and_device),
        cmocka_unit_test(unknown_device_and_vendor_are_numbered),
        cmocka_unit_test(names_classes),
        cmocka_unit_test(class_section_is_not_vendors),
        cmocka_unit_test(empty_database_numbers_everything),
        cmocka_unit_test(last_line_needs_no_newline),
        cmocka_unit_test(skips_malformed_lines),
        cmocka_unit_test(a_nul_ends_a_line),
        cmocka_unit_test(long_names_are_cut_with_dots),
        cmocka_unit_test(reads_the_real_pci_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
