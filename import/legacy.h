/* legacy: an install of the community hot-plug scripts (SynoPassthru's
 * attach_detach_all.sh with user/NAME.sh, or its predecessor
 * pci_coral_on_synology's attach_all.sh with attaching_NAME.sh) read into an
 * import plan: per VM its devices and the ROM files they use, and every
 * line that is not imported with file, line and reason. Owns what the
 * scripts' variables and the master's script list mean. Never runs a
 * script and never writes anything (sysfs is only read, through pci/). */
#ifndef SP_LEGACY_H
#define SP_LEGACY_H

#include <stddef.h>

#include "../common/err.h"
#include "../pci/pci.h"

/* Where the community scripts install themselves, as the scripts name it. */
#define SP_LEGACY_DIR "/usr/local/libvirt"
#define SP_LEGACY_MASTER "attach_detach_all.sh"
#define SP_LEGACY_MASTER_OLD "attach_all.sh"

/* Why the emulated-display DETACH is not imported. */
#define SP_LEGACY_VMVGA_REASON                                                            \
    "DETACH of the VM manager's emulated display (vmvga, 15ad:0405) is not imported as " \
    "a device: add video=\"none\" to the VM's <passthrough> to make the passed GPU its " \
    "only display from power-on"

enum sp_legacy_format {
    SP_LEGACY_SYNOPASSTHRU, /* attach_detach_all.sh + user/NAME.sh */
    SP_LEGACY_PREDECESSOR,  /* attach_all.sh + attaching_NAME.sh */
};

struct sp_legacy_dev {
    char *file; /* the script, relative to the scripts' folder */
    int line;   /* of the worker call */
    int has_addr;
    struct sp_pci_addr addr;
    int has_ids;
    struct sp_pci_ids ids;
    char *rom_src;  /* the ROM file on this machine, NULL when none */
    char *rom_name; /* its name in the config dir's rom/ */
    /* No address: the devices with these IDs on this host now. */
    struct sp_pci_addr *host;
    size_t n_host;
    char *host_error; /* why they could not be listed, or NULL */
};

struct sp_legacy_vm {
    char *name; /* VM_NAME as the first script wrote it */
    struct sp_legacy_dev *devs;
    size_t n_devs;
};

/* Something the old scripts do that is not imported. */
struct sp_legacy_skip {
    char *file; /* relative to the scripts' folder */
    int line;   /* 0: the whole file */
    char *reason;
    int keeps_old; /* the old hook must stay until this is settled */
};

/* A script in the folder that the master does not run. */
struct sp_legacy_unused {
    char *file;
    int commented_at; /* line of the master where it is commented out, or 0 */
};

struct sp_legacy_plan {
    enum sp_legacy_format format;
    char *dir;          /* the scripts' folder, as read */
    const char *master; /* SP_LEGACY_MASTER or SP_LEGACY_MASTER_OLD */
    char **called;      /* the scripts the master runs, in order */
    size_t n_called;
    struct sp_legacy_vm *vms;
    size_t n_vms;
    struct sp_legacy_skip *skips;
    size_t n_skips;
    struct sp_legacy_unused *unused;
    size_t n_unused;
};

struct sp_legacy_where {
    const char *root;       /* prefix of every system path ("" on the NAS) */
    const char *dir;        /* the scripts' folder */
    const char *sysfs_root; /* where an empty ADDRESS is looked up */
};

/* Reads the install in where->dir. Returns 1 when a master script was
 * found and read, 0 when the folder holds none (out is then empty), -1
 * with err when memory runs out or the master cannot be read. */
int sp_legacy_read(const struct sp_legacy_where *where, struct sp_legacy_plan *out,
                   struct sp_err *err);

/* The part of sp_legacy_read that reads one per-device script: its text
 * (file is its name relative to the folder) into devices and skips. */
int sp_legacy_read_script(const struct sp_legacy_where *where, const char *file,
                          const char *text, size_t len, struct sp_legacy_plan *plan);

void sp_legacy_plan_free(struct sp_legacy_plan *p);

#endif
