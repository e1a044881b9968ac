/* testutil: what the unit tests share: temporary trees (config dirs, fake
 * sysfs), file helpers, the source directory, a domain patched by xmlpatch.
 * Aborts on setup failure: a test that cannot build its fixture must not pass. */
#ifndef SP_TESTUTIL_H
#define SP_TESTUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* A fresh directory (mode 0755) under $TMPDIR; malloc'd path. */
char *tu_mkdtemp(const char *tag);
/* Writes dir/name (creating parent dirs 0755) with the given mode. */
char *tu_write(const char *dir, const char *name, const char *text, mode_t mode);
void tu_rm_rf(const char *path);
/* Copies a file byte for byte to dir/name (mode 0644). */
void tu_copy_file(const char *from, const char *dir, const char *name);
/* Sets the modification time of path and of everything below it a minute
 * back: a config read now counts it as settled (see config.c's
 * maybe_changed_unseen), as a file edited a while ago would be. */
void tu_age(const char *path);
/* 1 when dir/name exists. */
int tu_exists(const char *dir, const char *name);
/* A golden case's fake host (its sysfs.txt, else tests/data/sysfs.txt) and
 * its config dir (vm.d/, rom/ and synopassthru.conf copied; without a conf,
 * one with no audit log): fresh temporary dirs, malloc'd paths. */
char *tu_case_sysfs(const char *case_dir);
char *tu_case_config(const char *case_dir);
/* Copies every file of src/sub (not those starting with '.') to dst/sub,
 * and makes dst/sub (mode 0755) even when src/sub is absent. */
void tu_copy_dir(const char *src, const char *dst, const char *sub);
/* The tests' open(2) stands in for libc's: after each open the hook (when
 * set) runs with the path and the new fd, so a test can change a file
 * right after the code under test opened it. NULL: plain open. */
void tu_set_open_hook(void (*hook)(const char *path, int fd));
/* Whole file, NUL-terminated; aborts when unreadable. */
char *tu_read(const char *path, size_t *len);
/* A unix socket bound at path (the file stays when the socket closes). */
void tu_make_socket(const char *path);
/* Accepts files owned by the current user (for runs as non-root). */
void tu_trust_current_user(void);
/* The source tree ($SP_SRC or "."). */
const char *tu_src_dir(void);
/* A fake sysfs with the default device set of tests/data/sysfs.txt. */
char *tu_default_sysfs(void);
/* Runs the test tool mkrom ($SP_BUILD, default build) with the NULL-ended
 * args (at most six); aborts the test when it fails. */
void tu_run_mkrom(const char *const args[]);
/* A valid legacy option ROM for 1002:1638 (the fake iGPU) at dir/name,
 * mode 0644, made by the test tool mkrom ($SP_BUILD, default build). */
char *tu_write_rom(const char *dir, const char *name, const char *kind);

/* Replaces every occurrence of needle in a malloc'd string. */
char *tu_replace_all(const char *text, const char *needle, const char *replacement);

struct sp_patch_dev;
struct sp_patch_report;
/* Merges devs into the domain text with xmlpatch and returns the result as
 * serialized (malloc'd; rep filled). A failure fails the running test. */
char *tu_patch(const char *text, const struct sp_patch_dev *devs, size_t n,
               struct sp_patch_report *rep);
/* How many times needle occurs in hay (not overlapping). */
int tu_count(const char *hay, const char *needle);
/* The heap in use (mallinfo2), large blocks that malloc mmaps included:
 * deltas of it are what a structure holds. */
size_t tu_heap_in_use(void);

#endif
