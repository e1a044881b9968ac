/* synopassthru-virsh: virsh with the shim preloaded, for VMs started by
 * hand. Puts the shim first in LD_PRELOAD (keeping what was there) and
 * execs virsh with the same arguments. SYNOPASSTHRU_SHIM and
 * SYNOPASSTHRU_VIRSH point elsewhere (tests, unusual installs). Fails
 * closed: a shim that is missing or does not load stops it before virsh
 * runs, since a plain virsh would start the VMs without their devices. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SP_LIBDIR
#define SP_LIBDIR "/usr/local/lib/synopassthru"
#endif

static const char *from_env(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

int main(int argc, char **argv)
{
    (void)argc;
    const char *shim = from_env("SYNOPASSTHRU_SHIM", SP_LIBDIR "/libsynopassthru.so");
    const char *virsh = from_env("SYNOPASSTHRU_VIRSH", "virsh");
    /* The loader skips a preload it cannot open, with a warning only: try
     * it here, every symbol bound, and refuse with the loader's reason. */
    void *handle = dlopen(shim, RTLD_NOW | RTLD_LOCAL);
    if (!handle || !dlsym(handle, "virDomainCreateXML")) {
        fprintf(stderr, "synopassthru-virsh: the shim %s does not load, so virsh would start "
                        "VMs without their devices: %s\n",
                shim, handle ? "it has no virDomainCreateXML" : dlerror());
        return 1;
    }
    dlclose(handle);
    const char *old = getenv("LD_PRELOAD");
    char *preload = NULL;
    int rc = old && *old && !strstr(old, shim) ? asprintf(&preload, "%s %s", shim, old)
             : old && *old                     ? asprintf(&preload, "%s", old)
                                               : asprintf(&preload, "%s", shim);
    if (rc < 0 || setenv("LD_PRELOAD", preload, 1) < 0) {
        fprintf(stderr, "synopassthru-virsh: out of memory\n");
        return 127;
    }
    free(preload);
    argv[0] = (char *)virsh;
    execvp(virsh, argv);
    fprintf(stderr, "synopassthru-virsh: cannot run %s: ", virsh);
    perror(NULL);
    return 127;
}
