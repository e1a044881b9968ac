/* synopassthru log [VM] [--since TIME] [--json] [--diff]: the audit log for
 * people, newest last (cli/logview.h reads and formats it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/json.h"
#include "../config/config.h"
#include "cli.h"
#include "logview.h"

static const char usage[] =
    "Usage: synopassthru [--config DIR] log [VM] [--since TIME] [--json] [--diff]\n"
    "  VM      only the starts of this VM (its name, UUID or title)\n"
    "  --since 2026-11-30, 2026-11-30T12:00[:00] (local time; Z: UTC),\n"
    "          or 30m, 12h, 2d, 1w before now\n"
    "  --diff  also the XML each start added and what it changed\n"
    "  --json  {\"schema\": 1, \"records\": [the records as written], \"skipped\": [...]}";

struct log_args {
    struct sp_log_filter filter;
    int json, diff;
};

/* 0 parsed, 1 help printed, -1 usage error (already reported). */
static int parse_log_args(const struct sp_cli_opts *opts, struct log_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 0; i < opts->argc; i++) {
        const char *arg = opts->argv[i];
        struct sp_err err;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            puts(usage);
            return 1;
        } else if (strcmp(arg, "--json") == 0) {
            a->json = 1;
        } else if (strcmp(arg, "--diff") == 0) {
            a->diff = 1;
        } else if (strcmp(arg, "--since") == 0) {
            if (i + 1 == opts->argc) {
                sp_cli_error("log: --since needs a TIME (see synopassthru log --help)");
                return -1;
            }
            if (sp_log_parse_since(opts->argv[++i], time(NULL), &a->filter.since, &err) < 0) {
                sp_cli_error("log: --since: %s", err.msg);
                return -1;
            }
            a->filter.has_since = 1;
        } else if (arg[0] == '-' || a->filter.vm) {
            sp_cli_error("log: %s '%s' (see synopassthru log --help)",
                         arg[0] == '-' ? "unknown option" : "one VM, not", arg);
            return -1;
        } else {
            a->filter.vm = arg;
        }
    }
    return 0;
}

/* How each record is shown, as it is read. */
struct shown {
    struct sp_json *j; /* --json: an element of "records" */
    int diff;
};

static void show_record(const struct sp_jv *rec, void *ctx)
{
    const struct shown *s = ctx;
    if (s->j)
        sp_jv_write(s->j, rec);
    else
        sp_log_print(stdout, rec, s->diff);
}

static void begin_json(struct sp_json *j)
{
    sp_cli_json_begin(j);
    sp_json_key(j, "records");
    sp_json_begin_array(j);
}

/* The records are in; "skipped" closes the document. */
static int end_json(struct sp_json *j, const struct sp_log *log)
{
    sp_json_end_array(j);
    sp_json_member_strings(j, "skipped", log->notes, log->n_notes);
    sp_json_end_object(j);
    return sp_cli_print_json(j, "log");
}

/* The records are out; what was skipped is said on stderr. */
static int end_text(const struct sp_log *log)
{
    for (size_t i = 0; i < log->n_notes; i++)
        sp_cli_error("log: %s", log->notes[i]);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        sp_cli_error("log: cannot write the output");
        return SP_EXIT_INTERNAL;
    }
    return SP_EXIT_OK;
}

/* The log at path shown as asked; an exit code. */
static int show_log(const char *path, const struct log_args *a, const struct sp_snapshot *snap)
{
    struct sp_json j;
    struct shown shown = {a->json ? &j : NULL, a->diff};
    struct sp_log log = {.each = show_record, .each_ctx = &shown};
    struct sp_err err;
    int code;
    if (a->json)
        begin_json(&j);
    if (sp_log_read(&log, path, &a->filter, &err) < 0) {
        sp_cli_error("log: audit log %s (set by audit_log in %s/%s; no start logged yet?)",
                     err.msg, snap->config_dir, SP_CONF_FILE);
        if (a->json)
            free(sp_json_take(&j));
        code = SP_EXIT_INPUT;
    } else {
        code = a->json ? end_json(&j, &log) : end_text(&log);
    }
    sp_log_free(&log);
    return code;
}

int sp_cmd_log(const struct sp_cli_opts *opts)
{
    struct log_args a;
    int parsed = parse_log_args(opts, &a);
    if (parsed != 0)
        return parsed > 0 ? SP_EXIT_OK : SP_EXIT_USAGE;
    struct sp_config *cfg;
    struct sp_snapshot *snap = sp_cli_load_snapshot(opts, &cfg);
    if (!snap)
        return SP_EXIT_INTERNAL;
    const char *path = snap->settings.audit_log;
    int code;
    if (!path || !path[0]) {
        sp_cli_error("log: the audit log is off (audit_log is empty in %s/%s)", snap->config_dir,
                     SP_CONF_FILE);
        code = SP_EXIT_INPUT;
    } else {
        code = show_log(path, &a, snap);
    }
    sp_snapshot_release(snap);
    sp_config_free(cfg);
    return code;
}
