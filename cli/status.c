/* synopassthru status [--json]: every process that has libvirt mapped, and
 * whether the shim is mapped beside it (with its version and config dir).
 * Reads /proc, or $SYNOPASSTHRU_PROC_ROOT for tests. Exit 1 when a libvirt
 * daemon runs without the shim. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/json.h"
#include "../injector/procscan.h"
#include "../pci/pci.h"
#include "cli.h"

static void put_process(struct sp_json *j, const struct sp_libvirt_proc *p)
{
    sp_json_begin_object(j);
    sp_json_member_int(j, "pid", p->pid);
    sp_json_member_str(j, "name", p->comm);
    sp_json_member_str(j, "libvirt", p->libvirt);
    sp_json_member_bool(j, "daemon", sp_procscan_is_daemon(p));
    sp_json_member_bool(j, "shim", p->shim[0] != 0);
    sp_json_member_str(j, "shim_path", p->shim[0] ? p->shim : NULL);
    sp_json_member_str(j, "version", p->shim[0] ? p->version : NULL);
    sp_json_member_str(j, "config_dir", p->shim[0] ? p->config_dir : NULL);
    sp_json_end_object(j);
}

static void print_text(const struct sp_libvirt_proc *p)
{
    if (p->shim[0])
        printf("%-8d %-16s shim %s (version %s, config %s)\n", p->pid, p->comm, p->shim,
               p->version, p->config_dir);
    else
        printf("%-8d %-16s NO SHIM%s\n", p->pid, p->comm,
               sp_procscan_is_daemon(p) ? ": VMs started here get no passthrough devices" : "");
}

int sp_cmd_status(const struct sp_cli_opts *opts)
{
    int json = opts->argc > 0 && strcmp(opts->argv[0], "--json") == 0;
    const char *proc_root = sp_pci_proc_root(NULL);
    struct sp_libvirt_proc *procs;
    size_t n;
    struct sp_err err;
    if (sp_procscan(proc_root, &procs, &n, &err) < 0) {
        sp_cli_error("status: %s", err.msg);
        return SP_EXIT_INPUT;
    }
    struct sp_json list;
    sp_cli_json_begin(&list);
    sp_json_key(&list, "processes");
    sp_json_begin_array(&list);
    int unprotected = 0;
    for (size_t i = 0; i < n; i++) {
        unprotected += sp_procscan_is_daemon(&procs[i]) && !procs[i].shim[0];
        if (json)
            put_process(&list, &procs[i]);
        else
            print_text(&procs[i]);
    }
    free(procs);
    sp_json_end_array(&list);
    sp_json_end_object(&list);
    if (!json) {
        free(sp_json_take(&list));
        if (n == 0)
            printf("no process has libvirt mapped\n");
    } else if (sp_cli_print_json(&list, "status") != SP_EXIT_OK) {
        return SP_EXIT_INTERNAL;
    }
    if (unprotected)
        sp_cli_error("status: %d libvirt daemon(s) run without the shim", unprotected);
    return unprotected ? SP_EXIT_REFUSED : SP_EXIT_OK;
}
