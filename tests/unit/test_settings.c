/* settings: synopassthru.conf keys, defaults and errors with file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../config/settings.h"

static int parse(struct sp_settings *s, const char *text, struct sp_err *err)
{
    assert_int_equal(sp_settings_defaults(s, "/cfg"), 0);
    return sp_settings_parse(s, "/cfg/synopassthru.conf", text, strlen(text), "/cfg", err);
}

static void defaults_without_a_file(void **state)
{
    (void)state;
    struct sp_settings s;
    assert_int_equal(sp_settings_defaults(&s, "/cfg/"), 0);
    assert_string_equal(s.audit_log, SP_DEFAULT_AUDIT_LOG);
    assert_string_equal(s.rom_dir, "/cfg/rom");
    assert_null(s.sysfs_root);
    sp_settings_free(&s);
}

static void reads_every_key_with_comments_and_spaces(void **state)
{
    (void)state;
    struct sp_settings s;
    struct sp_err err;
    assert_int_equal(parse(&s, "# comment\n\n  audit_log =  /var/log/a.log  \n"
                               "sysfs_root=/fake/sys\n\trom_dir = roms\n   # indented\n", &err), 0);
    assert_string_equal(s.audit_log, "/var/log/a.log");
    assert_string_equal(s.sysfs_root, "/fake/sys");
    assert_string_equal(s.rom_dir, "/cfg/roms");
    sp_settings_free(&s);
}

static void vfio_and_rom_keys(void **state)
{
    (void)state;
    struct sp_settings s;
    struct sp_err err;
    assert_int_equal(parse(&s, "vfio_helper = /opt/h\nstate_dir = /run/x\n"
                               "helper_timeout_ms = 2500\nrom_check = warn\n", &err), 0);
    assert_string_equal(s.vfio_helper, "/opt/h");
    assert_string_equal(s.state_dir, "/run/x");
    assert_int_equal(s.helper_timeout_ms, 2500);
    assert_int_equal(s.rom_check, SP_ROM_CHECK_WARN);
    sp_settings_free(&s);
    assert_int_equal(sp_settings_defaults(&s, "/cfg"), 0);
    assert_int_equal(s.rom_check, SP_ROM_CHECK_REFUSE);
    assert_int_equal(s.helper_timeout_ms, 10000);
    sp_settings_free(&s);
}

static void empty_audit_log_disables_it(void **state)
{
    (void)state;
    struct sp_settings s;
    struct sp_err err;
    assert_int_equal(parse(&s, "audit_log =\n", &err), 0);
    assert_string_equal(s.audit_log, "");
    sp_settings_free(&s);
}

static void expect_error(const char *text, const char *message)
{
    struct sp_settings s;
    struct sp_err err;
    assert_int_equal(parse(&s, text, &err), -1);
    if (!strstr(err.msg, message))
        fail_msg("expected '%s' in '%s'", message, err.msg);
    sp_settings_free(&s);
}

static void errors_name_file_and_line(void **state)
{
    (void)state;
    expect_error("audit_log = /a\nbogus = 1\n", "/cfg/synopassthru.conf:2: unknown key 'bogus'");
    expect_error("\n\nno equals sign\n", "/cfg/synopassthru.conf:3: expected 'key = value'");
    expect_error("rom_dir = /a\nrom_dir = /b\n", ":2: key 'rom_dir' is set twice");
    expect_error("audit_log = relative.log\n", ":1: audit_log must be an absolute path");
    expect_error("sysfs_root =\n", ":1: sysfs_root needs a value");
    expect_error("rom_check = maybe\n", ":1: rom_check must be refuse, warn or off, not 'maybe'");
    expect_error("helper_timeout_ms = 5\n", ":1: helper_timeout_ms must be a number");
    expect_error("helper_timeout_ms = 10s\n", ":1: helper_timeout_ms must be a number");
}

static void nul_byte_is_an_error(void **state)
{
    (void)state;
    struct sp_settings s;
    struct sp_err err;
    assert_int_equal(sp_settings_defaults(&s, "/cfg"), 0);
    static const char text[] = "rom_dir = /a\0b\n";
    assert_int_equal(sp_settings_parse(&s, "f", text, sizeof(text) - 1, "/cfg", &err), -1);
    assert_non_null(strstr(err.msg, "f:1: NUL byte"));
    sp_settings_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_without_a_file),
        cmocka_unit_test(reads_every_key_with_comments_and_spaces),
        cmocka_unit_test(vfio_and_rom_keys),
        cmocka_unit_test(empty_audit_log_disables_it),
        cmocka_unit_test(errors_name_file_and_line),
        cmocka_unit_test(nul_byte_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
