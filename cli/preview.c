/* synopassthru preview [--config DIR] [FILE|-]: the domain XML exactly as
 * the shim would hand it to libvirt, through the same core/start path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "../core/binder.h"
#include "../core/start.h"
#include "cli.h"

static int parse_args(const struct sp_cli_opts *opts, const char **config_dir, const char **input)
{
    *config_dir = opts->config_dir;
    *input = NULL;
    for (int i = 0; i < opts->argc; i++) {
        const char *a = opts->argv[i];
        if (strcmp(a, "--config") == 0 && i + 1 < opts->argc) {
            *config_dir = opts->argv[++i];
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            printf("Usage: synopassthru preview [--config DIR] [FILE|-]\n"
                   "Prints the domain XML in FILE (or stdin) exactly as libvirt would receive\n"
                   "it from the shim. Exit 0: printed; 1: the start would be refused;\n"
                   "2: usage; 3: unusable input; 4: internal error.\n");
            return 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            sp_cli_error("preview: unknown option '%s'", a);
            return -1;
        } else if (*input) {
            sp_cli_error("preview: takes one FILE (or '-'), got '%s' and '%s'", *input, a);
            return -1;
        } else {
            *input = a;
        }
    }
    return 0;
}

/* Config problems that do not stop this preview are still worth a word. */
static void warn_about_config(const struct sp_snapshot *snap, const struct sp_start *st)
{
    if (st->verdict != SP_UNMATCHED)
        return;
    if (snap->global_error)
        sp_cli_error("warning: %s", snap->global_error);
    for (size_t i = 0; i < snap->n_orphan_errors; i++)
        sp_cli_error("warning: %s", snap->orphan_errors[i]);
}

/* What the start would log and let through (the refusal is said instead). */
static void warn_about_start(const struct sp_start *st)
{
    for (size_t i = 0; i < st->n_warnings; i++)
        sp_cli_error("warning: %s", st->warnings[i]);
}

static int write_all(const char *buf, size_t len)
{
    if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
        sp_cli_error("preview: cannot write the output");
        return SP_EXIT_INTERNAL;
    }
    return SP_EXIT_OK;
}

static int run_preview(struct sp_snapshot *snap, const char *xml, size_t len)
{
    struct sp_start st;
    if (sp_start_prepare(snap, xml, len, &st) < 0) {
        sp_start_free(&st);
        sp_cli_error("preview: out of memory");
        return SP_EXIT_INTERNAL;
    }
    warn_about_config(snap, &st);
    /* Every read-only check the start's bind makes, with its words. */
    sp_binder_check_start(&st);
    int code;
    switch (st.verdict) {
    case SP_UNMATCHED:
        code = write_all(xml, len);
        break;
    case SP_READY:
        warn_about_start(&st);
        code = write_all(st.xml, st.xml_len);
        break;
    case SP_REFUSED:
        sp_cli_error("%s", st.err.msg);
        code = SP_EXIT_REFUSED;
        break;
    default:
        sp_cli_error("%s", st.err.msg);
        code = SP_EXIT_INPUT;
        break;
    }
    sp_start_free(&st);
    return code;
}

int sp_cmd_preview(const struct sp_cli_opts *opts)
{
    const char *dir, *input;
    int parsed = parse_args(opts, &dir, &input);
    if (parsed != 0)
        return parsed > 0 ? SP_EXIT_OK : SP_EXIT_USAGE;

    struct sp_err err;
    char *xml = NULL;
    size_t len = 0;
    if (sp_cli_read_input(input, &xml, &len, &err) < 0) {
        sp_cli_error("%s", err.msg);
        return SP_EXIT_INPUT;
    }
    struct sp_config *cfg = sp_config_new(sp_config_dir_choose(dir));
    struct sp_snapshot *snap = NULL;
    int code;
    if (!cfg || sp_config_snapshot(cfg, &snap, &err) < 0) {
        sp_cli_error("preview: out of memory");
        code = SP_EXIT_INTERNAL;
    } else {
        code = run_preview(snap, xml, len);
        sp_snapshot_release(snap);
    }
    sp_config_free(cfg);
    free(xml);
    return code;
}
