/* procscan: processes with libvirt mapped, and the shim beside it. */
#include "procscan.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/fsutil.h"
#include "../config/config.h"

static char *read_proc_file(const char *proc_root, int pid, const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%d/%s", proc_root, pid, name);
    char *text = NULL;
    return sp_read_file(path, 8u << 20, &text, len, NULL) == 0 ? text : NULL;
}

void sp_procscan_mapped_path(const char *maps, const char *lib, char *out, size_t size)
{
    out[0] = '\0';
    for (const char *line = maps; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *slash = memchr(line, '/', len);
        if (slash) {
            size_t plen = len - (size_t)(slash - line);
            char path[512];
            snprintf(path, sizeof(path), "%.*s", (int)plen, slash);
            const char *base = strrchr(path, '/') + 1;
            if (strncmp(base, lib, strlen(lib)) == 0) {
                snprintf(out, size, "%s", path);
                return;
            }
        }
        line = end ? end + 1 : NULL;
    }
}

/* The version the shim file carries ("synopassthru-version=X"). */
static void shim_version(const char *path, char *out, size_t size)
{
    char *bytes = NULL;
    size_t len = 0;
    snprintf(out, size, "unknown");
    if (sp_read_file(path, 64u << 20, &bytes, &len, NULL) < 0)
        return;
    static const char tag[] = "synopassthru-version=";
    for (size_t i = 0; i + sizeof(tag) < len; i++)
        if (memcmp(bytes + i, tag, sizeof(tag) - 1) == 0) {
            snprintf(out, size, "%s", bytes + i + sizeof(tag) - 1);
            break;
        }
    free(bytes);
}

int sp_procscan_environ_value(const char *env, size_t len, const char *key, char *out,
                              size_t size)
{
    size_t key_len = strlen(key);
    int found = -1;
    for (size_t i = 0; i < len; i += strlen(env + i) + 1)
        if (strncmp(env + i, key, key_len) == 0) {
            snprintf(out, size, "%s", env + i + key_len);
            found = 0;
        }
    return found;
}

static void config_dir_of(const char *proc_root, int pid, char *out, size_t size)
{
    size_t len = 0;
    char *env = read_proc_file(proc_root, pid, "environ", &len);
    if (!env || sp_procscan_environ_value(env, len, SP_ENV_CONFIG_DIR "=", out, size) < 0)
        snprintf(out, size, "%s", SP_DEFAULT_CONFIG_DIR);
    free(env);
}

/* 0 and *p when pid has libvirt mapped, else -1. */
static int read_process(const char *proc_root, int pid, struct sp_libvirt_proc *p)
{
    memset(p, 0, sizeof(*p));
    p->pid = pid;
    char *maps = read_proc_file(proc_root, pid, "maps", NULL);
    if (!maps)
        return -1;
    sp_procscan_mapped_path(maps, "libvirt.so", p->libvirt, sizeof(p->libvirt));
    sp_procscan_mapped_path(maps, SP_SHIM_NAME, p->shim, sizeof(p->shim));
    free(maps);
    if (!p->libvirt[0])
        return -1;
    char *comm = read_proc_file(proc_root, pid, "comm", NULL);
    snprintf(p->comm, sizeof(p->comm), "%s", comm ? comm : "?");
    p->comm[strcspn(p->comm, "\n")] = '\0';
    free(comm);
    if (p->shim[0]) {
        shim_version(p->shim, p->version, sizeof(p->version));
        config_dir_of(proc_root, pid, p->config_dir, sizeof(p->config_dir));
    }
    return 0;
}

int sp_procscan_is_daemon(const struct sp_libvirt_proc *p)
{
    return strcmp(p->comm, "libvirtd") == 0 || strcmp(p->comm, "virtqemud") == 0;
}

int sp_procscan(const char *proc_root, struct sp_libvirt_proc **out, size_t *n,
                struct sp_err *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(proc_root);
    if (!d)
        return sp_err_set(err, "cannot read %s: %s", proc_root, strerror(errno));
    size_t cap = 0;
    struct dirent *de;
    struct sp_libvirt_proc p;
    while ((de = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)de->d_name[0]) ||
            read_process(proc_root, atoi(de->d_name), &p) < 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            struct sp_libvirt_proc *grown = realloc(*out, cap * sizeof(**out));
            if (!grown) {
                closedir(d);
                free(*out);
                *out = NULL;
                *n = 0;
                return sp_err_set(err, "out of memory");
            }
            *out = grown;
        }
        (*out)[(*n)++] = p;
    }
    closedir(d);
    return 0;
}
