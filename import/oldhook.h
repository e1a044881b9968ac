/* oldhook: the live parts of a community install outside its own folder:
 * libvirt's qemu hook and the three lines deploy.sh appended to DSM's start
 * hook (insert_libvirtd_ko.sh), which put that hook back at every boot.
 * Owns recognising them, backing them up and removing exactly them, the
 * rest of the DSM hook kept byte for byte with its mode. Never touches the
 * scripts' folder or a qemu hook that is not theirs. */
#ifndef SP_OLDHOOK_H
#define SP_OLDHOOK_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "../common/err.h"

#define SP_OLDHOOK_QEMU "/etc/libvirt/hooks/qemu"
/* What deploy.sh appends, one line each, in this order. */
#define SP_OLDHOOK_MARKER "# Hook for passthrough PCIe device"
#define SP_OLDHOOK_MKDIR "mkdir -p /etc/libvirt/hooks/"
#define SP_OLDHOOK_COPY "cp /usr/local/libvirt/qemu /etc/libvirt/hooks/qemu"
/* The predecessor's hook setup, called from the DSM hook by a line the
 * user added by hand (its exact form is not known). */
#define SP_OLDHOOK_MANUAL "my_hook_setup.sh"
#define SP_OLDHOOK_BACKUP_DIR "import-backup"

enum sp_oldhook_qemu {
    SP_OLDHOOK_ABSENT,
    SP_OLDHOOK_THEIRS, /* it mentions attach_detach_all.sh or attach_all.sh */
    SP_OLDHOOK_OTHER,  /* someone else's hook: left alone */
};

struct sp_oldhook {
    char *qemu_path; /* ROOT/etc/libvirt/hooks/qemu */
    enum sp_oldhook_qemu qemu;
    char *qemu_text;
    size_t qemu_len;
    mode_t qemu_mode;
    char *dsm_path; /* ROOT + SP_DSM_HOOK_PATH */
    char *dsm_text;
    size_t dsm_len;
    mode_t dsm_mode;
    char *dsm_kept; /* the DSM hook without deploy.sh's lines */
    size_t dsm_kept_len;
    int removed_lines[3]; /* their line numbers in the DSM hook */
    size_t n_removed;
    int manual_line; /* first line naming my_hook_setup.sh, or 0 */
};

/* Reads both hooks under root. -1 with err when one exists but cannot be
 * read, or memory runs out. */
int sp_oldhook_find(const char *root, struct sp_oldhook *out, struct sp_err *err);

/* True when the old hot-plug would still run: its qemu hook is in place,
 * or the DSM hook still puts it back. */
int sp_oldhook_live(const struct sp_oldhook *h);

/* text without the lines deploy.sh appended: the marker line (also when it
 * was glued onto a last line that had no newline) and, after it, the first
 * line equal to each of the other two. A line that was there before the
 * marker is Synology's own and stays. *out is malloc'd; lines gets the
 * 1-based numbers removed (at most 3). Returns 0, -1 when out of memory. */
int sp_oldhook_strip(const char *text, size_t len, char **out, size_t *out_len, int lines[3],
                     size_t *n_lines);

/* Where the backups went. */
struct sp_oldhook_done {
    char *qemu_backup; /* NULL when the qemu hook was not removed */
    char *dsm_backup;  /* NULL when the DSM hook was not changed */
};

/* Backs up under backup_dir (with the files' paths below root) and then
 * removes the qemu hook (when theirs) and deploy.sh's lines. Nothing is
 * removed unless every backup was written. */
int sp_oldhook_remove(const struct sp_oldhook *h, const char *backup_dir,
                      struct sp_oldhook_done *done, struct sp_err *err);

/* A fresh folder for this run's backups, made now (mode 0700):
 * config_dir/import-backup/YYYYMMDDTHHMMSSZ in UTC, with -2, -3, ... when
 * that is taken. malloc'd, or NULL with err. */
char *sp_oldhook_backup_dir(const char *config_dir, time_t now, struct sp_err *err);

void sp_oldhook_free(struct sp_oldhook *h);
void sp_oldhook_done_free(struct sp_oldhook_done *d);

#endif
