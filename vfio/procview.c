#include "procview.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/fsutil.h"

/* Longer lines are skipped: no /proc line we read comes near it. */
#define LINE_MAX_LEN 4096
#define MAX_FIELDS 12

void sp_proc_list_free(struct sp_proc_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].name);
        free(l->items[i].detail);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void sp_proc_view_free(struct sp_proc_view *v)
{
    sp_proc_list_free(&v->mounts);
    sp_proc_list_free(&v->swaps);
    sp_proc_list_free(&v->md);
    sp_proc_list_free(&v->ipv4);
    sp_proc_list_free(&v->ipv6);
}

const struct sp_proc_item *sp_proc_list_find(const struct sp_proc_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].name, name) == 0)
            return &l->items[i];
    return NULL;
}

static int list_add(struct sp_proc_list *l, const char *name, const char *detail)
{
    if (name[0] == '\0')
        return 0;
    struct sp_proc_item *grown = realloc(l->items, (l->n + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    l->items = grown;
    struct sp_proc_item *it = &l->items[l->n];
    it->name = strdup(name);
    it->detail = strdup(detail);
    if (!it->name || !it->detail) {
        free(it->name);
        free(it->detail);
        return -1;
    }
    l->n++;
    return 0;
}

/* Interfaces are listed once however many routes or addresses they have. */
static int list_add_once(struct sp_proc_list *l, const char *name)
{
    return sp_proc_list_find(l, name) ? 0 : list_add(l, name, "");
}

/* Copies the line at *p into buf (NUL-terminated, newline dropped) and
 * moves *p past it. Returns 0 at the end, -1 for a line too long (skipped),
 * 1 for a line. */
static int next_line(const char **p, char *buf, size_t size)
{
    if (**p == '\0')
        return 0;
    size_t len = strcspn(*p, "\n");
    const char *start = *p;
    *p += len + (start[len] == '\n');
    if (len >= size)
        return -1;
    memcpy(buf, start, len);
    buf[len] = '\0';
    return 1;
}

/* Splits line in place on blanks; returns the number of fields. */
static int split_fields(char *line, char **f, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, " \t\r", &save); tok && n < max;
         tok = strtok_r(NULL, " \t\r", &save))
        f[n++] = tok;
    return n;
}

/* The kernel writes blanks, newlines and backslashes in paths as \ooo. */
static void unescape_octal(char *s)
{
    char *out = s;
    for (const char *in = s; *in; out++) {
        if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' &&
            in[3] >= '0' && in[3] <= '7') {
            *out = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
            in += 4;
        } else {
            *out = *in++;
        }
    }
    *out = '\0';
}

/* The device after "/dev/", or NULL for a source that is no device node. */
static const char *dev_name(char *source)
{
    unescape_octal(source);
    return strncmp(source, "/dev/", 5) == 0 && source[5] ? source + 5 : NULL;
}

/* One line's fields (at least one); adds what it finds to out. -1: no memory. */
typedef int (*line_fn)(char **f, int n, const char *arg, struct sp_proc_list *out);

/* fn on the fields of each line of text; a line too long is skipped. */
static int each_line(const char *text, line_fn fn, const char *arg, struct sp_proc_list *out)
{
    char line[LINE_MAX_LEN], *f[MAX_FIELDS];
    int got;
    for (const char *p = text; (got = next_line(&p, line, sizeof(line))) != 0;) {
        int n = got < 0 ? 0 : split_fields(line, f, MAX_FIELDS);
        if (n > 0 && fn(f, n, arg, out) < 0)
            return -1;
    }
    return 0;
}

/* "/dev/md0 / ext4 rw 0 0"; arg: the device /dev/root stands for, or NULL. */
static int mount_line(char **f, int n, const char *root_dev, struct sp_proc_list *out)
{
    const char *dev = n >= 2 ? dev_name(f[0]) : NULL;
    if (!dev)
        return 0;
    if (strcmp(dev, "root") == 0 && root_dev && root_dev[0])
        dev = root_dev;
    unescape_octal(f[1]);
    return list_add(out, dev, f[1]);
}

/* "/dev/md1 partition 2097084 0 -2" (a swap file is no device). */
static int swap_line(char **f, int n, const char *arg, struct sp_proc_list *out)
{
    (void)n, (void)arg;
    const char *dev = dev_name(f[0]);
    return dev ? list_add(out, dev, "") : 0;
}

/* "md2 : active raid1 sda5[0] sdb5[1]" (a "(read-only)" may follow active). */
static int mdstat_line(char **f, int n, const char *arg, struct sp_proc_list *out)
{
    (void)arg;
    if (n < 3 || strncmp(f[0], "md", 2) != 0 || strcmp(f[1], ":") != 0 ||
        strcmp(f[2], "active") != 0)
        return 0;
    int i = 3;
    while (i < n && f[i][0] == '(')
        i++;
    return list_add(out, f[0], i < n && !strchr(f[i], '[') ? f[i] : "");
}

/* Destination is the address as the kernel holds it (network order),
 * printed as a host integer: its bytes in memory are the address's. */
static int link_local_v4(const char *hex)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(hex, &end, 16);
    if (errno || end == hex || *end || strlen(hex) != 8)
        return -1;
    uint32_t dest = (uint32_t)v;
    unsigned char b[4];
    memcpy(b, &dest, sizeof(b));
    return b[0] == 169 && b[1] == 254;
}

/* "eth0 0001A8C0 00000000 0001 0 0 0 00FFFFFF 0 0 0" */
static int route_line(char **f, int n, const char *arg, struct sp_proc_list *out)
{
    (void)arg;
    if (n < 8 || strcmp(f[0], "Iface") == 0 || link_local_v4(f[1]) != 0)
        return 0;
    return list_add_once(out, f[0]);
}

static int hex_address(const char *s)
{
    if (strlen(s) != 32)
        return 0;
    for (const char *c = s; *c; c++)
        if (!isxdigit((unsigned char)*c))
            return 0;
    return 1;
}

/* fe80::/10: "fe8", "fe9", "fea" or "feb" first. */
static int link_local_v6(const char *s)
{
    return tolower((unsigned char)s[0]) == 'f' && tolower((unsigned char)s[1]) == 'e' &&
           strchr("89abAB", s[2]) != NULL;
}

/* "20010db8000000000000000000000001 02 40 00 80 eth0" */
static int inet6_line(char **f, int n, const char *arg, struct sp_proc_list *out)
{
    (void)arg;
    if (n < 6 || !hex_address(f[0]) || link_local_v6(f[0]))
        return 0;
    return list_add_once(out, f[5]);
}

int sp_proc_parse_mounts(const char *text, const char *root_dev, struct sp_proc_list *out)
{
    return each_line(text, mount_line, root_dev, out);
}

int sp_proc_parse_swaps(const char *text, struct sp_proc_list *out)
{
    return each_line(text, swap_line, NULL, out);
}

int sp_proc_parse_mdstat(const char *text, struct sp_proc_list *out)
{
    return each_line(text, mdstat_line, NULL, out);
}

int sp_proc_parse_route(const char *text, struct sp_proc_list *out)
{
    return each_line(text, route_line, NULL, out);
}

int sp_proc_parse_inet6(const char *text, struct sp_proc_list *out)
{
    return each_line(text, inet6_line, NULL, out);
}

void sp_proc_cmdline_root(const char *text, char *out, size_t size)
{
    out[0] = '\0';
    for (const char *p = text; *p;) {
        p += strspn(p, " \t\n");
        size_t len = strcspn(p, " \t\n");
        if (len > 10 && strncmp(p, "root=/dev/", 10) == 0)
            snprintf(out, size, "%.*s", (int)(len - 10), p + 10);
        p += len;
    }
}

/* PROC/name into *text; a missing optional file gives NULL. */
static int read_proc(const char *proc_root, const char *name, int optional, char **text,
                     struct sp_err *err)
{
    char path[SP_PATH_MAX];
    struct stat st;
    *text = NULL;
    if (sp_path_fmt(path, sizeof(path), "%s/%s", proc_root, name) < 0)
        return sp_err_set(err, "%s/%s: %s", proc_root, name, strerror(errno));
    if (optional && stat(path, &st) < 0 && errno == ENOENT)
        return 0;
    return sp_read_file(path, SP_PROC_FILE_MAX, text, NULL, err);
}

typedef int (*parse_fn)(const char *text, struct sp_proc_list *out);

static int load_one(const char *proc_root, const char *name, int optional, parse_fn parse,
                    struct sp_proc_list *out, struct sp_err *err)
{
    char *text = NULL;
    if (read_proc(proc_root, name, optional, &text, err) < 0)
        return -1;
    int rc = text && parse(text, out) < 0 ? sp_err_set(err, "%s/%s: out of memory", proc_root,
                                                       name) : 0;
    free(text);
    return rc;
}

static int load_mounts(const char *proc_root, struct sp_proc_view *v, struct sp_err *err)
{
    char *cmdline = NULL, *mounts = NULL, root_dev[256] = "";
    if (read_proc(proc_root, "cmdline", 1, &cmdline, err) < 0)
        return -1;
    if (cmdline)
        sp_proc_cmdline_root(cmdline, root_dev, sizeof(root_dev));
    free(cmdline);
    if (read_proc(proc_root, "mounts", 0, &mounts, err) < 0)
        return -1;
    int rc = sp_proc_parse_mounts(mounts, root_dev, &v->mounts) < 0
                 ? sp_err_set(err, "%s/mounts: out of memory", proc_root) : 0;
    free(mounts);
    return rc;
}

int sp_proc_view_load(const char *proc_root, struct sp_proc_view *v, struct sp_err *err)
{
    memset(v, 0, sizeof(*v));
    if (load_mounts(proc_root, v, err) < 0 ||
        load_one(proc_root, "swaps", 1, sp_proc_parse_swaps, &v->swaps, err) < 0 ||
        load_one(proc_root, "mdstat", 1, sp_proc_parse_mdstat, &v->md, err) < 0 ||
        load_one(proc_root, "net/route", 0, sp_proc_parse_route, &v->ipv4, err) < 0 ||
        load_one(proc_root, "net/if_inet6", 1, sp_proc_parse_inet6, &v->ipv6, err) < 0) {
        sp_proc_view_free(v);
        return -1;
    }
    return 0;
}

/* LVM's mapper name for VG/LV: each '-' doubled, the two joined by '-'. */
static int lvm_name_is(const char *vg_lv, const char *dm_name)
{
    const char *slash = strchr(vg_lv, '/');
    if (!slash || slash == vg_lv || !slash[1] || strchr(slash + 1, '/'))
        return 0;
    const char *d = dm_name;
    for (const char *c = vg_lv; *c; c++) {
        if (c == slash) {
            if (*d++ != '-')
                return 0;
            continue;
        }
        if (*d++ != *c || (*c == '-' && *d++ != '-'))
            return 0;
    }
    return *d == '\0';
}

int sp_proc_dev_is(const char *dev, const char *kname, const char *dm_name)
{
    if (strcmp(dev, kname) == 0)
        return 1;
    if (!dm_name || !dm_name[0])
        return 0;
    if (strncmp(dev, "mapper/", 7) == 0)
        return strcmp(dev + 7, dm_name) == 0;
    return lvm_name_is(dev, dm_name);
}
