#include "dropin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../config/config.h"
#include "../core/helper.h"

int sp_unit_name_ok(const char *unit)
{
    if (!unit[0] || strlen(unit) > 200)
        return 0;
    for (const char *p = unit; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_.@-", *p))
            return 0;
    return 1;
}

char *sp_dropin_dir(const char *root, const char *unit)
{
    char *dir = NULL;
    if (asprintf(&dir, "%s/etc/systemd/system/%s.service.d", root, unit) < 0)
        return NULL;
    return dir;
}

char *sp_dropin_path(const char *root, const char *unit)
{
    char *path = NULL;
    if (asprintf(&path, "%s/etc/systemd/system/%s.service.d/%s", root, unit, SP_DROPIN_NAME) < 0)
        return NULL;
    return path;
}

/* NAME=VALUE as one double-quoted Environment= word: systemd undoes C-style
 * escapes in quotes, and expands %-specifiers everywhere. */
static int append_environment(FILE *f, const char *name, const char *value, struct sp_err *err)
{
    fprintf(f, "Environment=\"%s=", name);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return sp_err_set(err, "%s %s holds a control character: a drop-in cannot carry it",
                              name, value);
        if (*p == '"' || *p == '\\')
            fputc('\\', f);
        if (*p == '%')
            fputc('%', f);
        fputc(*p, f);
    }
    fputs("\"\n", f);
    return 0;
}

char *sp_dropin_text(const char *shim, const char *config_dir, struct sp_err *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        sp_err_set(err, "out of memory");
        return NULL;
    }
    fputs("# Preloads SynoPassthru into this unit. Written by `synopassthru setup`\n"
          "# (or `inject systemd`); `synopassthru setup --remove` takes it out.\n"
          "[Service]\n", f);
    int rc = append_environment(f, "LD_PRELOAD", shim, err);
    if (rc == 0)
        rc = append_environment(f, SP_ENV_CONFIG_DIR, config_dir, err);
    return sp_memstream_done(f, &text, rc, err);
}

int sp_dropin_put(const char *root, const char *unit, const char *text, enum sp_change *change,
                  struct sp_err *err)
{
    *change = SP_UNCHANGED;
    char *dir = sp_dropin_dir(root, unit), *path = sp_dropin_path(root, unit), *old = NULL;
    int rc = 0;
    if (!dir || !path) {
        rc = sp_err_set(err, "out of memory");
    } else if (sp_read_file(path, 65536, &old, NULL, NULL) == 0 && strcmp(old, text) == 0) {
        rc = 0;
    } else if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        rc = sp_err_set(err, "%s: %s", dir, strerror(errno));
    } else if (sp_write_file_atomic(path, text, strlen(text), 0644, err) == 0) {
        *change = SP_CHANGED;
    } else {
        rc = -1;
    }
    free(old);
    free(dir);
    free(path);
    return rc;
}

int sp_dropin_take(const char *root, const char *unit, enum sp_change *change,
                   struct sp_err *err)
{
    *change = SP_UNCHANGED;
    char *dir = sp_dropin_dir(root, unit), *path = sp_dropin_path(root, unit);
    int rc = 0;
    if (!dir || !path) {
        rc = sp_err_set(err, "out of memory");
    } else if (unlink(path) == 0) {
        *change = SP_CHANGED;
        rmdir(dir); /* only when empty: other drop-ins stay */
    } else if (errno != ENOENT) {
        rc = sp_err_set(err, "%s: %s", path, strerror(errno));
    }
    free(dir);
    free(path);
    return rc;
}

int sp_systemd_reload(struct sp_err *err)
{
    static const char *const candidates[] = {"/usr/bin/systemctl", "/bin/systemctl"};
    const char *systemctl = NULL;
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]) && !systemctl; i++)
        if (access(candidates[i], X_OK) == 0)
            systemctl = candidates[i];
    if (!systemctl)
        return sp_err_set(err, "no systemctl in /usr/bin or /bin to run daemon-reload");
    char *argv[] = {(char *)systemctl, "daemon-reload", NULL};
    static struct sp_helper_result res;
    if (sp_child_run("systemctl daemon-reload", argv, sp_clean_env, 120000, &res, err) < 0)
        return -1;
    if (res.exit_code != 0)
        return sp_err_set(err, "%s daemon-reload failed (exit %d): %s", systemctl, res.exit_code,
                          res.errout);
    return 0;
}
