/* doctor: the read-only checks of a whole install, one function each. */
#include "doctor.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../import/oldhook.h"
#include "../injector/dropin.h"
#include "../injector/dsm_hook.h"
#include "../injector/loadproof.h"
#include "../injector/procscan.h"
#include "../vfio/state.h"
#include "../vfio/sysfs.h"
#include "vmcheck.h"

#define AS_ROOT_SETUP "as root (sudo -i over SSH, or a DSM Task Scheduler task run by root): " \
                      "synopassthru setup"
#define FILE_MAX (1u << 20)

void sp_doctor_add(struct sp_doctor *d, const char *id, enum sp_doctor_status status,
                   const char *fix, const char *fmt, ...)
{
    struct sp_doctor_line *grown = realloc(d->lines, (d->n + 1) * sizeof(*grown));
    if (!grown) {
        d->failed = 1;
        return;
    }
    d->lines = grown;
    struct sp_doctor_line *l = &d->lines[d->n];
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&l->message, fmt, ap);
    va_end(ap);
    l->fix = fix ? strdup(fix) : NULL;
    if (rc < 0 || (fix && !l->fix)) {
        if (rc >= 0)
            free(l->message);
        d->failed = 1;
        return;
    }
    l->id = id;
    l->status = status;
    d->n++;
}

void sp_doctor_iommu(const struct sp_doctor_env *e, struct sp_doctor *d)
{
    int *groups = NULL;
    size_t n = 0;
    if (sp_sysfs_groups(e->sysfs_root, &groups, &n, NULL) == 0 && n > 0)
        sp_doctor_add(d, "iommu", SP_DOCTOR_OK, NULL, "IOMMU on: %zu groups", n);
    else
        sp_doctor_add(d, "iommu", SP_DOCTOR_PROBLEM,
                      "enable AMD-Vi/IOMMU (AMD) or VT-d (Intel) in the BIOS/UEFI setup; on a "
                      "Synology box without a setup screen the CPU or firmware does not offer "
                      "it, and no device can be passed",
                      "IOMMU is off: no groups under %s/kernel/iommu_groups", e->sysfs_root);
    free(groups);
}

/* The module's line in /proc/modules is there. */
static int module_loaded(const char *proc_root, const char *module)
{
    char *path = sp_path_join(proc_root, "modules"), *text = NULL;
    size_t len = 0, mlen = strlen(module);
    int found = 0;
    if (path && sp_read_file(path, FILE_MAX, &text, &len, NULL) == 0)
        for (const char *line = text; line && *line && !found; line = strchr(line, '\n'),
                        line = line ? line + 1 : NULL)
            found = strncmp(line, module, mlen) == 0 && line[mlen] == ' ';
    free(text);
    free(path);
    return found;
}

void sp_doctor_vfio(const struct sp_doctor_env *e, struct sp_doctor *d)
{
    static const char fix[] = "start Virtual Machine Manager once (Package Center): it loads "
                              "vfio_pci and vfio_iommu_type1; or as root: modprobe vfio-pci";
    int driver = sp_sysfs_driver_available(e->sysfs_root, SP_VFIO_DRIVER);
    int type1 = module_loaded(e->proc_root, "vfio_iommu_type1");
    if (!driver)
        sp_doctor_add(d, "vfio", SP_DOCTOR_PROBLEM, fix,
                      "the vfio-pci driver is not there (no %s/bus/pci/drivers/" SP_VFIO_DRIVER
                      ")", e->sysfs_root);
    else if (!type1 && module_loaded(e->proc_root, "vfio_pci"))
        sp_doctor_add(d, "vfio", SP_DOCTOR_WARNING, fix,
                      "vfio-pci is there but vfio_iommu_type1 is not in %s/modules: QEMU "
                      "cannot map a device's memory without it", e->proc_root);
    else
        sp_doctor_add(d, "vfio", SP_DOCTOR_OK, NULL, "the vfio-pci driver is there");
}

static void judge_daemon(const struct sp_doctor_env *e, const struct sp_libvirt_proc *p,
                         struct sp_doctor *d)
{
    char fix[512];
    snprintf(fix, sizeof(fix),
             "restart the daemon so that the drop-in takes effect: stop and run Virtual "
             "Machine Manager in Package Center, or as root: systemctl restart %s", e->unit);
    if (!p->shim[0])
        sp_doctor_add(d, "daemon", SP_DOCTOR_PROBLEM, fix,
                      "%s (pid %d) runs without the shim: VMs it starts get no passthrough "
                      "devices", p->comm, p->pid);
    else if (strcmp(p->config_dir, e->snap->config_dir) != 0)
        sp_doctor_add(d, "daemon", SP_DOCTOR_WARNING,
                      "run doctor with --config naming the daemon's config dir, or run setup "
                      "again with the config dir meant",
                      "%s (pid %d) has the shim %s but reads the config dir %s, not %s",
                      p->comm, p->pid, p->version, p->config_dir, e->snap->config_dir);
    else
        sp_doctor_add(d, "daemon", SP_DOCTOR_OK, NULL, "%s (pid %d) has the shim %s (%s)",
                      p->comm, p->pid, p->version, p->shim);
}

void sp_doctor_daemon(const struct sp_doctor_env *e, struct sp_doctor *d)
{
    struct sp_libvirt_proc *procs = NULL;
    size_t n = 0, daemons = 0;
    struct sp_err err;
    if (sp_procscan(e->proc_root, &procs, &n, &err) < 0) {
        sp_doctor_add(d, "daemon", SP_DOCTOR_WARNING, "run doctor as root", "%s", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (sp_procscan_is_daemon(&procs[i])) {
            judge_daemon(e, &procs[i], d);
            daemons++;
        }
    if (daemons == 0)
        sp_doctor_add(d, "daemon", SP_DOCTOR_WARNING,
                      "run Virtual Machine Manager in Package Center, and doctor as root",
                      "no libvirt daemon runs (or this user cannot read its %s entries): the "
                      "shim cannot be seen in it", e->proc_root);
    free(procs);
}

/* The drop-in's text, or NULL (with *missing when it is not there). */
static char *read_dropin(const struct sp_doctor_env *e, char **path, int *missing)
{
    char *text = NULL;
    struct sp_err err;
    *path = sp_dropin_path(e->root, e->unit);
    *missing = 0;
    if (*path && sp_read_file(*path, FILE_MAX, &text, NULL, &err) < 0) {
        *missing = errno == ENOENT;
        return NULL;
    }
    return text;
}

void sp_doctor_dropin(const struct sp_doctor_env *e, struct sp_doctor *d)
{
    int missing;
    char *path, *text = read_dropin(e, &path, &missing);
    if (!path) {
        d->failed = 1;
        return;
    }
    if (!text)
        sp_doctor_add(d, "dropin", SP_DOCTOR_PROBLEM, AS_ROOT_SETUP,
                      "the systemd drop-in %s is %s: the daemon starts without the shim", path,
                      missing ? "missing" : "unreadable");
    else if (!strstr(text, "LD_PRELOAD=") || !strstr(text, SP_SHIM_NAME))
        sp_doctor_add(d, "dropin", SP_DOCTOR_PROBLEM, AS_ROOT_SETUP,
                      "the systemd drop-in %s does not preload " SP_SHIM_NAME, path);
    else
        sp_doctor_add(d, "dropin", SP_DOCTOR_OK, NULL, "the systemd drop-in %s preloads the shim",
                      path);
    free(text);
    free(path);
}

void sp_doctor_dsm_hook(const struct sp_doctor_env *e, struct sp_doctor *d)
{
    char *path = NULL, *text = NULL, *stripped = NULL;
    if (asprintf(&path, "%s%s", e->root, SP_DSM_HOOK_PATH) < 0) {
        d->failed = 1;
        return;
    }
    if (sp_read_file(path, FILE_MAX, &text, NULL, NULL) < 0)
        sp_doctor_add(d, "dsm-hook", SP_DOCTOR_WARNING,
                      "install Virtual Machine Manager, then " AS_ROOT_SETUP,
                      "DSM's start hook %s is not there (not DSM, or Virtual Machine Manager "
                      "is not installed): nothing puts the drop-in back after a reboot", path);
    else if ((stripped = sp_dsm_hook_strip(text)) && strcmp(stripped, text) == 0)
        sp_doctor_add(d, "dsm-hook", SP_DOCTOR_PROBLEM, AS_ROOT_SETUP,
                      "DSM's start hook %s has no synopassthru block: after a reboot that "
                      "takes /etc away the daemon starts without the shim", path);
    else
        sp_doctor_add(d, "dsm-hook", SP_DOCTOR_OK, NULL,
                      "DSM's start hook %s puts the drop-in back at every start", path);
    free(stripped);
    free(text);
    free(path);
}

/* The LD_PRELOAD value of the drop-in text (malloc'd), NULL when none. */
static char *preloaded_path(const char *text)
{
    const char *p = text ? strstr(text, "LD_PRELOAD=") : NULL;
    if (!p)
        return NULL;
    p += strlen("LD_PRELOAD=");
    return strndup(p, strcspn(p, "\"\n"));
}

void sp_doctor_shim_loads(const struct sp_doctor_env *e, struct sp_doctor *d)
{
    int missing;
    char *path, *text = read_dropin(e, &path, &missing), *shim = preloaded_path(text);
    char *full = NULL;
    struct sp_err err;
    if (!e->self || !shim)
        sp_doctor_add(d, "shim-loads", SP_DOCTOR_WARNING, AS_ROOT_SETUP,
                      "not proven: %s", e->self ? "no drop-in names a shim to preload"
                                               : "our own program cannot be found");
    else if (asprintf(&full, "%s%s", e->root, shim) < 0)
        d->failed = 1;
    else if (sp_loadproof_run(e->self, full, &err) < 0)
        sp_doctor_add(d, "shim-loads", SP_DOCTOR_PROBLEM,
                      "install the release built for this DSM version, then " AS_ROOT_SETUP,
                      "the shim the drop-in preloads does not load (the daemon would die at "
                      "its next start): %s", err.msg);
    else
        sp_doctor_add(d, "shim-loads", SP_DOCTOR_OK, NULL, "%s loads (proved in a child process)",
                      full);
    free(full);
    free(shim);
    free(text);
    free(path);
}

/* One file or directory under StrictModes: a problem line when not. */
static void judge_mode(struct sp_doctor *d, const char *path, const char *what)
{
    struct stat st;
    char why[128], fix[1024];
    if (lstat(path, &st) < 0)
        return;
    if (!sp_strict_mode_reason(&st, why, sizeof(why)))
        return;
    snprintf(fix, sizeof(fix), "as root: chown root:root '%s' && chmod go-w '%s'", path, path);
    sp_doctor_add(d, "modes", SP_DOCTOR_PROBLEM, fix,
                  "%s %s is %s: it is ignored until only root can write it", what, path, why);
}

/* Every entry of dir/sub (not "." and ".."), under StrictModes. */
static void judge_dir_files(struct sp_doctor *d, const char *dir, const char *sub,
                            const char *what)
{
    char *path = sp_path_join(dir, sub);
    DIR *dh = path ? opendir(path) : NULL;
    struct dirent *de;
    while (dh && (de = readdir(dh)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *file = sp_path_join(path, de->d_name);
        if (file)
            judge_mode(d, file, what);
        free(file);
    }
    if (dh)
        closedir(dh);
    free(path);
}

void sp_doctor_modes(const struct sp_doctor_env *e, struct sp_doctor *d)
{
    const char *dir = e->snap->config_dir;
    struct sp_err err;
    size_t before = d->n;
    if (sp_check_dir_chain(dir, "config dir", NULL, &err) < 0) {
        sp_doctor_add(d, "modes", SP_DOCTOR_PROBLEM, AS_ROOT_SETUP " (it makes the config dir)",
                      "%s", err.msg);
        return;
    }
    char *conf = sp_path_join(dir, "synopassthru.conf");
    if (conf)
        judge_mode(d, conf, "the settings file");
    free(conf);
    judge_dir_files(d, dir, SP_SNIPPET_DIR, "snippet");
    judge_dir_files(d, dir, "rom", "ROM");
    if (d->n == before)
        sp_doctor_add(d, "modes", SP_DOCTOR_OK, NULL,
                      "%s and its files are root's and writable by nobody else", dir);
}

void sp_doctor_snippets(const struct sp_doctor_env *e, struct sp_doctor *d)
{
    static const char fix[] = "correct the file (README: Configuration), then run "
                              "synopassthru check VM";
    const struct sp_snapshot *s = e->snap;
    size_t before = d->n;
    if (s->global_error)
        sp_doctor_add(d, "snippets", SP_DOCTOR_PROBLEM, fix, "%s", s->global_error);
    for (const struct sp_vm_entry *v = sp_snapshot_next(s, NULL); v; v = sp_snapshot_next(s, v))
        if (v->error)
            sp_doctor_add(d, "snippets", SP_DOCTOR_PROBLEM, fix, "VM '%s': %s", v->key, v->error);
    for (size_t i = 0; i < s->n_orphan_errors; i++)
        sp_doctor_add(d, "snippets", SP_DOCTOR_PROBLEM, fix, "%s", s->orphan_errors[i]);
    if (d->n == before)
        sp_doctor_add(d, "snippets", SP_DOCTOR_OK, NULL, "%zu snippet(s) in %s/" SP_SNIPPET_DIR
                      " parse", s->n_snippets, s->config_dir);
}

/* One VM's start, checked as `check VM` checks it. */
static void judge_vm(const struct sp_doctor_env *e, const char *vm, struct sp_doctor *d)
{
    struct sp_start st = {0};
    struct sp_problems problems = {0};
    struct sp_err joined;
    char fix[512];
    struct sp_vmcheck_vm key = {.arg = vm};
    if (sp_vmcheck(e->snap, &key, NULL, 0, &st, &problems) < 0) {
        d->failed = 1;
    } else if (sp_problems_to_err(&problems, &joined) < 0) {
        snprintf(fix, sizeof(fix), "synopassthru check '%s' lists each device and what to do",
                 vm);
        sp_doctor_add(d, "vm", SP_DOCTOR_PROBLEM, fix, "VM '%s' would not start: %s", vm,
                      joined.msg);
    } else {
        sp_doctor_add(d, "vm", SP_DOCTOR_OK, NULL, "VM '%s': %zu device(s) pass every check", vm,
                      st.n_devs);
    }
    sp_start_free(&st);
    sp_problems_free(&problems);
}

void sp_doctor_vms(const struct sp_doctor_env *e, struct sp_doctor *d)
{
    size_t checked = 0;
    for (const struct sp_vm_entry *v = sp_snapshot_next(e->snap, NULL); v;
         v = sp_snapshot_next(e->snap, v))
        if (!v->error && !e->snap->global_error) {
            judge_vm(e, v->key, d);
            checked++;
        }
    if (checked == 0)
        sp_doctor_add(d, "vm", SP_DOCTOR_WARNING,
                      "synopassthru import reads the community scripts into snippets; or "
                      "write one (README: Configuration)",
                      "no VM to check: no snippet in %s/" SP_SNIPPET_DIR " names one that parses",
                      e->snap->config_dir);
}

static void judge_hold(const struct sp_doctor_env *e, const struct sp_pci_addr *addr,
                       struct sp_doctor *d)
{
    const char *state_dir = e->snap->settings.state_dir;
    char name[SP_PCI_ADDR_STRLEN], fix[256];
    struct sp_hold h;
    struct sp_err err;
    sp_pci_addr_format(addr, name);
    int held = sp_state_read(state_dir, addr, &h, &err);
    if (held < 0) {
        sp_doctor_add(d, "holds", SP_DOCTOR_PROBLEM, "remove the file, as root", "%s", err.msg);
    } else if (held && !sp_hold_alive(&h, time(NULL), e->proc_root)) {
        snprintf(fix, sizeof(fix), "as root: synopassthru release %s (back to %s)", name,
                 h.driver[0] ? h.driver : "no driver");
        sp_doctor_add(d, "holds", SP_DOCTOR_PROBLEM, fix,
                      "%s is held by VM '%s', which does not run: the host cannot have it back "
                      "by itself", name, h.vm);
    }
}

void sp_doctor_holds(const struct sp_doctor_env *e, struct sp_doctor *d)
{
    struct sp_pci_addr *addrs = NULL;
    size_t n = 0, before = d->n;
    struct sp_err err;
    if (sp_state_list(e->snap->settings.state_dir, &addrs, &n, &err) < 0) {
        sp_doctor_add(d, "holds", SP_DOCTOR_PROBLEM, AS_ROOT_SETUP, "%s", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++)
        judge_hold(e, &addrs[i], d);
    if (d->n == before)
        sp_doctor_add(d, "holds", SP_DOCTOR_OK, NULL, "%zu hold(s), each by a VM that runs", n);
    free(addrs);
}

void sp_doctor_audit_log(const struct sp_doctor_env *e, struct sp_doctor *d)
{
    const char *log = e->snap->settings.audit_log;
    if (!log || !log[0]) {
        sp_doctor_add(d, "audit-log", SP_DOCTOR_OK, NULL, "the audit log is off");
        return;
    }
    char *dir = strdup(log);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (!slash) {
        free(dir);
        d->failed = 1;
        return;
    }
    *slash = '\0';
    const char *parent = dir[0] ? dir : "/";
    if (access(parent, W_OK) < 0) {
        char fix[512];
        snprintf(fix, sizeof(fix), "as root: mkdir -p '%s', or set audit_log in "
                 "synopassthru.conf", parent);
        sp_doctor_add(d, "audit-log", SP_DOCTOR_PROBLEM, fix,
                      "the audit log %s cannot be written: %s: %s", log, parent, strerror(errno));
    } else {
        sp_doctor_add(d, "audit-log", SP_DOCTOR_OK, NULL, "the audit log %s can be written", log);
    }
    free(dir);
}

void sp_doctor_old_hook(const struct sp_doctor_env *e, struct sp_doctor *d)
{
    struct sp_oldhook h;
    struct sp_err err;
    if (sp_oldhook_find(e->root, &h, &err) < 0) {
        sp_doctor_add(d, "old-hook", SP_DOCTOR_WARNING, "run doctor as root", "%s", err.msg);
        return;
    }
    if (sp_oldhook_live(&h))
        sp_doctor_add(d, "old-hook", SP_DOCTOR_PROBLEM,
                      "as root: synopassthru import --remove-old (backs the hook up, then "
                      "takes it out)",
                      "the community scripts' hot-plug is still in place (%s%s): it would "
                      "attach devices beside the shim", h.qemu == SP_OLDHOOK_THEIRS ? h.qemu_path
                                                                                  : h.dsm_path,
                      h.qemu == SP_OLDHOOK_THEIRS ? "" : " puts their qemu hook back");
    else
        sp_doctor_add(d, "old-hook", SP_DOCTOR_OK, NULL,
                      "no hot-plug hook of the community scripts");
    sp_oldhook_free(&h);
}

void sp_doctor_run(const struct sp_doctor_env *e, struct sp_doctor *d)
{
    void (*const checks[])(const struct sp_doctor_env *, struct sp_doctor *) = {
        sp_doctor_iommu,    sp_doctor_vfio,  sp_doctor_daemon,   sp_doctor_dropin,
        sp_doctor_dsm_hook, sp_doctor_shim_loads, sp_doctor_modes, sp_doctor_snippets,
        sp_doctor_vms,      sp_doctor_holds, sp_doctor_audit_log, sp_doctor_old_hook,
    };
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
        checks[i](e, d);
}

enum sp_doctor_status sp_doctor_worst(const struct sp_doctor *d)
{
    enum sp_doctor_status worst = d->failed ? SP_DOCTOR_PROBLEM : SP_DOCTOR_OK;
    for (size_t i = 0; i < d->n; i++)
        if (d->lines[i].status > worst)
            worst = d->lines[i].status;
    return worst;
}

void sp_doctor_free(struct sp_doctor *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->lines[i].message);
        free(d->lines[i].fix);
    }
    free(d->lines);
    memset(d, 0, sizeof(*d));
}
