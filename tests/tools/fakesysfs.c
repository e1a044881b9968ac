#include "fakesysfs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct host {
    const char *root;
    const char *proc; /* NULL: the spec may not have !proc lines */
    int iommu;
    int vfio;
};

/* The parents only when the dir itself cannot be made: one call for most. */
static int mkdir_p(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return 0;
    char parent[4096];
    snprintf(parent, sizeof(parent), "%s", path);
    char *slash = strrchr(parent, '/');
    if (errno != ENOENT || !slash || slash == parent)
        return -1;
    *slash = '\0';
    if (mkdir_p(parent) < 0)
        return -1;
    return (mkdir(path, 0755) < 0 && errno != EEXIST) ? -1 : 0;
}

static int write_text(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int rc = fputs(text, f) < 0 ? -1 : 0;
    return (fclose(f) != 0 || rc < 0) ? -1 : 0;
}

static int link_to(const char *target, const char *link)
{
    return (symlink(target, link) < 0 && errno != EEXIST) ? -1 : 0;
}

static int add_driver(const char *root, const char *driver)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/bus/pci/drivers/%s", root, driver);
    if (mkdir_p(dir) < 0)
        return -1;
    static const char *const files[] = {"bind", "unbind", "new_id", "remove_id"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (write_text(dir, files[i], "") < 0)
            return -1;
    return 0;
}

/* The device's driver link and the driver's link back, as the kernel has them. */
static int attach_driver(const char *root, const char *dev, const char *addr, const char *driver)
{
    char link[4096], target[4096];
    if (add_driver(root, driver) < 0)
        return -1;
    snprintf(link, sizeof(link), "%s/driver", dev);
    snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
    if (link_to(target, link) < 0)
        return -1;
    snprintf(link, sizeof(link), "%s/bus/pci/drivers/%s/%s", root, driver, addr);
    snprintf(target, sizeof(target), "../../../../devices/pci0000:00/%s", addr);
    return link_to(target, link);
}

static int join_group(const char *root, const char *dev, const char *addr, const char *group)
{
    char dir[4096], link[4096], target[4096];
    snprintf(dir, sizeof(dir), "%s/kernel/iommu_groups/%s/devices", root, group);
    if (mkdir_p(dir) < 0)
        return -1;
    snprintf(link, sizeof(link), "%s/%s", dir, addr);
    snprintf(target, sizeof(target), "../../../../devices/pci0000:00/%s", addr);
    if (link_to(target, link) < 0)
        return -1;
    snprintf(link, sizeof(link), "%s/iommu_group", dev);
    snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%s", group);
    return link_to(target, link);
}

/* "VVVV:DDDD" into subsystem_vendor and subsystem_device. */
static int add_subsystem(const char *dev, const char *ids)
{
    char vendor[16], device[16];
    if (sscanf(ids, "%4[0-9a-fA-F]:%4[0-9a-fA-F]", vendor, device) != 2) {
        errno = EINVAL;
        return -1;
    }
    char text[32];
    snprintf(text, sizeof(text), "0x%s\n", vendor);
    if (write_text(dev, "subsystem_vendor", text) < 0)
        return -1;
    snprintf(text, sizeof(text), "0x%s\n", device);
    return write_text(dev, "subsystem_device", text);
}

static int add_device(const struct host *h, char **f, int n)
{
    const char *addr = f[0];
    char dev[4096], link[4096], target[4096], text[64];
    snprintf(dev, sizeof(dev), "%s/devices/pci0000:00/%s", h->root, addr);
    snprintf(link, sizeof(link), "%s/bus/pci/devices", h->root);
    if (mkdir_p(dev) < 0 || mkdir_p(link) < 0)
        return -1;
    snprintf(text, sizeof(text), "0x%s\n", f[1]);
    if (write_text(dev, "vendor", text) < 0)
        return -1;
    snprintf(text, sizeof(text), "0x%s\n", f[2]);
    if (write_text(dev, "device", text) < 0)
        return -1;
    snprintf(text, sizeof(text), "%s\n", n > 3 ? f[3] : "0x000000");
    /* A kernel with some reset method for it, as DSM's (before 5.15) shows one. */
    if (write_text(dev, "class", text) < 0 || write_text(dev, "driver_override", "(null)\n") < 0 ||
        write_text(dev, "reset", "") < 0)
        return -1;
    snprintf(link, sizeof(link), "%s/bus/pci/devices/%s", h->root, addr);
    snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", addr);
    if (link_to(target, link) < 0)
        return -1;
    const char *driver = n > 4 && strcmp(f[4], "-") != 0 ? f[4] : NULL;
    if (write_text(dev, FAKESYSFS_NATIVE, driver ? driver : "") < 0)
        return -1;
    if (driver && attach_driver(h->root, dev, addr, driver) < 0)
        return -1;
    if (n > 6 && add_subsystem(dev, f[6]) < 0)
        return -1;
    if (n > 5 && strcmp(f[5], "-") != 0 && h->iommu)
        return join_group(h->root, dev, addr, f[5]);
    return 0;
}

static int driver_flag(const char *root, const char *driver, const char *flag)
{
    char dir[4096];
    if (add_driver(root, driver) < 0)
        return -1;
    snprintf(dir, sizeof(dir), "%s/bus/pci/drivers/%s", root, driver);
    return write_text(dir, flag, "");
}

/* --- how a device resets: after the devices ------------------------- */

static int device_dir(const char *root, const char *addr, char *out, size_t size)
{
    struct stat st;
    snprintf(out, size, "%s/devices/pci0000:00/%s", root, addr);
    return stat(out, &st) < 0 ? -1 : 0;
}

/* A sysfs ID file ("0x1002\n") as a number. */
static unsigned long read_hex(const char *dir, const char *name)
{
    char path[4096], text[32] = "";
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(text, sizeof(text), f))
            text[0] = '\0';
        fclose(f);
    }
    return strtoul(text, NULL, 16);
}

static void put_le(unsigned char *at, unsigned long v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        at[i] = (unsigned char)(v >> (8 * i));
}

/* The device's config file: these bytes. */
static int write_config(const char *dev, const unsigned char *c, size_t size)
{
    char path[8192];
    snprintf(path, sizeof(path), "%s/config", dev);
    FILE *out = fopen(path, "w");
    if (!out)
        return -1;
    int rc = fwrite(c, 1, size, out) == size ? 0 : -1;
    return (fclose(out) != 0 || rc < 0) ? -1 : 0;
}

/* !pcie ADDR flr|no-flr: a config file with the device's IDs and class, a
 * power management capability at 0x40, then a PCIe one at 0x60 whose DevCap
 * advertises FLR (bit 28) or not. */
static int add_config(const char *root, char **f)
{
    char dev[4096];
    int flr = strcmp(f[2], "flr") == 0;
    if ((!flr && strcmp(f[2], "no-flr") != 0) || device_dir(root, f[1], dev, sizeof(dev)) < 0) {
        errno = EINVAL;
        return -1;
    }
    unsigned char c[256] = {0};
    put_le(c + 0x00, read_hex(dev, "vendor"), 2);
    put_le(c + 0x02, read_hex(dev, "device"), 2);
    put_le(c + 0x06, 0x0010, 2); /* status: capability list */
    put_le(c + 0x08, read_hex(dev, "class") << 8, 4);
    c[0x34] = 0x40;
    c[0x40] = 0x01; /* power management */
    c[0x41] = 0x60;
    c[0x60] = 0x10; /* PCIe, version 2, endpoint */
    put_le(c + 0x62, 0x0002, 2);
    put_le(c + 0x64, flr ? 1ul << 28 : 0, 4);
    return write_config(dev, c, sizeof(c));
}

/* !bridge ADDR SECONDARY: the bridge's config file as a reader who is not
 * root sees it (the 64-byte header): its IDs and class, header type 1, and
 * the buses behind it (primary: its own; secondary and subordinate: hex
 * SECONDARY). */
static int add_bridge_config(const char *root, char **f)
{
    char dev[4096], *end;
    unsigned long secondary = strtoul(f[2], &end, 16);
    if (*end || secondary > 0xff || device_dir(root, f[1], dev, sizeof(dev)) < 0) {
        errno = EINVAL;
        return -1;
    }
    unsigned char c[64] = {0};
    put_le(c + 0x00, read_hex(dev, "vendor"), 2);
    put_le(c + 0x02, read_hex(dev, "device"), 2);
    put_le(c + 0x08, read_hex(dev, "class") << 8, 4);
    /* Capabilities past the 64 bytes: FLR cannot be told, as for such a reader. */
    put_le(c + 0x06, 0x0010, 2);
    c[0x34] = 0x40;
    c[0x0e] = 0x01;
    c[0x18] = (unsigned char)strtoul(f[1] + strlen(f[1]) - 7, NULL, 16);
    c[0x19] = c[0x1a] = (unsigned char)secondary;
    return write_config(dev, c, sizeof(c));
}

/* !reset ADDR METHOD... (a kernel with reset_method; "-": empty), and
 * !no-reset ADDR (no method: neither reset_method nor reset). */
static int set_reset(const char *root, char **f, int n)
{
    char dev[4096], path[8192], methods[512] = "";
    if (device_dir(root, f[1], dev, sizeof(dev)) < 0)
        return -1;
    if (strcmp(f[0], "!no-reset") == 0) {
        snprintf(path, sizeof(path), "%s/reset", dev);
        return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
    }
    size_t used = 0;
    for (int i = 2; i < n && strcmp(f[2], "-") != 0 && used < sizeof(methods); i++)
        used += (size_t)snprintf(methods + used, sizeof(methods) - used, "%s%s",
                                 i > 2 ? " " : "", f[i]);
    snprintf(methods + used, sizeof(methods) - used, "\n");
    return write_text(dev, "reset_method", methods);
}

static int reset_directive(const char *root, char **f, int n)
{
    if (n >= 3 && strcmp(f[0], "!reset") == 0)
        return set_reset(root, f, n);
    if (n == 2 && strcmp(f[0], "!no-reset") == 0)
        return set_reset(root, f, n);
    if (n == 3 && strcmp(f[0], "!pcie") == 0)
        return add_config(root, f);
    if (n == 3 && strcmp(f[0], "!bridge") == 0)
        return add_bridge_config(root, f);
    errno = EINVAL;
    return -1;
}

/* --- what the host itself uses: after the devices, in file order ------ */

/* Where root/rel leads, as a path below root ("devices/..."). */
static int resolve_below(const char *root, const char *rel, char *out, size_t size)
{
    char path[4096], real[PATH_MAX], real_root[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    if (!realpath(root, real_root) || !realpath(path, real))
        return -1;
    size_t len = strlen(real_root);
    if (strncmp(real, real_root, len) != 0 || real[len] != '/') {
        errno = EINVAL;
        return -1;
    }
    snprintf(out, size, "%s", real + len + 1);
    return 0;
}

/* root/link -> root/target, written as a relative link as the kernel does. */
static int link_below(const char *root, const char *link, const char *target)
{
    char rel[4096] = "", path[4096];
    size_t used = 0;
    for (const char *p = strchr(link, '/'); p && used + 3 < sizeof(rel); p = strchr(p + 1, '/'))
        used += (size_t)snprintf(rel + used, sizeof(rel) - used, "../");
    snprintf(rel + used, sizeof(rel) - used, "%s", target);
    snprintf(path, sizeof(path), "%s/%s", root, link);
    return link_to(rel, path);
}

/* A block device's dir with holders/ and slaves/, and its links in
 * class/block (and block/ for a whole disk or a virtual device). */
static int add_block_dir(const char *root, const char *dir, const char *name, int listed)
{
    static const char *const subdirs[] = {"holders", "slaves"};
    char path[4096], link[4096];
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s/%s", root, dir, subdirs[i]);
        if (mkdir_p(path) < 0)
            return -1;
    }
    snprintf(path, sizeof(path), "%s/class/block", root);
    if (mkdir_p(path) < 0)
        return -1;
    snprintf(link, sizeof(link), "class/block/%s", name);
    if (link_below(root, link, dir) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/block", root);
    snprintf(link, sizeof(link), "block/%s", name);
    return listed ? (mkdir_p(path) < 0 ? -1 : link_below(root, link, dir)) : 0;
}

/* !block ADDR DISK [PART...] */
static int add_disk(const char *root, char **f, int n)
{
    char dir[2048], part[4096], path[8192], number[16];
    snprintf(dir, sizeof(dir), "devices/pci0000:00/%s/host-%s/block/%s", f[1], f[2], f[2]);
    if (add_block_dir(root, dir, f[2], 1) < 0)
        return -1;
    for (int i = 3; i < n; i++) {
        snprintf(part, sizeof(part), "%s/%s", dir, f[i]);
        snprintf(path, sizeof(path), "%s/%s", root, part);
        snprintf(number, sizeof(number), "%d\n", i - 2);
        if (add_block_dir(root, part, f[i], 0) < 0 || write_text(path, "partition", number) < 0)
            return -1;
    }
    return 0;
}

/* !holder NAME HOLDER [DM-NAME]: a new HOLDER is a virtual block device. */
static int add_holder(const char *root, char **f, int n)
{
    char rel[4096], lower[4096], upper[4096], link[8192], path[8192];
    snprintf(rel, sizeof(rel), "class/block/%s", f[1]);
    if (resolve_below(root, rel, lower, sizeof(lower)) < 0)
        return -1;
    snprintf(rel, sizeof(rel), "class/block/%s", f[2]);
    if (resolve_below(root, rel, upper, sizeof(upper)) < 0) {
        snprintf(upper, sizeof(upper), "devices/virtual/block/%s", f[2]);
        if (add_block_dir(root, upper, f[2], 1) < 0)
            return -1;
    }
    if (n > 3) {
        snprintf(path, sizeof(path), "%s/%s/dm", root, upper);
        if (mkdir_p(path) < 0 || write_text(path, "name", f[3]) < 0)
            return -1;
    }
    snprintf(link, sizeof(link), "%s/holders/%s", lower, f[2]);
    if (link_below(root, link, upper) < 0)
        return -1;
    snprintf(link, sizeof(link), "%s/slaves/%s", upper, f[1]);
    return link_below(root, link, lower);
}

/* An interface's dir with its operstate, and its class/net link. */
static int add_iface_dir(const char *root, const char *dir, const char *name, const char *state)
{
    char path[4096], link[4096], text[64];
    snprintf(path, sizeof(path), "%s/%s", root, dir);
    snprintf(text, sizeof(text), "%s\n", state);
    if (mkdir_p(path) < 0 || write_text(path, "operstate", text) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/class/net", root);
    snprintf(link, sizeof(link), "class/net/%s", name);
    return mkdir_p(path) < 0 ? -1 : link_below(root, link, dir);
}

/* !net ADDR IFACE STATE (below a PCI device), !iface IFACE STATE (virtual). */
static int add_iface(const char *root, char **f, int n)
{
    char dir[4096];
    if (strcmp(f[0], "!net") == 0)
        snprintf(dir, sizeof(dir), "devices/pci0000:00/%s/net/%s", f[1], f[2]);
    else
        snprintf(dir, sizeof(dir), "devices/virtual/net/%s", f[1]);
    return add_iface_dir(root, dir, n == 4 ? f[2] : f[1], f[n - 1]);
}

/* !master IFACE MASTER (master, upper_ and lower_ links), !upper IFACE UPPER. */
static int add_upper(const char *root, char **f)
{
    char rel[4096], lower[4096], upper[4096], link[8192];
    snprintf(rel, sizeof(rel), "class/net/%s", f[1]);
    if (resolve_below(root, rel, lower, sizeof(lower)) < 0)
        return -1;
    snprintf(rel, sizeof(rel), "class/net/%s", f[2]);
    if (resolve_below(root, rel, upper, sizeof(upper)) < 0)
        return -1;
    snprintf(link, sizeof(link), "%s/upper_%s", lower, f[2]);
    if (link_below(root, link, upper) < 0)
        return -1;
    snprintf(link, sizeof(link), "%s/lower_%s", upper, f[1]);
    if (link_below(root, link, lower) < 0)
        return -1;
    snprintf(link, sizeof(link), "%s/master", lower);
    return strcmp(f[0], "!master") == 0 ? link_below(root, link, upper) : 0;
}

/* !proc FILE [TEXT]: TEXT as one more line of PROC/FILE (made when new). */
static int add_proc_line(const struct host *h, const char *file, const char *text)
{
    char path[4096];
    if (!h->proc || !file[0] || file[0] == '/' || strstr(file, "..")) {
        errno = EINVAL;
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s", h->proc, file);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    if (mkdir_p(path) < 0)
        return -1;
    *slash = '/';
    FILE *fp = fopen(path, "a");
    if (!fp)
        return -1;
    int rc = text[0] && fprintf(fp, "%s\n", text) < 0 ? -1 : 0;
    return (fclose(fp) != 0 || rc < 0) ? -1 : 0;
}

static int use_directive(const struct host *h, char **f, int n)
{
    if (strcmp(f[0], "!reset") == 0 || strcmp(f[0], "!no-reset") == 0 ||
        strcmp(f[0], "!pcie") == 0 || strcmp(f[0], "!bridge") == 0)
        return reset_directive(h->root, f, n);
    if (n >= 3 && strcmp(f[0], "!block") == 0)
        return add_disk(h->root, f, n);
    if ((n == 3 || n == 4) && strcmp(f[0], "!holder") == 0)
        return add_holder(h->root, f, n);
    if ((n == 4 && strcmp(f[0], "!net") == 0) || (n == 3 && strcmp(f[0], "!iface") == 0))
        return add_iface(h->root, f, n);
    if (n == 3 && (strcmp(f[0], "!master") == 0 || strcmp(f[0], "!upper") == 0))
        return add_upper(h->root, f);
    errno = EINVAL;
    return -1;
}

/* Which pass builds a line: 0 layout directives, 1 devices, 2 what hangs
 * below the devices (how they reset, what the host uses). */
static int line_pass(const char *line)
{
    static const char *const uses[] = {"!block", "!holder", "!net",  "!iface",  "!master",
                                       "!upper", "!proc",   "!reset", "!no-reset", "!pcie",
                                       "!bridge"};
    if (line[0] != '!')
        return 1;
    size_t len = strcspn(line, " \t\r\n");
    for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++)
        if (strlen(uses[i]) == len && strncmp(line, uses[i], len) == 0)
            return 2;
    return 0;
}

/* The file every fake /proc has, empty when the spec wrote nothing there. */
static int finish_proc(const struct host *h)
{
    static const char *const files[] = {"mounts", "net/route"};
    for (size_t i = 0; h->proc && i < sizeof(files) / sizeof(files[0]); i++)
        if (add_proc_line(h, files[i], "") < 0)
            return -1;
    return 0;
}

static int directive(struct host *h, char **f, int n)
{
    if (line_pass(f[0]) == 2)
        return use_directive(h, f, n);
    if (strcmp(f[0], "!no-iommu") == 0) {
        h->iommu = 0;
        return 0;
    }
    if (strcmp(f[0], "!no-vfio") == 0) {
        h->vfio = 0;
        return 0;
    }
    if (n == 2 && strcmp(f[0], "!refuse-unbind") == 0)
        return driver_flag(h->root, f[1], ".refuse-unbind");
    if (n == 2 && strcmp(f[0], "!hang-unbind") == 0)
        return driver_flag(h->root, f[1], ".hang-unbind");
    errno = EINVAL;
    return -1;
}

/* "!proc FILE TEXT": FILE and the rest of the line, trailing blanks cut. */
static int proc_line(const struct host *h, char *line)
{
    char *file = line + strspn(line, " \t") + strlen("!proc");
    file += strspn(file, " \t");
    char *text = file + strcspn(file, " \t\r\n");
    if (*text)
        *text++ = '\0';
    text += strspn(text, " \t");
    size_t len = strlen(text);
    while (len > 0 && strchr(" \t\r\n", text[len - 1]))
        text[--len] = '\0';
    return add_proc_line(h, file, text);
}

static int build_line(struct host *h, char *line, int lineno)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *save = NULL;
    char *f[12] = {0};
    int n = 0, rc;
    const char *first = line + strspn(line, " \t");
    if (strncmp(first, "!proc", 5) == 0 && strchr(" \t", first[5])) {
        rc = proc_line(h, line);
        if (rc < 0)
            fprintf(stderr, "fakesysfs: line %d: %s\n", lineno,
                    h->proc ? strerror(errno) : "!proc needs a proc root");
        return rc;
    }
    for (char *tok = strtok_r(line, " \t\r\n", &save); tok && n < 12;
         tok = strtok_r(NULL, " \t\r\n", &save))
        f[n++] = tok;
    if (n == 0)
        return 0;
    if (f[0][0] == '!')
        rc = directive(h, f, n);
    else if (n < 3) {
        errno = EINVAL;
        rc = -1;
    } else
        rc = add_device(h, f, n);
    if (rc < 0)
        fprintf(stderr, "fakesysfs: line %d: %s\n", lineno, strerror(errno));
    return rc;
}

static int build_skeleton(const struct host *h)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/bus/pci", h->root);
    if (mkdir_p(path) < 0 || write_text(path, "drivers_probe", "") < 0 ||
        write_text(h->root, FAKESYSFS_MARKER, "kernel model root\n") < 0)
        return -1;
    if (h->vfio && add_driver(h->root, "vfio-pci") < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/kernel/iommu_groups", h->root);
    return h->iommu ? mkdir_p(path) : 0;
}

int fakesysfs_build_host(const char *root, const char *proc_root, const char *spec_text)
{
    if (mkdir_p(root) < 0 || (proc_root && mkdir_p(proc_root) < 0))
        return -1;
    struct host h = {.root = root, .proc = proc_root, .iommu = 1, .vfio = 1};
    /* Directives first: they shape how devices are laid out; what the host
     * uses last: it hangs below the devices. */
    char *save = NULL;
    int rc = 0, lineno = 0;
    for (int pass = 0; pass < 3 && rc == 0; pass++) {
        char *text = strdup(spec_text);
        lineno = 0;
        for (char *line = strtok_r(text, "\n", &save); line && rc == 0;
             line = strtok_r(NULL, "\n", &save)) {
            lineno++;
            if (line_pass(line + strspn(line, " \t")) == pass)
                rc = build_line(&h, line, lineno);
        }
        free(text);
        if (pass == 0 && rc == 0)
            rc = build_skeleton(&h);
    }
    return rc == 0 ? finish_proc(&h) : rc;
}

int fakesysfs_build(const char *root, const char *spec_text)
{
    return fakesysfs_build_host(root, NULL, spec_text);
}

int fakesysfs_build_host_from_file(const char *root, const char *proc_root,
                                   const char *spec_path)
{
    FILE *f = fopen(spec_path, "r");
    if (!f) {
        fprintf(stderr, "fakesysfs: %s: %s\n", spec_path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&text, &cap, '\0', f);
    fclose(f);
    int rc = n < 0 ? -1 : fakesysfs_build_host(root, proc_root, text);
    free(text);
    return rc;
}

int fakesysfs_build_from_file(const char *root, const char *spec_path)
{
    return fakesysfs_build_host_from_file(root, NULL, spec_path);
}
