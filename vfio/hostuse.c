#include "hostuse.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/fsutil.h"
#include "sysfs.h"

#define MAX_DEPTH 8      /* block devices or interfaces in one chain */
#define MAX_NODES 4096   /* visited below one PCI device */
#define MAX_ENTRIES 4096 /* read from one sysfs directory */
#define CHAIN_MAX 2048

/* One walk below one PCI device. */
struct walk {
    struct sp_host_scan *scan;
    struct sp_host_uses *out;
    struct sp_err *err;
    char chain[CHAIN_MAX];
    char names[MAX_DEPTH][NAME_MAX + 1]; /* the chain's nodes, for cycles */
    int depth;
    int visited;
};

void sp_host_scan_init(struct sp_host_scan *s, const char *sysfs_root, const char *proc_root)
{
    memset(s, 0, sizeof(*s));
    s->sysfs_root = sysfs_root;
    s->proc_root = proc_root;
}

void sp_host_scan_free(struct sp_host_scan *s)
{
    if (s->loaded)
        sp_proc_view_free(&s->view);
    s->loaded = 0;
}

void sp_host_uses_free(struct sp_host_uses *u)
{
    for (size_t i = 0; i < u->n; i++)
        free(u->items[i].chain);
    free(u->items);
    u->items = NULL;
    u->n = 0;
}

/* --- small readers ------------------------------------------------------ */

static int path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int is_file(const char *dir, const char *name)
{
    char path[PATH_MAX];
    return sp_path_fmt(path, sizeof(path), "%s/%s", dir, name) == 0 && path_exists(path);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The entries of dir, sorted; a missing dir has none. */
static int list_dir(const char *dir, char ***out, size_t *n, struct sp_err *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT || errno == ENOTDIR ? 0 : sp_err_set(err, "%s: %s", dir,
                                                                     strerror(errno));
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char **grown = *n < MAX_ENTRIES ? realloc(*out, (*n + 1) * sizeof(*grown)) : NULL;
        if (!grown || !(grown[*n] = strdup(de->d_name))) {
            if (grown)
                *out = grown;
            rc = sp_err_set(err, "%s: %s", dir, *n < MAX_ENTRIES ? "out of memory"
                                                                 : "too many entries");
            break;
        }
        *out = grown;
        (*n)++;
    }
    closedir(d);
    if (rc < 0) {
        free_names(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    if (*n > 1)
        qsort(*out, *n, sizeof(**out), cmp_names);
    return 0;
}

/* Whether path resolves to a path inside base (a resolved path). */
static int resolves_under(const char *path, const char *base)
{
    char real[PATH_MAX];
    size_t len = strlen(base);
    return realpath(path, real) && strncmp(real, base, len) == 0 && real[len] == '/';
}

/* --- findings ----------------------------------------------------------- */

static int add_use(struct walk *w, int system, const char *what)
{
    char *chain = NULL;
    struct sp_host_use *grown = realloc(w->out->items, (w->out->n + 1) * sizeof(*grown));
    if (!grown || asprintf(&chain, "%s, %s", w->chain, what) < 0) {
        if (grown)
            w->out->items = grown;
        return sp_err_set(w->err, "out of memory");
    }
    w->out->items = grown;
    grown[w->out->n++] = (struct sp_host_use){.chain = chain, .system = system};
    return 0;
}

static int need_view(struct walk *w)
{
    struct sp_host_scan *s = w->scan;
    if (s->loaded)
        return 0;
    if (sp_proc_view_load(s->proc_root, &s->view, w->err) < 0)
        return -1;
    s->loaded = 1;
    return 0;
}

/* Steps into node name (chain shown as label): 1 when it is already on the
 * chain (a cycle: nothing new there), -1 when too deep or too wide. */
static int enter(struct walk *w, const char *name, const char *label, size_t *mark)
{
    for (int i = 0; i < w->depth; i++)
        if (strcmp(w->names[i], name) == 0)
            return 1;
    if (w->depth >= MAX_DEPTH)
        return sp_err_set(w->err, "%s -> %s: a chain longer than %d", w->chain, name, MAX_DEPTH);
    if (++w->visited > MAX_NODES)
        return sp_err_set(w->err, "more than %d block devices and interfaces below it",
                          MAX_NODES);
    snprintf(w->names[w->depth++], sizeof(w->names[0]), "%s", name);
    *mark = strlen(w->chain);
    snprintf(w->chain + *mark, sizeof(w->chain) - *mark, " -> %s", label);
    return 0;
}

static void leave(struct walk *w, size_t mark)
{
    w->depth--;
    w->chain[mark] = '\0';
}

/* --- block devices ------------------------------------------------------ */

/* Where the node is mounted: "/" when it is, else the first mount point;
 * *more counts the others. */
static const char *mount_point(const struct sp_proc_view *v, const char *name, const char *dm,
                               size_t *more)
{
    const char *first = NULL;
    size_t n = 0;
    for (size_t i = 0; i < v->mounts.n; i++) {
        const struct sp_proc_item *m = &v->mounts.items[i];
        if (!sp_proc_dev_is(m->name, name, dm))
            continue;
        if (!first || strcmp(m->detail, "/") == 0)
            first = m->detail;
        n++;
    }
    *more = n ? n - 1 : 0;
    return first;
}

static int swap_in_use(const struct sp_proc_view *v, const char *name, const char *dm)
{
    for (size_t i = 0; i < v->swaps.n; i++)
        if (sp_proc_dev_is(v->swaps.items[i].name, name, dm))
            return 1;
    return 0;
}

/* The node itself mounted or swap. */
static int block_usage(struct walk *w, const char *name, const char *dm)
{
    const struct sp_proc_view *v = &w->scan->view;
    size_t more = 0;
    const char *mp = mount_point(v, name, dm, &more);
    if (mp) {
        char what[PATH_MAX + 64];
        int n = snprintf(what, sizeof(what), "mounted at %s", mp);
        if (more && n > 0 && (size_t)n < sizeof(what))
            snprintf(what + n, sizeof(what) - (size_t)n, " (and %zu more)", more);
        if (add_use(w, strcmp(mp, "/") == 0, what) < 0)
            return -1;
    }
    if (swap_in_use(v, name, dm) && add_use(w, 0, "used as swap") < 0)
        return -1;
    return 0;
}

static int md_usage(struct walk *w, const char *name)
{
    const struct sp_proc_item *md = sp_proc_list_find(&w->scan->view.md, name);
    if (!md)
        return 0;
    char what[300];
    snprintf(what, sizeof(what), "an active md array%s%s", md->detail[0] ? ", " : "",
             md->detail);
    return add_use(w, 0, what);
}

/* What to do with one entry of a directory (path is dir/name). */
typedef int (*visit_fn)(struct walk *w, const char *path, const char *name, const void *arg);

/* visit on each entry of dir, in name order; a missing dir has none. */
static int each_entry(struct walk *w, const char *dir, visit_fn visit, const void *arg)
{
    char path[PATH_MAX];
    char **names = NULL;
    size_t n = 0;
    if (list_dir(dir, &names, &n, w->err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (sp_path_fmt(path, sizeof(path), "%s/%s", dir, names[i]) < 0)
            rc = sp_err_set(w->err, "%s/%s: %s", dir, names[i], strerror(errno));
        else
            rc = visit(w, path, names[i], arg);
    }
    free_names(names, n);
    return rc;
}

static int walk_block(struct walk *w, const char *path, const char *name);

static int visit_holder(struct walk *w, const char *path, const char *name, const void *arg)
{
    (void)arg;
    return walk_block(w, path, name);
}

static int visit_partition(struct walk *w, const char *path, const char *name, const void *arg)
{
    (void)arg;
    return is_file(path, "partition") ? walk_block(w, path, name) : 0;
}

/* A block device and everything above it; a use reported at the top of
 * what is used, and an active md array only when nothing above it is. */
static int walk_block(struct walk *w, const char *path, const char *name)
{
    char dm[256] = "", label[NAME_MAX + 300], dm_path[PATH_MAX];
    size_t mark;
    snprintf(dm_path, sizeof(dm_path), "%s/dm/name", path);
    if (path_exists(dm_path))
        sp_sysfs_read_line(dm_path, dm, sizeof(dm), NULL);
    snprintf(label, sizeof(label), dm[0] ? "%s (%s)" : "%s", name, dm);
    int rc = enter(w, name, label, &mark);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    size_t before = w->out->n;
    rc = block_usage(w, name, dm);
    char holders[PATH_MAX];
    snprintf(holders, sizeof(holders), "%s/holders", path);
    if (rc == 0)
        rc = each_entry(w, holders, visit_holder, NULL);
    if (rc == 0)
        rc = each_entry(w, path, visit_partition, NULL);
    if (rc == 0 && w->out->n == before)
        rc = md_usage(w, name);
    leave(w, mark);
    return rc;
}

/* A disk below the device. DSM's boot stick is the host's own as it is:
 * never mounted while DSM runs, and never to leave it. */
static int walk_disk(struct walk *w, const char *path, const char *name)
{
    if (strncmp(name, "synoboot", 8) != 0)
        return need_view(w) < 0 ? -1 : walk_block(w, path, name);
    size_t mark;
    int rc = enter(w, name, name, &mark);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    rc = add_use(w, 1, "the DSM boot device");
    leave(w, mark);
    return rc;
}

/* An entry of class/block: a disk below dev (a resolved path) is walked; a
 * partition is reached through its disk. */
static int visit_block(struct walk *w, const char *path, const char *name, const void *dev)
{
    if (!resolves_under(path, dev) || is_file(path, "partition"))
        return 0;
    return walk_disk(w, path, name);
}

/* --- network interfaces ------------------------------------------------- */

static void net_dir(const struct walk *w, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/class/net/%s", w->scan->sysfs_root, name);
}

/* operstate up, or unknown / dormant (drivers that do not track it). */
static int iface_up(const char *dir)
{
    char path[PATH_MAX], state[32];
    if (sp_path_fmt(path, sizeof(path), "%s/operstate", dir) < 0 ||
        sp_sysfs_read_line(path, state, sizeof(state), NULL) < 0)
        return 0;
    return strcmp(state, "up") == 0 || strcmp(state, "unknown") == 0 ||
           strcmp(state, "dormant") == 0;
}

static int has_address(const struct sp_proc_view *v, const char *name)
{
    return sp_proc_list_find(&v->ipv4, name) || sp_proc_list_find(&v->ipv6, name);
}

static int walk_iface(struct walk *w, const char *name);

/* Open vSwitch's datapath is every port's master; DSM gives the bridge of
 * port P the interface ovs_P. */
static int walk_ovs(struct walk *w, const char *port)
{
    char bridge[NAME_MAX + 1], dir[PATH_MAX];
    size_t mark;
    int rc = enter(w, "ovs-system", "ovs-system", &mark);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    snprintf(bridge, sizeof(bridge), "ovs_%s", port);
    net_dir(w, bridge, dir, sizeof(dir));
    if (path_exists(dir))
        rc = walk_iface(w, bridge);
    else
        rc = add_use(w, 0, "a port of Open vSwitch, whose bridge sysfs does not show (taken as "
                           "in use)");
    leave(w, mark);
    return rc;
}

/* An upper_NAME link of an interface (its master is walked on its own). */
static int visit_upper(struct walk *w, const char *path, const char *name, const void *master)
{
    (void)path;
    const char *upper = strncmp(name, "upper_", 6) == 0 ? name + 6 : NULL;
    if (!upper || !upper[0] || strcmp(upper, master) == 0)
        return 0;
    return walk_iface(w, upper);
}

/* The interfaces above name: every upper_* link, then its master. */
static int walk_uppers(struct walk *w, const char *name, const char *dir)
{
    char master[NAME_MAX + 1] = "", link[PATH_MAX];
    if (sp_path_fmt(link, sizeof(link), "%s/master", dir) < 0)
        return sp_err_set(w->err, "%s/master: %s", dir, strerror(errno));
    if (sp_sysfs_link_name(link, master, sizeof(master), w->err) < 0 ||
        each_entry(w, dir, visit_upper, master) < 0)
        return -1;
    if (!master[0])
        return 0;
    return strcmp(master, "ovs-system") == 0 ? walk_ovs(w, name) : walk_iface(w, master);
}

static int walk_iface(struct walk *w, const char *name)
{
    char dir[PATH_MAX];
    size_t mark;
    int rc = enter(w, name, name, &mark);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    net_dir(w, name, dir, sizeof(dir));
    if (iface_up(dir) && has_address(&w->scan->view, name))
        rc = add_use(w, 0, "up with an address");
    if (rc == 0)
        rc = walk_uppers(w, name, dir);
    leave(w, mark);
    return rc;
}

/* An entry of class/net: an interface below dev. */
static int visit_iface(struct walk *w, const char *path, const char *name, const void *dev)
{
    if (!resolves_under(path, dev))
        return 0;
    return need_view(w) < 0 ? -1 : walk_iface(w, name);
}

/* visit on each entry of SYSFS/class/CLASS. */
static int each_in_class(struct walk *w, const char *class, visit_fn visit, const char *dev)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/class/%s", w->scan->sysfs_root, class);
    return each_entry(w, dir, visit, dev);
}

int sp_host_use_find(struct sp_host_scan *s, const struct sp_pci_addr *addr,
                     struct sp_host_uses *out, struct sp_err *err)
{
    struct walk *w = calloc(1, sizeof(*w));
    char link[PATH_MAX], dev[PATH_MAX];
    memset(out, 0, sizeof(*out));
    if (!w)
        return sp_err_set(err, "out of memory");
    *w = (struct walk){.scan = s, .out = out, .err = err};
    sp_pci_addr_format(addr, w->chain);
    int rc = sp_pci_device_path(s->sysfs_root, addr, NULL, link, sizeof(link), err);
    /* No such device: nothing of the host's below it (1 until the end). */
    if (rc == 0 && !realpath(link, dev))
        rc = errno == ENOENT ? 1 : sp_err_set(err, "%s: %s", link, strerror(errno));
    if (rc == 0 && (each_in_class(w, "block", visit_block, dev) < 0 ||
                    each_in_class(w, "net", visit_iface, dev) < 0))
        rc = -1;
    free(w);
    if (rc < 0)
        sp_host_uses_free(out);
    return rc < 0 ? -1 : 0;
}
