/* Fuzzes sp_settings_parse (synopassthru.conf, "key = value" lines) over the
 * defaults. Property: no memory errors, leaks or UB on any input, and after a
 * successful parse audit_log/rom_dir are set and every path set is absolute. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../config/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const config_dir = "/etc/synopassthru";
    struct sp_settings s;
    if (sp_settings_defaults(&s, config_dir) < 0)
        return 0;
    struct sp_err err;
    sp_err_clear(&err);
    int rc = sp_settings_parse(&s, SP_CONF_FILE, (const char *)data, size, config_dir, &err);
    if (rc == 0) {
        if (!s.audit_log || !s.rom_dir)
            abort();
        if (s.audit_log[0] != '\0' && s.audit_log[0] != '/')
            abort();
        if (s.rom_dir[0] != '/')
            abort();
        if (s.sysfs_root && s.sysfs_root[0] != '/')
            abort();
        struct sp_settings copy;
        if (sp_settings_copy(&copy, &s) == 0) {
            if (strcmp(copy.audit_log, s.audit_log) != 0 || strcmp(copy.rom_dir, s.rom_dir) != 0)
                abort();
            sp_settings_free(&copy);
        }
    } else {
        volatile size_t n = strlen(err.msg);
        (void)n;
    }
    sp_settings_free(&s);
    return 0;
}
