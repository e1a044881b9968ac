/* hostuse: what the host itself uses below a PCI device, on the fake DSM box
 * (tests/data/hosts/dsm-box.txt, with its fake /proc), plus the /proc
 * parsers on odd input; the refusals and the host_use="allow" override
 * through the check, and a bind that refuses before touching anything (the
 * kernel model is linked in). */
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
#include "../../config/snippet.h"
#include "../../vfio/bind.h"
#include "../../vfio/hostuse.h"
#include "../../vfio/procview.h"
#include "../../vfio/state.h"
#include "../tools/fakesysfs.h"
#include "testutil.h"

struct box {
    char *root;
    char *proc;
    char *state;
};

/* The DSM box, with more spec lines after it. */
static struct box *make_box(const char *extra)
{
    struct box *b = calloc(1, sizeof(*b));
    b->root = tu_mkdtemp("hostuse-sys");
    b->proc = tu_mkdtemp("hostuse-proc");
    b->state = tu_mkdtemp("hostuse-state");
    char *path = sp_path_join(tu_src_dir(), "tests/data/hosts/dsm-box.txt");
    char *spec = tu_read(path, NULL), *text = NULL;
    assert_true(asprintf(&text, "%s\n%s\n", spec, extra ? extra : "") > 0);
    assert_int_equal(fakesysfs_build_host(b->root, b->proc, text), 0);
    free(text);
    free(spec);
    free(path);
    return b;
}

static void free_box(struct box *b)
{
    tu_rm_rf(b->root);
    tu_rm_rf(b->proc);
    tu_rm_rf(b->state);
    free(b->root);
    free(b->proc);
    free(b->state);
    free(b);
}

static int setup_box(void **state)
{
    *state = make_box(NULL);
    return 0;
}

static int teardown_box(void **state)
{
    free_box(*state);
    return 0;
}

static struct sp_pci_addr addr(const char *text)
{
    struct sp_pci_addr a;
    assert_int_equal(sp_pci_addr_parse(text, &a, NULL), 0);
    return a;
}

/* The uses below where, each on a line "[system] CHAIN". */
static char *uses_of(const struct box *b, const char *where)
{
    struct sp_host_scan scan;
    struct sp_host_uses uses;
    struct sp_err err;
    struct sp_pci_addr a = addr(where);
    sp_host_scan_init(&scan, b->root, b->proc);
    if (sp_host_use_find(&scan, &a, &uses, &err) < 0)
        fail_msg("%s: %s", where, err.msg);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    for (size_t i = 0; i < uses.n; i++)
        fprintf(f, "%s%s\n", uses.items[i].system ? "[system] " : "", uses.items[i].chain);
    fclose(f);
    sp_host_uses_free(&uses);
    sp_host_scan_free(&scan);
    return text;
}

static void expect_uses(const struct box *b, const char *where, const char *want)
{
    char *got = uses_of(b, where);
    if (strcmp(got, want) != 0)
        fail_msg("uses of %s:\n%s\nexpected:\n%s", where, got, want);
    free(got);
}

/* The same on a box of its own: the DSM box and the spec lines extra. */
static void expect_uses_on(const char *extra, const char *where, const char *want)
{
    struct box *b = make_box(extra);
    expect_uses(b, where, want);
    free_box(b);
}

/* The check's problems for one device, joined with "; ". */
static char *problems_of(const struct box *b, const char *where, int allow)
{
    struct sp_vfio_device d = {.addr = addr(where), .allow_host_use = allow};
    struct sp_problems p = {0};
    struct sp_err joined = {""};
    assert_int_equal(sp_vfio_check(b->root, b->proc, &d, 1, &p), 0);
    sp_problems_to_err(&p, &joined);
    sp_problems_free(&p);
    return strdup(joined.msg);
}

static void append(const char *dir, const char *name, const char *text)
{
    char *path = sp_path_join(dir, name);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    free(path);
}

static void expect_in(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("'%s' not in:\n%s", needle, text);
}

/* --- disks -------------------------------------------------------------- */

#define SDA_VOLUME "0000:02:00.1 -> sda -> sda5 -> md2 -> dm-0 (vg1000-lv) -> dm-1 (cachedev_0)"
#define SDB_VOLUME "0000:02:00.1 -> sdb -> sdb5 -> md2 -> dm-0 (vg1000-lv) -> dm-1 (cachedev_0)"

static void md_root_is_the_hosts_own(void **state)
{
    expect_uses(*state, "02:00.1",
                "[system] 0000:02:00.1 -> sda -> sda1 -> md0, mounted at /\n"
                "0000:02:00.1 -> sda -> sda2 -> md1, used as swap\n"
                SDA_VOLUME ", mounted at /volume1 (and 1 more)\n"
                "[system] 0000:02:00.1 -> sdb -> sdb1 -> md0, mounted at /\n"
                "0000:02:00.1 -> sdb -> sdb2 -> md1, used as swap\n"
                SDB_VOLUME ", mounted at /volume1 (and 1 more)\n");
    char *p = problems_of(*state, "02:00.1", 0);
    expect_in(p, "device 0000:02:00.1 is the host's own: 0000:02:00.1 -> sda -> sda1 -> md0, "
                 "mounted at /; host_use=\"allow\" cannot cover");
    free(p);
}

static void swap_is_in_use(void **state)
{
    char *p = problems_of(*state, "02:00.1", 0);
    expect_in(p, "device 0000:02:00.1 is in use by the host: 0000:02:00.1 -> sda -> sda2 -> md1, "
                 "used as swap (stop that use first; if the host can do without it, "
                 "host_use=\"allow\" on its <pci> lets it go)");
    free(p);
}

static void mounted_volume_through_lvm_and_cache(void **state)
{
    char *p = problems_of(*state, "02:00.1", 0);
    expect_in(p, SDA_VOLUME ", mounted at /volume1 (and 1 more)");
    expect_in(p, SDB_VOLUME ", mounted at /volume1 (and 1 more)");
    free(p);
}

static void lvm_path_names_the_dm_device(void **state)
{
    (void)state;
    struct box *b = make_box("!proc mounts /dev/vg1000/lv /volume9 btrfs rw 0 0\n"
                             "!proc mounts /dev/dm-1 /volume8 btrfs rw 0 0\n");
    char *got = uses_of(b, "02:00.1");
    expect_in(got, "0000:02:00.1 -> sda -> sda5 -> md2 -> dm-0 (vg1000-lv), mounted at /volume9");
    expect_in(got, SDA_VOLUME ", mounted at /volume1 (and 2 more)");
    free(got);
    free_box(b);
    assert_true(sp_proc_dev_is("vg1000/lv", "dm-0", "vg1000-lv"));
    assert_true(sp_proc_dev_is("my-vg/my-lv", "dm-3", "my--vg-my--lv"));
    assert_true(sp_proc_dev_is("mapper/cachedev_0", "dm-1", "cachedev_0"));
    assert_true(sp_proc_dev_is("md0", "md0", NULL));
    assert_false(sp_proc_dev_is("vg-1/lv", "dm-0", "vg-1-lv"));
    assert_false(sp_proc_dev_is("vg/lv/x", "dm-0", "vg-lv-x"));
    assert_false(sp_proc_dev_is("mapper/cachedev_0", "dm-0", "cachedev_00"));
    assert_false(sp_proc_dev_is("sda1", "sda", NULL));
}

static void unmounted_disk_is_passable(void **state)
{
    expect_uses(*state, "01:00.0", "");
    char *p = problems_of(*state, "01:00.0", 0);
    assert_string_equal(p, "");
    free(p);
}

static void active_md_array_without_a_mount_is_in_use(void **state)
{
    (void)state;
    expect_uses_on("0000:07:00.0 1000 0072 0x010700 mpt3sas 15\n"
                   "!block 0000:07:00.0 sdd sdd1\n"
                   "!block 0000:07:00.0 sde sde1\n"
                   "!holder sdd1 md5\n"
                   "!holder sde1 md6\n"
                   "!proc mdstat md5 : active (auto-read-only) raid1 sdd1[0]\n"
                   "!proc mdstat md6 : inactive sde1[0](S)\n",
                   "07:00.0", "0000:07:00.0 -> sdd -> sdd1 -> md5, an active md array, raid1\n");
}

static void synoboot_never_leaves(void **state)
{
    expect_uses(*state, "02:00.0", "[system] 0000:02:00.0 -> synoboot, the DSM boot device\n");
    char *p = problems_of(*state, "02:00.0", 1);
    expect_in(p, "device 0000:02:00.0 is the host's own: 0000:02:00.0 -> synoboot, the DSM boot "
                 "device; host_use=\"allow\" cannot cover");
    free(p);
}

/* --- network ------------------------------------------------------------ */

static void nic_up_with_an_address_is_in_use(void **state)
{
    expect_uses(*state, "03:00.0", "0000:03:00.0 -> eth0, up with an address\n");
}

static void nic_down_or_without_an_address_is_passable(void **state)
{
    struct box *b = *state;
    expect_uses(b, "05:00.0", ""); /* eth1 is down */
    free(tu_write(b->root, "class/net/eth1/operstate", "up\n", 0644));
    expect_uses(b, "05:00.0", ""); /* up, no address */
    /* Link-local addresses only (IPv4 169.254/16, IPv6 fe80::/10). */
    uint32_t dest;
    unsigned char bytes[4] = {169, 254, 0, 0};
    memcpy(&dest, bytes, sizeof(dest));
    char line[128];
    snprintf(line, sizeof(line), "eth1 %08X 00000000 0001 0 0 0 0000FFFF 0 0 0\n", dest);
    append(b->proc, "net/route", line);
    append(b->proc, "net/if_inet6", "fe800000000000000211aafffe000001 03 40 20 80 eth1\n");
    expect_uses(b, "05:00.0", "");
    /* A global IPv6 address is an address. */
    append(b->proc, "net/if_inet6", "2001067c12340000021132fffe000002 03 40 00 00 eth1\n");
    expect_uses(b, "05:00.0", "0000:05:00.0 -> eth1, up with an address\n");
}

static void nic_in_an_active_bond_or_bridge_is_in_use(void **state)
{
    (void)state;
    expect_uses_on("!iface bond0 up\n!master eth1 bond0\n"
                   "!proc net/route bond0 0002A8C0 00000000 0001 0 0 0 00FFFFFF 0 0 0\n",
                   "05:00.0", "0000:05:00.0 -> eth1 -> bond0, up with an address\n");
    expect_uses_on("!iface bond0 up\n!iface br0 up\n!master eth1 bond0\n!master bond0 br0\n"
                   "!proc net/if_inet6 2001067c12340000021132fffe000003 05 40 00 00 br0\n",
                   "05:00.0", "0000:05:00.0 -> eth1 -> bond0 -> br0, up with an address\n");
    /* A bond that is down takes nothing. */
    expect_uses_on("!iface bond0 down\n!master eth1 bond0\n"
                   "!proc net/route bond0 0002A8C0 00000000 0001 0 0 0 00FFFFFF 0 0 0\n",
                   "05:00.0", "");
    /* A VLAN on top (upper_ without master). */
    expect_uses_on("!iface eth1.10 up\n!upper eth1 eth1.10\n"
                   "!proc net/route eth1.10 0003A8C0 00000000 0001 0 0 0 00FFFFFF 0 0 0\n",
                   "05:00.0", "0000:05:00.0 -> eth1 -> eth1.10, up with an address\n");
}

static void open_vswitch_port_counts_through_its_bridge(void **state)
{
    (void)state;
    expect_uses_on("!iface ovs-system down\n!iface ovs_eth1 unknown\n"
                   "!master eth1 ovs-system\n"
                   "!proc net/route ovs_eth1 0002A8C0 00000000 0001 0 0 0 00FFFFFF 0 0 0\n",
                   "05:00.0", "0000:05:00.0 -> eth1 -> ovs-system -> ovs_eth1, up with an "
                              "address\n");
    expect_uses_on("!iface ovs-system down\n!master eth1 ovs-system\n", "05:00.0",
                   "0000:05:00.0 -> eth1 -> ovs-system, a port of Open vSwitch, whose bridge "
                   "sysfs does not show (taken as in use)\n");
}

/* --- the override and the refusal ------------------------------------- */

static void override_lets_a_data_disk_or_nic_go_but_never_the_root_chain(void **state)
{
    struct box *b = *state;
    char *p = problems_of(b, "08:00.3", 0);
    expect_in(p, "device 0000:08:00.3 is in use by the host: 0000:08:00.3 -> sdc -> sdc1, "
                 "mounted at /volumeUSB1/usbshare");
    free(p);
    p = problems_of(b, "08:00.3", 1);
    assert_string_equal(p, "");
    free(p);
    p = problems_of(b, "03:00.0", 1);
    assert_string_equal(p, "");
    free(p);
    p = problems_of(b, "02:00.1", 1);
    expect_in(p, "device 0000:02:00.1 is the host's own: 0000:02:00.1 -> sda -> sda1 -> md0, "
                 "mounted at /; host_use=\"allow\" cannot cover what / or the DSM boot device "
                 "depends on");
    expect_in(p, "0000:02:00.1 -> sdb -> sdb1 -> md0, mounted at /");
    assert_null(strstr(p, "swap"));
    assert_null(strstr(p, "/volume1"));
    free(p);
}

static void bind_refuses_before_touching_anything(void **state)
{
    struct box *b = *state;
    struct sp_vfio_device d = {.addr = addr("02:00.1"), .allow_host_use = 1};
    struct sp_vfio_request req = {.root = b->root, .proc_root = b->proc,
                                  .state_dir = b->state, .vm = "nas-vm", .devs = &d,
                                  .n_devs = 1, .bind = &d.addr, .n_bind = 1};
    struct sp_err err;
    assert_int_equal(sp_vfio_bind_request(&req, NULL, &err), -1);
    expect_in(err.msg, "0000:02:00.1 -> sda -> sda1 -> md0, mounted at /");
    char now[64];
    assert_int_equal(sp_sysfs_driver(b->root, &d.addr, now, sizeof(now), &err), 0);
    assert_string_equal(now, "ahci");
    assert_int_equal(sp_sysfs_driver_override(b->root, &d.addr, now, sizeof(now), &err), 0);
    assert_string_equal(now, "");
    struct sp_hold hold;
    assert_int_equal(sp_state_read(b->state, &d.addr, &hold, &err), 0);
    /* The USB share with the override does go. */
    struct sp_vfio_device usb = {.addr = addr("08:00.3"), .allow_host_use = 1};
    req.devs = &usb;
    req.bind = &usb.addr;
    assert_int_equal(sp_vfio_bind_request(&req, NULL, &err), 0);
    assert_int_equal(sp_sysfs_driver(b->root, &usb.addr, now, sizeof(now), &err), 0);
    assert_string_equal(now, "vfio-pci");
}

static void snippet_reads_host_use(void **state)
{
    (void)state;
    static const char ok[] = "<passthrough vm='nas'><pci address='05:00.0' host_use='allow'/>"
                             "<pci address='03:00.0' host_use='refuse'/><pci address='01:00.0'/>"
                             "</passthrough>";
    struct sp_snippet s;
    assert_int_equal(sp_snippet_parse("vm.d/nas.xml", ok, strlen(ok), &s), 0);
    assert_null(s.error);
    assert_int_equal(s.n_specs, 3);
    assert_int_equal(s.specs[0].allow_host_use, 1);
    assert_int_equal(s.specs[1].allow_host_use, 0);
    assert_int_equal(s.specs[2].allow_host_use, 0);
    sp_snippet_free(&s);
    static const char bad[] = "<passthrough vm='nas'>\n<pci address='05:00.0' host_use='yes'/>"
                              "</passthrough>";
    assert_int_equal(sp_snippet_parse("vm.d/nas.xml", bad, strlen(bad), &s), 0);
    assert_non_null(s.error);
    assert_string_equal(s.error, "vm.d/nas.xml:2: host_use='yes': the values are 'allow' and "
                                 "'refuse'");
    sp_snippet_free(&s);
}

/* --- odd input ---------------------------------------------------------- */

static void nothing_below_a_gpu_reads_no_proc(void **state)
{
    struct box *b = *state;
    tu_rm_rf(b->proc); /* /proc is only read once something is found */
    expect_uses(b, "08:00.0", "");
    char *p = problems_of(b, "08:00.0", 0);
    assert_string_equal(p, "");
    free(p);
}

/* Below the device means inside its sysfs path, not a path that only
 * starts with the same characters. */
static void a_look_alike_path_is_not_below(void **state)
{
    struct box *b = *state;
    free(tu_write(b->root, "devices/pci0000:00/0000:01:00.0-twin/block/sdz/dev", "8:64\n",
                  0644));
    char *link = sp_path_join(b->root, "class/block/sdz");
    assert_int_equal(symlink("../../devices/pci0000:00/0000:01:00.0-twin/block/sdz", link), 0);
    free(link);
    append(b->proc, "mounts", "/dev/sdz / ext4 rw 0 0\n");
    expect_uses(b, "01:00.0", "");
}

static void unreadable_proc_files_refuse(void **state)
{
    struct box *b = *state;
    char *mounts = sp_path_join(b->proc, "mounts");
    unlink(mounts);
    char *p = problems_of(b, "01:00.0", 1);
    expect_in(p, "device 0000:01:00.0: cannot tell what the host uses on it, so it stays with "
                 "the host (host_use=\"allow\" cannot cover this): ");
    expect_in(p, "/mounts: No such file or directory");
    free(p);
    /* Larger than any /proc/mounts (4 MiB): refused, not cut short. */
    FILE *f = fopen(mounts, "w");
    for (size_t i = 0; i < (4u << 20) / 32 + 1; i++)
        fputs("tmpfs /run/user/1000 tmpfs rw 0\n", f);
    fclose(f);
    p = problems_of(b, "01:00.0", 1);
    expect_in(p, "file too large");
    free(p);
    /* Missing optional files (no swap, no md driver, no IPv6) are empty. */
    free(tu_write(b->proc, "mounts", "", 0644));
    static const char *const optional[] = {"swaps", "mdstat", "net/if_inet6", "cmdline"};
    for (size_t i = 0; i < 4; i++) {
        char *path = sp_path_join(b->proc, optional[i]);
        unlink(path);
        free(path);
    }
    expect_uses(b, "03:00.0", "0000:03:00.0 -> eth0, up with an address\n");
    free(mounts);
}

static void malformed_proc_text_is_skipped(void **state)
{
    (void)state;
    struct sp_proc_list l = {0};
    static const char junk[] = "\n\n \t \n#\n:\nmd\n\\\\\\\n/dev/\n/dev/ \n\x01\x02\xff\n";
    assert_int_equal(sp_proc_parse_mounts(junk, "md0", &l), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(sp_proc_parse_mounts("/dev/sdc1 /volume\\040USB\\1341 vfat rw 0 0\n"
                                          "/dev/root / ext4 rw 0 0\n/dev/sdd1\n"
                                          "/dev/sde1 /x\\04", "md0", &l), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.items[0].detail, "/volume USB\\1");
    assert_string_equal(l.items[1].name, "md0");
    assert_string_equal(l.items[2].detail, "/x\\04");
    sp_proc_list_free(&l);
    assert_int_equal(sp_proc_parse_swaps(junk, &l), 0);
    assert_int_equal(sp_proc_parse_swaps("Filename Type\n/dev/md1 partition 1 0 -2\n"
                                         "/volume1/swapfile file 1 0 -3\n", &l), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].name, "md1");
    sp_proc_list_free(&l);
    assert_int_equal(sp_proc_parse_mdstat(junk, &l), 0);
    assert_int_equal(sp_proc_parse_mdstat("md0 : active\nmd1 active raid1\nmdx :\n"
                                          "md2 : active (read-only) raid5 sda[0]\n"
                                          "md3 : active sdb[0]\n", &l), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.items[0].detail, "");
    assert_string_equal(l.items[1].detail, "raid5");
    assert_string_equal(l.items[2].detail, "");
    sp_proc_list_free(&l);
    assert_int_equal(sp_proc_parse_route(junk, &l), 0);
    assert_int_equal(sp_proc_parse_route("eth0 XYZ 0 0 0 0 0 0\neth1 0 0 0\n"
                                         "eth2 000000000 0 0 0 0 0 0\n"
                                         "eth3 00000000 0 0 0 0 0 0\neth3 00000000 0 0 0 0 0 0\n",
                                         &l), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].name, "eth3");
    sp_proc_list_free(&l);
    assert_int_equal(sp_proc_parse_inet6(junk, &l), 0);
    assert_int_equal(sp_proc_parse_inet6("2001 02 40 00 00 eth0\n"
                                         "2001067c12340000021132fffe00000g 02 40 00 00 eth1\n"
                                         "FE800000000000000211aafffe000001 03 40 20 80 eth2\n"
                                         "2001067c12340000021132fffe000002 03 40 00 00\n", &l), 0);
    assert_int_equal(l.n, 0);
    char root[16];
    sp_proc_cmdline_root("ro root=UUID=1234 quiet", root, sizeof(root));
    assert_string_equal(root, "");
    sp_proc_cmdline_root("root=/dev/md0 root=/dev/", root, sizeof(root));
    assert_string_equal(root, "md0");
    /* A line longer than any /proc line is skipped, the next one read. */
    char *longline = malloc(10000);
    memset(longline, 'a', 9000);
    strcpy(longline + 9000, " / ext4\n/dev/md0 / ext4 rw 0 0\n");
    longline[0] = '/';
    assert_int_equal(sp_proc_parse_mounts(longline, NULL, &l), 0);
    assert_int_equal(l.n, 1);
    sp_proc_list_free(&l);
    free(longline);
}

static void holder_cycles_and_depth_are_bounded(void **state)
{
    (void)state;
    /* md0 and md9 hold each other: the walk stops at the cycle. */
    struct box *b = make_box("!holder md0 md9\n!holder md9 md0\n");
    char *got = uses_of(b, "02:00.1");
    expect_in(got, "[system] 0000:02:00.1 -> sda -> sda1 -> md0, mounted at /\n");
    free(got);
    free_box(b);
    /* Deeper than the walk follows: refused as unknown, override or not. */
    b = make_box("!holder sdc1 x1\n!holder x1 x2\n!holder x2 x3\n!holder x3 x4\n"
                 "!holder x4 x5\n!holder x5 x6\n!holder x6 x7\n!holder x7 x8\n");
    char *p = problems_of(b, "08:00.3", 1);
    expect_in(p, "device 0000:08:00.3: cannot tell what the host uses on it");
    expect_in(p, "a chain longer than 8");
    free(p);
    free_box(b);
}

int main(void)
{
    /* Tests that only read share one box (the group's); the others get
     * their own. */
#define R(fn) cmocka_unit_test(fn)
#define W(fn) cmocka_unit_test_setup_teardown(fn, setup_box, teardown_box)
    const struct CMUnitTest tests[] = {
        R(md_root_is_the_hosts_own),
        R(swap_is_in_use),
        R(mounted_volume_through_lvm_and_cache),
        R(lvm_path_names_the_dm_device),
        R(unmounted_disk_is_passable),
        R(active_md_array_without_a_mount_is_in_use),
        R(synoboot_never_leaves),
        R(nic_up_with_an_address_is_in_use),
        W(nic_down_or_without_an_address_is_passable),
        R(nic_in_an_active_bond_or_bridge_is_in_use),
        R(open_vswitch_port_counts_through_its_bridge),
        R(override_lets_a_data_disk_or_nic_go_but_never_the_root_chain),
        W(bind_refuses_before_touching_anything),
        R(snippet_reads_host_use),
        W(nothing_below_a_gpu_reads_no_proc),
        W(a_look_alike_path_is_not_below),
        W(unreadable_proc_files_refuse),
        R(malformed_proc_text_is_skipped),
        R(holder_cycles_and_depth_are_bounded),
    };
    return cmocka_run_group_tests(tests, setup_box, teardown_box);
}
