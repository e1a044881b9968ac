/* config_cost [SNIPPETS] [ROUNDS]: what the config cache costs a VM start
 * and the daemon's memory, against a floor: libxml2 parsing and
 * serialising a VM manager domain (tests/data/vmm-igpu-i440fx), which every
 * start pays anyway. Prints, in one run: the memory the cache holds for
 * SNIPPETS snippets (mallinfo2 delta), the same while an old snapshot is
 * still held across a change, and the time of a start's config step on an
 * unchanged config and right after one file changed, each also as a
 * multiple of the floor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "../../common/fsutil.h"
#include "../../config/config.h"
#include "../unit/testutil.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void snippet_text(char *text, size_t size, int i, int variant)
{
    snprintf(text, size,
             "<passthrough vm='vm-%d'>\n  <pci address='08:00.0' vendor='1002' "
             "product='1638' rom='v.bin'/>\n  <pci address='08:00.%d'/>\n</passthrough>\n",
             i, variant ? 2 : 1);
}

static void fill(const char *dir, int snippets)
{
    for (int i = 0; i < snippets; i++) {
        char name[64], text[512];
        snprintf(name, sizeof(name), "vm.d/%05d.xml", i);
        snippet_text(text, sizeof(text), i, 0);
        free(tu_write(dir, name, text, 0644));
    }
    free(tu_write(dir, "synopassthru.conf", "audit_log =\n", 0644));
    tu_age(dir); /* settled: nothing is re-read for being recent */
}

static struct sp_snapshot *snapshot_or_die(struct sp_config *cfg)
{
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    if (sp_config_snapshot(cfg, &snap, &err) < 0 || !sp_snapshot_lookup(snap, "vm-1")) {
        fprintf(stderr, "config_cost: no snapshot or no vm-1\n");
        exit(1);
    }
    return snap;
}

static double floor_per_start(int rounds)
{
    char path[4096];
    if (sp_path_fmt(path, sizeof(path), "%s/tests/data/vmm-igpu-i440fx/domain.xml",
                    tu_src_dir()) < 0)
        exit(1);
    size_t len = 0;
    char *xml = tu_read(path, &len);
    double start = now();
    for (int i = 0; i < rounds; i++) {
        xmlDocPtr doc = xmlReadMemory(xml, (int)len, "domain.xml", NULL, XML_PARSE_NONET);
        xmlChar *out = NULL;
        int n = 0;
        xmlDocDumpMemory(doc, &out, &n);
        xmlFree(out);
        xmlFreeDoc(doc);
    }
    double t = (now() - start) / rounds;
    free(xml);
    return t;
}

static double unchanged_per_start(struct sp_config *cfg, int rounds)
{
    double start = now();
    for (int i = 0; i < rounds; i++)
        sp_snapshot_release(snapshot_or_die(cfg));
    return (now() - start) / rounds;
}

/* One snippet rewritten in place before each start; only the start is timed. */
static double changed_per_start(struct sp_config *cfg, const char *dir, int snippets, int rounds)
{
    double total = 0;
    for (int i = 0; i < rounds; i++) {
        char name[64], text[512];
        int which = (i * 7919) % snippets;
        snprintf(name, sizeof(name), "vm.d/%05d.xml", which);
        snippet_text(text, sizeof(text), which, i % 2 == 0);
        free(tu_write(dir, name, text, 0644));
        double start = now();
        sp_snapshot_release(snapshot_or_die(cfg));
        total += now() - start;
    }
    return total / rounds;
}

int main(int argc, char **argv)
{
    int snippets = argc > 1 ? atoi(argv[1]) : 10000;
    int rounds = argc > 2 ? atoi(argv[2]) : 200;
    if (snippets < 2 || rounds < 1) {
        fprintf(stderr, "usage: config_cost [SNIPPETS >= 2] [ROUNDS >= 1]\n");
        return 2;
    }
    tu_trust_current_user();
    char *dir = tu_mkdtemp("config-cost");
    fill(dir, snippets);
    double floor = floor_per_start(rounds * 10);

    size_t before = tu_heap_in_use();
    struct sp_config *cfg = sp_config_new(dir);
    struct sp_snapshot *old = snapshot_or_die(cfg);
    size_t held = tu_heap_in_use() - before;
    /* A start still holds `old` while another picks up a change. */
    free(tu_write(dir, "vm.d/00000.xml", "<passthrough vm='vm-0'/>\n", 0644));
    struct sp_snapshot *fresh = snapshot_or_die(cfg);
    size_t during = tu_heap_in_use() - before;
    sp_snapshot_release(fresh);
    sp_snapshot_release(old);

    double unchanged = unchanged_per_start(cfg, rounds);
    double changed = changed_per_start(cfg, dir, snippets, rounds);
    printf("snippets: %d\n"
           "memory held: %.2f MB (%.0f bytes/snippet)\n"
           "memory with an old snapshot held across a change: %.2f MB\n"
           "floor (libxml2 parse+serialise of a domain): %.1f us\n"
           "unchanged config: %.1f us/start (%.2fx the floor)\n"
           "after one change: %.1f us/start (%.2fx the floor)\n",
           snippets, held / 1e6, (double)held / snippets, during / 1e6, floor * 1e6,
           unchanged * 1e6, unchanged / floor, changed * 1e6, changed / floor);
    sp_config_free(cfg);
    tu_rm_rf(dir);
    free(dir);
    return 0;
}
