#include "pci.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/fsutil.h"

static int parse_hex_field(const char *s, size_t len, unsigned max, unsigned *out)
{
    if (len == 0 || len > 4)
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return -1;
        v = v * 16 + (unsigned)(isdigit((unsigned char)s[i]) ? s[i] - '0'
                                : tolower((unsigned char)s[i]) - 'a' + 10);
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

int sp_pci_addr_parse(const char *text, struct sp_pci_addr *out, struct sp_err *err)
{
    /* Split on ':' and '.' from the right: [DDDD:]BB:SS.F */
    const char *dot = strrchr(text, '.');
    const char *colon2 = strrchr(text, ':');
    if (!dot || !colon2 || colon2 > dot)
        return sp_err_set(err, "invalid PCI address '%s' (expected BB:SS.F or DDDD:BB:SS.F)", text);
    const char *colon1 = NULL;
    for (const char *p = text; p < colon2; p++)
        if (*p == ':')
            colon1 = p;

    struct sp_pci_addr a = {0};
    const char *bus_start = colon1 ? colon1 + 1 : text;
    int bad = 0;
    if (colon1)
        bad |= parse_hex_field(text, (size_t)(colon1 - text), 0xffff, &a.domain);
    bad |= parse_hex_field(bus_start, (size_t)(colon2 - bus_start), 0xff, &a.bus);
    bad |= parse_hex_field(colon2 + 1, (size_t)(dot - colon2 - 1), 0x1f, &a.slot);
    bad |= parse_hex_field(dot + 1, strlen(dot + 1), 7, &a.function);
    if (bad)
        return sp_err_set(err, "invalid PCI address '%s' (expected BB:SS.F or DDDD:BB:SS.F, "
                          "slot <= 1f, function <= 7)", text);
    *out = a;
    return 0;
}

size_t sp_pci_hex(char *out, unsigned v, unsigned min)
{
    static const char digits[] = "0123456789abcdef";
    unsigned n = 1;
    while (n < 8 && v >> (4 * n))
        n++;
    if (n < min)
        n = min;
    for (unsigned i = n; i-- > 0; v >>= 4)
        out[i] = digits[v & 0xf];
    return n;
}

void sp_pci_addr_format(const struct sp_pci_addr *addr, char out[SP_PCI_ADDR_STRLEN])
{
    char *p = out;
    p += sp_pci_hex(p, addr->domain & 0xffff, 4);
    *p++ = ':';
    p += sp_pci_hex(p, addr->bus & 0xff, 2);
    *p++ = ':';
    p += sp_pci_hex(p, addr->slot & 0x1f, 2);
    *p++ = '.';
    p += sp_pci_hex(p, addr->function & 7, 1);
    *p = '\0';
}

int sp_pci_addr_cmp(const struct sp_pci_addr *a, const struct sp_pci_addr *b)
{
    if (a->domain != b->domain)
        return a->domain < b->domain ? -1 : 1;
    if (a->bus != b->bus)
        return a->bus < b->bus ? -1 : 1;
    if (a->slot != b->slot)
        return a->slot < b->slot ? -1 : 1;
    if (a->function != b->function)
        return a->function < b->function ? -1 : 1;
    return 0;
}

int sp_pci_same_slot(const struct sp_pci_addr *a, const struct sp_pci_addr *b)
{
    return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot;
}

int sp_pci_id_parse(const char *text, uint16_t *out)
{
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        text += 2;
    unsigned v;
    if (strlen(text) != 4 || parse_hex_field(text, 4, 0xffff, &v) < 0)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

/* Reads one sysfs attribute such as "0x1002\n" as a 16-bit ID. */
static int read_id_file(const char *root, const struct sp_pci_addr *addr, const char *name,
                        uint16_t *out, struct sp_err *err)
{
    char path[SP_PATH_MAX];
    if (sp_pci_device_path(root, addr, name, path, sizeof(path), err) < 0)
        return -1;
    char *text = NULL;
    size_t len = 0;
    int rc = sp_read_file(path, 64, &text, &len, err);
    if (rc == 0) {
        while (len > 0 && isspace((unsigned char)text[len - 1]))
            text[--len] = '\0';
        if (sp_pci_id_parse(text, out) < 0)
            rc = sp_err_set(err, "%s: unexpected content '%s'", path, text);
    }
    free(text);
    return rc;
}

int sp_pci_device_path(const char *root, const struct sp_pci_addr *addr, const char *file,
                       char *out, size_t size, struct sp_err *err)
{
    char name[SP_PCI_ADDR_STRLEN];
    sp_pci_addr_format(addr, name);
    /* Joined by hand: a start builds a dozen of these. */
    const char *parts[] = {root, "/bus/pci/devices/", name, file ? "/" : "", file ? file : ""};
    size_t used = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        size_t n = strlen(parts[i]);
        if (n >= size - used) {
            if (size)
                out[0] = '\0';
            return sp_err_set(err, "device %s: its path is too long (under %s)", name, root);
        }
        memcpy(out + used, parts[i], n);
        used += n;
    }
    out[used] = '\0';
    return 0;
}

/* 1 (with err saying so) when addr's directory cannot be looked at. */
static int device_dir_missing(const char *root, const struct sp_pci_addr *addr,
                              struct sp_err *err)
{
    char name[SP_PCI_ADDR_STRLEN], dir[SP_PATH_MAX];
    sp_pci_addr_format(addr, name);
    if (sp_pci_device_path(root, addr, NULL, dir, sizeof(dir), err) < 0)
        return 1;
    struct stat st;
    if (stat(dir, &st) == 0)
        return 0;
    if (errno == ENOENT)
        sp_err_set(err, "device %s not found under %s/bus/pci/devices", name, root);
    else
        sp_err_set(err, "device %s: %s: %s", name, dir, strerror(errno));
    return 1;
}

int sp_pci_read_ids(const char *root, const struct sp_pci_addr *addr,
                    struct sp_pci_ids *ids, struct sp_err *err)
{
    /* The device's own directory is looked at only when its vendor cannot
     * be read, to say why: a start reads the IDs of every device it gives. */
    if (read_id_file(root, addr, "vendor", &ids->vendor, err) < 0) {
        struct sp_err dir_err;
        if (device_dir_missing(root, addr, &dir_err) && err)
            *err = dir_err;
        return -1;
    }
    return read_id_file(root, addr, "device", &ids->device, err);
}

int sp_pci_read_subsystem_ids(const char *root, const struct sp_pci_addr *addr,
                              struct sp_pci_ids *ids, struct sp_err *err)
{
    int rc = read_id_file(root, addr, "subsystem_vendor", &ids->vendor, err);
    if (rc == 0)
        rc = read_id_file(root, addr, "subsystem_device", &ids->device, err);
    return rc;
}

int sp_pci_read_class(const char *root, const struct sp_pci_addr *addr, uint32_t *class_code,
                      struct sp_err *err)
{
    char path[SP_PATH_MAX], *text = NULL, *end = NULL;
    if (sp_pci_device_path(root, addr, "class", path, sizeof(path), err) < 0 ||
        sp_read_file(path, 64, &text, NULL, err) < 0)
        return -1;
    errno = 0;
    unsigned long v = strtoul(text, &end, 16);
    while (isspace((unsigned char)*end))
        end++;
    int rc = 0;
    if (errno || end == text || *end || v > 0xffffff)
        rc = sp_err_set(err, "%s: unexpected content '%s'", path, text);
    else
        *class_code = (uint32_t)v;
    free(text);
    return rc;
}

int sp_pci_iommu_group(const char *root, const struct sp_pci_addr *addr)
{
    char link[SP_PATH_MAX], target[SP_PATH_MAX];
    if (sp_pci_device_path(root, addr, "iommu_group", link, sizeof(link), NULL) < 0)
        return -1;
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n <= 0)
        return -1;
    target[n] = '\0';
    const char *base = strrchr(target, '/');
    base = base ? base + 1 : target;
    char *end;
    long group = strtol(base, &end, 10);
    return *end == '\0' && end != base && group >= 0 && group < 1 << 20 ? (int)group : -1;
}

static int addr_qsort_cmp(const void *a, const void *b)
{
    return sp_pci_addr_cmp(a, b);
}

int sp_pci_addr_list_add(struct sp_pci_addr **list, size_t *n, const struct sp_pci_addr *addr,
                         struct sp_err *err)
{
    struct sp_pci_addr *grown = realloc(*list, (*n + 1) * sizeof(*grown));
    if (!grown)
        return sp_err_set(err, "out of memory");
    *list = grown;
    (*list)[(*n)++] = *addr;
    return 0;
}

void sp_pci_addr_list_sort(struct sp_pci_addr *list, size_t n)
{
    if (n > 1)
        qsort(list, n, sizeof(*list), addr_qsort_cmp);
}

static int append_addr(struct sp_pci_addr **list, size_t *count, size_t *cap,
                       const struct sp_pci_addr *addr)
{
    if (*count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        struct sp_pci_addr *n = realloc(*list, ncap * sizeof(*n));
        if (!n)
            return -1;
        *list = n;
        *cap = ncap;
    }
    (*list)[(*count)++] = *addr;
    return 0;
}

/* Every device under root for which keep() says yes, sorted. */
static int scan_devices(const char *root, int (*keep)(const char *root, const struct sp_pci_addr *a,
                                                       const void *arg),
                        const void *arg, struct sp_pci_addr **out, size_t *count,
                        struct sp_err *err)
{
    *out = NULL;
    *count = 0;
    char devices[SP_PATH_MAX];
    if (sp_path_fmt(devices, sizeof(devices), "%s/bus/pci/devices", root) < 0)
        return sp_err_set(err, "%s/bus/pci/devices: %s", root, strerror(errno));
    DIR *d = opendir(devices);
    if (!d)
        return sp_err_set(err, "%s: %s", devices, strerror(errno));
    size_t cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct sp_pci_addr addr;
        if (de->d_name[0] == '.' || sp_pci_addr_parse(de->d_name, &addr, NULL) < 0)
            continue;
        if (!keep(root, &addr, arg))
            continue;
        if (append_addr(out, count, &cap, &addr) < 0) {
            rc = sp_err_set(err, "out of memory");
            break;
        }
    }
    closedir(d);
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *count = 0;
        return rc;
    }
    if (*count > 1)
        qsort(*out, *count, sizeof(**out), addr_qsort_cmp);
    return 0;
}

static int has_ids(const char *root, const struct sp_pci_addr *addr, const void *arg)
{
    const struct sp_pci_ids *ids = arg;
    struct sp_pci_ids found;
    struct sp_err ignored;
    /* A device that vanishes or has unreadable IDs cannot match. */
    return sp_pci_read_ids(root, addr, &found, &ignored) == 0 && found.vendor == ids->vendor &&
           found.device == ids->device;
}

int sp_pci_find_by_ids(const char *root, const struct sp_pci_ids *ids,
                       struct sp_pci_addr **out, size_t *count, struct sp_err *err)
{
    return scan_devices(root, has_ids, ids, out, count, err);
}

static int in_slot(const char *root, const struct sp_pci_addr *addr, const void *arg)
{
    (void)root;
    return sp_pci_same_slot(addr, arg);
}

int sp_pci_slot_functions(const char *root, const struct sp_pci_addr *addr,
                          struct sp_pci_addr **out, size_t *count, struct sp_err *err)
{
    return scan_devices(root, in_slot, addr, out, count, err);
}

static int on_bus(const char *root, const struct sp_pci_addr *addr, const void *arg)
{
    const struct sp_pci_addr *other = arg;
    (void)root;
    return addr->domain == other->domain && addr->bus == other->bus;
}

int sp_pci_bus_devices(const char *root, const struct sp_pci_addr *addr,
                       struct sp_pci_addr **out, size_t *count, struct sp_err *err)
{
    return scan_devices(root, on_bus, addr, out, count, err);
}

static int any_device(const char *root, const struct sp_pci_addr *addr, const void *arg)
{
    (void)root;
    (void)addr;
    (void)arg;
    return 1;
}

int sp_pci_all_devices(const char *root, struct sp_pci_addr **out, size_t *count,
                       struct sp_err *err)
{
    return scan_devices(root, any_device, NULL, out, count, err);
}

static const char *choose_root(enum sp_test_env hook, const char *configured,
                               const char *fallback)
{
    const char *env = sp_test_env(hook);
    if (env && *env)
        return env;
    if (configured && *configured)
        return configured;
    return fallback;
}

const char *sp_pci_sysfs_root(const char *configured)
{
    return choose_root(SP_TEST_ENV_SYSFS_ROOT, configured, SP_DEFAULT_SYSFS_ROOT);
}

const char *sp_pci_proc_root(const char *configured)
{
    return choose_root(SP_TEST_ENV_PROC_ROOT, configured, SP_DEFAULT_PROC_ROOT);
}
