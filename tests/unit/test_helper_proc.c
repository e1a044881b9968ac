/* helper: what a child started by sp_child_run inherits and what outlives
 * it: no descriptor above stderr, whatever its number, and on a timeout
 * nothing it started. Runs real programs (/bin/sh, /bin/ls); every wait is
 * bounded. */
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
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/fsutil.h"
#include "../../core/helper.h"
#include "testutil.h"

#define HIGH_FD 1500

/* Room for HIGH_FD; skips the test when the hard limit is lower. */
static void allow_high_fds(void)
{
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur > HIGH_FD + 100)
        return;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max <= HIGH_FD + 100)
        skip();
    rl.rlim_cur = HIGH_FD + 100;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

/* An inheritable descriptor at number fd. */
static void open_at(int fd)
{
    int any = open("/dev/null", O_RDONLY);
    assert_true(any >= 0);
    assert_int_equal(dup2(any, fd), fd);
    close(any);
}

/* Whether the newline-separated list has a line that is exactly want. */
static int has_line(const char *list, const char *want)
{
    size_t n = strlen(want);
    for (const char *p = list; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
        if (strncmp(p, want, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

static void runs_to_an_exit_with_its_output(void **state)
{
    (void)state;
    alarm(20); /* a regression that blocks fails instead of hanging */
    char *const argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
    struct sp_helper_result res;
    struct sp_err err;
    assert_int_equal(sp_child_run("the test child", argv, sp_clean_env, 5000, &res, &err), 0);
    assert_int_equal(res.exit_code, 3);
    assert_string_equal(res.out, "out\n");
    assert_string_equal(res.errout, "err");
    alarm(0);
}

static void no_descriptor_above_stderr_is_inherited(void **state)
{
    (void)state;
    alarm(20);
    allow_high_fds();
    open_at(HIGH_FD);
    open_at(200);
    char *const argv[] = {"/bin/ls", "-1", "/proc/self/fd", NULL};
    struct sp_helper_result res;
    struct sp_err err;
    int rc = sp_child_run("the fd lister", argv, sp_clean_env, 5000, &res, &err);
    close(HIGH_FD);
    close(200);
    assert_int_equal(rc, 0);
    assert_int_equal(res.exit_code, 0);
    assert_true(has_line(res.out, "0") && has_line(res.out, "1") && has_line(res.out, "2"));
    if (has_line(res.out, "1500") || has_line(res.out, "200"))
        fail_msg("the child inherited descriptors; it saw:\n%s", res.out);
    alarm(0);
}

/* In a forked child: HIGH_FD and 200 open, then closed the given way. */
static int closes_the_way(enum sp_close_way way)
{
    int limit = sp_fd_limit();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        open_at(HIGH_FD);
        open_at(200);
        sp_close_fds_from(3, way, limit);
        int gone = fcntl(HIGH_FD, F_GETFD) < 0 && errno == EBADF && fcntl(200, F_GETFD) < 0;
        int kept = fcntl(0, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0;
        _exit(gone && kept ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void every_way_of_closing_closes_all(void **state)
{
    (void)state;
    alarm(20);
    allow_high_fds();
    assert_true(sp_fd_limit() > HIGH_FD);
    assert_true(closes_the_way(SP_CLOSE_ANY_WAY));
    assert_true(closes_the_way(SP_CLOSE_NO_RANGE));  /* /proc/self/fd */
    assert_true(closes_the_way(SP_CLOSE_BY_LIMIT)); /* every number below the limit */
    alarm(0);
}

/* Whether pid is gone (or a zombie nobody has reaped yet). */
static int process_gone(pid_t pid)
{
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return 1;
    char path[64], *stat = NULL;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (sp_read_file(path, 4096, &stat, NULL, NULL) < 0)
        return 1;
    const char *end = strrchr(stat, ')'); /* the state follows "(comm) " */
    int zombie = end && end[1] == ' ' && (end[2] == 'Z' || end[2] == 'X');
    free(stat);
    return zombie;
}

static void a_timeout_kills_what_the_child_started(void **state)
{
    (void)state;
    alarm(30);
    char *dir = tu_mkdtemp("helper-proc");
    char *pidfile = sp_path_join(dir, "grandchild.pid");
    /* The grandchild keeps the output pipes open too: only the deadline ends
     * the run. */
    char *const argv[] = {"/bin/sh", "-c", "sleep 100 & echo $! > \"$1\"; wait", "sh", pidfile,
                          NULL};
    struct sp_helper_result res;
    struct sp_err err;
    assert_int_equal(sp_child_run("the test child", argv, sp_clean_env, 1000, &res, &err), -1);
    assert_true(res.timed_out);
    assert_non_null(strstr(err.msg, "the test child did not finish within 1000 ms"));
    char *text = tu_read(pidfile, NULL);
    pid_t grandchild = (pid_t)atoi(text);
    free(text);
    assert_true(grandchild > 1);
    int gone = 0;
    for (int i = 0; i < 300 && !(gone = process_gone(grandchild)); i++)
        usleep(10000);
    if (!gone)
        kill(grandchild, SIGKILL); /* leave nothing behind, then fail */
    tu_rm_rf(dir);
    free(pidfile);
    free(dir);
    if (!gone)
        fail_msg("the child's own child %d outlived the timeout", (int)grandchild);
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runs_to_an_exit_with_its_output),
        cmocka_unit_test(no_descriptor_above_stderr_is_inherited),
        cmocka_unit_test(every_way_of_closing_closes_all),
        cmocka_unit_test(a_timeout_kills_what_the_child_started),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
