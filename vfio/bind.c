#include "bind.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "claim.h"
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

void sp_vfio_check_holds(const char *state_dir, const char *proc_root, const char *vm,
                         const struct sp_pci_addr *addrs, size_t n, struct sp_problems *out)
{
    time_t now = time(NULL);
    for (size_t i = 0; i < n; i++) {
        struct sp_hold h;
        struct sp_err err;
        char name[SP_PCI_ADDR_STRLEN], why[128];
        sp_pci_addr_format(&addrs[i], name);
        int held = sp_state_read(state_dir, &addrs[i], &h, &err);
        if (held < 0)
            sp_problems_add(out, "%s", err.msg);
        else if (held && (!vm || strcmp(h.vm, vm) != 0) &&
                 sp_hold_why_alive(&h, now, proc_root, why, sizeof(why)))
            sp_problems_add(out, "device %s is held by VM '%s' (%s)", name, h.vm, why);
    }
}

static int claim_all(const struct sp_vfio_request *req, FILE *out, struct sp_err *err)
{
    struct sp_claim claim;
    if (sp_claim_begin(&claim, req->root, req->state_dir, req->vm, (long long)time(NULL),
                       err) < 0)
        return -1;
    struct sp_problems problems = {0};
    sp_vfio_check_holds(req->state_dir, req->proc_root, req->vm, req->bind, req->n_bind,
                        &problems);
    int rc = sp_problems_to_err(&problems, err);
    sp_problems_free(&problems);
    for (size_t i = 0; rc == 0 && i < req->n_bind; i++)
        rc = sp_claim_add(&claim, &req->bind[i], req->release ? req->release[i] : 0, err);
    if (rc == 0)
        sp_claim_commit(&claim, out);
    else
        sp_claim_rollback(&claim);
    return rc;
}

void sp_vfio_precheck(const struct sp_vfio_request *req, struct sp_problems *problems)
{
    sp_vfio_check(req->root, req->proc_root, req->devs, req->n_devs, problems);
    if (req->state_dir && req->vm)
        sp_vfio_check_holds(req->state_dir, req->proc_root, req->vm, req->bind, req->n_bind,
                            problems);
}

int sp_vfio_bind_request(const struct sp_vfio_request *req, FILE *out, struct sp_err *err)
{
    struct sp_problems problems = {0};
    sp_vfio_precheck(req, &problems);
    int rc = sp_problems_to_err(&problems, err);
    sp_problems_free(&problems);
    return rc < 0 ? -1 : claim_all(req, out, err);
}

/* A device nobody holds and that is not on vfio-pci (nor on its way there,
 * with driver_override set) has nothing to give back: says so, 1. */
static int left_alone(const struct sp_vfio_giveback *g, const struct sp_pci_addr *addr,
                      FILE *out, struct sp_err *err)
{
    char name[SP_PCI_ADDR_STRLEN], now[64], override[64];
    sp_pci_addr_format(addr, name);
    if (sp_sysfs_driver(g->root, addr, now, sizeof(now), err) < 0 ||
        sp_sysfs_driver_override(g->root, addr, override, sizeof(override), err) < 0)
        return -1;
    if (strcmp(now, SP_VFIO_DRIVER) == 0 || override[0])
        return 0;
    if (out)
        fprintf(out, "unheld %s driver=%s (nobody holds it and it is not on vfio-pci: left "
                     "as it is)\n", name, now[0] ? now : "none");
    return 1;
}

/* Why h stops a release of name (into problems), 1; else 0. */
static int refused(const struct sp_vfio_giveback *g, const struct sp_hold *h, const char *name,
                   struct sp_problems *problems)
{
    char why[128];
    if (g->vm && strcmp(h->vm, g->vm) != 0) {
        sp_problems_add(problems, "device %s is held by VM '%s', not '%s'", name, h->vm, g->vm);
        return 1;
    }
    if (g->force || !sp_hold_why_alive(h, time(NULL), g->proc_root, why, sizeof(why)))
        return 0;
    sp_problems_add(problems, "device %s is held by VM '%s', which still counts as running (%s): "
                              "stop the VM first, or release --force", name, h->vm, why);
    return 1;
}

/* One device back to its host driver; problems into problems. */
static void release_device(const struct sp_vfio_giveback *g, const struct sp_pci_addr *addr,
                           FILE *out, struct sp_problems *problems)
{
    struct sp_hold h;
    struct sp_err e;
    char name[SP_PCI_ADDR_STRLEN], now[64] = "";
    sp_pci_addr_format(addr, name);
    int held = sp_state_read(g->state_dir, addr, &h, &e);
    int alone = held == 0 ? left_alone(g, addr, out, &e) : 0;
    if (held < 0 || alone < 0) {
        sp_problems_add(problems, "%s", e.msg);
        return;
    }
    if (alone || (held && refused(g, &h, name, problems)))
        return;
    /* It was on vfio-pci before it was bound: that is where it stays. */
    int stays = held && strcmp(h.driver, SP_VFIO_DRIVER) == 0;
    if (!stays && sp_vfio_release_one(g->root, addr, held ? h.driver : NULL, &e) < 0) {
        sp_problems_add(problems, "%s", e.msg);
        return;
    }
    sp_state_remove(g->state_dir, addr);
    sp_sysfs_driver(g->root, addr, now, sizeof(now), &e);
    if (out)
        fprintf(out, "released %s driver=%s%s\n", name, now[0] ? now : "none",
                stays    ? " (it was on vfio-pci before it was bound)"
                : !held ? " (nobody held it)"
                        : "");
}

int sp_vfio_release(const struct sp_vfio_giveback *g, const struct sp_pci_addr *addrs, size_t n,
                    FILE *out, struct sp_err *err)
{
    int lock = sp_state_lock(g->state_dir, err);
    if (lock < 0)
        return -1;
    struct sp_problems problems = {0};
    for (size_t i = 0; i < n; i++)
        release_device(g, &addrs[i], out, &problems);
    sp_state_unlock(lock);
    int rc = sp_problems_to_err(&problems, err);
    sp_problems_free(&problems);
    return rc;
}

int sp_vfio_release_stopped(const struct sp_vfio_giveback *g, FILE *out, struct sp_err *err)
{
    struct sp_pci_addr *mine = NULL;
    size_t k = 0, unreadable;
    if (sp_state_release_holds(g->state_dir, g->vm, &mine, &k, &unreadable, err) < 0)
        return -1;
    /* The VM stopped: its holds no longer count, whatever their age. */
    struct sp_vfio_giveback stopped = *g;
    stopped.force = 1;
    int rc = k ? sp_vfio_release(&stopped, mine, k, out, err) : 0;
    free(mine);
    return rc;
}
