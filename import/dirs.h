/* dirs: makes a folder and every missing one above it, each with an exact
 * mode whatever the umask. Owns nothing else; never changes a folder that
 * is there already. */
#ifndef SP_IMPORT_DIRS_H
#define SP_IMPORT_DIRS_H

#include <sys/types.h>

#include "../common/err.h"

int sp_import_mkdirs(const char *dir, mode_t mode, struct sp_err *err);

#endif
