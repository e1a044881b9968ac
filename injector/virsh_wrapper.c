/* synopassthru-virsh: virsh with the shim preloaded, for VMs started by
 * hand. Puts the shim first in LD_PRELOAD (keeping what was there) and
 * execs virsh with the same arguments. SYNOPASSTHRU_SHIM and
 * SYNOPASSTHRU_VIRSH point elsewhere (tests, unusual installs). */
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
