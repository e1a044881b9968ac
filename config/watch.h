/* watch: one inotify descriptor (non-blocking, close-on-exec) on the config
 * dir and its vm.d, drained at each refresh without waiting. Owns the
 * descriptor and its two watches; tells the caller which vm.d names changed
 * and when only a full look at the files will do. Never reads or stats a
 * snippet itself. */
#ifndef SP_WATCH_H
#define SP_WATCH_H

#include <sys/stat.h>

/* What sp_watch_drain found, besides the names it passed on. */
enum {
    SP_WATCH_CONF = 1 << 0,     /* synopassthru.conf was touched */
    SP_WATCH_WALK = 1 << 1,     /* events cannot tell: look at every file */
    SP_WATCH_OVERFLOW = 1 << 2, /* the kernel's queue overflowed (with WALK) */
};

struct sp_watch;

/* Never NULL but when memory runs out; a watch whose descriptor could not be
 * made says why in sp_watch_unavailable and asks for walks forever. */
struct sp_watch *sp_watch_new(void);
void sp_watch_free(struct sp_watch *w);

/* Why events cannot be had at all (no inotify, the watch limit reached),
 * or NULL while they can. */
const char *sp_watch_unavailable(const struct sp_watch *w);

/* Watches dir and vmd afresh (either may be missing). Returns 1 when both
 * are watched, 0 when not (walk, and arm again next time). */
int sp_watch_arm(struct sp_watch *w, const char *dir, const char *vmd);

/* 1 when the watches are on the directories these stats describe: a path
 * can be given another directory without an event on the watched one (a
 * parent renamed). */
int sp_watch_covers(const struct sp_watch *w, const struct stat *dir, const struct stat *vmd);

/* Reads every queued event without blocking; each name in vm.d that was
 * created, written, renamed, removed or chmod'ed goes to changed(ctx, name)
 * (a name may come more than once; changed fails with -1, and then a walk
 * is asked for). Returns SP_WATCH_* flags. */
unsigned sp_watch_drain(struct sp_watch *w, int (*changed)(void *ctx, const char *name),
                        void *ctx);

#endif
