#include "ids.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../common/fsutil.h"

#ifndef SP_DATADIR
#define SP_DATADIR "/usr/local/share/synopassthru"
#endif

/* What one line of pci.ids lists. Subsystem and prog-if lines, comments and
 * malformed lines are IDS_NONE. */
enum ids_kind { IDS_NONE, IDS_VENDOR, IDS_DEVICE, IDS_CLASS, IDS_SUBCLASS };

struct ids_entry {
    enum ids_kind kind;
    unsigned id1, id2; /* vendor and device, or class and subclass */
    const char *name;  /* inside the text: the rest of the line after the ID, */
    size_t name_len;   /* until trim_name() cuts it down to the name */
};

/* Walks the text line by line. `block` is the top-level line that the
 * nested lines below it belong to: IDS_VENDOR, IDS_CLASS, or IDS_NONE for
 * none we read (a malformed one, "S ...", or a block still to come). */
struct ids_cursor {
    const char *p, *end;
    enum ids_kind block;
    unsigned block_id;
};

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* libpci ends a line at "\r" too; a NUL ends it as in a C string. */
static int ends_line(char c)
{
    return c == '\r' || c == '\0';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* n hex digits at s followed by a blank, as libpci requires; -1 otherwise. */
static long hex_field(const char *s, size_t len, size_t n)
{
    if (len <= n || !is_blank(s[n]))
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hex_digit(s[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The name after an ID: blanks skipped at both ends. Only done for the
 * entries looked up, so a walk does not read every name. 0 when empty (an
 * entry without a name lists nothing). */
static int trim_name(struct ids_entry *e)
{
    const char *s = e->name;
    size_t start = 0, end;
    while (start < e->name_len && is_blank(s[start]))
        start++;
    for (end = start; end < e->name_len && !ends_line(s[end]); end++)
        ;
    while (end > start && is_blank(s[end - 1]))
        end--;
    e->name = s + start;
    e->name_len = end - start;
    return end > start;
}

static void open_block(struct ids_cursor *c, enum ids_kind block, long id)
{
    c->block = id < 0 ? IDS_NONE : block;
    c->block_id = id < 0 ? 0 : (unsigned)id;
}

/* "C cc  Name", "vvvv  Name", or another block ("S vvvv", unknown letters). */
static void read_top_level(struct ids_cursor *c, const char *s, size_t len, struct ids_entry *e)
{
    if (len >= 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] == ' ') {
        open_block(c, IDS_CLASS, s[0] == 'C' ? hex_field(s + 2, len - 2, 2) : -1);
        if (c->block == IDS_CLASS)
            *e = (struct ids_entry){IDS_CLASS, c->block_id, 0, s + 4, len - 4};
        return;
    }
    open_block(c, IDS_VENDOR, hex_field(s, len, 4));
    if (c->block == IDS_VENDOR)
        *e = (struct ids_entry){IDS_VENDOR, c->block_id, 0, s + 4, len - 4};
}

/* "\tdddd  Name" below a vendor, "\tss  Name" below a class. */
static void read_nested(const struct ids_cursor *c, const char *s, size_t len, struct ids_entry *e)
{
    size_t digits = c->block == IDS_VENDOR ? 4 : 2;
    long id = c->block == IDS_NONE ? -1 : hex_field(s, len, digits);
    if (id >= 0)
        *e = (struct ids_entry){c->block == IDS_VENDOR ? IDS_DEVICE : IDS_SUBCLASS, c->block_id,
                                (unsigned)id, s + digits, len - digits};
}

static void read_line(struct ids_cursor *c, const char *s, size_t len, struct ids_entry *e)
{
    *e = (struct ids_entry){IDS_NONE, 0, 0, NULL, 0};
    size_t i = 0, tabs = 0;
    while (i < len && is_blank(s[i]))
        i++;
    if (i == len || ends_line(s[i]) || s[i] == '#')
        return; /* blank line or comment */
    while (tabs < len && s[tabs] == '\t')
        tabs++;
    if (tabs == 0)
        read_top_level(c, s, len, e);
    else if (tabs == 1)
        read_nested(c, s + 1, len - 1, e);
    /* Deeper lines (subsystems, prog-ifs) name nothing we look up. */
}

/* The next line (its '\n' excluded) read into e; 0 at the end of the text. */
static int ids_next(struct ids_cursor *c, struct ids_entry *e)
{
    if (c->p >= c->end)
        return 0;
    size_t left = (size_t)(c->end - c->p);
    const char *nl = memchr(c->p, '\n', left);
    size_t len = nl ? (size_t)(nl - c->p) : left;
    read_line(c, c->p, len, e);
    c->p += nl ? len + 1 : len;
    return 1;
}

/* The first names listed for the top-level entry (kind, id1) and for the
 * entry nested below it (nested, id1, id2); NULL names when not listed. */
static void find_pair(const char *ids, size_t len, enum ids_kind kind, enum ids_kind nested,
                      unsigned id1, unsigned id2, struct ids_entry *top, struct ids_entry *sub)
{
    if (!ids) { /* no database: nothing is listed */
        ids = "";
        len = 0;
    }
    struct ids_cursor c = {ids, ids + len, IDS_NONE, 0};
    struct ids_entry e;
    top->name = sub->name = NULL;
    while ((!top->name || !sub->name) && ids_next(&c, &e)) {
        if (!top->name && e.kind == kind && e.id1 == id1 && trim_name(&e))
            *top = e;
        else if (!sub->name && e.kind == nested && e.id1 == id1 && e.id2 == id2 &&
                 trim_name(&e))
            *sub = e;
    }
}

/* How much of a name snprintf is given: never more than out can hold (so
 * a long name still shows as cut), and always an int. */
static int shown(const struct ids_entry *e, size_t size)
{
    size_t n = e->name_len < size ? e->name_len : size;
    return n > INT_MAX / 4 ? INT_MAX / 4 : (int)n;
}

/* snprintf into out; a cut result ends in "..." as libpci's does. */
__attribute__((format(printf, 3, 4)))
static const char *put(char *out, size_t size, const char *fmt, ...)
{
    if (size == 0)
        return "";
    va_list ap;
    va_start(ap, fmt);
    int res = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    if (res >= 0 && (size_t)res >= size && size >= 4)
        memcpy(out + size - 4, "...", 3);
    return out;
}

const char *sp_ids_device_name(const char *ids, size_t len, uint16_t vendor, uint16_t device,
                               char *out, size_t size)
{
    struct ids_entry v, d;
    find_pair(ids, len, IDS_VENDOR, IDS_DEVICE, vendor, device, &v, &d);
    if (!v.name)
        return put(out, size, "Device %04x:%04x", vendor, device);
    if (!d.name)
        return put(out, size, "%.*s Device %04x", shown(&v, size), v.name, device);
    return put(out, size, "%.*s %.*s", shown(&v, size), v.name, shown(&d, size), d.name);
}

const char *sp_ids_class_name(const char *ids, size_t len, uint32_t class_code,
                              char *out, size_t size)
{
    unsigned cls = (class_code >> 16) & 0xff, sub = (class_code >> 8) & 0xff;
    struct ids_entry c, s;
    find_pair(ids, len, IDS_CLASS, IDS_SUBCLASS, cls, sub, &c, &s);
    if (s.name)
        return put(out, size, "%.*s", shown(&s, size), s.name);
    if (c.name)
        return put(out, size, "%.*s [%02x%02x]", shown(&c, size), c.name, cls, sub);
    return put(out, size, "Class %02x%02x", cls, sub);
}

static const char *const ids_paths[] = {
    SP_DATADIR "/pci.ids",
    "/usr/share/misc/pci.ids",
    "/usr/share/hwdata/pci.ids",
    "/usr/share/pci.ids",
};
static pthread_once_t system_once = PTHREAD_ONCE_INIT;
static char *system_ids;
static size_t system_len;

static void load_system_ids(void)
{
    for (size_t i = 0; i < sizeof(ids_paths) / sizeof(ids_paths[0]); i++)
        if (sp_read_file(ids_paths[i], SP_IDS_MAX_BYTES, &system_ids, &system_len, NULL) == 0)
            return;
}

const char *sp_ids_system(size_t *len)
{
    pthread_once(&system_once, load_system_ids);
    *len = system_ids ? system_len : 0;
    return system_ids ? system_ids : "";
}
