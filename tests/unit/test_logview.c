/* logview: --since forms, record times, the VM filter (name, UUID in any
 * form, title), bad lines noted with file and line, rotated files read
 * oldest first (compressed ones noted), and the exact line a start prints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../cli/logview.h"
#include "testutil.h"

#define UUID "591328d9-88d5-42aa-9551-bb793c3330cf"
#define REC_OK                                                                                   \
    "{\"time\":\"2026-11-25T12:06:45.339Z\",\"event\":\"start\",\"api\":\"virDomainCreateXML\","  \
    "\"vm\":{\"name\":\"" UUID "\",\"uuid\":\"" UUID "\",\"title\":\"Living room PC\"},"         \
    "\"snippets\":[\"/c/vm.d/a.xml\"],\"devices\":[{\"address\":\"0000:08:00.0\",\"vendor\":"     \
    "\"1002\",\"product\":\"1638\"},{\"address\":\"0000:08:00.1\",\"vendor\":\"1002\","           \
    "\"product\":\"1637\"}],\"result\":\"ok\",\"reason\":null,\"warnings\":[\"no reset\"],"       \
    "\"added\":[\"<hostdev mode=\\\"subsystem\\\">\\n  <source/>\\n</hostdev>\"],"                \
    "\"video\":[\"removed <video/>\"],\"features\":[],\"cpu\":[],\"already_present\":0,"          \
    "\"bound\":[],\"libvirt\":{\"ok\":true,\"error\":null,\"note\":null}}"
#define REC_REFUSED                                                                             \
    "{\"time\":\"2026-11-26T08:00:00.000Z\",\"event\":\"start\",\"vm\":{\"name\":\"nas-vm\","    \
    "\"uuid\":null,\"title\":null},\"devices\":[],\"result\":\"refused\",\"reason\":\"no IOMMU\"," \
    "\"warnings\":[],\"libvirt\":null}"
#define REC_BIND                                                                                \
    "{\"time\":\"2026-11-25T12:06:45.100Z\",\"event\":\"bind\",\"vm\":{\"name\":\"" UUID          \
    "\",\"uuid\":\"" UUID "\",\"title\":\"Living room PC\"},\"bound\":[\"bound\"]}"
#define REC_LIBVIRT                                                                             \
    "{\"time\":\"2026-11-27T10:00:00Z\",\"event\":\"start\",\"vm\":{\"name\":\"w\"},"             \
    "\"devices\":[{\"kind\":\"raw\"}],\"result\":\"ok\",\"reason\":null,\"warnings\":[],"         \
    "\"libvirt\":{\"ok\":false,\"error\":\"no memory\",\"note\":null}}"

static int utc(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    return 0;
}

static void since_forms(void **state)
{
    (void)state;
    time_t t, now = 1800000000;
    struct sp_err err;
    assert_int_equal(sp_log_parse_since("30m", now, &t, &err), 0);
    assert_int_equal(now - t, 1800);
    assert_int_equal(sp_log_parse_since("12h", now, &t, &err), 0);
    assert_int_equal(now - t, 12 * 3600);
    assert_int_equal(sp_log_parse_since("2d", now, &t, &err), 0);
    assert_int_equal(now - t, 2 * 86400);
    assert_int_equal(sp_log_parse_since("1w", now, &t, &err), 0);
    assert_int_equal(now - t, 7 * 86400);
    assert_int_equal(sp_log_parse_since("2026-11-30", now, &t, &err), 0);
    assert_int_equal(t, 1795996800); /* 2026-11-30T00:00:00Z */
    assert_int_equal(sp_log_parse_since("2026-11-30T12:00", now, &t, &err), 0);
    assert_int_equal(t, 1795996800 + 12 * 3600);
    assert_int_equal(sp_log_parse_since("2026-11-30 12:00:30", now, &t, &err), 0);
    assert_int_equal(t, 1795996800 + 12 * 3600 + 30);
    setenv("TZ", "UTC-2", 1); /* local time two hours ahead of UTC */
    tzset();
    assert_int_equal(sp_log_parse_since("2026-11-30T12:00", now, &t, &err), 0);
    assert_int_equal(t, 1795996800 + 10 * 3600);
    assert_int_equal(sp_log_parse_since("2026-11-30T12:00Z", now, &t, &err), 0);
    assert_int_equal(t, 1795996800 + 12 * 3600);
    utc(NULL);
    static const char *const bad[] = {"", "2d ago", "d", "-2d", "2x", "2026-13-01", "2026-11-3",
                                      "2026-11-30T1", "2026-11-30T12:00+01", "yesterday",
                                      "2026-11-30T25:00", "2026- 1-30", "2026-+1-30", "2026-11-30T1:00",
                                      "2026-11-30T12: 0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (sp_log_parse_since(bad[i], now, &t, &err) == 0)
            fail_msg("took '%s'", bad[i]);
        assert_non_null(strstr(err.msg, "is not a time"));
    }
}

static struct sp_log read_text(const char *text, const struct sp_log_filter *f)
{
    struct sp_log log = {0};
    assert_int_equal(sp_log_add_text(&log, "audit.log", text, strlen(text), f), 0);
    return log;
}

static void bad_lines_noted(void **state)
{
    (void)state;
    struct sp_log_filter all = {0};
    struct sp_log log = read_text(REC_OK "\n{\"time\":\"2026-11-25T1\n\n[1]\n{\"vm\":{}}\n"
                                         "{\"time\":\"2026-11-25T12:00:00Z\"}\n" REC_REFUSED,
                                  &all);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.n_notes, 4);
    assert_string_equal(log.notes[0],
                        "audit.log:2: not a valid record: unterminated string at byte 21");
    assert_string_equal(log.notes[1], "audit.log:4: not a valid record: not a JSON object");
    assert_string_equal(log.notes[2], "audit.log:5: not a valid record: no \"time\" in the form "
                                      "2026-11-25T12:06:45.339Z");
    assert_string_equal(log.notes[3], "audit.log:6: not a valid record: no \"vm\" object");
    sp_log_free(&log);
}

static void vm_filter(void **state)
{
    (void)state;
    static const char *const same_vm[] = {"Living room PC", UUID,
                                          "591328D988D542AA9551BB793C3330CF"};
    for (size_t i = 0; i < sizeof(same_vm) / sizeof(same_vm[0]); i++) {
        struct sp_log_filter f = {.vm = same_vm[i]};
        struct sp_log log = read_text(REC_OK "\n" REC_REFUSED "\n" REC_BIND "\n", &f);
        assert_int_equal(log.n, 2);
        assert_string_equal(sp_jv_get_str(log.records[1], "event"), "bind");
        sp_log_free(&log);
    }
    struct sp_log_filter by_name = {.vm = "nas-vm"};
    struct sp_log log = read_text(REC_OK "\n" REC_REFUSED "\n", &by_name);
    assert_int_equal(log.n, 1);
    assert_string_equal(sp_jv_get_str(log.records[0], "result"), "refused");
    sp_log_free(&log);
    struct sp_log_filter none = {.vm = "living room pc"}; /* titles are exact */
    log = read_text(REC_OK "\n", &none);
    assert_int_equal(log.n, 0);
    sp_log_free(&log);
}

static void since_filter(void **state)
{
    (void)state;
    struct sp_log_filter f = {.has_since = 1};
    struct sp_err err;
    assert_int_equal(sp_log_parse_since("2026-11-26", 0, &f.since, &err), 0);
    struct sp_log log = read_text(REC_OK "\n" REC_REFUSED "\n" REC_LIBVIRT "\n", &f);
    assert_int_equal(log.n, 2);
    assert_string_equal(sp_jv_get_str(log.records[0], "result"), "refused");
    sp_log_free(&log);
    assert_int_equal(sp_log_parse_since("2026-11-26T08:00:00", 0, &f.since, &err), 0);
    log = read_text(REC_REFUSED "\n", &f); /* at the very second: kept */
    assert_int_equal(log.n, 1);
    sp_log_free(&log);
}

static void count_record(const struct sp_jv *rec, void *ctx)
{
    assert_non_null(sp_jv_get_str(rec, "time"));
    ++*(int *)ctx;
}

/* With a function for each record, none is kept: each is handed over in
 * order as it is read; notes are kept as before. */
static void records_handed_over(void **state)
{
    (void)state;
    int seen = 0;
    struct sp_log log = {.each = count_record, .each_ctx = &seen};
    struct sp_log_filter all = {0};
    const char *text = REC_OK "\nnot json\n" REC_REFUSED "\n" REC_BIND "\n";
    assert_int_equal(sp_log_add_text(&log, "audit.log", text, strlen(text), &all), 0);
    assert_int_equal(seen, 3);
    assert_int_equal(log.n, 0);
    assert_null(log.records);
    assert_int_equal(log.n_notes, 1);
    sp_log_free(&log);
}

static char *printed(const char *text, int diff)
{
    struct sp_log_filter all = {0};
    struct sp_log log = read_text(text, &all);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    for (size_t i = 0; i < log.n; i++)
        sp_log_print(f, log.records[i], diff);
    fclose(f);
    sp_log_free(&log);
    return out;
}

static void one_line_per_start(void **state)
{
    (void)state;
    char *out = printed(REC_BIND "\n" REC_OK "\n" REC_REFUSED "\n" REC_LIBVIRT "\n", 0);
    assert_string_equal(out,
                        "2026-11-25 12:06:45  Living room PC  ok  0000:08:00.0 [1002:1638], "
                        "0000:08:00.1 [1002:1637]; warning: no reset\n"
                        "2026-11-26 08:00:00  nas-vm  refused  no devices; reason: no IOMMU\n"
                        "2026-11-27 10:00:00  w  libvirt failed  raw <hostdev>; "
                        "libvirt: no memory\n");
    free(out);
    setenv("TZ", "UTC-2", 1);
    tzset();
    out = printed(REC_REFUSED, 0);
    assert_non_null(strstr(out, "2026-11-26 10:00:00  nas-vm"));
    free(out);
    utc(NULL);
}

static void diff_lines(void **state)
{
    (void)state;
    char *out = printed(REC_OK, 1);
    assert_non_null(strstr(out, "; warning: no reset\n"
                                "    added: <hostdev mode=\"subsystem\">\n"
                                "             <source/>\n"
                                "           </hostdev>\n"
                                "    video: removed <video/>\n"));
    free(out);
}

static void rotated_files(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("logview");
    char *live = tu_write(dir, "audit.log", REC_LIBVIRT "\n", 0600);
    free(tu_write(dir, "audit.log.1", REC_REFUSED "\n", 0600));
    free(tu_write(dir, "audit.log.10", REC_OK "\n", 0600));
    free(tu_write(dir, "audit.log.2.gz", "\x1f\x8b", 0600));
    free(tu_write(dir, "audit.log.old", "junk", 0600));
    free(tu_write(dir, "audit.log.3x", "junk", 0600));
    struct sp_log log = {0};
    struct sp_log_filter all = {0};
    struct sp_err err;
    assert_int_equal(sp_log_read(&log, live, &all, &err), 0);
    assert_int_equal(log.n, 3);
    assert_string_equal(sp_jv_get_str(log.records[0], "time"), "2026-11-25T12:06:45.339Z");
    assert_string_equal(sp_jv_get_str(log.records[1], "result"), "refused");
    assert_string_equal(sp_jv_get_str(log.records[2], "time"), "2026-11-27T10:00:00Z");
    assert_int_equal(log.n_notes, 1);
    assert_non_null(strstr(log.notes[0], "audit.log.2.gz: skipped: compressed"));
    sp_log_free(&log);
    /* Right after a rotation the live file may be missing: the copies do. */
    assert_int_equal(unlink(live), 0);
    assert_int_equal(sp_log_read(&log, live, &all, &err), 0);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.n_notes, 2);
    assert_non_null(strstr(log.notes[1], "audit.log: skipped:"));
    sp_log_free(&log);
    tu_rm_rf(dir);
    free(dir);
    /* No file at all: an error naming the path. */
    assert_int_equal(sp_log_read(&log, "/nonexistent-dir/audit.log", &all, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent-dir/audit.log"));
    sp_log_free(&log);
    free(live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(since_forms),
        cmocka_unit_test(bad_lines_noted),
        cmocka_unit_test(vm_filter),
        cmocka_unit_test(since_filter),
        cmocka_unit_test(one_line_per_start),
        cmocka_unit_test(diff_lines),
        cmocka_unit_test(rotated_files),
        cmocka_unit_test(records_handed_over),
    };
    return cmocka_run_group_tests(tests, utc, NULL);
}
