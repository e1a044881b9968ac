/* binder: asks the vfio helper (a separate process, see helper.h) to check,
 * bind or release a VM's devices. Builds the helper's command line from
 * the settings and the resolved devices; the shim and the CLI both come
 * here. Never touches sysfs itself. */
#ifndef SP_BINDER_H
#define SP_BINDER_H

#include "../config/settings.h"
#include "helper.h"
#include "start.h"

/* SP_RELEASE_FORCE: a release also of devices whose holder still counts as
 * running (the helper's --force). */
enum sp_binder_op { SP_BIND, SP_RELEASE, SP_RELEASE_FORCE, SP_CHECK };

/* Runs the helper on the devices of a prepared start (bind="no" ones are
 * passed for IOMMU groups but not bound). Returns 0 when the helper
 * succeeded; else -1 with the helper's own message in err. */
int sp_binder_run(enum sp_binder_op op, const struct sp_settings *s, const char *vm,
                  const struct sp_resolved_dev *devs, size_t n, struct sp_helper_result *res,
                  struct sp_err *err);

/* The helper's bind (the shim) or check (preview, check) for a prepared,
 * ready start that has devices to bind; on refusal the start becomes
 * SP_REFUSED with "VM LABEL: <the helper's words>", the same either way.
 * Returns 0 or -1. */
int sp_binder_for_start(enum sp_binder_op op, struct sp_start *st, struct sp_helper_result *res);

/* What a start's bind would refuse, read-only (the helper's check), for a
 * ready start with devices to bind: preview and check say what the start
 * does. 0 when it would go ahead (or has nothing to bind), -1 when st is
 * now SP_REFUSED with the start's own message. */
int sp_binder_check_start(struct sp_start *st);

/* Releases the devices that res (a bind's result) reports as newly bound,
 * by force: the start they were bound for failed. */
int sp_binder_undo(const struct sp_settings *s, const char *vm,
                   const struct sp_helper_result *bound, struct sp_err *err);

/* A VM stopped: its release="yes" devices go back to their host drivers. */
int sp_binder_release_stopped(const struct sp_settings *s, const char *vm, struct sp_err *err);

/* True when a start has at least one device for the helper to bind. */
int sp_binder_needed(const struct sp_resolved_dev *devs, size_t n);

#endif
