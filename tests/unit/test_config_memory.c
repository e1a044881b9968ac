/* config_memory: what the config cache holds for many snippets stays in
 * its budget. The daemon keeps every parsed snippet of a NAS with little
 * RAM; measured as the heap in use (mallinfo2) before and after the first
 * snapshot of 2,000 snippets of two devices each, as config_cost measures
 * 10,000. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../config/config.h"
#include "testutil.h"

#define SNIPPETS 2000
/* Bytes held per snippet besides its path (whose length depends on where
 * the test runs): 383 measured, plus a little margin (the rounding of
 * malloc's blocks moves it by up to 15). */
#define BUDGET_PER_SNIPPET 394

static void fill(const char *dir)
{
    for (int i = 0; i < SNIPPETS; i++) {
        char name[64], text[512];
        snprintf(name, sizeof(name), "vm.d/%05d.xml", i);
        snprintf(text, sizeof(text),
                 "<passthrough vm='vm-%d'>\n  <pci address='08:00.0' vendor='1002' "
                 "product='1638' rom='v.bin'/>\n  <pci address='08:00.1'/>\n</passthrough>\n",
                 i);
        free(tu_write(dir, name, text, 0644));
    }
    free(tu_write(dir, "synopassthru.conf", "audit_log =\n", 0644));
    tu_age(dir);
}

static void test_held_per_snippet_in_budget(void **state)
{
    (void)state;
    tu_trust_current_user();
    char *dir = tu_mkdtemp("config-memory");
    fill(dir);
    size_t before = tu_heap_in_use();
    struct sp_config *cfg = sp_config_new(dir);
    assert_non_null(cfg);
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    assert_int_equal(sp_config_snapshot(cfg, &snap, &err), 0);
    assert_int_equal(snap->n_vms, SNIPPETS);
    assert_int_equal(sp_snapshot_lookup(snap, "vm-1999")->n_specs, 2);
    size_t held = tu_heap_in_use() - before;
    size_t per_snippet = held / SNIPPETS;
    size_t budget = BUDGET_PER_SNIPPET + strlen(dir) + sizeof("/vm.d/00000.xml");
    print_message("config cache: %zu bytes held per snippet (budget %zu)\n", per_snippet, budget);
    assert_in_range(per_snippet, 1, budget);
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    tu_rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_held_per_snippet_in_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
