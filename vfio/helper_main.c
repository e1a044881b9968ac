/* synopassthru-vfio: the vfio helper, run as its own process (by the shim
 * and the CLI, with a timeout) so that a driver stuck in unbind can never
 * hang its caller.
 *   synopassthru-vfio bind    --root SYSFS [--proc-root PROC] --state-dir DIR --vm NAME DEV...
 *   synopassthru-vfio release --root SYSFS --state-dir DIR [--vm NAME] [--force] ADDR...
 *   synopassthru-vfio check   --root SYSFS [--proc-root PROC] [--state-dir DIR --vm NAME] DEV...
 *   synopassthru-vfio release-stopped --root SYSFS --state-dir DIR --vm NAME
 * DEV is ADDR[=VVVV:DDDD][,nobind|,release][,allow-host-use]: the VM's whole
 * device set; nobind ones count for IOMMU groups but are not bound; release
 * ones are given back by release-stopped once the VM stops; allow-host-use
 * ones may be what the host uses (host_use="allow"), but never what / or
 * the DSM boot device needs. check and bind read what the host uses under
 * --proc-root (default /proc). release refuses a device whose holder still
 * counts as alive unless --force; check with --state-dir and --vm also
 * reports devices held by another live VM. Exit 0 done, 1 refused or failed
 * (the reason on stderr, one line), 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"

struct args {
    const char *cmd, *root, *proc_root, *state_dir, *vm;
    struct sp_vfio_device *devs;
    struct sp_pci_addr *bind;
    unsigned char *release;
    size_t n_devs, n_bind;
    int force;
};

static int usage(const char *why)
{
    fprintf(stderr, "synopassthru-vfio: %s (usage: synopassthru-vfio bind|release|check "
                    "--root SYSFS [--state-dir DIR] [--vm NAME] [--force] DEV...)\n", why);
    return 2;
}

/* The flags after ADDR[=IDS]: nobind or release, and allow-host-use. */
static int parse_flags(char *flags, int *nobind, int *release, int *allow_host_use)
{
    char *save = NULL;
    for (char *f = strtok_r(flags, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        int *set = strcmp(f, "nobind") == 0           ? nobind
                   : strcmp(f, "release") == 0        ? release
                   : strcmp(f, "allow-host-use") == 0 ? allow_host_use
                                                      : NULL;
        if (!set)
            return -1;
        *set = 1;
    }
    return *nobind && *release ? -1 : 0;
}

/* ADDR[=VVVV:DDDD][,nobind|,release][,allow-host-use] */
static int parse_dev(char *text, struct args *a)
{
    struct sp_vfio_device d = {0};
    char *flags = strchr(text, ',');
    int nobind = 0, release = 0;
    if (flags) {
        *flags++ = '\0';
        if (parse_flags(flags, &nobind, &release, &d.allow_host_use) < 0)
            return -1;
    }
    char *ids = strchr(text, '=');
    if (ids) {
        *ids++ = '\0';
        char *colon = strchr(ids, ':');
        if (!colon)
            return -1;
        *colon++ = '\0';
        if (sp_pci_id_parse(ids, &d.ids.vendor) < 0 || sp_pci_id_parse(colon, &d.ids.device) < 0)
            return -1;
        d.has_ids = 1;
    }
    if (sp_pci_addr_parse(text, &d.addr, NULL) < 0)
        return -1;
    a->devs[a->n_devs++] = d;
    if (!nobind) {
        a->release[a->n_bind] = (unsigned char)release;
        a->bind[a->n_bind++] = d.addr;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
    a->devs = calloc((size_t)argc, sizeof(*a->devs));
    a->bind = calloc((size_t)argc, sizeof(*a->bind));
    a->release = calloc((size_t)argc, 1);
    if (!a->devs || !a->bind || !a->release)
        return usage("out of memory");
    a->cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        const char **opt = strcmp(argv[i], "--root") == 0        ? &a->root
                           : strcmp(argv[i], "--proc-root") == 0 ? &a->proc_root
                           : strcmp(argv[i], "--state-dir") == 0 ? &a->state_dir
                           : strcmp(argv[i], "--vm") == 0        ? &a->vm
                                                                 : NULL;
        if (opt && i + 1 < argc)
            *opt = argv[++i];
        else if (strcmp(argv[i], "--force") == 0)
            a->force = 1;
        else if (opt || argv[i][0] == '-')
            return usage("bad option");
        else if (parse_dev(argv[i], a) < 0) {
            fprintf(stderr, "synopassthru-vfio: bad device '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!a->proc_root)
        a->proc_root = SP_DEFAULT_PROC_ROOT;
    int needs_devices = strcmp(a->cmd, "release-stopped") != 0;
    if (!a->root || (needs_devices && a->n_devs == 0))
        return usage("--root and at least one device are needed");
    return 0;
}

static int run(const struct args *a)
{
    struct sp_err err;
    if (strcmp(a->cmd, "check") == 0) {
        /* The bind's own check and words, one line, changing nothing. */
        struct sp_vfio_request req = {a->root, a->proc_root, a->state_dir, a->vm, a->devs,
                                      a->n_devs, a->bind, a->release, a->n_bind};
        struct sp_problems problems = {0};
        sp_vfio_precheck(&req, &problems);
        int rc = sp_problems_to_err(&problems, &err);
        sp_problems_free(&problems);
        if (rc < 0)
            fprintf(stderr, "%s\n", err.msg);
        return rc < 0 ? 1 : 0;
    }
    if (!a->state_dir)
        return usage("--state-dir is needed");
    int rc;
    struct sp_vfio_giveback g = {a->root, a->proc_root, a->state_dir, a->vm, a->force};
    if (strcmp(a->cmd, "bind") == 0) {
        if (!a->vm)
            return usage("bind needs --vm");
        struct sp_vfio_request req = {a->root, a->proc_root, a->state_dir, a->vm, a->devs,
                                      a->n_devs, a->bind, a->release, a->n_bind};
        rc = sp_vfio_bind_request(&req, stdout, &err);
    } else if (strcmp(a->cmd, "release-stopped") == 0) {
        if (!a->vm)
            return usage("release-stopped needs --vm");
        rc = sp_vfio_release_stopped(&g, stdout, &err);
    } else if (strcmp(a->cmd, "release") == 0) {
        rc = sp_vfio_release(&g, a->bind, a->n_bind, stdout, &err);
    } else {
        return usage("unknown command");
    }
    if (rc < 0)
        fprintf(stderr, "%s\n", err.msg);
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage("no command");
    struct args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc == 0)
        rc = run(&a);
    free(a.devs);
    free(a.bind);
    free(a.release);
    return rc;
}
