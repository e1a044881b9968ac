/* logview: the audit log for people. Reads the live log and its rotated
 * copies (oldest first), keeps the records a filter lets through, and
 * formats each start as one line (with the XML it added, on request). Owns
 * the records it read; a line that is no record becomes a note naming the
 * file and line. Never writes the log and never links a JSON library. */
#ifndef SP_LOGVIEW_H
#define SP_LOGVIEW_H

#include <stdio.h>
#include <time.h>

#include "../common/err.h"
#include "../common/jsonread.h"

/* A record longer than this is no record (they are a few kilobytes). */
#define SP_LOG_RECORD_MAX (1u << 20)
/* One file read at once is at most this big. */
#define SP_LOG_FILE_MAX (256u << 20)

struct sp_log_filter {
    const char *vm; /* a name, UUID (any case, dashes or not) or title; NULL: all */
    int has_since;
    time_t since;   /* records at or after it */
};

struct sp_log {
    struct sp_jv **records; /* oldest first (none when each is set) */
    size_t n, cap;
    char **notes;           /* lines and files skipped: whole sentences */
    size_t n_notes;
    /* When set, each record the filter lets through is handed to it, oldest
     * first, as it is read, and not kept: a long log is never all in memory. */
    void (*each)(const struct sp_jv *rec, void *ctx);
    void *each_ctx;
};

/* --since: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" (local time; a trailing
 * "Z": UTC; a space may stand for the "T") or "N" followed by m, h, d or w
 * (minutes, hours, days, weeks before now). */
int sp_log_parse_since(const char *arg, time_t now, time_t *out, struct sp_err *err);

/* A record's "time" ("2026-11-25T12:06:45.339Z") as a time_t; -1 when it is
 * not in that form. */
int sp_log_record_time(const struct sp_jv *rec, time_t *out);

/* The record passes the filter. */
int sp_log_record_matches(const struct sp_jv *rec, const struct sp_log_filter *f);

/* Every line of text (the content of file) that passes the filter is kept;
 * a line that is not a JSON object with a valid "time" and "vm" becomes a
 * note "FILE:LINE: not a valid record: WHY". -1 only when memory runs out. */
int sp_log_add_text(struct sp_log *log, const char *file, const char *text, size_t len,
                    const struct sp_log_filter *f);

/* The log at path: its rotated copies path.N (largest N first), then path
 * itself. Compressed copies (path.N.gz) are noted as skipped. -1 with err
 * when path itself cannot be read and no rotated copy was found. */
int sp_log_read(struct sp_log *log, const char *path, const struct sp_log_filter *f,
                struct sp_err *err);

/* One line for a start record: local time, VM (title, else name), result,
 * devices, then the reason, libvirt's error and warnings. With diff, the
 * XML the start added and what it changed, one indented line each. Records
 * of other events ("bind") print nothing. */
void sp_log_print(FILE *out, const struct sp_jv *rec, int diff);

void sp_log_free(struct sp_log *log);

#endif
