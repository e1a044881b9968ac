#include "testutil.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#ifdef __SANITIZE_ADDRESS__
/* The sanitizer runtime's (sanitizer/allocator_interface.h, not on every
 * compiler's include path). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/fsutil.h"
#include "../../xmlpatch/domain.h"
#include "../../xmlpatch/xmlpatch.h"
#include "../tools/fakesysfs.h"

static void die(const char *what, const char *path)
{
    fprintf(stderr, "testutil: %s %s: %s\n", what, path, strerror(errno));
    abort();
}

char *tu_mkdtemp(const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    char *path = NULL;
    if (asprintf(&path, "%s/sp-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag) < 0 || !mkdtemp(path))
        die("mkdtemp", tag);
    if (chmod(path, 0755) < 0)
        die("chmod", path);
    return path;
}

static void mkdirs_for(const char *path)
{
    char *copy = strdup(path);
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0755) < 0 && errno != EEXIST)
            die("mkdir", copy);
        *p = '/';
    }
    free(copy);
}

char *tu_write(const char *dir, const char *name, const char *text, mode_t mode)
{
    char *path = sp_path_join(dir, name);
    mkdirs_for(path);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        die("write", path);
    if (chmod(path, mode) < 0)
        die("chmod", path);
    return path;
}

void tu_copy_file(const char *from, const char *dir, const char *name)
{
    size_t len;
    char *bytes = tu_read(from, &len);
    char *path = tu_write(dir, name, "", 0644);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, len, f) != len || fclose(f) != 0)
        die("copy", path);
    free(path);
    free(bytes);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int tu_exists(const char *dir, const char *name)
{
    char *p = sp_path_join(dir, name);
    struct stat st;
    int ok = stat(p, &st) == 0;
    free(p);
    return ok;
}

char *tu_case_sysfs(const char *case_dir)
{
    char *root = tu_mkdtemp("golden-sysfs");
    char *spec = tu_exists(case_dir, "sysfs.txt") ? sp_path_join(case_dir, "sysfs.txt")
                                               : sp_path_join(tu_src_dir(), "tests/data/sysfs.txt");
    assert_int_equal(fakesysfs_build_from_file(root, spec), 0);
    free(spec);
    return root;
}

char *tu_case_config(const char *case_dir)
{
    char *cfg = tu_mkdtemp("golden-config");
    tu_copy_dir(case_dir, cfg, "vm.d");
    if (tu_exists(case_dir, "rom"))
        tu_copy_dir(case_dir, cfg, "rom");
    if (tu_exists(case_dir, "synopassthru.conf")) {
        char *p = sp_path_join(case_dir, "synopassthru.conf");
        char *text = tu_read(p, NULL);
        free(tu_write(cfg, "synopassthru.conf", text, 0644));
        free(text);
        free(p);
    } else {
        free(tu_write(cfg, "synopassthru.conf", "audit_log =\n", 0644));
    }
    return cfg;
}

static int age_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    struct timespec past[2];
    clock_gettime(CLOCK_REALTIME, &past[0]);
    past[0].tv_sec -= 60;
    past[1] = past[0];
    if (utimensat(AT_FDCWD, path, past, AT_SYMLINK_NOFOLLOW) < 0)
        die("utimensat", path);
    return 0;
}

void tu_age(const char *path)
{
    if (nftw(path, age_entry, 16, FTW_PHYS) < 0)
        die("nftw", path);
}

void tu_copy_dir(const char *src, const char *dst, const char *sub)
{
    char *from = sp_path_join(src, sub);
    DIR *d = opendir(from);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *file = sp_path_join(from, de->d_name);
        char *rel = sp_path_join(sub, de->d_name);
        tu_copy_file(file, dst, rel);
        free(rel);
        free(file);
    }
    if (d)
        closedir(d);
    char *made = sp_path_join(dst, sub);
    mkdir(made, 0755);
    chmod(made, 0755);
    free(made);
    free(from);
}

static void (*open_hook)(const char *path, int fd);

void tu_set_open_hook(void (*hook)(const char *path, int fd))
{
    open_hook = hook;
}

int open(const char *path, int flags, ...);
int open(const char *path, int flags, ...)
{
    static int (*real_open)(const char *, int, ...);
    if (!real_open) {
        void *sym = dlsym(RTLD_NEXT, "open");
        memcpy(&real_open, &sym, sizeof(sym));
    }
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    int fd = real_open(path, flags, mode);
    if (open_hook)
        open_hook(path, fd);
    return fd;
}

void tu_rm_rf(const char *path)
{
    if (path)
        nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_read(const char *path, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    struct sp_err err;
    if (sp_read_file(path, 64u << 20, &buf, &n, &err) < 0) {
        fprintf(stderr, "testutil: %s\n", err.msg);
        abort();
    }
    if (len)
        *len = n;
    return buf;
}

void tu_make_socket(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        die("socket", path);
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("socket", path);
    close(fd);
}

void tu_trust_current_user(void)
{
    char uid[32];
    snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
    setenv(SP_ENV_TRUSTED_UID, uid, 1);
}

const char *tu_src_dir(void)
{
    const char *src = getenv("SP_SRC");
    return src && *src ? src : ".";
}

char *tu_default_sysfs(void)
{
    char *root = tu_mkdtemp("sysfs");
    char *spec = sp_path_join(tu_src_dir(), "tests/data/sysfs.txt");
    if (fakesysfs_build_from_file(root, spec) < 0)
        die("fake sysfs", root);
    free(spec);
    return root;
}

void tu_run_mkrom(const char *const args[])
{
    const char *build = getenv("SP_BUILD");
    char *tool = NULL;
    if (asprintf(&tool, "%s/tests/mkrom", build && *build ? build : "build") < 0)
        abort();
    char *argv[8] = {tool};
    size_t n = 1;
    for (; args[n - 1]; n++) {
        if (n == 7)
            die("mkrom: more than six arguments for", tool);
        argv[n] = (char *)args[n - 1];
    }
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        execv(tool, argv);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        die("mkrom (set SP_BUILD)", tool);
    free(tool);
}

char *tu_write_rom(const char *dir, const char *name, const char *kind)
{
    char *path = tu_write(dir, name, "", 0644);
    tu_run_mkrom((const char *const[]){kind, path, NULL});
    chmod(path, 0644);
    return path;
}

char *tu_replace_all(const char *text, const char *needle, const char *replacement)
{
    size_t nl = strlen(needle), rl = strlen(replacement), count = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += nl)
        count++;
    char *out = malloc(strlen(text) + count * (rl > nl ? rl - nl : 0) + 1);
    char *w = out;
    const char *p = text, *hit;
    while ((hit = strstr(p, needle))) {
        memcpy(w, p, (size_t)(hit - p));
        w += hit - p;
        memcpy(w, replacement, rl);
        w += rl;
        p = hit + nl;
    }
    strcpy(w, p);
    return out;
}

char *tu_patch(const char *text, const struct sp_patch_dev *devs, size_t n,
               struct sp_patch_report *rep)
{
    struct sp_err err;
    xmlDocPtr doc = sp_domain_parse(text, strlen(text), &err);
    if (!doc)
        fail_msg("domain does not parse: %s", err.msg);
    if (sp_xmlpatch_apply(doc, devs, n, rep, &err) < 0)
        fail_msg("patch failed: %s", err.msg);
    char *out;
    size_t len;
    if (sp_domain_serialize(doc, text, strlen(text), &out, &len, &err) < 0)
        fail_msg("serialize failed: %s", err.msg);
    xmlFreeDoc(doc);
    return out;
}

int tu_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

size_t tu_heap_in_use(void)
{
#ifdef __SANITIZE_ADDRESS__
    /* ASan's allocator keeps its own books (mallinfo2 says nothing there):
     * the bytes asked for, without malloc's own headers. */
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}
