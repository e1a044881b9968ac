/* tree: each device's parent from the bridges' bus numbers, on the fake
 * hosts (a root port, a switch behind a bridge) and on the edge cases: a
 * bridge whose config space cannot be read, a device that is no bridge but
 * has the byte set. */
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
#include "../../pci/tree.h"
#include "../tools/fakesysfs.h"
#include "testutil.h"

struct tree {
    char *root;
    struct sp_pci_node *nodes;
    size_t n;
};

static void build(struct tree *t, const char *host)
{
    char spec[512];
    t->root = tu_mkdtemp("tree");
    snprintf(spec, sizeof(spec), "%s/tests/data/hosts/%s.txt", tu_src_dir(), host);
    assert_int_equal(fakesysfs_build_from_file(t->root, spec), 0);
}

static void read_tree(struct tree *t)
{
    free(t->nodes);
    assert_int_equal(sp_pci_tree_read(t->root, &t->nodes, &t->n, NULL), 0);
}

static void done(struct tree *t)
{
    tu_rm_rf(t->root);
    free(t->root);
    free(t->nodes);
}

/* The address of the parent of the device at text, "" on a root bus. */
static const char *parent_of(const struct tree *t, const char *text)
{
    static char out[SP_PCI_ADDR_STRLEN];
    struct sp_pci_addr a;
    assert_int_equal(sp_pci_addr_parse(text, &a, NULL), 0);
    for (size_t i = 0; i < t->n; i++)
        if (sp_pci_addr_cmp(&t->nodes[i].addr, &a) == 0) {
            if (t->nodes[i].parent < 0)
                return "";
            sp_pci_addr_format(&t->nodes[t->nodes[i].parent].addr, out);
            return out;
        }
    fail_msg("%s is not in the tree", text);
    return NULL;
}

static void root_port_and_its_functions(void **state)
{
    (void)state;
    struct tree t = {0};
    build(&t, "gpu-with-bridge");
    read_tree(&t);
    assert_int_equal(t.n, 5);
    assert_string_equal(parent_of(&t, "00:00.0"), "");
    assert_string_equal(parent_of(&t, "00:01.0"), "");
    assert_string_equal(parent_of(&t, "01:00.0"), "0000:00:01.0");
    assert_string_equal(parent_of(&t, "01:00.1"), "0000:00:01.0");
    assert_string_equal(parent_of(&t, "02:00.0"), "");
    done(&t);
}

static void switch_behind_a_bridge(void **state)
{
    (void)state;
    struct tree t = {0};
    build(&t, "amd-apu");
    read_tree(&t);
    assert_string_equal(parent_of(&t, "03:00.0"), "0000:02:00.2");
    assert_string_equal(parent_of(&t, "02:00.2"), "0000:00:02.1");
    assert_string_equal(parent_of(&t, "08:00.6"), "0000:00:08.1");
    assert_string_equal(parent_of(&t, "05:00.0"), "");
    /* The children of 00:08.1, in address order. */
    long bridge = -1;
    for (size_t i = 0; i < t.n; i++)
        if (t.nodes[i].addr.bus == 0 && t.nodes[i].addr.slot == 8)
            bridge = (long)i;
    assert_true(bridge >= 0);
    const char *want[] = {"0000:08:00.0", "0000:08:00.1", "0000:08:00.2",
                          "0000:08:00.3", "0000:08:00.4", "0000:08:00.6"};
    size_t k = 0;
    for (long i = sp_pci_tree_next_child(t.nodes, t.n, bridge, -1); i >= 0;
         i = sp_pci_tree_next_child(t.nodes, t.n, bridge, i), k++) {
        char name[SP_PCI_ADDR_STRLEN];
        sp_pci_addr_format(&t.nodes[i].addr, name);
        assert_true(k < 6);
        assert_string_equal(name, want[k]);
    }
    assert_int_equal(k, 6);
    done(&t);
}

static void unreadable_or_not_a_bridge(void **state)
{
    (void)state;
    struct tree t = {0};
    build(&t, "gpu-with-bridge");
    char *config = sp_path_join(t.root, "bus/pci/devices/0000:00:01.0/config");
    size_t len;
    char *bytes = tu_read(config, &len);
    /* Header type 0: the same bus byte means nothing. */
    bytes[0x0e] = 0x00;
    FILE *f = fopen(config, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
    read_tree(&t);
    assert_string_equal(parent_of(&t, "01:00.0"), "");
    /* No config file at all. */
    assert_int_equal(unlink(config), 0);
    read_tree(&t);
    assert_string_equal(parent_of(&t, "01:00.1"), "");
    free(bytes);
    free(config);
    done(&t);
}

static void no_devices_dir(void **state)
{
    (void)state;
    struct sp_pci_node *nodes = NULL;
    size_t n = 0;
    struct sp_err err;
    assert_int_equal(sp_pci_tree_read("/nonexistent-sysfs", &nodes, &n, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent-sysfs/bus/pci/devices"));
    assert_null(nodes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(root_port_and_its_functions),
        cmocka_unit_test(switch_behind_a_bridge),
        cmocka_unit_test(unreadable_or_not_a_bridge),
        cmocka_unit_test(no_devices_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
