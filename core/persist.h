/* persist: persistent domains. To start a defined VM with its devices, the
 * shim stores a patched definition for the moment of the start and then
 * puts the original back. The patched one carries a marker with the
 * original text, so that a start that died half way is healed by the next
 * one, and a definition written back from live XML loses what we added
 * and gets back what we changed (xmlpatch/edits.h).
 * Never calls libvirt: the shim does, with these texts. */
#ifndef SP_PERSIST_H
#define SP_PERSIST_H

#include <stddef.h>

#include "../common/err.h"

/* Namespace of our <metadata> marker. */
#define SP_PERSIST_NS "urn:synopassthru:original:1"

/* The original definition saved in a marked one (malloc'd), or NULL when
 * xml carries no marker. */
char *sp_persist_original(const char *xml);

/* patched + a marker holding original: what to store during the start. */
int sp_persist_mark(const char *patched, size_t len, const char *original, char **out,
                    struct sp_err *err);

/* For a definition on its way in: takes out the marker and every element
 * we added, and takes back the noted changes. 1 with *out when something
 * was taken out or back, 0 when xml has nothing of ours (then *out is
 * NULL), -1 on error. */
int sp_persist_clean(const char *xml, char **out, struct sp_err *err);

#endif
