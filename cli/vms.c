/* synopassthru vms [--json] [--names] [--connect URI]: the VMs libvirt
 * knows, each with its name, UUID, title and state, the snippets that name
 * it (by any of the three) and what check says of its devices; snippets
 * that name no VM are listed as such. Without libvirt: the config's VMs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/json.h"
#include "../config/config.h"
#include "../core/audit.h"
#include "../core/start.h"
#include "../vfio/check.h"
#include "cli.h"
#include "virt.h"

static const char usage[] =
    "Usage: synopassthru [--config DIR] vms [--json] [--names] [--connect URI]\n"
    "  --connect URI  libvirt to ask (default: $LIBVIRT_DEFAULT_URI,\n"
    "                 else " SP_VIRT_DEFAULT_URI ")\n"
    "  --names        one VM name or title a line (for completion)\n"
    "  --json         {\"schema\": 1, \"libvirt\": {...}, \"vms\": [...], \"unknown\": [...]}";

/* ---- identifying a VM (shared with the commands that take one) ---- */

static int id_from(const struct sp_virt_vm *vm, const char *arg, struct sp_vm_id *out)
{
    memset(out, 0, sizeof(*out));
    out->arg = arg;
    out->known = 1;
    out->name = strdup(vm->name);
    out->title = vm->title ? strdup(vm->title) : NULL;
    snprintf(out->uuid, sizeof(out->uuid), "%s", vm->uuid);
    if (!out->name || (vm->title && !out->title)) {
        sp_cli_vm_id_free(out);
        return -1;
    }
    return 0;
}

int sp_cli_vm_unresolved(const char *arg, struct sp_vm_id *out)
{
    memset(out, 0, sizeof(*out));
    out->arg = arg;
    return 0;
}

int sp_cli_vm_identify(const char *uri, const char *arg, struct sp_vm_id *out)
{
    struct sp_virt_list list;
    sp_cli_vm_unresolved(arg, out);
    if (sp_virt_list_vms(SP_VIRT_LIBRARY, uri, &list, &out->unreached) < 0)
        return 0;
    const struct sp_virt_vm *vm = sp_virt_find(&list, arg);
    int rc = vm ? id_from(vm, arg, out) : 0;
    sp_virt_list_free(&list);
    return rc;
}

void sp_cli_vm_id_free(struct sp_vm_id *id)
{
    free(id->name);
    free(id->title);
    id->name = id->title = NULL;
}

/* ---- one VM's report ---- */

struct vm_report {
    struct sp_vm_id id;
    const char *state;        /* NULL: libvirt not asked */
    struct sp_start st;
    struct sp_problems problems;
    int has_snippets;
};

/* The problem that names the device at addr, NULL when none does. */
static const char *problem_of(const struct sp_problems *p, const char *addr)
{
    for (size_t i = 0; i < p->n; i++)
        if (strstr(p->items[i], addr))
            return p->items[i];
    return NULL;
}

/* The problem names one of the VM's devices (it is said on that device's line). */
static int names_a_device(const struct vm_report *r, const char *problem)
{
    for (size_t i = 0; i < r->st.n_devs; i++) {
        char addr[SP_PCI_ADDR_STRLEN];
        if (!r->st.devs[i].has_addr)
            continue;
        sp_pci_addr_format(&r->st.devs[i].addr, addr);
        if (strstr(problem, addr))
            return 1;
    }
    return 0;
}

static void put_devices_json(struct sp_json *j, const struct vm_report *r)
{
    sp_json_key(j, "devices");
    sp_json_begin_array(j);
    for (size_t i = 0; i < r->st.n_devs; i++) {
        const struct sp_resolved_dev *d = &r->st.devs[i];
        char addr[SP_PCI_ADDR_STRLEN], id[8];
        if (!d->has_addr)
            continue;
        sp_pci_addr_format(&d->addr, addr);
        const char *why = problem_of(&r->problems, addr);
        sp_json_begin_object(j);
        sp_json_member_str(j, "address", addr);
        snprintf(id, sizeof(id), "%04x", d->ids.vendor);
        sp_json_member_str(j, "vendor", d->has_ids ? id : NULL);
        snprintf(id, sizeof(id), "%04x", d->ids.device);
        sp_json_member_str(j, "product", d->has_ids ? id : NULL);
        sp_json_member_str(j, "verdict", why ? "refused" : "ok");
        sp_json_member_str(j, "reason", why);
        sp_json_end_object(j);
    }
    sp_json_end_array(j);
}

static void put_vm_json(struct sp_json *j, const struct vm_report *r)
{
    sp_json_begin_object(j);
    sp_json_member_str(j, "name", r->id.known ? r->id.name : r->id.arg);
    sp_json_member_str(j, "uuid", r->id.uuid[0] ? r->id.uuid : NULL);
    sp_json_member_str(j, "title", r->id.title);
    sp_json_member_str(j, "state", r->state);
    sp_audit_put_snippets(j, &r->st);
    sp_json_key(j, "ok");
    if (r->has_snippets)
        sp_json_bool(j, r->problems.n == 0);
    else
        sp_json_null(j);
    put_devices_json(j, r);
    sp_json_member_strings(j, "warnings", r->st.warnings, r->st.n_warnings);
    sp_json_member_strings(j, "problems", r->problems.items, r->has_snippets ? r->problems.n : 0);
    sp_json_end_object(j);
}

static void print_vm_text(const struct vm_report *r)
{
    const struct sp_vm_id *id = &r->id;
    if (id->known) {
        printf("%s", id->title ? id->title : id->name);
        if (id->title)
            printf(" (name %s)", id->name);
        printf("  %s  %s\n", id->uuid, r->state);
    } else {
        printf("%s  (from the config)\n", id->arg);
    }
    if (!r->has_snippets) {
        printf("  no snippet\n");
        return;
    }
    for (size_t e = 0; e < r->st.n_entries; e++)
        for (size_t f = 0; f < r->st.entries[e]->n_files; f++)
            printf("  snippet %s\n", r->st.entries[e]->files[f]);
    for (size_t i = 0; i < r->st.n_devs; i++) {
        const struct sp_resolved_dev *d = &r->st.devs[i];
        char addr[SP_PCI_ADDR_STRLEN];
        if (!d->has_addr)
            continue;
        sp_pci_addr_format(&d->addr, addr);
        printf("  %s", addr);
        if (d->has_ids)
            printf(" [%04x:%04x]", d->ids.vendor, d->ids.device);
        const char *why = problem_of(&r->problems, addr);
        printf(": %s%s\n", why ? "refused: " : "ok", why ? why : "");
    }
    for (size_t i = 0; i < r->problems.n; i++)
        if (!names_a_device(r, r->problems.items[i]))
            printf("  problem: %s\n", r->problems.items[i]);
    for (size_t i = 0; i < r->st.n_warnings; i++)
        printf("  warning: %s\n", r->st.warnings[i]);
}

/* check's verdict for the VM r->id names. */
static int report_vm(struct sp_snapshot *snap, struct vm_report *r)
{
    if (sp_cli_check_vm(snap, &r->id, NULL, 0, &r->st, &r->problems) < 0)
        return -1;
    r->has_snippets = r->st.verdict != SP_UNMATCHED;
    return 0;
}

static void report_free(struct vm_report *r)
{
    sp_cli_vm_id_free(&r->id);
    sp_start_free(&r->st);
    sp_problems_free(&r->problems);
}

/* ---- the listing ---- */

/* The config entry is named by one of libvirt's VMs. */
static int entry_has_vm(const struct sp_snapshot *snap, const struct sp_vm_entry *e,
                        const struct sp_virt_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        const struct sp_virt_vm *vm = &list->vms[i];
        if (sp_snapshot_lookup(snap, vm->name) == e ||
            (vm->uuid[0] && sp_snapshot_lookup(snap, vm->uuid) == e) ||
            (vm->title && sp_snapshot_lookup(snap, vm->title) == e))
            return 1;
    }
    return 0;
}

static int by_key(const void *a, const void *b)
{
    return strcmp((*(const struct sp_vm_entry *const *)a)->key,
                  (*(const struct sp_vm_entry *const *)b)->key);
}

/* The config's VM entries, sorted by key; NULL with *n 0 when there are
 * none or memory ran out (*n says which: SIZE_MAX). */
static const struct sp_vm_entry **sorted_entries(const struct sp_snapshot *snap, size_t *n)
{
    size_t count = snap->n_vms, i = 0;
    const struct sp_vm_entry **out = calloc(count ? count : 1, sizeof(*out));
    *n = out ? count : SIZE_MAX;
    for (const struct sp_vm_entry *e = sp_snapshot_next(snap, NULL); out && e && i < count;
         e = sp_snapshot_next(snap, e))
        out[i++] = e;
    if (out)
        qsort(out, count, sizeof(*out), by_key);
    return out;
}

/* One VM's report, printed or put in j. */
static int show_vm(struct sp_snapshot *snap, struct vm_report *r, struct sp_json *j)
{
    int rc = report_vm(snap, r);
    if (rc == 0 && j)
        put_vm_json(j, r);
    else if (rc == 0)
        print_vm_text(r);
    report_free(r);
    return rc;
}

/* Each of libvirt's VMs, or (unreachable) each VM the config names. */
static int show_vms(struct sp_snapshot *snap, const struct sp_virt_list *list, int reachable,
                    const struct sp_vm_entry **entries, size_t n_entries, struct sp_json *j)
{
    size_t n = reachable ? list->n : n_entries;
    for (size_t i = 0; i < n; i++) {
        struct vm_report r = {0};
        if (reachable) {
            if (id_from(&list->vms[i], list->vms[i].name, &r.id) < 0)
                return -1;
            r.state = list->vms[i].state;
        } else {
            sp_cli_vm_unresolved(entries[i]->key, &r.id);
        }
        if (show_vm(snap, &r, j) < 0)
            return -1;
    }
    return 0;
}

/* The snippets whose vm= is none of libvirt's VMs. */
static void show_unknown(const struct sp_snapshot *snap, const struct sp_virt_list *list,
                         const struct sp_vm_entry **entries, size_t n, struct sp_json *j)
{
    for (size_t i = 0; i < n; i++) {
        if (entry_has_vm(snap, entries[i], list))
            continue;
        for (size_t f = 0; f < entries[i]->n_files; f++) {
            if (j) {
                sp_json_begin_object(j);
                sp_json_member_str(j, "vm", entries[i]->key);
                sp_json_member_str(j, "snippet", entries[i]->files[f]);
                sp_json_end_object(j);
            } else {
                printf("no such VM: '%s' (%s)\n", entries[i]->key, entries[i]->files[f]);
            }
        }
    }
}

/* --names: each VM's name and title, or the config's VM keys. */
static void print_names(const struct sp_virt_list *list, int reachable,
                        const struct sp_vm_entry **entries, size_t n)
{
    for (size_t i = 0; reachable && i < list->n; i++) {
        puts(list->vms[i].name);
        if (list->vms[i].title)
            puts(list->vms[i].title);
    }
    for (size_t i = 0; !reachable && i < n; i++)
        puts(entries[i]->key);
}

struct vms_args {
    int json, names;
    const char *connect;
};

/* 0 parsed, 1 help printed, -1 usage error (already reported). */
static int parse_vms_args(const struct sp_cli_opts *opts, struct vms_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 0; i < opts->argc; i++) {
        const char *arg = opts->argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            puts(usage);
            return 1;
        } else if (strcmp(arg, "--json") == 0) {
            a->json = 1;
        } else if (strcmp(arg, "--names") == 0) {
            a->names = 1;
        } else if (strcmp(arg, "--connect") == 0) {
            if (i + 1 == opts->argc) {
                sp_cli_error("vms: --connect needs a URI (see synopassthru vms --help)");
                return -1;
            }
            a->connect = opts->argv[++i];
        } else {
            sp_cli_error("vms: %s '%s' (see synopassthru vms --help)",
                         arg[0] == '-' ? "unknown option" : "no argument taken, not", arg);
            return -1;
        }
    }
    if (a->json && a->names) {
        sp_cli_error("vms: --json or --names, not both (see synopassthru vms --help)");
        return -1;
    }
    return 0;
}

static void begin_json(struct sp_json *j, const char *uri, int reachable, const char *error)
{
    sp_cli_json_begin(j);
    sp_json_key(j, "libvirt");
    sp_json_begin_object(j);
    sp_json_member_str(j, "uri", uri);
    sp_json_member_bool(j, "reachable", reachable);
    sp_json_member_str(j, "error", reachable ? NULL : error);
    sp_json_end_object(j);
    sp_json_key(j, "vms");
    sp_json_begin_array(j);
}

/* The listing, as text or JSON, once libvirt was asked. */
static int show_all(struct sp_snapshot *snap, const struct vms_args *a, const char *uri,
                    const struct sp_virt_list *list, int reachable, const char *error)
{
    size_t n;
    const struct sp_vm_entry **entries = sorted_entries(snap, &n);
    if (!entries) {
        sp_cli_error("vms: out of memory");
        return SP_EXIT_INTERNAL;
    }
    int code = SP_EXIT_OK;
    struct sp_json j;
    if (a->names) {
        print_names(list, reachable, entries, n);
    } else if (a->json) {
        begin_json(&j, reachable ? list->uri : uri, reachable, error);
        code = show_vms(snap, list, reachable, entries, n, &j) < 0 ? SP_EXIT_INTERNAL : 0;
        sp_json_end_array(&j);
        sp_json_key(&j, "unknown");
        sp_json_begin_array(&j);
        if (reachable)
            show_unknown(snap, list, entries, n, &j);
        sp_json_end_array(&j);
        sp_json_end_object(&j);
        if (code == SP_EXIT_OK)
            code = sp_cli_print_json(&j, "vms");
        else
            free(sp_json_take(&j));
    } else {
        code = show_vms(snap, list, reachable, entries, n, NULL) < 0 ? SP_EXIT_INTERNAL : 0;
        if (reachable)
            show_unknown(snap, list, entries, n, NULL);
    }
    if (code == SP_EXIT_INTERNAL && !a->json)
        sp_cli_error("vms: out of memory");
    free(entries);
    return code;
}

int sp_cmd_vms(const struct sp_cli_opts *opts)
{
    struct vms_args a;
    int parsed = parse_vms_args(opts, &a);
    if (parsed != 0)
        return parsed > 0 ? SP_EXIT_OK : SP_EXIT_USAGE;
    struct sp_config *cfg;
    struct sp_snapshot *snap = sp_cli_load_snapshot(opts, &cfg);
    if (!snap)
        return SP_EXIT_INTERNAL;
    const char *uri = sp_virt_uri_choose(a.connect);
    struct sp_virt_list list;
    struct sp_err err;
    int reachable = sp_virt_list_vms(SP_VIRT_LIBRARY, uri, &list, &err) == 0;
    /* Unreachable is no failure: the config is listed, and that is said. */
    if (!reachable && !a.names)
        fprintf(stderr, "synopassthru: vms: warning: %s; the VMs below are the config's alone\n",
                err.msg);
    int code = show_all(snap, &a, uri, &list, reachable, err.msg);
    if (reachable)
        sp_virt_list_free(&list);
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    return code;
}
