#include "fakesysfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct host {
    const char *root;
    int iommu;
    int vfio;
};

static int mkdir_p(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return (mkdir(buf, 0755) < 0 && errno != EEXIST) ? -1 : 0;
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
    if (write_text(dev, "class", text) < 0 || write_text(dev, "driver_override", "(null)\n") < 0)
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

static int directive(struct host *h, char **f, int n)
{
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

static int build_line(struct host *h, char *line, int lineno)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *save = NULL;
    char *f[7] = {0};
    int n = 0;
    for (char *tok = strtok_r(line, " \t\r\n", &save); tok && n < 7;
         tok = strtok_r(NULL, " \t\r\n", &save))
        f[n++] = tok;
    if (n == 0)
        return 0;
    int rc;
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

int fakesysfs_build(const char *root, const char *spec_text)
{
    if (mkdir_p(root) < 0)
        return -1;
    struct host h = {.root = root, .iommu = 1, .vfio = 1};
    /* Directives first: they shape how devices are laid out. */
    char *save = NULL;
    int rc = 0, lineno = 0;
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        char *text = strdup(spec_text);
        lineno = 0;
        for (char *line = strtok_r(text, "\n", &save); line && rc == 0;
             line = strtok_r(NULL, "\n", &save)) {
            lineno++;
            const char *first = line + strspn(line, " \t");
            if ((pass == 0) == (first[0] == '!'))
                rc = build_line(&h, line, lineno);
        }
        free(text);
        if (pass == 0 && rc == 0)
            rc = build_skeleton(&h);
    }
    return rc;
}

int fakesysfs_build_from_file(const char *root, const char *spec_path)
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
    int rc = n < 0 ? -1 : fakesysfs_build(root, text);
    free(text);
    return rc;
}
