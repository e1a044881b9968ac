#include "fakesysfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    int rc = fprintf(f, "%s\n", text) < 0 ? -1 : 0;
    return (fclose(f) != 0 || rc < 0) ? -1 : 0;
}

static int add_device(const char *root, const char *addr, const char *vendor, const char *device,
                      const char *class_code, const char *driver)
{
    char dev[4096], link[4096], target[4096], text[64];
    snprintf(dev, sizeof(dev), "%s/devices/pci0000:00/%s", root, addr);
    snprintf(link, sizeof(link), "%s/bus/pci/devices", root);
    if (mkdir_p(dev) < 0 || mkdir_p(link) < 0)
        return -1;
    snprintf(text, sizeof(text), "0x%s", vendor);
    if (write_text(dev, "vendor", text) < 0)
        return -1;
    snprintf(text, sizeof(text), "0x%s", device);
    if (write_text(dev, "device", text) < 0)
        return -1;
    if (write_text(dev, "class", class_code ? class_code : "0x000000") < 0)
        return -1;
    snprintf(link, sizeof(link), "%s/bus/pci/devices/%s", root, addr);
    snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", addr);
    if (symlink(target, link) < 0 && errno != EEXIST)
        return -1;
    if (!driver)
        return 0;
    snprintf(target, sizeof(target), "%s/bus/pci/drivers/%s", root, driver);
    if (mkdir_p(target) < 0)
        return -1;
    snprintf(link, sizeof(link), "%s/driver", dev);
    snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
    return (symlink(target, link) < 0 && errno != EEXIST) ? -1 : 0;
}

static int build_line(const char *root, char *line, int lineno)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *save = NULL;
    char *f[5] = {0};
    int n = 0;
    for (char *tok = strtok_r(line, " \t\r\n", &save); tok && n < 5;
         tok = strtok_r(NULL, " \t\r\n", &save))
        f[n++] = tok;
    if (n == 0)
        return 0;
    if (n < 3) {
        fprintf(stderr, "fakesysfs: line %d: need ADDRESS VENDOR DEVICE\n", lineno);
        return -1;
    }
    if (add_device(root, f[0], f[1], f[2], f[3], f[4]) < 0) {
        fprintf(stderr, "fakesysfs: line %d: %s\n", lineno, strerror(errno));
        return -1;
    }
    return 0;
}

int fakesysfs_build(const char *root, const char *spec_text)
{
    char *copy = strdup(spec_text);
    if (!copy || mkdir_p(root) < 0) {
        free(copy);
        return -1;
    }
    int rc = 0, lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line && rc == 0;
         line = strtok_r(NULL, "\n", &save))
        rc = build_line(root, line, ++lineno);
    free(copy);
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
