/* injector: the DSM start-hook block run by real shells (quoting, a script
 * that ends in `exit`), its exact removal, the drop-in's quoting, the
 * setup manifest, SHA-256 against the FIPS 180-4 examples, and the paths
 * LD_PRELOAD cannot carry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/sha256.h"
#include "../../injector/dropin.h"
#include "../../injector/dsm_hook.h"
#include "../../injector/loadproof.h"
#include "../../injector/manifest.h"
#include "testutil.h"

/* Runs `shell script` and waits; the exit status. */
static int run_shell(const char *shell, const char *script)
{
    pid_t pid = fork();
    if (pid == 0) {
        execlp(shell, shell, script, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A stand-in CLI that writes each argument it gets on a line of its own. */
static char *write_recorder(const char *dir)
{
    char *text = NULL;
    assert_true(asprintf(&text, "#!/bin/sh\nfor a in \"$@\"; do printf '%%s\\n' \"$a\"; done "
                                ">> '%s/argv'\n", dir) > 0);
    char *path = tu_write(dir, "rec.sh", text, 0755);
    free(text);
    return path;
}

/* The hook as the package has it: it ends with `exit`, as scripts do. */
static const char hook_text[] = "#!/bin/sh\n# loads the modules\ninsmod kvm 2>/dev/null\nexit 0\n";

static void block_runs_with_every_path_quoted(void **state)
{
    (void)state;
    static const char *const shells[] = {"sh", "bash", "busybox"};
    char *dir = tu_mkdtemp("hook");
    char *rec = write_recorder(dir);
    char *config = NULL;
    /* A config dir that would be commands, were it not quoted. */
    assert_true(asprintf(&config, "%s/it's; touch %s/pwned $(touch %s/pwned2)", dir, dir, dir) > 0);
    struct sp_err err;
    char *block = sp_dsm_block(rec, config, "pkg-libvirtd", &err);
    assert_non_null(block);
    char *script = sp_dsm_hook_insert(hook_text, block, &err);
    assert_non_null(script);
    char *path = tu_write(dir, "insert_libvirtd_ko.sh", script, 0755);
    for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++) {
        char *argv_file = NULL;
        assert_true(asprintf(&argv_file, "%s/argv", dir) > 0);
        unlink(argv_file);
        /* busybox needs its applet name first: run it as `busybox sh`. */
        char *runner = NULL;
        if (strcmp(shells[i], "busybox") == 0) {
            char *wrapped = NULL;
            assert_true(asprintf(&wrapped, "#!/bin/sh\nexec busybox sh '%s'\n", path) > 0);
            runner = tu_write(dir, "busybox.sh", wrapped, 0755);
            free(wrapped);
            assert_int_equal(run_shell("sh", runner), 0);
        } else {
            assert_int_equal(run_shell(shells[i], path), 0);
        }
        char *expected = NULL;
        assert_true(asprintf(&expected, "--config\n%s\ninject\nsystemd\n--unit\npkg-libvirtd\n"
                                        "--reload\n", config) > 0);
        char *got = tu_read(argv_file, NULL);
        assert_string_equal(got, expected);
        free(got);
        free(expected);
        free(runner);
        free(argv_file);
    }
    char *pwned = NULL, *pwned2 = NULL;
    assert_true(asprintf(&pwned, "%s/pwned", dir) > 0 && asprintf(&pwned2, "%s/pwned2", dir) > 0);
    assert_int_not_equal(access(pwned, F_OK), 0);
    assert_int_not_equal(access(pwned2, F_OK), 0);
    free(pwned);
    free(pwned2);
    free(path);
    free(script);
    free(block);
    free(config);
    free(rec);
    tu_rm_rf(dir);
    free(dir);
}

static void block_goes_after_the_first_line_and_comes_out_exactly(void **state)
{
    (void)state;
    struct sp_err err;
    char *block = sp_dsm_block("/usr/local/bin/synopassthru", "/usr/local/etc/synopassthru",
                               "pkg-libvirtd", &err);
    char *once = sp_dsm_hook_insert(hook_text, block, &err);
    assert_non_null(once);
    assert_memory_equal(once, "#!/bin/sh\n# synopassthru: begin", 30);
    char *twice = sp_dsm_hook_insert(once, block, &err);
    assert_string_equal(twice, once);
    char *out = sp_dsm_hook_strip(twice);
    assert_string_equal(out, hook_text);
    /* A block an older version appended at the end moves to the top. */
    char *old_style = NULL;
    assert_true(asprintf(&old_style, "%s# synopassthru: begin (synopassthru inject dsm --remove "
                                     "takes this out)\nold line\n# synopassthru: end\n",
                         hook_text) > 0);
    char *moved = sp_dsm_hook_insert(old_style, block, &err);
    assert_string_equal(moved, once);
    free(moved);
    free(old_style);
    free(out);
    free(twice);
    free(once);
    free(block);
}

static void hook_without_a_first_line_end_is_refused(void **state)
{
    (void)state;
    struct sp_err err;
    assert_null(sp_dsm_hook_insert("#!/bin/sh", "# synopassthru: begin\nx\n# synopassthru: end\n",
                                   &err));
    assert_non_null(strstr(err.msg, "left as it is"));
    assert_null(sp_dsm_hook_insert("insmod kvm\n", "b\n", &err));
    assert_null(sp_dsm_block("/usr/bin/x", "/a\nb", "u", &err));
    assert_non_null(strstr(err.msg, "control character"));
}

static void strip_leaves_a_script_without_block_alone(void **state)
{
    (void)state;
    const char *texts[] = {"", "#!/bin/sh\n", "# synopassthru: begin\nno end\n",
                           "x # synopassthru: begin\n# synopassthru: end\n"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char *out = sp_dsm_hook_strip(texts[i]);
        assert_string_equal(out, texts[i]);
        free(out);
    }
}

static void dropin_quotes_for_systemd(void **state)
{
    (void)state;
    struct sp_err err;
    char *text = sp_dropin_text("/usr/local/lib/synopassthru/libsynopassthru.so",
                                "/srv/my \"conf\" 100% \\x", &err);
    assert_non_null(text);
    assert_non_null(strstr(text, "Environment=\"LD_PRELOAD=/usr/local/lib/synopassthru/"
                                 "libsynopassthru.so\"\n"));
    assert_non_null(strstr(text, "Environment=\"SYNOPASSTHRU_CONFIG_DIR=/srv/my \\\"conf\\\" "
                                 "100%% \\\\x\"\n"));
    free(text);
    assert_null(sp_dropin_text("/lib/x.so", "/a\nb", &err));
    assert_true(sp_unit_name_ok("pkg-libvirtd"));
    assert_false(sp_unit_name_ok("../x"));
    assert_false(sp_unit_name_ok(""));
    assert_false(sp_unit_name_ok("a b"));
}

static void preload_paths_it_cannot_carry(void **state)
{
    (void)state;
    assert_null(sp_loadproof_bad_path("/usr/local/lib/synopassthru/libsynopassthru.so"));
    assert_non_null(sp_loadproof_bad_path("/tmp/my dir/x.so"));
    assert_non_null(sp_loadproof_bad_path("/tmp/a:b/x.so"));
    assert_non_null(sp_loadproof_bad_path("relative.so"));
    assert_non_null(sp_loadproof_bad_path("/tmp/a\tb.so"));
}

static const char *const digest_a = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

static void sha256_matches_the_standard_examples(void **state)
{
    (void)state;
    char hex[SP_SHA256_HEX_LEN + 1];
    sp_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sp_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, digest_a);
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sp_sha256_hex(two_blocks, strlen(two_blocks), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* A million 'a' fed in uneven pieces: the block boundary handling. */
    struct sp_sha256 c;
    uint8_t digest[32];
    char chunk[997];
    memset(chunk, 'a', sizeof(chunk));
    sp_sha256_init(&c);
    size_t left = 1000000;
    while (left > 0) {
        size_t take = left < sizeof(chunk) ? left : sizeof(chunk);
        sp_sha256_update(&c, chunk, take);
        left -= take;
    }
    sp_sha256_final(&c, digest);
    assert_int_equal(digest[0], 0xcd);
    assert_int_equal(digest[1], 0xc7);
    assert_int_equal(digest[31], 0xd0);
    /* And the file reader gives the same digest as the buffer one. */
    char *dir = tu_mkdtemp("sha");
    char *path = tu_write(dir, "abc", "abc", 0644);
    struct sp_err err;
    assert_int_equal(sp_sha256_file(path, hex, &err), 0);
    assert_string_equal(hex, digest_a);
    assert_int_equal(sp_sha256_file(dir, hex, &err), -1);
    free(path);
    tu_rm_rf(dir);
    free(dir);
}

static void manifest_round_trips(void **state)
{
    (void)state;
    struct sp_manifest m = {0};
    struct sp_err err;
    struct sp_manifest_entry dir = {.kind = SP_MANIFEST_DIR, .how = SP_MANIFEST_CREATED,
                                    .sha = "-", .mode = 0755, .orig_sha = "-", .backup = "-",
                                    .path = "/usr/local/lib/synopassthru"};
    struct sp_manifest_entry file = {.kind = SP_MANIFEST_FILE, .how = SP_MANIFEST_CHANGED,
                                     .mode = 0750, .uid = 1026, .gid = 100, .backup = "1",
                                     .path = "/var/packages/Virtualization/conf/systemd/a b.sh"};
    strcpy(file.sha, digest_a);
    strcpy(file.orig_sha, digest_a);
    assert_int_equal(sp_manifest_add(&m, &dir, &err), 0);
    assert_int_equal(sp_manifest_add(&m, &file, &err), 0);
    struct sp_manifest_entry bad = dir;
    bad.path = "/a\tb";
    assert_int_equal(sp_manifest_add(&m, &bad, &err), -1);
    char *text = sp_manifest_format(&m);
    struct sp_manifest back;
    assert_int_equal(sp_manifest_parse(text, strlen(text), &back, &err), 0);
    assert_int_equal(back.n, 2);
    char *again = sp_manifest_format(&back);
    assert_string_equal(again, text);
    struct sp_manifest_entry *found = sp_manifest_find(&back, file.path);
    assert_non_null(found);
    assert_int_equal(found->uid, 1026);
    assert_int_equal(found->mode, 0750);
    free(again);
    free(text);
    sp_manifest_free(&back);
    sp_manifest_free(&m);
}

static void manifest_refuses_what_it_did_not_write(void **state)
{
    (void)state;
    const char *bad[] = {
        "file\tcreated\tabc\t0755\t0\t0\t-\t-\t/x\n",                  /* short digest */
        "dir\tcreated\t-\t0755\t0\t0\t-\t-\trelative\n",               /* not absolute */
        "dir\tchanged\t-\t0755\t0\t0\t-\t-\t/x\n",                     /* a changed dir */
        "dir\tcreated\t-\t0755\t0\t0\t-\t-\t/x",                       /* no line end */
        "dir\tcreated\t-\t0755\t0\t0\t-\t-\t/x\ndir\tcreated\t-\t0755\t0\t0\t-\t-\t/x\n",
        "dir\tcreated\t-\t99999\t0\t0\t-\t-\t/x\n",                    /* mode */
        "dir\tcreated\t-\t0755\t-1\t0\t-\t-\t/x\n",                    /* uid */
        "dir\tcreated\t-\t0755\t0\t0\t-\t-\t/x\textra\n",              /* a tenth field */
        "dir\tcreated\t-\t0755\t0\t0\t-\t/x\n",                        /* eight fields */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sp_manifest m;
        struct sp_err err;
        if (sp_manifest_parse(bad[i], strlen(bad[i]), &m, &err) == 0)
            fail_msg("accepted: %s", bad[i]);
        assert_non_null(strstr(err.msg, "manifest"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(block_runs_with_every_path_quoted),
        cmocka_unit_test(block_goes_after_the_first_line_and_comes_out_exactly),
        cmocka_unit_test(hook_without_a_first_line_end_is_refused),
        cmocka_unit_test(strip_leaves_a_script_without_block_alone),
        cmocka_unit_test(dropin_quotes_for_systemd),
        cmocka_unit_test(preload_paths_it_cannot_carry),
        cmocka_unit_test(sha256_matches_the_standard_examples),
        cmocka_unit_test(manifest_round_trips),
        cmocka_unit_test(manifest_refuses_what_it_did_not_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
