/* vmcheck: what `check VM` and `doctor` ask of one VM: the start's own
 * decision, read-only, with every problem it meets (the config's refusal
 * and the vfio helper's check both, so that all show at once). Owns nothing
 * but that sequence; never binds, never writes. */
#ifndef SP_VMCHECK_H
#define SP_VMCHECK_H

#include <stddef.h>

#include "../config/config.h"
#include "../vfio/check.h"
#include "start.h"

/* The start of vm, prepared in st (free it with sp_start_free), and its
 * problems added to problems. domain is the VM's own XML (its firmware
 * counts) or NULL for a stand-in that carries only the key. -1 when memory
 * runs out. */
int sp_vmcheck(struct sp_snapshot *snap, const char *vm, const char *domain, size_t domain_len,
               struct sp_start *st, struct sp_problems *problems);

#endif
