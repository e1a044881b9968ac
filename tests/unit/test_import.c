/* import: the shell-subset parser, the plan read from an old install (the
 * fixture trees in tests/data/import/), the snippet text, the files an
 * import writes or refuses, and taking deploy.sh's lines out of DSM's hook. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "../../common/fsutil.h"
#include "../../config/config.h"
#include "../../config/snippet_format.h"
#include "../../import/apply.h"
#include "../../import/legacy.h"
#include "../../import/oldhook.h"
#include "../../import/shvars.h"
#include "../../injector/dsm_hook.h"
#include "../tools/fakesysfs.h"
#include "testutil.h"

/* ---- shvars ------------------------------------------------------------------------ */

static void parse(const char *text, struct sp_sh_script *s)
{
    assert_int_equal(sp_sh_parse(text, strlen(text), s), 0);
}

/* The one statement a one-line script gives. */
static struct sp_sh_stmt *one(const char *text, struct sp_sh_script *s)
{
    parse(text, s);
    assert_int_equal(s->n_stmts, 1);
    return &s->stmts[0];
}

static void assert_assign(const char *text, const char *name, const char *value, int exported)
{
    struct sp_sh_script s;
    struct sp_sh_stmt *st = one(text, &s);
    if (st->kind != SP_SH_ASSIGN)
        fail_msg("'%s': kind %d (%s)", text, st->kind, st->text ? st->text : "");
    assert_string_equal(st->name, name);
    assert_non_null(st->value.text);
    assert_string_equal(st->value.text, value);
    assert_int_equal(st->exported, exported);
    sp_sh_script_free(&s);
}

static void assignments_in_every_quoting(void **state)
{
    (void)state;
    assert_assign("ADDRESS=\"08:00.0\"", "ADDRESS", "08:00.0", 0);
    assert_assign("ADDRESS='08:00.1'   # single quotes", "ADDRESS", "08:00.1", 0);
    assert_assign("VENDOR=1002", "VENDOR", "1002", 0);
    assert_assign("  export PRODUCT=1637 # trailing", "PRODUCT", "1637", 1);
    assert_assign("ROM=\"\"", "ROM", "", 0);
    assert_assign("ROM=", "ROM", "", 0);
    assert_assign("VM_NAME=\"Living room PC\"", "VM_NAME", "Living room PC", 0);
    assert_assign("VM_NAME=Living' room '\"PC\"", "VM_NAME", "Living room PC", 0);
    assert_assign("X='a#b'#c", "X", "a#b#c", 0);
    assert_assign("X=a#b # c", "X", "a#b", 0);
    assert_assign("X='$(not run)'", "X", "$(not run)", 0);
    assert_assign("X=\"a;b|c\"", "X", "a;b|c", 0);
    assert_assign("X=*.bin", "X", "*.bin", 0); /* no pattern in an assignment */
    assert_assign("X=cost$", "X", "cost$", 0);
}

static void references_are_kept_not_expanded(void **state)
{
    (void)state;
    static const char *const forms[] = {"X=$VM_NAME", "X=\"$VM_NAME\"", "X=${VM_NAME}",
                                        "X=\"${VM_NAME}\"", "X=\"\"$VM_NAME"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        struct sp_sh_script s;
        struct sp_sh_stmt *st = one(forms[i], &s);
        assert_int_equal(st->kind, SP_SH_ASSIGN);
        assert_null(st->value.text);
        assert_string_equal(st->value.ref, "VM_NAME");
        sp_sh_script_free(&s);
    }
    struct sp_sh_script s;
    struct sp_sh_stmt *st = one("TARGET_VM=\"$1\"", &s);
    assert_string_equal(st->value.ref, "1");
    sp_sh_script_free(&s);
}

static void comments_blanks_shebang_and_crlf(void **state)
{
    (void)state;
    struct sp_sh_script s;
    parse("#!/bin/bash\r\n\r\n# The PCI device\r\nVENDOR=\"1002\"\r\n   \n\texport VM_NAME\r\n", &s);
    assert_int_equal(s.n_stmts, 4);
    assert_int_equal(s.stmts[0].kind, SP_SH_COMMENT);
    assert_string_equal(s.stmts[0].text, "!/bin/bash");
    assert_int_equal(s.stmts[1].kind, SP_SH_COMMENT);
    assert_int_equal(s.stmts[1].line, 3);
    assert_string_equal(s.stmts[1].text, " The PCI device");
    assert_int_equal(s.stmts[2].kind, SP_SH_ASSIGN);
    assert_string_equal(s.stmts[2].value.text, "1002"); /* no '\r' in the value */
    assert_int_equal(s.stmts[2].line, 4);
    assert_int_equal(s.stmts[3].kind, SP_SH_EXPORT);
    assert_int_equal(s.stmts[3].line, 6);
    assert_string_equal(s.stmts[3].words[0].text, "VM_NAME");
    sp_sh_script_free(&s);
}

static void worker_calls(void **state)
{
    (void)state;
    struct sp_sh_script s;
    struct sp_sh_stmt *st = one("    /usr/local/libvirt/attach_detach_pci_from_vm.sh \"ATTACH\" "
                                "\"$ADDRESS\" \"$VENDOR\" \"$PRODUCT\" \"$ROM\"", &s);
    assert_int_equal(st->kind, SP_SH_WORKER);
    assert_int_equal(st->worker, SP_SH_WORKER_ATTACH);
    assert_int_equal(st->n_words, 4);
    assert_string_equal(st->words[0].ref, "ADDRESS");
    assert_string_equal(st->words[3].ref, "ROM");
    sp_sh_script_free(&s);

    st = one("sh ../attach_detach_pci_from_vm.sh DETACH '' 15ad 0405", &s);
    assert_int_equal(st->worker, SP_SH_WORKER_DETACH);
    assert_string_equal(st->words[0].text, "");
    assert_string_equal(st->words[1].text, "15ad");
    sp_sh_script_free(&s);

    st = one("/usr/local/libvirt/attach_pci_to_vm.sh $VENDOR $PRODUCT $VM_NAME #disable_idle_d3=1",
             &s);
    assert_int_equal(st->worker, SP_SH_WORKER_PREDECESSOR);
    assert_int_equal(st->n_words, 3);
    assert_string_equal(st->words[2].ref, "VM_NAME");
    sp_sh_script_free(&s);
}

static void the_guard(void **state)
{
    (void)state;
    static const char *const guards[] = {
        "if [ \"$TARGET_VM\" == \"$VM_NAME\" ]; then",
        "if [[ $VM_NAME = \"$TARGET_VM\" ]] ; then",
        "  if [ $TARGET_VM = $VM_NAME ];then",
    };
    for (size_t i = 0; i < sizeof(guards) / sizeof(guards[0]); i++) {
        struct sp_sh_script s;
        struct sp_sh_stmt *st = one(guards[i], &s);
        if (st->kind != SP_SH_GUARD_BEGIN)
            fail_msg("'%s': kind %d (%s)", guards[i], st->kind, st->text ? st->text : "");
        sp_sh_script_free(&s);
    }
    struct sp_sh_script s;
    assert_int_equal(one("fi # end", &s)->kind, SP_SH_GUARD_END);
    sp_sh_script_free(&s);
}

static void plain_commands(void **state)
{
    (void)state;
    struct sp_sh_script s;
    struct sp_sh_stmt *st = one("/usr/local/libvirt/user/attach_usb_controller.sh", &s);
    assert_int_equal(st->kind, SP_SH_COMMAND);
    assert_int_equal(st->n_words, 1);
    assert_string_equal(st->words[0].text, "/usr/local/libvirt/user/attach_usb_controller.sh");
    sp_sh_script_free(&s);
    st = one("rm -rf /var/log/attach_detach_pci_from_vm.log", &s);
    assert_int_equal(st->kind, SP_SH_COMMAND);
    assert_int_equal(st->n_words, 3);
    sp_sh_script_free(&s);
}

/* Each line is not understood, and the reason says why. */
static void assert_unknown(const char *text, const char *reason_part)
{
    struct sp_sh_script s;
    struct sp_sh_stmt *st = one(text, &s);
    if (st->kind != SP_SH_UNKNOWN)
        fail_msg("'%s' was read as kind %d", text, st->kind);
    if (!strstr(st->text, reason_part))
        fail_msg("'%s': reason '%s' lacks '%s'", text, st->text, reason_part);
    sp_sh_script_free(&s);
}

static void what_is_not_guessed_at(void **state)
{
    (void)state;
    assert_unknown("ROM=$(ls /usr/local/libvirt/user/*.rom | head -n 1)", "command substitution");
    assert_unknown("ROM=`ls`", "backquoted");
    assert_unknown("ROM=\"`ls`\"", "backquoted");
    assert_unknown("ADDRESS=${ADDR:-08:00.0}", "parameter expansion");
    assert_unknown("ROM=\"$DIR/vbios.bin\"", "$DIR inside a longer word");
    assert_unknown("ROM=$A$B", "inside a longer word");
    assert_unknown("VM_NAME=\"win11", "unbalanced double quote");
    assert_unknown("VM_NAME='win11", "unbalanced single quote");
    assert_unknown("VM_NAME=\"win\\\"11\"", "backslash");
    assert_unknown("ADDRESS=\"08:00.0\" \\", "line continuation");
    assert_unknown("X=${", "unbalanced ${");
    assert_unknown("X=$'a'", "quoting");
    assert_unknown("X=$?", "special parameter $?");
    assert_unknown("X=~/vbios.bin", "'~'");
    assert_unknown("X+=1", "append assignment");
    assert_unknown("X=1 /usr/local/libvirt/attach_detach_pci_from_vm.sh ATTACH", "assignment followed");
    assert_unknown("X=1 Y=2", "assignment followed");
    assert_unknown("lspci -n | grep 1002", "pipe");
    assert_unknown("echo hi > /tmp/x", "redirection");
    assert_unknown("/x/a.sh &", "'&'");
    assert_unknown("/x/a.sh && /x/b.sh", "'&'");
    assert_unknown("/x/a.sh; /x/b.sh", "several commands");
    assert_unknown("for f in /usr/local/libvirt/user/*.sh; do", "control flow or a test ('for')");
    assert_unknown("done", "control flow");
    assert_unknown("[ -f /x ]", "a test ('[')");
    assert_unknown("if [ -n \"$ROM\" ]; then", "an if other than the guard");
    assert_unknown("if [ \"$TARGET_VM\" == \"$VM_NAME\" ]", "an if other than the guard");
    assert_unknown("/usr/local/libvirt/user/*.sh", "pattern");
    assert_unknown("$WORKER ATTACH", "named by a variable");
    assert_unknown("attach_detach_pci_from_vm.sh Attach a b c d", "worker mode 'Attach'");
    assert_unknown("attach_detach_pci_from_vm.sh $OP a b c d", "not a literal ATTACH");
    assert_unknown("attach_detach_pci_from_vm.sh ATTACH a b c d e", "more arguments");
    assert_unknown("attach_pci_to_vm.sh a b c d e", "more arguments");
    assert_unknown("export -n VM_NAME", "export with");
    assert_unknown("export", "export without");
    assert_unknown("f() { :; }", "parentheses");
    assert_unknown("case $X in", "control flow");
    struct sp_sh_script s;
    const char nul[] = "X=a\0b\nY=1\n";
    assert_int_equal(sp_sh_parse(nul, sizeof(nul) - 1, &s), 0);
    assert_int_equal(s.n_stmts, 2);
    assert_int_equal(s.stmts[0].kind, SP_SH_UNKNOWN);
    assert_int_equal(s.stmts[1].kind, SP_SH_ASSIGN);
    assert_int_equal(s.stmts[1].line, 2);
    sp_sh_script_free(&s);
}

/* ---- fixtures -------------------------------------------------------------------------- */

struct fixture {
    char *tmp;    /* everything below here */
    char *root;   /* the fake NAS */
    char *sysfs;  /* the amd-apu host */
    char *config; /* the config dir */
    char *dir;    /* root/usr/local/libvirt */
};

/* Where copy_entry copies to (nftw passes no context). */
static const char *copy_from, *copy_to;

static int copy_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if (flag == FTW_F)
        tu_copy_file(path, copy_to, path + strlen(copy_from) + 1);
    return 0;
}

/* The regular files of a fixture tree (tu_copy_file makes the folders). */
static void copy_tree(const char *from, const char *to)
{
    copy_from = from;
    copy_to = to;
    assert_int_equal(nftw(from, copy_entry, 16, FTW_PHYS), 0);
}

/* The ROMs a case's roms.txt lists, made by mkrom for their IDs. */
static void make_roms(const char *case_dir, const char *root)
{
    char *spec = sp_path_join(case_dir, "roms.txt");
    char *text = tu_read(spec, NULL);
    char path[512], vendor[16], device[16], shape[32];
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        int n = line[0] == '#' ? 0 : sscanf(line, "%511s %15s %15s %31s", path, vendor, device,
                                            shape);
        if (n < 3)
            continue;
        char *out = sp_path_join(root, path);
        if (n == 4) /* a shape of its own, such as a GOP driver naming other IDs */
            tu_run_mkrom((const char *const[]){shape, out, NULL});
        else
            tu_run_mkrom((const char *const[]){"for", vendor, device, out, NULL});
        free(out);
    }
    free(text);
    free(spec);
}

static void fixture_open(struct fixture *f, const char *name)
{
    char *case_dir = NULL, *root_src = NULL, *host = NULL;
    tu_trust_current_user(); /* for runs as another user than root */
    f->tmp = tu_mkdtemp("import");
    assert_true(asprintf(&case_dir, "%s/tests/data/import/%s", tu_src_dir(), name) > 0);
    root_src = sp_path_join(case_dir, "root");
    f->root = sp_path_join(f->tmp, "root");
    f->sysfs = sp_path_join(f->tmp, "sysfs");
    f->config = sp_path_join(f->tmp, "config");
    f->dir = sp_path_join(f->root, "usr/local/libvirt");
    copy_tree(root_src, f->root);
    make_roms(case_dir, f->root);
    host = sp_path_join(tu_src_dir(), "tests/data/hosts/amd-apu.txt");
    assert_int_equal(fakesysfs_build_from_file(f->sysfs, host), 0);
    free(host);
    free(root_src);
    free(case_dir);
}

static void fixture_close(struct fixture *f)
{
    tu_rm_rf(f->tmp);
    free(f->tmp);
    free(f->root);
    free(f->sysfs);
    free(f->config);
    free(f->dir);
}

static int read_plan(const struct fixture *f, struct sp_legacy_plan *plan)
{
    struct sp_legacy_where w = {.root = f->root, .dir = f->dir, .sysfs_root = f->sysfs};
    struct sp_err err;
    sp_err_clear(&err);
    int rc = sp_legacy_read(&w, plan, &err);
    if (rc < 0)
        fail_msg("%s", err.msg);
    return rc;
}

static void assert_addr(const struct sp_pci_addr *a, unsigned bus, unsigned slot, unsigned fn)
{
    assert_int_equal(a->domain, 0);
    assert_int_equal(a->bus, bus);
    assert_int_equal(a->slot, slot);
    assert_int_equal(a->function, fn);
}

static void ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (n < m || strcmp(s + n - m, suffix) != 0)
        fail_msg("'%s' does not end with '%s'", s, suffix);
}

/* ---- the plan ------------------------------------------------------------------------------ */

static void plan_of_a_synopassthru_install(void **state)
{
    (void)state;
    struct fixture f;
    fixture_open(&f, "synopassthru");
    struct sp_legacy_plan p;
    assert_int_equal(read_plan(&f, &p), 1);
    assert_int_equal(p.format, SP_LEGACY_SYNOPASSTHRU);
    assert_int_equal(p.n_called, 3);
    assert_string_equal(p.called[0], "user/attach_usb_controller.sh");
    assert_string_equal(p.called[2], "user/attach_ryzen_apu_gpu.sh");
    assert_int_equal(p.n_skips, 0);
    /* The audio script's upper-case UUID is the same VM. */
    assert_int_equal(p.n_vms, 1);
    const struct sp_legacy_vm *vm = &p.vms[0];
    assert_string_equal(vm->name, "591328d9-88d5-42aa-9551-bb793c3330cf");
    assert_int_equal(vm->n_devs, 3);
    const struct sp_legacy_dev *usb = &vm->devs[0], *audio = &vm->devs[1], *gpu = &vm->devs[2];
    assert_false(usb->has_addr);
    assert_int_equal(usb->ids.vendor, 0x1022);
    assert_int_equal(usb->n_host, 2);
    assert_addr(&usb->host[0], 8, 0, 3);
    assert_addr(&usb->host[1], 8, 0, 4);
    assert_null(usb->rom_src);
    /* CRLF, single quotes, no quotes, export NAME=value, ${NAME}. */
    assert_addr(&audio->addr, 8, 0, 1);
    assert_int_equal(audio->ids.device, 0x1637);
    assert_string_equal(audio->file, "user/attach_ryzen_apu_audio.sh");
    assert_int_equal(audio->line, 12);
    ends_with(audio->rom_src, "/root/usr/local/libvirt/user/AMDGopDriver.rom");
    assert_string_equal(audio->rom_name, "AMDGopDriver.rom");
    /* A bare ROM name is beside the script. */
    assert_addr(&gpu->addr, 8, 0, 0);
    ends_with(gpu->rom_src, "/root/usr/local/libvirt/user/vbios_1002_1638.bin");
    assert_int_equal(gpu->line, 14);
    /* Neither the commented-out nor the unlisted script is imported. */
    assert_int_equal(p.n_unused, 2);
    assert_string_equal(p.unused[0].file, "user/attach_spare_nic.sh");
    assert_int_equal(p.unused[0].commented_at, 0);
    assert_string_equal(p.unused[1].file, "user/detach_vmvga.sh");
    assert_int_equal(p.unused[1].commented_at, 12);
    sp_legacy_plan_free(&p);
    fixture_close(&f);
}

static const struct sp_legacy_skip *skip_of(const struct sp_legacy_plan *p, const char *file,
                                            int line)
{
    for (size_t i = 0; i < p->n_skips; i++)
        if (strcmp(p->skips[i].file, file) == 0 && p->skips[i].line == line)
            return &p->skips[i];
    fail_msg("no skip for %s:%d", file, line);
    return NULL;
}

static void plan_lists_what_it_does_not_import(void **state)
{
    (void)state;
    struct fixture f;
    fixture_open(&f, "problems");
    struct sp_legacy_plan p;
    assert_int_equal(read_plan(&f, &p), 1);
    assert_int_equal(p.n_skips, 6);
    const struct sp_legacy_skip *s = skip_of(&p, "user/detach_vmvga.sh", 9);
    assert_string_equal(s->reason, SP_LEGACY_VMVGA_REASON);
    assert_false(s->keeps_old);
    s = skip_of(&p, "user/attach_dgpu.sh", 5);
    assert_non_null(strstr(s->reason, "command substitution"));
    assert_true(s->keeps_old);
    assert_non_null(strstr(skip_of(&p, "user/attach_dgpu.sh", 0)->reason, "nothing from this"));
    assert_non_null(strstr(skip_of(&p, "user/detach_nic.sh", 8)->reason, "DETACH of 8086:10fb"));
    assert_non_null(strstr(skip_of(&p, "user/attach_gone.sh", 0)->reason, "cannot be read"));
    assert_non_null(strstr(skip_of(&p, "attach_detach_all.sh", 5)->reason, "$TARGET_VM"));
    /* The dGPU script gave nothing; the iGPU and the Coral did. */
    assert_int_equal(p.n_vms, 2);
    assert_string_equal(p.vms[0].name, "Living room PC");
    assert_int_equal(p.vms[0].n_devs, 1);
    assert_int_equal(p.vms[0].devs[0].ids.device, 0x1638);
    assert_string_equal(p.vms[1].name, "frigate & co");
    assert_int_equal(p.vms[1].devs[0].n_host, 1);
    assert_addr(&p.vms[1].devs[0].host[0], 6, 0, 0);
    /* A relative path in the master is the folder's. */
    assert_string_equal(p.called[4], "user/attach_coral.sh");
    sp_legacy_plan_free(&p);
    fixture_close(&f);
}

static void plan_of_the_predecessor(void **state)
{
    (void)state;
    struct fixture f;
    fixture_open(&f, "predecessor");
    struct sp_legacy_plan p;
    assert_int_equal(read_plan(&f, &p), 1);
    assert_int_equal(p.format, SP_LEGACY_PREDECESSOR);
    assert_string_equal(p.master, SP_LEGACY_MASTER_OLD);
    assert_int_equal(p.n_skips, 0);
    assert_int_equal(p.n_vms, 1);
    assert_string_equal(p.vms[0].name, "frigate_VM");
    assert_false(p.vms[0].devs[0].has_addr);
    assert_int_equal(p.vms[0].devs[0].ids.vendor, 0x1ac1);
    assert_int_equal(p.vms[0].devs[0].line, 6);
    assert_int_equal(p.n_unused, 1);
    assert_string_equal(p.unused[0].file, "attaching_Intel82599ES.sh");
    assert_int_equal(p.unused[0].commented_at, 3);
    sp_legacy_plan_free(&p);
    fixture_close(&f);
}

static void no_install_is_no_plan(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("import-empty");
    struct sp_legacy_where w = {.root = "", .dir = dir, .sysfs_root = dir};
    struct sp_legacy_plan p;
    struct sp_err err;
    assert_int_equal(sp_legacy_read(&w, &p, &err), 0);
    assert_int_equal(p.n_vms, 0);
    tu_rm_rf(dir);
    free(dir);
}

/* One script read on its own; the first skip's reason must hold want, and
 * no device comes of it unless the skip is about a part of the call only. */
static void assert_script_skip_vms(const char *text, const char *want, int keeps_old, size_t vms)
{
    char *dir = tu_mkdtemp("import-script");
    struct sp_legacy_where w = {.root = dir, .dir = dir, .sysfs_root = dir};
    struct sp_legacy_plan p = {.master = SP_LEGACY_MASTER};
    assert_int_equal(sp_legacy_read_script(&w, "user/x.sh", text, strlen(text), &p), 0);
    if (p.n_skips == 0)
        fail_msg("no skip for:\n%s", text);
    if (!strstr(p.skips[0].reason, want))
        fail_msg("reason '%s' lacks '%s'", p.skips[0].reason, want);
    assert_int_equal(p.skips[0].keeps_old, keeps_old);
    assert_int_equal(p.n_vms, vms);
    sp_legacy_plan_free(&p);
    tu_rm_rf(dir);
    free(dir);
}

static void assert_script_skip(const char *text, const char *want, int keeps_old)
{
    assert_script_skip_vms(text, want, keeps_old, 0);
}

#define CALL "attach_detach_pci_from_vm.sh ATTACH \"$ADDRESS\" \"$VENDOR\" \"$PRODUCT\" \"$ROM\"\n"

static void script_values_that_are_not_imported(void **state)
{
    (void)state;
    assert_script_skip("VM_NAME=x\nADDRESS=08:00.0\nVENDOR=1002\nPRODUCT=1638\n"
                       "ROM=\"$DIR\"\n" CALL, "ROM is set from $DIR at line 5", 1);
    assert_script_skip("VM_NAME=\"$1\"\nVENDOR=1002\nPRODUCT=1638\nADDRESS=\nROM=\n" CALL,
                       "VM_NAME is set from $1 at line 1", 1);
    assert_script_skip("ADDRESS=08:00.0\n" CALL, "uses $VENDOR", 1);
    assert_script_skip("VENDOR=1002\nPRODUCT=1638\nADDRESS=\nROM=\n" CALL,
                       "uses $VM_NAME, which the script does not set", 1);
    assert_script_skip("VM_NAME=\"\"\nVENDOR=1002\nPRODUCT=1638\nADDRESS=\nROM=\n" CALL,
                       "VM_NAME is empty", 1);
    assert_script_skip("VM_NAME=x\nVENDOR=1002\nPRODUCT=\nADDRESS=\nROM=\n" CALL,
                       "give both or neither", 1);
    assert_script_skip("VM_NAME=x\nVENDOR=10022\nPRODUCT=1638\nADDRESS=\nROM=\n" CALL,
                       "VENDOR='10022' is not a 4-digit hex PCI ID", 1);
    assert_script_skip("VM_NAME=x\nVENDOR=\nPRODUCT=\nADDRESS=\nROM=\n" CALL,
                       "neither ADDRESS nor VENDOR", 1);
    assert_script_skip("VM_NAME=x\nVENDOR=1002\nPRODUCT=1638\nADDRESS=8:0\nROM=\n" CALL,
                       "ADDRESS='8:0'", 1);
    assert_script_skip("VM_NAME=x\nVENDOR=1002\nPRODUCT=1638\nADDRESS=\nROM=gone.bin\n" CALL,
                       "ROM 'gone.bin'", 1);
    assert_script_skip("VM_NAME=x\nexport VM_NAME\n", "no call of", 0);
    assert_script_skip("VM_NAME=x\necho $VM_NAME\n" CALL, "a command import does not read: "
                       "'echo $VM_NAME'", 1);
    assert_script_skip("VM_NAME=x\nfi\n", "a fi without its if", 1);
    assert_script_skip("VM_NAME=x\nif [ \"$TARGET_VM\" == \"$VM_NAME\" ]; then\n", "has no fi", 1);
    assert_script_skip_vms("VM_NAME=x\nVENDOR=1002\nPRODUCT=1638\nADDRESS=08:00.0\nROM=\n" CALL
                           "PRODUCT=1637\n" CALL, "0000:08:00.0 is given to VM 'x' at "
                           "user/x.sh:6 already", 1, 1);
    assert_script_skip_vms("VM_NAME=x\nVENDOR=8086\nPRODUCT=10fb\n"
                           "attach_pci_to_vm.sh $VENDOR $PRODUCT $VM_NAME disable_idle_d3=1\n",
                           "module options 'disable_idle_d3=1'", 1, 1);
}

static void script_variables_resolve_in_order(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("import-order");
    struct sp_legacy_where w = {.root = dir, .dir = dir, .sysfs_root = dir};
    struct sp_legacy_plan p = {.master = SP_LEGACY_MASTER};
    const char *text = "NAME=\"win 11\"\nVM_NAME=$NAME\nVENDOR=1002\nPRODUCT=1638\nROM=\n"
                       "ADDRESS=08:00.0\n" CALL "ADDRESS=08:00.1\nPRODUCT=1637\n" CALL
                       "ADDRESS=0000:08:00.0\nPRODUCT=1638\n" CALL;
    assert_int_equal(sp_legacy_read_script(&w, "user/x.sh", text, strlen(text), &p), 0);
    assert_int_equal(p.n_skips, 0);
    assert_int_equal(p.n_vms, 1);
    assert_string_equal(p.vms[0].name, "win 11");
    assert_int_equal(p.vms[0].n_devs, 2); /* the third call names the first device again */
    assert_int_equal(p.n_skips, 0);
    assert_addr(&p.vms[0].devs[1].addr, 8, 0, 1);
    assert_int_equal(p.vms[0].devs[1].ids.device, 0x1637);
    assert_int_equal(p.vms[0].devs[1].line, 10);
    sp_legacy_plan_free(&p);
    tu_rm_rf(dir);
    free(dir);
}

/* ---- snippet text -------------------------------------------------------------------------- */

static void snippet_text_reads_back(void **state)
{
    (void)state;
    struct sp_dev_spec specs[2] = {
        {.kind = SP_SPEC_PCI, .has_addr = 1, .addr = {0, 8, 0, 0}, .has_ids = 1,
         .ids = {0x1002, 0x1638}, .rom = "v<1>&\"'.bin", .bind = 1, .all_functions = 1,
         .has_subsys = 1, .subsys = {0x1462, 0x7c95}},
        {.kind = SP_SPEC_PCI, .has_ids = 1, .ids = {0x1022, 0x1639}, .bind = 1},
    };
    const char *comments[2] = {"from a.sh -- line 3", NULL};
    struct sp_snippet_head head = {.vm = "Tom & Jerry's <PC>", .comment = "x--y-", .bind = 1};
    char *text = NULL;
    struct sp_err err;
    assert_int_equal(sp_snippet_format(&head, specs, comments, 2, &text, &err), 0);
    assert_non_null(strstr(text, "<!-- x- -y-  -->"));
    assert_non_null(strstr(text, "<!-- from a.sh - - line 3 -->"));
    struct sp_snippet s;
    assert_int_equal(sp_snippet_parse("/cfg/vm.d/x.xml", text, strlen(text), &s), 0);
    if (s.error)
        fail_msg("%s\n%s", s.error, text);
    assert_string_equal(s.vm, "Tom & Jerry's <PC>");
    assert_int_equal(s.n_specs, 2);
    assert_string_equal(s.specs[0].rom, "v<1>&\"'.bin");
    assert_true(s.specs[0].all_functions && s.specs[0].has_subsys);
    assert_int_equal(s.specs[0].subsys.device, 0x7c95);
    assert_int_equal(s.specs[0].addr.bus, 8);
    assert_false(s.specs[1].has_addr);
    assert_int_equal(s.specs[1].ids.device, 0x1639);
    sp_snippet_free(&s);
    free(text);

    head.vm = "bell\a";
    assert_int_equal(sp_snippet_format(&head, specs, NULL, 0, &text, &err), -1);
    assert_non_null(strstr(err.msg, "control character"));
}

static void snippet_names_are_safe(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"Living room PC", "imported-Living-room-PC.xml"},
        {"591328d9-88d5-42aa-9551-bb793c3330cf", "imported-591328d9-88d5-42aa-9551-bb793c3330cf.xml"},
        {"../../etc/passwd", "imported-etc-passwd.xml"},
        {"frigate & co", "imported-frigate-co.xml"},
        {"...", "imported-vm.xml"},
        {"", "imported-vm.xml"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *name = sp_apply_snippet_name(cases[i][0]);
        assert_string_equal(name, cases[i][1]);
        free(name);
    }
}

/* ---- writing ------------------------------------------------------------------------------- */

struct applied {
    struct sp_config *cfg;
    struct sp_snapshot *snap;
    struct sp_legacy_plan plan;
    struct sp_apply apply;
};

static void prepare(const struct fixture *f, struct applied *a)
{
    struct sp_err err;
    assert_int_equal(read_plan(f, &a->plan), 1);
    a->cfg = sp_config_new(f->config);
    assert_non_null(a->cfg);
    assert_int_equal(sp_config_snapshot(a->cfg, &a->snap, &err), 0);
    if (sp_apply_prepare(&a->plan, a->snap, SP_LEGACY_DIR, &a->apply, &err) < 0)
        fail_msg("%s", err.msg);
}

static void applied_free(struct applied *a)
{
    sp_apply_free(&a->apply);
    sp_legacy_plan_free(&a->plan);
    sp_snapshot_release(a->snap);
    sp_config_free(a->cfg);
}

static void writes_snippet_and_roms_once(void **state)
{
    (void)state;
    struct fixture f;
    fixture_open(&f, "synopassthru");
    struct applied a = {0};
    prepare(&f, &a);
    assert_int_equal(a.apply.n_vms, 1);
    assert_int_equal(a.apply.n_roms, 2);
    assert_int_equal(a.apply.vms[0].state, SP_APPLY_NEW);
    assert_true(a.apply.vms[0].checks[2].fits);
    assert_string_equal(a.apply.vms[0].checks[2].verdict, "fits 1002:1638");
    /* The GOP driver on the audio function names 03ea:0665: an EFI driver
     * fits any function, as a start judges it. */
    assert_true(a.apply.vms[0].checks[1].fits);
    assert_string_equal(a.apply.vms[0].checks[1].verdict,
                        "fits 1002:1637: EFI driver image (x64, boot service driver), names "
                        "03ea:0665; UEFI firmware loads it from this function");
    assert_int_equal(sp_apply_write(&a.apply), 0);
    assert_int_equal(a.apply.vms[0].state, SP_APPLY_WRITTEN);
    struct stat st;
    assert_int_equal(stat(a.apply.vms[0].path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(stat(a.apply.roms[0].dest, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    char *expected = NULL;
    assert_true(asprintf(&expected, "%s/tests/data/import/synopassthru/expected/vm.d/%s",
                         tu_src_dir(), strrchr(a.apply.vms[0].path, '/') + 1) > 0);
    char *want = tu_read(expected, NULL), *got = tu_read(a.apply.vms[0].path, NULL);
    assert_string_equal(got, want);
    free(want);
    free(got);
    free(expected);
    applied_free(&a);

    /* Again: everything is there, identical. */
    memset(&a, 0, sizeof(a));
    prepare(&f, &a);
    assert_int_equal(a.apply.vms[0].state, SP_APPLY_SAME);
    assert_int_equal(a.apply.roms[0].state, SP_APPLY_SAME);
    assert_int_equal(a.apply.roms[1].state, SP_APPLY_SAME);
    applied_free(&a);
    fixture_close(&f);
}

static void refuses_a_different_file_and_writes_nothing_of_that_vm(void **state)
{
    (void)state;
    struct fixture f;
    fixture_open(&f, "synopassthru");
    char *rom_dir = sp_path_join(f.config, "rom");
    char *mine = tu_write(rom_dir, "vbios_1002_1638.bin", "my own dump", 0644);
    struct applied a = {0};
    prepare(&f, &a);
    assert_int_equal(a.apply.vms[0].state, SP_APPLY_REFUSED);
    assert_non_null(strstr(a.apply.vms[0].why, "vbios_1002_1638.bin is refused"));
    long r = a.apply.vms[0].checks[2].rom;
    assert_int_equal(a.apply.roms[r].state, SP_APPLY_REFUSED);
    assert_non_null(strstr(a.apply.roms[r].why, "a different"));
    assert_int_equal(sp_apply_write(&a.apply), 0);
    struct stat st;
    assert_int_equal(stat(a.apply.vms[0].path, &st), -1);
    char *other = sp_path_join(rom_dir, "AMDGopDriver.rom");
    assert_int_equal(stat(other, &st), -1); /* only a refused VM uses it */
    char *kept = tu_read(mine, NULL);
    assert_string_equal(kept, "my own dump");
    free(kept);
    free(other);
    free(mine);
    free(rom_dir);
    applied_free(&a);
    fixture_close(&f);
}

static void a_rom_that_does_not_fit_is_written_and_flagged(void **state)
{
    (void)state;
    struct fixture f;
    fixture_open(&f, "problems");
    struct applied a = {0};
    prepare(&f, &a);
    const struct sp_apply_check *c = &a.apply.vms[0].checks[0];
    assert_false(c->fits);
    assert_string_equal(c->verdict, "does NOT fit 1002:1638: its images name 10de:1b80");
    assert_int_equal(sp_apply_write(&a.apply), 0);
    assert_int_equal(a.apply.vms[0].state, SP_APPLY_WRITTEN);
    assert_int_equal(a.apply.roms[0].state, SP_APPLY_WRITTEN);
    /* The title with '&' makes a snippet that parses back to it. */
    char *text = tu_read(a.apply.vms[1].path, NULL);
    struct sp_snippet s;
    assert_int_equal(sp_snippet_parse(a.apply.vms[1].path, text, strlen(text), &s), 0);
    assert_null(s.error);
    assert_string_equal(s.vm, "frigate & co");
    sp_snippet_free(&s);
    free(text);
    applied_free(&a);
    fixture_close(&f);
}

/* ---- the old hook -------------------------------------------------------------------------- */

#define MARK SP_OLDHOOK_MARKER "\n"
#define MKDIR SP_OLDHOOK_MKDIR "\n"
#define COPY SP_OLDHOOK_COPY "\n"

static void assert_stripped(const char *text, const char *want, size_t n_want)
{
    char *out = NULL;
    size_t len = 0, n = 0;
    int lines[3];
    assert_int_equal(sp_oldhook_strip(text, strlen(text), &out, &len, lines, &n), 0);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    assert_int_equal(n, n_want);
    free(out);
}

static void strips_exactly_deploys_lines(void **state)
{
    (void)state;
    const char *orig = "#!/bin/sh\nmodprobe vfio-pci\n";
    assert_stripped("#!/bin/sh\nmodprobe vfio-pci\n" MARK MKDIR COPY, orig, 3);
    /* Already in the file before deploy.sh ran: Synology's own line stays. */
    assert_stripped("#!/bin/sh\n" MKDIR "x\n" MARK COPY, "#!/bin/sh\n" MKDIR "x\n", 2);
    /* Lines added after them, and our injector's block, stay. */
    assert_stripped("a\n" MARK MKDIR COPY "# synopassthru: begin\nb\n# synopassthru: end\n",
                    "a\n# synopassthru: begin\nb\n# synopassthru: end\n", 3);
    /* A file without a final newline had the marker glued to its last line. */
    assert_stripped("#!/bin/sh\nexit 0" MARK MKDIR COPY, "#!/bin/sh\nexit 0", 3);
    assert_stripped("#!/bin/sh\nexit 0" MARK MKDIR COPY "more\n", "#!/bin/sh\nexit 0\nmore\n", 3);
    /* Nothing of deploy.sh's. */
    assert_stripped(orig, orig, 0);
    assert_stripped("a\n" MKDIR COPY, "a\n" MKDIR COPY, 0);
    /* Whole lines only, and each once. */
    assert_stripped("a\n" MARK " " MKDIR COPY COPY, "a\n " MKDIR COPY, 2);
    /* deploy.sh writes LF: a CRLF line is not one of its lines. */
    assert_stripped("a\r\n" SP_OLDHOOK_MARKER "\r\n", "a\r\n" SP_OLDHOOK_MARKER "\r\n", 0);
}

static void removes_hook_with_backups(void **state)
{
    (void)state;
    char *root = tu_mkdtemp("import-hook");
    char *cfg = sp_path_join(root, "config");
    const char *orig = "#!/bin/sh\nmodprobe vfio-pci\n";
    char *deployed = NULL;
    assert_true(asprintf(&deployed, "%s" MARK MKDIR COPY, orig) > 0);
    free(tu_write(root, "etc/libvirt/hooks/qemu", "nohup sh /usr/local/libvirt/attach_detach_all.sh &\n", 0755));
    char *dsm = tu_write(root, SP_DSM_HOOK_PATH + 1, deployed, 0750);
    struct sp_oldhook h;
    struct sp_err err;
    assert_int_equal(sp_oldhook_find(root, &h, &err), 0);
    assert_int_equal(h.qemu, SP_OLDHOOK_THEIRS);
    assert_int_equal(h.n_removed, 3);
    assert_int_equal(h.removed_lines[0], 3);
    assert_true(sp_oldhook_live(&h));
    char *backup = sp_oldhook_backup_dir(cfg, 0, &err);
    assert_non_null(backup);
    ends_with(backup, "/config/import-backup/19700101T000000Z");
    char *second = sp_oldhook_backup_dir(cfg, 0, &err);
    ends_with(second, "/config/import-backup/19700101T000000Z-2");
    struct sp_oldhook_done done;
    assert_int_equal(sp_oldhook_remove(&h, backup, &done, &err), 0);
    struct stat st;
    assert_int_equal(stat(h.qemu_path, &st), -1);
    char *now = tu_read(dsm, NULL);
    assert_string_equal(now, orig);
    assert_int_equal(stat(dsm, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0750);
    char *saved = tu_read(done.dsm_backup, NULL);
    assert_string_equal(saved, deployed);
    ends_with(done.qemu_backup, "19700101T000000Z/etc/libvirt/hooks/qemu");
    free(saved);
    free(now);
    sp_oldhook_done_free(&done);
    sp_oldhook_free(&h);

    /* Someone else's hook is left alone. */
    free(tu_write(root, "etc/libvirt/hooks/qemu", "#!/bin/sh\nexit 0\n", 0755));
    assert_int_equal(sp_oldhook_find(root, &h, &err), 0);
    assert_int_equal(h.qemu, SP_OLDHOOK_OTHER);
    assert_int_equal(h.n_removed, 0);
    assert_false(sp_oldhook_live(&h));
    sp_oldhook_free(&h);
    free(second);
    free(backup);
    free(dsm);
    free(deployed);
    free(cfg);
    tu_rm_rf(root);
    free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(assignments_in_every_quoting),
        cmocka_unit_test(references_are_kept_not_expanded),
        cmocka_unit_test(comments_blanks_shebang_and_crlf),
        cmocka_unit_test(worker_calls),
        cmocka_unit_test(the_guard),
        cmocka_unit_test(plain_commands),
        cmocka_unit_test(what_is_not_guessed_at),
        cmocka_unit_test(plan_of_a_synopassthru_install),
        cmocka_unit_test(plan_lists_what_it_does_not_import),
        cmocka_unit_test(plan_of_the_predecessor),
        cmocka_unit_test(no_install_is_no_plan),
        cmocka_unit_test(script_values_that_are_not_imported),
        cmocka_unit_test(script_variables_resolve_in_order),
        cmocka_unit_test(snippet_text_reads_back),
        cmocka_unit_test(snippet_names_are_safe),
        cmocka_unit_test(writes_snippet_and_roms_once),
        cmocka_unit_test(refuses_a_different_file_and_writes_nothing_of_that_vm),
        cmocka_unit_test(a_rom_that_does_not_fit_is_written_and_flagged),
        cmocka_unit_test(strips_exactly_deploys_lines),
        cmocka_unit_test(removes_hook_with_backups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
