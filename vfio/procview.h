/* procview: what /proc says the host is using: mounted block devices and
 * where, swap devices, running md arrays, interfaces with an IPv4 route or a
 * non-link-local IPv6 address. Owns the parsers of mounts, swaps, mdstat,
 * net/route, net/if_inet6 and cmdline's root=; each skips a line it does not
 * understand. Never looks at sysfs and never writes. */
#ifndef SP_VFIO_PROCVIEW_H
#define SP_VFIO_PROCVIEW_H

#include <stddef.h>

#include "../common/err.h"

/* The most read of one /proc file; a larger one is an error. */
#define SP_PROC_FILE_MAX (4u << 20)

struct sp_proc_item {
    char *name;   /* a device as written after /dev/ ("md0", "mapper/vg1-lv"), or an interface */
    char *detail; /* mounts: the mount point; md: the level ("raid1"); else "" */
};

struct sp_proc_list {
    struct sp_proc_item *items;
    size_t n;
};

struct sp_proc_view {
    struct sp_proc_list mounts; /* block devices only (sources under /dev/) */
    struct sp_proc_list swaps;  /* swap partitions (sources under /dev/) */
    struct sp_proc_list md;     /* arrays mdstat shows as active */
    struct sp_proc_list ipv4;   /* interfaces with a route outside 169.254.0.0/16 */
    struct sp_proc_list ipv6;   /* interfaces with an address outside fe80::/10 */
};

/* The parsers: text is NUL-terminated. They return 0, or -1 when memory
 * runs out. A mount of "/dev/root" is named by root_dev (cmdline's root=,
 * see sp_proc_cmdline_root) when that is known. */
int sp_proc_parse_mounts(const char *text, const char *root_dev, struct sp_proc_list *out);
int sp_proc_parse_swaps(const char *text, struct sp_proc_list *out);
int sp_proc_parse_mdstat(const char *text, struct sp_proc_list *out);
int sp_proc_parse_route(const char *text, struct sp_proc_list *out);
int sp_proc_parse_inet6(const char *text, struct sp_proc_list *out);
/* "md0" for "... root=/dev/md0 ..." into out; "" when root= names no /dev path. */
void sp_proc_cmdline_root(const char *text, char *out, size_t size);

/* Reads every file under proc_root. mounts and net/route must be there;
 * swaps, mdstat, net/if_inet6 and cmdline may be missing (no swap, no md
 * driver, no IPv6). */
int sp_proc_view_load(const char *proc_root, struct sp_proc_view *v, struct sp_err *err);
void sp_proc_view_free(struct sp_proc_view *v);
void sp_proc_list_free(struct sp_proc_list *l);

/* The first item named name, or NULL. */
const struct sp_proc_item *sp_proc_list_find(const struct sp_proc_list *l, const char *name);

/* Whether a device as /proc writes it (after /dev/) is the block device
 * with the kernel name kname ("dm-0") and, for a dm device, the mapper name
 * dm_name (NULL otherwise): "dm-0", "mapper/vg1-lv", or LVM's "vg1/lv". */
int sp_proc_dev_is(const char *dev, const char *kname, const char *dm_name);

#endif
