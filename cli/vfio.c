/* synopassthru groups | bind | release: the vfio side of the tool.
 * `groups` reads sysfs under the sysfs root; bind and release go
 * through the vfio helper exactly as the shim does. Never writes sysfs itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "../common/json.h"
#include "../config/config.h"
#include "../core/binder.h"
#include "../core/start.h"
#include "../pci/reset.h"
#include "../vfio/check.h"
#include "../vfio/names.h"
#include "cli.h"
#include "term.h"

static const char *verdict_name(enum sp_group_verdict v)
{
    return v == SP_GROUP_ALONE ? "alone" : v == SP_GROUP_WHOLE ? "with-group" : "no";
}

int sp_cli_has_flag(const struct sp_cli_opts *opts, const char *flag)
{
    for (int i = 0; i < opts->argc; i++)
        if (strcmp(opts->argv[i], flag) == 0)
            return 1;
    return 0;
}

struct sp_snapshot *sp_cli_load_snapshot(const struct sp_cli_opts *opts, struct sp_config **cfg)
{
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    *cfg = sp_config_new(sp_config_dir_choose(opts->config_dir));
    if (!*cfg || sp_config_snapshot(*cfg, &snap, &err) < 0) {
        sp_cli_error("out of memory");
        return NULL;
    }
    return snap;
}

void sp_cli_put_reset(struct sp_json *j, const struct sp_pci_reset *r, const char *warning)
{
    sp_json_key(j, "reset");
    sp_json_begin_object(j);
    sp_json_key(j, "methods");
    if (r->listed) {
        char words[sizeof(r->methods)], *save = NULL;
        snprintf(words, sizeof(words), "%s", r->methods);
        sp_json_begin_array(j);
        for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
            sp_json_string(j, w);
        sp_json_end_array(j);
    } else {
        sp_json_null(j);
    }
    sp_json_member_bool(j, "available", sp_pci_reset_available(r));
    sp_json_key(j, "flr");
    if (r->flr < 0)
        sp_json_null(j);
    else
        sp_json_bool(j, r->flr);
    sp_json_member_str(j, "warning", warning && warning[0] ? warning : NULL);
    sp_json_end_object(j);
}

/* One device as groups sees it: given to a VM alone, can it be reset? The
 * warning ("" when none) is left out for what never goes to a VM. */
struct group_dev {
    struct sp_pci_info info;
    enum sp_group_verdict verdict;
    char why[1024];
    struct sp_pci_reset reset;
    char reset_text[256];
    char warning[SP_ERR_MAX];
};

static void judge_reset(const char *root, struct group_dev *d)
{
    struct sp_err err;
    char cause[SP_ERR_MAX];
    d->warning[0] = '\0';
    if (sp_pci_read_reset(root, &d->info.addr, &d->reset, &err) < 0) {
        snprintf(d->reset_text, sizeof(d->reset_text), "unknown");
        snprintf(d->warning, sizeof(d->warning), "cannot tell whether the kernel can reset it: %s",
                 err.msg);
        return;
    }
    d->reset.flr = sp_pci_read_flr(root, &d->info.addr);
    sp_pci_reset_describe(&d->reset, d->reset_text, sizeof(d->reset_text));
    if (d->verdict != SP_GROUP_NO &&
        sp_pci_reset_judge(root, &d->info.addr, &d->reset, &d->info.addr, 1, cause,
                           sizeof(cause)) != SP_RESET_OK)
        snprintf(d->warning, sizeof(d->warning), "%s; %s", cause, SP_RESET_CONSEQUENCE);
}

static void put_device(struct sp_json *j, const struct group_dev *d)
{
    const struct sp_pci_info *info = &d->info;
    char addr[SP_PCI_ADDR_STRLEN], ids[16], cls[128], name[256], class_hex[16];
    sp_pci_addr_format(&info->addr, addr);
    snprintf(ids, sizeof(ids), "%04x:%04x", info->vendor, info->device);
    snprintf(class_hex, sizeof(class_hex), "0x%06x", info->class_code);
    sp_json_begin_object(j);
    sp_json_member_str(j, "address", addr);
    sp_json_member_str(j, "ids", ids);
    sp_json_member_str(j, "class", class_hex);
    sp_json_member_str(j, "class_name", sp_pci_name_class(info->class_code, cls, sizeof(cls)));
    sp_json_member_str(j, "name", sp_pci_name_device(info->vendor, info->device, name,
                                                     sizeof(name)));
    sp_json_member_str(j, "driver", info->driver);
    sp_json_member_str(j, "verdict", verdict_name(d->verdict));
    sp_json_member_str(j, "reason", d->why);
    sp_cli_put_reset(j, &d->reset, d->warning);
    sp_json_end_object(j);
}

static enum sp_tone verdict_tone(enum sp_group_verdict v)
{
    return v == SP_GROUP_ALONE ? SP_TONE_OK : v == SP_GROUP_WHOLE ? SP_TONE_WARNING
                                                                  : SP_TONE_PROBLEM;
}

static void print_device(const struct group_dev *d)
{
    char text[512];
    int colour = sp_term_colour(stdout);
    sp_vfio_describe(&d->info, text, sizeof(text));
    printf("  %s\n    verdict: %s%s%s (%s)\n    reset: %s\n", text,
           sp_term_on(colour, verdict_tone(d->verdict)), verdict_name(d->verdict),
           sp_term_off(colour), d->why, d->reset_text);
    if (d->warning[0])
        printf("    %swarning:%s %s\n", sp_term_on(colour, SP_TONE_WARNING), sp_term_off(colour),
               d->warning);
}

/* One group, as text or (json non-NULL) as {"group": N, "devices": [...]}. */
static int list_group(const char *root, int group, struct sp_json *json)
{
    struct sp_pci_addr *members = NULL;
    size_t n = 0;
    struct sp_err err;
    if (sp_sysfs_group_members(root, group, &members, &n, &err) < 0) {
        sp_cli_error("%s", err.msg);
        return -1;
    }
    if (json) {
        sp_json_begin_object(json);
        sp_json_member_int(json, "group", group);
        sp_json_key(json, "devices");
        sp_json_begin_array(json);
    } else {
        printf("IOMMU group %d\n", group);
    }
    for (size_t i = 0; i < n; i++) {
        struct group_dev d;
        if (sp_sysfs_device_info(root, &members[i], &d.info, &err) < 0) {
            sp_cli_error("%s", err.msg);
            continue;
        }
        d.verdict = sp_vfio_verdict(root, &d.info, d.why, sizeof(d.why));
        judge_reset(root, &d);
        if (json)
            put_device(json, &d);
        else
            print_device(&d);
    }
    if (json) {
        sp_json_end_array(json);
        sp_json_end_object(json);
    }
    free(members);
    return 0;
}

void sp_cli_json_begin(struct sp_json *j)
{
    sp_json_init(j, 2);
    sp_json_begin_object(j);
    sp_json_member_int(j, "schema", SP_CLI_JSON_SCHEMA);
}

int sp_cli_print_json(struct sp_json *j, const char *cmd)
{
    if (sp_json_print(j, stdout) == 0)
        return SP_EXIT_OK;
    sp_cli_error("%s: cannot write the output", cmd);
    return SP_EXIT_INTERNAL;
}

int sp_cmd_groups(const struct sp_cli_opts *opts)
{
    struct sp_config *cfg;
    struct sp_snapshot *snap = sp_cli_load_snapshot(opts, &cfg);
    if (!snap)
        return SP_EXIT_INTERNAL;
    const char *root = sp_pci_sysfs_root(snap->settings.sysfs_root);
    int json = sp_cli_has_flag(opts, "--json"), code = SP_EXIT_OK;
    if (sp_cli_has_flag(opts, "--tree") && !json) {
        code = sp_cli_groups_tree(root, sp_pci_proc_root(snap->settings.proc_root));
        sp_snapshot_release(snap);
        sp_config_free(cfg);
        return code;
    }
    int *groups = NULL;
    size_t n = 0;
    struct sp_err err;
    if (sp_sysfs_groups(root, &groups, &n, &err) < 0) {
        sp_cli_error("%s", err.msg);
        code = SP_EXIT_INPUT;
    } else if (n == 0) {
        sp_cli_error("no IOMMU groups under %s/kernel/iommu_groups: the IOMMU is off", root);
        code = SP_EXIT_REFUSED;
    }
    struct sp_json all;
    sp_cli_json_begin(&all);
    sp_json_key(&all, "groups");
    sp_json_begin_array(&all);
    for (size_t i = 0; code == SP_EXIT_OK && i < n; i++)
        if (list_group(root, groups[i], json ? &all : NULL) < 0)
            code = SP_EXIT_INPUT;
    sp_json_end_array(&all);
    sp_json_end_object(&all);
    if (json && code == SP_EXIT_OK)
        code = sp_cli_print_json(&all, "groups");
    else
        free(sp_json_take(&all));
    free(groups);
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    return code;
}

static const char bind_usage[] =
    "Usage: synopassthru [--config DIR] bind [--vm NAME] ADDR...\n"
    "Puts the devices on vfio-pci through the vfio helper, held by VM NAME\n"
    "(default \"(manual)\"). Exit 0 bound; 1 refused; 2 bad command line.\n";

static const char release_usage[] =
    "Usage: synopassthru [--config DIR] release [--vm NAME] [--force] ADDR...\n"
    "Gives the devices back to the driver they had before they were bound, and\n"
    "drops their holds. A device whose VM still runs (or was bound less than two\n"
    "minutes ago) is refused, naming the VM, unless --force. A device nobody\n"
    "holds is said to be so. Exit 0 done; 1 refused; 2 bad command line.\n";

/* The addresses and options of bind/release into devs (*n of them); 1 when
 * --help was printed, -1 on a usage error (said), else 0. */
static int parse_addresses(const struct sp_cli_opts *opts, enum sp_binder_op *op,
                           const char **vm, struct sp_resolved_dev *devs, size_t *n)
{
    const char *cmd = *op == SP_BIND ? "bind" : "release";
    for (int i = 0; i < opts->argc; i++) {
        const char *arg = opts->argv[i];
        struct sp_err err;
        if (strcmp(arg, "--vm") == 0 && i + 1 < opts->argc) {
            *vm = opts->argv[++i];
        } else if (*op != SP_BIND && strcmp(arg, "--force") == 0) {
            *op = SP_RELEASE_FORCE;
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(*op == SP_BIND ? bind_usage : release_usage, stdout);
            return 1;
        } else if (arg[0] == '-') {
            sp_cli_error("%s: unknown option '%s' (see synopassthru %s --help)", cmd, arg, cmd);
            return -1;
        } else if (sp_pci_addr_parse(arg, &devs[*n].addr, &err) < 0) {
            sp_cli_error("%s", err.msg);
            return -1;
        } else {
            devs[*n].has_addr = devs[*n].bind = 1;
            ++*n;
        }
    }
    if (*n == 0) {
        sp_cli_error("%s: give one or more PCI addresses", cmd);
        return -1;
    }
    return 0;
}

/* The helper's op on devs; its report on stdout, its refusal on stderr. */
static int run_helper(const struct sp_cli_opts *opts, enum sp_binder_op op, const char *vm,
                      const struct sp_resolved_dev *devs, size_t n)
{
    struct sp_config *cfg;
    struct sp_snapshot *snap = sp_cli_load_snapshot(opts, &cfg);
    int code = SP_EXIT_INTERNAL;
    struct sp_helper_result *res = calloc(1, sizeof(*res));
    if (snap && res) {
        struct sp_err err;
        int rc = sp_binder_run(op, &snap->settings, vm, devs, n, res, &err);
        fputs(res->out, stdout); /* what was done, also when some were refused */
        if (rc < 0)
            sp_cli_error("%s", err.msg);
        code = rc < 0 ? SP_EXIT_REFUSED : SP_EXIT_OK;
    }
    free(res);
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    return code;
}

/* bind/release ADDR...: the helper on bare addresses, held by --vm NAME. */
static int run_on_addresses(const struct sp_cli_opts *opts, enum sp_binder_op op)
{
    const char *vm = op == SP_BIND ? "(manual)" : NULL;
    struct sp_resolved_dev *devs = calloc((size_t)opts->argc + 1, sizeof(*devs));
    size_t n = 0;
    if (!devs) {
        sp_cli_error("out of memory");
        return SP_EXIT_INTERNAL;
    }
    int parsed = parse_addresses(opts, &op, &vm, devs, &n);
    int code = parsed > 0   ? SP_EXIT_OK
               : parsed < 0 ? SP_EXIT_USAGE
                            : run_helper(opts, op, vm, devs, n);
    free(devs);
    return code;
}

int sp_cmd_bind(const struct sp_cli_opts *opts)
{
    return run_on_addresses(opts, SP_BIND);
}

int sp_cmd_release(const struct sp_cli_opts *opts)
{
    return run_on_addresses(opts, SP_RELEASE);
}
