/* files: what a user could leave where a file is read (a FIFO, a socket, a
 * device, a directory, a huge file, a symlink out, a writable dir above, a
 * ROM swapped after its check): each refused at once, never waited on. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/fsutil.h"
#include "../../config/config.h"
#include "../../core/start.h"
#include "testutil.h"

/* A regression that blocks in open or read fails the test instead of
 * hanging it: SIGALRM ends the process. */
#define GUARD_SECONDS 10

static char *dir;

static int setup(void **state)
{
    (void)state;
    dir = tu_mkdtemp("files");
    alarm(GUARD_SECONDS);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alarm(0);
    tu_rm_rf(dir);
    free(dir);
    return 0;
}

static char *path_in(const char *name)
{
    return sp_path_join(dir, name);
}

static void expect_read_refused(const char *path, int flags, const char *why)
{
    char *buf = NULL;
    struct sp_err err;
    struct stat st;
    assert_int_equal(sp_read_file_stat(path, flags, 1024, &buf, NULL, &st, &err), -1);
    assert_null(buf);
    if (!strstr(err.msg, path) || !strstr(err.msg, why))
        fail_msg("expected '%s: ... %s', got '%s'", path, why, err.msg);
}

static void every_kind_of_non_regular_file_is_refused_at_once(void **state)
{
    (void)state;
    char *fifo = path_in("fifo.xml"); /* no writer: a blocking open would wait forever */
    assert_int_equal(mkfifo(fifo, 0644), 0);
    expect_read_refused(fifo, 0, "is a FIFO, not a regular file");
    char *sock = path_in("socket.xml");
    tu_make_socket(sock);
    expect_read_refused(sock, 0, "is a socket, not a regular file");
    char *sub = path_in("dir.xml");
    assert_int_equal(mkdir(sub, 0755), 0);
    expect_read_refused(sub, 0, "is a directory, not a regular file");
    expect_read_refused("/dev/null", 0, "is a character device, not a regular file");
    char *link = path_in("link.xml");
    assert_int_equal(symlink(fifo, link), 0);
    expect_read_refused(link, 0, "is a FIFO"); /* followed: judged by what it names */
    expect_read_refused(link, SP_OPEN_NOFOLLOW, "is a symbolic link, not a regular file");
    free(fifo);
    free(sock);
    free(sub);
    free(link);
}

static void a_file_over_the_cap_is_refused(void **state)
{
    (void)state;
    char *path = tu_write(dir, "huge.xml", "", 0644);
    assert_int_equal(truncate(path, 64 << 20), 0); /* sparse: 64 MiB of nothing */
    char *buf = NULL;
    struct sp_err err;
    assert_int_equal(sp_read_file(path, 1 << 20, &buf, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "file too large (limit 1048576 bytes)"));
    free(path);
}

static void files_written_in_place_are_never_fifos_or_links(void **state)
{
    (void)state;
    struct stat st;
    struct sp_err err;
    char *fifo = path_in("audit.log"); /* no reader: a blocking O_WRONLY open would wait */
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(sp_open_write(fifo, O_WRONLY | O_APPEND, 0600, &st, &err), -1);
    assert_non_null(strstr(err.msg, "is a FIFO, not a regular file"));
    char *target = tu_write(dir, "target", "", 0600);
    char *link = path_in("lock");
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(sp_open_write(link, O_RDWR, 0600, &st, &err), -1);
    assert_non_null(strstr(err.msg, "is a symbolic link, not a regular file"));
    char *fresh = path_in("fresh.log");
    int fd = sp_open_write(fresh, O_WRONLY | O_APPEND, 0600, &st, &err);
    assert_true(fd >= 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    close(fd);
    free(fifo);
    free(target);
    free(link);
    free(fresh);
}

/* ---- StrictModes up to / ---- */

static char *make_dirs(const char *rel)
{
    char *path = path_in(rel);
    free(tu_write(path, ".keep", "", 0644));
    return path;
}

static void expect_chain_refused(const char *target, const char *why)
{
    struct sp_err err;
    if (sp_check_dir_chain(target, "config dir", NULL, &err) == 0)
        fail_msg("%s was accepted, expected '%s'", target, why);
    if (!strstr(err.msg, why))
        fail_msg("expected '%s' in '%s'", why, err.msg);
}

static void directories_above_are_checked_up_to_the_root(void **state)
{
    (void)state;
    char *cfg = make_dirs("a/b/cfg");
    char *a = path_in("a"), *b = path_in("a/b");
    char *real_a = realpath(a, NULL);
    struct sp_err err;
    char *real = NULL;
    assert_int_equal(sp_check_dir_chain(cfg, "config dir", &real, &err), 0);
    assert_non_null(strstr(real, "/a/b/cfg"));
    assert_int_equal(chmod(a, 0777), 0);
    char want[2048];
    snprintf(want, sizeof(want), "config dir %s: parent directory %s is world-writable (mode "
             "0777): refusing it (chmod go-w %s)", cfg, real_a, real_a);
    expect_chain_refused(cfg, want);
    assert_int_equal(chmod(a, 0755), 0);
    assert_int_equal(chmod(b, 0775), 0);
    expect_chain_refused(cfg, "group-writable (mode 0775)");
    assert_int_equal(chmod(b, 0755), 0);
    /* The dir itself gets no sticky exception. */
    assert_int_equal(chmod(cfg, 01777), 0);
    expect_chain_refused(cfg, "is world-writable (mode 1777)");
    assert_int_equal(chmod(cfg, 0755), 0);
    free(real);
    free(real_a);
    free(cfg);
    free(a);
    free(b);
}

/* /tmp's rule: a root-owned sticky directory above may be writable by all. */
static void a_sticky_root_dir_above_is_accepted(void **state)
{
    (void)state;
    if (getuid() != 0)
        skip(); /* only root can own such a directory */
    char *cfg = make_dirs("t/cfg");
    char *t = path_in("t");
    struct sp_err err;
    assert_int_equal(chmod(t, 01777), 0);
    assert_int_equal(sp_check_dir_chain(cfg, "config dir", NULL, &err), 0);
    /* Not sticky: refused. Sticky but not root's: refused. */
    assert_int_equal(chmod(t, 0777), 0);
    expect_chain_refused(cfg, "world-writable (mode 0777)");
    assert_int_equal(chmod(t, 01777), 0);
    assert_int_equal(chown(t, 65534, 65534), 0);
    expect_chain_refused(cfg, "owned by uid 65534, not root");
    assert_int_equal(chown(t, 0, 0), 0);
    free(cfg);
    free(t);
}

static void resolved_paths_must_stay_inside(void **state)
{
    (void)state;
    char *rom = make_dirs("cfg/rom");
    char *inside = tu_write(rom, "good.bin", "x", 0644);
    char *outside = tu_write(dir, "secret", "x", 0600);
    char *real = NULL;
    struct sp_err err;
    assert_int_equal(sp_resolve_within(inside, rom, "the ROM dir", &real, &err), 0);
    free(real);
    char *alias = sp_path_join(rom, "alias.bin");
    assert_int_equal(symlink("good.bin", alias), 0);
    assert_int_equal(sp_resolve_within(alias, rom, "the ROM dir", &real, &err), 0);
    assert_non_null(strstr(real, "/cfg/rom/good.bin"));
    free(real);
    char *dotdot = sp_path_join(rom, "../../secret");
    assert_int_equal(sp_resolve_within(dotdot, rom, "the ROM dir", &real, &err), -1);
    assert_non_null(strstr(err.msg, "outside the ROM dir"));
    assert_non_null(strstr(err.msg, "(it resolves to "));
    assert_int_equal(sp_resolve_within(outside, rom, "the ROM dir", &real, &err), -1);
    char *escape = sp_path_join(rom, "escape.bin");
    assert_int_equal(symlink(outside, escape), 0);
    assert_int_equal(sp_resolve_within(escape, rom, "the ROM dir", &real, &err), -1);
    assert_non_null(strstr(err.msg, "outside the ROM dir"));
    /* A name that shares the dir's prefix is not inside it. */
    char *sibling = make_dirs("cfg/rom2");
    char *near = tu_write(sibling, "x.bin", "x", 0644);
    assert_int_equal(sp_resolve_within(near, rom, "the ROM dir", &real, &err), -1);
    free(rom);
    free(inside);
    free(outside);
    free(alias);
    free(dotdot);
    free(escape);
    free(sibling);
    free(near);
}

/* ---- the ROM checked is the ROM read ----
 * The test's own open() stands in for libc's: right after the first open
 * of the watched ROM, another file is renamed over that path, as someone
 * swapping the file between a check and a read would. */

static const char *swap_path, *swap_with;

/* The swap, right after the code under test opened swap_path. */
static void swap_after_open(const char *path, int fd)
{
    (void)fd;
    if (swap_path && strcmp(path, swap_path) == 0) {
        if (rename(swap_with, swap_path) < 0)
            fail_msg("rename %s: %s", swap_with, strerror(errno));
        swap_path = NULL;
    }
}

static void a_rom_swapped_after_the_check_is_not_read(void **state)
{
    (void)state;
    char *sysfs = tu_default_sysfs();
    setenv("SYNOPASSTHRU_SYSFS_ROOT", sysfs, 1);
    char *cfg = make_dirs("cfg");
    /* What the start opens and checks: root's file, but for another device.
     * What replaces it: a ROM that would fit, writable by anyone. */
    char *rom = tu_write_rom(cfg, "rom/card.bin", "wrong-ids");
    char *swap = tu_write_rom(cfg, "rom/.swap.bin", "legacy");
    assert_int_equal(chmod(swap, 0666), 0);
    free(tu_write(cfg, "vm.d/a.xml", "<passthrough vm='win11'><pci address='08:00.0' "
                                     "vendor='1002' product='1638' rom='card.bin'/></passthrough>",
                  0644));
    struct sp_config *c = sp_config_new(cfg);
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    assert_int_equal(sp_config_snapshot(c, &snap, &err), 0);
    struct sp_start st;
    const char *xml = "<domain><name>win11</name><devices/></domain>";
    swap_path = rom;
    swap_with = swap;
    tu_set_open_hook(swap_after_open);
    assert_int_equal(sp_start_prepare(snap, xml, strlen(xml), &st), 0);
    tu_set_open_hook(NULL);
    assert_null(swap_path); /* the swap happened */
    /* One fd: the verdict is on the bytes of the file that was opened and
     * checked (another device's ROM), not on what took its place. */
    assert_int_equal(st.verdict, SP_REFUSED);
    if (!strstr(st.err.msg, "belongs to another device: its images name 10de:1b80"))
        fail_msg("unexpected verdict: %s", st.err.msg);
    sp_start_free(&st);
    sp_snapshot_release(snap);
    sp_config_free(c);
    unsetenv("SYNOPASSTHRU_SYSFS_ROOT");
    tu_rm_rf(sysfs);
    free(sysfs);
    free(cfg);
    free(rom);
    free(swap);
}

/* A cache's file identity: taken or not, and unchanged only while every
 * compared field of the stat is (one field changed at a time). */
static void a_file_id_tells_each_change_of_the_file(void **state)
{
    (void)state;
    struct sp_file_id id = {0};
    assert_false(sp_file_id_taken(&id));
    struct stat st = {.st_dev = 3, .st_ino = 42, .st_size = 100, .st_mode = S_IFREG | 0644,
                      .st_uid = 1000, .st_gid = 100, .st_nlink = 1};
    st.st_mtim = (struct timespec){.tv_sec = 1700000000, .tv_nsec = 5};
    st.st_ctim = st.st_mtim;
    sp_file_id_set(&id, &st);
    assert_true(sp_file_id_taken(&id));
    assert_true(sp_file_id_same(&id, &st));
    for (int field = 0; field < 11; field++) {
        struct stat changed = st;
        switch (field) {
        case 0: changed.st_dev++; break;
        case 1: changed.st_ino++; break;
        case 2: changed.st_size++; break;
        case 3: changed.st_mtim.tv_sec++; break;
        case 4: changed.st_mtim.tv_nsec++; break;
        case 5: changed.st_ctim.tv_sec++; break;
        case 6: changed.st_ctim.tv_nsec++; break;
        case 7: changed.st_mode ^= 0002; break;
        case 8: changed.st_uid++; break;
        case 9: changed.st_gid++; break;
        default: changed.st_nlink++; break;
        }
        if (sp_file_id_same(&id, &changed))
            fail_msg("stat field %d changed but the id still matches", field);
        assert_false(sp_stat_same(&st, &changed));
    }
}

int main(void)
{
    tu_trust_current_user();
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(every_kind_of_non_regular_file_is_refused_at_once),
        T(a_file_over_the_cap_is_refused),
        T(files_written_in_place_are_never_fifos_or_links),
        T(directories_above_are_checked_up_to_the_root),
        T(a_sticky_root_dir_above_is_accepted),
        T(resolved_paths_must_stay_inside),
        T(a_rom_swapped_after_the_check_is_not_read),
        cmocka_unit_test(a_file_id_tells_each_change_of_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
