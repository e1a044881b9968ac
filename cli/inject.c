/* synopassthru inject systemd|dsm [--unit NAME] [--root DIR] [--remove] [--reload]:
 * systemd: a drop-in that preloads the shim into the libvirt daemon's unit
 * (on DSM the VM manager's daemon runs as pkg-libvirtd); --reload then runs
 * `systemctl daemon-reload` when the drop-in changed. dsm: a marked block in
 * the Virtualization package's insert_libvirtd_ko.sh, which runs when that
 * service starts (before its daemon), that puts the drop-in back with
 * --reload if a reboot took /etc away: systemd then starts that very daemon
 * with the shim. Both are added idempotently and removed exactly. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../config/config.h"
#include "../core/helper.h"
#include "../injector/dsm_hook.h"
#include "cli.h"

#ifndef SP_LIBDIR
#define SP_LIBDIR "/usr/local/lib/synopassthru"
#endif
#define DROPIN_NAME "50-synopassthru.conf"
#define DSM_HOOK SP_DSM_HOOK_PATH
#define BLOCK_BEGIN "# synopassthru: begin (synopassthru inject dsm --remove takes this out)\n"
#define BLOCK_END "# synopassthru: end\n"

#ifndef SP_BINDIR
#define SP_BINDIR "/usr/local/bin"
#endif

struct inject_args {
    const char *target; /* "systemd" or "dsm" */
    const char *unit, *root;
    int remove, reload;
};

static int parse(const struct sp_cli_opts *opts, struct inject_args *a)
{
    a->root = "";
    if (opts->argc < 1 ||
        (strcmp(opts->argv[0], "systemd") != 0 && strcmp(opts->argv[0], "dsm") != 0)) {
        sp_cli_error("inject: usage: synopassthru inject systemd|dsm [--unit NAME] [--root DIR] "
                     "[--remove] [--reload]");
        return -1;
    }
    a->target = opts->argv[0];
    a->unit = strcmp(a->target, "dsm") == 0 ? "pkg-libvirtd" : "libvirtd";
    for (int i = 1; i < opts->argc; i++) {
        if (strcmp(opts->argv[i], "--unit") == 0 && i + 1 < opts->argc)
            a->unit = opts->argv[++i];
        else if (strcmp(opts->argv[i], "--root") == 0 && i + 1 < opts->argc)
            a->root = opts->argv[++i];
        else if (strcmp(opts->argv[i], "--remove") == 0)
            a->remove = 1;
        else if (strcmp(opts->argv[i], "--reload") == 0)
            a->reload = 1;
        else {
            sp_cli_error("inject: unknown argument '%s'", opts->argv[i]);
            return -1;
        }
    }
    if (!a->unit[0] || strchr(a->unit, '/')) {
        sp_cli_error("inject: '%s' is not a unit name", a->unit);
        return -1;
    }
    if (a->reload && (a->root[0] || strcmp(a->target, "systemd") != 0)) {
        sp_cli_error("inject: --reload tells the running systemd; it goes with `inject systemd` "
                     "and no --root");
        return -1;
    }
    return 0;
}

static char *dropin_text(const struct sp_cli_opts *opts)
{
    char *text = NULL;
    if (asprintf(&text, "# Preloads SynoPassthru into this unit. Written by `synopassthru inject "
                        "systemd`;\n# `synopassthru inject systemd --remove` takes it out.\n"
                        "[Service]\nEnvironment=LD_PRELOAD=%s/libsynopassthru.so\n"
                        "Environment=%s=%s\n", SP_LIBDIR, SP_ENV_CONFIG_DIR,
                 sp_config_dir_choose(opts->config_dir)) < 0)
        return NULL;
    return text;
}

/* systemctl daemon-reload, as a child with a deadline (no shell). */
static int reload_systemd(void)
{
    static const char *const candidates[] = {"/usr/bin/systemctl", "/bin/systemctl"};
    const char *systemctl = NULL;
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]) && !systemctl; i++)
        if (access(candidates[i], X_OK) == 0)
            systemctl = candidates[i];
    if (!systemctl) {
        sp_cli_error("inject: --reload: no systemctl in /usr/bin or /bin");
        return SP_EXIT_INTERNAL;
    }
    char *argv[] = {(char *)systemctl, "daemon-reload", NULL};
    static struct sp_helper_result res;
    struct sp_err err;
    if (sp_helper_run(argv, 120000, &res, &err) < 0) {
        sp_cli_error("inject: %s daemon-reload: %s", systemctl, err.msg);
        return SP_EXIT_INTERNAL;
    }
    if (res.exit_code != 0) {
        sp_cli_error("inject: %s daemon-reload failed (exit %d): %s", systemctl, res.exit_code,
                     res.errout);
        return SP_EXIT_INTERNAL;
    }
    return SP_EXIT_OK;
}

/* What to do next, once the drop-in changed. */
static int after_change(const struct inject_args *a)
{
    if (!a->reload) {
        printf("then: systemctl daemon-reload && systemctl restart %s.service\n", a->unit);
        return SP_EXIT_OK;
    }
    int code = reload_systemd();
    if (code == SP_EXIT_OK)
        printf("ran systemctl daemon-reload; the next start of %s.service %s the shim\n", a->unit,
               a->remove ? "runs without" : "has");
    return code;
}

static int add(const char *dir, const char *path, const char *text, const struct inject_args *a)
{
    char *old = NULL;
    struct sp_err err;
    if (sp_read_file(path, 65536, &old, NULL, NULL) == 0 && strcmp(old, text) == 0) {
        printf("%s is already in place\n", path);
        free(old);
        return SP_EXIT_OK;
    }
    free(old);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        sp_cli_error("inject: %s: %s", dir, strerror(errno));
        return SP_EXIT_INTERNAL;
    }
    if (sp_write_file_atomic(path, text, strlen(text), 0644, &err) < 0) {
        sp_cli_error("inject: %s", err.msg);
        return SP_EXIT_INTERNAL;
    }
    printf("wrote %s\n", path);
    return after_change(a);
}

static int drop(const char *dir, const char *path, const struct inject_args *a)
{
    if (unlink(path) < 0) {
        if (errno == ENOENT) {
            printf("%s is not there\n", path);
            return SP_EXIT_OK;
        }
        sp_cli_error("inject: %s: %s", path, strerror(errno));
        return SP_EXIT_INTERNAL;
    }
    rmdir(dir); /* only when empty: other drop-ins stay */
    printf("removed %s\n", path);
    return after_change(a);
}

/* The hook script with our block taken out (the text is otherwise kept to
 * the byte). */
static char *without_block(const char *text)
{
    char *out = strdup(text);
    char *begin = out ? strstr(out, BLOCK_BEGIN) : NULL;
    char *end = begin ? strstr(begin, BLOCK_END) : NULL;
    if (end)
        memmove(begin, end + strlen(BLOCK_END), strlen(end + strlen(BLOCK_END)) + 1);
    return out;
}

static int edit_dsm_hook(const struct sp_cli_opts *opts, const struct inject_args *a)
{
    char *path = NULL, *text = NULL, *next = NULL;
    struct sp_err err;
    if (asprintf(&path, "%s%s", a->root, DSM_HOOK) < 0)
        return SP_EXIT_INTERNAL;
    if (sp_read_file(path, 1u << 20, &text, NULL, &err) < 0) {
        sp_cli_error("inject: %s (is the Virtualization package installed?)", err.msg);
        free(path);
        return SP_EXIT_INPUT;
    }
    struct stat st;
    mode_t mode = stat(path, &st) == 0 ? st.st_mode & 07777 : 0755;
    char *kept = without_block(text);
    int code = SP_EXIT_OK;
    const char *config = sp_config_dir_choose(opts->config_dir);
    if (!kept ||
        (!a->remove && asprintf(&next, "%s%s%s/synopassthru --config '%s' inject systemd --unit "
                                       "%s --reload >/dev/null 2>&1 || true\n" BLOCK_END, kept,
                                BLOCK_BEGIN, SP_BINDIR, config, a->unit) < 0)) {
        code = SP_EXIT_INTERNAL;
    } else if (strcmp(a->remove ? kept : next, text) == 0) {
        printf("%s: nothing to change\n", path);
    } else if (sp_write_file_atomic(path, a->remove ? kept : next, strlen(a->remove ? kept : next), mode, &err) < 0) {
        sp_cli_error("inject: %s", err.msg);
        code = SP_EXIT_INTERNAL;
    } else {
        printf("%s %s\n", a->remove ? "removed our block from" : "added our block to", path);
    }
    free(next);
    free(kept);
    free(text);
    free(path);
    return code;
}

int sp_cmd_inject(const struct sp_cli_opts *opts)
{
    struct inject_args a = {0};
    if (parse(opts, &a) < 0)
        return SP_EXIT_USAGE;
    if (strcmp(a.target, "dsm") == 0)
        return edit_dsm_hook(opts, &a);
    char *dir = NULL, *path = NULL, *text = dropin_text(opts);
    if (!text || asprintf(&dir, "%s/etc/systemd/system/%s.service.d", a.root, a.unit) < 0 ||
        asprintf(&path, "%s/%s", dir, DROPIN_NAME) < 0) {
        sp_cli_error("inject: out of memory");
        return SP_EXIT_INTERNAL;
    }
    int code = a.remove ? drop(dir, path, &a) : add(dir, path, text, &a);
    free(text);
    free(dir);
    free(path);
    return code;
}
