/* logview: reading and printing the audit log (see logview.h). */
#include "logview.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/fsutil.h"
#include "../config/snippet.h"

/* ---- times ---- */

/* s starts with the shape of pattern: 'D' a digit, any other character
 * itself. */
static int shaped(const char *s, const char *pattern)
{
    for (; *pattern; s++, pattern++)
        if (*pattern == 'D' ? !isdigit((unsigned char)*s) : *s != *pattern)
            return 0;
    return 1;
}

/* The number of the n digits at s. */
static int number(const char *s, int n)
{
    int v = 0;
    while (n-- > 0)
        v = v * 10 + (*s++ - '0');
    return v;
}

/* "YYYY-MM-DD[(T| )HH:MM[:SS]]" into tm; what follows it in *rest. */
static int parse_date_time(const char *s, struct tm *tm, const char **rest)
{
    memset(tm, 0, sizeof(*tm));
    if (!shaped(s, "DDDD-DD-DD"))
        return -1;
    tm->tm_year = number(s, 4);
    tm->tm_mon = number(s + 5, 2);
    tm->tm_mday = number(s + 8, 2);
    s += 10;
    if ((*s == 'T' || *s == ' ') && isdigit((unsigned char)s[1])) {
        if (!shaped(s + 1, "DD:DD"))
            return -1;
        tm->tm_hour = number(s + 1, 2);
        tm->tm_min = number(s + 4, 2);
        s += 6;
        if (*s == ':') {
            if (!shaped(s + 1, "DD"))
                return -1;
            tm->tm_sec = number(s + 1, 2);
            s += 3;
        }
    }
    if (tm->tm_mon < 1 || tm->tm_mon > 12 || tm->tm_mday < 1 || tm->tm_mday > 31 ||
        tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60)
        return -1;
    tm->tm_year -= 1900;
    tm->tm_mon -= 1;
    tm->tm_isdst = -1;
    *rest = s;
    return 0;
}

/* "N" and one of m h d w: seconds before now. */
static int parse_relative(const char *arg, time_t now, time_t *out)
{
    static const struct {
        char unit;
        long seconds;
    } units[] = {{'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
    char *end;
    if (!isdigit((unsigned char)arg[0]))
        return -1;
    errno = 0;
    long n = strtol(arg, &end, 10);
    if (errno || end[0] == '\0' || end[1] != '\0' || n > 100L * 366 * 86400)
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (end[0] == units[i].unit) {
            *out = now - (time_t)(n * units[i].seconds);
            return 0;
        }
    return -1;
}

int sp_log_parse_since(const char *arg, time_t now, time_t *out, struct sp_err *err)
{
    struct tm tm;
    const char *rest;
    if (parse_relative(arg, now, out) == 0)
        return 0;
    if (parse_date_time(arg, &tm, &rest) == 0 && (rest[0] == '\0' || strcmp(rest, "Z") == 0)) {
        *out = rest[0] == 'Z' ? timegm(&tm) : mktime(&tm);
        if (*out != (time_t)-1)
            return 0;
    }
    return sp_err_set(err, "'%s' is not a time (2026-11-30, 2026-11-30T12:00[:00][Z], "
                           "or 30m, 12h, 2d, 1w before now)", arg);
}

int sp_log_record_time(const struct sp_jv *rec, time_t *out)
{
    const char *s = sp_jv_get_str(rec, "time"), *rest;
    struct tm tm;
    if (!s || parse_date_time(s, &tm, &rest) < 0 || s[10] != 'T' || strlen(s) < 19)
        return -1;
    if (rest[0] == '.') /* milliseconds */
        for (rest++; isdigit((unsigned char)*rest);)
            rest++;
    if (strcmp(rest, "Z") != 0)
        return -1;
    *out = timegm(&tm);
    return *out == (time_t)-1 ? -1 : 0;
}

/* ---- the filter ---- */

/* Two VM keys are the same (UUIDs in any case, with dashes or not). */
static int same_key(const char *a, const char *b)
{
    char *na = sp_vm_key_normalize(a), *nb = sp_vm_key_normalize(b);
    int same = na && nb && strcmp(na, nb) == 0;
    free(na);
    free(nb);
    return same;
}

int sp_log_record_matches(const struct sp_jv *rec, const struct sp_log_filter *f)
{
    time_t when;
    if (f->has_since && (sp_log_record_time(rec, &when) < 0 || when < f->since))
        return 0;
    if (!f->vm)
        return 1;
    const struct sp_jv *vm = sp_jv_get(rec, "vm");
    static const char *const keys[] = {"name", "uuid", "title"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = sp_jv_get_str(vm, keys[i]);
        if (v && same_key(v, f->vm))
            return 1;
    }
    return 0;
}

/* ---- reading ---- */

static int add_note(struct sp_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int add_note(struct sp_log *log, const char *fmt, ...)
{
    char **notes = realloc(log->notes, (log->n_notes + 1) * sizeof(*notes));
    if (!notes)
        return -1;
    log->notes = notes;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&notes[log->n_notes], fmt, ap);
    va_end(ap);
    if (rc < 0)
        return -1;
    log->n_notes++;
    return 0;
}

static int keep_record(struct sp_log *log, struct sp_jv *rec)
{
    if (log->each) {
        log->each(rec, log->each_ctx);
        sp_jv_free(rec);
        return 0;
    }
    if (log->n == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 64;
        struct sp_jv **grown = realloc(log->records, cap * sizeof(*grown));
        if (!grown)
            return -1;
        log->records = grown;
        log->cap = cap;
    }
    log->records[log->n++] = rec;
    return 0;
}

/* What makes a parsed line no record, NULL when it is one. */
static const char *record_problem(const struct sp_jv *rec)
{
    time_t when;
    if (rec->type != SP_JV_OBJECT)
        return "not a JSON object";
    if (sp_log_record_time(rec, &when) < 0)
        return "no \"time\" in the form 2026-11-25T12:06:45.339Z";
    const struct sp_jv *vm = sp_jv_get(rec, "vm");
    if (!vm || vm->type != SP_JV_OBJECT)
        return "no \"vm\" object";
    return NULL;
}

/* One line: kept, skipped by the filter, or noted. */
static int add_line(struct sp_log *log, const char *file, size_t line_no, const char *line,
                    size_t len, const struct sp_log_filter *f)
{
    struct sp_jv *rec = NULL;
    struct sp_err err;
    const char *problem = NULL;
    if (sp_jsonread_parse(line, len, SP_LOG_RECORD_MAX, &rec, &err) < 0)
        problem = err.msg;
    else
        problem = record_problem(rec);
    if (problem) {
        sp_jv_free(rec);
        return add_note(log, "%s:%zu: not a valid record: %s", file, line_no, problem);
    }
    if (!sp_log_record_matches(rec, f)) {
        sp_jv_free(rec);
        return 0;
    }
    if (keep_record(log, rec) < 0) {
        sp_jv_free(rec);
        return -1;
    }
    return 0;
}

int sp_log_add_text(struct sp_log *log, const char *file, const char *text, size_t len,
                    const struct sp_log_filter *f)
{
    size_t line_no = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        line_no++;
        if (n > 0 && add_line(log, file, line_no, text + at, n, f) < 0)
            return -1;
        at += n + 1;
    }
    return 0;
}

/* The N of "BASE.N" (digits only), -1 for any other name. */
static long rotation_number(const char *name, const char *base, int *gz)
{
    size_t blen = strlen(base);
    if (strncmp(name, base, blen) != 0 || name[blen] != '.' ||
        !isdigit((unsigned char)name[blen + 1]))
        return -1;
    char *end;
    errno = 0;
    long n = strtol(name + blen + 1, &end, 10);
    *gz = strcmp(end, ".gz") == 0;
    return errno || (*end && !*gz) ? -1 : n;
}

struct rotated {
    long n;
    int gz;
    char *path;
};

static int by_number_descending(const void *a, const void *b)
{
    long x = ((const struct rotated *)a)->n, y = ((const struct rotated *)b)->n;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The rotated copies of path in dir, largest N (oldest) first. */
static int list_rotated(const char *path, struct rotated **out, size_t *n_out)
{
    const char *slash = strrchr(path, '/');
    char dir[SP_PATH_MAX];
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
             slash ? path : ".");
    const char *base = slash ? slash + 1 : path;
    struct rotated *list = NULL;
    size_t n = 0;
    DIR *d = opendir(dir);
    *out = NULL;
    *n_out = 0;
    if (!d)
        return 0; /* the live file's own error says more */
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        int gz = 0;
        long num = rotation_number(e->d_name, base, &gz);
        if (num < 0)
            continue;
        struct rotated *grown = realloc(list, (n + 1) * sizeof(*grown));
        char *p = grown ? sp_path_join(dir, e->d_name) : NULL;
        if (grown)
            list = grown;
        if (!p) {
            closedir(d);
            for (size_t i = 0; i < n; i++)
                free(list[i].path);
            free(list);
            return -1;
        }
        list[n++] = (struct rotated){num, gz, p};
    }
    closedir(d);
    if (n > 1)
        qsort(list, n, sizeof(*list), by_number_descending);
    *out = list;
    *n_out = n;
    return 0;
}

/* One file's records; one it cannot read is a note, or err when must. */
static int read_one(struct sp_log *log, const char *path, const struct sp_log_filter *f,
                    int must, struct sp_err *err)
{
    char *text;
    size_t len;
    struct sp_err why;
    if (sp_read_file(path, SP_LOG_FILE_MAX, &text, &len, &why) < 0) {
        if (must)
            return sp_err_set(err, "%s", why.msg);
        return add_note(log, "%s: skipped: %s", path, why.msg) < 0
                   ? sp_err_set(err, "out of memory")
                   : 0;
    }
    int rc = sp_log_add_text(log, path, text, len, f);
    free(text);
    return rc < 0 ? sp_err_set(err, "out of memory") : 0;
}

int sp_log_read(struct sp_log *log, const char *path, const struct sp_log_filter *f,
                struct sp_err *err)
{
    struct rotated *list;
    size_t n;
    if (list_rotated(path, &list, &n) < 0)
        return sp_err_set(err, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (list[i].gz)
            rc = add_note(log, "%s: skipped: compressed (gunzip it to read it here)",
                          list[i].path) < 0 ? sp_err_set(err, "out of memory") : 0;
        else
            rc = read_one(log, list[i].path, f, 0, err);
    }
    /* The live file may be missing right after a rotation. */
    if (rc == 0)
        rc = read_one(log, path, f, n == 0, err);
    for (size_t i = 0; i < n; i++)
        free(list[i].path);
    free(list);
    return rc;
}

void sp_log_free(struct sp_log *log)
{
    for (size_t i = 0; i < log->n; i++)
        sp_jv_free(log->records[i]);
    free(log->records);
    for (size_t i = 0; i < log->n_notes; i++)
        free(log->notes[i]);
    free(log->notes);
    memset(log, 0, sizeof(*log));
}

/* ---- printing ---- */

static void print_local_time(FILE *out, const struct sp_jv *rec)
{
    time_t when;
    struct tm tm;
    char text[64];
    if (sp_log_record_time(rec, &when) == 0 && localtime_r(&when, &tm) &&
        strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &tm) > 0)
        fputs(text, out);
    else
        fputs("?", out);
}

/* "ok", "refused", or "libvirt failed" when the start went through to a
 * libvirt that refused it. */
static const char *result_of(const struct sp_jv *rec)
{
    const char *result = sp_jv_get_str(rec, "result");
    const struct sp_jv *lv = sp_jv_get(rec, "libvirt");
    const struct sp_jv *ok = sp_jv_get(lv, "ok");
    if (result && strcmp(result, "ok") == 0 && ok && ok->type == SP_JV_BOOL && !ok->boolean)
        return "libvirt failed";
    return result ? result : "?";
}

static void print_devices(FILE *out, const struct sp_jv *rec)
{
    const struct sp_jv *devs = sp_jv_get(rec, "devices");
    if (!devs || devs->type != SP_JV_ARRAY || devs->n == 0) {
        fputs("no devices", out);
        return;
    }
    for (size_t i = 0; i < devs->n; i++) {
        const struct sp_jv *d = &devs->items[i];
        const char *addr = sp_jv_get_str(d, "address");
        const char *vendor = sp_jv_get_str(d, "vendor"), *product = sp_jv_get_str(d, "product");
        fprintf(out, "%s%s", i ? ", " : "", addr ? addr : "raw <hostdev>");
        if (vendor && product)
            fprintf(out, " [%s:%s]", vendor, product);
    }
}

/* "; label: text" for a string member, or each string of an array member. */
static void print_tail(FILE *out, const struct sp_jv *v, const char *label)
{
    if (v && v->type == SP_JV_STRING)
        fprintf(out, "; %s: %s", label, v->text);
    for (size_t i = 0; v && v->type == SP_JV_ARRAY && i < v->n; i++)
        if (v->items[i].type == SP_JV_STRING)
            fprintf(out, "; %s: %s", label, v->items[i].text);
}

/* Each string of the array member, as "    label: text", every line of a
 * text that holds several indented the same. */
static void print_block(FILE *out, const struct sp_jv *rec, const char *key, const char *label)
{
    const struct sp_jv *v = sp_jv_get(rec, key);
    for (size_t i = 0; v && v->type == SP_JV_ARRAY && i < v->n; i++) {
        if (v->items[i].type != SP_JV_STRING)
            continue;
        fprintf(out, "    %s: ", label);
        for (const char *c = v->items[i].text; *c; c++) {
            fputc(*c, out);
            if (*c == '\n' && c[1])
                fprintf(out, "    %*s  ", (int)strlen(label), "");
        }
        fputc('\n', out);
    }
}

void sp_log_print(FILE *out, const struct sp_jv *rec, int diff)
{
    const char *event = sp_jv_get_str(rec, "event");
    if (event && strcmp(event, "start") != 0)
        return;
    const struct sp_jv *vm = sp_jv_get(rec, "vm");
    const char *title = sp_jv_get_str(vm, "title"), *name = sp_jv_get_str(vm, "name");
    print_local_time(out, rec);
    fprintf(out, "  %s  %s  ", title && title[0] ? title : name ? name : "?", result_of(rec));
    print_devices(out, rec);
    print_tail(out, sp_jv_get(rec, "reason"), "reason");
    print_tail(out, sp_jv_get(sp_jv_get(rec, "libvirt"), "error"), "libvirt");
    print_tail(out, sp_jv_get(rec, "warnings"), "warning");
    fputc('\n', out);
    if (!diff)
        return;
    print_block(out, rec, "added", "added");
    print_block(out, rec, "video", "video");
    print_block(out, rec, "features", "features");
    print_block(out, rec, "cpu", "cpu");
}
