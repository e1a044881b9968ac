#include "watch.h"

#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "../common/testhooks.h"
#include "config.h"

#define WATCHED_EVENTS (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | \
                            IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define GONE_SELF (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)

struct watched {
    int wd; /* -1 when not watched */
    dev_t dev;
    ino_t ino;
};

struct sp_watch {
    int fd; /* -1 when unavailable */
    char why[160];
    struct watched dir, vmd;
};

/* Test builds only: "unavailable", "limit" (the watch limit reached) or
 * "overflow" (the kernel's queue overflowed before this drain). */
static int injected(const char *fault)
{
    const char *value = sp_test_env(SP_TEST_ENV_WATCH_FAULT);
    return value && strcmp(value, fault) == 0;
}

static void give_up(struct sp_watch *w, const char *what, int error)
{
    snprintf(w->why, sizeof(w->why), "%s: %s", what, strerror(error));
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    w->dir.wd = w->vmd.wd = -1;
}

struct sp_watch *sp_watch_new(void)
{
    struct sp_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->dir.wd = w->vmd.wd = -1;
    int fake = injected("unavailable");
    w->fd = fake ? -1 : inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0)
        give_up(w, "inotify_init1", fake ? ENOSYS : errno);
    return w;
}

void sp_watch_free(struct sp_watch *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    free(w);
}

const char *sp_watch_unavailable(const struct sp_watch *w)
{
    return w->fd < 0 ? w->why : NULL;
}

static void unwatch(struct sp_watch *w, struct watched *d)
{
    if (d->wd >= 0)
        inotify_rm_watch(w->fd, d->wd);
    d->wd = -1;
}

/* The watch is on the directory stat'ed before and after adding it (else a
 * replacement in between could leave it on the old one). */
static int watch_one(struct sp_watch *w, struct watched *d, const char *path)
{
    unwatch(w, d);
    struct stat before, after;
    if (stat(path, &before) < 0)
        return 0;
    int fake = injected("limit");
    int wd = fake ? -1 : inotify_add_watch(w->fd, path, WATCHED_EVENTS);
    int error = fake ? ENOSPC : errno;
    if (wd < 0 && (error == ENOSPC || error == ENOMEM)) {
        give_up(w, "inotify_add_watch", error);
        return 0;
    }
    if (wd < 0)
        return 0; /* not there, not a directory, not readable: walked until it is */
    if (stat(path, &after) < 0 || after.st_ino != before.st_ino ||
        after.st_dev != before.st_dev) {
        inotify_rm_watch(w->fd, wd);
        return 0;
    }
    *d = (struct watched){.wd = wd, .dev = after.st_dev, .ino = after.st_ino};
    return 1;
}

int sp_watch_arm(struct sp_watch *w, const char *dir, const char *vmd)
{
    if (w->fd < 0)
        return 0;
    int ok = watch_one(w, &w->dir, dir);
    return w->fd >= 0 && watch_one(w, &w->vmd, vmd) && ok;
}

static int covers_one(const struct watched *d, const struct stat *st)
{
    return d->wd >= 0 && d->dev == st->st_dev && d->ino == st->st_ino;
}

int sp_watch_covers(const struct sp_watch *w, const struct stat *dir, const struct stat *vmd)
{
    return w->fd >= 0 && covers_one(&w->dir, dir) && covers_one(&w->vmd, vmd);
}

/* The directory itself went away or elsewhere: its watch is of no use. */
static unsigned lost(struct sp_watch *w, struct watched *d, uint32_t mask)
{
    if (mask & IN_IGNORED)
        d->wd = -1; /* the kernel removed it already */
    else
        unwatch(w, d);
    return SP_WATCH_WALK;
}

static unsigned in_config_dir(struct sp_watch *w, const struct inotify_event *ev)
{
    if (ev->len == 0)
        return (ev->mask & GONE_SELF) ? lost(w, &w->dir, ev->mask) : 0;
    if (strcmp(ev->name, SP_CONF_FILE) == 0)
        return SP_WATCH_CONF;
    /* vm.d created, removed, renamed, replaced or chmod'ed. */
    return strcmp(ev->name, SP_SNIPPET_DIR) == 0 ? SP_WATCH_WALK : 0;
}

static unsigned in_snippet_dir(struct sp_watch *w, const struct inotify_event *ev,
                               int (*changed)(void *, const char *), void *ctx)
{
    if (ev->len == 0)
        return (ev->mask & GONE_SELF) ? lost(w, &w->vmd, ev->mask) : SP_WATCH_WALK;
    return changed(ctx, ev->name) < 0 ? SP_WATCH_WALK : 0;
}

static unsigned one_event(struct sp_watch *w, const struct inotify_event *ev,
                          int (*changed)(void *, const char *), void *ctx)
{
    if (ev->mask & IN_Q_OVERFLOW)
        return SP_WATCH_WALK | SP_WATCH_OVERFLOW;
    if (ev->wd == w->vmd.wd)
        return in_snippet_dir(w, ev, changed, ctx);
    if (ev->wd == w->dir.wd)
        return in_config_dir(w, ev);
    return 0; /* a watch dropped since */
}

unsigned sp_watch_drain(struct sp_watch *w, int (*changed)(void *ctx, const char *name),
                        void *ctx)
{
    if (w->fd < 0)
        return SP_WATCH_WALK;
    unsigned flags = 0;
    alignas(struct inotify_event) char buf[4096];
    if (injected("overflow")) {
        /* As the kernel does: what was queued is lost. */
        while (read(w->fd, buf, sizeof(buf)) > 0)
            ;
        flags = SP_WATCH_WALK | SP_WATCH_OVERFLOW;
    }
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            flags |= SP_WATCH_WALK;
            break;
        }
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            flags |= one_event(w, ev, changed, ctx);
            p += sizeof(*ev) + ev->len;
        }
    }
    if (w->dir.wd < 0 || w->vmd.wd < 0)
        flags |= SP_WATCH_WALK;
    return flags;
}
