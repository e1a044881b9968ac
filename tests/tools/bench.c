/* bench: what the shim adds to a VM start, as ratios against a floor
 * measured in the same run (one libxml2 parse and serialisation of the same
 * domain XML), the two timed in alternation (AB, BA, AB, ... by round), with
 * min/median/max over the rounds and, under valgrind, callgrind's
 * instruction counts for one call of each. Prints a table and writes the
 * figures as JSON (--out). Also: the heap a config index holds, whole
 * processes (synopassthru preview, xmlstarlet ed, virt-xml) making the same
 * edit, and virsh create/destroy in one session with and without the shim.
 *
 * bench [--rounds N] [--snippets A,B,C] [--virsh-starts N] [--no-callgrind]
 *       [--out FILE]   (SP_BUILD names the build directory; default "build")
 * bench --one floor|start|decide CONFIG_DIR DOMAIN_FILE CALLS   (callgrind's child) */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "../../common/fsutil.h"
#include "../../common/json.h"
#include "../../common/testhooks.h"
#include "../../config/config.h"
#include "../../core/launch.h"
#include "../../core/start.h"
#include "../unit/testutil.h"
#include "fakesysfs.h"

#define MAX_ROUNDS 101
#define BATCH_SECONDS 0.01 /* each timed batch lasts about this long */
#define VM_MATCHED "bench-matched"
#define VM_OTHER "bench-other"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench: %s: %s\n", what, detail ? detail : strerror(errno));
    exit(1);
}

/* --- the domain XML --------------------------------------------------- */

struct text {
    char *buf;
    size_t len, cap;
};

static void add(struct text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        if (!t->buf)
            die("out of memory", "");
    }
    memcpy(t->buf + t->len, s, n + 1);
    t->len += n;
}

enum title_at { TITLE_FIRST, TITLE_NONE };

/* A domain as Synology's VMM writes it (name, uuid and title first, or no
 * title), grown to about size bytes with disks. */
static char *make_domain(const char *vm, enum title_at title, size_t size, size_t *len)
{
    struct text t = {0};
    char line[512];
    snprintf(line, sizeof(line), "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/"
             "domain/qemu/1.0'>\n  <name>%s</name>\n  <uuid>591328d9-88d5-42aa-9551-"
             "bb793c3330cf</uuid>\n", vm);
    add(&t, line);
    if (title == TITLE_FIRST)
        add(&t, "  <title>Living room PC</title>\n");
    add(&t, "  <memory unit='KiB'>8388608</memory>\n  <currentMemory unit='KiB'>8388608"
            "</currentMemory>\n  <vcpu placement='static'>4</vcpu>\n  <os>\n    <type arch="
            "'x86_64' machine='pc-i440fx-2.2'>hvm</type>\n    <boot dev='hd'/>\n  </os>\n"
            "  <features>\n    <acpi/>\n    <apic/>\n  </features>\n  <cpu mode='host-"
            "passthrough' check='none'/>\n  <clock offset='utc'/>\n  <on_poweroff>destroy"
            "</on_poweroff>\n  <on_reboot>restart</on_reboot>\n  <on_crash>destroy</on_crash>\n"
            "  <devices>\n    <emulator>/usr/local/bin/qemu-system-x86_64</emulator>\n"
            "    <controller type='usb' index='0' model='nec-xhci'>\n      <address type='pci' "
            "domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>\n    </controller>\n"
            "    <controller type='pci' index='0' model='pci-root'/>\n    <interface type="
            "'ethernet'>\n      <mac address='02:11:32:2c:a7:01'/>\n      <target dev="
            "'tap0211322ca701'/>\n      <model type='virtio'/>\n      <address type='pci' "
            "domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>\n    </interface>\n"
            "    <input type='tablet' bus='usb'/>\n    <graphics type='vnc' port='-1' "
            "autoport='yes'/>\n    <video>\n      <model type='vmvga' vram='16384' heads='1'/>\n"
            "      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function="
            "'0x0'/>\n    </video>\n");
    const char *end = "  </devices>\n</domain>\n";
    for (unsigned i = 0; t.len + strlen(end) < size; i++) {
        snprintf(line, sizeof(line), "    <disk type='block' device='disk'>\n      <driver "
                 "name='qemu' type='raw' cache='none' io='native'/>\n      <source dev='/dev/"
                 "mapper/vg1-iscsi_%u'/>\n      <target dev='sd%u' bus='scsi'/>\n      <address "
                 "type='drive' controller='0' bus='0' target='0' unit='%u'/>\n    </disk>\n",
                 i, i, i);
        add(&t, line);
    }
    add(&t, end);
    *len = t.len;
    return t.buf;
}

/* --- the config and the fake host ------------------------------------- */

#define MAX_DEVICES 8

static char *host_spec(void)
{
    struct text t = {0};
    char line[128];
    for (int i = 0; i < MAX_DEVICES; i++) {
        snprintf(line, sizeof(line), "0000:%02x:00.0 1b21 1242 0x0c0330 vfio-pci %d\n",
                 0x11 + i, 20 + i);
        add(&t, line);
    }
    return t.buf;
}

static void write_snippet(const char *dir, int i, int devices)
{
    char name[64];
    struct text t = {0};
    char line[160];
    snprintf(name, sizeof(name), "vm.d/%05d.xml", i);
    snprintf(line, sizeof(line), "<passthrough vm='vm-%d' bind='no'>\n", i);
    add(&t, line);
    for (int d = 0; d < devices; d++) {
        snprintf(line, sizeof(line), "  <pci address='%02x:00.0'/>\n", 0x11 + d);
        add(&t, line);
    }
    add(&t, "</passthrough>\n");
    free(tu_write(dir, name, t.buf, 0644));
    free(t.buf);
}

/* snippets files: one naming VM_MATCHED with its devices, the others other
 * VMs with one device each. */
static char *make_config(int snippets, int devices, const char *base)
{
    char *dir = tu_mkdtemp("bench-cfg");
    char *vmd = sp_path_join(dir, "vm.d");
    mkdir(vmd, 0755);
    free(vmd);
    for (int i = 1; i < snippets; i++)
        write_snippet(dir, i, 1);
    char text[512];
    snprintf(text, sizeof(text), "<passthrough vm='" VM_MATCHED "' bind='no'>\n");
    for (int d = 0; d < devices; d++) {
        char line[96];
        snprintf(line, sizeof(line), "  <pci address='%02x:00.0'/>\n", 0x11 + d);
        strncat(text, line, sizeof(text) - strlen(text) - 1);
    }
    strncat(text, "</passthrough>\n", sizeof(text) - strlen(text) - 1);
    free(tu_write(dir, "vm.d/00000.xml", text, 0644));
    snprintf(text, sizeof(text), "audit_log = %s/audit.log\n", base);
    free(tu_write(dir, "synopassthru.conf", text, 0644));
    tu_age(dir); /* the config reads again what changed within the last second */
    return dir;
}

/* --- what is timed ----------------------------------------------------- */

struct subject;
typedef void (*bench_fn)(const struct subject *s);

struct subject {
    const char *xml;
    size_t len;
    bench_fn fn;                   /* what is compared with the floor */
    struct sp_launcher *launcher; /* for bench_start */
    struct sp_config *config;     /* for bench_decide */
    struct sp_snapshot *snap;
    const char *changed_dir; /* rewrite one snippet before each start */
    int changes;
};

/* The floor: the same document parsed into a tree and serialised. */
__attribute__((noinline)) void bench_floor(const struct subject *s);
__attribute__((noinline)) void bench_floor(const struct subject *s)
{
    xmlDocPtr doc = xmlReadMemory(s->xml, (int)s->len, NULL, NULL, XML_PARSE_NONET);
    xmlChar *out = NULL;
    int n = 0;
    if (!doc)
        die("floor", "the domain does not parse");
    xmlDocDumpMemory(doc, &out, &n);
    xmlFree(out);
    xmlFreeDoc(doc);
}

static char last_report[SP_ERR_MAX];

static void quiet_log(const char *line)
{
    (void)line;
}

static void keep_report(const char *message)
{
    snprintf(last_report, sizeof(last_report), "%s", message);
}

static const char *no_error(void)
{
    return NULL;
}

static void *no_saved_error(void)
{
    return NULL;
}

static void restore_nothing(void *saved)
{
    (void)saved;
}

static void watch_nothing(void *dom)
{
    (void)dom;
}

static const struct sp_launch_host host = {
    .log = quiet_log, .report = keep_report, .last_error = no_error,
    .save_error = no_saved_error, .restore_error = restore_nothing, .watch_stops = watch_nothing,
};

static void *libvirt_create(const char *xml, void *ctx)
{
    (void)xml;
    return ctx;
}

/* One start as the shim makes it for virDomainCreateXML: config refresh,
 * decision, merge, audit record; libvirt's own call does nothing. */
__attribute__((noinline)) void bench_start(const struct subject *s);
__attribute__((noinline)) void bench_start(const struct subject *s)
{
    static int created;
    if (!sp_launch_create(s->launcher, "virDomainCreateXML", s->xml, libvirt_create, &created))
        die("start refused", last_report);
}

/* The decision alone, on a snapshot taken once: what sp_launch_create
 * decides before anything else (no config refresh, merge or record for an
 * unmatched VM; the merge but no record for a matched one). */
__attribute__((noinline)) void bench_decide(const struct subject *s);
__attribute__((noinline)) void bench_decide(const struct subject *s)
{
    if (sp_start_untouched(s->snap, s->xml, s->len))
        return;
    struct sp_start st;
    if (sp_start_prepare(s->snap, s->xml, s->len, &st) < 0 || st.verdict != SP_READY)
        die("decision", st.err.msg);
    sp_start_free(&st);
}

static void change_one_file(struct subject *s)
{
    if (s->changed_dir)
        write_snippet(s->changed_dir, 1, 1 + (++s->changes % 2));
}

/* Seconds per call over calls calls (the change before each not counted). */
static double time_calls(bench_fn fn, struct subject *s, long calls)
{
    double total = 0;
    for (long i = 0; i < calls; i++) {
        if (fn == bench_start)
            change_one_file(s);
        double t0 = now();
        fn(s);
        total += now() - t0;
    }
    return total / (double)calls;
}

static long calls_per_batch(bench_fn fn, struct subject *s)
{
    double one = time_calls(fn, s, 3);
    long calls = (long)(BATCH_SECONDS / (one > 1e-9 ? one : 1e-9));
    return calls < 1 ? 1 : calls > 100000 ? 100000 : calls;
}

struct stats {
    double min, median, max;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static struct stats stats_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return (struct stats){v[0], n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v[n - 1]};
}

struct result {
    struct stats ratio;
    double floor_us, case_us;  /* medians */
    long long floor_ir, case_ir; /* per call; -1 when not counted */
};

/* Floor and case in alternation, the order swapped every round. */
static void compare(struct subject *s, int rounds, struct result *r)
{
    long nf = calls_per_batch(bench_floor, s), ns = calls_per_batch(s->fn, s);
    double ratio[MAX_ROUNDS], tf[MAX_ROUNDS], ts[MAX_ROUNDS];
    for (int i = 0; i < rounds; i++) {
        if (i % 2 == 0) {
            tf[i] = time_calls(bench_floor, s, nf);
            ts[i] = time_calls(s->fn, s, ns);
        } else {
            ts[i] = time_calls(s->fn, s, ns);
            tf[i] = time_calls(bench_floor, s, nf);
        }
        ratio[i] = ts[i] / tf[i];
    }
    r->ratio = stats_of(ratio, rounds);
    r->floor_us = stats_of(tf, rounds).median * 1e6;
    r->case_us = stats_of(ts, rounds).median * 1e6;
}

/* --- callgrind ----------------------------------------------------------- */

static char self_path[SP_PATH_MAX];
static int have_valgrind;

static int find_in_path(const char *name)
{
    const char *path = getenv("PATH");
    char buf[SP_PATH_MAX];
    for (const char *p = path ? path : ""; *p;) {
        size_t n = strcspn(p, ":");
        if (sp_path_fmt(buf, sizeof(buf), "%.*s/%s", (int)n, p, name) == 0 &&
            access(buf, X_OK) == 0)
            return 1;
        p += n + (p[n] == ':');
    }
    return 0;
}

/* Runs argv with stdout and stderr to files (NULL: /dev/null); wall seconds,
 * or -1 when it did not exit 0. */
static double run(char *const argv[], const char *out_file, const char *err_file)
{
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0)
        die("fork", NULL);
    if (pid == 0) {
        int out = open(out_file ? out_file : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(err_file ? err_file : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int in = open("/dev/null", O_RDONLY);
        if (out < 0 || err < 0 || in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
            dup2(err, 2) < 0)
            _exit(127);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0)
        die("waitpid", NULL);
    double t = now() - t0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t : -1;
}

#define IR_CALLS 20

/* Instructions per call of bench_floor, bench_start or bench_decide, by
 * callgrind, each after a first call that is not counted. */
static long long count_instructions(const char *what, const char *config, const char *domain_file,
                                    const char *scratch)
{
    if (!have_valgrind)
        return -1;
    char calls[16], log[SP_PATH_MAX];
    snprintf(calls, sizeof(calls), "%d", IR_CALLS);
    if (sp_path_fmt(log, sizeof(log), "%s/callgrind.log", scratch) < 0)
        return -1;
    char *argv[] = {"valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                    "--toggle-collect=bench_counted_calls",
                    self_path, "--one", (char *)what, (char *)config, (char *)domain_file,
                    calls, NULL};
    if (run(argv, NULL, log) < 0)
        return -1;
    char *text = tu_read(log, NULL);
    const char *c = strstr(text, "Collected : ");
    long long ir = c ? strtoll(c + 12, NULL, 10) / IR_CALLS : -1;
    free(text);
    return ir;
}

static void open_subject(struct subject *s, const char *config, int decide)
{
    struct sp_err err;
    s->fn = decide ? bench_decide : bench_start;
    if (!decide && !(s->launcher = sp_launcher_new(config, &host)))
        die("launcher", "out of memory");
    if (decide && (!(s->config = sp_config_new(config)) ||
                   sp_config_snapshot(s->config, &s->snap, &err) < 0))
        die("config", config);
    s->fn(s); /* the first call loads the config */
}

static void close_subject(struct subject *s)
{
    sp_launcher_free(s->launcher);
    sp_snapshot_release(s->snap);
    sp_config_free(s->config);
}

/* The calls callgrind counts (--toggle-collect names this function). */
__attribute__((noinline)) void bench_counted_calls(bench_fn fn, const struct subject *s,
                                                    long calls);
__attribute__((noinline)) void bench_counted_calls(bench_fn fn, const struct subject *s,
                                                    long calls)
{
    for (long i = 0; i < calls; i++)
        fn(s);
}

static int run_one(char **argv)
{
    size_t len;
    char *xml = tu_read(argv[3], &len);
    struct subject s = {.xml = xml, .len = len};
    open_subject(&s, argv[2], strcmp(argv[1], "decide") == 0);
    long calls = atol(argv[4]);
    bench_fn fn = strcmp(argv[1], "floor") == 0 ? bench_floor : s.fn;
    /* Counted as timed: after a first call (the one that loads the config). */
    fn(&s);
    bench_counted_calls(fn, &s, calls);
    close_subject(&s);
    free(xml);
    return 0;
}

/* --- the cases ------------------------------------------------------------ */

#define MAX_FLOORS 8

struct floor_count {
    size_t size;
    enum title_at title;
    long long ir;
};

struct bench {
    struct floor_count floors[MAX_FLOORS];
    int n_floors;
    int rounds;
    int snippets[3];
    int n_snippets;
    int virsh_starts;
    const char *build;
    char *base;  /* scratch dir */
    char *sysfs;
    struct sp_json json;
};

struct start_case {
    const char *label;
    int snippets, devices;
    size_t size;
    enum title_at title;
    int matched, changed;
    int decide; /* the decision alone, no config refresh or record */
};

static void print_result(const struct start_case *c, const struct result *r)
{
    char ir[64] = "valgrind missing";
    if (r->case_ir >= 0 && r->floor_ir > 0)
        snprintf(ir, sizeof(ir), "%.2fx (%lld/%lld)", (double)r->case_ir / (double)r->floor_ir,
                 r->case_ir, r->floor_ir);
    else if (have_valgrind)
        snprintf(ir, sizeof(ir), "not counted");
    printf("%-50s %6d %8zu  %6.3f %6.3f %6.3f  %9.1f %9.1f  %s\n", c->label, c->snippets,
           c->size, r->ratio.min, r->ratio.median, r->ratio.max, r->floor_us, r->case_us, ir);
    fflush(stdout);
}

static void json_ratio(struct sp_json *j, const char *key, double v)
{
    sp_json_member_int(j, key, (long long)(v * 1000 + 0.5));
}

static void json_result(struct bench *b, const struct start_case *c, const struct result *r)
{
    struct sp_json *j = &b->json;
    sp_json_begin_object(j);
    sp_json_member_str(j, "case", c->label);
    sp_json_member_int(j, "snippet_files", c->snippets);
    sp_json_member_int(j, "domain_bytes", (long long)c->size);
    sp_json_member_int(j, "devices", c->matched ? c->devices : 0);
    json_ratio(j, "ratio_min_x1000", r->ratio.min);
    json_ratio(j, "ratio_median_x1000", r->ratio.median);
    json_ratio(j, "ratio_max_x1000", r->ratio.max);
    sp_json_member_int(j, "floor_median_ns", (long long)(r->floor_us * 1000));
    sp_json_member_int(j, "start_median_ns", (long long)(r->case_us * 1000));
    sp_json_member_int(j, "floor_instructions", r->floor_ir);
    sp_json_member_int(j, "start_instructions", r->case_ir);
    sp_json_end_object(j);
}

/* Under callgrind a config of many files takes long to load: those are
 * counted for the first case only (the others are timed). */
static int counted(const struct bench *b, const struct start_case *c)
{
    return !c->changed &&
           (c->snippets == b->snippets[0] || (!c->matched && c->title == TITLE_FIRST));
}

/* The floor's count depends on the document only. */
static long long floor_instructions(struct bench *b, const struct start_case *c,
                                    const char *config, const char *domain_file)
{
    for (int i = 0; i < b->n_floors; i++)
        if (b->floors[i].size == c->size && b->floors[i].title == c->title)
            return b->floors[i].ir;
    long long ir = count_instructions("floor", config, domain_file, b->base);
    if (b->n_floors < MAX_FLOORS)
        b->floors[b->n_floors++] = (struct floor_count){c->size, c->title, ir};
    return ir;
}

static void run_start_case(struct bench *b, const struct start_case *c)
{
    char *config = make_config(c->snippets, c->devices, b->base);
    size_t len;
    char *xml = make_domain(c->matched ? VM_MATCHED : VM_OTHER, c->title, c->size, &len);
    char *domain_file = tu_write(b->base, "domain.xml", xml, 0644);
    struct subject s = {.xml = xml, .len = len, .changed_dir = c->changed ? config : NULL};
    open_subject(&s, config, c->decide);
    struct result r;
    compare(&s, b->rounds, &r);
    close_subject(&s);
    r.floor_ir = floor_instructions(b, c, config, domain_file);
    r.case_ir = counted(b, c) ? count_instructions(c->decide ? "decide" : "start", config,
                                                   domain_file, b->base)
                              : -1;
    print_result(c, &r);
    json_result(b, c, &r);
    free(domain_file);
    free(xml);
    tu_rm_rf(config);
    free(config);
}

static void start_cases(struct bench *b)
{
    printf("%-50s %6s %8s  %6s %6s %6s  %9s %9s  %s\n", "start (ratio to the floor)",
           "files", "bytes", "min", "median", "max", "floor us", "start us",
           "instructions start/floor");
    sp_json_key(&b->json, "starts");
    sp_json_begin_array(&b->json);
    for (int i = 0; i < b->n_snippets; i++) {
        int n = b->snippets[i];
        struct start_case cases[] = {
            {"unmatched, name/uuid/title first", n, 0, 6144, TITLE_FIRST, 0, 0, 0},
            {"unmatched, no <title>: whole document read", n, 0, 6144, TITLE_NONE, 0, 0, 0},
            {"matched, 2 devices", n, 2, 6144, TITLE_FIRST, 1, 0, 0},
            {"matched, 8 devices", n, 8, 6144, TITLE_FIRST, 1, 0, 0},
            {"unmatched, after one snippet file changed", n, 0, 6144, TITLE_FIRST, 0, 1, 0},
        };
        for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
            run_start_case(b, &cases[k]);
    }
    int n = b->snippets[0];
    struct start_case sizes[] = {
        {"decision alone: unmatched, name/uuid/title first", n, 0, 6144, TITLE_FIRST, 0, 0, 1},
        {"decision alone: unmatched, no <title>", n, 0, 6144, TITLE_NONE, 0, 0, 1},
        {"decision alone: matched, 2 devices", n, 2, 6144, TITLE_FIRST, 1, 0, 1},
        {"unmatched, name/uuid/title first", n, 0, 2048, TITLE_FIRST, 0, 0, 0},
        {"unmatched, name/uuid/title first", n, 0, 1 << 20, TITLE_FIRST, 0, 0, 0},
        {"unmatched, no <title>: whole document read", n, 0, 1 << 20, TITLE_NONE, 0, 0, 0},
        {"matched, 2 devices", n, 2, 2048, TITLE_FIRST, 1, 0, 0},
        {"matched, 2 devices", n, 2, 1 << 20, TITLE_FIRST, 1, 0, 0},
    };
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
        run_start_case(b, &sizes[k]);
    sp_json_end_array(&b->json);
}

/* The heap a config's index holds for 10,000 snippet files. */
static void memory_case(struct bench *b)
{
    int n = 10000;
    char *config = make_config(n, 1, b->base);
    struct mallinfo2 before = mallinfo2();
    struct sp_config *cfg = sp_config_new(config);
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    if (!cfg || sp_config_snapshot(cfg, &snap, &err) < 0)
        die("config", err.msg);
    sp_snapshot_release(snap);
    struct mallinfo2 after = mallinfo2();
    long long held = (long long)after.uordblks - (long long)before.uordblks;
    printf("\nheap held by the config index for %d snippet files: %lld KiB (%lld bytes a file)\n",
           n, held / 1024, held / n);
    sp_json_key(&b->json, "config_index_heap");
    sp_json_begin_object(&b->json);
    sp_json_member_int(&b->json, "snippet_files", n);
    sp_json_member_int(&b->json, "bytes", held);
    sp_json_end_object(&b->json);
    sp_config_free(cfg);
    tu_rm_rf(config);
    free(config);
}

/* --- whole processes ----------------------------------------------------- */

struct tool {
    const char *label;
    const char *program; /* looked up in PATH, or a path */
    char **argv;
};

static void json_times(struct sp_json *j, const char *label, const struct stats *ms,
                       const char *missing)
{
    sp_json_begin_object(j);
    sp_json_member_str(j, "case", label);
    if (missing) {
        sp_json_member_str(j, "skipped", missing);
    } else {
        sp_json_member_int(j, "min_us", (long long)(ms->min * 1000));
        sp_json_member_int(j, "median_us", (long long)(ms->median * 1000));
        sp_json_member_int(j, "max_us", (long long)(ms->max * 1000));
    }
    sp_json_end_object(j);
}

/* Each tool once per round, in turn, the order rotating. */
static void time_tools(struct bench *b, struct tool *tools, int n, struct stats *out,
                       const char **missing)
{
    double t[8][MAX_ROUNDS];
    for (int i = 0; i < n; i++)
        missing[i] = strchr(tools[i].program, '/')
                         ? (access(tools[i].program, X_OK) ? "not built" : NULL)
                         : (find_in_path(tools[i].program) ? NULL : "not installed");
    for (int r = 0; r < b->rounds; r++)
        for (int k = 0; k < n; k++) {
            int i = (r + k) % n;
            if (missing[i])
                continue;
            t[i][r] = run(tools[i].argv, NULL, NULL) * 1000;
            if (t[i][r] < 0)
                missing[i] = "failed";
        }
    for (int i = 0; i < n; i++)
        if (!missing[i])
            out[i] = stats_of(t[i], b->rounds);
}

static void print_tools(struct bench *b, const char *key, struct tool *tools, int n,
                        struct stats *ms, const char **missing)
{
    sp_json_key(&b->json, key);
    sp_json_begin_array(&b->json);
    for (int i = 0; i < n; i++) {
        if (missing[i])
            printf("%-50s %s\n", tools[i].label, missing[i]);
        else
            printf("%-50s %8.2f %8.2f %8.2f  %6.2fx\n", tools[i].label, ms[i].min,
                   ms[i].median, ms[i].max, missing[0] ? 0 : ms[i].median / ms[0].median);
        json_times(&b->json, tools[i].label, &ms[i], missing[i]);
    }
    sp_json_end_array(&b->json);
}

static void edit_cases(struct bench *b)
{
    char *config = make_config(10, 1, b->base);
    size_t len;
    char *xml = make_domain(VM_MATCHED, TITLE_FIRST, 6144, &len);
    char *file = tu_write(b->base, "edit.xml", xml, 0644);
    char cli[SP_PATH_MAX];
    sp_path_fmt(cli, sizeof(cli), "%s/synopassthru", b->build);
    char *preview[] = {cli, "--config", config, "preview", file, NULL};
    const char *hostdev = "/domain/devices/hostdev[last()]";
    const char *addr = "/domain/devices/hostdev[last()]/source/address";
    char *xmlstarlet[] = {"xmlstarlet", "ed", "-s", "/domain/devices", "-t", "elem", "-n",
                          "hostdev", "-s", (char *)hostdev, "-t", "attr", "-n", "mode", "-v",
                          "subsystem", "-s", (char *)hostdev, "-t", "attr", "-n", "type", "-v",
                          "pci", "-s", (char *)hostdev, "-t", "attr", "-n", "managed", "-v", "yes",
                          "-s", (char *)hostdev, "-t", "elem", "-n", "source", "-s",
                          "/domain/devices/hostdev[last()]/source", "-t", "elem", "-n",
                          "address", "-s", (char *)addr, "-t", "attr", "-n", "domain", "-v",
                          "0x0000", "-s", (char *)addr, "-t", "attr", "-n", "bus", "-v",
                          "0x11", "-s", (char *)addr, "-t", "attr", "-n", "slot", "-v", "0x00",
                          "-s", (char *)addr, "-t", "attr", "-n", "function", "-v", "0x0",
                          file, NULL};
    char *virt_xml[] = {"virt-xml", "--connect", "test:///default", "test", "--add-device",
                        "--hostdev", "0000:11:00.0", "--print-xml", NULL};
    struct tool tools[] = {
        {"synopassthru preview (adds 1 hostdev)", cli, preview},
        {"xmlstarlet ed (the same hostdev)", "xmlstarlet", xmlstarlet},
        {"virt-xml --add-device --hostdev --print-xml", "virt-xml", virt_xml},
    };
    struct stats ms[3];
    const char *missing[3];
    printf("\n%-50s %8s %8s %8s  %s\n", "whole process, 6 KB domain (ms)", "min", "median",
           "max", "to preview");
    time_tools(b, tools, 3, ms, missing);
    print_tools(b, "whole_process", tools, 3, ms, missing);
    free(file);
    free(xml);
    tu_rm_rf(config);
    free(config);
}

/* virsh create/destroy of an unmatched VM, starts times in one session. */
static char *virsh_commands(const char *file, int starts)
{
    struct text t = {0};
    char line[SP_PATH_MAX + 64];
    for (int i = 0; i < starts; i++) {
        snprintf(line, sizeof(line), "create %s; destroy " VM_OTHER "; ", file);
        add(&t, line);
    }
    return t.buf;
}

static void virsh_case(struct bench *b, int snippets)
{
    char *config = make_config(snippets, 1, b->base);
    size_t len;
    char *xml = make_domain(VM_OTHER, TITLE_FIRST, 6144, &len);
    char *file = tu_write(b->base, "virsh.xml", xml, 0644);
    char *commands = virsh_commands(file, b->virsh_starts);
    char shim[SP_PATH_MAX + 16], cfg_env[SP_PATH_MAX + 32], label[2][96];
    sp_path_fmt(shim, sizeof(shim), "LD_PRELOAD=%s/libsynopassthru.so", b->build);
    snprintf(cfg_env, sizeof(cfg_env), "SYNOPASSTHRU_CONFIG_DIR=%s", config);
    char *plain[] = {"virsh", "-q", "-c", "test:///default", commands, NULL};
    char *preloaded[] = {"env", shim, cfg_env, "virsh", "-q", "-c", "test:///default", commands,
                         NULL};
    snprintf(label[0], sizeof(label[0]), "virsh, %d create/destroy, %d files", b->virsh_starts,
             snippets);
    snprintf(label[1], sizeof(label[1]), "  the same with the shim preloaded");
    struct tool tools[] = {{label[0], "virsh", plain}, {label[1], "virsh", preloaded}};
    struct stats ms[2];
    const char *missing[2];
    time_tools(b, tools, 2, ms, missing);
    char key[32];
    snprintf(key, sizeof(key), "virsh_%d_files", snippets);
    print_tools(b, key, tools, 2, ms, missing);
    free(commands);
    free(file);
    free(xml);
    tu_rm_rf(config);
    free(config);
}

/* --- main ------------------------------------------------------------------ */

static int parse_snippets(struct bench *b, const char *list)
{
    b->n_snippets = 0;
    for (const char *p = list; *p && b->n_snippets < 3;) {
        b->snippets[b->n_snippets++] = atoi(p);
        p += strcspn(p, ",");
        p += *p == ',';
    }
    return b->n_snippets > 0 && b->snippets[0] > 0 ? 0 : -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench [--rounds N] [--snippets A,B,C] [--virsh-starts N] "
                    "[--no-callgrind] [--out FILE]\n");
    exit(2);
}

static void print_machine(struct bench *b)
{
    char *cpu = NULL;
    size_t cap = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && getline(&cpu, &cap, f) > 0 && strncmp(cpu, "model name", 10) != 0)
        ;
    const char *model = cpu && strchr(cpu, ':') ? strchr(cpu, ':') + 2 : "unknown";
    if (cpu)
        cpu[strcspn(cpu, "\n")] = '\0';
    printf("%ld CPUs, %s; %d rounds; libxml2 %s\n", sysconf(_SC_NPROCESSORS_ONLN), model,
           b->rounds, xmlParserVersion);
    if (!have_valgrind)
        printf("no instruction counts: %s\n", find_in_path("valgrind")
                                                   ? "--no-callgrind"
                                                   : "valgrind is not installed (apt-get install "
                                                     "-y valgrind)");
    sp_json_member_int(&b->json, "cpus", sysconf(_SC_NPROCESSORS_ONLN));
    sp_json_member_str(&b->json, "cpu", model);
    sp_json_member_int(&b->json, "rounds", b->rounds);
    sp_json_member_bool(&b->json, "instructions_counted", have_valgrind);
    if (f)
        fclose(f);
    free(cpu);
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "--one") == 0)
        return run_one(argv + 1);
    struct bench b = {.rounds = 11, .snippets = {10, 1000, 10000}, .n_snippets = 3,
                      .virsh_starts = 50};
    const char *out = NULL;
    have_valgrind = find_in_path("valgrind");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-callgrind") == 0)
            have_valgrind = 0;
        else if (!v)
            usage();
        else if (strcmp(a, "--rounds") == 0 && (b.rounds = atoi(v)) > 0 && b.rounds <= MAX_ROUNDS)
            i++;
        else if (strcmp(a, "--snippets") == 0 && parse_snippets(&b, v) == 0)
            i++;
        else if (strcmp(a, "--virsh-starts") == 0 && (b.virsh_starts = atoi(v)) > 0)
            i++;
        else if (strcmp(a, "--out") == 0)
            out = argv[++i];
        else
            usage();
    }
    if (!realpath("/proc/self/exe", self_path))
        die("realpath", "/proc/self/exe");
    b.build = getenv("SP_BUILD") ? getenv("SP_BUILD") : "build";
    tu_trust_current_user();
    b.base = tu_mkdtemp("bench");
    b.sysfs = sp_path_join(b.base, "sys");
    char *spec = host_spec();
    if (fakesysfs_build(b.sysfs, spec) < 0)
        die("fake sysfs", b.sysfs);
    free(spec);
    setenv(SP_ENV_SYSFS_ROOT, b.sysfs, 1); /* never this machine's own */
    sp_json_init(&b.json, 2);
    sp_json_begin_object(&b.json);
    sp_json_member_int(&b.json, "schema", 1);
    print_machine(&b);
    start_cases(&b);
    memory_case(&b);
    edit_cases(&b);
    printf("\n%-50s %8s %8s %8s  %s\n", "virsh -c test:///default, one session (ms)", "min",
           "median", "max", "ratio");
    virsh_case(&b, b.snippets[0]);
    if (b.n_snippets > 1)
        virsh_case(&b, b.snippets[b.n_snippets - 1]);
    sp_json_end_object(&b.json);
    FILE *f = out ? fopen(out, "w") : NULL;
    if (out && (!f || sp_json_print(&b.json, f) < 0))
        die("cannot write", out);
    if (f)
        fclose(f);
    else
        free(sp_json_take(&b.json));
    tu_rm_rf(b.base);
    free(b.base);
    free(b.sysfs);
    return 0;
}
