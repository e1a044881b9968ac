/* state: who holds which device, kept as one small file per device under
 * the state dir, with one lock (flock) around every bind or release so that
 * two starts never take the same device. A hold records the VM and the
 * driver the device had before, so that release can give it back. A hold
 * whose VM has no QEMU process and that is older than the grace period is
 * free. Never touches sysfs. */
#ifndef SP_VFIO_STATE_H
#define SP_VFIO_STATE_H

#include <time.h>

#include "../common/err.h"
#include "../pci/pci.h"

/* A start that bound its devices has this long to get QEMU running. */
#define SP_HOLD_GRACE_SECONDS 120

struct sp_hold {
    char vm[256];     /* no control characters: sp_state_write refuses them */
    char driver[64]; /* before binding; "" when it had none */
    long long since;  /* epoch seconds */
    int release;      /* give it back when the VM stops */
};

/* Creates the dir (0700), refuses it unless it is a directory (not a
 * symlink) passing StrictModes up to /, and takes the lock; returns its fd. */
int sp_state_lock(const char *dir, struct sp_err *err);
void sp_state_unlock(int fd);

/* 1 and *h when held, 0 when not, -1 on error (also: the state dir or the
 * hold file fails StrictModes, or the hold is not a regular file). */
int sp_state_read(const char *dir, const struct sp_pci_addr *addr, struct sp_hold *h,
                  struct sp_err *err);
int sp_state_write(const char *dir, const struct sp_pci_addr *addr, const struct sp_hold *h,
                   struct sp_err *err);
void sp_state_remove(const char *dir, const struct sp_pci_addr *addr);

/* 0 when a hold can record vm as it is (not too long, no control
 * character), else -1 saying why: checked before any device is bound. */
int sp_hold_vm_check(const char *vm, struct sp_err *err);

/* The addresses whose holds name vm and say release (sorted, malloc'd);
 * *unreadable counts the holds that could not be read, which may be its. */
int sp_state_release_holds(const char *dir, const char *vm, struct sp_pci_addr **out, size_t *n,
                           size_t *unreadable, struct sp_err *err);

/* Every held address, sorted. *out is malloc'd. */
int sp_state_list(const char *dir, struct sp_pci_addr **out, size_t *n, struct sp_err *err);

/* The holding VM's QEMU runs: a process under proc_root whose "-name"
 * argument, read as QEMU reads it, names the guest VM exactly. */
int sp_hold_qemu_running(const struct sp_hold *h, const char *proc_root);

/* The holding VM still counts: its QEMU runs, or the hold is recent. */
int sp_hold_alive(const struct sp_hold *h, time_t now, const char *proc_root);

/* As sp_hold_alive, and when alive, why in out ("its QEMU runs", "it was
 * bound 5s ago and ..."). */
int sp_hold_why_alive(const struct sp_hold *h, time_t now, const char *proc_root, char *out,
                      size_t size);

#endif
