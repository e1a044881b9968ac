#include "loadproof.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/helper.h"

#define PROOF_TIMEOUT_MS 20000

const char *sp_loadproof_bad_path(const char *shim)
{
    if (shim[0] != '/')
        return "it is not an absolute path";
    for (const unsigned char *p = (const unsigned char *)shim; *p; p++) {
        if (*p == ' ' || *p == ':')
            return "LD_PRELOAD cannot carry a path with a space or a colon";
        if (*p < 0x20 || *p == 0x7f)
            return "it holds a control character";
    }
    return NULL;
}

/* The loader's message, or the child's, in one line. */
static void first_lines(const struct sp_helper_result *res, char *out, size_t size)
{
    const char *text = res->errout[0] ? res->errout : res->out;
    snprintf(out, size, "%s", text[0] ? text : "(no message)");
    for (char *p = out; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

int sp_loadproof_run(const char *self, const char *shim, struct sp_err *err)
{
    const char *bad = sp_loadproof_bad_path(shim);
    if (bad)
        return sp_err_set(err, "shim %s cannot be preloaded: %s", shim, bad);
    char *preload = NULL;
    if (asprintf(&preload, "LD_PRELOAD=%s", shim) < 0)
        return sp_err_set(err, "out of memory");
    char *envp[] = {preload, "LD_BIND_NOW=1", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
                    NULL};
    char *argv[] = {(char *)self, SP_LOADPROOF_ARG, (char *)shim, NULL};
    static struct sp_helper_result res;
    int rc = sp_child_run("the load test", argv, envp, PROOF_TIMEOUT_MS, &res, err);
    free(preload);
    if (rc < 0)
        return sp_err_prefix(err, "shim %s: cannot tell whether it loads", shim);
    if (res.exit_code != 0 || strstr(res.errout, "cannot be preloaded")) {
        char msg[1024];
        first_lines(&res, msg, sizeof(msg));
        return sp_err_set(err, "shim %s does not load (a daemon started with it would not "
                               "start): %s", shim, msg);
    }
    return 0;
}

/* Where the loader found `name`: the path of the object that defines it. */
static const char *defining_object(const char *name)
{
    void *sym = dlsym(RTLD_DEFAULT, name);
    Dl_info info;
    if (!sym || !dladdr(sym, &info) || !info.dli_fname)
        return NULL;
    return info.dli_fname;
}

int sp_loadproof_child(const char *shim)
{
    const char *found = defining_object("virDomainCreateXML");
    char want[PATH_MAX], got[PATH_MAX];
    if (!found || !realpath(shim, want) || !realpath(found, got) || strcmp(want, got) != 0) {
        fprintf(stderr, "the shim was not loaded into the test process (%s)\n",
                found ? found : "no virDomainCreateXML in it");
        return 1;
    }
    printf("loaded %s\n", shim);
    return 0;
}
