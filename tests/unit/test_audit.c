/* audit: the JSON record, the file's mode, and whole lines under
 * concurrent writers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../common/fsutil.h"
#include "../../config/config.h"
#include "../../core/audit.h"
#include "testutil.h"

static char *sysfs, *dir, *log_path;
static struct sp_config *cfg;
static struct sp_snapshot *snap;

static void prepare(struct sp_start *st, const char *xml)
{
    assert_int_equal(sp_start_prepare(snap, xml, strlen(xml), st), 0);
}

static json_t *parse_line(const char *line)
{
    json_error_t jerr;
    json_t *rec = json_loads(line, 0, &jerr);
    if (!rec)
        fail_msg("not JSON (%s): %s", jerr.text, line);
    return rec;
}

static void record_of_a_ready_start(void **state)
{
    (void)state;
    struct sp_start st;
    prepare(&st, "<domain><name>win\"11</name><uuid>591328d9-88d5-42aa-9551-bb793c3330cf</uuid>"
                 "<title>Gäming &amp; more</title><devices/></domain>");
    assert_int_equal(st.verdict, SP_READY);
    struct sp_audit_outcome o = {.forwarded = 1, .libvirt_ok = 1};
    char *text = sp_audit_format(&st, "virDomainCreateXML", &o);
    json_t *rec = parse_line(text);
    assert_string_equal(json_string_value(json_object_get(rec, "api")), "virDomainCreateXML");
    assert_string_equal(json_string_value(json_object_get(rec, "result")), "ok");
    assert_true(json_is_null(json_object_get(rec, "reason")));
    json_t *vm = json_object_get(rec, "vm");
    assert_string_equal(json_string_value(json_object_get(vm, "name")), "win\"11");
    assert_string_equal(json_string_value(json_object_get(vm, "title")), "Gäming & more");
    json_t *devs = json_object_get(rec, "devices");
    assert_int_equal(json_array_size(devs), 2);
    json_t *d0 = json_array_get(devs, 0);
    assert_string_equal(json_string_value(json_object_get(d0, "address")), "0000:08:00.0");
    assert_string_equal(json_string_value(json_object_get(d0, "vendor")), "1002");
    assert_string_equal(json_string_value(json_object_get(d0, "product")), "1638");
    assert_non_null(strstr(json_string_value(json_object_get(d0, "rom")), "/rom/v.bin"));
    assert_int_equal(json_array_size(json_object_get(rec, "added")), 2);
    assert_int_equal(json_array_size(json_object_get(rec, "snippets")), 1);
    assert_true(json_is_true(json_object_get(json_object_get(rec, "libvirt"), "ok")));
    const char *time = json_string_value(json_object_get(rec, "time"));
    assert_int_equal(strlen(time), 24); /* 2026-11-25T12:00:00.000Z */
    json_decref(rec);
    free(text);
    sp_start_free(&st);
}

static void record_of_a_refusal(void **state)
{
    (void)state;
    struct sp_start st;
    prepare(&st, "<domain><name>broken</name></domain>");
    assert_int_equal(st.verdict, SP_REFUSED);
    char *text = sp_audit_format(&st, "virDomainCreateXML", NULL);
    json_t *rec = parse_line(text);
    assert_string_equal(json_string_value(json_object_get(rec, "result")), "refused");
    assert_non_null(strstr(json_string_value(json_object_get(rec, "reason")), "not found under"));
    assert_true(json_is_null(json_object_get(rec, "libvirt")));
    json_decref(rec);
    free(text);
    sp_start_free(&st);
}

struct writer {
    int id;
};

static void *write_many(void *arg)
{
    struct writer *w = arg;
    struct sp_start st;
    prepare(&st, "<domain><name>win11</name><devices/></domain>");
    for (int i = 0; i < 200; i++) {
        struct sp_audit_outcome o = {.forwarded = 1, .libvirt_ok = (i + w->id) % 2};
        struct sp_err err;
        if (sp_audit_write(&st, "virDomainCreateXML", &o, &err) < 0)
            fail_msg("%s", err.msg);
    }
    sp_start_free(&st);
    return NULL;
}

static void concurrent_records_stay_whole(void **state)
{
    (void)state;
    pthread_t t[4];
    struct writer w[4];
    for (int i = 0; i < 4; i++) {
        w[i].id = i;
        pthread_create(&t[i], NULL, write_many, &w[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    struct stat st;
    assert_int_equal(stat(log_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *text = tu_read(log_path, NULL);
    int lines = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_decref(parse_line(line));
        lines++;
    }
    assert_int_equal(lines, 800);
    free(text);
}

/* ---- what holds invalid UTF-8 still makes a whole record ---- */

#define FFFD "\xef\xbf\xbd"

static json_t *audit_record(const char *vm, const struct sp_audit_outcome *o)
{
    char xml[256];
    snprintf(xml, sizeof(xml), "<domain><name>%s</name><devices/></domain>", vm);
    struct sp_start st;
    assert_int_equal(sp_start_prepare(snap, xml, strlen(xml), &st), 0);
    assert_int_equal(st.verdict, SP_READY);
    char *text = sp_audit_format(&st, "virDomainCreateXML", o);
    sp_start_free(&st);
    if (!text)
        fail_msg("the record of VM %s was lost", vm);
    json_t *rec = parse_line(text);
    free(text);
    return rec;
}

/* A snippet file whose name is Latin-1, not UTF-8: the record still names
 * it and its device. */
static void audit_keeps_a_latin1_snippet_name(void **state)
{
    (void)state;
    json_t *rec = audit_record("latin", NULL);
    json_t *snippets = json_object_get(rec, "snippets");
    assert_int_equal(json_array_size(snippets), 1);
    assert_non_null(strstr(json_string_value(json_array_get(snippets, 0)), "/caf" FFFD ".xml"));
    json_t *devs = json_object_get(rec, "devices");
    assert_int_equal(json_array_size(devs), 1);
    const char *source = json_string_value(json_object_get(json_array_get(devs, 0), "source"));
    assert_non_null(source);
    assert_non_null(strstr(source, "/caf" FFFD ".xml:1"));
    json_decref(rec);
}

/* libvirt's message and the helper's report may carry any bytes. */
static void audit_keeps_invalid_utf8_messages(void **state)
{
    (void)state;
    struct sp_audit_outcome o = {.bound = "bound 0000:08:00.0 was=\xff\n", .forwarded = 1,
                                 .libvirt_ok = 0,
                                 .libvirt_error = "cannot open /var/caf\xe9.img"};
    json_t *rec = audit_record("plain", &o);
    assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "libvirt"),
                                                            "error")),
                        "cannot open /var/caf" FFFD ".img");
    json_t *bound = json_object_get(rec, "bound");
    assert_int_equal(json_array_size(bound), 1);
    assert_string_equal(json_string_value(json_array_get(bound, 0)),
                        "bound 0000:08:00.0 was=" FFFD);
    json_decref(rec);
}

/* The record's text after its "time" member (which differs by the call). */
static const char *after_time(const char *record)
{
    const char *event = strstr(record, ",\"event\":");
    if (!event)
        fail_msg("no event member: %s", record);
    return event;
}

/* A thread's records are built in the buffer it keeps: a short record
 * after a long one is exactly its own text, the long one's never showing
 * through. */
static void records_in_a_row_are_each_whole(void **state)
{
    (void)state;
    struct sp_start ready, refused;
    prepare(&ready, "<domain><name>win\"11</name><devices/></domain>");
    prepare(&refused, "<domain><name>broken</name></domain>");
    struct sp_audit_outcome o = {.bound = "bound 0000:08:00.0\nbound 0000:08:00.1\n",
                                 .forwarded = 1, .libvirt_ok = 1};
    struct sp_err err;
    unlink(log_path);
    assert_int_equal(sp_audit_write(&ready, "virDomainCreateXML", &o, &err), 0);
    assert_int_equal(sp_audit_write(&refused, "virDomainCreate", NULL, &err), 0);
    assert_int_equal(sp_audit_write(&ready, "virDomainCreateXML", &o, &err), 0);
    char *want[] = {sp_audit_format(&ready, "virDomainCreateXML", &o),
                    sp_audit_format(&refused, "virDomainCreate", NULL),
                    sp_audit_format(&ready, "virDomainCreateXML", &o)};
    char *text = tu_read(log_path, NULL);
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    for (int i = 0; i < 3; i++, line = strtok_r(NULL, "\n", &save)) {
        assert_non_null(line);
        assert_string_equal(after_time(line), after_time(want[i]));
        free(want[i]);
    }
    assert_null(line);
    free(text);
    sp_start_free(&ready);
    sp_start_free(&refused);
}

/* The audit log: never a FIFO (a blocking open would stop the start), a
 * symlink or a file others can write; the failure names the file. */
static void audit_log_must_be_a_file_of_its_own(void **state)
{
    (void)state;
    alarm(10); /* a regression that blocks fails instead of hanging */
    struct sp_start st;
    prepare(&st, "<domain><name>win11</name><devices/></domain>");
    struct sp_err err;
    unlink(log_path);
    assert_int_equal(mkfifo(log_path, 0600), 0); /* no reader, ever */
    assert_int_equal(sp_audit_write(&st, "virDomainCreateXML", NULL, &err), -1);
    assert_non_null(strstr(err.msg, "audit log"));
    assert_non_null(strstr(err.msg, "is a FIFO, not a regular file"));
    unlink(log_path);
    char *target = tu_write(dir, "elsewhere.log", "", 0600);
    assert_int_equal(symlink(target, log_path), 0);
    assert_int_equal(sp_audit_write(&st, "virDomainCreateXML", NULL, &err), -1);
    assert_non_null(strstr(err.msg, "is a symbolic link, not a regular file"));
    unlink(log_path);
    free(tu_write(dir, "audit.log", "", 0666));
    assert_int_equal(sp_audit_write(&st, "virDomainCreateXML", NULL, &err), -1);
    assert_non_null(strstr(err.msg, "audit log"));
    assert_non_null(strstr(err.msg, "is world-writable (mode 0666)"));
    unlink(log_path);
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(sp_audit_write(&st, "virDomainCreateXML", NULL, &err), -1);
    assert_non_null(strstr(err.msg, "its dir"));
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(sp_audit_write(&st, "virDomainCreateXML", NULL, &err), 0);
    sp_start_free(&st);
    free(target);
    alarm(0);
}

static int setup(void **state)
{
    (void)state;
    tu_trust_current_user();
    sysfs = tu_default_sysfs();
    setenv("SYNOPASSTHRU_SYSFS_ROOT", sysfs, 1);
    dir = tu_mkdtemp("audit");
    log_path = sp_path_join(dir, "audit.log");
    char conf[512];
    snprintf(conf, sizeof(conf), "audit_log = %s\n", log_path);
    free(tu_write(dir, "synopassthru.conf", conf, 0644));
    free(tu_write_rom(dir, "rom/v.bin", "legacy"));
    free(tu_write(dir, "vm.d/a.xml", "<passthrough vm='win\"11'><pci address='08:00.0' "
                                     "rom='v.bin'/><pci address='08:00.1'/></passthrough>", 0644));
    free(tu_write(dir, "vm.d/b.xml", "<passthrough vm='win11'><pci address='05:00.0'/>"
                                     "</passthrough>", 0644));
    free(tu_write(dir, "vm.d/c.xml", "<passthrough vm='broken'><pci address='42:00.0'/>"
                                     "</passthrough>", 0644));
    /* A snippet file whose name is Latin-1, not UTF-8. */
    free(tu_write(dir, "vm.d/caf\xe9.xml", "<passthrough vm='latin'><pci address='08:00.0'/>"
                                          "</passthrough>", 0644));
    free(tu_write(dir, "vm.d/plain.xml", "<passthrough vm='plain'><pci address='08:00.0'/>"
                                         "</passthrough>", 0644));
    cfg = sp_config_new(dir);
    struct sp_err err;
    return sp_config_snapshot(cfg, &snap, &err);
}

static int teardown(void **state)
{
    (void)state;
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    tu_rm_rf(dir);
    tu_rm_rf(sysfs);
    free(dir);
    free(sysfs);
    free(log_path);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(record_of_a_ready_start),
        cmocka_unit_test(record_of_a_refusal),
        cmocka_unit_test(concurrent_records_stay_whole),
        cmocka_unit_test(audit_keeps_a_latin1_snippet_name),
        cmocka_unit_test(audit_keeps_invalid_utf8_messages),
        cmocka_unit_test(audit_log_must_be_a_file_of_its_own),
        cmocka_unit_test(records_in_a_row_are_each_whole),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
