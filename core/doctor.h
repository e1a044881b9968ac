/* doctor: everything between a user and a working passthrough, checked
 * read-only: IOMMU, vfio, the shim in the daemon, the drop-in and DSM's
 * start hook, the shim's load proof, the config's owners and modes, the
 * snippets and each VM's devices and ROMs, stale holds, the audit log and
 * the community scripts' hook. Each check is one function that adds lines
 * (ok, warning or problem, what was found, and the fix in DSM's terms).
 * Owns the lines; never prints, never changes a file or a device. */
#ifndef SP_DOCTOR_H
#define SP_DOCTOR_H

#include <stddef.h>

#include "../config/config.h"

enum sp_doctor_status {
    SP_DOCTOR_OK,
    SP_DOCTOR_WARNING, /* works, but something is worth knowing */
    SP_DOCTOR_PROBLEM, /* passthrough fails or is unsafe until fixed */
};

struct sp_doctor_line {
    const char *id; /* a check's stable name (README: doctor) */
    enum sp_doctor_status status;
    char *message; /* what was found */
    char *fix;     /* what to do, NULL when ok */
};

struct sp_doctor {
    struct sp_doctor_line *lines;
    size_t n;
    int failed; /* memory ran out: lines are missing */
};

/* Where the checks look. */
struct sp_doctor_env {
    struct sp_snapshot *snap; /* the config dir's, with its settings */
    const char *sysfs_root;
    const char *proc_root;
    const char *root; /* "" or a tree standing in for / (the drop-in, DSM's hook,
                       * the installed shim, the old qemu hook) */
    const char *unit; /* the daemon's systemd unit */
    const char *self; /* our CLI, for the load proof; NULL leaves that check out */
};

/* Adds one line; fix is NULL for an ok line. */
void sp_doctor_add(struct sp_doctor *d, const char *id, enum sp_doctor_status status,
                   const char *fix, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

void sp_doctor_iommu(const struct sp_doctor_env *e, struct sp_doctor *d);
void sp_doctor_vfio(const struct sp_doctor_env *e, struct sp_doctor *d);
void sp_doctor_daemon(const struct sp_doctor_env *e, struct sp_doctor *d);
void sp_doctor_dropin(const struct sp_doctor_env *e, struct sp_doctor *d);
void sp_doctor_dsm_hook(const struct sp_doctor_env *e, struct sp_doctor *d);
void sp_doctor_shim_loads(const struct sp_doctor_env *e, struct sp_doctor *d);
void sp_doctor_modes(const struct sp_doctor_env *e, struct sp_doctor *d);
void sp_doctor_snippets(const struct sp_doctor_env *e, struct sp_doctor *d);
void sp_doctor_vms(const struct sp_doctor_env *e, struct sp_doctor *d);
void sp_doctor_holds(const struct sp_doctor_env *e, struct sp_doctor *d);
void sp_doctor_audit_log(const struct sp_doctor_env *e, struct sp_doctor *d);
void sp_doctor_old_hook(const struct sp_doctor_env *e, struct sp_doctor *d);

/* Every check above, in that order. */
void sp_doctor_run(const struct sp_doctor_env *e, struct sp_doctor *d);

/* The worst status among the lines (a failed run is a problem). */
enum sp_doctor_status sp_doctor_worst(const struct sp_doctor *d);

void sp_doctor_free(struct sp_doctor *d);

#endif
