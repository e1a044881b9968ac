/* synopassthru status [--json]: every process that has libvirt mapped, and
 * whether the shim is mapped beside it (with its version and config dir).
 * Reads /proc, or $SYNOPASSTHRU_PROC_ROOT for tests. Exit 1 when a libvirt
 * daemon runs without the shim. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/fsutil.h"
#include "../common/json.h"
#include "../config/config.h"
#include "../pci/pci.h"
#include "cli.h"

#define SHIM_NAME "libsynopassthru.so"

struct proc_info {
    int pid;
    char comm[64];
    char libvirt[512]; /* path of the mapped libvirt library, "" when none */
    char shim[512];    /* path of the mapped shim, "" when none */
    char version[32];
    char config_dir[512];
};

static const char *proc_root(void)
{
    return sp_pci_proc_root(NULL);
}

static char *read_proc_file(int pid, const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%d/%s", proc_root(), pid, name);
    char *text = NULL;
    return sp_read_file(path, 8u << 20, &text, len, NULL) == 0 ? text : NULL;
}

/* The path at the end of the first maps line that names lib. */
static void mapped_path(const char *maps, const char *lib, char *out, size_t size)
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

static void config_dir_of(int pid, char *out, size_t size)
{
    size_t len = 0;
    char *env = read_proc_file(pid, "environ", &len);
    static const char key[] = SP_ENV_CONFIG_DIR "=";
    snprintf(out, size, "%s", SP_DEFAULT_CONFIG_DIR);
    for (size_t i = 0; env && i < len; i += strlen(env + i) + 1)
        if (strncmp(env + i, key, sizeof(key) - 1) == 0)
            snprintf(out, size, "%s", env + i + sizeof(key) - 1);
    free(env);
}

static int read_process(int pid, struct proc_info *p)
{
    memset(p, 0, sizeof(*p));
    p->pid = pid;
    char *maps = read_proc_file(pid, "maps", NULL);
    if (!maps)
        return -1;
    mapped_path(maps, "libvirt.so", p->libvirt, sizeof(p->libvirt));
    mapped_path(maps, SHIM_NAME, p->shim, sizeof(p->shim));
    free(maps);
    if (!p->libvirt[0])
        return -1;
    char *comm = read_proc_file(pid, "comm", NULL);
    snprintf(p->comm, sizeof(p->comm), "%s", comm ? comm : "?");
    p->comm[strcspn(p->comm, "\n")] = '\0';
    free(comm);
    if (p->shim[0]) {
        shim_version(p->shim, p->version, sizeof(p->version));
        config_dir_of(pid, p->config_dir, sizeof(p->config_dir));
    }
    return 0;
}

/* libvirtd, or one of the modular daemons that start VMs. */
static int is_vm_daemon(const struct proc_info *p)
{
    return strcmp(p->comm, "libvirtd") == 0 || strcmp(p->comm, "virtqemud") == 0;
}

static void put_process(struct sp_json *j, const struct proc_info *p)
{
    sp_json_begin_object(j);
    sp_json_member_int(j, "pid", p->pid);
    sp_json_member_str(j, "name", p->comm);
    sp_json_member_str(j, "libvirt", p->libvirt);
    sp_json_member_bool(j, "daemon", is_vm_daemon(p));
    sp_json_member_bool(j, "shim", p->shim[0] != 0);
    sp_json_member_str(j, "shim_path", p->shim[0] ? p->shim : NULL);
    sp_json_member_str(j, "version", p->shim[0] ? p->version : NULL);
    sp_json_member_str(j, "config_dir", p->shim[0] ? p->config_dir : NULL);
    sp_json_end_object(j);
}

static void print_text(const struct proc_info *p)
{
    if (p->shim[0])
        printf("%-8d %-16s shim %s (version %s, config %s)\n", p->pid, p->comm, p->shim,
               p->version, p->config_dir);
    else
        printf("%-8d %-16s NO SHIM%s\n", p->pid, p->comm,
               is_vm_daemon(p) ? ": VMs started here get no passthrough devices" : "");
}

int sp_cmd_status(const struct sp_cli_opts *opts)
{
    int json = opts->argc > 0 && strcmp(opts->argv[0], "--json") == 0;
    DIR *d = opendir(proc_root());
    if (!d) {
        sp_cli_error("status: cannot read %s", proc_root());
        return SP_EXIT_INPUT;
    }
    struct sp_json list;
    sp_cli_json_begin(&list);
    sp_json_key(&list, "processes");
    sp_json_begin_array(&list);
    int unprotected = 0, seen = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct proc_info p;
        if (!isdigit((unsigned char)de->d_name[0]) || read_process(atoi(de->d_name), &p) < 0)
            continue;
        seen++;
        unprotected += is_vm_daemon(&p) && !p.shim[0];
        if (json)
            put_process(&list, &p);
        else
            print_text(&p);
    }
    closedir(d);
    sp_json_end_array(&list);
    sp_json_end_object(&list);
    if (!json) {
        free(sp_json_take(&list));
        if (seen == 0)
            printf("no process has libvirt mapped\n");
    } else if (sp_json_print(&list, stdout) < 0) {
        sp_cli_error("status: cannot write the output");
        return SP_EXIT_INTERNAL;
    }
    if (unprotected)
        sp_cli_error("status: %d libvirt daemon(s) run without the shim", unprotected);
    return unprotected ? SP_EXIT_REFUSED : SP_EXIT_OK;
}
