#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

static json_t *string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *timestamp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char text[40];
    size_t n = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(text + n, sizeof(text) - n, ".%03ldZ", ts.tv_nsec / 1000000);
    return json_string(text);
}

static json_t *vm_object(const struct sp_start *st)
{
    return json_pack("{s:o, s:o, s:o}", "name", string_or_null(st->id.name), "uuid",
                     string_or_null(st->id.uuid), "title", string_or_null(st->id.title));
}

static json_t *snippet_list(const struct sp_start *st)
{
    json_t *files = json_array();
    for (size_t i = 0; files && i < st->n_entries; i++)
        for (size_t j = 0; j < st->entries[i]->n_files; j++)
            json_array_append_new(files, json_string(st->entries[i]->files[j]));
    return files;
}

static json_t *device_object(const struct sp_resolved_dev *d)
{
    char addr[SP_PCI_ADDR_STRLEN] = "";
    char vendor[8] = "", product[8] = "";
    if (d->has_addr)
        sp_pci_addr_format(&d->addr, addr);
    if (d->has_ids) {
        snprintf(vendor, sizeof(vendor), "%04x", d->ids.vendor);
        snprintf(product, sizeof(product), "%04x", d->ids.device);
    }
    char source[1024];
    snprintf(source, sizeof(source), "%s:%d", d->file ? d->file : "?", d->line);
    return json_pack("{s:o, s:o, s:o, s:o, s:s, s:s, s:b}", "address",
                     string_or_null(d->has_addr ? addr : NULL), "vendor",
                     string_or_null(d->has_ids ? vendor : NULL), "product",
                     string_or_null(d->has_ids ? product : NULL), "rom", string_or_null(d->rom),
                     "kind", d->raw_xml ? "hostdev" : "pci", "source", source, "bind", d->bind);
}

static json_t *device_list(const struct sp_start *st)
{
    json_t *devs = json_array();
    for (size_t i = 0; devs && i < st->n_devs; i++)
        json_array_append_new(devs, device_object(&st->devs[i]));
    return devs;
}

static json_t *added_list(const struct sp_start *st)
{
    json_t *added = json_array();
    for (size_t i = 0; added && i < st->report.n_added; i++)
        json_array_append_new(added, json_string(st->report.added[i]));
    return added;
}

static json_t *warning_list(const struct sp_start *st)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < st->n_warnings; i++)
        json_array_append_new(list, json_string(st->warnings[i]));
    return list;
}

static json_t *libvirt_object(const struct sp_audit_outcome *o)
{
    if (!o || !o->forwarded)
        return json_null();
    return json_pack("{s:b, s:o}", "ok", o->libvirt_ok, "error",
                     string_or_null(o->libvirt_ok ? NULL : o->libvirt_error));
}

static json_t *line_list(const char *text)
{
    json_t *lines = json_array();
    char *copy = text ? strdup(text) : NULL, *save = NULL;
    for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; l && lines;
         l = strtok_r(NULL, "\n", &save))
        json_array_append_new(lines, json_string(l));
    free(copy);
    return lines;
}

static char *dump_record(json_t *rec)
{
    if (!rec)
        return NULL;
    char *text = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(rec);
    return text;
}

char *sp_audit_format(const struct sp_start *st, const char *api,
                      const struct sp_audit_outcome *outcome)
{
    int ok = st->verdict == SP_READY;
    json_t *rec = json_pack("{s:o, s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:I, s:o, s:o}",
                            "time", timestamp_now(), "event", "start", "api", api,
                            "vm", vm_object(st),
                            "snippets", snippet_list(st), "devices", device_list(st),
                            "result", ok ? "ok" : "refused", "reason",
                            string_or_null(ok ? NULL : st->err.msg), "warnings",
                            warning_list(st), "added", added_list(st),
                            "already_present", (json_int_t)st->report.n_present,
                            "bound", line_list(outcome ? outcome->bound : NULL),
                            "libvirt", libvirt_object(outcome));
    return dump_record(rec);
}

static int append_line(const char *path, const char *text, struct sp_err *err)
{
    size_t len = strlen(text);
    char *line = malloc(len + 2);
    if (!line)
        return sp_err_set(err, "audit log %s: out of memory", path);
    memcpy(line, text, len);
    line[len] = '\n';
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int saved = errno;
        free(line);
        return sp_err_set(err, "audit log %s: %s", path, strerror(saved));
    }
    ssize_t n;
    do
        n = write(fd, line, len + 1);
    while (n < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    free(line);
    if (n < 0)
        return sp_err_set(err, "audit log %s: %s", path, strerror(saved));
    if ((size_t)n != len + 1)
        return sp_err_set(err, "audit log %s: short write (%zd of %zu bytes)", path, n, len + 1);
    return 0;
}

int sp_audit_write_bind(const struct sp_start *st, const char *api, const char *helper_out,
                        struct sp_err *err)
{
    const char *path = st->snap->settings.audit_log;
    if (!path || !path[0])
        return 0;
    char *text = dump_record(json_pack("{s:o, s:s, s:s, s:o, s:o}", "time", timestamp_now(),
                                       "event", "bind", "api", api, "vm", vm_object(st),
                                       "bound", line_list(helper_out)));
    if (!text)
        return sp_err_set(err, "audit log %s: cannot format the record", path);
    int rc = append_line(path, text, err);
    free(text);
    return rc;
}

int sp_audit_write(const struct sp_start *st, const char *api,
                   const struct sp_audit_outcome *outcome, struct sp_err *err)
{
    const char *path = st->snap->settings.audit_log;
    if (!path || !path[0])
        return 0;
    char *text = sp_audit_format(st, api, outcome);
    if (!text)
        return sp_err_set(err, "audit log %s: cannot format the record", path);
    int rc = append_line(path, text, err);
    free(text);
    return rc;
}
