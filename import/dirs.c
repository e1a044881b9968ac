#include "dirs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One folder, when it is not there. */
static int make_one(const char *dir, mode_t mode, struct sp_err *err)
{
    if (mkdir(dir, mode) < 0)
        return errno == EEXIST ? 0 : sp_err_set(err, "%s: %s", dir, strerror(errno));
    if (chmod(dir, mode) < 0)
        return sp_err_set(err, "%s: %s", dir, strerror(errno));
    return 0;
}

int sp_import_mkdirs(const char *dir, mode_t mode, struct sp_err *err)
{
    char *copy = strdup(dir);
    if (!copy)
        return sp_err_set(err, "out of memory");
    int rc = 0;
    for (char *p = copy + 1; *p && rc == 0; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        rc = make_one(copy, mode, err);
        *p = '/';
    }
    if (rc == 0)
        rc = make_one(copy, mode, err);
    free(copy);
    return rc;
}
