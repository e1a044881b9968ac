#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../common/fsutil.h"
#include "../common/json.h"

static void put_time(struct sp_json *j)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char text[40];
    size_t n = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(text + n, sizeof(text) - n, ".%03ldZ", ts.tv_nsec / 1000000);
    sp_json_member_str(j, "time", text);
}

static void put_vm(struct sp_json *j, const struct sp_start *st)
{
    sp_json_key(j, "vm");
    sp_json_begin_object(j);
    sp_json_member_str(j, "name", st->id.name);
    sp_json_member_str(j, "uuid", st->id.uuid);
    sp_json_member_str(j, "title", st->id.title);
    sp_json_end_object(j);
}

void sp_audit_put_snippets(struct sp_json *j, const struct sp_start *st)
{
    sp_json_key(j, "snippets");
    sp_json_begin_array(j);
    for (size_t i = 0; i < st->n_entries; i++)
        for (size_t k = 0; k < st->entries[i]->n_files; k++)
            sp_json_string(j, st->entries[i]->files[k]);
    sp_json_end_array(j);
}

static void put_device(struct sp_json *j, const struct sp_resolved_dev *d)
{
    char addr[SP_PCI_ADDR_STRLEN] = "";
    char vendor[9] = "", product[9] = ""; /* sp_pci_hex: 8 digits at most */
    if (d->has_addr)
        sp_pci_addr_format(&d->addr, addr);
    if (d->has_ids) {
        vendor[sp_pci_hex(vendor, d->ids.vendor, 4)] = '\0';
        product[sp_pci_hex(product, d->ids.device, 4)] = '\0';
    }
    char source[1024];
    snprintf(source, sizeof(source), "%s:%d", d->file ? d->file : "?", d->line);
    sp_json_begin_object(j);
    sp_json_member_str(j, "address", d->has_addr ? addr : NULL);
    sp_json_member_str(j, "vendor", d->has_ids ? vendor : NULL);
    sp_json_member_str(j, "product", d->has_ids ? product : NULL);
    sp_json_member_str(j, "rom", d->rom);
    sp_json_member_str(j, "rom_note", d->rom_note);
    sp_json_member_str(j, "kind", d->raw_xml ? "hostdev" : "pci");
    sp_json_member_str(j, "source", source);
    sp_json_member_bool(j, "bind", d->bind);
    sp_json_end_object(j);
}

static void put_devices(struct sp_json *j, const struct sp_start *st)
{
    sp_json_key(j, "devices");
    sp_json_begin_array(j);
    for (size_t i = 0; i < st->n_devs; i++)
        put_device(j, &st->devs[i]);
    sp_json_end_array(j);
}

/* What libvirt did; when it failed, the note names the devices the kernel
 * cannot reset (a likely cause: one still in the state of an earlier run). */
static void put_libvirt(struct sp_json *j, const struct sp_start *st,
                        const struct sp_audit_outcome *o)
{
    sp_json_key(j, "libvirt");
    if (!o || !o->forwarded) {
        sp_json_null(j);
        return;
    }
    sp_json_begin_object(j);
    sp_json_member_bool(j, "ok", o->libvirt_ok);
    sp_json_member_str(j, "error", o->libvirt_ok ? NULL : o->libvirt_error);
    sp_json_member_str(j, "note", o->libvirt_ok ? NULL : st->reset_note);
    sp_json_end_object(j);
}

/* "key": [each non-empty line of text]. */
static void put_lines(struct sp_json *j, const char *key, const char *text)
{
    sp_json_key(j, key);
    sp_json_begin_array(j);
    for (const char *l = text; l && *l;) {
        size_t len = strcspn(l, "\n");
        if (len > 0)
            sp_json_string_len(j, l, len);
        l += len + (l[len] == '\n');
    }
    sp_json_end_array(j);
}

/* The record's first members: time, event, api and vm, in j's buffer. */
static void begin_record(struct sp_json *j, const char *event, const char *api,
                         const struct sp_start *st)
{
    sp_json_reset(j, 0);
    sp_json_begin_object(j);
    put_time(j);
    sp_json_member_str(j, "event", event);
    sp_json_member_str(j, "api", api);
    put_vm(j, st);
}

static void put_start_record(struct sp_json *j, const struct sp_start *st, const char *api,
                             const struct sp_audit_outcome *outcome)
{
    int ok = st->verdict == SP_READY;
    begin_record(j, "start", api, st);
    sp_audit_put_snippets(j, st);
    put_devices(j, st);
    sp_json_member_str(j, "result", ok ? "ok" : "refused");
    sp_json_member_str(j, "reason", ok ? NULL : st->err.msg);
    sp_json_member_strings(j, "warnings", st->warnings, st->n_warnings);
    sp_json_member_strings(j, "added", st->report.added, st->report.n_added);
    sp_json_member_strings(j, "video", st->report.video.text, st->report.video.n);
    sp_json_member_strings(j, "features", st->report.features.text, st->report.features.n);
    sp_json_member_strings(j, "cpu", st->report.cpu.text, st->report.cpu.n);
    sp_json_member_int(j, "already_present", (long long)st->report.n_present);
    put_lines(j, "bound", outcome ? outcome->bound : NULL);
    put_libvirt(j, st, outcome);
    sp_json_end_object(j);
}

char *sp_audit_format(const struct sp_start *st, const char *api,
                      const struct sp_audit_outcome *outcome)
{
    struct sp_json j;
    sp_json_init(&j, 0);
    put_start_record(&j, st, api, outcome);
    return sp_json_take(&j);
}

/* Each thread builds its records in a buffer it keeps: once a record as
 * long has been written, the next needs no allocation (and a start's
 * record does not pay for the heap the freed domain tree left behind). */
static pthread_key_t builder_key;
static pthread_once_t builder_once = PTHREAD_ONCE_INIT;
static int builder_key_made;

static void free_builder(void *j)
{
    sp_json_free(j);
    free(j);
}

static void make_builder_key(void)
{
    builder_key_made = pthread_key_create(&builder_key, free_builder) == 0;
}

/* The calling thread's builder, or own (initialised here, freed by the
 * caller) when it cannot have one. */
static struct sp_json *thread_builder(struct sp_json *own)
{
    pthread_once(&builder_once, make_builder_key);
    struct sp_json *j = builder_key_made ? pthread_getspecific(builder_key) : NULL;
    if (!j && builder_key_made && (j = calloc(1, sizeof(*j))) != NULL &&
        pthread_setspecific(builder_key, j) != 0) {
        free(j);
        j = NULL;
    }
    if (!j)
        sp_json_init(j = own, 0);
    return j;
}

/* A directory part of path ("." when none), into out. */
static void dir_of(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, size, ".");
    else
        snprintf(out, size, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

/* The log file must be a regular file (never a FIFO, a device or a
 * symlink: nothing opened here may block or act), pass StrictModes, and
 * sit in directories that pass it up to /. */
static int open_log(const char *path, struct sp_err *err)
{
    char dir[SP_PATH_MAX];
    struct stat st;
    dir_of(path, dir, sizeof(dir));
    if (sp_check_dir_chain(dir, "its dir", NULL, err) < 0)
        return sp_err_prefix(err, "audit log %s", path);
    int fd = sp_open_write(path, O_WRONLY | O_APPEND, 0600, &st, err);
    if (fd < 0)
        return sp_err_prefix(err, "audit log");
    if (sp_check_strict_mode(path, &st, "audit log", err) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Appends one line, under the file's lock: a write the disk can hold only
 * part of (ENOSPC) is taken back, as a partial line would make the record
 * after it unreadable too. Every writer takes the lock, so the rest of a
 * short write still lands right after its first part. */
static int append_line(const char *path, const char *line, size_t len, struct sp_err *err)
{
    int fd = open_log(path, err);
    if (fd < 0)
        return -1;
    int locked;
    do
        locked = flock(fd, LOCK_EX);
    while (locked < 0 && errno == EINTR);
    struct stat st;
    off_t end = locked == 0 && fstat(fd, &st) == 0 ? st.st_size : -1;
    size_t done = 0;
    int saved = 0;
    while (done < len) {
        ssize_t n = write(fd, line + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            saved = n < 0 ? errno : EIO;
            break;
        }
        done += (size_t)n;
    }
    int kept_part = done > 0 && done < len && (end < 0 || ftruncate(fd, end) < 0);
    close(fd); /* and with it the lock */
    if (done == len)
        return 0;
    return sp_err_set(err, "audit log %s: %s (%s)", path, strerror(saved),
                      kept_part ? "a part of the record is left in it"
                                : "the record was not written");
}

/* Appends the record built in j, then frees j unless it is the thread's. */
static int append_record(const char *path, struct sp_json *j, const struct sp_json *own,
                         struct sp_err *err)
{
    size_t len = 0;
    const char *line = sp_json_line(j, &len);
    int rc = line ? append_line(path, line, len, err)
                  : sp_err_set(err, "audit log %s: out of memory formatting the record", path);
    if (j == own)
        sp_json_free(j);
    return rc;
}

int sp_audit_write_bind(const struct sp_start *st, const char *api, const char *helper_out,
                        struct sp_err *err)
{
    const char *path = st->snap->settings.audit_log;
    if (!path || !path[0])
        return 0;
    struct sp_json own, *j = thread_builder(&own);
    begin_record(j, "bind", api, st);
    put_lines(j, "bound", helper_out);
    sp_json_end_object(j);
    return append_record(path, j, &own, err);
}

int sp_audit_write(const struct sp_start *st, const char *api,
                   const struct sp_audit_outcome *outcome, struct sp_err *err)
{
    const char *path = st->snap->settings.audit_log;
    if (!path || !path[0])
        return 0;
    struct sp_json own, *j = thread_builder(&own);
    put_start_record(j, st, api, outcome);
    return append_record(path, j, &own, err);
}
