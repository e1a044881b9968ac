/* edits: the changes a snippet asks of the domain's own elements.
 * video="none": every <video> gives way to one <video><model type='none'/>
 * (alias "ua-sp-video"), so that the passed GPU is the VM's only display.
 * hypervisor="hidden": <features><kvm><hidden state='on'/> and the CPU
 * feature 'hypervisor' disabled, for guest drivers that refuse to run in a
 * VM. Each change is noted in the domain's <metadata>, with what was there
 * before, so that a definition written back from live XML gets back what it
 * had. Never touches anything else: other devices are xmlpatch.c's. */
#ifndef SP_EDITS_H
#define SP_EDITS_H

#include <libxml/tree.h>

#include "../common/err.h"
#include "xmlpatch.h"

/* Namespace of the note in <metadata>. */
#define SP_EDITS_NS "urn:synopassthru:edits:1"
#define SP_VIDEO_ALIAS SP_ALIAS_PREFIX "video"

struct sp_edit_opts {
    int video_none;      /* video="none" */
    int hide_hypervisor; /* hypervisor="hidden" */
};

/* Makes the changes opts asks for that doc does not have yet, each listed
 * in report (video, features, cpu) and noted. -1 with err when memory runs
 * out or the domain's <cpu> cannot take the feature. */
int sp_edits_apply(xmlDocPtr doc, const struct sp_edit_opts *opts, struct sp_patch_report *report,
                   struct sp_err *err);

/* Takes back each noted change that doc still has as it was made, then
 * the note. Returns how many of these went (the note counts), 0 when doc
 * has no note, -1 when memory runs out. */
int sp_edits_revert(xmlDocPtr doc, struct sp_err *err);

#endif
