#include "sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/fsutil.h"

int sp_sysfs_read_line(const char *path, char *out, size_t size, struct sp_err *err)
{
    char *text = NULL;
    size_t len = 0;
    if (sp_read_file(path, 4096, &text, &len, err) < 0)
        return -1;
    text[strcspn(text, "\n")] = '\0';
    snprintf(out, size, "%s", text);
    free(text);
    return 0;
}

int sp_sysfs_link_name(const char *link, char *out, size_t size, struct sp_err *err)
{
    char target[4096];
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    out[0] = '\0';
    if (n < 0 && errno == ENOENT)
        return 0;
    if (n < 0)
        return sp_err_set(err, "%s: %s", link, strerror(errno));
    target[n] = '\0';
    const char *base = strrchr(target, '/');
    snprintf(out, size, "%s", base ? base + 1 : target);
    return 0;
}

int sp_sysfs_driver(const char *root, const struct sp_pci_addr *addr, char *out, size_t size,
                    struct sp_err *err)
{
    char link[SP_PATH_MAX];
    if (sp_pci_device_path(root, addr, "driver", link, sizeof(link), err) < 0)
        return -1;
    return sp_sysfs_link_name(link, out, size, err);
}

int sp_sysfs_device_info(const char *root, const struct sp_pci_addr *addr,
                         struct sp_pci_info *info, struct sp_err *err)
{
    memset(info, 0, sizeof(*info));
    info->addr = *addr;
    info->group = -1;
    struct sp_pci_ids ids;
    if (sp_pci_read_ids(root, addr, &ids, err) < 0)
        return -1;
    info->vendor = ids.vendor;
    info->device = ids.device;
    if (sp_pci_read_class(root, addr, &info->class_code, err) < 0 ||
        sp_sysfs_driver(root, addr, info->driver, sizeof(info->driver), err) < 0)
        return -1;
    info->group = sp_pci_iommu_group(root, addr);
    return 0;
}

int sp_sysfs_driver_override(const char *root, const struct sp_pci_addr *addr, char *out,
                             size_t size, struct sp_err *err)
{
    char path[SP_PATH_MAX];
    if (sp_pci_device_path(root, addr, "driver_override", path, sizeof(path), err) < 0 ||
        sp_sysfs_read_line(path, out, size, err) < 0)
        return -1;
    if (strcmp(out, "(null)") == 0)
        out[0] = '\0';
    return 0;
}

/* One write(2) of the whole value, as the kernel's sysfs store expects. */
static int write_attr(const char *path, const char *value, const struct sp_pci_addr *addr,
                      struct sp_err *err)
{
    char name[SP_PCI_ADDR_STRLEN];
    sp_pci_addr_format(addr, name);
    /* Every sysfs attribute is a regular file. Anything else is refused by
     * its type before it is opened (a FIFO would hold a blocking open until
     * a reader came; opening a device can act), and again on the fd. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return sp_err_set(err, "device %s: %s: is %s, not a regular file", name, path,
                          sp_file_type_name(st.st_mode));
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return sp_err_set(err, "device %s: open %s: %s", name, path, strerror(errno));
    if (fstat(fd, &st) < 0) {
        int saved = errno;
        close(fd);
        return sp_err_set(err, "device %s: %s: %s", name, path, strerror(saved));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return sp_err_set(err, "device %s: %s: is %s, not a regular file", name, path,
                          sp_file_type_name(st.st_mode));
    }
    size_t len = strlen(value);
    ssize_t n = write(fd, value, len);
    int saved = errno;
    close(fd);
    if (n < 0)
        return sp_err_set(err, "device %s: write '%s' to %s: %s", name, value, path,
                          strerror(saved));
    if ((size_t)n != len)
        return sp_err_set(err, "device %s: short write to %s", name, path);
    return 0;
}

int sp_sysfs_set_driver_override(const char *root, const struct sp_pci_addr *addr,
                                 const char *driver, struct sp_err *err)
{
    char path[SP_PATH_MAX];
    if (sp_pci_device_path(root, addr, "driver_override", path, sizeof(path), err) < 0)
        return -1;
    /* A lone newline clears the override. */
    return write_attr(path, driver && driver[0] ? driver : "\n", addr, err);
}

int sp_sysfs_unbind(const char *root, const struct sp_pci_addr *addr, const char *driver,
                    struct sp_err *err)
{
    char path[SP_PATH_MAX], name[SP_PCI_ADDR_STRLEN];
    sp_pci_addr_format(addr, name);
    if (sp_path_fmt(path, sizeof(path), "%s/bus/pci/drivers/%s/unbind", root, driver) < 0)
        return sp_err_set(err, "device %s: the path of driver %s is too long", name, driver);
    return write_attr(path, name, addr, err);
}

int sp_sysfs_drivers_probe(const char *root, const struct sp_pci_addr *addr, struct sp_err *err)
{
    char path[SP_PATH_MAX], name[SP_PCI_ADDR_STRLEN];
    sp_pci_addr_format(addr, name);
    if (sp_path_fmt(path, sizeof(path), "%s/bus/pci/drivers_probe", root) < 0)
        return sp_err_set(err, "device %s: its path is too long (under %s)", name, root);
    return write_attr(path, name, addr, err);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int sp_sysfs_groups(const char *root, int **out, size_t *n, struct sp_err *err)
{
    char path[SP_PATH_MAX];
    *out = NULL;
    *n = 0;
    if (sp_path_fmt(path, sizeof(path), "%s/kernel/iommu_groups", root) < 0)
        return sp_err_set(err, "%s/kernel/iommu_groups: %s", root, strerror(errno));
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? 0 : sp_err_set(err, "%s: %s", path, strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        int *grown = realloc(*out, (*n + 1) * sizeof(int));
        if (!grown) {
            closedir(d);
            return sp_err_set(err, "out of memory");
        }
        *out = grown;
        (*out)[(*n)++] = atoi(de->d_name);
    }
    closedir(d);
    qsort(*out, *n, sizeof(int), cmp_int);
    return 0;
}

int sp_sysfs_iommu_enabled(const char *root)
{
    int *groups = NULL;
    size_t n = 0;
    int rc = sp_sysfs_groups(root, &groups, &n, NULL);
    free(groups);
    return rc == 0 && n > 0;
}

int sp_sysfs_driver_available(const char *root, const char *driver)
{
    char path[SP_PATH_MAX];
    struct stat st;
    return sp_path_fmt(path, sizeof(path), "%s/bus/pci/drivers/%s", root, driver) == 0 &&
           stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int sp_sysfs_group_members(const char *root, int group, struct sp_pci_addr **out, size_t *n,
                           struct sp_err *err)
{
    char path[SP_PATH_MAX];
    *out = NULL;
    *n = 0;
    if (sp_path_fmt(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices", root, group) < 0)
        return sp_err_set(err, "IOMMU group %d: its path is too long (under %s)", group, root);
    DIR *d = opendir(path);
    if (!d)
        return sp_err_set(err, "IOMMU group %d: %s: %s", group, path, strerror(errno));
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL && rc == 0) {
        struct sp_pci_addr a;
        if (de->d_name[0] == '.' || sp_pci_addr_parse(de->d_name, &a, NULL) < 0)
            continue;
        rc = sp_pci_addr_list_add(out, n, &a, err);
    }
    closedir(d);
    sp_pci_addr_list_sort(*out, *n);
    return rc;
}
