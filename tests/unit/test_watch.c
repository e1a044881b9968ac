/* watch: each kind of change in vm.d is reported by name; changes only a
 * full look can settle (vm.d replaced, the queue overflowed, no inotify)
 * ask for one; the conf file is told apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/fsutil.h"
#include "../../common/testhooks.h"
#include "../../config/watch.h"
#include "testutil.h"

struct fixture {
    char *dir, *vmd;
    struct sp_watch *w;
    char names[16][64]; /* what the last drain passed on */
    int n_names;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->dir = tu_mkdtemp("watch");
    free(tu_write(f->dir, "vm.d/a.xml", "<passthrough vm='a'/>", 0644));
    free(tu_write(f->dir, "synopassthru.conf", "", 0644));
    f->vmd = sp_path_join(f->dir, "vm.d");
    f->w = sp_watch_new();
    assert_non_null(f->w);
    assert_null(sp_watch_unavailable(f->w));
    assert_int_equal(sp_watch_arm(f->w, f->dir, f->vmd), 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    unsetenv(SP_ENV_TEST_WATCH_FAULT);
    sp_watch_free(f->w);
    tu_rm_rf(f->dir);
    free(f->vmd);
    free(f->dir);
    free(f);
    return 0;
}

static int collect(void *ctx, const char *name)
{
    struct fixture *f = ctx;
    if (f->n_names < 16)
        snprintf(f->names[f->n_names++], sizeof(f->names[0]), "%s", name);
    return 0;
}

static unsigned drain(struct fixture *f)
{
    f->n_names = 0;
    return sp_watch_drain(f->w, collect, f);
}

/* Every name the drain passed on is `name`, and there was one at least. */
static void assert_only_named(const struct fixture *f, const char *name)
{
    assert_true(f->n_names > 0);
    for (int i = 0; i < f->n_names; i++)
        assert_string_equal(f->names[i], name);
}

static char *vmd_path(const struct fixture *f, const char *name)
{
    return sp_path_join(f->vmd, name);
}

static void nothing_changed_is_quiet(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(drain(f), 0);
    assert_int_equal(f->n_names, 0);
}

static void a_created_file_is_named(void **state)
{
    struct fixture *f = *state;
    free(tu_write(f->dir, "vm.d/new.xml", "<passthrough vm='n'/>", 0644));
    assert_int_equal(drain(f), 0);
    assert_only_named(f, "new.xml");
    assert_int_equal(drain(f), 0); /* drained: said once */
    assert_int_equal(f->n_names, 0);
}

static void an_edit_in_place_is_named(void **state)
{
    struct fixture *f = *state;
    char *path = vmd_path(f, "a.xml");
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "<", 1), 1);
    close(fd);
    assert_int_equal(drain(f), 0);
    assert_only_named(f, "a.xml");
    free(path);
}

/* How editors and `synopassthru add` save: a new file renamed over. */
static void a_rename_over_names_the_target(void **state)
{
    struct fixture *f = *state;
    char *tmp = sp_path_join(f->dir, "a.xml.tmp"); /* outside vm.d: only the arrival */
    free(tu_write(f->dir, "a.xml.tmp", "<passthrough vm='b'/>", 0644));
    char *path = vmd_path(f, "a.xml");
    drain(f);
    assert_int_equal(rename(tmp, path), 0);
    assert_int_equal(drain(f), 0);
    assert_only_named(f, "a.xml");
    free(path);
    free(tmp);
}

static void a_rename_away_names_the_source(void **state)
{
    struct fixture *f = *state;
    char *path = vmd_path(f, "a.xml");
    char *away = sp_path_join(f->dir, "a.xml.old");
    assert_int_equal(rename(path, away), 0);
    assert_int_equal(drain(f), 0);
    assert_only_named(f, "a.xml");
    free(away);
    free(path);
}

static void a_deleted_file_is_named(void **state)
{
    struct fixture *f = *state;
    char *path = vmd_path(f, "a.xml");
    assert_int_equal(unlink(path), 0);
    assert_int_equal(drain(f), 0);
    assert_only_named(f, "a.xml");
    free(path);
}

/* Modes and owners decide whether a snippet is trusted. */
static void a_chmod_is_named(void **state)
{
    struct fixture *f = *state;
    char *path = vmd_path(f, "a.xml");
    assert_int_equal(chmod(path, 0664), 0);
    assert_int_equal(drain(f), 0);
    assert_only_named(f, "a.xml");
    free(path);
}

static void the_conf_is_told_apart(void **state)
{
    struct fixture *f = *state;
    free(tu_write(f->dir, "synopassthru.conf", "audit_log =\n", 0644));
    assert_int_equal(drain(f), SP_WATCH_CONF);
    assert_int_equal(f->n_names, 0);
}

/* vm.d renamed away and a new one made: the watch on the old one is of no
 * use, and a walk is asked for until the new one is watched. */
static void a_replaced_vm_d_asks_for_a_walk(void **state)
{
    struct fixture *f = *state;
    char *old = sp_path_join(f->dir, "vm.d.old");
    assert_int_equal(rename(f->vmd, old), 0);
    assert_int_equal(mkdir(f->vmd, 0755), 0);
    assert_true(drain(f) & SP_WATCH_WALK);
    struct stat dir, vmd;
    assert_int_equal(stat(f->dir, &dir), 0);
    assert_int_equal(stat(f->vmd, &vmd), 0);
    assert_false(sp_watch_covers(f->w, &dir, &vmd));
    assert_int_equal(sp_watch_arm(f->w, f->dir, f->vmd), 1);
    assert_true(sp_watch_covers(f->w, &dir, &vmd));
    drain(f);
    /* The new one is the one watched now; the old one is not. */
    free(tu_write(old, "x.xml", "", 0644));
    assert_int_equal(drain(f), 0);
    assert_int_equal(f->n_names, 0);
    free(tu_write(f->dir, "vm.d/y.xml", "", 0644));
    assert_int_equal(drain(f), 0);
    assert_only_named(f, "y.xml");
    tu_rm_rf(old);
    free(old);
}

static void a_removed_vm_d_asks_for_walks(void **state)
{
    struct fixture *f = *state;
    tu_rm_rf(f->vmd);
    assert_true(drain(f) & SP_WATCH_WALK);
    assert_int_equal(sp_watch_arm(f->w, f->dir, f->vmd), 0);
    assert_true(drain(f) & SP_WATCH_WALK); /* until it is back and watched */
}

static void the_config_dir_moved_away_asks_for_a_walk(void **state)
{
    struct fixture *f = *state;
    char moved[4096];
    assert_int_equal(sp_path_fmt(moved, sizeof(moved), "%s.moved", f->dir), 0);
    assert_int_equal(rename(f->dir, moved), 0);
    assert_true(drain(f) & SP_WATCH_WALK);
    assert_int_equal(rename(moved, f->dir), 0);
}

/* A queue that overflowed lost events: everything must be looked at. */
static void an_overflow_asks_for_a_walk(void **state)
{
    struct fixture *f = *state;
    free(tu_write(f->dir, "vm.d/lost.xml", "", 0644));
    setenv(SP_ENV_TEST_WATCH_FAULT, "overflow", 1);
    assert_int_equal(drain(f), SP_WATCH_WALK | SP_WATCH_OVERFLOW);
    unsetenv(SP_ENV_TEST_WATCH_FAULT);
    assert_int_equal(drain(f), 0); /* then back to events */
    free(tu_write(f->dir, "vm.d/b.xml", "", 0644));
    assert_int_equal(drain(f), 0);
    assert_only_named(f, "b.xml");
}

static void no_inotify_means_walks(void **state)
{
    (void)state;
    setenv(SP_ENV_TEST_WATCH_FAULT, "unavailable", 1);
    struct sp_watch *w = sp_watch_new();
    unsetenv(SP_ENV_TEST_WATCH_FAULT);
    assert_non_null(sp_watch_unavailable(w));
    assert_non_null(strstr(sp_watch_unavailable(w), "inotify_init1"));
    assert_int_equal(sp_watch_arm(w, "/", "/"), 0);
    assert_int_equal(sp_watch_drain(w, collect, NULL), SP_WATCH_WALK);
    sp_watch_free(w);
}

static void the_watch_limit_means_walks(void **state)
{
    struct fixture *f = *state;
    setenv(SP_ENV_TEST_WATCH_FAULT, "limit", 1);
    assert_int_equal(sp_watch_arm(f->w, f->dir, f->vmd), 0);
    unsetenv(SP_ENV_TEST_WATCH_FAULT);
    assert_non_null(strstr(sp_watch_unavailable(f->w), "inotify_add_watch"));
    assert_non_null(strstr(sp_watch_unavailable(f->w), strerror(ENOSPC)));
    assert_int_equal(drain(f), SP_WATCH_WALK);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(nothing_changed_is_quiet),
        T(a_created_file_is_named),
        T(an_edit_in_place_is_named),
        T(a_rename_over_names_the_target),
        T(a_rename_away_names_the_source),
        T(a_deleted_file_is_named),
        T(a_chmod_is_named),
        T(the_conf_is_told_apart),
        T(a_replaced_vm_d_asks_for_a_walk),
        T(a_removed_vm_d_asks_for_walks),
        T(the_config_dir_moved_away_asks_for_a_walk),
        T(an_overflow_asks_for_a_walk),
        T(no_inotify_means_walks),
        T(the_watch_limit_means_walks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
