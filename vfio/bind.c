#include "bind.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state.h"

int sp_vfio_bind_one(const char *root, const struct sp_pci_addr *addr, char *was, size_t size,
                     struct sp_err *err)
{
    char name[SP_PCI_ADDR_STRLEN], now[64];
    sp_pci_addr_format(addr, name);
    if (sp_sysfs_driver(root, addr, was, size, err) < 0)
        return -1;
    if (strcmp(was, SP_VFIO_DRIVER) == 0)
        return 0;
    if (sp_sysfs_set_driver_override(root, addr, SP_VFIO_DRIVER, err) < 0)
        return -1;
    if ((was[0] && sp_sysfs_unbind(root, addr, was, err) < 0) ||
        sp_sysfs_drivers_probe(root, addr, err) < 0 ||
        sp_sysfs_driver(root, addr, now, sizeof(now), err) < 0) {
        struct sp_err ignored;
        /* Leave no override behind: the host driver may still take it. */
        sp_sysfs_set_driver_override(root, addr, NULL, &ignored);
        if (was[0])
            sp_sysfs_drivers_probe(root, addr, &ignored);
        return -1;
    }
    if (strcmp(now, SP_VFIO_DRIVER) != 0)
        return sp_err_set(err, "device %s: after drivers_probe it is bound to '%s', not vfio-pci",
                          name, now[0] ? now : "nothing");
    return 0;
}

int sp_vfio_release_one(const char *root, const struct sp_pci_addr *addr, const char *expect,
                        struct sp_err *err)
{
    char name[SP_PCI_ADDR_STRLEN], now[64];
    sp_pci_addr_format(addr, name);
    if (sp_sysfs_set_driver_override(root, addr, NULL, err) < 0 ||
        sp_sysfs_driver(root, addr, now, sizeof(now), err) < 0)
        return -1;
    if (strcmp(now, SP_VFIO_DRIVER) == 0 && sp_sysfs_unbind(root, addr, SP_VFIO_DRIVER, err) < 0)
        return -1;
    if (sp_sysfs_drivers_probe(root, addr, err) < 0 ||
        sp_sysfs_driver(root, addr, now, sizeof(now), err) < 0)
        return -1;
    if (expect && expect[0] && strcmp(now, expect) != 0)
        return sp_err_set(err, "device %s: after release it is bound to '%s', not its host "
                               "driver '%s'", name, now[0] ? now : "nothing", expect);
    return 0;
}

/* Devices held by another VM that still runs. */
static void check_holds(const struct sp_vfio_request *req, struct sp_problems *problems)
{
    time_t now = time(NULL);
    for (size_t i = 0; i < req->n_bind; i++) {
        struct sp_hold h;
        struct sp_err err;
        char name[SP_PCI_ADDR_STRLEN];
        sp_pci_addr_format(&req->bind[i], name);
        int held = sp_state_read(req->state_dir, &req->bind[i], &h, &err);
        if (held < 0)
            sp_problems_add(problems, "%s", err.msg);
        else if (held && strcmp(h.vm, req->vm) != 0 && sp_hold_alive(&h, now, req->proc_root))
            sp_problems_add(problems, "device %s is held by VM '%s'", name, h.vm);
    }
}

/* Puts back the first n devices of a failed request. */
static void roll_back(const struct sp_vfio_request *req, size_t n, char (*was)[64])
{
    for (size_t i = n; i-- > 0;) {
        struct sp_err ignored;
        if (strcmp(was[i], SP_VFIO_DRIVER) != 0)
            sp_vfio_release_one(req->root, &req->bind[i], was[i], &ignored);
        sp_state_remove(req->state_dir, &req->bind[i]);
    }
}

static int bind_all(const struct sp_vfio_request *req, FILE *out, struct sp_err *err)
{
    char (*was)[64] = calloc(req->n_bind ? req->n_bind : 1, sizeof(*was));
    if (!was)
        return sp_err_set(err, "out of memory");
    for (size_t i = 0; i < req->n_bind; i++) {
        struct sp_hold h = {.since = (long long)time(NULL)};
        if (sp_vfio_bind_one(req->root, &req->bind[i], was[i], sizeof(was[i]), err) < 0) {
            roll_back(req, i, was);
            free(was);
            return -1;
        }
        snprintf(h.vm, sizeof(h.vm), "%s", req->vm);
        snprintf(h.driver, sizeof(h.driver), "%s", was[i]);
        h.release = req->release ? req->release[i] : 0;
        struct sp_hold old;
        /* Keep the original driver of a device this VM already holds. */
        if (sp_state_read(req->state_dir, &req->bind[i], &old, NULL) == 1 &&
            strcmp(old.vm, req->vm) == 0)
            snprintf(h.driver, sizeof(h.driver), "%s", old.driver);
        if (sp_state_write(req->state_dir, &req->bind[i], &h, err) < 0) {
            roll_back(req, i + 1, was);
            free(was);
            return -1;
        }
    }
    for (size_t i = 0; out && i < req->n_bind; i++) {
        char name[SP_PCI_ADDR_STRLEN];
        sp_pci_addr_format(&req->bind[i], name);
        if (strcmp(was[i], SP_VFIO_DRIVER) == 0)
            fprintf(out, "kept %s\n", name);
        else
            fprintf(out, "bound %s was=%s\n", name, was[i]);
    }
    free(was);
    return 0;
}

int sp_vfio_bind_request(const struct sp_vfio_request *req, FILE *out, struct sp_err *err)
{
    struct sp_problems problems = {0};
    sp_vfio_check(req->root, req->devs, req->n_devs, &problems);
    if (sp_problems_to_err(&problems, err) < 0) {
        sp_problems_free(&problems);
        return -1;
    }
    int lock = sp_state_lock(req->state_dir, err);
    if (lock < 0)
        return -1;
    check_holds(req, &problems);
    int rc = sp_problems_to_err(&problems, err);
    sp_problems_free(&problems);
    if (rc == 0)
        rc = bind_all(req, out, err);
    sp_state_unlock(lock);
    return rc;
}

int sp_vfio_release(const char *root, const char *state_dir, const char *vm,
                    const struct sp_pci_addr *addrs, size_t n, FILE *out, struct sp_err *err)
{
    int lock = sp_state_lock(state_dir, err);
    if (lock < 0)
        return -1;
    struct sp_problems problems = {0};
    for (size_t i = 0; i < n; i++) {
        struct sp_hold h;
        struct sp_err e;
        char name[SP_PCI_ADDR_STRLEN];
        sp_pci_addr_format(&addrs[i], name);
        int held = sp_state_read(state_dir, &addrs[i], &h, &e);
        if (held == 1 && vm && strcmp(h.vm, vm) != 0) {
            sp_problems_add(&problems, "device %s is held by VM '%s', not '%s'", name, h.vm, vm);
            continue;
        }
        if (sp_vfio_release_one(root, &addrs[i], held == 1 ? h.driver : NULL, &e) < 0) {
            sp_problems_add(&problems, "%s", e.msg);
            continue;
        }
        sp_state_remove(state_dir, &addrs[i]);
        char now[64] = "";
        sp_sysfs_driver(root, &addrs[i], now, sizeof(now), &e);
        if (out)
            fprintf(out, "released %s driver=%s\n", name, now[0] ? now : "none");
    }
    sp_state_unlock(lock);
    int rc = sp_problems_to_err(&problems, err);
    sp_problems_free(&problems);
    return rc;
}

int sp_vfio_release_stopped(const char *root, const char *state_dir, const char *vm, FILE *out,
                            struct sp_err *err)
{
    struct sp_pci_addr *held = NULL, *mine = NULL;
    size_t n = 0, k = 0;
    if (sp_state_list(state_dir, &held, &n, err) < 0)
        return -1;
    mine = calloc(n ? n : 1, sizeof(*mine));
    if (!mine) {
        free(held);
        return sp_err_set(err, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        struct sp_hold h;
        if (sp_state_read(state_dir, &held[i], &h, NULL) == 1 && h.release &&
            strcmp(h.vm, vm) == 0)
            mine[k++] = held[i];
    }
    int rc = k ? sp_vfio_release(root, state_dir, vm, mine, k, out, err) : 0;
    free(held);
    free(mine);
    return rc;
}
