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

/* Releases the devices that res (a bind's result) reports as newly bound,
 * by force: the start they were bound for failed. */
int sp_binder_undo(const struct sp_settings *s, const char *vm,
                   const struct sp_helper_result *bound, struct sp_err *err);

/* A VM stopped: its release="yes" devices go back to their host drivers. */
int sp_binder_release_stopped(const struct sp_settings *s, const char *vm, struct sp_err *err);

/* True when a start has at least one device for the helper to bind. */
int sp_binder_needed(const struct sp_resolved_dev *devs, size_t n);

#endif
