/* audit: one JSON object per line for every start a snippet matched.
 * Owns the record's shape and the append: the file is created mode 0600 and
 * each record is appended under the file's lock, whole or not at all, so
 * concurrent starts never interleave and a full disk leaves no partial
 * line. Never decides anything about the start. */
#ifndef SP_AUDIT_H
#define SP_AUDIT_H

#include "../common/err.h"
#include "start.h"

/* What libvirt did with a start that went through (NULL message: success). */
struct sp_audit_outcome {
    const char *bound;         /* the vfio helper's report (lines), or NULL */
    int forwarded;             /* the real libvirt call was made */
    int libvirt_ok;
    const char *libvirt_error; /* libvirt's message when it failed */
};

struct sp_json;
/* "snippets": [the files of the start's entries], as the record has them. */
void sp_audit_put_snippets(struct sp_json *j, const struct sp_start *st);

/* The record as a JSON text (no newline), malloc'd. */
char *sp_audit_format(const struct sp_start *st, const char *api,
                      const struct sp_audit_outcome *outcome);

/* A record written the moment the devices are on vfio-pci, before libvirt
 * is called: {"event":"bind", ..., "bound":[helper lines]}. */
int sp_audit_write_bind(const struct sp_start *st, const char *api, const char *helper_out,
                        struct sp_err *err);

/* Appends the record to the configured audit log ("" disables it). */
int sp_audit_write(const struct sp_start *st, const char *api,
                   const struct sp_audit_outcome *outcome, struct sp_err *err);

#endif
