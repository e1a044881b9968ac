/* config: the directory as a snapshot: index by name/UUID/title, devices
 * adding up, StrictModes, and reloading only what changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/fsutil.h"
#include "../../common/testhooks.h"
#include "../../config/config.h"
#include "testutil.h"

#define SNIPPET_A "<passthrough vm='win11'><pci address='08:00.0'/></passthrough>\n"
#define SNIPPET_B "<passthrough vm='win11'><pci address='08:00.1'/></passthrough>\n"
#define SNIPPET_C "<passthrough vm='591328D9-88D5-42AA-9551-BB793C3330CF'>" \
                  "<pci address='03:00.0'/></passthrough>\n"

struct fixture {
    char *dir;
    struct sp_config *cfg;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->dir = tu_mkdtemp("config");
    free(tu_write(f->dir, "vm.d/a.xml", SNIPPET_A, 0644));
    free(tu_write(f->dir, "vm.d/b.xml", SNIPPET_B, 0644));
    free(tu_write(f->dir, "vm.d/c.xml", SNIPPET_C, 0644));
    free(tu_write(f->dir, "vm.d/notes.txt", "not a snippet", 0644));
    free(tu_write(f->dir, "synopassthru.conf", "audit_log = /tmp/x.log\n", 0644));
    char *vmd = sp_path_join(f->dir, "vm.d");
    chmod(vmd, 0755);
    free(vmd);
    tu_age(f->dir);
    f->cfg = sp_config_new(f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sp_config_free(f->cfg);
    tu_rm_rf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static struct sp_snapshot *snapshot(struct fixture *f)
{
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    assert_int_equal(sp_config_snapshot(f->cfg, &snap, &err), 0);
    return snap;
}

static void devices_of_one_vm_add_up(void **state)
{
    struct fixture *f = *state;
    struct sp_snapshot *snap = snapshot(f);
    assert_null(snap->global_error);
    assert_int_equal(snap->n_snippets, 3);
    assert_string_equal(snap->settings.audit_log, "/tmp/x.log");
    const struct sp_vm_entry *e = sp_snapshot_lookup(snap, "win11");
    assert_non_null(e);
    assert_int_equal(e->n_specs, 2);
    assert_int_equal(e->n_files, 2);
    assert_int_equal(e->specs[0].addr.function, 0); /* a.xml before b.xml */
    assert_int_equal(e->specs[1].addr.function, 1);
    assert_null(sp_snapshot_lookup(snap, "win10"));
    sp_snapshot_release(snap);
}

/* An edit not written yet: one file read from text (a new one, or one that
 * is there), or taken away; the disk is not touched. */
static void an_override_stands_for_one_file(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(sp_config_override_snippet(f->cfg, "b.xml", SNIPPET_C, strlen(SNIPPET_C)),
                     0);
    struct sp_snapshot *snap = snapshot(f);
    assert_int_equal(sp_snapshot_lookup(snap, "win11")->n_specs, 1);
    assert_int_equal(sp_snapshot_lookup(snap, "591328d9-88d5-42aa-9551-bb793c3330cf")->n_specs,
                     2);
    sp_snapshot_release(snap);
    struct sp_config *gone = sp_config_new(f->dir);
    assert_int_equal(sp_config_override_snippet(gone, "a.xml", NULL, 0), 0);
    snap = NULL;
    struct sp_err err;
    assert_int_equal(sp_config_snapshot(gone, &snap, &err), 0);
    assert_int_equal(snap->n_snippets, 2);
    assert_int_equal(sp_snapshot_lookup(snap, "win11")->specs[0].addr.function, 1);
    sp_snapshot_release(snap);
    sp_config_free(gone);
    struct sp_config *added = sp_config_new(f->dir);
    assert_int_equal(sp_config_override_snippet(added, "new.xml", SNIPPET_A, strlen(SNIPPET_A)),
                     0);
    assert_int_equal(sp_config_snapshot(added, &snap, &err), 0);
    assert_int_equal(snap->n_snippets, 4);
    assert_int_equal(sp_snapshot_lookup(snap, "win11")->n_specs, 3);
    sp_snapshot_release(snap);
    sp_config_free(added);
    char *path = sp_path_join(f->dir, "vm.d/new.xml");
    assert_int_equal(access(path, F_OK), -1);
    free(path);
}

static void uuid_lookup_ignores_case(void **state)
{
    struct fixture *f = *state;
    struct sp_snapshot *snap = snapshot(f);
    assert_non_null(sp_snapshot_lookup(snap, "591328d9-88d5-42aa-9551-bb793c3330cf"));
    assert_non_null(sp_snapshot_lookup(snap, "591328D988D542AA9551BB793C3330CF"));
    sp_snapshot_release(snap);
}

/* One VM known by its name, UUID and title: each snippet naming it by any
 * of them, once, in the keys' order; a NULL key or a key no snippet names
 * adds nothing. */
static void a_vm_is_found_by_each_of_its_keys(void **state)
{
    struct fixture *f = *state;
    struct sp_snapshot *snap = snapshot(f);
    const struct sp_vm_entry *out[SP_VM_KEYS];
    const char *keys[SP_VM_KEYS] = {"591328D988D542AA9551BB793C3330CF", "nope", "win11"};
    assert_int_equal(sp_snapshot_lookup_vm(snap, keys, out), 2);
    assert_ptr_equal(out[0], sp_snapshot_lookup(snap, "591328d9-88d5-42aa-9551-bb793c3330cf"));
    assert_ptr_equal(out[1], sp_snapshot_lookup(snap, "win11"));
    const char *twice[SP_VM_KEYS] = {"win11", NULL, "win11"};
    assert_int_equal(sp_snapshot_lookup_vm(snap, twice, out), 1);
    assert_ptr_equal(out[0], sp_snapshot_lookup(snap, "win11"));
    const char *none[SP_VM_KEYS] = {NULL, "win10", NULL};
    assert_int_equal(sp_snapshot_lookup_vm(snap, none, out), 0);
    sp_snapshot_release(snap);
}

static void unchanged_config_is_not_read_again(void **state)
{
    struct fixture *f = *state;
    sp_snapshot_release(snapshot(f));
    unsigned long parses = sp_config_parse_count(f->cfg);
    assert_int_equal(parses, 4); /* conf + 3 snippets */
    struct sp_snapshot *first = snapshot(f);
    struct sp_snapshot *second = snapshot(f);
    assert_ptr_equal(first, second);
    assert_int_equal(sp_config_parse_count(f->cfg), parses);
    sp_snapshot_release(first);
    sp_snapshot_release(second);
}

/* A snippet that is a symlink to a file not there yet names no VM, and is
 * read once its target appears, though vm.d itself does not change. */
static void a_snippet_whose_link_target_appears_is_read(void **state)
{
    struct fixture *f = *state;
    char *link = sp_path_join(f->dir, "vm.d/later.xml");
    assert_int_equal(symlink("../store/later.xml", link), 0);
    struct sp_snapshot *snap = snapshot(f);
    assert_null(sp_snapshot_lookup(snap, "later"));
    sp_snapshot_release(snap);
    tu_age(f->dir);
    sp_snapshot_release(snapshot(f)); /* vm.d settled and listed */
    free(tu_write(f->dir, "store/later.xml",
                  "<passthrough vm='later'><pci address='05:00.0'/></passthrough>", 0644));
    snap = snapshot(f);
    assert_non_null(sp_snapshot_lookup(snap, "later"));
    sp_snapshot_release(snap);
    /* And when it goes again, so does its VM. */
    char *target = sp_path_join(f->dir, "store/later.xml");
    unlink(target);
    snap = snapshot(f);
    assert_null(sp_snapshot_lookup(snap, "later"));
    sp_snapshot_release(snap);
    free(target);
    free(link);
}

static void edits_are_picked_up_one_file_at_a_time(void **state)
{
    struct fixture *f = *state;
    sp_snapshot_release(snapshot(f));
    unsigned long parses = sp_config_parse_count(f->cfg);

    /* A new snippet while the host process runs. */
    free(tu_write(f->dir, "vm.d/d.xml", "<passthrough vm='linux'><pci address='05:00.0'/>"
                                        "</passthrough>", 0644));
    struct sp_snapshot *snap = snapshot(f);
    assert_non_null(sp_snapshot_lookup(snap, "linux"));
    assert_int_equal(sp_config_parse_count(f->cfg), parses + 1);
    sp_snapshot_release(snap);

    /* An edit in place (same size, so only mtime/ctime tell). */
    free(tu_write(f->dir, "vm.d/d.xml", "<passthrough vm='linuz'><pci address='05:00.0'/>"
                                        "</passthrough>", 0644));
    snap = snapshot(f);
    assert_null(sp_snapshot_lookup(snap, "linux"));
    assert_non_null(sp_snapshot_lookup(snap, "linuz"));
    assert_int_equal(sp_config_parse_count(f->cfg), parses + 2);
    sp_snapshot_release(snap);

    /* A removal. */
    char *path = sp_path_join(f->dir, "vm.d/d.xml");
    unlink(path);
    free(path);
    snap = snapshot(f);
    assert_null(sp_snapshot_lookup(snap, "linuz"));
    assert_int_equal(snap->n_snippets, 3);
    sp_snapshot_release(snap);
}

static void old_snapshot_survives_a_reload(void **state)
{
    struct fixture *f = *state;
    struct sp_snapshot *old = snapshot(f);
    free(tu_write(f->dir, "vm.d/a.xml", "<passthrough vm='other'/>", 0644));
    struct sp_snapshot *fresh = snapshot(f);
    assert_ptr_not_equal(old, fresh);
    /* The old one is still whole for whoever holds it. */
    assert_int_equal(sp_snapshot_lookup(old, "win11")->n_specs, 2);
    assert_int_equal(sp_snapshot_lookup(fresh, "win11")->n_specs, 1);
    sp_snapshot_release(old);
    sp_snapshot_release(fresh);
}

static void broken_snippet_refuses_only_its_vm(void **state)
{
    struct fixture *f = *state;
    free(tu_write(f->dir, "vm.d/b.xml", "<passthrough vm='win11'>\n<pci address='nope'/>\n"
                                        "</passthrough>", 0644));
    free(tu_write(f->dir, "vm.d/e.xml", "<<< garbage", 0644));
    struct sp_snapshot *snap = snapshot(f);
    const struct sp_vm_entry *e = sp_snapshot_lookup(snap, "win11");
    assert_non_null(e->error);
    assert_non_null(strstr(e->error, "vm.d/b.xml:2: invalid PCI address 'nope'"));
    assert_null(sp_snapshot_lookup(snap, "591328d9-88d5-42aa-9551-bb793c3330cf")->error);
    assert_int_equal(snap->n_orphan_errors, 1);
    assert_non_null(strstr(snap->orphan_errors[0], "vm.d/e.xml:1:"));
    sp_snapshot_release(snap);
}

static void group_writable_snippet_is_refused(void **state)
{
    struct fixture *f = *state;
    char *path = sp_path_join(f->dir, "vm.d/a.xml");
    chmod(path, 0664);
    struct sp_snapshot *snap = snapshot(f);
    const struct sp_vm_entry *e = sp_snapshot_lookup(snap, "win11");
    assert_non_null(e->error);
    assert_non_null(strstr(e->error, "is group-writable (mode 0664)"));
    assert_non_null(strstr(e->error, path));
    sp_snapshot_release(snap);
    /* Fixing the mode fixes the VM (ctime changes with chmod). */
    chmod(path, 0644);
    snap = snapshot(f);
    assert_null(sp_snapshot_lookup(snap, "win11")->error);
    sp_snapshot_release(snap);
    free(path);
}

static void world_writable_dir_is_a_global_error(void **state)
{
    struct fixture *f = *state;
    chmod(f->dir, 0777);
    struct sp_snapshot *snap = snapshot(f);
    assert_non_null(snap->global_error);
    assert_non_null(strstr(snap->global_error, "config dir"));
    assert_non_null(strstr(snap->global_error, "world-writable (mode 0777)"));
    sp_snapshot_release(snap);
    chmod(f->dir, 0755);
}

/* Hands the file to a non-root owner: uid 65534 when running as root,
 * else the file is already the current (non-root) user's. */
static unsigned give_to_non_root(const char *path)
{
    if (getuid() != 0)
        return (unsigned)getuid();
    assert_int_equal(chown(path, 65534, 65534), 0);
    return 65534;
}

static void foreign_owner_is_refused_unless_trusted(void **state)
{
    struct fixture *f = *state;
    char *path = sp_path_join(f->dir, "vm.d/a.xml");
    unsigned owner = give_to_non_root(path);
    unsetenv(SP_ENV_TRUSTED_UID);
    struct sp_snapshot *snap = snapshot(f);
    char expected[64];
    snprintf(expected, sizeof(expected), "is owned by uid %u, not root", owner);
    const struct sp_vm_entry *e = sp_snapshot_lookup(snap, "win11");
    assert_non_null(e->error);
    assert_non_null(strstr(e->error, expected));
    sp_snapshot_release(snap);
    /* The test variable relaxes the owner check for exactly that uid. */
    char uid[16];
    snprintf(uid, sizeof(uid), "%u", owner);
    setenv(SP_ENV_TRUSTED_UID, uid, 1);
    assert_int_equal(chmod(path, 0640), 0); /* a change, so the file is looked at again */
    snap = snapshot(f);
    assert_null(sp_snapshot_lookup(snap, "win11")->error);
    sp_snapshot_release(snap);
    /* The mode check is never relaxed. */
    assert_int_equal(chmod(path, 0646), 0);
    snap = snapshot(f);
    assert_non_null(strstr(sp_snapshot_lookup(snap, "win11")->error, "world-writable"));
    sp_snapshot_release(snap);
    tu_trust_current_user();
    free(path);
}

static void bad_conf_is_a_global_error(void **state)
{
    struct fixture *f = *state;
    free(tu_write(f->dir, "synopassthru.conf", "audit_log = /a\nfrobnicate = yes\n", 0644));
    struct sp_snapshot *snap = snapshot(f);
    assert_non_null(strstr(snap->global_error, "synopassthru.conf:2: unknown key 'frobnicate'"));
    sp_snapshot_release(snap);
}

struct reader {
    struct sp_config *cfg;
    int lookups;
};

static void *read_snapshots(void *arg)
{
    struct reader *r = arg;
    for (int i = 0; i < 2000; i++) {
        struct sp_snapshot *snap = NULL;
        struct sp_err err;
        if (sp_config_snapshot(r->cfg, &snap, &err) < 0)
            return NULL;
        const struct sp_vm_entry *e = sp_snapshot_lookup(snap, "win11");
        if (e && e->n_specs > 0 && e->specs[0].file)
            r->lookups++;
        sp_snapshot_release(snap);
    }
    return NULL;
}

/* libvirtd calls from a pool of worker threads while files change: every
 * reader sees a whole snapshot (ASan would catch a use after free). */
static void snapshots_are_safe_across_threads(void **state)
{
    struct fixture *f = *state;
    pthread_t t[4];
    struct reader r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (struct reader){.cfg = f->cfg};
        pthread_create(&t[i], NULL, read_snapshots, &r[i]);
    }
    for (int i = 0; i < 200; i++)
        free(tu_write(f->dir, "vm.d/b.xml", i % 2 ? SNIPPET_B : SNIPPET_A, 0644));
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(r[i].lookups, 2000);
    }
}

static void missing_dir_means_no_snippets(void **state)
{
    (void)state;
    struct sp_config *cfg = sp_config_new("/nonexistent/synopassthru");
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    assert_int_equal(sp_config_snapshot(cfg, &snap, &err), 0);
    assert_null(snap->index);
    assert_null(snap->global_error);
    sp_snapshot_release(snap);
    sp_config_free(cfg);
}

/* Regression: a relative config dir gave relative ROM paths, which libvirt
 * rejects and a daemon resolves against its own working directory. */
static void relative_dir_becomes_absolute(void **state)
{
    struct fixture *f = *state;
    char *cwd = getcwd(NULL, 0);
    char *parent = strdup(f->dir);
    *strrchr(parent, '/') = '\0';
    assert_int_equal(chdir(parent), 0);
    struct sp_config *cfg = sp_config_new(strrchr(f->dir, '/') + 1);
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    assert_int_equal(sp_config_snapshot(cfg, &snap, &err), 0);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(snap->config_dir, f->dir);
    char *rom = sp_path_join(f->dir, "rom");
    assert_string_equal(snap->settings.rom_dir, rom);
    assert_non_null(sp_snapshot_lookup(snap, "win11"));
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    free(rom);
    free(parent);
    free(cwd);
}

static void config_dir_choice(void **state)
{
    (void)state;
    unsetenv(SP_ENV_CONFIG_DIR);
    assert_string_equal(sp_config_dir_choose(NULL), SP_DEFAULT_CONFIG_DIR);
    setenv(SP_ENV_CONFIG_DIR, "/env/dir", 1);
    assert_string_equal(sp_config_dir_choose(NULL), "/env/dir");
    assert_string_equal(sp_config_dir_choose("/explicit"), "/explicit");
    unsetenv(SP_ENV_CONFIG_DIR);
}

/* ---- what a user could put in vm.d or as the conf ---- */

/* A regression that blocks on a FIFO fails the test instead of hanging:
 * SIGALRM ends the process. */
#define GUARD_SECONDS 10

static int has_orphan(const struct sp_snapshot *snap, const char *file, const char *why)
{
    for (size_t i = 0; i < snap->n_orphan_errors; i++)
        if (strstr(snap->orphan_errors[i], file) && strstr(snap->orphan_errors[i], why))
            return 1;
    return 0;
}

static void unreadable_files_in_vm_d_are_skipped_at_once(void **state)
{
    struct fixture *f = *state;
    alarm(GUARD_SECONDS);
    char *fifo = sp_path_join(f->dir, "vm.d/zz.xml"); /* no writer, ever */
    char *sock = sp_path_join(f->dir, "vm.d/sock.xml");
    char *sub = sp_path_join(f->dir, "vm.d/sub.xml");
    char *huge = tu_write(f->dir, "vm.d/huge.xml", "", 0644);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    tu_make_socket(sock);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(truncate(huge, SP_SNIPPET_MAX_BYTES + 1), 0);
    struct sp_snapshot *snap = snapshot(f);
    assert_true(has_orphan(snap, "vm.d/zz.xml", "is a FIFO, not a regular file"));
    assert_true(has_orphan(snap, "vm.d/sock.xml", "is a socket, not a regular file"));
    assert_true(has_orphan(snap, "vm.d/sub.xml", "is a directory, not a regular file"));
    assert_true(has_orphan(snap, "vm.d/huge.xml", "file too large"));
    /* The other snippets are whole; no VM is refused for files naming none. */
    assert_null(snap->global_error);
    assert_null(sp_snapshot_lookup(snap, "win11")->error);
    assert_int_equal(sp_snapshot_lookup(snap, "win11")->n_specs, 2);
    sp_snapshot_release(snap);
    alarm(0);
    free(fifo);
    free(sock);
    free(sub);
    free(huge);
}

static void a_snippet_turned_fifo_refuses_the_vm_it_named(void **state)
{
    struct fixture *f = *state;
    alarm(GUARD_SECONDS);
    sp_snapshot_release(snapshot(f));
    char *path = sp_path_join(f->dir, "vm.d/c.xml");
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkfifo(path, 0644), 0);
    struct sp_snapshot *snap = snapshot(f);
    const struct sp_vm_entry *e = sp_snapshot_lookup(snap, "591328d9-88d5-42aa-9551-bb793c3330cf");
    assert_non_null(e);
    assert_non_null(e->error);
    assert_non_null(strstr(e->error, "vm.d/c.xml: is a FIFO, not a regular file"));
    assert_int_equal(e->n_specs, 0);
    assert_null(sp_snapshot_lookup(snap, "win11")->error);
    sp_snapshot_release(snap);
    alarm(0);
    free(path);
}

static void a_fifo_as_the_conf_is_a_global_error(void **state)
{
    struct fixture *f = *state;
    alarm(GUARD_SECONDS);
    char *conf = sp_path_join(f->dir, "synopassthru.conf");
    assert_int_equal(unlink(conf), 0);
    assert_int_equal(mkfifo(conf, 0644), 0);
    struct sp_snapshot *snap = snapshot(f);
    assert_non_null(snap->global_error);
    assert_non_null(strstr(snap->global_error, "synopassthru.conf: is a FIFO, not a regular file"));
    sp_snapshot_release(snap);
    alarm(0);
    free(conf);
}

static void a_writable_dir_above_is_a_global_error(void **state)
{
    struct fixture *f = *state;
    /* The config dir one level down, so that its parent is ours to change. */
    char *parent = f->dir;
    f->dir = sp_path_join(parent, "etc");
    free(tu_write(f->dir, "vm.d/a.xml", SNIPPET_A, 0644));
    sp_config_free(f->cfg);
    f->cfg = sp_config_new(f->dir);
    struct sp_snapshot *snap = snapshot(f);
    assert_null(snap->global_error);
    sp_snapshot_release(snap);
    /* Nothing in the config dir changes; the directory above does. */
    assert_int_equal(chmod(parent, 0777), 0);
    snap = snapshot(f);
    assert_non_null(snap->global_error);
    assert_non_null(strstr(snap->global_error, "config dir"));
    assert_non_null(strstr(snap->global_error, "parent directory"));
    assert_non_null(strstr(snap->global_error, "is world-writable (mode 0777)"));
    sp_snapshot_release(snap);
    assert_int_equal(chmod(parent, 0755), 0);
    snap = snapshot(f);
    assert_null(snap->global_error);
    sp_snapshot_release(snap);
    tu_rm_rf(f->dir);
    free(f->dir);
    f->dir = parent;
}

static void symlinks_may_not_leave_the_config_dir(void **state)
{
    struct fixture *f = *state;
    char *outside = tu_mkdtemp("outside");
    char *target = tu_write(outside, "x.xml", "<passthrough vm='stolen'><pci address='05:00.0'/>"
                                             "</passthrough>", 0644);
    char *link = sp_path_join(f->dir, "vm.d/x.xml");
    assert_int_equal(symlink(target, link), 0);
    /* A link that stays inside is followed. */
    char *shared = tu_write(f->dir, "shared/in.xml", "<passthrough vm='shared'>"
                                                    "<pci address='06:00.0'/></passthrough>", 0644);
    char *inner = sp_path_join(f->dir, "vm.d/in.xml");
    assert_int_equal(symlink("../shared/in.xml", inner), 0);
    struct sp_snapshot *snap = snapshot(f);
    assert_null(sp_snapshot_lookup(snap, "stolen"));
    assert_true(has_orphan(snap, "vm.d/x.xml", "outside the config dir"));
    assert_non_null(sp_snapshot_lookup(snap, "shared"));
    assert_null(sp_snapshot_lookup(snap, "shared")->error);
    sp_snapshot_release(snap);
    /* vm.d itself pointing out of the config dir refuses matched VMs. */
    char *vmd = sp_path_join(f->dir, "vm.d");
    tu_rm_rf(vmd);
    assert_int_equal(symlink(outside, vmd), 0);
    snap = snapshot(f);
    assert_non_null(snap->global_error);
    assert_non_null(strstr(snap->global_error, "outside the config dir"));
    sp_snapshot_release(snap);
    tu_rm_rf(outside);
    free(outside);
    free(target);
    free(link);
    free(shared);
    free(inner);
    free(vmd);
}

/* --- a snippet broken mid-edit ------------------------------------------- */

#define UUID_C "591328d9-88d5-42aa-9551-bb793c3330cf"
#define KEPT "keeping its last good version (VM '" UUID_C "') until it parses again"

/* c.xml is read once, good, then rewritten with text. */
static char *rewrite_c(struct fixture *f, const char *text)
{
    sp_snapshot_release(snapshot(f));
    return tu_write(f->dir, "vm.d/c.xml", text, 0644);
}

static void assert_c_kept(const struct sp_snapshot *snap)
{
    const struct sp_vm_entry *e = sp_snapshot_lookup(snap, UUID_C);
    assert_non_null(e);
    assert_null(e->error);
    assert_int_equal(e->n_specs, 1);
    assert_int_equal(e->specs[0].addr.bus, 3);
    assert_true(has_orphan(snap, "vm.d/c.xml", KEPT));
}

static void a_truncated_snippet_keeps_its_last_good_version(void **state)
{
    struct fixture *f = *state;
    free(rewrite_c(f, "<passthrough vm='5913")); /* cut inside vm= */
    struct sp_snapshot *snap = snapshot(f);
    assert_c_kept(snap);
    assert_int_equal(snap->n_orphan_errors, 1);
    assert_null(sp_snapshot_lookup(snap, "5913"));
    assert_null(sp_snapshot_lookup(snap, "win11")->error);
    sp_snapshot_release(snap);
}

/* What libxml2 read of a vm= before an error (the end of the file, a '<',
 * a bad byte) is not the VM the file is for: no VM is refused in its name,
 * and the file is logged. */
static void a_vm_cut_short_names_no_vm(void **state)
{
    struct fixture *f = *state;
    const char *texts[] = {"<passthrough vm='lin", "<passthrough vm='linux",
                           "<passthrough vm='lin<pci address='05:00.0'/>",
                           "<passthrough vm='lin\001ux'><pci address='05:00.0'/></passthrough>"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        free(tu_write(f->dir, "vm.d/d.xml", texts[i], 0644));
        struct sp_snapshot *snap = snapshot(f);
        assert_int_equal(snap->n_vms, 2); /* win11 and c.xml's */
        assert_true(has_orphan(snap, "vm.d/d.xml:1:", ""));
        sp_snapshot_release(snap);
    }
}

static void an_emptied_snippet_keeps_its_last_good_version(void **state)
{
    struct fixture *f = *state;
    free(rewrite_c(f, "")); /* an in-place write begins with O_TRUNC */
    struct sp_snapshot *snap = snapshot(f);
    assert_c_kept(snap);
    sp_snapshot_release(snap);
}

static void a_fixed_snippet_replaces_its_last_good_version(void **state)
{
    struct fixture *f = *state;
    free(rewrite_c(f, ""));
    sp_snapshot_release(snapshot(f));
    free(tu_write(f->dir, "vm.d/c.xml", "<passthrough vm='" UUID_C "'>"
                                        "<pci address='04:00.0'/></passthrough>", 0644));
    struct sp_snapshot *snap = snapshot(f);
    const struct sp_vm_entry *e = sp_snapshot_lookup(snap, UUID_C);
    assert_int_equal(e->n_specs, 1);
    assert_int_equal(e->specs[0].addr.bus, 4);
    assert_int_equal(snap->n_orphan_errors, 0);
    sp_snapshot_release(snap);
    /* Broken again: the version in force now is the fixed one. */
    free(tu_write(f->dir, "vm.d/c.xml", "", 0644));
    snap = snapshot(f);
    e = sp_snapshot_lookup(snap, UUID_C);
    assert_non_null(e);
    assert_int_equal(e->specs[0].addr.bus, 4);
    sp_snapshot_release(snap);
}

static void a_rewrite_may_name_another_vm(void **state)
{
    struct fixture *f = *state;
    free(rewrite_c(f, ""));
    struct sp_snapshot *snap = snapshot(f);
    assert_c_kept(snap);
    sp_snapshot_release(snap);
    free(tu_write(f->dir, "vm.d/c.xml", "<passthrough vm='linux'><pci address='05:00.0'/>"
                                        "</passthrough>", 0644));
    snap = snapshot(f);
    assert_null(sp_snapshot_lookup(snap, UUID_C));
    assert_int_equal(sp_snapshot_lookup(snap, "linux")->specs[0].addr.bus, 5);
    assert_int_equal(snap->n_orphan_errors, 0);
    sp_snapshot_release(snap);
}

static void a_deleted_snippet_leaves_no_last_good_version(void **state)
{
    struct fixture *f = *state;
    char *path = rewrite_c(f, "");
    struct sp_snapshot *snap = snapshot(f);
    assert_c_kept(snap);
    sp_snapshot_release(snap);
    assert_int_equal(unlink(path), 0);
    snap = snapshot(f);
    assert_null(sp_snapshot_lookup(snap, UUID_C));
    assert_int_equal(snap->n_orphan_errors, 0);
    sp_snapshot_release(snap);
    free(path);
}

/* Whenever the broken file still says which VM it is for, that VM is
 * refused, even while a last good version exists. */
static void a_broken_snippet_naming_its_vm_refuses_it(void **state)
{
    struct fixture *f = *state;
    free(rewrite_c(f, ""));
    struct sp_snapshot *snap = snapshot(f);
    assert_c_kept(snap);
    sp_snapshot_release(snap);
    free(tu_write(f->dir, "vm.d/c.xml", "<passthrough vm='" UUID_C "'>\n"
                                        "<pci address='03:00.0'>\n", 0644));
    snap = snapshot(f);
    const struct sp_vm_entry *e = sp_snapshot_lookup(snap, UUID_C);
    assert_non_null(e->error);
    assert_non_null(strstr(e->error, "vm.d/c.xml:"));
    assert_int_equal(e->n_specs, 0);
    assert_int_equal(snap->n_orphan_errors, 0);
    sp_snapshot_release(snap);
}

/* Emptied, then unreadable or untrusted: the VM of the last good version
 * is refused, never started bare, and that version is not used. */
static void an_emptied_snippet_turned_fifo_refuses_its_vm(void **state)
{
    struct fixture *f = *state;
    alarm(GUARD_SECONDS);
    char *path = rewrite_c(f, "");
    sp_snapshot_release(snapshot(f));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkfifo(path, 0644), 0);
    struct sp_snapshot *snap = snapshot(f);
    const struct sp_vm_entry *e = sp_snapshot_lookup(snap, UUID_C);
    assert_non_null(e);
    assert_non_null(strstr(e->error, "vm.d/c.xml: is a FIFO, not a regular file"));
    assert_int_equal(e->n_specs, 0);
    sp_snapshot_release(snap);
    alarm(0);
    free(path);
}

static void an_emptied_writable_snippet_refuses_its_vm(void **state)
{
    struct fixture *f = *state;
    free(rewrite_c(f, ""));
    sp_snapshot_release(snapshot(f));
    free(tu_write(f->dir, "vm.d/c.xml", "", 0666));
    struct sp_snapshot *snap = snapshot(f);
    const struct sp_vm_entry *e = sp_snapshot_lookup(snap, UUID_C);
    assert_non_null(e);
    assert_non_null(strstr(e->error, "is world-writable (mode 0666)"));
    assert_int_equal(e->n_specs, 0);
    assert_false(has_orphan(snap, "vm.d/c.xml", "last good"));
    sp_snapshot_release(snap);
}

/* ---- change notification: only what events name is looked at ---- */

static int mentions(const struct sp_snapshot *snap, const char *what)
{
    for (size_t i = 0; i < snap->n_orphan_errors; i++)
        if (strstr(snap->orphan_errors[i], what))
            return 1;
    return 0;
}

/* Each kind of change is picked up, and costs one read of that file. */
static void each_change_rereads_only_its_file(void **state)
{
    struct fixture *f = *state;
    sp_snapshot_release(snapshot(f));
    unsigned long parses = sp_config_parse_count(f->cfg);
    char *a = sp_path_join(f->dir, "vm.d/a.xml");

    /* Rename over, as editors save. */
    free(tu_write(f->dir, "a.xml.new", "<passthrough vm='moved'/>", 0644));
    char *tmp = sp_path_join(f->dir, "a.xml.new");
    assert_int_equal(rename(tmp, a), 0);
    struct sp_snapshot *snap = snapshot(f);
    assert_non_null(sp_snapshot_lookup(snap, "moved"));
    assert_int_equal(sp_snapshot_lookup(snap, "win11")->n_specs, 1);
    assert_int_equal(sp_config_parse_count(f->cfg), parses + 1);
    sp_snapshot_release(snap);

    /* chmod: a mode StrictModes refuses. */
    assert_int_equal(chmod(a, 0664), 0);
    snap = snapshot(f);
    assert_non_null(sp_snapshot_lookup(snap, "moved")->error);
    assert_int_equal(sp_config_parse_count(f->cfg), parses + 2);
    sp_snapshot_release(snap);

    /* Delete. */
    assert_int_equal(unlink(a), 0);
    snap = snapshot(f);
    assert_null(sp_snapshot_lookup(snap, "moved"));
    assert_int_equal(snap->n_snippets, 2);
    assert_int_equal(sp_config_parse_count(f->cfg), parses + 2);
    sp_snapshot_release(snap);

    /* The conf. */
    free(tu_write(f->dir, "synopassthru.conf", "audit_log = /tmp/y.log\n", 0644));
    snap = snapshot(f);
    assert_string_equal(snap->settings.audit_log, "/tmp/y.log");
    assert_int_equal(sp_config_parse_count(f->cfg), parses + 3);
    sp_snapshot_release(snap);
    free(tmp);
    free(a);
}

/* A change that lands after the file was opened for a read is not lost:
 * its event is still queued at the next refresh. */
static const char *late_dir;
static void replace_a_after_open(const char *path, int fd)
{
    (void)fd;
    if (!strstr(path, "vm.d/a.xml"))
        return;
    tu_set_open_hook(NULL);
    free(tu_write(late_dir, "a.xml.new", "<passthrough vm='late'/>", 0644));
    char *tmp = sp_path_join(late_dir, "a.xml.new");
    char *a = sp_path_join(late_dir, "vm.d/a.xml");
    assert_int_equal(rename(tmp, a), 0);
    free(tmp);
    free(a);
}

static void a_change_during_a_read_is_seen_next_time(void **state)
{
    struct fixture *f = *state;
    sp_snapshot_release(snapshot(f));
    free(tu_write(f->dir, "vm.d/a.xml", "<passthrough vm='early'/>", 0644));
    late_dir = f->dir;
    tu_set_open_hook(replace_a_after_open);
    struct sp_snapshot *snap = snapshot(f);
    tu_set_open_hook(NULL);
    assert_non_null(sp_snapshot_lookup(snap, "early")); /* what the open fd held */
    sp_snapshot_release(snap);
    snap = snapshot(f);
    assert_non_null(sp_snapshot_lookup(snap, "late"));
    assert_null(sp_snapshot_lookup(snap, "early"));
    sp_snapshot_release(snap);
}

/* A dangling symlink made after the first load counts as a snippet, as it
 * would in a fresh load, though it names no VM yet. */
static void a_new_dangling_symlink_is_counted(void **state)
{
    struct fixture *f = *state;
    sp_snapshot_release(snapshot(f));
    char *link = sp_path_join(f->dir, "vm.d/zero.xml");
    assert_int_equal(symlink("/nonexistent/passwd", link), 0);
    struct sp_snapshot *snap = snapshot(f);
    assert_int_equal(snap->n_snippets, 4);
    sp_snapshot_release(snap);
    free(link);
}

/* ---- the index: updated, not rebuilt ---- */

/* A change makes a new entry for its VM only: the others are the very
 * entries the last snapshot has, and that snapshot stays as it was. */
static void a_change_shares_the_other_vms_entries(void **state)
{
    struct fixture *f = *state;
    struct sp_snapshot *old = snapshot(f);
    free(tu_write(f->dir, "vm.d/a.xml", SNIPPET_B, 0644));
    struct sp_snapshot *fresh = snapshot(f);
    assert_ptr_equal(sp_snapshot_lookup(old, UUID_C), sp_snapshot_lookup(fresh, UUID_C));
    assert_ptr_not_equal(sp_snapshot_lookup(old, "win11"), sp_snapshot_lookup(fresh, "win11"));
    assert_int_equal(sp_snapshot_lookup(old, "win11")->specs[0].addr.function, 0);
    assert_int_equal(sp_snapshot_lookup(fresh, "win11")->specs[0].addr.function, 1);
    sp_snapshot_release(old);
    sp_snapshot_release(fresh);
}

/* The reads an entry points into stay while a snapshot has it, even when
 * the files are gone from the cache. */
static void an_old_snapshot_keeps_its_reads(void **state)
{
    struct fixture *f = *state;
    struct sp_snapshot *old = snapshot(f);
    char *a = sp_path_join(f->dir, "vm.d/a.xml"), *b = sp_path_join(f->dir, "vm.d/b.xml");
    unlink(a);
    unlink(b);
    struct sp_snapshot *fresh = snapshot(f);
    assert_null(sp_snapshot_lookup(fresh, "win11"));
    sp_snapshot_release(fresh);
    const struct sp_vm_entry *e = sp_snapshot_lookup(old, "win11");
    assert_int_equal(e->n_files, 2);
    assert_string_equal(e->files[0], a);
    assert_string_equal(e->files[1], b);
    assert_string_equal(e->specs[1].file, b);
    assert_string_equal(e->key, "win11");
    sp_snapshot_release(old);
    free(a);
    free(b);
}

static size_t count_entries(const struct sp_snapshot *snap)
{
    size_t n = 0;
    for (const struct sp_vm_entry *e = sp_snapshot_next(snap, NULL); e;
         e = sp_snapshot_next(snap, e)) {
        assert_ptr_equal(sp_snapshot_lookup(snap, e->key), e);
        n++;
    }
    return n;
}

#define SNIPPET_D "<passthrough vm='" UUID_C "'><pci address='04:00.0'/></passthrough>\n"

static void remove_snippet(struct fixture *f, const char *name)
{
    char *path = sp_path_join(f->dir, name);
    unlink(path);
    free(path);
}

/* A VM of one snippet gains a second, loses it, then changes alone: each
 * snapshot keeps its entries as they were, and only that VM's entry is
 * new each time. */
static void a_vm_goes_from_one_snippet_to_two_and_back(void **state)
{
    struct fixture *f = *state;
    struct sp_snapshot *one = snapshot(f);
    free(tu_write(f->dir, "vm.d/d.xml", SNIPPET_D, 0644));
    struct sp_snapshot *two = snapshot(f);
    assert_int_equal(sp_snapshot_lookup(two, UUID_C)->n_files, 2);
    assert_int_equal(sp_snapshot_lookup(two, UUID_C)->specs[1].addr.bus, 4);
    assert_ptr_equal(sp_snapshot_lookup(one, "win11"), sp_snapshot_lookup(two, "win11"));

    remove_snippet(f, "vm.d/d.xml");
    struct sp_snapshot *back = snapshot(f);
    assert_int_equal(sp_snapshot_lookup(back, UUID_C)->n_files, 1);
    assert_int_equal(sp_snapshot_lookup(two, UUID_C)->n_files, 2);

    free(tu_write(f->dir, "vm.d/c.xml",
                  "<passthrough vm='" UUID_C "'><pci address='03:00.1'/></passthrough>\n", 0644));
    struct sp_snapshot *edited = snapshot(f);
    assert_int_equal(sp_snapshot_lookup(edited, UUID_C)->specs[0].addr.function, 1);
    assert_int_equal(sp_snapshot_lookup(back, UUID_C)->specs[0].addr.function, 0);
    assert_ptr_equal(sp_snapshot_lookup(one, "win11"), sp_snapshot_lookup(edited, "win11"));

    const struct sp_vm_entry *e = sp_snapshot_lookup(one, UUID_C);
    assert_int_equal(e->n_files, 1);
    assert_int_equal(e->n_specs, 1);
    assert_int_equal(e->specs[0].addr.bus, 3);
    assert_int_equal(e->specs[0].addr.function, 0);
    struct sp_snapshot *same = snapshot(f);
    assert_ptr_equal(sp_snapshot_lookup(edited, UUID_C), sp_snapshot_lookup(same, UUID_C));
    assert_int_equal(count_entries(same), 2);
    sp_snapshot_release(one);
    sp_snapshot_release(two);
    sp_snapshot_release(back);
    sp_snapshot_release(edited);
    sp_snapshot_release(same);
}

/* A snippet alone for its VM, rewritten to name another one: first a VM
 * of two snippets, then a VM of its own. */
static void a_lone_snippet_renamed_names_another_vm(void **state)
{
    struct fixture *f = *state;
    struct sp_snapshot *old = snapshot(f);
    free(tu_write(f->dir, "vm.d/c.xml",
                  "<passthrough vm='win11'><pci address='03:00.0'/></passthrough>\n", 0644));
    struct sp_snapshot *joined = snapshot(f);
    assert_null(sp_snapshot_lookup(joined, UUID_C));
    assert_int_equal(sp_snapshot_lookup(joined, "win11")->n_files, 3);
    assert_int_equal(count_entries(joined), 1);

    free(tu_write(f->dir, "vm.d/c.xml",
                  "<passthrough vm='solo'><pci address='03:00.0'/></passthrough>\n", 0644));
    struct sp_snapshot *solo = snapshot(f);
    assert_int_equal(sp_snapshot_lookup(solo, "win11")->n_files, 2);
    assert_int_equal(sp_snapshot_lookup(solo, "solo")->n_files, 1);
    assert_int_equal(count_entries(solo), 2);

    free(tu_write(f->dir, "vm.d/c.xml", "<passthrough vm='other'/>\n", 0644));
    struct sp_snapshot *other = snapshot(f);
    assert_null(sp_snapshot_lookup(other, "solo"));
    assert_int_equal(sp_snapshot_lookup(other, "other")->n_specs, 0);
    assert_int_equal(count_entries(other), 2);

    assert_int_equal(sp_snapshot_lookup(old, UUID_C)->specs[0].addr.bus, 3);
    assert_int_equal(sp_snapshot_lookup(old, "win11")->n_files, 2);
    assert_int_equal(sp_snapshot_lookup(joined, "win11")->n_files, 3);
    assert_int_equal(sp_snapshot_lookup(solo, "solo")->n_specs, 1);
    sp_snapshot_release(old);
    sp_snapshot_release(joined);
    sp_snapshot_release(solo);
    sp_snapshot_release(other);
}

/* Many VMs, then half of them gone: each is found, and listed once. */
static void many_vms_come_and_go(void **state)
{
    struct fixture *f = *state;
    enum { MANY = 1500 };
    char name[64], text[128];
    for (int i = 0; i < MANY; i++) {
        snprintf(name, sizeof(name), "vm.d/m%04d.xml", i);
        snprintf(text, sizeof(text), "<passthrough vm='m%d'/>", i);
        free(tu_write(f->dir, name, text, 0644));
    }
    struct sp_snapshot *all = snapshot(f);
    assert_int_equal(all->n_vms, MANY + 2);
    assert_int_equal(count_entries(all), MANY + 2);
    for (int i = 0; i < MANY; i += 2) {
        snprintf(name, sizeof(name), "vm.d/m%04d.xml", i);
        char *path = sp_path_join(f->dir, name);
        unlink(path);
        free(path);
    }
    struct sp_snapshot *half = snapshot(f);
    assert_int_equal(half->n_vms, MANY / 2 + 2);
    assert_int_equal(count_entries(half), MANY / 2 + 2);
    assert_int_equal(count_entries(all), MANY + 2);
    assert_null(sp_snapshot_lookup(half, "m0"));
    assert_non_null(sp_snapshot_lookup(half, "m1"));
    assert_non_null(sp_snapshot_lookup(all, "m0"));
    sp_snapshot_release(all);
    sp_snapshot_release(half);
}

/* A symlink's target, or a file with another link, can change with no
 * event on vm.d: those are stat'ed at each refresh. */
static void a_linked_snippet_written_elsewhere_is_seen(void **state)
{
    struct fixture *f = *state;
    free(tu_write(f->dir, "store/s.xml", "<passthrough vm='sym1'/>", 0644));
    free(tu_write(f->dir, "store/h.xml", "<passthrough vm='hard1'/>", 0644));
    char *sym = sp_path_join(f->dir, "vm.d/s.xml");
    char *hard = sp_path_join(f->dir, "vm.d/h.xml");
    char *target = sp_path_join(f->dir, "store/h.xml");
    assert_int_equal(symlink("../store/s.xml", sym), 0);
    assert_int_equal(link(target, hard), 0);
    struct sp_snapshot *snap = snapshot(f);
    assert_non_null(sp_snapshot_lookup(snap, "sym1"));
    assert_non_null(sp_snapshot_lookup(snap, "hard1"));
    sp_snapshot_release(snap);
    tu_age(f->dir);
    sp_snapshot_release(snapshot(f));
    free(tu_write(f->dir, "store/s.xml", "<passthrough vm='sym2'/>", 0644));
    free(tu_write(f->dir, "store/h.xml", "<passthrough vm='hard2'/>", 0644));
    tu_age(f->dir); /* only what stat says tells them apart */
    snap = snapshot(f);
    assert_non_null(sp_snapshot_lookup(snap, "sym2"));
    assert_non_null(sp_snapshot_lookup(snap, "hard2"));
    sp_snapshot_release(snap);
    free(target);
    free(hard);
    free(sym);
}

static void a_replaced_vm_d_is_read_whole(void **state)
{
    struct fixture *f = *state;
    sp_snapshot_release(snapshot(f));
    char *vmd = sp_path_join(f->dir, "vm.d");
    char *old = sp_path_join(f->dir, "vm.d.old");
    assert_int_equal(rename(vmd, old), 0);
    free(tu_write(f->dir, "vm.d/fresh.xml", "<passthrough vm='fresh'/>", 0644));
    struct sp_snapshot *snap = snapshot(f);
    assert_non_null(sp_snapshot_lookup(snap, "fresh"));
    assert_null(sp_snapshot_lookup(snap, "win11"));
    sp_snapshot_release(snap);
    /* The new vm.d is the one watched. */
    free(tu_write(f->dir, "vm.d/later.xml", "<passthrough vm='later'/>", 0644));
    free(tu_write(old, "ignored.xml", "<passthrough vm='ignored'/>", 0644));
    snap = snapshot(f);
    assert_non_null(sp_snapshot_lookup(snap, "later"));
    assert_null(sp_snapshot_lookup(snap, "ignored"));
    sp_snapshot_release(snap);
    tu_rm_rf(old);
    free(old);
    free(vmd);
}

/* Events lost to an overflowing queue: one look at every file, said in the
 * log, then events again. */
static void an_overflow_looks_at_every_file(void **state)
{
    struct fixture *f = *state;
    sp_snapshot_release(snapshot(f));
    free(tu_write(f->dir, "vm.d/d.xml", "<passthrough vm='lost'/>", 0644));
    setenv(SP_ENV_TEST_WATCH_FAULT, "overflow", 1);
    struct sp_snapshot *snap = snapshot(f);
    unsetenv(SP_ENV_TEST_WATCH_FAULT);
    assert_non_null(sp_snapshot_lookup(snap, "lost"));
    assert_true(mentions(snap, "every snippet was looked at again"));
    sp_snapshot_release(snap);
    free(tu_write(f->dir, "vm.d/e.xml", "<passthrough vm='after'/>", 0644));
    snap = snapshot(f);
    assert_non_null(sp_snapshot_lookup(snap, "after"));
    assert_false(mentions(snap, "looked at again"));
    sp_snapshot_release(snap);
}

/* Events unavailable (fault: a SP_ENV_TEST_WATCH_FAULT value): every start
 * stats every snippet, as before, and the log says so (`said`) once. */
static void assert_stat_fallback(struct fixture *f, const char *fault, const char *said)
{
    setenv(SP_ENV_TEST_WATCH_FAULT, fault, 1);
    struct sp_snapshot *snap = snapshot(f);
    unsetenv(SP_ENV_TEST_WATCH_FAULT);
    assert_true(mentions(snap, said));
    sp_snapshot_release(snap);
    free(tu_write(f->dir, "vm.d/d.xml", "<passthrough vm='linux'/>", 0644));
    snap = snapshot(f);
    assert_non_null(sp_snapshot_lookup(snap, "linux"));
    assert_false(mentions(snap, said));
    sp_snapshot_release(snap);
}

static void without_inotify_files_are_stated(void **state)
{
    assert_stat_fallback(*state, "unavailable", "no change notification");
}

static void at_the_watch_limit_files_are_stated(void **state)
{
    assert_stat_fallback(*state, "limit", "inotify_add_watch");
}

int main(void)
{
    tu_trust_current_user();
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(devices_of_one_vm_add_up),
        T(uuid_lookup_ignores_case),
        T(a_vm_is_found_by_each_of_its_keys),
        T(an_override_stands_for_one_file),
        T(unchanged_config_is_not_read_again),
        T(a_snippet_whose_link_target_appears_is_read),
        T(edits_are_picked_up_one_file_at_a_time),
        T(old_snapshot_survives_a_reload),
        T(broken_snippet_refuses_only_its_vm),
        T(group_writable_snippet_is_refused),
        T(world_writable_dir_is_a_global_error),
        T(foreign_owner_is_refused_unless_trusted),
        T(bad_conf_is_a_global_error),
        T(snapshots_are_safe_across_threads),
        T(relative_dir_becomes_absolute),
        T(unreadable_files_in_vm_d_are_skipped_at_once),
        T(a_snippet_turned_fifo_refuses_the_vm_it_named),
        T(a_fifo_as_the_conf_is_a_global_error),
        T(a_writable_dir_above_is_a_global_error),
        T(symlinks_may_not_leave_the_config_dir),
        T(a_truncated_snippet_keeps_its_last_good_version),
        T(a_vm_cut_short_names_no_vm),
        T(an_emptied_snippet_keeps_its_last_good_version),
        T(a_fixed_snippet_replaces_its_last_good_version),
        T(a_rewrite_may_name_another_vm),
        T(a_deleted_snippet_leaves_no_last_good_version),
        T(a_broken_snippet_naming_its_vm_refuses_it),
        T(an_emptied_snippet_turned_fifo_refuses_its_vm),
        T(an_emptied_writable_snippet_refuses_its_vm),
        T(each_change_rereads_only_its_file),
        T(a_change_during_a_read_is_seen_next_time),
        T(a_linked_snippet_written_elsewhere_is_seen),
        T(a_new_dangling_symlink_is_counted),
        T(a_change_shares_the_other_vms_entries),
        T(many_vms_come_and_go),
        T(a_vm_goes_from_one_snippet_to_two_and_back),
        T(a_lone_snippet_renamed_names_another_vm),
        T(an_old_snapshot_keeps_its_reads),
        T(a_replaced_vm_d_is_read_whole),
        T(an_overflow_looks_at_every_file),
        T(without_inotify_files_are_stated),
        T(at_the_watch_limit_files_are_stated),
        cmocka_unit_test(missing_dir_means_no_snippets),
        cmocka_unit_test(config_dir_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
