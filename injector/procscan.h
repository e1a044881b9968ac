/* procscan: which processes have libvirt mapped and whether the shim is
 * mapped beside it (with the version the shim file carries and the config
 * dir the process was given), read from /proc or a fake proc root. Owns
 * reading maps, comm and environ; never signals or changes a process. */
#ifndef SP_PROCSCAN_H
#define SP_PROCSCAN_H

#include <stddef.h>

#include "../common/err.h"

#define SP_SHIM_NAME "libsynopassthru.so"

struct sp_libvirt_proc {
    int pid;
    char comm[64];
    char libvirt[512];    /* path of the mapped libvirt library */
    char shim[512];       /* path of the mapped shim, "" when none */
    char version[32];     /* the shim's, when mapped */
    char config_dir[512]; /* the shim's, when mapped */
};

/* Every process under proc_root that has libvirt mapped, in directory
 * order; *out malloc'd (NULL when none). -1 with err when proc_root cannot
 * be read or memory runs out. */
int sp_procscan(const char *proc_root, struct sp_libvirt_proc **out, size_t *n,
                struct sp_err *err);

/* The path at the end of the first line of a maps text (NUL-terminated)
 * that maps a file whose name starts with lib, into out (always
 * NUL-terminated, cut to size); "" when no line does. */
void sp_procscan_mapped_path(const char *maps, const char *lib, char *out, size_t size);

/* The value of key ("NAME=") in an environ block of len bytes (NAME=VALUE
 * strings, each ending in NUL; a NUL at env[len] too), the last one when
 * there are several, into out as sp_procscan_mapped_path does; 0 found, -1
 * not (out untouched). */
int sp_procscan_environ_value(const char *env, size_t len, const char *key, char *out,
                              size_t size);

/* libvirtd, or one of the modular daemons that start VMs. */
int sp_procscan_is_daemon(const struct sp_libvirt_proc *p);

#endif
