#include "settings.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/fsutil.h"

enum key_id {
    KEY_AUDIT_LOG,
    KEY_SYSFS_ROOT,
    KEY_PROC_ROOT,
    KEY_ROM_DIR,
    KEY_VFIO_HELPER,
    KEY_STATE_DIR,
    KEY_HELPER_TIMEOUT_MS,
    KEY_ROM_CHECK,
    KEY_COUNT
};

static const char *const key_names[KEY_COUNT] = {
    [KEY_AUDIT_LOG] = "audit_log",
    [KEY_SYSFS_ROOT] = "sysfs_root",
    [KEY_PROC_ROOT] = "proc_root",
    [KEY_ROM_DIR] = "rom_dir",
    [KEY_VFIO_HELPER] = "vfio_helper",
    [KEY_STATE_DIR] = "state_dir",
    [KEY_HELPER_TIMEOUT_MS] = "helper_timeout_ms",
    [KEY_ROM_CHECK] = "rom_check",
};

int sp_settings_defaults(struct sp_settings *s, const char *config_dir)
{
    memset(s, 0, sizeof(*s));
    s->audit_log = strdup(SP_DEFAULT_AUDIT_LOG);
    s->rom_dir = sp_path_join(config_dir, "rom");
    s->vfio_helper = strdup(SP_DEFAULT_VFIO_HELPER);
    s->state_dir = strdup(SP_DEFAULT_STATE_DIR);
    s->helper_timeout_ms = SP_DEFAULT_HELPER_TIMEOUT_MS;
    if (!s->audit_log || !s->rom_dir || !s->vfio_helper || !s->state_dir) {
        sp_settings_free(s);
        return -1;
    }
    return 0;
}

static char **field_of(struct sp_settings *s, enum key_id key)
{
    switch (key) {
    case KEY_AUDIT_LOG: return &s->audit_log;
    case KEY_SYSFS_ROOT: return &s->sysfs_root;
    case KEY_PROC_ROOT: return &s->proc_root;
    case KEY_ROM_DIR: return &s->rom_dir;
    case KEY_VFIO_HELPER: return &s->vfio_helper;
    case KEY_STATE_DIR: return &s->state_dir;
    default: return NULL;
    }
}

static char *trim(char *start, char *end)
{
    while (start < end && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    *end = '\0';
    return start;
}

static int lookup_key(const char *name)
{
    for (int k = 0; k < KEY_COUNT; k++)
        if (strcmp(key_names[k], name) == 0)
            return k;
    return -1;
}

/* A value for a path key: absolute, or relative to the config dir for
 * rom_dir; audit_log may be empty (disabled). */
static int set_path_value(struct sp_settings *s, enum key_id key, const char *value,
                          const char *config_dir, const char *where, struct sp_err *err)
{
    char *copy;
    if (key == KEY_AUDIT_LOG && value[0] == '\0')
        copy = strdup("");
    else if (value[0] == '\0')
        return sp_err_set(err, "%s: %s needs a value", where, key_names[key]);
    else if (value[0] == '/')
        copy = strdup(value);
    else if (key == KEY_ROM_DIR)
        copy = sp_path_join(config_dir, value);
    else
        return sp_err_set(err, "%s: %s must be an absolute path, not '%s'", where,
                          key_names[key], value);
    if (!copy)
        return sp_err_set(err, "out of memory");
    char **field = field_of(s, key);
    free(*field);
    *field = copy;
    return 0;
}

static int set_timeout(struct sp_settings *s, const char *value, const char *where,
                       struct sp_err *err)
{
    char *end = NULL;
    long v = strtol(value, &end, 10);
    if (!*value || *end || v < 100 || v > 600000)
        return sp_err_set(err, "%s: helper_timeout_ms must be a number of milliseconds from 100 "
                               "to 600000, not '%s'", where, value);
    s->helper_timeout_ms = (int)v;
    return 0;
}

static int set_rom_check(struct sp_settings *s, const char *value, const char *where,
                         struct sp_err *err)
{
    static const char *const names[] = {[SP_ROM_CHECK_REFUSE] = "refuse",
                                        [SP_ROM_CHECK_WARN] = "warn", [SP_ROM_CHECK_OFF] = "off"};
    for (int i = 0; i < 3; i++)
        if (strcmp(value, names[i]) == 0) {
            s->rom_check = i;
            return 0;
        }
    return sp_err_set(err, "%s: rom_check must be refuse, warn or off, not '%s'", where, value);
}

static int parse_line(struct sp_settings *s, char *line, const char *where,
                      const char *config_dir, unsigned *seen, struct sp_err *err)
{
    char *end = line + strlen(line);
    char *text = trim(line, end);
    if (*text == '\0' || *text == '#')
        return 0;
    char *eq = strchr(text, '=');
    if (!eq)
        return sp_err_set(err, "%s: expected 'key = value', got '%s'", where, text);
    char *value = trim(eq + 1, text + strlen(text));
    char *key = trim(text, eq);
    int k = lookup_key(key);
    if (k < 0)
        return sp_err_set(err, "%s: unknown key '%s' (known: audit_log, sysfs_root, proc_root, "
                               "rom_dir, vfio_helper, state_dir, helper_timeout_ms, rom_check)", where, key);
    if (*seen & (1u << k))
        return sp_err_set(err, "%s: key '%s' is set twice", where, key);
    *seen |= 1u << k;
    if (k == KEY_HELPER_TIMEOUT_MS)
        return set_timeout(s, value, where, err);
    if (k == KEY_ROM_CHECK)
        return set_rom_check(s, value, where, err);
    return set_path_value(s, (enum key_id)k, value, config_dir, where, err);
}

int sp_settings_parse(struct sp_settings *s, const char *name, const char *buf,
                      size_t len, const char *config_dir, struct sp_err *err)
{
    unsigned seen = 0;
    size_t lineno = 0, pos = 0;
    while (pos < len) {
        size_t start = pos;
        while (pos < len && buf[pos] != '\n')
            pos++;
        size_t llen = pos - start;
        pos++; /* skip '\n' */
        lineno++;
        char where[512];
        snprintf(where, sizeof(where), "%s:%zu", name, lineno);
        if (memchr(buf + start, '\0', llen))
            return sp_err_set(err, "%s: NUL byte in line", where);
        char *line = strndup(buf + start, llen);
        if (!line)
            return sp_err_set(err, "out of memory");
        int rc = parse_line(s, line, where, config_dir, &seen, err);
        free(line);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int sp_settings_copy(struct sp_settings *dst, const struct sp_settings *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->audit_log = src->audit_log ? strdup(src->audit_log) : NULL;
    dst->sysfs_root = src->sysfs_root ? strdup(src->sysfs_root) : NULL;
    dst->proc_root = src->proc_root ? strdup(src->proc_root) : NULL;
    dst->rom_dir = src->rom_dir ? strdup(src->rom_dir) : NULL;
    dst->vfio_helper = src->vfio_helper ? strdup(src->vfio_helper) : NULL;
    dst->state_dir = src->state_dir ? strdup(src->state_dir) : NULL;
    dst->helper_timeout_ms = src->helper_timeout_ms;
    dst->rom_check = src->rom_check;
    if ((src->audit_log && !dst->audit_log) || (src->sysfs_root && !dst->sysfs_root) ||
        (src->proc_root && !dst->proc_root) ||
        (src->rom_dir && !dst->rom_dir) || (src->vfio_helper && !dst->vfio_helper) ||
        (src->state_dir && !dst->state_dir)) {
        sp_settings_free(dst);
        return -1;
    }
    return 0;
}

void sp_settings_free(struct sp_settings *s)
{
    free(s->audit_log);
    free(s->sysfs_root);
    free(s->proc_root);
    free(s->rom_dir);
    free(s->vfio_helper);
    free(s->state_dir);
    memset(s, 0, sizeof(*s));
}
