#include "binder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pci/pci.h"

int sp_binder_needed(const struct sp_resolved_dev *devs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (devs[i].bind && devs[i].has_addr)
            return 1;
    return 0;
}

static const char *op_name(enum sp_binder_op op)
{
    return op == SP_BIND ? "bind" : op == SP_CHECK ? "check" : "release";
}

/* "ADDR[=VVVV:DDDD][,nobind|,release][,allow-host-use]" for one device;
 * malloc'd. */
static char *device_arg(const struct sp_resolved_dev *d)
{
    char name[SP_PCI_ADDR_STRLEN], ids[16] = "", *arg = NULL;
    sp_pci_addr_format(&d->addr, name);
    if (d->has_ids)
        snprintf(ids, sizeof(ids), "=%04x:%04x", d->ids.vendor, d->ids.device);
    const char *flag = !d->bind ? ",nobind" : d->release ? ",release" : "";
    const char *host_use = d->allow_host_use ? ",allow-host-use" : "";
    return asprintf(&arg, "%s%s%s%s", name, ids, flag, host_use) < 0 ? NULL : arg;
}

static void free_argv(char **argv)
{
    for (char **a = argv; a && *a; a++)
        free(*a);
    free(argv);
}

static char **build_argv(enum sp_binder_op op, const struct sp_settings *s, const char *vm,
                         const struct sp_resolved_dev *devs, size_t n)
{
    const char *fixed[] = {s->vfio_helper, op_name(op), "--root", sp_pci_sysfs_root(s->sysfs_root),
                           "--proc-root", sp_pci_proc_root(s->proc_root), "--state-dir",
                           s->state_dir};
    size_t n_fixed = sizeof(fixed) / sizeof(fixed[0]), k = 0;
    /* the fixed part, --vm NAME, --force, one per device, the NULL */
    char **argv = calloc(n_fixed + 3 + n + 1, sizeof(*argv));
    if (!argv)
        return NULL;
    for (size_t i = 0; i < n_fixed; i++)
        argv[k++] = strdup(fixed[i]);
    if (vm) {
        argv[k++] = strdup("--vm");
        argv[k++] = strdup(vm);
    }
    if (op == SP_RELEASE_FORCE)
        argv[k++] = strdup("--force");
    for (size_t i = 0; i < n; i++)
        if (devs[i].has_addr)
            argv[k++] = device_arg(&devs[i]);
    for (size_t i = 0; i < k; i++)
        if (!argv[i]) {
            free_argv(argv);
            return NULL;
        }
    return argv;
}

int sp_binder_run(enum sp_binder_op op, const struct sp_settings *s, const char *vm,
                  const struct sp_resolved_dev *devs, size_t n, struct sp_helper_result *res,
                  struct sp_err *err)
{
    char **argv = build_argv(op, s, vm, devs, n);
    if (!argv)
        return sp_err_set(err, "out of memory");
    int rc = sp_helper_run(argv, s->helper_timeout_ms, res, err);
    free_argv(argv);
    if (rc < 0)
        return -1;
    if (res->exit_code != 0)
        return sp_err_set(err, "%s", res->errout[0] ? res->errout : "the vfio helper failed");
    return 0;
}

int sp_binder_for_start(enum sp_binder_op op, struct sp_start *st, struct sp_helper_result *res)
{
    struct sp_err err;
    if (sp_binder_run(op, &st->snap->settings, st->id.name, st->devs, st->n_devs, res, &err) == 0)
        return 0;
    st->verdict = SP_REFUSED;
    sp_err_set(&st->err, "VM %s: %s", st->label, err.msg);
    return -1;
}

int sp_binder_check_start(struct sp_start *st)
{
    if (st->verdict != SP_READY || !sp_binder_needed(st->devs, st->n_devs))
        return 0;
    struct sp_helper_result *res = calloc(1, sizeof(*res));
    if (!res) {
        st->verdict = SP_REFUSED;
        sp_err_set(&st->err, "VM %s: out of memory", st->label);
        return -1;
    }
    int rc = sp_binder_for_start(SP_CHECK, st, res);
    free(res);
    return rc;
}

int sp_binder_release_stopped(const struct sp_settings *s, const char *vm, struct sp_err *err)
{
    char *argv[] = {s->vfio_helper, "release-stopped", "--root",
                    (char *)sp_pci_sysfs_root(s->sysfs_root), "--proc-root",
                    (char *)sp_pci_proc_root(s->proc_root), "--state-dir", s->state_dir,
                    "--vm", (char *)vm, NULL};
    struct sp_helper_result *res = calloc(1, sizeof(*res));
    if (!res)
        return sp_err_set(err, "out of memory");
    int rc = sp_helper_run(argv, s->helper_timeout_ms, res, err);
    if (rc == 0 && res->exit_code != 0)
        rc = sp_err_set(err, "%s", res->errout[0] ? res->errout : "the vfio helper failed");
    free(res);
    return rc;
}

int sp_binder_undo(const struct sp_settings *s, const char *vm,
                   const struct sp_helper_result *bound, struct sp_err *err)
{
    struct sp_resolved_dev *devs = NULL;
    size_t n = 0;
    char *copy = strdup(bound->out), *save = NULL;
    for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        char addr[32];
        if (sscanf(line, "bound %31s", addr) != 1)
            continue;
        struct sp_resolved_dev *grown = realloc(devs, (n + 1) * sizeof(*grown));
        if (!grown)
            break;
        devs = grown;
        memset(&devs[n], 0, sizeof(devs[n]));
        devs[n].bind = 1;
        if (sp_pci_addr_parse(addr, &devs[n].addr, NULL) == 0) {
            devs[n].has_addr = 1;
            n++;
        }
    }
    free(copy);
    int rc = 0;
    if (n > 0) {
        struct sp_helper_result res;
        /* The start failed: the VM never ran, its fresh holds do not count. */
        rc = sp_binder_run(SP_RELEASE_FORCE, s, vm, devs, n, &res, err);
    }
    free(devs);
    return rc;
}
