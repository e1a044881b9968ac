/* bench_config [SNIPPETS] [ROUNDS]: what a VM start costs the config cache.
 * Compares, in one run, a refresh of an unchanged config (stat calls only)
 * with a full load of the same directory, and prints the ratio. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../common/fsutil.h"
#include "../../config/config.h"
#include "../unit/testutil.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill(const char *dir, int snippets)
{
    char *vmd = sp_path_join(dir, "vm.d");
    mkdir(vmd, 0755);
    free(vmd);
    for (int i = 0; i < snippets; i++) {
        char name[64], text[512];
        snprintf(name, sizeof(name), "vm.d/%03d.xml", i);
        snprintf(text, sizeof(text),
                 "<passthrough vm='vm-%d'>\n  <pci address='08:00.0' vendor='1002' "
                 "product='1638' rom='v.bin'/>\n  <pci address='08:00.1'/>\n</passthrough>\n", i);
        free(tu_write(dir, name, text, 0644));
    }
    free(tu_write(dir, "synopassthru.conf", "audit_log =\n", 0644));
}

static double per_call(struct sp_config *(*get)(const char *), const char *dir, int rounds)
{
    struct sp_config *cfg = get(dir);
    double start = now();
    for (int i = 0; i < rounds; i++) {
        struct sp_config *c = cfg ? cfg : sp_config_new(dir);
        struct sp_snapshot *snap = NULL;
        struct sp_err err;
        if (sp_config_snapshot(c, &snap, &err) < 0 || !sp_snapshot_lookup(snap, "vm-1")) {
            fprintf(stderr, "bench_config: lookup failed\n");
            exit(1);
        }
        sp_snapshot_release(snap);
        if (!cfg)
            sp_config_free(c);
    }
    double t = (now() - start) / rounds;
    sp_config_free(cfg);
    return t;
}

static struct sp_config *warm(const char *dir)
{
    struct sp_config *cfg = sp_config_new(dir);
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    sp_config_snapshot(cfg, &snap, &err);
    sp_snapshot_release(snap);
    return cfg;
}

static struct sp_config *cold(const char *dir)
{
    (void)dir;
    return NULL; /* a fresh cache every round: everything is parsed */
}

int main(int argc, char **argv)
{
    int snippets = argc > 1 ? atoi(argv[1]) : 50;
    int rounds = argc > 2 ? atoi(argv[2]) : 2000;
    tu_trust_current_user();
    char *dir = tu_mkdtemp("bench");
    fill(dir, snippets);
    double unchanged = per_call(warm, dir, rounds);
    double full = per_call(cold, dir, rounds / 10 > 0 ? rounds / 10 : 1);
    printf("snippets: %d\nunchanged refresh: %.1f us/start\nfull load: %.1f us/start\n"
           "ratio full/unchanged: %.1fx\n", snippets, unchanged * 1e6, full * 1e6,
           full / unchanged);
    tu_rm_rf(dir);
    free(dir);
    return 0;
}
