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

/* The first control character in s, or NULL. */
static const char *find_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return s;
    return NULL;
}

/* c as a message shows it: itself, or \n, \t, \xNN for a control character. */
static void show_char(unsigned char c, char out[5])
{
    if (c == '\n' || c == '\t')
        snprintf(out, 5, "\\%c", c == '\n' ? 'n' : 't');
    else if (c < 0x20 || c == 0x7f)
        snprintf(out, 5, "\\x%02x", c);
    else
        snprintf(out, 5, "%c", c);
}

/* s with its control characters shown as show_char does. */
static void show_string(const char *s, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (; *s && used + 5 < size; s++) {
        show_char((unsigned char)*s, out + used);
        used += strlen(out + used);
    }
}

/* A hold is one "key=value" a line: a value with a line break would add
 * lines of its own (another vm=, since=), so such values are refused rather
 * than written. path names the hold file in the message (NULL: none). */
static int check_field(const char *path, const char *what, const char *value,
                       struct sp_err *err)
{
    const char *bad = find_control(value);
    if (!bad)
        return 0;
    char shown[1100], which[5];
    show_string(value, shown, sizeof(shown));
    show_char((unsigned char)*bad, which);
    sp_err_set(err, "%s \"%s\" has a control character (%s), which a hold cannot record",
               what, shown, which);
    return path ? sp_err_prefix(err, "hold %s", path) : -1;
}

int sp_hold_vm_check(const char *vm, struct sp_err *err)
{
    struct sp_hold h;
    size_t len = strlen(vm);
    if (len >= sizeof(h.vm))
        return sp_err_set(err, "VM name of %zu bytes: a hold records at most %zu", len,
                          sizeof(h.vm) - 1);
    return check_field(NULL, "VM", vm, err);
}

int sp_state_write(const char *dir, const struct sp_pci_addr *addr, const struct sp_hold *h,
                   struct sp_err *err)
{
    char path[4096], text[1024];
    hold_path(dir, addr, path, sizeof(path));
    if (check_field(path, "VM", h->vm, err) < 0 ||
        check_field(path, "driver", h->driver, err) < 0)
        return -1;
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

/* Compares the QEMU option value at p (",," stands for one ',') with want;
 * *end is the ',' or NUL that ends the value. */
static int opt_value_is(const char *p, const char *want, const char **end)
{
    int same = 1;
    while (*p && !(p[0] == ',' && p[1] != ',')) { /* up to a single ',' */
        if (same && *want == *p)
            want++;
        else
            same = 0;
        p += *p == ',' ? 2 : 1;
    }
    *end = p;
    return same && *want == '\0';
}

/* What a -name argument says of the guest name, parsed as QEMU parses it
 * ("key=value" options split at ',', and a first option without '=' the
 * value of the implied "guest"; the last guest wins): 1 it is vm, 0 it is
 * another, -1 it sets none. */
static int name_opts_guest_is(const char *p, const char *vm)
{
    int said = -1;
    for (int first = 1; *p; first = 0) {
        size_t key = strcspn(p, "=,");
        const char *end = p + key; /* a flag ("debug-threads"): no value */
        if (p[key] == '=') {
            int same = opt_value_is(p + key + 1, vm, &end);
            if (key == 5 && memcmp(p, "guest", 5) == 0)
                said = same;
        } else if (first) {
            said = opt_value_is(p, vm, &end);
        }
        p = *end ? end + 1 : end;
    }
    return said;
}

int sp_state_release_holds(const char *dir, const char *vm, struct sp_pci_addr **out, size_t *n,
                           size_t *unreadable, struct sp_err *err)
{
    struct sp_pci_addr *held = NULL;
    size_t n_held = 0;
    *out = NULL;
    *n = *unreadable = 0;
    if (sp_state_list(dir, &held, &n_held, err) < 0)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n_held; i++) {
        struct sp_hold h;
        int rc = sp_state_read(dir, &held[i], &h, NULL);
        if (rc < 0)
            (*unreadable)++;
        else if (rc == 1 && h.release && strcmp(h.vm, vm) == 0)
            held[k++] = held[i]; /* kept in place: the list stays sorted */
    }
    if (k == 0) {
        free(held);
        held = NULL;
    }
    *out = held;
    *n = k;
    return 0;
}

/* libvirt starts QEMU with "-name guest=NAME,debug-threads=on" (a ',' in NAME
 * doubled), older ones with "-name NAME"; QEMU takes "--name" as "-name". */
static int cmdline_names_guest(const char *cmdline, size_t len, const char *vm)
{
    int said = -1;
    const char *end = cmdline + len;
    for (const char *arg = cmdline; arg < end; arg += strlen(arg) + 1) {
        int is_name = strcmp(arg, "-name") == 0 || strcmp(arg, "--name") == 0;
        const char *next = arg + strlen(arg) + 1;
        if (!is_name || next >= end)
            continue;
        int now = name_opts_guest_is(next, vm);
        said = now < 0 ? said : now;
        arg = next;
    }
    return said == 1;
}

/* The kernel caps a process's arguments well below this. */
#define CMDLINE_MAX_BYTES (8u << 20)

static int cmdline_file_names_guest(const char *path, const char *vm)
{
    struct stat st;
    int fd = sp_open_read(path, 0, &st, NULL);
    if (fd < 0)
        return 0;
    st.st_size = 4096; /* procfs says 0: a better first guess */
    char *cmdline = NULL;
    size_t len = 0;
    int rc = sp_read_fd(fd, &st, path, CMDLINE_MAX_BYTES, &cmdline, &len, NULL);
    close(fd);
    int named = rc == 0 && cmdline_names_guest(cmdline, len, vm);
    free(cmdline);
    return named;
}

int sp_hold_qemu_running(const struct sp_hold *h, const char *proc_root)
{
    DIR *d = opendir(proc_root);
    if (!d)
        return 0;
    struct dirent *de;
    int found = 0;
    while (!found && (de = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s/cmdline", proc_root, de->d_name);
        found = cmdline_file_names_guest(path, h->vm);
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
