/* synopassthru add VM ADDR... | remove VM [ADDR...]: a VM's snippet in vm.d
 * written for the user. VM is found as check finds it: libvirt tells its
 * name, UUID and title, and a snippet naming it by any of them is its.
 * add makes every check a start of VM makes, on the config as it would be
 * after the edit, before it writes anything; a refusal leaves vm.d as it
 * was. A hand-written snippet keeps its comments and layout
 * (config/snippet_edit.h), or is not rewritten. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../config/config.h"
#include "../config/snippet_edit.h"
#include "../config/snippet_format.h"
#include "../core/start.h"
#include "../injector/dsm_hook.h"
#include "../vfio/check.h"
#include "cli.h"
#include "virt.h"

#define SNIPPET_MODE 0644
#define CLASS_BASE(c) (((c) >> 16) & 0xff)
#define CLASS_DISPLAY 0x03
#define CLASS_MULTIMEDIA 0x04
#define VENDOR_AMD_GPU 0x1002
#define VENDOR_AMD_CPU 0x1022

static const char add_usage[] =
    "Usage: synopassthru [--config DIR] add VM ADDR... [--rom FILE] [--functions all]\n"
    "                                       [--no-bind] [--release] [--dry-run]\n"
    "                                       [--connect URI]\n"
    "\n"
    "Writes VM's snippet in vm.d/ (the file that names VM already, else a new one)\n"
    "with the devices at ADDR (08:00.0 or 0000:08:00.0) and the IDs they have now.\n"
    "Every check a start of VM makes runs first; when one fails, nothing is written.\n"
    "VM is the libvirt name, the UUID or the name shown in VMM (the title): libvirt\n"
    "tells the other two, and a snippet naming VM by any of them is extended; a new\n"
    "one names it as given. A VM libvirt does not know is a warning (the snippet is\n"
    "written, for a VM made later); snippets naming VM by two of its names are a\n"
    "refusal (which one to extend is not guessed).\n"
    "\n"
    "  --rom FILE        the device's ROM (with one ADDR): a name in the config's rom/\n"
    "  --functions all   functions=\"all\": with the functions of its slot that go with it\n"
    "  --no-bind         bind=\"no\": the vfio helper leaves the VM's devices alone\n"
    "  --release         release=\"yes\": back to their drivers when the VM stops\n"
    "  --dry-run         print the snippet it would write, and write nothing\n"
    "  --connect URI     libvirt to ask for VM's names (default: $LIBVIRT_DEFAULT_URI,\n"
    "                    else " SP_VIRT_DEFAULT_URI "); unreachable: VM as given\n"
    "\n"
    "Exit status: 0 written, or nothing to add; 1 refused, nothing written; 2 bad\n"
    "command line; 4 the file could not be written.\n";

static const char remove_usage[] =
    "Usage: synopassthru [--config DIR] remove VM [ADDR...] [--dry-run] [--connect URI]\n"
    "\n"
    "Takes the devices at ADDR out of VM's snippets in vm.d/; without ADDR, removes\n"
    "every snippet that names VM. A snippet left with no device is removed. VM is\n"
    "the libvirt name, the UUID or the title: a snippet naming it by any of the\n"
    "three (libvirt tells them) is VM's.\n"
    "\n"
    "  --dry-run         print what it would write or remove, and change nothing\n"
    "  --connect URI     libvirt to ask for VM's names (default: $LIBVIRT_DEFAULT_URI,\n"
    "                    else " SP_VIRT_DEFAULT_URI "); unreachable: VM as given\n"
    "\n"
    "Exit status: 0 done; 1 refused (a device not in VM's snippets, a snippet it\n"
    "cannot rewrite), nothing changed; 2 bad command line; 4 a file could not be\n"
    "written.\n";

struct edit_args {
    const char *cmd;
    const char *vm;
    struct sp_pci_addr *addrs;
    size_t n_addrs;
    const char *rom;
    int all_functions, no_bind, release, dry_run;
    const char *connect;  /* --connect URI: the libvirt that knows VM's names */
    struct sp_vm_id id;   /* VM as libvirt knows it, else as given */
};

/* The first line of the usage, for errors. */
static void usage_error(const char *usage, const char *fmt, const char *arg)
{
    char what[SP_ERR_MAX];
    snprintf(what, sizeof(what), fmt, arg);
    sp_cli_error("%s (%.*s)", what, (int)strcspn(usage, "\n"), usage);
}

/* An option's value (main.c has split --opt=VALUE): NULL when none follows. */
static const char *option_value(const struct sp_cli_opts *opts, int *i)
{
    return *i + 1 < opts->argc ? opts->argv[++*i] : NULL;
}

/* 0 parsed, 1 help printed, -1 usage error (said). */
static int parse_option(const struct sp_cli_opts *opts, int *i, const char *usage,
                        struct edit_args *a)
{
    const char *arg = opts->argv[*i];
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
        fputs(usage, stdout);
        return 1;
    } else if (strcmp(arg, "--rom") == 0) {
        if (!(a->rom = option_value(opts, i)) || !a->rom[0]) {
            usage_error(usage, "%s: --rom needs a FILE", a->cmd);
            return -1;
        }
    } else if (strcmp(arg, "--functions") == 0) {
        const char *v = option_value(opts, i);
        if (!v || strcmp(v, "all") != 0) {
            usage_error(usage, "%s: --functions takes 'all'", a->cmd);
            return -1;
        }
        a->all_functions = 1;
    } else if (strcmp(arg, "--no-bind") == 0) {
        a->no_bind = 1;
    } else if (strcmp(arg, "--release") == 0) {
        a->release = 1;
    } else if (strcmp(arg, "--dry-run") == 0) {
        a->dry_run = 1;
    } else if (strcmp(arg, "--connect") == 0) {
        if (!(a->connect = option_value(opts, i)) || !a->connect[0]) {
            usage_error(usage, "%s: --connect needs a URI", a->cmd);
            return -1;
        }
    } else {
        usage_error(usage, "unknown option '%s'", arg);
        return -1;
    }
    return 0;
}

static int parse_args(const struct sp_cli_opts *opts, const char *usage, struct edit_args *a)
{
    int plain = 0;
    for (int i = 0; i < opts->argc; i++) {
        const char *arg = opts->argv[i];
        struct sp_pci_addr addr;
        struct sp_err err;
        if (!plain && strcmp(arg, "--") == 0) {
            plain = 1;
        } else if (!plain && arg[0] == '-' && arg[1] != '\0') {
            int rc = parse_option(opts, &i, usage, a);
            if (rc != 0)
                return rc;
        } else if (!a->vm) {
            a->vm = arg;
        } else if (sp_pci_addr_parse(arg, &addr, &err) < 0) {
            usage_error(usage, "%s", err.msg);
            return -1;
        } else if (sp_pci_addr_list_add(&a->addrs, &a->n_addrs, &addr, &err) < 0) {
            sp_cli_error("%s: %s", a->cmd, err.msg);
            return -1;
        }
    }
    if (!a->vm || !a->vm[0]) {
        usage_error(usage, "%s: which VM?", a->cmd);
        return -1;
    }
    return 0;
}

/* --- which VM ------------------------------------------------------------ */

/* VM as libvirt knows it, into a->id; when libvirt cannot tell, VM as given,
 * with one warning line saying why. -1 when memory runs out (said). */
static int identify_vm(struct edit_args *a)
{
    const char *uri = sp_virt_uri_choose(a->connect);
    if (sp_cli_vm_identify(uri, a->vm, &a->id) < 0) {
        sp_cli_error("%s: out of memory", a->cmd);
        return -1;
    }
    if (a->id.unreached.msg[0])
        printf("warning: VM '%s' could not be looked up in libvirt (%s): its other names are "
               "not known, so only a snippet whose vm= is '%s' is taken as VM's\n", a->vm,
               a->id.unreached.msg, a->vm);
    else if (!a->id.known)
        printf("warning: libvirt at %s has no VM '%s' (by name, UUID or title)%s\n", uri, a->vm,
               strcmp(a->cmd, "add") == 0
                   ? ": the snippet is written all the same, for a VM of that name made later"
                   : "");
    return 0;
}

/* VM's snippets: the config's entries for each key libvirt knows VM by
 * (VM as given when it does not), each with a file. */
struct vm_snippets {
    const struct sp_vm_entry *entries[SP_VM_KEYS];
    size_t n;
};

static void find_snippets(const struct sp_snapshot *snap, const struct sp_vm_id *id,
                          struct vm_snippets *s)
{
    const char *keys[SP_VM_KEYS] = {id->arg, NULL, NULL};
    if (id->known) {
        keys[0] = id->name;
        keys[1] = id->uuid[0] ? id->uuid : NULL;
        keys[2] = id->title;
    }
    const struct sp_vm_entry *found[SP_VM_KEYS];
    size_t n = sp_snapshot_lookup_vm(snap, keys, found);
    s->n = 0;
    for (size_t i = 0; i < n; i++)
        if (found[i]->n_files > 0)
            s->entries[s->n++] = found[i];
}

static size_t count_files(const struct vm_snippets *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->entries[i]->n_files;
    return n;
}

/* The i-th of VM's files, counted across its entries. */
static const char *nth_file(const struct vm_snippets *s, size_t i)
{
    for (size_t e = 0; e < s->n; i -= s->entries[e++]->n_files)
        if (i < s->entries[e]->n_files)
            return s->entries[e]->files[i];
    return NULL;
}

/* --- reading what is there ---------------------------------------------- */

/* The snippet of VM that holds addr, or NULL. */
static const char *file_with(const struct sp_vm_entry *e, const struct sp_pci_addr *addr)
{
    for (size_t i = 0; e && i < e->n_specs; i++)
        if (e->specs[i].has_addr && sp_pci_addr_cmp(&e->specs[i].addr, addr) == 0)
            return e->specs[i].file;
    return NULL;
}

/* The snippet of VM, by any of its keys, that holds addr, or NULL. */
static const char *snippets_file_with(const struct vm_snippets *s, const struct sp_pci_addr *addr)
{
    const char *file = NULL;
    for (size_t i = 0; i < s->n && !file; i++)
        file = file_with(s->entries[i], addr);
    return file;
}

/* Another VM with addr in its snippets may hold it when VM starts: said,
 * but not refused (only one of them can run at a time with it). */
static void warn_other_vms(struct sp_snapshot *snap, const struct sp_vm_entry *own,
                           const char *vm, const struct sp_pci_addr *addr)
{
    for (const struct sp_vm_entry *e = sp_snapshot_next(snap, NULL); e;
         e = sp_snapshot_next(snap, e)) {
        const char *file = e == own ? NULL : file_with(e, addr);
        char text[SP_PCI_ADDR_STRLEN];
        sp_pci_addr_format(addr, text);
        if (file)
            printf("warning: %s is also in VM '%s''s snippet %s: VM '%s' and VM '%s' cannot "
                   "run at the same time with it\n", text, e->key, file, vm, e->key);
    }
}

/* The snippet file of path for editing, checked to come back byte for
 * byte (when not, *refusal says why and the edit goes on, for --dry-run). */
static struct sp_snippet_edit *open_for_edit(const char *path, struct sp_err *refusal,
                                             struct sp_err *err)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        sp_err_set(err, "%s is a symlink: only a file of vm.d itself is rewritten; edit its "
                   "target by hand", path);
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    struct sp_snippet_edit *e = NULL;
    if (sp_read_file(path, SP_SNIPPET_MAX_BYTES, &text, &len, err) < 0)
        return NULL;
    int rc = sp_snippet_edit_open(path, text, len, &e, err);
    free(text);
    if (rc < 0)
        return NULL;
    sp_err_clear(refusal);
    sp_snippet_edit_round_trip(e, refusal);
    return e;
}

/* A file is written as this process's own: one the shim would refuse for
 * its owner is not written at all. */
static int owner_trusted(const char *path, struct sp_err *err)
{
    struct stat as_written = {.st_uid = geteuid(), .st_mode = S_IFREG | SNIPPET_MODE};
    char reason[128];
    if (!sp_strict_mode_reason(&as_written, reason, sizeof(reason)))
        return 0;
    return sp_err_set(err, "%s would be %s, and the shim refuses such a snippet; run this as "
                      "root (sudo)", path, reason);
}

/* --- add ------------------------------------------------------------------ */

/* The spec add writes for the device at addr: its IDs and board as sysfs
 * has them now. spec->rom points into a. */
static int device_spec(const char *root, const struct edit_args *a,
                       const struct sp_pci_addr *addr, struct sp_dev_spec *spec,
                       struct sp_err *err)
{
    memset(spec, 0, sizeof(*spec));
    spec->kind = SP_SPEC_PCI;
    spec->has_addr = 1;
    spec->addr = *addr;
    if (sp_pci_read_ids(root, addr, &spec->ids, err) < 0)
        return -1;
    spec->has_ids = 1;
    struct sp_pci_ids board;
    if (sp_pci_read_subsystem_ids(root, addr, &board, NULL) == 0 &&
        (board.vendor || board.device)) {
        spec->has_subsys = 1;
        spec->subsys = board;
    }
    spec->all_functions = a->all_functions;
    spec->rom = (char *)a->rom;
    spec->bind = !a->no_bind;
    spec->release = a->release;
    return 0;
}

/* The devices to add: those not in VM's snippets yet (the others said). */
static int specs_to_add(struct sp_snapshot *snap, const struct sp_vm_entry *own,
                        const struct edit_args *a, struct sp_dev_spec *specs, size_t *n,
                        struct sp_err *err)
{
    const char *root = sp_pci_sysfs_root(snap->settings.sysfs_root);
    *n = 0;
    for (size_t i = 0; i < a->n_addrs; i++) {
        char text[SP_PCI_ADDR_STRLEN];
        sp_pci_addr_format(&a->addrs[i], text);
        const char *there = file_with(own, &a->addrs[i]);
        int twice = 0;
        for (size_t k = 0; k < *n; k++)
            twice |= sp_pci_addr_cmp(&specs[k].addr, &a->addrs[i]) == 0;
        if (there)
            printf("VM '%s': %s is in %s already; nothing to add\n", a->vm, text, there);
        if (there || twice)
            continue;
        if (device_spec(root, a, &a->addrs[i], &specs[*n], err) < 0)
            return sp_err_prefix(err, "VM '%s'", a->vm);
        warn_other_vms(snap, own, a->vm, &a->addrs[i]);
        (*n)++;
    }
    return 0;
}

/* vm.d/NAME for a new snippet of vm: its safe name, with -2, -3 ... when a
 * file of that name is there already (naming another VM). */
static char *new_snippet_path(const char *vmd, const char *vm, struct sp_err *err)
{
    char base[80], name[96];
    sp_snippet_file_name(vm, base, sizeof(base));
    size_t stem = strlen(base) - 4;
    for (int n = 1; n < 100; n++) {
        if (n == 1)
            snprintf(name, sizeof(name), "%s", base);
        else
            snprintf(name, sizeof(name), "%.*s-%d.xml", (int)stem, base, n);
        char *path = sp_path_join(vmd, name);
        struct stat st;
        if (!path || lstat(path, &st) < 0)
            return path;
        free(path);
    }
    sp_err_set(err, "%s: no free file name for VM '%s' (%s and 98 more are taken)", vmd, vm,
               base);
    return NULL;
}

/* What <passthrough> says for the whole file, set as asked; what the file
 * says already and applies to the new devices too, said. */
static int set_head(struct sp_snippet_edit *e, const char *path, const struct edit_args *a,
                    struct sp_err *err)
{
    static const struct {
        const char *name, *value, *flag;
    } heads[] = {{"bind", "no", "--no-bind"}, {"release", "yes", "--release"}};
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        int asked = i == 0 ? a->no_bind : a->release;
        char *now = sp_snippet_edit_head(e, heads[i].name);
        int set = now && strcmp(now, heads[i].value) == 0;
        free(now);
        if (asked && !set) {
            if (sp_snippet_edit_set_head(e, heads[i].name, heads[i].value, err) < 0)
                return -1;
            printf("note: %s=\"%s\" is said on <passthrough> in %s: it covers every device "
                   "there\n", heads[i].name, heads[i].value, path);
        } else if (!asked && set) {
            printf("note: %s has %s=\"%s\": it covers the added devices too (as %s would)\n",
                   path, heads[i].name, heads[i].value, heads[i].flag);
        }
    }
    return 0;
}

/* The text of the snippet after the edit: path extended, or a new file. */
static char *snippet_text(const char *path, int exists, const struct edit_args *a,
                          const struct sp_dev_spec *specs, size_t n, size_t *len,
                          struct sp_err *refusal, struct sp_err *err)
{
    char *text = NULL;
    sp_err_clear(refusal);
    if (!exists) {
        struct sp_snippet_head head = {.vm = a->vm, .bind = !a->no_bind, .release = a->release};
        if (sp_snippet_format(&head, specs, NULL, n, &text, err) < 0)
            return NULL;
        *len = strlen(text);
        return text;
    }
    struct sp_snippet_edit *e = open_for_edit(path, refusal, err);
    int rc = e ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = sp_snippet_edit_add(e, &specs[i], err);
    if (rc == 0 && set_head(e, path, a, err) == 0)
        text = sp_snippet_edit_text(e, len, err);
    sp_snippet_edit_free(e);
    return text;
}

/* The start's checks for the VM id names (on a stand-in carrying its keys,
 * as check makes them) on the config with text as the file path (on the
 * config as it is with path NULL): 0 it would start (its warnings printed
 * when asked), -1 with every problem in err. */
static int check_as_edited(const char *dir, const char *path, const char *text, size_t len,
                           const struct sp_vm_id *id, int say_warnings, struct sp_err *err)
{
    struct sp_config *cfg = sp_config_new(dir);
    struct sp_snapshot *snap = NULL;
    struct sp_start st = {0};
    struct sp_problems problems = {0};
    int rc = !cfg ||
                     (path && sp_config_override_snippet(cfg, strrchr(path, '/') + 1, text,
                                                         len) < 0) ||
                     sp_config_snapshot(cfg, &snap, err) < 0 ||
                     sp_cli_check_vm(snap, id, NULL, 0, &st, &problems) < 0
                 ? sp_err_set(err, "out of memory")
                 : 0;
    for (size_t i = 0; rc == 0 && say_warnings && i < st.n_warnings; i++)
        printf("warning: %s\n", st.warnings[i]);
    if (rc == 0)
        rc = sp_problems_to_err(&problems, err);
    sp_start_free(&st);
    sp_problems_free(&problems);
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    return rc;
}

/* "synopassthru [--config DIR] add 'VM' " for a hint, on stdout. */
static void print_add_command(const struct sp_cli_opts *opts, const char *vm)
{
    fputs("synopassthru ", stdout);
    if (opts->config_dir) {
        fputs("--config ", stdout);
        sp_shell_put_quoted(stdout, opts->config_dir, NULL);
        fputc(' ', stdout);
    }
    fputs("add ", stdout);
    sp_shell_put_quoted(stdout, vm, NULL);
}

/* An AMD APU's iGPU: an AMD display function sharing its slot with the
 * processor's own functions (a discrete card's slot has none). */
static int is_apu_igpu(const char *root, const struct sp_dev_spec *s)
{
    uint32_t class_code;
    if (s->ids.vendor != VENDOR_AMD_GPU ||
        sp_pci_read_class(root, &s->addr, &class_code, NULL) < 0 ||
        CLASS_BASE(class_code) != CLASS_DISPLAY)
        return 0;
    struct sp_pci_addr *slot = NULL;
    size_t n = 0;
    int apu = 0;
    struct sp_pci_ids ids;
    if (sp_pci_slot_functions(root, &s->addr, &slot, &n, NULL) == 0)
        for (size_t i = 0; i < n && !apu; i++)
            apu = sp_pci_read_ids(root, &slot[i], &ids, NULL) == 0 &&
                  ids.vendor == VENDOR_AMD_CPU;
    free(slot);
    return apu;
}

/* The iGPU's HDMI audio (function 1 of its slot, a multimedia device) when
 * it is there and neither added nor in VM's snippets: 1 with *audio. */
static int missing_audio(const char *root, const struct sp_vm_entry *own,
                         const struct sp_dev_spec *specs, size_t n, const struct sp_dev_spec *gpu,
                         struct sp_pci_addr *audio)
{
    uint32_t class_code;
    *audio = gpu->addr;
    audio->function = 1;
    if (gpu->all_functions || file_with(own, audio) ||
        sp_pci_read_class(root, audio, &class_code, NULL) < 0 ||
        CLASS_BASE(class_code) != CLASS_MULTIMEDIA)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (sp_pci_addr_cmp(&specs[i].addr, audio) == 0)
            return 0;
    return 1;
}

/* What an AMD APU's iGPU needs besides itself: its HDMI audio, its vBIOS. */
static void hint_apu(const struct sp_cli_opts *opts, const char *root, const char *vm,
                     const struct sp_vm_entry *own, const struct sp_dev_spec *specs, size_t n,
                     const char *path)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_apu_igpu(root, &specs[i]))
            continue;
        char gpu[SP_PCI_ADDR_STRLEN], audio_text[SP_PCI_ADDR_STRLEN];
        struct sp_pci_addr audio;
        sp_pci_addr_format(&specs[i].addr, gpu);
        if (missing_audio(root, own, specs, n, &specs[i], &audio)) {
            sp_pci_addr_format(&audio, audio_text);
            printf("hint: %s is the HDMI audio of the iGPU %s; without it Windows guests "
                   "report \"Error 43\". Add it with: ", audio_text, gpu);
            print_add_command(opts, vm);
            printf(" %s\n", audio_text);
        }
        if (!specs[i].rom)
            printf("hint: the iGPU %s has no ROM, and an AMD iGPU shows no picture without "
                   "its vBIOS. Save it from the ACPI VFCT table with: synopassthru rom "
                   "extract --vfct --for %s; then give it as rom=\"vbios_%04x_%04x.bin\" on "
                   "its <pci> in %s\n", gpu, gpu, specs[i].ids.vendor, specs[i].ids.device,
                   path);
    }
}

static void report_added(const char *vm, const struct sp_dev_spec *specs, size_t n,
                         const char *path)
{
    for (size_t i = 0; i < n; i++) {
        char text[SP_PCI_ADDR_STRLEN];
        sp_pci_addr_format(&specs[i].addr, text);
        printf("VM '%s': added %s [%04x:%04x] to %s\n", vm, text, specs[i].ids.vendor,
               specs[i].ids.device, path);
    }
}

/* Where the devices go: the first snippet naming VM, else a new file. */
static char *target_path(const struct sp_snapshot *snap, const struct sp_vm_entry *own,
                         const char *vm, int *exists, struct sp_err *err)
{
    *exists = own && own->n_files > 0;
    if (*exists)
        return strdup(own->files[0]);
    char *vmd = sp_path_join(snap->config_dir, SP_SNIPPET_DIR);
    struct stat st;
    char *path = NULL;
    if (!vmd)
        sp_err_set(err, "out of memory");
    else if (stat(vmd, &st) < 0 || !S_ISDIR(st.st_mode))
        sp_err_set(err, "%s is not a directory (synopassthru setup makes it)", vmd);
    else
        path = new_snippet_path(vmd, vm, err);
    free(vmd);
    return path;
}

/* The text checked and, unless --dry-run, written: an exit code. */
static int check_and_write(const struct edit_args *a, struct sp_snapshot *snap,
                           const char *path, const char *text, size_t len,
                           const struct sp_err *refusal)
{
    struct sp_err err;
    int refused = check_as_edited(snap->config_dir, path, text, len, &a->id, 1, &err) < 0;
    if (a->dry_run)
        fputs(text, stdout);
    fflush(stdout);
    if (refusal->msg[0]) {
        sp_cli_error("add: VM '%s': %s", a->vm, refusal->msg);
        return SP_EXIT_REFUSED;
    }
    if (refused) {
        const char *what = a->dry_run ? "a start would be refused" : "refused, nothing written";
        /* The start's own words name the VM, except for a config-wide problem. */
        if (strncmp(err.msg, "VM '", 4) == 0)
            sp_cli_error("add: %s: %s", what, err.msg);
        else
            sp_cli_error("add: VM '%s': %s: %s", a->vm, what, err.msg);
        return SP_EXIT_REFUSED;
    }
    if (a->dry_run)
        return SP_EXIT_OK;
    if (owner_trusted(path, &err) < 0) {
        sp_cli_error("add: VM '%s': refused, nothing written: %s", a->vm, err.msg);
        return SP_EXIT_REFUSED;
    }
    if (sp_write_file_atomic(path, text, len, SNIPPET_MODE, &err) < 0) {
        sp_cli_error("add: %s", err.msg);
        return SP_EXIT_INTERNAL;
    }
    return SP_EXIT_OK;
}

/* Which VM the snippet at path is for, as libvirt knows it (when it does):
 * key is the name the file gives it. */
static void note_libvirt_vm(const struct sp_vm_id *id, const char *path, const char *key)
{
    if (!id->known)
        return;
    printf("note: %s names the VM '%s' (libvirt: %s", path, key, id->name);
    if (id->uuid[0] && strcmp(id->uuid, id->name) != 0)
        printf(", UUID %s", id->uuid);
    if (id->title)
        printf(", title '%s'", id->title);
    printf(")\n");
}

/* Snippets naming VM by two or three of its keys: which one to extend is
 * not guessed. The refusal names every file with its vm=. */
static int refuse_split(const struct vm_snippets *s, const char *vm)
{
    char files[SP_ERR_MAX] = "";
    size_t used = 0;
    for (size_t e = 0; e < s->n; e++)
        for (size_t f = 0; f < s->entries[e]->n_files && used < sizeof(files); f++)
            used += (size_t)snprintf(files + used, sizeof(files) - used, "%s%s (vm=\"%s\")",
                                     used ? ", " : "", s->entries[e]->files[f],
                                     s->entries[e]->key);
    sp_cli_error("add: VM '%s': its snippets name it by different names: %s; which one to "
                 "extend is not guessed, and nothing was written: keep one (take the others' "
                 "devices out with remove, then add them)", vm, files);
    return SP_EXIT_REFUSED;
}

static int run_add(const struct sp_cli_opts *opts, const struct edit_args *a,
                   struct sp_snapshot *snap)
{
    struct vm_snippets mine;
    find_snippets(snap, &a->id, &mine);
    if (mine.n > 1)
        return refuse_split(&mine, a->vm);
    const struct sp_vm_entry *own = mine.n ? mine.entries[0] : NULL;
    struct sp_dev_spec *specs = calloc(a->n_addrs, sizeof(*specs));
    struct sp_err err, refusal;
    size_t n = 0, len = 0;
    int exists = 0, code;
    char *path = NULL, *text = NULL;
    if (!specs) {
        sp_cli_error("add: out of memory");
        return SP_EXIT_INTERNAL;
    }
    if (specs_to_add(snap, own, a, specs, &n, &err) < 0) {
        sp_cli_error("add: %s", err.msg);
        code = SP_EXIT_REFUSED;
    } else if (n == 0) {
        code = SP_EXIT_OK;
    } else if (!(path = target_path(snap, own, a->vm, &exists, &err)) ||
               !(text = snippet_text(path, exists, a, specs, n, &len, &refusal, &err))) {
        sp_cli_error("add: VM '%s': %s", a->vm, err.msg);
        code = SP_EXIT_REFUSED;
    } else {
        code = check_and_write(a, snap, path, text, len, &refusal);
        if (code == SP_EXIT_OK && !a->dry_run)
            report_added(a->vm, specs, n, path);
        if (code == SP_EXIT_OK)
            note_libvirt_vm(&a->id, path, own ? own->key : a->vm);
        if (code == SP_EXIT_OK)
            hint_apu(opts, sp_pci_sysfs_root(snap->settings.sysfs_root), a->vm, own, specs, n,
                     path);
    }
    free(text);
    free(path);
    free(specs);
    return code;
}

int sp_cmd_add(const struct sp_cli_opts *opts)
{
    struct edit_args a = {.cmd = "add"};
    int parsed = parse_args(opts, add_usage, &a);
    if (parsed == 0 && a.n_addrs == 0) {
        usage_error(add_usage, "%s: which device? Give its PCI address (from lspci)", "add");
        parsed = -1;
    } else if (parsed == 0 && a.rom && a.n_addrs > 1) {
        usage_error(add_usage, "%s: --rom goes with one ADDR", "add");
        parsed = -1;
    }
    if (parsed != 0) {
        free(a.addrs);
        return parsed > 0 ? SP_EXIT_OK : SP_EXIT_USAGE;
    }
    struct sp_config *cfg;
    struct sp_snapshot *snap = sp_cli_load_snapshot(opts, &cfg);
    int code = !snap || identify_vm(&a) < 0 ? SP_EXIT_INTERNAL : run_add(opts, &a, snap);
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    sp_cli_vm_id_free(&a.id);
    free(a.addrs);
    return code;
}

/* --- remove --------------------------------------------------------------- */

/* One snippet of the VM and what remove does to it. */
struct removal {
    const char *path;
    struct sp_snippet_edit *edit; /* NULL: not touched */
    struct sp_err refusal;        /* it would not come back byte for byte */
};

static int remove_whole_files(const struct vm_snippets *mine, const struct edit_args *a)
{
    for (size_t i = 0; i < count_files(mine); i++) {
        const char *file = nth_file(mine, i);
        if (a->dry_run) {
            printf("would remove %s\n", file);
        } else if (unlink(file) < 0) {
            sp_cli_error("remove: %s: %s", file, strerror(errno));
            return SP_EXIT_INTERNAL;
        } else {
            printf("VM '%s': removed %s\n", a->vm, file);
        }
    }
    return SP_EXIT_OK;
}

/* Every address taken out of the VM's files that name it (by any of its
 * keys); -1 with err when a file cannot be edited or an address is in none
 * of them. */
static int plan_removals(const struct vm_snippets *mine, const struct edit_args *a,
                         struct removal *r, struct sp_err *err)
{
    size_t n_files = count_files(mine);
    for (size_t k = 0; k < a->n_addrs; k++) {
        const char *file = snippets_file_with(mine, &a->addrs[k]);
        size_t i = 0;
        while (file && i < n_files && strcmp(nth_file(mine, i), file) != 0)
            i++;
        if (!file || i == n_files) {
            char text[SP_PCI_ADDR_STRLEN];
            sp_pci_addr_format(&a->addrs[k], text);
            return sp_err_set(err, "VM '%s': device %s is in none of its snippets (%s%s)",
                              a->vm, text, nth_file(mine, 0), n_files > 1 ? ", ..." : "");
        }
        r[i].path = file;
        if (!r[i].edit && !(r[i].edit = open_for_edit(file, &r[i].refusal, err)))
            return -1;
        if (sp_snippet_edit_remove(r[i].edit, &a->addrs[k], err) < 0)
            return -1;
    }
    return 0;
}

/* One edited file written, removed when no device is left, or shown. */
static int apply_removal(const struct removal *r, const struct edit_args *a)
{
    struct sp_err err;
    size_t len = 0;
    int empty = sp_snippet_edit_devices(r->edit) == 0;
    char *text = empty ? NULL : sp_snippet_edit_text(r->edit, &len, &err);
    int code = SP_EXIT_OK;
    if (!empty && !text) {
        sp_cli_error("remove: %s", err.msg);
        code = SP_EXIT_INTERNAL;
    } else if (a->dry_run && empty) {
        printf("would remove %s: no device left\n", r->path);
    } else if (a->dry_run) {
        fputs(text, stdout);
    } else if (empty ? unlink(r->path) < 0
                     : sp_write_file_atomic(r->path, text, len, SNIPPET_MODE, &err) < 0) {
        sp_cli_error("remove: %s", empty ? strerror(errno) : err.msg);
        code = SP_EXIT_INTERNAL;
    } else {
        printf("VM '%s': %s %s\n", a->vm, empty ? "no device left, removed" : "rewrote",
               r->path);
    }
    free(text);
    return code;
}

/* A device is taken out to mend a VM as often as not, so a VM that would
 * still be refused (what is left of an IOMMU group, say) is a warning. */
static void warn_if_refused(const char *dir, size_t n_files, const struct removal *r,
                            const struct edit_args *a)
{
    int left = 0;
    for (size_t i = 0; i < n_files; i++)
        left |= !r[i].edit || sp_snippet_edit_devices(r[i].edit) > 0;
    struct sp_err err;
    if (left && check_as_edited(dir, NULL, NULL, 0, &a->id, 0, &err) < 0)
        printf("warning: a start of VM '%s' would still be refused: %s\n", a->vm, err.msg);
}

static int remove_devices(const char *dir, const struct vm_snippets *mine,
                          const struct edit_args *a)
{
    size_t n_files = count_files(mine);
    struct removal *r = calloc(n_files, sizeof(*r));
    struct sp_err err;
    int code = SP_EXIT_OK;
    if (!r) {
        sp_cli_error("remove: out of memory");
        return SP_EXIT_INTERNAL;
    }
    if (plan_removals(mine, a, r, &err) < 0) {
        sp_cli_error("remove: %s", err.msg);
        code = SP_EXIT_REFUSED;
    }
    for (size_t i = 0; code == SP_EXIT_OK && i < n_files; i++) {
        int rewrite = r[i].edit && sp_snippet_edit_devices(r[i].edit) > 0 && !a->dry_run;
        if (r[i].edit && r[i].refusal.msg[0] && !a->dry_run) {
            sp_cli_error("remove: VM '%s': %s", a->vm, r[i].refusal.msg);
            code = SP_EXIT_REFUSED;
        } else if (rewrite && owner_trusted(r[i].path, &err) < 0) {
            sp_cli_error("remove: VM '%s': refused, nothing changed: %s", a->vm, err.msg);
            code = SP_EXIT_REFUSED;
        }
    }
    for (size_t i = 0; code == SP_EXIT_OK && i < n_files; i++)
        if (r[i].edit)
            code = apply_removal(&r[i], a);
    if (code == SP_EXIT_OK && !a->dry_run)
        warn_if_refused(dir, n_files, r, a);
    for (size_t i = 0; i < n_files; i++)
        sp_snippet_edit_free(r[i].edit);
    free(r);
    return code;
}

int sp_cmd_remove(const struct sp_cli_opts *opts)
{
    struct edit_args a = {.cmd = "remove"};
    int parsed = parse_args(opts, remove_usage, &a);
    if (parsed != 0) {
        free(a.addrs);
        return parsed > 0 ? SP_EXIT_OK : SP_EXIT_USAGE;
    }
    struct sp_config *cfg;
    struct sp_snapshot *snap = sp_cli_load_snapshot(opts, &cfg);
    int code = !snap || identify_vm(&a) < 0 ? SP_EXIT_INTERNAL : SP_EXIT_OK;
    struct vm_snippets mine = {.n = 0};
    if (code == SP_EXIT_OK)
        find_snippets(snap, &a.id, &mine);
    if (code == SP_EXIT_OK && mine.n == 0) {
        sp_cli_error("remove: no snippet in %s/%s names VM '%s'", snap->config_dir,
                     SP_SNIPPET_DIR, a.vm);
        code = SP_EXIT_REFUSED;
    } else if (code == SP_EXIT_OK) {
        code = a.n_addrs ? remove_devices(snap->config_dir, &mine, &a)
                         : remove_whole_files(&mine, &a);
    }
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    sp_cli_vm_id_free(&a.id);
    free(a.addrs);
    return code;
}
