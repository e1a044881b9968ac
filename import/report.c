#include "report.h"

#include <string.h>

#include "../injector/dsm_hook.h"

/* ---- tallies ------------------------------------------------------------------------ */

static void count_state(struct sp_import_counts *c, enum sp_apply_state s)
{
    switch (s) {
    case SP_APPLY_NEW: c->pending++; break;
    case SP_APPLY_SAME: c->unchanged++; break;
    case SP_APPLY_REFUSED: c->refused++; break;
    case SP_APPLY_WRITTEN: c->written++; break;
    case SP_APPLY_FAILED: c->failed++; break;
    }
}

void sp_import_count(const struct sp_import_run *r, struct sp_import_counts *c)
{
    memset(c, 0, sizeof(*c));
    const struct sp_apply *a = &r->apply;
    for (size_t i = 0; i < a->n_vms; i++) {
        count_state(c, a->vms[i].state);
        for (size_t j = 0; j < a->vms[i].vm->n_devs; j++)
            c->misfits += a->vms[i].checks[j].rom >= 0 && !a->vms[i].checks[j].fits;
    }
    for (size_t i = 0; i < a->n_roms; i++)
        count_state(c, a->roms[i].state);
    c->skipped = r->plan.n_skips;
    for (size_t i = 0; i < r->plan.n_skips; i++)
        c->blocking += r->plan.skips[i].keeps_old != 0;
}

/* ---- per VM ------------------------------------------------------------------------------ */

/* needed: a NEW file that is written (not one only a refused VM uses). */
static const char *state_text(enum sp_apply_state s, int dry_run, int rom, int needed)
{
    switch (s) {
    case SP_APPLY_NEW:
        if (!needed)
            return "not copied: only a refused VM uses it";
        return dry_run ? (rom ? "would be copied (mode 0644)" : "would be written")
                       : "not written";
    case SP_APPLY_SAME: return "already there, identical: unchanged";
    case SP_APPLY_WRITTEN: return rom ? "copied" : "written";
    case SP_APPLY_REFUSED: return "REFUSED";
    default: return "FAILED";
    }
}

static void print_state(FILE *out, enum sp_apply_state s, const char *why, int dry_run, int rom,
                        int needed)
{
    fputs(state_text(s, dry_run, rom, needed), out);
    if (why)
        fprintf(out, ": %s", why);
    fputc('\n', out);
}

/* The text of a file to write, each line behind "    | ". */
static void print_text(FILE *out, const char *text)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(out, "    | %.*s\n", (int)n, p);
        p += n + (nl != NULL);
    }
}

static void print_host(FILE *out, const struct sp_legacy_dev *d)
{
    if (d->host_error) {
        fprintf(out, "; which ones this host has could not be read: %s", d->host_error);
        return;
    }
    if (d->n_host == 0) {
        fputs("; this host has none now", out);
        return;
    }
    fputs("; on this host now:", out);
    for (size_t i = 0; i < d->n_host; i++) {
        char addr[SP_PCI_ADDR_STRLEN];
        sp_pci_addr_format(&d->host[i], addr);
        fprintf(out, "%s %s", i ? "," : "", addr);
    }
}

static void print_rom(FILE *out, const struct sp_import_run *r, const struct sp_apply_check *c)
{
    const struct sp_apply_rom *rom = &r->apply.roms[c->rom];
    fprintf(out, "    ROM %s -> %s: ", rom->src, rom->dest);
    print_state(out, rom->state, rom->why, r->opts->dry_run, 1,
                sp_apply_rom_needed(&r->apply, (size_t)c->rom));
    if (c->fits)
        fprintf(out, "    ROM check: %s\n", c->verdict);
    else
        fprintf(out, "    WARNING: ROM check: %s. With rom_check=refuse (the default) the VM "
                     "does not start with it: get the right ROM (see `synopassthru rom`).\n",
                c->verdict);
}

static void print_device(FILE *out, const struct sp_import_run *r, const struct sp_legacy_dev *d,
                         const struct sp_apply_check *c)
{
    fputs("  device", out);
    if (d->has_addr) {
        char addr[SP_PCI_ADDR_STRLEN];
        sp_pci_addr_format(&d->addr, addr);
        fprintf(out, " %s", addr);
    }
    if (d->has_ids)
        fprintf(out, " %04x:%04x", d->ids.vendor, d->ids.device);
    fprintf(out, " from %s:%d", d->file, d->line);
    if (!d->has_addr) {
        fputs(" (ADDRESS was empty: every device with these IDs", out);
        print_host(out, d);
        fputc(')', out);
    }
    fputc('\n', out);
    if (c->rom >= 0)
        print_rom(out, r, c);
}

static void print_vm(FILE *out, const struct sp_import_run *r, const struct sp_apply_vm *v)
{
    fprintf(out, "\nVM %s\n  snippet %s: ", v->vm->name, v->path);
    print_state(out, v->state, v->why, r->opts->dry_run, 0, 1);
    for (size_t i = 0; i < v->n_others; i++)
        fprintf(out, "  note: %s names this VM too; the devices of both add up\n", v->others[i]);
    for (size_t i = 0; i < v->vm->n_devs; i++)
        print_device(out, r, &v->vm->devs[i], &v->checks[i]);
    if (r->opts->dry_run && v->state == SP_APPLY_NEW) {
        fprintf(out, "  would write %s (mode 0644):\n", v->path);
        print_text(out, v->text);
    }
}

/* ---- the rest ---------------------------------------------------------------------------- */

static void print_header(FILE *out, const struct sp_import_run *r)
{
    const struct sp_legacy_plan *p = &r->plan;
    fprintf(out, "Community passthrough scripts in %s: %s (%s)%s\n", r->from,
            p->format == SP_LEGACY_SYNOPASSTHRU ? "the SynoPassthru community scripts"
                                                : "the pci_coral_on_synology scripts",
            p->master, r->opts->dry_run ? "; dry run: nothing is changed" : "");
    fprintf(out, "  %s runs:", p->master);
    for (size_t i = 0; i < p->n_called; i++)
        fprintf(out, "%s %s", i ? "," : "", p->called[i]);
    fputs(p->n_called ? "\n" : " no script\n", out);
    if (r->config_error)
        fprintf(out, "  note: the config dir has a problem of its own, which refuses every VM "
                     "it names until fixed: %s\n", r->config_error);
}

static void print_skips(FILE *out, const struct sp_legacy_plan *p)
{
    fprintf(out, "\nNot imported:%s\n", p->n_skips ? "" : " nothing");
    for (size_t i = 0; i < p->n_skips; i++) {
        const struct sp_legacy_skip *s = &p->skips[i];
        if (s->line)
            fprintf(out, "  %s:%d: %s\n", s->file, s->line, s->reason);
        else
            fprintf(out, "  %s: %s\n", s->file, s->reason);
    }
}

static void print_unused(FILE *out, const struct sp_legacy_plan *p)
{
    if (!p->n_unused)
        return;
    fprintf(out, "\nNot run by %s, so not imported:\n", p->master);
    for (size_t i = 0; i < p->n_unused; i++) {
        fprintf(out, "  %s", p->unused[i].file);
        if (p->unused[i].commented_at)
            fprintf(out, " (commented out at %s:%d)", p->master, p->unused[i].commented_at);
        fputc('\n', out);
    }
}

static void print_lines(FILE *out, const struct sp_oldhook *h)
{
    for (size_t i = 0; i < h->n_removed; i++)
        fprintf(out, "%s%d", i == 0 ? "" : i + 1 == h->n_removed ? " and " : ", ",
                h->removed_lines[i]);
}

/* Where the old hot-plug still lives. */
static void print_live(FILE *out, const struct sp_import_run *r)
{
    const struct sp_oldhook *h = &r->hook;
    if (h->qemu == SP_OLDHOOK_THEIRS)
        fprintf(out, "  %s runs %s when a VM starts, and would hot-plug these devices again "
                     "after boot, beside SynoPassthru\n", h->qemu_path, r->plan.master);
    if (h->n_removed) {
        fprintf(out, "  %s puts that hook back at every boot (line%s ", h->dsm_path,
                h->n_removed > 1 ? "s" : "");
        print_lines(out, h);
        fputs(", added by deploy.sh)\n", out);
    }
    if (h->manual_line)
        fprintf(out, "  %s:%d calls %s (the predecessor's hook setup, added by hand): import "
                     "does not change that line; take it out yourself\n", h->dsm_path,
                h->manual_line, SP_OLDHOOK_MANUAL);
}

static void print_removed(FILE *out, const struct sp_import_run *r, int done)
{
    const struct sp_oldhook *h = &r->hook;
    const char *verb = done ? "removed" : "would be removed";
    if (done)
        fprintf(out, "The old hot-plug is removed; backups in %s:\n", r->backup_dir);
    else
        fprintf(out, "--remove-old would back up (under %s/%s/<UTC time>/) and remove:\n",
                r->apply.config_dir, SP_OLDHOOK_BACKUP_DIR);
    if (h->qemu == SP_OLDHOOK_THEIRS)
        fprintf(out, "  %s: %s%s%s\n", h->qemu_path, verb, done ? "; backup " : "",
                done ? r->done.qemu_backup : "");
    if (h->n_removed) {
        fprintf(out, "  %s: line%s ", h->dsm_path, h->n_removed > 1 ? "s" : "");
        print_lines(out, h);
        fprintf(out, " (deploy.sh's) %s, the rest kept byte for byte with mode %04o%s%s\n", verb,
                (unsigned)h->dsm_mode, done ? "; backup " : "", done ? r->done.dsm_backup : "");
    }
    if (h->manual_line)
        fprintf(out, "  (not %s:%d, which calls %s: take that line out yourself)\n", h->dsm_path,
                h->manual_line, SP_OLDHOOK_MANUAL);
    fprintf(out, "  The scripts in %s stay as they are; delete that folder once you no longer "
                 "need it.\n", r->from);
}

static void print_old_hook(FILE *out, const struct sp_import_run *r)
{
    fputc('\n', out);
    if (r->hook_error) {
        fprintf(out, "The old hook could not be read: %s\n", r->hook_error);
        return;
    }
    if (r->hook.qemu == SP_OLDHOOK_OTHER)
        fprintf(out, "note: %s is not the community scripts' hook: import leaves it alone\n",
                r->hook.qemu_path);
    switch (r->removal) {
    case SP_REMOVAL_DONE:
        print_removed(out, r, 1);
        return;
    case SP_REMOVAL_WOULD:
        print_removed(out, r, 0);
        return;
    case SP_REMOVAL_FAILED:
        fprintf(out, "Removing the old hot-plug FAILED: %s\n", r->removal_error);
        break;
    case SP_REMOVAL_NOTHING: /* said below */
    case SP_REMOVAL_BLOCKED:
        fputs("--remove-old: the old hot-plug stays, because not everything was imported (see "
              "\"Not imported\" and the REFUSED or WARNING lines above). Settle those in the "
              "old scripts, or take them out of the master, then run the import again.\n", out);
        break;
    case SP_REMOVAL_NOT_ASKED:
        break;
    }
    if (!sp_oldhook_live(&r->hook)) {
        fputs("The old hot-plug is not installed: nothing of it runs at a VM start.\n", out);
        return;
    }
    fputs("The old hot-plug is still installed:\n", out);
    print_live(out, r);
    if (r->removal == SP_REMOVAL_NOT_ASKED)
        fputs("To stop it, run the same import again with --remove-old: it backs up, then "
              "removes, the hook and the lines deploy.sh added to DSM's start script.\n", out);
}

static void print_summary(FILE *out, const struct sp_import_run *r)
{
    struct sp_import_counts c;
    sp_import_count(r, &c);
    fprintf(out, "\nSummary: %zu file%s written, %zu unchanged, %zu refused, %zu failed, "
                 "%zu ROM%s that do%s not fit, %zu item%s not imported",
            c.written, c.written == 1 ? "" : "s", c.unchanged, c.refused, c.failed, c.misfits,
            c.misfits == 1 ? "" : "s", c.misfits == 1 ? "es" : "", c.skipped,
            c.skipped == 1 ? "" : "s");
    if (r->opts->dry_run)
        fprintf(out, "; dry run: %zu file%s would be written, nothing was changed.\n", c.pending,
                c.pending == 1 ? "" : "s");
    else if (c.written == 0 && c.failed == 0 && r->removal != SP_REMOVAL_DONE)
        fputs("; nothing changed.\n", out);
    else
        fputs(".\n", out);
}

void sp_import_report(FILE *out, const struct sp_import_run *r)
{
    print_header(out, r);
    for (size_t i = 0; i < r->apply.n_vms; i++)
        print_vm(out, r, &r->apply.vms[i]);
    if (!r->apply.n_vms)
        fputs("\nNo VM gets a device from these scripts.\n", out);
    print_skips(out, &r->plan);
    print_unused(out, &r->plan);
    print_old_hook(out, r);
    print_summary(out, r);
}
