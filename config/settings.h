/* settings: the global file synopassthru.conf ("key = value", '#' comments).
 * Owns the known keys and their defaults; an unknown key, a repeated key or
 * a line without '=' is an error naming the file and line. Never touches
 * anything but the buffer it is given. */
#ifndef SP_SETTINGS_H
#define SP_SETTINGS_H

#include <stddef.h>

#include "../common/err.h"

#define SP_CONF_FILE "synopassthru.conf"
#define SP_DEFAULT_AUDIT_LOG "/var/log/synopassthru-audit.log"

#ifndef SP_LIBEXECDIR
#define SP_LIBEXECDIR "/usr/local/libexec/synopassthru"
#endif
#define SP_DEFAULT_VFIO_HELPER SP_LIBEXECDIR "/synopassthru-vfio"
#define SP_DEFAULT_HELPER_TIMEOUT_MS 10000
#define SP_DEFAULT_STATE_DIR "/run/synopassthru"

enum sp_rom_check {
    SP_ROM_CHECK_REFUSE, /* a ROM that does not parse or fit refuses the start */
    SP_ROM_CHECK_WARN,   /* the start goes on; the audit record has the warning */
    SP_ROM_CHECK_OFF,
};

struct sp_settings {
    char *audit_log;       /* absolute path; "" disables the audit log */
    char *sysfs_root;      /* NULL: environment or /sys */
    char *proc_root;       /* NULL: environment or /proc */
    char *rom_dir;         /* absolute; default <config dir>/rom */
    char *vfio_helper;     /* absolute path of synopassthru-vfio */
    char *state_dir;       /* absolute; who holds which device */
    int helper_timeout_ms; /* the helper is killed after this long */
    int rom_check;         /* enum sp_rom_check */
};

int sp_settings_defaults(struct sp_settings *s, const char *config_dir);

/* Parses buf (the content of file `name`) over defaults already set in s. */
int sp_settings_parse(struct sp_settings *s, const char *name, const char *buf,
                      size_t len, const char *config_dir, struct sp_err *err);

int sp_settings_copy(struct sp_settings *dst, const struct sp_settings *src);
void sp_settings_free(struct sp_settings *s);

#endif
