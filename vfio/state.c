#include "state.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/fsutil.h"

static void hold_path(const char *dir, const struct sp_pci_addr *addr, char *out, size_t size)
{
    char name[SP_PCI_ADDR_STRLEN];
    sp_pci_addr_format(addr, name);
    snprintf(out, size, "%s/%s.hold", dir, name);
}

/* Holds decide which driver a device goes back to: the state dir must be a
 * directory of its own (not a symlink) that passes StrictModes up to /. */
static int check_state_dir(const char *dir, struct sp_err *err)
{
    struct stat st;
    if (lstat(dir, &st) < 0)
        return sp_err_set(err, "state dir %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return sp_err_set(err, "state dir %s is %s, not a directory", dir,
                          sp_file_type_name(st.st_mode));
    return sp_check_dir_chain(dir, "state dir", NULL, err);
}

int sp_state_lock(const char *dir, struct sp_err *err)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return sp_err_set(err, "state dir %s: %s", dir, strerror(errno));
    char path[4096];
    if (sp_path_fmt(path, sizeof(path), "%s/lock", dir) < 0)
        return sp_err_set(err, "state dir %s: %s", dir, strerror(errno));
    struct stat st;
    if (check_state_dir(dir, err) < 0)
        return -1;
    int fd = sp_open_write(path, O_RDWR, 0600, &st, err);
    if (fd < 0)
        return sp_err_prefix(err, "state lock");
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            int saved = errno;
            close(fd);
            return sp_err_set(err, "state lock %s: %s", path, strerror(saved));
        }
    }
    return fd;
}

void sp_state_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* closing drops the flock */
}

static void parse_line(struct sp_hold *h, const char *line)
{
    if (strncmp(line, "vm=", 3) == 0)
        snprintf(h->vm, sizeof(h->vm), "%s", line + 3);
    else if (strncmp(line, "driver=", 7) == 0)
        snprintf(h->driver, sizeof(h->driver), "%s", line + 7);
    else if (strncmp(line, "since=", 6) == 0)
        h->since = atoll(line + 6);
    else if (strncmp(line, "release=", 8) == 0)
        h->release = atoi(line + 8);
}

/* A hold record is a few short lines. */
#define HOLD_MAX_BYTES 4096

int sp_state_read(const char *dir, const struct sp_pci_addr *addr, struct sp_hold *h,
                  struct sp_err *err)
{
    char path[4096];
    hold_path(dir, addr, path, sizeof(path));
    memset(h, 0, sizeof(*h));
    char *text = NULL;
    struct stat st;
    if (lstat(path, &st) < 0 && errno == ENOENT)
        return 0;
    if (check_state_dir(dir, err) < 0)
        return -1;
    if (sp_read_file_stat(path, SP_OPEN_NOFOLLOW, HOLD_MAX_BYTES, &text, NULL, &st, err) < 0)
        return sp_err_prefix(err, "hold");
    if (sp_check_strict_mode(path, &st, "hold", err) < 0) {
        free(text);
        return -1;
    }
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        parse_line(h, line);
    free(text);
    return 1;
}

int sp_state_write(const char *dir, const struct sp_pci_addr *addr, const struct sp_hold *h,
                   struct sp_err *err)
{
    char path[4096], text[1024];
    hold_path(dir, addr, path, sizeof(path));
    int len = snprintf(text, sizeof(text), "vm=%s\ndriver=%s\nsince=%lld\nrelease=%d\n", h->vm,
                       h->driver, h->since, h->release);
    if (len < 0 || (size_t)len >= sizeof(text))
        return sp_err_set(err, "hold %s: the record does not fit", path);
    if (sp_write_file_atomic(path, text, (size_t)len, 0644, err) < 0)
        return sp_err_prefix(err, "hold");
    return 0;
}

void sp_state_remove(const char *dir, const struct sp_pci_addr *addr)
{
    char path[4096];
    hold_path(dir, addr, path, sizeof(path));
    unlink(path);
}

int sp_state_list(const char *dir, struct sp_pci_addr **out, size_t *n, struct sp_err *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : sp_err_set(err, "state dir %s: %s", dir, strerror(errno));
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char name[64];
        size_t len = strlen(de->d_name);
        struct sp_pci_addr a;
        if (len < 6 || len >= sizeof(name) || strcmp(de->d_name + len - 5, ".hold") != 0)
            continue;
        snprintf(name, sizeof(name), "%.*s", (int)(len - 5), de->d_name);
        if (sp_pci_addr_parse(name, &a, NULL) < 0)
            continue;
        rc = sp_pci_addr_list_add(out, n, &a, err);
    }
    closedir(d);
    sp_pci_addr_list_sort(*out, *n);
    return rc;
}

/* libvirt starts QEMU with "-name guest=NAME,..." */
static int cmdline_names_guest(const char *cmdline, size_t len, const char *vm)
{
    char needle[300];
    int n = snprintf(needle, sizeof(needle), "guest=%s", vm);
    for (size_t i = 0; n > 0 && i + (size_t)n <= len; i++) {
        if (memcmp(cmdline + i, needle, (size_t)n) != 0)
            continue;
        char after = i + (size_t)n < len ? cmdline[i + (size_t)n] : '\0';
        if (after == ',' || after == '\0')
            return 1;
    }
    return 0;
}

int sp_hold_qemu_running(const struct sp_hold *h, const char *proc_root)
{
    const char *vm = h->vm;
    DIR *d = opendir(proc_root);
    if (!d)
        return 0;
    struct dirent *de;
    int found = 0;
    static char buf[65536];
    while (!found && (de = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s/cmdline", proc_root, de->d_name);
        struct stat st;
        int fd = sp_open_read(path, 0, &st, NULL);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof(buf));
        close(fd);
        found = n > 0 && cmdline_names_guest(buf, (size_t)n, vm);
    }
    closedir(d);
    return found;
}

int sp_hold_alive(const struct sp_hold *h, time_t now, const char *proc_root)
{
    char why[128];
    return sp_hold_why_alive(h, now, proc_root, why, sizeof(why));
}

int sp_hold_why_alive(const struct sp_hold *h, time_t now, const char *proc_root, char *out,
                      size_t size)
{
    if (sp_hold_qemu_running(h, proc_root))
        snprintf(out, size, "its QEMU runs");
    else if (now - h->since < SP_HOLD_GRACE_SECONDS)
        snprintf(out, size, "it was bound %llds ago and a start has %ds to get QEMU running",
                 (long long)now - h->since, SP_HOLD_GRACE_SECONDS);
    else
        return 0;
    return 1;
}
