#include "helper.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *const sp_clean_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* By number, not through glibc: close_range(2) is Linux 5.9 and glibc 2.34,
 * newer than many a NAS. */
static int close_by_range(int first)
{
#ifdef SYS_close_range
    return (int)syscall(SYS_close_range, (unsigned)first, ~0U, 0);
#else
    (void)first;
    errno = ENOSYS;
    return -1;
#endif
}

/* A descriptor number ("17"), or -1 ("." and ".."). */
static int parse_fd(const char *name)
{
    int fd = 0;
    if (!*name)
        return -1;
    for (; *name; name++) {
        if (*name < '0' || *name > '9' || fd > (INT_MAX - 9) / 10)
            return -1;
        fd = fd * 10 + (*name - '0');
    }
    return fd;
}

/* Closes what /proc/self/fd lists from first up, reading it with the raw
 * getdents64 (opendir allocates). Rescans until a pass finds nothing, as
 * closing while reading may skip entries. -1 when it cannot be read. */
static int close_by_proc(int first)
{
    int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return -1;
    for (int closed = 1; closed;) {
        closed = 0;
        if (lseek(dir, 0, SEEK_SET) < 0) {
            close(dir);
            return -1;
        }
        char buf[4096] __attribute__((aligned(8)));
        long n;
        while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
            for (long at = 0; at < n;) {
                const struct dirent64 *de = (const struct dirent64 *)(buf + at);
                int fd = parse_fd(de->d_name);
                if (fd >= first && fd != dir && close(fd) == 0)
                    closed = 1;
                at += de->d_reclen;
            }
        }
        if (n < 0) {
            close(dir);
            return -1;
        }
    }
    close(dir);
    return 0;
}

void sp_close_fds_from(int first, enum sp_close_way way, int limit)
{
    if (way == SP_CLOSE_ANY_WAY && close_by_range(first) == 0)
        return;
    if (way != SP_CLOSE_BY_LIMIT && close_by_proc(first) == 0)
        return;
    for (int fd = first; fd < limit; fd++)
        close(fd);
}

int sp_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > INT_MAX)
        return 65536;
    return (int)rl.rlim_cur;
}

/* Why execve failed, in strerror's words for the usual causes: strerror
 * itself is not async-signal-safe, and the child of a threaded daemon may
 * call nothing else. */
static const char *exec_failure(int e)
{
    switch (e) {
    case ENOENT: return "No such file or directory";
    case EACCES: return "Permission denied";
    case ENOEXEC: return "Exec format error";
    case ENOTDIR: return "Not a directory";
    case ELOOP: return "Too many levels of symbolic links";
    case ETXTBSY: return "Text file busy";
    case ENOMEM: return "Cannot allocate memory";
    default: return "it could not be started";
    }
}

/* In the child: wire the pipes and exec; only async-signal-safe calls. */
static void exec_child(char *const argv[], char *const envp[], int out_fd, int err_fd,
                       int fd_limit)
{
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    /* Its own group, so that a timeout kills what it started too (the
     * parent sets it as well: whichever runs first). */
    setpgid(0, 0);
    /* The host process's other descriptors are O_CLOEXEC or not ours to
     * pass on: close everything above stderr. */
    sp_close_fds_from(3, SP_CLOSE_ANY_WAY, fd_limit);
    execve(argv[0], argv, envp);
    const char *why = exec_failure(errno);
    static const char msg[] = "cannot execute ";
    (void)!write(2, msg, sizeof(msg) - 1);
    (void)!write(2, argv[0], strlen(argv[0]));
    (void)!write(2, ": ", 2);
    (void)!write(2, why, strlen(why));
    (void)!write(2, "\n", 1);
    _exit(127);
}

struct sink {
    int fd;
    char *buf;
    size_t used;
};

static void drain(struct sink *s)
{
    char scratch[4096];
    ssize_t n = read(s->fd, scratch, sizeof(scratch));
    if (n <= 0) {
        close(s->fd);
        s->fd = -1;
        return;
    }
    size_t room = SP_HELPER_OUTPUT_MAX - 1 - s->used;
    size_t take = (size_t)n < room ? (size_t)n : room;
    memcpy(s->buf + s->used, scratch, take);
    s->used += take;
    s->buf[s->used] = '\0';
}

/* Reads both pipes until they close or the deadline passes. */
static int collect(struct sink *sinks, long long deadline)
{
    while (sinks[0].fd >= 0 || sinks[1].fd >= 0) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return -1;
        struct pollfd p[2] = {{sinks[0].fd, POLLIN, 0}, {sinks[1].fd, POLLIN, 0}};
        int rc = poll(p, 2, (int)left);
        if (rc < 0 && errno != EINTR)
            return -1;
        for (int i = 0; i < 2; i++)
            if (sinks[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                drain(&sinks[i]);
    }
    return 0;
}

/* Waits for pid until the deadline; 1 when reaped. */
static int reap(pid_t pid, long long deadline, int *status)
{
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return r == pid;
        if (now_ms() >= deadline)
            return 0;
        usleep(2000);
    }
}

int sp_child_run(const char *what, char *const argv[], char *const envp[], int timeout_ms,
                 struct sp_helper_result *res, struct sp_err *err)
{
    memset(res, 0, sizeof(*res));
    res->exit_code = -1;
    int out[2], errp[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        return sp_err_set(err, "%s: pipe: %s", what, strerror(errno));
    if (pipe2(errp, O_CLOEXEC) < 0) {
        close(out[0]);
        close(out[1]);
        return sp_err_set(err, "%s: pipe: %s", what, strerror(errno));
    }
    int fd_limit = sp_fd_limit();
    pid_t pid = fork();
    if (pid == 0)
        exec_child(argv, envp, out[1], errp[1], fd_limit);
    if (pid > 0)
        setpgid(pid, pid); /* fails harmlessly once the child has exec'd */
    close(out[1]);
    close(errp[1]);
    if (pid < 0) {
        close(out[0]);
        close(errp[0]);
        return sp_err_set(err, "%s: fork: %s", what, strerror(errno));
    }
    long long deadline = now_ms() + timeout_ms;
    struct sink sinks[2] = {{out[0], res->out, 0}, {errp[0], res->errout, 0}};
    int status = 0;
    int finished = collect(sinks, deadline) == 0 && reap(pid, deadline, &status);
    for (int i = 0; i < 2; i++)
        if (sinks[i].fd >= 0)
            close(sinks[i].fd);
    size_t n = strlen(res->errout);
    while (n > 0 && res->errout[n - 1] == '\n')
        res->errout[--n] = '\0';
    if (!finished) {
        /* The group: whatever it started in the background goes too. */
        if (kill(-pid, SIGKILL) < 0)
            kill(pid, SIGKILL);
        /* A process stuck in the kernel may not die at once: do not wait
         * for it beyond a moment. */
        reap(pid, now_ms() + 200, &status);
        res->timed_out = 1;
        return sp_err_set(err, "%s did not finish within %d ms and was killed", what,
                          timeout_ms);
    }
    if (WIFEXITED(status)) {
        res->exit_code = WEXITSTATUS(status);
        return 0;
    }
    return sp_err_set(err, "%s was killed by signal %d", what,
                      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int sp_helper_run(char *const argv[], int timeout_ms, struct sp_helper_result *res,
                  struct sp_err *err)
{
    if (sp_child_run("the vfio helper", argv, sp_clean_env, timeout_ms, res, err) == 0)
        return 0;
    if (res->timed_out)
        sp_err_set(err, "the vfio helper did not finish within %d ms and was killed "
                        "(a driver may be stuck in unbind; see the kernel log)",
                   timeout_ms);
    return -1;
}
