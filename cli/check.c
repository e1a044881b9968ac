/* synopassthru check VM [--json]: every check a start of VM makes, read-only
 * and in the start's own words (the config, the devices and their IDs, the
 * ROMs, then the vfio helper's check: IOMMU, vfio-pci, groups, the host's
 * own use, other VMs' holds), and what each device resolves to: its IDs,
 * the driver a bind would take it from, its IOMMU group, the guest slot it
 * gets, why functions="all" took it, its ROM's verdict, and how the kernel
 * can reset it. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "../common/json.h"
#include "../common/xmlutil.h"
#include "../config/config.h"
#include "../core/start.h"
#include "../core/vmcheck.h"
#include "../pci/reset.h"
#include "../vfio/check.h"
#include "../vfio/sysfs.h"
#include "cli.h"
#include "term.h"
#include "virt.h"

/* What one device resolved to, for the report. */
struct dev_report {
    char addr[SP_PCI_ADDR_STRLEN];
    char ids[16];
    char driver[64];
    int group;
    char guest[16];      /* "00:1f.0", "" when not placed */
    const char *joined;  /* functions="all": why */
    const char *rom;
    char rom_verdict[SP_ERR_MAX];
    const char *rom_note; /* it fits on a rule worth saying: what it is */
    int reset_read;      /* reset holds what sysfs says */
    struct sp_pci_reset reset;
    char reset_warning[SP_ERR_MAX]; /* the start's warning, "" when none */
};

static unsigned attr_hex(xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetProp(n, BAD_CAST name);
    unsigned out = v ? (unsigned)strtoul((const char *)v, NULL, 0) : 0;
    xmlFree(v);
    return out;
}

/* The guest address one added <hostdev> gives the host device at addr. */
static int guest_slot_in(const char *added, const struct sp_pci_addr *addr, char *out,
                         size_t size)
{
    xmlDocPtr doc = xmlReadMemory(added, (int)strlen(added), NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlNodePtr source = root ? sp_xml_child(root, "source") : NULL;
    xmlNodePtr host = source ? sp_xml_child(source, "address") : NULL;
    int found = 0;
    if (host && attr_hex(host, "domain") == addr->domain && attr_hex(host, "bus") == addr->bus &&
        attr_hex(host, "slot") == addr->slot && attr_hex(host, "function") == addr->function) {
        for (xmlNodePtr c = root->children; c && !found; c = c->next)
            if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, BAD_CAST "address") == 0) {
                snprintf(out, size, "%02x:%02x.%x", attr_hex(c, "bus"), attr_hex(c, "slot"),
                         attr_hex(c, "function"));
                found = 1;
            }
    }
    xmlFreeDoc(doc);
    return found;
}

static void describe_device(const struct sp_start *st, const struct sp_resolved_dev *d,
                            struct dev_report *r)
{
    memset(r, 0, sizeof(*r));
    const char *root = sp_pci_sysfs_root(st->snap->settings.sysfs_root);
    struct sp_err err;
    sp_pci_addr_format(&d->addr, r->addr);
    if (d->has_ids)
        snprintf(r->ids, sizeof(r->ids), "%04x:%04x", d->ids.vendor, d->ids.device);
    if (sp_sysfs_driver(root, &d->addr, r->driver, sizeof(r->driver), &err) < 0)
        r->driver[0] = '\0';
    r->group = sp_pci_iommu_group(root, &d->addr);
    for (size_t i = 0; i < st->report.n_added && !r->guest[0]; i++)
        guest_slot_in(st->report.added[i], &d->addr, r->guest, sizeof(r->guest));
    r->joined = d->joined;
    r->rom = d->rom;
    r->rom_note = d->rom_note;
    if (d->rom && sp_start_rom_fits(st, d, r->rom_verdict, sizeof(r->rom_verdict)))
        snprintf(r->rom_verdict, sizeof(r->rom_verdict), "fits");
    /* A device that is not there has no reset to speak of. */
    r->reset_read = d->has_ids && sp_pci_read_reset(root, &d->addr, &r->reset, &err) == 0;
    r->reset.flr = r->reset_read ? sp_pci_read_flr(root, &d->addr) : -1;
    if (r->reset_read && sp_start_reset_ok(st, d, r->reset_warning, sizeof(r->reset_warning)))
        r->reset_warning[0] = '\0';
}

int sp_cli_check_vm(struct sp_snapshot *snap, const struct sp_vm_id *id, const char *domain,
                    size_t domain_len, struct sp_start *st, struct sp_problems *problems)
{
    struct sp_vmcheck_vm vm = {.arg = id->arg, .name = id->name, .uuid = id->uuid,
                               .title = id->title, .unreached = id->unreached.msg};
    return sp_vmcheck(snap, &vm, domain, domain_len, st, problems);
}

static void print_device_text(const struct dev_report *r)
{
    printf("  %s [%s] on %s, IOMMU group ", r->addr, r->ids[0] ? r->ids : "?",
           r->driver[0] ? r->driver : "no driver");
    if (r->group >= 0)
        printf("%d", r->group);
    else
        printf("none");
    if (r->guest[0])
        printf(" -> guest %s", r->guest);
    if (r->joined)
        printf(" (functions=\"all\": %s)", r->joined);
    putchar('\n');
    if (r->rom)
        printf("    ROM %s: %s%s%s\n", r->rom, r->rom_verdict, r->rom_note ? ": " : "",
               r->rom_note ? r->rom_note : "");
    if (r->reset_read) {
        char text[256];
        sp_pci_reset_describe(&r->reset, text, sizeof(text));
        printf("    reset: %s\n", text);
    }
}

static void put_device_json(struct sp_json *j, const struct dev_report *r)
{
    sp_json_begin_object(j);
    sp_json_member_str(j, "address", r->addr);
    sp_json_member_str(j, "ids", r->ids[0] ? r->ids : NULL);
    sp_json_member_str(j, "driver", r->driver);
    sp_json_key(j, "iommu_group");
    if (r->group >= 0)
        sp_json_int(j, r->group);
    else
        sp_json_null(j);
    sp_json_member_str(j, "guest_slot", r->guest[0] ? r->guest : NULL);
    sp_json_member_str(j, "joined", r->joined);
    sp_json_member_str(j, "rom", r->rom);
    sp_json_member_str(j, "rom_verdict", r->rom ? r->rom_verdict : NULL);
    sp_json_member_str(j, "rom_note", r->rom_note);
    if (r->reset_read)
        sp_cli_put_reset(j, &r->reset, r->reset_warning);
    else
        sp_json_member_str(j, "reset", NULL);
    sp_json_end_object(j);
}

/* {"vm", "ok", "devices": [...], "warnings": [...], "problems": [...]}; an
 * exit code. */
/* What video="none" and hypervisor="hidden" change in the domain's own
 * elements: in the VM's XML with --domain, else in a bare stand-in. */
static const struct {
    const char *name;
    size_t offset;
} edit_kinds[] = {
    {"video", offsetof(struct sp_patch_report, video)},
    {"features", offsetof(struct sp_patch_report, features)},
    {"cpu", offsetof(struct sp_patch_report, cpu)},
};

static const struct sp_changes *edits_of(const struct sp_start *st, size_t kind)
{
    return (const struct sp_changes *)((const char *)&st->report + edit_kinds[kind].offset);
}

static void print_edits_text(const struct sp_start *st)
{
    for (size_t k = 0; k < sizeof(edit_kinds) / sizeof(edit_kinds[0]); k++)
        for (size_t i = 0; i < edits_of(st, k)->n; i++)
            printf("  %s: %s\n", edit_kinds[k].name, edits_of(st, k)->text[i]);
}

static void put_edits_json(struct sp_json *j, const struct sp_start *st)
{
    sp_json_key(j, "edits");
    sp_json_begin_object(j);
    for (size_t k = 0; k < sizeof(edit_kinds) / sizeof(edit_kinds[0]); k++) {
        sp_json_key(j, edit_kinds[k].name);
        sp_json_begin_array(j);
        for (size_t i = 0; i < edits_of(st, k)->n; i++)
            sp_json_string(j, edits_of(st, k)->text[i]);
        sp_json_end_array(j);
    }
    sp_json_end_object(j);
}

static int print_json(const char *vm, const struct sp_start *st,
                      const struct sp_problems *problems)
{
    struct sp_json j;
    sp_cli_json_begin(&j);
    sp_json_member_str(&j, "vm", vm);
    sp_json_member_bool(&j, "ok", problems->n == 0);
    sp_json_key(&j, "devices");
    sp_json_begin_array(&j);
    for (size_t i = 0; i < st->n_devs; i++) {
        struct dev_report r;
        if (!st->devs[i].has_addr)
            continue;
        describe_device(st, &st->devs[i], &r);
        put_device_json(&j, &r);
    }
    sp_json_end_array(&j);
    put_edits_json(&j, st);
    sp_json_key(&j, "warnings");
    sp_json_begin_array(&j);
    for (size_t i = 0; i < st->n_warnings; i++)
        sp_json_string(&j, st->warnings[i]);
    sp_json_end_array(&j);
    sp_json_key(&j, "problems");
    sp_json_begin_array(&j);
    for (size_t i = 0; i < problems->n; i++)
        sp_json_string(&j, problems->items[i]);
    sp_json_end_array(&j);
    sp_json_end_object(&j);
    return sp_cli_print_json(&j, "check");
}

static void print_text(const char *vm, const struct sp_start *st,
                       const struct sp_problems *problems)
{
    size_t raw = 0;
    if (st->n_devs)
        printf("VM '%s':\n", vm);
    for (size_t i = 0; i < st->n_devs; i++) {
        struct dev_report r;
        if (!st->devs[i].has_addr) {
            raw++;
            continue;
        }
        describe_device(st, &st->devs[i], &r);
        print_device_text(&r);
    }
    if (raw)
        printf("  and %zu raw <hostdev> element(s), added as written\n", raw);
    print_edits_text(st);
    int colour = sp_term_colour(stdout);
    const char *on = sp_term_on(colour, SP_TONE_OK), *off = sp_term_off(colour);
    for (size_t i = 0; i < st->n_warnings; i++)
        printf("%swarning:%s %s\n", sp_term_on(colour, SP_TONE_WARNING), off, st->warnings[i]);
    fflush(stdout);
    int err_colour = sp_term_colour(stderr);
    for (size_t i = 0; i < problems->n; i++)
        sp_cli_error("%s%s%s", sp_term_on(err_colour, SP_TONE_PROBLEM), problems->items[i],
                     sp_term_off(err_colour));
    if (problems->n == 0 && st->n_warnings)
        printf("%sVM '%s': every device passes every check%s, with %zu warning(s) above\n", on,
               vm, off, st->n_warnings);
    else if (problems->n == 0)
        printf("%sVM '%s': every device passes every check%s\n", on, vm, off);
}

static const char usage[] =
    "Usage: synopassthru [--config DIR] check VM [--json] [--domain FILE] [--connect URI]";

struct check_args {
    const char *vm;
    int json;
    const char *domain; /* VM's domain XML (virsh dumpxml VM): its firmware counts */
    const char *connect; /* libvirt URI that resolves VM by name, UUID or title */
};

/* 0 parsed, 1 help printed, -1 usage error (already reported). */
static int parse_check_args(const struct sp_cli_opts *opts, struct check_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 0; i < opts->argc; i++) {
        const char *arg = opts->argv[i];
        if (strcmp(arg, "--json") == 0) {
            a->json = 1;
        } else if (strcmp(arg, "--domain") == 0) {
            if (i + 1 == opts->argc) {
                sp_cli_error("check: --domain needs a FILE (%s)", usage);
                return -1;
            }
            a->domain = opts->argv[++i];
        } else if (strncmp(arg, "--domain=", 9) == 0) {
            a->domain = arg + 9;
        } else if (strcmp(arg, "--connect") == 0) {
            if (i + 1 == opts->argc) {
                sp_cli_error("check: --connect needs a URI (%s)", usage);
                return -1;
            }
            a->connect = opts->argv[++i];
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            puts(usage);
            return 1;
        } else if (arg[0] == '-' || a->vm) {
            sp_cli_error("check: %s '%s' (%s)", arg[0] == '-' ? "unknown option" : "one VM, not",
                         arg, usage);
            return -1;
        } else {
            a->vm = arg;
        }
    }
    if (!a->vm) {
        sp_cli_error("check: which VM? (%s)", usage);
        return -1;
    }
    return 0;
}

/* The domain given with --domain is VM's (one that does not parse says so
 * as a problem of its own). */
static int domain_is_vm(const struct sp_start *st, const char *vm)
{
    const struct sp_domain_id *id = &st->id;
    return st->verdict == SP_BAD_INPUT || (id->name && strcmp(id->name, vm) == 0) ||
           (id->title && strcmp(id->title, vm) == 0) ||
           (id->uuid && strcasecmp(id->uuid, vm) == 0);
}

int sp_cmd_check(const struct sp_cli_opts *opts)
{
    struct check_args a;
    int parsed = parse_check_args(opts, &a);
    if (parsed != 0)
        return parsed > 0 ? SP_EXIT_OK : SP_EXIT_USAGE;
    char *domain = NULL;
    size_t domain_len = 0;
    struct sp_err err;
    if (a.domain && sp_cli_read_input(a.domain, &domain, &domain_len, &err) < 0) {
        sp_cli_error("check: %s", err.msg);
        return SP_EXIT_INPUT;
    }
    struct sp_config *cfg;
    struct sp_snapshot *snap = sp_cli_load_snapshot(opts, &cfg);
    if (!snap) {
        free(domain);
        return SP_EXIT_INTERNAL;
    }
    struct sp_problems problems = {0};
    struct sp_start st = {0};
    struct sp_vm_id id;
    /* With its own XML the VM is known; else libvirt may know it by another key. */
    int identified = domain ? sp_cli_vm_unresolved(a.vm, &id)
                            : sp_cli_vm_identify(sp_virt_uri_choose(a.connect), a.vm, &id);
    int code = identified < 0 ? SP_EXIT_INTERNAL
               : sp_cli_check_vm(snap, &id, domain, domain_len, &st, &problems) < 0
                   ? SP_EXIT_INTERNAL
               : problems.n ? SP_EXIT_REFUSED
                            : SP_EXIT_OK;
    if (code != SP_EXIT_INTERNAL && domain && !domain_is_vm(&st, a.vm)) {
        sp_cli_error("check: %s is the domain of '%s', not of VM '%s'", a.domain,
                     st.id.name ? st.id.name : "?", a.vm);
        code = SP_EXIT_USAGE;
    } else if (code != SP_EXIT_INTERNAL && a.json) {
        int printed = print_json(a.vm, &st, &problems);
        code = printed == SP_EXIT_OK ? code : printed;
    } else if (code != SP_EXIT_INTERNAL) {
        print_text(a.vm, &st, &problems);
    } else {
        sp_cli_error("check: out of memory");
    }
    free(domain);
    sp_cli_vm_id_free(&id);
    sp_start_free(&st);
    sp_problems_free(&problems);
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    return code;
}
