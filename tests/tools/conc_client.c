/* conc_client: one client of the concurrency test (tests/integration/
 * test_concurrency.sh), or its sampler.
 *
 *   conc_client client URI SYSFS PLAN CLIENT SECONDS OUT
 *   conc_client sampler URI SYSFS PLAN SECONDS OUT
 *
 * PLAN has one VM a line: "NAME CLIENT KIND RELEASE UUID ADDR[,ADDR...]",
 * KIND T (matched, transient), P (matched, defined), t and p (no snippet
 * names it; ADDR is "-"). A client starts and stops the VMs of its number,
 * over one connection, until SECONDS have passed, and checks each start:
 *   - a matched start that worked: the live XML is the XML libvirt's test
 *     driver gives without the shim (computed in this process, with its own
 *     test:///default) plus one <hostdev> with our alias for each of the
 *     VM's devices, and nothing else (on a defined start, also the marker
 *     in <metadata>); its devices are on vfio-pci right after the start and
 *     again just before the stop;
 *   - a refused one: libvirt's error says "synopassthru: " and why, and the
 *     VM does not run;
 *   - a defined VM: after every start and stop, the stored definition is
 *     the last one defined, byte for byte as libvirt stores it without the
 *     shim. Some starts have a define of a changed definition on a second
 *     connection at the same moment; some VMs get one while they run, some
 *     are undefined and defined again;
 *   - a VM no snippet names: its live XML is exactly its own.
 * The sampler lists the running domains (with their ids), reads the driver
 * of each matched VM's devices, lists them again: a VM with the same id in
 * both lists whose device was not on vfio-pci in between is a violation.
 * Both write "count KEY N", "vm NAME ATTEMPTS OK REFUSED", "start NAME T0 T1
 * OUTCOME" and "bad WHAT VM: DETAIL" lines to OUT. Exit 0 unless the test
 * itself could not run (no connection, a bad plan). */
#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_VMS 256
#define MAX_DEVS 4
#define MAX_BAD_LINES 3

struct vm {
    char name[64];
    int client;
    char kind;
    int release;
    char uuid[40];
    char devs[MAX_DEVS][16];
    int n_devs;
    /* the client's bookkeeping */
    int defined;
    unsigned gen;
    long attempts, ok, refused;
};

static struct vm vms[MAX_VMS];
static int n_vms;
static const char *sysfs;
static FILE *out;
static unsigned long long rng = 88172645463325252ull;

enum {
    C_STARTS, C_MATCHED_OK, C_MATCHED_REFUSED, C_MATCHED_BAD, C_BAD_LIVE, C_BAD_REFUSAL,
    C_UNMATCHED, C_UNMATCHED_BAD, C_DEFINE_LOST, C_DEF_BAD, C_CONC_DEFINES, C_CONC_OVERLAP,
    C_RUNNING_DEFINES, C_REDEFINES, C_DRIVER_BAD, C_DRIVER_CHECKS, C_QUICK_RESTARTS,
    C_REFUSED_RUNNING, C_INFRA, C_SAMPLES, C_SAMPLE_CHECKS, C_SAMPLE_RELEASE_CHECKS, C_VIOLATIONS, C_N
};
static const char *const count_names[C_N] = {
    "starts", "matched_ok", "matched_refused", "matched_bad", "bad_live", "bad_refusal",
    "unmatched", "unmatched_bad", "define_lost", "definition_bad", "concurrent_defines",
    "concurrent_define_overlaps", "running_defines", "redefines", "driver_bad", "driver_checks",
    "quick_restarts", "refused_running", "infra_errors", "samples", "sample_checks", "sample_release_checks",
    "violations"};
static long counts[C_N];
static int bad_lines[C_N];

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return n ? (unsigned)(rng % n) : 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_us(unsigned us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* bad COUNTER VM: what. Counted always, written for the first few. */
static void bad(int counter, const struct vm *v, const char *fmt, ...)
{
    counts[counter]++;
    if (bad_lines[counter]++ >= MAX_BAD_LINES)
        return;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    for (char *p = text; *p; p++)
        if (*p == '\n')
            *p = '|';
    fprintf(out, "bad %s %s: %s\n", count_names[counter], v ? v->name : "-", text);
    fflush(out);
}

static const char *last_error(void)
{
    const char *m = virGetLastErrorMessage();
    return m ? m : "(no error)";
}

static int read_plan(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return perror(path), -1;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (n_vms == MAX_VMS)
            return fclose(f), fprintf(stderr, "%s: too many VMs\n", path), -1;
        struct vm *v = &vms[n_vms];
        char devs[256];
        if (sscanf(line, "%63s %d %c %d %39s %255s", v->name, &v->client, &v->kind, &v->release,
                   v->uuid, devs) != 6 || !strchr("TPtp", v->kind))
            return fclose(f), fprintf(stderr, "%s: bad line: %s", path, line), -1;
        if (strcmp(devs, "-") != 0)
            for (char *save = NULL, *d = strtok_r(devs, ",", &save); d;
                 d = strtok_r(NULL, ",", &save)) {
                if (v->n_devs == MAX_DEVS || strlen(d) != 12)
                    return fclose(f), fprintf(stderr, "%s: bad devices: %s", path, line), -1;
                snprintf(v->devs[v->n_devs++], sizeof(v->devs[0]), "%s", d);
            }
        if ((v->kind == 'T' || v->kind == 'P') != (v->n_devs > 0))
            return fclose(f), fprintf(stderr, "%s: devices and kind disagree: %s", path, line), -1;
        n_vms++;
    }
    fclose(f);
    return 0;
}

static int matched(const struct vm *v) { return v->kind == 'T' || v->kind == 'P'; }
static int defined_kind(const struct vm *v) { return v->kind == 'P' || v->kind == 'p'; }

static char *domain_xml(const struct vm *v, unsigned gen)
{
    char *xml = NULL;
    if (asprintf(&xml,
                 "<domain type='test'>\n  <name>%s</name>\n  <uuid>%s</uuid>\n"
                 "  <description>%s generation %u</description>\n"
                 "  <memory unit='KiB'>65536</memory>\n"
                 "  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n"
                 "  <devices>\n  </devices>\n</domain>\n",
                 v->name, v->uuid, v->name, gen) < 0)
        return NULL;
    return xml;
}

/* The driver of a fake device ("" when none). */
static void driver_of(const char *addr, char *drv, size_t len)
{
    char path[PATH_MAX], link[PATH_MAX];
    snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", sysfs, addr);
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    drv[0] = 0;
    if (n <= 0)
        return;
    link[n] = 0;
    const char *base = strrchr(link, '/');
    snprintf(drv, len, "%s", base ? base + 1 : link);
}

/* 0 when every device of v is on vfio-pci; else names the first that is not. */
static int devices_on_vfio(const struct vm *v, char *why, size_t len)
{
    for (int i = 0; i < v->n_devs; i++) {
        char drv[64];
        driver_of(v->devs[i], drv, sizeof(drv));
        if (strcmp(drv, "vfio-pci") != 0) {
            snprintf(why, len, "%s is on '%s'", v->devs[i], drv);
            return -1;
        }
    }
    return 0;
}

/* Takes " id='N'" out of the <domain> line, in place. */
static void drop_id(char *xml)
{
    char *p = strstr(xml, " id='");
    char *nl = strchr(xml, '\n');
    if (!p || (nl && p > nl))
        return;
    char *end = strchr(p + 5, '\'');
    if (end)
        memmove(p, end + 1, strlen(end + 1) + 1);
}

/* Splits live XML into what the shim may have added (hostdevs with our
 * alias, their source addresses in addrs; the marker's <metadata> when
 * marker_ok) and the rest, which must be the domain's own. Returns the
 * rest (malloc'd) or NULL with why. */
static char *split_live(const char *xml, int marker_ok, char addrs[][16], int max, int *n,
                        int *markers, char *why, size_t whylen)
{
    size_t len = strlen(xml);
    char *rest = malloc(len + 1), *block = malloc(len + 1);
    if (!rest || !block)
        return free(rest), free(block), snprintf(why, whylen, "out of memory"), NULL;
    size_t r = 0, b = 0;
    int in_hostdev = 0, in_meta = 0, got_src = 0, alias = 0;
    *n = 0;
    *markers = 0;
    rest[0] = 0;
    for (const char *line = xml; *line;) {
        const char *eol = strchr(line, '\n');
        size_t l = eol ? (size_t)(eol - line) + 1 : strlen(line);
        const char *t = line;
        while (*t == ' ')
            t++;
        if (in_hostdev) {
            unsigned dom, bus, slot, fn;
            if (!got_src && sscanf(t, "<address domain='0x%x' bus='0x%x' slot='0x%x' "
                                      "function='0x%x'/>", &dom, &bus, &slot, &fn) == 4) {
                got_src = 1;
                if (*n < max)
                    snprintf(addrs[*n], 16, "%04x:%02x:%02x.%x", dom, bus, slot, fn);
            }
            if (strncmp(t, "<alias name='ua-sp-", 19) == 0)
                alias = 1;
            if (strncmp(t, "</hostdev>", 10) == 0) {
                in_hostdev = 0;
                if (!got_src || !alias) {
                    snprintf(why, whylen, "a <hostdev> %s", !got_src ? "without a PCI source address"
                                                                      : "without our alias");
                    return free(rest), free(block), NULL;
                }
                (*n)++;
            }
        } else if (in_meta) {
            memcpy(block + b, line, l);
            b += l;
            if (strncmp(t, "</metadata>", 11) == 0) {
                in_meta = 0;
                block[b] = 0;
                if (marker_ok && strstr(block, "urn:synopassthru:original:1")) {
                    (*markers)++;
                } else {
                    memcpy(rest + r, block, b);
                    r += b;
                }
            }
        } else if (strncmp(t, "<hostdev", 8) == 0) {
            in_hostdev = 1;
            got_src = alias = 0;
        } else if (strncmp(t, "<metadata>", 10) == 0) {
            in_meta = 1;
            memcpy(block, line, l);
            b = l;
        } else {
            memcpy(rest + r, line, l);
            r += l;
        }
        line += l;
    }
    free(block);
    rest[r] = 0;
    if (in_hostdev || in_meta)
        return free(rest), snprintf(why, whylen, "unterminated element"), NULL;
    drop_id(rest);
    return rest;
}

/* --- references: what libvirt's test driver makes of the XML without the
 * shim, from a test:///default of this process's own ---------------------- */

static virConnectPtr refconn;

struct ref {
    char *live, *inactive;
};

static int make_ref(const struct vm *v, unsigned gen, struct ref *ref)
{
    char *xml = domain_xml(v, gen);
    virDomainPtr dom = NULL;
    ref->live = ref->inactive = NULL;
    if (!xml)
        return -1;
    if (defined_kind(v)) {
        dom = virDomainDefineXML(refconn, xml);
        if (dom && virDomainCreate(dom) < 0) {
            virDomainUndefine(dom);
            virDomainFree(dom);
            dom = NULL;
        }
    } else {
        dom = virDomainCreateXML(refconn, xml, 0);
    }
    free(xml);
    if (!dom)
        return -1;
    ref->live = virDomainGetXMLDesc(dom, 0);
    if (defined_kind(v))
        ref->inactive = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    virDomainDestroy(dom);
    if (defined_kind(v))
        virDomainUndefine(dom);
    virDomainFree(dom);
    if (!ref->live || (defined_kind(v) && !ref->inactive))
        return -1;
    drop_id(ref->live);
    return 0;
}

static void free_ref(struct ref *ref)
{
    free(ref->live);
    free(ref->inactive);
    ref->live = ref->inactive = NULL;
}

/* --- the client ---------------------------------------------------------- */

/* "generation N, H hostdev(s), marked or not": what a definition is. */
static void describe(const char *xml, char *text, size_t len)
{
    unsigned gen = 0;
    const char *d = strstr(xml, "<description>");
    const char *g = d ? strstr(d, " generation ") : NULL;
    if (g)
        sscanf(g, " generation %u", &gen);
    int hostdevs = 0;
    for (const char *p = xml; (p = strstr(p, "<hostdev")); p++)
        hostdevs++;
    snprintf(text, len, "generation %u, %d hostdev(s), %s", gen, hostdevs,
             strstr(xml, "urn:synopassthru") ? "marked" : "not marked");
}

/* The first line where a and b differ, for a message. */
static void first_difference(const char *a, const char *b, char *text, size_t len)
{
    int line = 1;
    const char *la = a, *lb = b;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++, b++;
    }
    snprintf(text, len, "line %d is '%.*s', want '%.*s'", line, (int)strcspn(la, "\n"), la,
             (int)strcspn(lb, "\n"), lb);
}

static virConnectPtr conn;

static int define_gen(virConnectPtr c, struct vm *v, unsigned gen);

/* The live XML of a matched VM that started: its own XML (of generation
 * gen_a or gen_b) plus exactly its devices. 0 or -1 (counted). */
static int check_matched_live(struct vm *v, virDomainPtr dom, unsigned gen_a, unsigned gen_b)
{
    char *live = virDomainGetXMLDesc(dom, 0);
    if (!live) {
        bad(C_INFRA, v, "dumpxml after a start: %s", last_error());
        return -1;
    }
    char addrs[8][16], why[256] = "";
    int n = 0, markers = 0;
    char *rest = split_live(live, v->kind == 'P', addrs, 8, &n, &markers, why, sizeof(why));
    int rc = -1;
    if (!rest) {
        bad(C_BAD_LIVE, v, "live XML: %s", why);
        goto out;
    }
    if (n != v->n_devs) {
        bad(C_BAD_LIVE, v, "%d hostdev(s) in the live XML, want %d%s", n, v->n_devs,
            n == 0 ? " (a bare start)" : "");
        goto out;
    }
    for (int i = 0; i < v->n_devs; i++) {
        int found = 0;
        for (int k = 0; k < n; k++)
            found += strcmp(addrs[k], v->devs[i]) == 0;
        if (found != 1) {
            bad(C_BAD_LIVE, v, "device %s is in the live XML %d times", v->devs[i], found);
            goto out;
        }
    }
    if (v->kind == 'P' && markers != 1) {
        bad(C_BAD_LIVE, v, "%d markers in the live XML of a defined start", markers);
        goto out;
    }
    struct ref a, b = {0};
    if (make_ref(v, gen_a, &a) < 0 || (gen_b != gen_a && make_ref(v, gen_b, &b) < 0)) {
        bad(C_INFRA, v, "no reference XML: %s", last_error());
        free_ref(&a);
        goto out;
    }
    if (strcmp(rest, a.live) == 0 || (b.live && strcmp(rest, b.live) == 0)) {
        rc = 0;
    } else {
        char diff[512];
        first_difference(rest, b.live ? b.live : a.live, diff, sizeof(diff));
        bad(C_BAD_LIVE, v, "the live XML without our hostdevs is not the VM's own: %s", diff);
    }
    free_ref(&a);
    free_ref(&b);
out:
    free(rest);
    free(live);
    return rc;
}

/* The stored definition of a defined VM is generation gen, as libvirt
 * stores it without the shim. lost: the generation before gen was just
 * defined over (a define that the start's put-back may have overwritten). */
static void check_stored(struct vm *v, unsigned gen, int define_just_done, const char *when)
{
    virDomainPtr dom = virDomainLookupByName(conn, v->name);
    char *inactive = dom ? virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE) : NULL;
    if (dom)
        virDomainFree(dom);
    if (!inactive) {
        bad(C_INFRA, v, "dumpxml --inactive %s: %s", when, last_error());
        return;
    }
    struct ref want, older = {0};
    if (make_ref(v, gen, &want) < 0) {
        bad(C_INFRA, v, "no reference XML: %s", last_error());
        free(inactive);
        return;
    }
    if (strcmp(inactive, want.inactive) != 0) {
        char is[128];
        describe(inactive, is, sizeof(is));
        if (define_just_done && gen > 0 && make_ref(v, gen - 1, &older) == 0 &&
            strcmp(inactive, older.inactive) == 0)
            bad(C_DEFINE_LOST, v, "%s: the stored definition is generation %u again, the define "
                "of generation %u was lost", when, gen - 1, gen);
        else
            bad(C_DEF_BAD, v, "%s: the stored definition is %s, want generation %u as defined",
                when, is, gen);
        /* Defined again as the client has it, so that one fault is counted once. */
        if (define_gen(conn, v, gen) < 0)
            bad(C_INFRA, v, "define again: %s", last_error());
    }
    free_ref(&want);
    free_ref(&older);
    free(inactive);
}

static int define_gen(virConnectPtr c, struct vm *v, unsigned gen)
{
    char *xml = domain_xml(v, gen);
    virDomainPtr dom = xml ? virDomainDefineXML(c, xml) : NULL;
    free(xml);
    if (!dom)
        return -1;
    virDomainFree(dom);
    return 0;
}

struct racer {
    virConnectPtr conn;
    struct vm *v;
    unsigned gen, delay_us;
    int ok;
    double t0, t1;
    char err[512];
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    sleep_us(r->delay_us);
    r->t0 = now();
    r->ok = define_gen(r->conn, r->v, r->gen) == 0;
    r->t1 = now();
    if (!r->ok)
        snprintf(r->err, sizeof(r->err), "%s", last_error());
    return NULL;
}

static virConnectPtr conn2;
static unsigned last_start_us = 5000;

/* A refused start: libvirt's error names synopassthru and a reason. */
static void check_refusal(struct vm *v, const char *msg)
{
    const char *p = strstr(msg, "synopassthru: ");
    if (!p || strlen(p + 14) < 8) {
        bad(C_BAD_REFUSAL, v, "a start failed without a synopassthru reason: %s", msg);
        return;
    }
    v->refused++;
    counts[C_MATCHED_REFUSED]++;
    fprintf(out, "reason %s\n", p + 14);
}

static void check_drivers(struct vm *v, const char *when)
{
    char why[128];
    counts[C_DRIVER_CHECKS]++;
    if (devices_on_vfio(v, why, sizeof(why)) < 0)
        bad(C_DRIVER_BAD, v, "%s, %s", why, when);
}

/* One start of a matched VM, its checks, its stop. */
static void cycle_matched(struct vm *v)
{
    int persistent = v->kind == 'P';
    if (persistent && !v->defined) {
        if (define_gen(conn, v, v->gen + 1) < 0) {
            bad(C_INFRA, v, "define: %s", last_error());
            return;
        }
        v->gen++;
        v->defined = 1;
        counts[C_REDEFINES]++;
    }
    struct racer racer = {.conn = conn2, .v = v, .gen = v->gen + 1};
    pthread_t thread;
    int racing = persistent && rnd(3) == 0;
    if (racing) {
        racer.delay_us = rnd(last_start_us + 1);
        if (pthread_create(&thread, NULL, racer_main, &racer) != 0)
            racing = 0;
    }
    virDomainPtr dom = NULL;
    char err[1024] = "";
    double t0 = now();
    if (persistent) {
        dom = virDomainLookupByName(conn, v->name);
        if (dom && virDomainCreate(dom) < 0) {
            snprintf(err, sizeof(err), "%s", last_error());
            virDomainFree(dom);
            dom = NULL;
        }
    } else {
        char *xml = domain_xml(v, 0);
        dom = xml ? virDomainCreateXML(conn, xml, 0) : NULL;
        if (!dom)
            snprintf(err, sizeof(err), "%s", last_error());
        free(xml);
    }
    double t1 = now();
    last_start_us = (unsigned)((t1 - t0) * 1e6);
    unsigned gen_before = v->gen;
    int just_defined = 0;
    if (racing) {
        pthread_join(thread, NULL);
        counts[C_CONC_DEFINES]++;
        if (racer.ok) {
            v->gen++;
            just_defined = 1;
            if (racer.t0 < t1 && racer.t1 > t0)
                counts[C_CONC_OVERLAP]++;
        } else {
            bad(C_INFRA, v, "a define during the start failed: %s", racer.err);
        }
    }
    v->attempts++;
    counts[C_STARTS]++;
    const char *outcome;
    if (dom) {
        long bad_before = counts[C_BAD_LIVE];
        check_matched_live(v, dom, gen_before, v->gen);
        check_drivers(v, "right after the start");
        if (persistent)
            check_stored(v, v->gen, just_defined, "after the start");
        if (persistent && rnd(5) == 0) {
            /* The manager defines a changed definition while the VM runs. */
            if (define_gen(conn, v, v->gen + 1) == 0) {
                v->gen++;
                counts[C_RUNNING_DEFINES]++;
                check_stored(v, v->gen, 0, "after a define while running");
            } else {
                bad(C_INFRA, v, "define while running: %s", last_error());
            }
        }
        if (counts[C_BAD_LIVE] == bad_before) {
            v->ok++;
            counts[C_MATCHED_OK]++;
            outcome = "ok";
        } else {
            counts[C_MATCHED_BAD]++;
            outcome = "bad";
        }
        sleep_us(rnd(4000));
        if (virDomainIsActive(dom) == 1)
            check_drivers(v, "while it still ran, before its stop");
        else
            bad(C_INFRA, v, "the VM stopped before its client stopped it");
        if (virDomainDestroy(dom) < 0)
            bad(C_INFRA, v, "destroy: %s", last_error());
        virDomainFree(dom);
        if (persistent)
            check_stored(v, v->gen, 0, "after the stop");
    } else {
        long refused_before = counts[C_MATCHED_REFUSED];
        check_refusal(v, err);
        outcome = counts[C_MATCHED_REFUSED] > refused_before ? "refused" : "bad";
        if (counts[C_MATCHED_REFUSED] == refused_before)
            counts[C_MATCHED_BAD]++;
        virDomainPtr d = virDomainLookupByName(conn, v->name);
        if (d) {
            if (virDomainIsActive(d) == 1)
                bad(C_REFUSED_RUNNING, v, "a refused start left the VM running");
            virDomainFree(d);
        } else if (persistent) {
            bad(C_INFRA, v, "lookup after a refused start: %s", last_error());
        }
        if (persistent)
            check_stored(v, v->gen, just_defined, "after a refused start");
    }
    fprintf(out, "start %s %.6f %.6f %s\n", v->name, t0, t1, outcome);
    if (persistent && rnd(6) == 0) {
        virDomainPtr d = virDomainLookupByName(conn, v->name);
        if (!d || virDomainUndefine(d) < 0)
            bad(C_INFRA, v, "undefine: %s", last_error());
        else
            v->defined = 0;
        if (d)
            virDomainFree(d);
    }
}

static void cycle_unmatched(struct vm *v)
{
    if (v->kind == 'p' && !v->defined) {
        if (define_gen(conn, v, v->gen + 1) < 0) {
            bad(C_INFRA, v, "define: %s", last_error());
            return;
        }
        v->gen++;
        v->defined = 1;
    }
    virDomainPtr dom;
    double t0 = now();
    if (v->kind == 'p') {
        dom = virDomainLookupByName(conn, v->name);
        if (dom && virDomainCreate(dom) < 0) {
            virDomainFree(dom);
            dom = NULL;
        }
    } else {
        char *xml = domain_xml(v, v->gen);
        dom = xml ? virDomainCreateXML(conn, xml, 0) : NULL;
        free(xml);
    }
    double t1 = now();
    v->attempts++;
    counts[C_STARTS]++;
    counts[C_UNMATCHED]++;
    if (!dom) {
        bad(C_UNMATCHED_BAD, v, "the start failed: %s", last_error());
        return;
    }
    char *live = virDomainGetXMLDesc(dom, 0);
    struct ref ref;
    if (!live || make_ref(v, v->gen, &ref) < 0) {
        bad(C_INFRA, v, "dumpxml or reference: %s", last_error());
    } else {
        drop_id(live);
        if (strcmp(live, ref.live) != 0)
            bad(C_UNMATCHED_BAD, v, "the live XML is not exactly its own: %s", live);
        else
            v->ok++;
        free_ref(&ref);
    }
    free(live);
    if (virDomainDestroy(dom) < 0)
        bad(C_INFRA, v, "destroy: %s", last_error());
    virDomainFree(dom);
    fprintf(out, "start %s %.6f %.6f unmatched\n", v->name, t0, t1);
    if (v->kind == 'p' && rnd(4) == 0) {
        virDomainPtr d = virDomainLookupByName(conn, v->name);
        if (d && virDomainUndefine(d) == 0)
            v->defined = 0;
        if (d)
            virDomainFree(d);
    }
}

static void write_counts(void)
{
    for (int i = 0; i < C_N; i++)
        fprintf(out, "count %s %ld\n", count_names[i], counts[i]);
}

static int run_client(const char *uri, int client, double seconds)
{
    struct vm *mine[MAX_VMS];
    int n = 0;
    for (int i = 0; i < n_vms; i++)
        if (vms[i].client == client)
            mine[n++] = &vms[i];
    if (n == 0)
        return fprintf(stderr, "client %d has no VM\n", client), 2;
    conn = virConnectOpen(uri);
    conn2 = virConnectOpen(uri);
    refconn = virConnectOpen("test:///default");
    if (!conn || !conn2 || !refconn)
        return fprintf(stderr, "cannot connect: %s\n", last_error()), 2;
    double end = now() + seconds;
    struct vm *again = NULL;
    while (now() < end) {
        struct vm *v;
        if (again) {
            /* Start a release="yes" VM again at once: its stop's release
             * may still be on its way. */
            v = again;
            counts[C_QUICK_RESTARTS]++;
        } else {
            /* Mostly the matched VMs. */
            v = mine[rnd(n)];
            if (!matched(v) && rnd(2) == 0)
                v = mine[rnd(n)];
        }
        again = NULL;
        if (matched(v)) {
            cycle_matched(v);
            if (v->release && rnd(2) == 0)
                again = v;
        } else {
            cycle_unmatched(v);
        }
        if (!again)
            sleep_us(rnd(8000));
        fflush(out);
    }
    /* Leave nothing running or defined. */
    for (int i = 0; i < n; i++) {
        virDomainPtr d = virDomainLookupByName(conn, mine[i]->name);
        if (!d)
            continue;
        if (virDomainIsActive(d) == 1)
            virDomainDestroy(d);
        if (virDomainIsPersistent(d) == 1)
            virDomainUndefine(d);
        virDomainFree(d);
    }
    for (int i = 0; i < n; i++)
        if (matched(mine[i]))
            fprintf(out, "vm %s %ld %ld %ld\n", mine[i]->name, mine[i]->attempts, mine[i]->ok,
                    mine[i]->refused);
        else
            fprintf(out, "unmatched %s %ld %ld\n", mine[i]->name, mine[i]->attempts,
                    mine[i]->ok);
    write_counts();
    virConnectClose(refconn);
    virConnectClose(conn2);
    virConnectClose(conn);
    return 0;
}

/* --- the sampler --------------------------------------------------------- */

struct seen {
    char name[64];
    unsigned id;
};

static int list_running(struct seen *list, int max)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0)
        return -1;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (k < max) {
            const char *name = virDomainGetName(doms[i]);
            snprintf(list[k].name, sizeof(list[k].name), "%s", name ? name : "");
            list[k].id = virDomainGetID(doms[i]);
            k++;
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    return k;
}

static int run_sampler(const char *uri, double seconds)
{
    conn = virConnectOpen(uri);
    if (!conn)
        return fprintf(stderr, "cannot connect: %s\n", last_error()), 2;
    static struct seen first[MAX_VMS + 8], second[MAX_VMS + 8];
    static char drivers[MAX_VMS][MAX_DEVS][64];
    double end = now() + seconds;
    while (now() < end) {
        int n1 = list_running(first, MAX_VMS + 8);
        if (n1 < 0) {
            bad(C_INFRA, NULL, "list: %s", last_error());
            sleep_us(100000);
            continue;
        }
        /* Between the two lists: the driver of each running matched VM's devices. */
        int idx[MAX_VMS + 8];
        for (int i = 0; i < n1; i++) {
            idx[i] = -1;
            for (int k = 0; k < n_vms; k++)
                if (matched(&vms[k]) && strcmp(vms[k].name, first[i].name) == 0)
                    idx[i] = k;
            if (idx[i] >= 0)
                for (int d = 0; d < vms[idx[i]].n_devs; d++)
                    driver_of(vms[idx[i]].devs[d], drivers[idx[i]][d], sizeof(drivers[0][0]));
        }
        int n2 = list_running(second, MAX_VMS + 8);
        if (n2 < 0) {
            bad(C_INFRA, NULL, "list: %s", last_error());
            continue;
        }
        counts[C_SAMPLES]++;
        for (int i = 0; i < n1; i++) {
            if (idx[i] < 0)
                continue;
            int same = 0;
            for (int k = 0; k < n2; k++)
                same |= strcmp(second[k].name, first[i].name) == 0 && second[k].id == first[i].id;
            if (!same)
                continue; /* stopped, or started again, in between */
            struct vm *v = &vms[idx[i]];
            counts[C_SAMPLE_CHECKS]++;
            if (v->release)
                counts[C_SAMPLE_RELEASE_CHECKS]++;
            for (int d = 0; d < v->n_devs; d++)
                if (strcmp(drivers[idx[i]][d], "vfio-pci") != 0) {
                    bad(C_VIOLATIONS, v, "%s was on '%s' while the VM ran (id %u in both lists)",
                        v->devs[d], drivers[idx[i]][d], first[i].id);
                    break;
                }
        }
        sleep_us(10000 + rnd(10000));
    }
    write_counts();
    virConnectClose(conn);
    return 0;
}

static void quiet(void *data, virErrorPtr e)
{
    (void)data, (void)e;
}

int main(int argc, char **argv)
{
    int is_client = argc == 8 && strcmp(argv[1], "client") == 0;
    int is_sampler = argc == 7 && strcmp(argv[1], "sampler") == 0;
    if (!is_client && !is_sampler) {
        fprintf(stderr, "usage: conc_client client URI SYSFS PLAN CLIENT SECONDS OUT\n"
                        "       conc_client sampler URI SYSFS PLAN SECONDS OUT\n");
        return 2;
    }
    sysfs = argv[3];
    if (read_plan(argv[4]) < 0)
        return 2;
    const char *path = argv[is_client ? 7 : 6];
    out = fopen(path, "w");
    if (!out)
        return perror(path), 2;
    virSetErrorFunc(NULL, quiet);
    double seconds = atof(argv[is_client ? 6 : 5]);
    int client = is_client ? atoi(argv[5]) : -1;
    rng ^= (unsigned long long)(client + 2) * 0x9E3779B97F4A7C15ull ^ (unsigned long long)getpid();
    int rc = is_client ? run_client(argv[2], client, seconds) : run_sampler(argv[2], seconds);
    if (fclose(out) != 0)
        return perror(path), 2;
    return rc;
}
