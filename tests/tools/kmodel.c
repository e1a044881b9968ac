/* kmodel: a small model of the kernel's PCI sysfs files, for tests. It is
 * linked into a test build of the vfio helper, where it stands in for
 * libc's write(2): a write to one of the files below, inside a tree that
 * fakesysfs built (it carries FAKESYSFS_MARKER), has the kernel's effect on
 * the tree's driver links. Everything else goes to the real write. Never
 * acts on a path under /sys.
 *
 * The plan (what a write does):
 *   devices/.../ADDR/driver_override  stores the driver name; "\n" clears it
 *   drivers/DRV/unbind  "ADDR"        detaches ADDR from DRV (ENODEV if not
 *                                     bound to DRV); DRV/.refuse-unbind: EBUSY;
 *                                     DRV/.hang-unbind: the write never returns
 *   drivers/DRV/bind    "ADDR"        attaches ADDR to DRV if it is free and
 *                                     its override is empty or names DRV
 *   drivers_probe       "ADDR"        attaches a free ADDR to its override's
 *                                     driver, or without one to its native
 *                                     driver (FAKESYSFS_NATIVE)
 *   drivers/DRV/new_id, remove_id     EPERM, and a note in ROOT/.new_id-used:
 *                                     the helper must never use them
 * A driver exists when its directory does (no vfio-pci dir: no vfio-pci). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fakesysfs.h"

ssize_t write(int fd, const void *buf, size_t count);

static ssize_t real_write(int fd, const void *buf, size_t count)
{
    return syscall(SYS_write, fd, buf, count);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The model root above path: the nearest directory with the marker. */
static int find_root(const char *path, char *root, size_t size)
{
    if (strncmp(path, "/sys/", 5) == 0)
        return -1;
    snprintf(root, size, "%s", path);
    char *slash;
    while ((slash = strrchr(root, '/')) != NULL && slash != root) {
        *slash = '\0';
        char marker[PATH_MAX];
        snprintf(marker, sizeof(marker), "%s/%s", root, FAKESYSFS_MARKER);
        if (exists(marker))
            return 0;
    }
    return -1;
}

static void read_small(const char *path, char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (!fgets(out, (int)size, f))
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

static int write_small(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* The driver ADDR is bound to ("" when none). */
static void current_driver(const char *root, const char *addr, char *out, size_t size)
{
    char link[PATH_MAX], target[PATH_MAX];
    snprintf(link, sizeof(link), "%s/bus/pci/devices/%s/driver", root, addr);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    out[0] = '\0';
    if (n > 0) {
        target[n] = '\0';
        const char *base = strrchr(target, '/');
        snprintf(out, size, "%s", base ? base + 1 : target);
    }
}

static int attach(const char *root, const char *addr, const char *driver)
{
    char link[PATH_MAX], target[PATH_MAX], dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/bus/pci/drivers/%s", root, driver);
    if (!exists(dir))
        return -ENODEV;
    snprintf(link, sizeof(link), "%s/bus/pci/devices/%s/driver", root, addr);
    snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
    if (symlink(target, link) < 0)
        return -errno;
    snprintf(link, sizeof(link), "%s/%s", dir, addr);
    snprintf(target, sizeof(target), "../../../../devices/pci0000:00/%s", addr);
    return symlink(target, link) < 0 ? -errno : 0;
}

static int detach(const char *root, const char *addr, const char *driver)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s/.hang-unbind", root, driver);
    if (exists(path))
        for (;;)
            pause(); /* a driver stuck in its remove() callback */
    snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s/.refuse-unbind", root, driver);
    if (exists(path))
        return -EBUSY;
    snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", root, addr);
    if (unlink(path) < 0)
        return -errno;
    snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s/%s", root, driver, addr);
    unlink(path);
    return 0;
}

static int device_exists(const char *root, const char *addr)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", root, addr);
    return addr[0] && strchr(addr, '/') == NULL && exists(path);
}

static void override_of(const char *root, const char *addr, char *out, size_t size)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver_override", root, addr);
    read_small(path, out, size);
    if (strcmp(out, "(null)") == 0)
        out[0] = '\0';
}

static int do_unbind(const char *root, const char *driver, const char *addr)
{
    char bound[128];
    if (!device_exists(root, addr))
        return -ENODEV;
    current_driver(root, addr, bound, sizeof(bound));
    if (strcmp(bound, driver) != 0)
        return -ENODEV;
    return detach(root, addr, driver);
}

static int do_bind(const char *root, const char *driver, const char *addr)
{
    char bound[128], override[128];
    if (!device_exists(root, addr))
        return -ENODEV;
    current_driver(root, addr, bound, sizeof(bound));
    if (bound[0])
        return -EBUSY;
    override_of(root, addr, override, sizeof(override));
    if (override[0] && strcmp(override, driver) != 0)
        return -ENODEV;
    return attach(root, addr, driver);
}

static int do_probe(const char *root, const char *addr)
{
    char bound[128], want[128], path[PATH_MAX];
    if (!device_exists(root, addr))
        return -ENODEV;
    current_driver(root, addr, bound, sizeof(bound));
    if (bound[0])
        return 0;
    override_of(root, addr, want, sizeof(want));
    if (!want[0]) {
        snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/%s", root, addr, FAKESYSFS_NATIVE);
        read_small(path, want, sizeof(want));
    }
    if (!want[0])
        return 0;
    /* No matching driver is not an error for drivers_probe. */
    int rc = attach(root, addr, want);
    return rc == -ENODEV ? 0 : rc;
}

static int do_override(const char *path, const char *value)
{
    return write_small(path, value[0] ? value : "(null)") < 0 ? -errno : 0;
}

/* Applies the write; returns 0 or -errno. */
static int apply(const char *root, const char *path, const char *value)
{
    const char *base = strrchr(path, '/') + 1;
    char driver[256] = "";
    const char *drivers = strstr(path, "/bus/pci/drivers/");
    if (drivers) {
        snprintf(driver, sizeof(driver), "%s", drivers + strlen("/bus/pci/drivers/"));
        *strchrnul(driver, '/') = '\0';
    }
    if (strcmp(base, "driver_override") == 0)
        return do_override(path, value);
    if (strcmp(base, "drivers_probe") == 0)
        return do_probe(root, value);
    if (strcmp(base, "unbind") == 0 && driver[0])
        return do_unbind(root, driver, value);
    if (strcmp(base, "bind") == 0 && driver[0])
        return do_bind(root, driver, value);
    if (strcmp(base, "new_id") == 0 || strcmp(base, "remove_id") == 0) {
        char note[PATH_MAX];
        snprintf(note, sizeof(note), "%s/.new_id-used", root);
        write_small(note, path);
        return -EPERM;
    }
    return 1; /* not a file the model handles */
}

/* The test helper must never run against a real sysfs: when its command
 * line names a --root, that root must be a fake one. */
__attribute__((constructor)) static void refuse_real_sysfs(void)
{
    static char cmdline[16384];
    FILE *f = fopen("/proc/self/cmdline", "r");
    if (!f)
        return;
    size_t n = fread(cmdline, 1, sizeof(cmdline) - 1, f);
    fclose(f);
    cmdline[n] = '\0';
    for (size_t i = 0; i < n; i += strlen(cmdline + i) + 1) {
        if (strcmp(cmdline + i, "--root") != 0 || i + 7 >= n)
            continue;
        char marker[PATH_MAX];
        snprintf(marker, sizeof(marker), "%s/%s", cmdline + i + 7, FAKESYSFS_MARKER);
        if (!exists(marker)) {
            fprintf(stderr, "kernel model: refusing to run on %s: not a fake sysfs tree\n",
                    cmdline + i + 7);
            _exit(97);
        }
    }
}

ssize_t write(int fd, const void *buf, size_t count)
{
    char proc[64], path[PATH_MAX], root[PATH_MAX];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    ssize_t n = fd > 2 ? readlink(proc, path, sizeof(path) - 1) : -1;
    if (n <= 0 || count > 255)
        return real_write(fd, buf, count);
    path[n] = '\0';
    if (find_root(path, root, sizeof(root)) < 0)
        return real_write(fd, buf, count);
    char value[256];
    memcpy(value, buf, count);
    value[count] = '\0';
    value[strcspn(value, "\n")] = '\0';
    int rc = apply(root, path, value);
    if (rc == 1)
        return real_write(fd, buf, count);
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    return (ssize_t)count;
}
