/* Golden cases: every directory under tests/data/ with a domain.xml is one
 * case: domain.xml, vm.d/ snippets, optional synopassthru.conf, rom/ and
 * sysfs.txt (else tests/data/sysfs.txt), and the expectation: expected.xml
 * (the bytes libvirt would receive) or expected.err (the refusal).
 * In expectations the case's temporary config dir reads @CONFIG_DIR@ and the
 * fake sysfs root @SYSFS_ROOT@. SYNOPASSTHRU_REGENERATE=1 rewrites them.
 * Every case also proves idempotence: its output, patched again, is unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/fsutil.h"
#include "../../config/config.h"
#include "../../core/start.h"
#include "../tools/fakesysfs.h"
#include "testutil.h"

struct golden_case {
    char *name;
    char *path;
};

/* The outcome of one case as text: the XML, or "refused: ..." / "bad input: ...". */
static char *outcome(struct sp_snapshot *snap, const char *xml, size_t len, size_t *out_len,
                     int *ready)
{
    struct sp_start st;
    assert_int_equal(sp_start_prepare(snap, xml, len, &st), 0);
    char *text = NULL;
    *ready = st.verdict == SP_READY;
    switch (st.verdict) {
    case SP_UNMATCHED:
        text = strndup(xml, len);
        break;
    case SP_READY:
        text = strndup(st.xml, st.xml_len);
        break;
    case SP_REFUSED:
        assert_true(asprintf(&text, "refused: %s\n", st.err.msg) > 0);
        break;
    case SP_BAD_INPUT:
        assert_true(asprintf(&text, "bad input: %s\n", st.err.msg) > 0);
        break;
    }
    *out_len = strlen(text);
    sp_start_free(&st);
    return text;
}

static char *placeholders(const char *text, const char *cfg, const char *sysfs)
{
    char *a = tu_replace_all(text, cfg, "@CONFIG_DIR@");
    char *b = tu_replace_all(a, sysfs, "@SYSFS_ROOT@");
    free(a);
    return b;
}

static void compare_or_regenerate(const struct golden_case *gc, const char *actual, int ready_or_same)
{
    const char *want_name = ready_or_same ? "expected.xml" : "expected.err";
    const char *other_name = ready_or_same ? "expected.err" : "expected.xml";
    const char *regen = getenv("SYNOPASSTHRU_REGENERATE");
    if (regen && strcmp(regen, "1") == 0) {
        free(tu_write(gc->path, want_name, actual, 0644));
        char *other = sp_path_join(gc->path, other_name);
        unlink(other);
        free(other);
        return;
    }
    if (!tu_exists(gc->path, want_name))
        fail_msg("case %s: has no %s; got:\n%s", gc->name, want_name, actual);
    char *p = sp_path_join(gc->path, want_name);
    char *expected = tu_read(p, NULL);
    if (strcmp(expected, actual) != 0)
        fail_msg("case %s: output differs from %s\n--- expected\n%s--- actual\n%s", gc->name,
                 want_name, expected, actual);
    free(expected);
    free(p);
}

static void run_case(void **state)
{
    const struct golden_case *gc = *state;
    char *sysfs = tu_case_sysfs(gc->path);
    char *cfg_dir = tu_case_config(gc->path);
    setenv("SYNOPASSTHRU_SYSFS_ROOT", sysfs, 1);
    struct sp_config *cfg = sp_config_new(cfg_dir);
    struct sp_snapshot *snap = NULL;
    struct sp_err err;
    assert_int_equal(sp_config_snapshot(cfg, &snap, &err), 0);

    char *in_path = sp_path_join(gc->path, "domain.xml");
    size_t in_len, out_len, again_len;
    char *input = tu_read(in_path, &in_len);
    int ready, ready_again;
    char *out = outcome(snap, input, in_len, &out_len, &ready);
    int is_xml = ready || strncmp(out, "refused: ", 9) != 0;
    is_xml = is_xml && strncmp(out, "bad input: ", 11) != 0;
    char *shown = placeholders(out, cfg_dir, sysfs);
    compare_or_regenerate(gc, shown, is_xml);

    if (is_xml) {
        /* Patching the output again changes nothing, to the byte. */
        char *again = outcome(snap, out, out_len, &again_len, &ready_again);
        if (again_len != out_len || memcmp(again, out, out_len) != 0)
            fail_msg("case %s: second pass changed the output:\n%s", gc->name, again);
        free(again);
    }
    free(shown);
    free(out);
    free(input);
    free(in_path);
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    tu_rm_rf(cfg_dir);
    tu_rm_rf(sysfs);
    free(cfg_dir);
    free(sysfs);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct golden_case *)a)->name, ((const struct golden_case *)b)->name);
}

static size_t discover(struct golden_case **cases)
{
    char *data = sp_path_join(tu_src_dir(), "tests/data");
    DIR *d = opendir(data);
    if (!d) {
        fprintf(stderr, "test_golden: cannot open %s (set SP_SRC)\n", data);
        exit(1);
    }
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *path = sp_path_join(data, de->d_name);
        if (de->d_name[0] != '.' && tu_exists(path, "domain.xml")) {
            *cases = realloc(*cases, (n + 1) * sizeof(**cases));
            (*cases)[n].name = strdup(de->d_name);
            (*cases)[n].path = path;
            n++;
        } else {
            free(path);
        }
    }
    closedir(d);
    free(data);
    qsort(*cases, n, sizeof(**cases), by_name);
    return n;
}

int main(void)
{
    tu_trust_current_user();
    struct golden_case *cases = NULL;
    size_t n = discover(&cases);
    if (n == 0) {
        fprintf(stderr, "test_golden: no cases found under tests/data\n");
        return 1;
    }
    struct CMUnitTest *tests = calloc(n, sizeof(*tests));
    for (size_t i = 0; i < n; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = run_case;
        tests[i].initial_state = &cases[i];
    }
    int rc = _cmocka_run_group_tests("golden", tests, n, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        free(cases[i].name);
        free(cases[i].path);
    }
    free(cases);
    free(tests);
    return rc;
}
