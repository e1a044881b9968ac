#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostuse.h"
#include "names.h"

void sp_problems_add(struct sp_problems *p, const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&text, fmt, ap);
    va_end(ap);
    char **grown = rc >= 0 ? realloc(p->items, (p->n + 1) * sizeof(*grown)) : NULL;
    if (!grown) {
        free(text);
        return;
    }
    p->items = grown;
    p->items[p->n++] = text;
}

void sp_problems_free(struct sp_problems *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->items[i]);
    free(p->items);
    memset(p, 0, sizeof(*p));
}

int sp_problems_to_err(const struct sp_problems *p, struct sp_err *err)
{
    if (p->n == 0)
        return 0;
    size_t used = 0;
    err->msg[0] = '\0';
    for (size_t i = 0; i < p->n && used < sizeof(err->msg) - 1; i++)
        used += (size_t)snprintf(err->msg + used, sizeof(err->msg) - used, "%s%s",
                                 i ? "; " : "", p->items[i]);
    return -1;
}

void sp_vfio_describe(const struct sp_pci_info *info, char *out, size_t size)
{
    char name[SP_PCI_ADDR_STRLEN], dev[256], cls[128];
    sp_pci_addr_format(&info->addr, name);
    snprintf(out, size, "%s [%04x:%04x] %s: %s (driver %s)", name, info->vendor, info->device,
             sp_pci_name_class(info->class_code, cls, sizeof(cls)),
             sp_pci_name_device(info->vendor, info->device, dev, sizeof(dev)),
             info->driver[0] ? info->driver : "none");
}

static int is_bridge(const struct sp_pci_info *info)
{
    return (info->class_code >> 8) == 0x0604 &&
           (!info->driver[0] || strcmp(info->driver, "pcieport") == 0);
}

static int in_set(const struct sp_vfio_device *devs, size_t n, const struct sp_pci_addr *a)
{
    for (size_t i = 0; i < n; i++)
        if (sp_pci_addr_cmp(&devs[i].addr, a) == 0)
            return 1;
    return 0;
}

/* The members of info's group that stop it from going to a VM alone
 * (VM set: devs); each described into problems, counted in the result. */
static size_t group_culprits(const char *root, const struct sp_pci_info *info,
                             const struct sp_vfio_device *devs, size_t n, struct sp_problems *list)
{
    struct sp_pci_addr *members = NULL;
    size_t count = 0, culprits = 0;
    struct sp_err err;
    if (sp_sysfs_group_members(root, info->group, &members, &count, &err) < 0) {
        sp_problems_add(list, "%s", err.msg);
        return 1;
    }
    for (size_t i = 0; i < count; i++) {
        struct sp_pci_info m;
        if (sp_pci_addr_cmp(&members[i], &info->addr) == 0 || in_set(devs, n, &members[i]))
            continue;
        if (sp_sysfs_device_info(root, &members[i], &m, &err) < 0) {
            sp_problems_add(list, "%s", err.msg);
            culprits++;
            continue;
        }
        if (is_bridge(&m) || strcmp(m.driver, SP_VFIO_DRIVER) == 0)
            continue;
        char text[512];
        sp_vfio_describe(&m, text, sizeof(text));
        sp_problems_add(list, "%s", text);
        culprits++;
    }
    free(members);
    return culprits;
}

static void check_group(const char *root, const struct sp_pci_info *info,
                        const struct sp_vfio_device *devs, size_t n, struct sp_problems *out)
{
    char name[SP_PCI_ADDR_STRLEN];
    sp_pci_addr_format(&info->addr, name);
    if (info->group < 0) {
        sp_problems_add(out, "device %s has no IOMMU group", name);
        return;
    }
    struct sp_problems culprits = {0};
    if (group_culprits(root, info, devs, n, &culprits) == 0) {
        sp_problems_free(&culprits);
        return;
    }
    struct sp_err joined;
    sp_problems_to_err(&culprits, &joined);
    sp_problems_add(out, "device %s: IOMMU group %d is not viable, it also holds %s; pass the "
                         "whole group to this VM, or split the group (ACS or an ARI option in "
                         "the BIOS)", name, info->group, joined.msg);
    sp_problems_free(&culprits);
}

/* Each use the host makes of the device, unless host_use="allow" covers it. */
static void check_host_use(struct sp_host_scan *scan, const struct sp_vfio_device *d,
                           struct sp_problems *out)
{
    struct sp_host_uses uses = {0};
    struct sp_err err;
    char name[SP_PCI_ADDR_STRLEN];
    sp_pci_addr_format(&d->addr, name);
    if (sp_host_use_find(scan, &d->addr, &uses, &err) < 0) {
        sp_problems_add(out, "device %s: cannot tell what the host uses on it, so it stays with "
                             "the host (host_use=\"allow\" cannot cover this): %s", name, err.msg);
        return;
    }
    for (size_t i = 0; i < uses.n; i++) {
        if (uses.items[i].system)
            sp_problems_add(out, "device %s is the host's own: %s; host_use=\"allow\" cannot "
                                 "cover what / or the DSM boot device depends on", name,
                            uses.items[i].chain);
        else if (!d->allow_host_use)
            sp_problems_add(out, "device %s is in use by the host: %s (stop that use first; if "
                                 "the host can do without it, host_use=\"allow\" on its <pci> "
                                 "lets it go)", name, uses.items[i].chain);
    }
    sp_host_uses_free(&uses);
}

static void check_device(struct sp_host_scan *scan, const struct sp_vfio_device *d,
                         const struct sp_vfio_device *devs, size_t n, struct sp_problems *out)
{
    const char *root = scan->sysfs_root;
    struct sp_pci_info info;
    struct sp_err err;
    char name[SP_PCI_ADDR_STRLEN];
    sp_pci_addr_format(&d->addr, name);
    if (sp_sysfs_device_info(root, &d->addr, &info, &err) < 0) {
        sp_problems_add(out, "%s", err.msg);
        return;
    }
    if (d->has_ids && (info.vendor != d->ids.vendor || info.device != d->ids.device)) {
        char want[256], have[256];
        sp_problems_add(out, "device %s is %04x:%04x (%s), not the configured %04x:%04x (%s)",
                        name, info.vendor, info.device,
                        sp_pci_name_device(info.vendor, info.device, have, sizeof(have)),
                        d->ids.vendor, d->ids.device,
                        sp_pci_name_device(d->ids.vendor, d->ids.device, want, sizeof(want)));
        return;
    }
    check_group(root, &info, devs, n, out);
    check_host_use(scan, d, out);
}

int sp_vfio_check(const char *root, const char *proc_root, const struct sp_vfio_device *devs,
                  size_t n, struct sp_problems *out)
{
    if (!sp_sysfs_iommu_enabled(root)) {
        sp_problems_add(out, "the IOMMU is off: no groups under %s/kernel/iommu_groups (turn on "
                             "AMD-Vi / VT-d in the BIOS; on the kernel command line amd_iommu=on "
                             "or intel_iommu=on)", root);
        return 0;
    }
    if (!sp_sysfs_driver_available(root, SP_VFIO_DRIVER))
        sp_problems_add(out, "the vfio-pci driver is not loaded (%s/bus/pci/drivers/vfio-pci "
                             "is missing): modprobe vfio-pci", root);
    struct sp_host_scan scan;
    sp_host_scan_init(&scan, root, proc_root);
    for (size_t i = 0; i < n; i++)
        check_device(&scan, &devs[i], devs, n, out);
    sp_host_scan_free(&scan);
    return 0;
}

enum sp_group_verdict sp_vfio_verdict(const char *root, const struct sp_pci_info *info,
                                      char *why, size_t size)
{
    if (info->group < 0) {
        snprintf(why, size, "no IOMMU group");
        return SP_GROUP_NO;
    }
    if ((info->class_code >> 16) == 0x06) {
        snprintf(why, size, "a bridge: it stays with the host");
        return SP_GROUP_NO;
    }
    struct sp_vfio_device self = {.addr = info->addr};
    struct sp_problems culprits = {0};
    size_t n = group_culprits(root, info, &self, 1, &culprits);
    if (n == 0) {
        snprintf(why, size, "alone in its group (apart from bridges)");
        sp_problems_free(&culprits);
        return SP_GROUP_ALONE;
    }
    struct sp_err joined;
    sp_problems_to_err(&culprits, &joined);
    snprintf(why, size, "shares group %d with %s", info->group, joined.msg);
    sp_problems_free(&culprits);
    return SP_GROUP_WHOLE;
}
