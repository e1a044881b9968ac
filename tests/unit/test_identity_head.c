/* The identity read from the head of a domain document: it ends once
 * <name>, <uuid> and <title> are each read whole, finds what the full read
 * finds, and a start it lets through is one sp_start_prepare lets through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/fsutil.h"
#include "../../common/testhooks.h"
#include "../../config/config.h"
#include "../../core/start.h"
#include "../../xmlpatch/domain.h"
#include "testutil.h"

#define UUID "591328d9-88d5-42aa-9551-bb793c3330cf"
/* What no parser accepts: proof that the read ended before it. */
#define BROKEN_TAIL "<devices><<</domain"

struct expect {
    int rc;
    const char *name, *uuid, *title, *unknown;
    int doctype;
};
#define REFUSED ((struct expect){.rc = -1})

static void check_head(const char *xml, struct expect e)
{
    struct sp_domain_id id;
    struct sp_err err;
    int rc = sp_domain_identify_head(xml, strlen(xml), &id, &err);
    if (rc != e.rc)
        fail_msg("rc %d, expected %d (%s) for %s", rc, e.rc, rc < 0 ? err.msg : "", xml);
    if (rc < 0)
        return;
    assert_string_equal(id.name, e.name);
    if (e.uuid)
        assert_string_equal(id.uuid, e.uuid);
    else
        assert_null(id.uuid);
    if (e.title)
        assert_string_equal(id.title, e.title);
    else
        assert_null(id.title);
    if (e.unknown)
        assert_string_equal(id.unknown, e.unknown);
    else
        assert_null(id.unknown);
    assert_int_equal(id.doctype, e.doctype);
    sp_domain_id_free(&id);
}

/* As libvirt writes a domain: the read ends after </title>. */
static void ends_after_name_uuid_and_title(void **state)
{
    (void)state;
    check_head("<domain type='kvm'>\n  <name>vm1</name>\n  <uuid>" UUID "</uuid>\n"
               "  <title>Win 11</title>\n" BROKEN_TAIL,
               (struct expect){1, "vm1", UUID, "Win 11", NULL, 0});
    /* Any order; surrounding whitespace trimmed from name and uuid only. */
    check_head("<domain><title> T </title><uuid> " UUID "\n</uuid><name>\tvm1 </name>" BROKEN_TAIL,
               (struct expect){1, "vm1", UUID, " T ", NULL, 0});
}

/* The last of the three is read whole: its nested text, a CDATA section
 * and references count, a comment does not. */
static void ends_only_once_the_last_element_is_whole(void **state)
{
    (void)state;
    check_head("<domain><name>a</name><uuid>u</uuid><title>t<i>x</i><!-- c -->y<![CDATA[<z>]]>"
               "&amp;&#65;</title>" BROKEN_TAIL,
               (struct expect){1, "a", "u", "txy<z>&A", NULL, 0});
}

/* A title after <devices>, one nested in another element, a namespaced
 * one (its prefix declared or not), or one commented out: the read goes on
 * to the VM's own. */
static void looks_further_for_a_late_title(void **state)
{
    (void)state;
    const char *head = "<domain xmlns:x='urn:x'><name>a</name><uuid>u</uuid>"
                       "<!-- <title>c</title> --><x:title>ns</x:title>"
                       "<devices><title>nested</title></devices>";
    char xml[512];
    snprintf(xml, sizeof(xml), "%s<title>late</title></domain>", head);
    check_head(xml, (struct expect){1, "a", "u", "late", NULL, 0});
    snprintf(xml, sizeof(xml), "%s<title>late</title>%s", head, BROKEN_TAIL);
    check_head(xml, (struct expect){1, "a", "u", "late", NULL, 0});
    /* A prefix nothing declares: the tree names that element "y:title". */
    check_head("<domain><name>a</name><uuid>u</uuid><y:title>no</y:title><title>t</title>"
               "</domain>", (struct expect){1, "a", "u", "t", NULL, 0});
}

/* With no title the whole document is read, and judged, as the full read
 * judges it. */
static void reads_to_the_end_without_a_title(void **state)
{
    (void)state;
    check_head("<domain><name>a</name><uuid>u</uuid><devices/></domain>",
               (struct expect){0, "a", "u", NULL, NULL, 0});
    check_head("<domain><name>a</name><uuid>u</uuid>" BROKEN_TAIL, REFUSED);
    check_head("<domain><uuid>u</uuid><title>t</title></domain>", REFUSED);
}

/* An error before the end is an error, even when the read would have
 * ended just after it. */
static void an_error_before_the_end_fails_the_read(void **state)
{
    (void)state;
    check_head("<domain><name>a</name><x a='1' a='2'/><uuid>u</uuid><title>t</title>"
               BROKEN_TAIL, REFUSED);
    check_head("<domain><name>a&b;</name><uuid>u</uuid><title>t</title>" BROKEN_TAIL,
               REFUSED);
    check_head("<domain xmlns='urn:x'><name>a</name><uuid>u</uuid><title>t</title></domain>",
               REFUSED);
}

/* Behind a DOCTYPE an entity stays unknown, and says which element it is in. */
static void an_entity_of_a_doctype_is_unknown(void **state)
{
    (void)state;
    check_head("<!DOCTYPE domain [<!ENTITY e 'x'>]><domain><name>a</name><uuid>u</uuid>"
               "<title>t&e;</title>" BROKEN_TAIL,
               (struct expect){1, "a", "u", "t", "title", 1});
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Every golden case's domain: the same identity both ways. */
static void finds_what_the_full_read_finds(void **state)
{
    (void)state;
    char *data = sp_path_join(tu_src_dir(), "tests/data");
    DIR *dir = opendir(data);
    assert_non_null(dir);
    int compared = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        char path[4096];
        size_t len;
        char *xml = e->d_name[0] != '.' &&
                    sp_path_fmt(path, sizeof(path), "%s/%s/domain.xml", data, e->d_name) == 0 &&
                    access(path, R_OK) == 0
                        ? tu_read(path, &len)
                        : NULL;
        if (!xml)
            continue;
        struct sp_domain_id full, head;
        struct sp_err err;
        int rc_full = sp_domain_identify(xml, len, &full, &err);
        int rc_head = sp_domain_identify_head(xml, len, &head, &err);
        if (rc_full == 0) {
            assert_true(rc_head >= 0);
            if (!same(full.name, head.name) || !same(full.uuid, head.uuid) ||
                !same(full.title, head.title) || full.doctype != head.doctype)
                fail_msg("%s: the head's identity is not the full read's", e->d_name);
            sp_domain_id_free(&head);
            sp_domain_id_free(&full);
        } else if (rc_head == 0) {
            fail_msg("%s: the head read accepts what the full read refuses", e->d_name);
        } else if (rc_head > 0) {
            sp_domain_id_free(&head);
        }
        compared++;
        free(xml);
    }
    closedir(dir);
    free(data);
    assert_true(compared > 10);
}

/* sp_start_untouched lets through only what sp_start_prepare lets through
 * (SP_UNMATCHED, SP_BAD_INPUT), and leaves a named VM to it. */
static void untouched_only_when_prepare_would_let_it_through(void **state)
{
    (void)state;
    tu_trust_current_user();
    char *sysfs = tu_default_sysfs(); /* never this machine's own */
    setenv(SP_ENV_SYSFS_ROOT, sysfs, 1);
    char *dir = tu_mkdtemp("head");
    char *vmd = sp_path_join(dir, "vm.d");
    mkdir(vmd, 0755);
    free(vmd);
    free(tu_write(dir, "vm.d/a.xml", "<passthrough vm='named' bind='no'><pci address='05:00.0'/>"
                  "</passthrough>\n", 0644));
    free(tu_write(dir, "vm.d/b.xml", "<passthrough vm='" UUID "' bind='no'><pci address='05:00.0'/>"
                  "</passthrough>\n", 0644));
    free(tu_write(dir, "vm.d/c.xml", "<passthrough vm='Titled' bind='no'><pci address='05:00.0'/>"
                  "</passthrough>\n", 0644));
    struct sp_config *cfg = sp_config_new(dir);
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    assert_int_equal(sp_config_snapshot(cfg, &snap, &err), 0);
    /* prepare judges a document whole: bad input is bad input (in the
     * whole read's words) even when the VM is named and the head is sound. */
    static const struct {
        const char *xml;
        int untouched;
        enum sp_verdict verdict;
    } cases[] = {
        {"<domain><name>other</name><uuid>u</uuid><title>t</title>" BROKEN_TAIL, 1, SP_BAD_INPUT},
        {"<domain><name>other</name><uuid>u</uuid><title>t</title></domain>", 1, SP_UNMATCHED},
        {"<domain><name>named</name><uuid>u</uuid><title>t</title>" BROKEN_TAIL, 0, SP_BAD_INPUT},
        {"<domain><name>named</name><uuid>u</uuid><title>t</title></domain>", 0, SP_READY},
        {"<domain><name>other</name><uuid>" UUID "</uuid><title>t</title></domain>", 0, SP_READY},
        {"<domain><name>other</name><uuid>u</uuid><devices/><title>Titled</title></domain>", 0,
         SP_READY},
        {"<domain><name>other</name><uuid>u</uuid></domain>", 1, SP_UNMATCHED},
        {"<domain><name>other</name>" BROKEN_TAIL, 1, SP_BAD_INPUT},
        {"<!DOCTYPE d [<!ENTITY e 'x'>]><domain><name>o&e;</name></domain>", 0, SP_REFUSED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *xml = cases[i].xml;
        int untouched = sp_start_untouched(snap, xml, strlen(xml));
        if (untouched != cases[i].untouched)
            fail_msg("untouched %d for %s", untouched, xml);
        struct sp_start st;
        assert_int_equal(sp_start_prepare(snap, xml, strlen(xml), &st), 0);
        if (st.verdict != cases[i].verdict)
            fail_msg("verdict %d (%s) for %s", st.verdict, st.err.msg, xml);
        struct sp_domain_id id;
        struct sp_err whole;
        if (sp_domain_identify(xml, strlen(xml), &id, &whole) == 0)
            sp_domain_id_free(&id);
        else if (strcmp(st.err.msg, whole.msg) != 0)
            fail_msg("'%s', but the whole read says '%s'", st.err.msg, whole.msg);
        sp_start_free(&st);
    }
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    tu_rm_rf(dir);
    free(dir);
    tu_rm_rf(sysfs);
    free(sysfs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ends_after_name_uuid_and_title),
        cmocka_unit_test(ends_only_once_the_last_element_is_whole),
        cmocka_unit_test(looks_further_for_a_late_title),
        cmocka_unit_test(reads_to_the_end_without_a_title),
        cmocka_unit_test(an_error_before_the_end_fails_the_read),
        cmocka_unit_test(an_entity_of_a_doctype_is_unknown),
        cmocka_unit_test(finds_what_the_full_read_finds),
        cmocka_unit_test(untouched_only_when_prepare_would_let_it_through),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
