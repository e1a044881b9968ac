#include "source.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../common/xmlutil.h"

/* Longest key, so that "port-" + key still fits. */
#define KEY_LIMIT (SP_SRC_KEY_MAX - sizeof("port-"))

#define KNOWN_KINDS                                                                            \
    "subsystem pci, usb, scsi, scsi_host, mdev; capabilities storage, misc, net"

/* --- building a key ----------------------------------------------------- */

static int key_add(struct sp_hostdev_src *src, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends to the key; -1 when it would grow past KEY_LIMIT. */
static int key_add(struct sp_hostdev_src *src, const char *fmt, ...)
{
    size_t used = strlen(src->key);
    size_t room = KEY_LIMIT + 1 - used;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(src->key + used, room, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < room ? 0 : -1;
}

static int is_plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Appends free text (an adapter name, a path): letters, digits and '_' as
 * they are, every other byte as "-xHH", so two texts never give one key. */
static int key_add_text(struct sp_hostdev_src *src, const char *text)
{
    for (const unsigned char *c = (const unsigned char *)text; *c; c++)
        if ((is_plain(*c) ? key_add(src, "%c", *c) : key_add(src, "-x%02x", *c)) < 0)
            return -1;
    return 0;
}

static int too_long(struct sp_err *err)
{
    return sp_err_set(err, "its source is too long to be named in an alias (at most %zu "
                      "characters)", (size_t)KEY_LIMIT);
}

/* The key "KIND-TEXT" of a device named by free text; when the text is
 * missing or empty, -1 with `need` as the reason. */
static int key_of_text(struct sp_hostdev_src *src, const char *kind, const xmlChar *text,
                       const char *need, struct sp_err *err)
{
    if (!text || !text[0])
        return sp_err_set(err, "%s", need);
    if (key_add(src, "%s-", kind) < 0 || key_add_text(src, (const char *)text) < 0)
        return too_long(err);
    return 0;
}

/* c as a lower-case hex digit, or 0 when it is none. */
static char lower_hex(char c)
{
    if (c >= 'A' && c <= 'F')
        return (char)(c - 'A' + 'a');
    return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) ? c : 0;
}

void sp_src_pci_key(char *out, size_t size, const struct sp_pci_addr *host, int with_function)
{
    char key[40];
    size_t n = sp_pci_hex(key, host->domain, 4);
    key[n++] = '-';
    n += sp_pci_hex(key + n, host->bus, 2);
    key[n++] = '-';
    n += sp_pci_hex(key + n, host->slot, 2);
    if (with_function) {
        key[n++] = '-';
        n += sp_pci_hex(key + n, host->function, 1);
    }
    size_t keep = n < size ? n : size - 1; /* cut to size, as snprintf would */
    if (size) {
        memcpy(out, key, keep);
        out[keep] = '\0';
    }
}

/* --- one reader per kind ------------------------------------------------ */

typedef int (*read_fn)(xmlNodePtr hostdev, xmlNodePtr source, struct sp_hostdev_src *src,
                       struct sp_err *err);

static int read_pci(xmlNodePtr hostdev, xmlNodePtr source, struct sp_hostdev_src *src,
                    struct sp_err *err)
{
    (void)hostdev;
    struct sp_pci_addr a;
    xmlNodePtr addr = sp_xml_child(source, "address");
    if (!addr || sp_xml_read_pci_address(addr, &a) < 0)
        return sp_err_set(err, "type='pci' needs <address domain= bus= slot= function=> in "
                          "<source>");
    sp_src_pci_key(src->key, KEY_LIMIT + 1, &a, 1);
    src->guest_pci = 1;
    return 0;
}

static int read_usb(xmlNodePtr hostdev, xmlNodePtr source, struct sp_hostdev_src *src,
                    struct sp_err *err)
{
    (void)hostdev;
    xmlNodePtr vendor = sp_xml_child(source, "vendor");
    xmlNodePtr product = sp_xml_child(source, "product");
    xmlNodePtr place = sp_xml_child(source, "address");
    src->usb = 1;
    if (vendor || product) {
        if (sp_xml_attr_uint(vendor, "id", 0xffff, &src->vendor) != 1 ||
            sp_xml_attr_uint(product, "id", 0xffff, &src->product) != 1)
            return sp_err_set(err, "type='usb' needs both <vendor id=> and <product id=> "
                              "(numbers up to 0xffff)");
        src->has_ids = 1;
        key_add(src, "usb-%04x-%04x", src->vendor, src->product);
    }
    if (place) {
        if (sp_xml_attr_uint(place, "bus", 0xffff, &src->bus) != 1 ||
            sp_xml_attr_uint(place, "device", 0xffff, &src->device) != 1)
            return sp_err_set(err, "type='usb' needs bus= and device= on its source <address>");
        src->has_place = 1;
        key_add(src, "%s-bus-%u-dev-%u", src->has_ids ? "" : "usb", src->bus, src->device);
    }
    if (!src->has_ids && !src->has_place)
        return sp_err_set(err, "type='usb' needs <vendor id=>/<product id=> or <address bus= "
                          "device=> in <source>");
    return 0;
}

static int read_scsi_adapter(xmlNodePtr source, struct sp_hostdev_src *src, struct sp_err *err)
{
    xmlChar *name = xmlGetNoNsProp(sp_xml_child(source, "adapter"), BAD_CAST "name");
    xmlNodePtr addr = sp_xml_child(source, "address");
    unsigned bus, target, unit;
    int rc = 0;
    if (!name || !name[0] || sp_xml_attr_uint(addr, "bus", UINT_MAX, &bus) != 1 ||
        sp_xml_attr_uint(addr, "target", UINT_MAX, &target) != 1 ||
        sp_xml_attr_uint(addr, "unit", UINT_MAX, &unit) != 1)
        rc = sp_err_set(err, "type='scsi' needs <adapter name=> and <address bus= target= unit=> "
                        "in <source>");
    else if (key_add(src, "scsi-") < 0 || key_add_text(src, (const char *)name) < 0 ||
             key_add(src, "-%u-%u-%u", bus, target, unit) < 0)
        rc = too_long(err);
    xmlFree(name);
    return rc;
}

/* An iSCSI LUN: its name (IQN and LUN) is unique on its own. */
static int read_iscsi(xmlNodePtr source, struct sp_hostdev_src *src, struct sp_err *err)
{
    xmlChar *name = xmlGetNoNsProp(source, BAD_CAST "name");
    int rc = key_of_text(src, "iscsi", name,
                         "type='scsi' with protocol='iscsi' needs name= on <source>", err);
    xmlFree(name);
    return rc;
}

static int read_scsi(xmlNodePtr hostdev, xmlNodePtr source, struct sp_hostdev_src *src,
                     struct sp_err *err)
{
    (void)hostdev;
    xmlChar *protocol = xmlGetNoNsProp(source, BAD_CAST "protocol");
    int rc;
    if (!protocol || xmlStrEqual(protocol, BAD_CAST "adapter"))
        rc = read_scsi_adapter(source, src, err);
    else if (xmlStrEqual(protocol, BAD_CAST "iscsi"))
        rc = read_iscsi(source, src, err);
    else
        rc = sp_err_set(err, "type='scsi': protocol='%s' is neither 'adapter' nor 'iscsi'",
                        (const char *)protocol);
    xmlFree(protocol);
    return rc;
}

/* "naa." and 16 hex digits (libvirt also takes "0x" before them): the
 * digits in lower case, or -1. */
static int wwpn_digits(const char *wwpn, char out[17])
{
    if (!wwpn || strncmp(wwpn, "naa.", 4) != 0)
        return -1;
    const char *p = wwpn + 4;
    if (p[0] == '0' && p[1] == 'x')
        p += 2;
    size_t i;
    for (i = 0; i < 16 && p[i]; i++)
        if ((out[i] = lower_hex(p[i])) == 0)
            return -1;
    out[i] = '\0';
    return i == 16 && p[i] == '\0' ? 0 : -1;
}

static int read_vhost(xmlNodePtr hostdev, xmlNodePtr source, struct sp_hostdev_src *src,
                      struct sp_err *err)
{
    (void)hostdev;
    xmlChar *wwpn = xmlGetNoNsProp(source, BAD_CAST "wwpn");
    char digits[17];
    int rc = 0;
    if (!sp_xml_attr_is(source, "protocol", "vhost") || wwpn_digits((const char *)wwpn, digits) < 0)
        rc = sp_err_set(err, "type='scsi_host' needs <source protocol='vhost' wwpn='naa.' and 16 "
                        "hex digits>");
    else
        key_add(src, "scsi_host-naa-%s", digits);
    src->guest_pci = 1; /* vhost-scsi-pci */
    xmlFree(wwpn);
    return rc;
}

/* A UUID as libvirt reads one (32 hex digits; '-' or ' ' between bytes,
 * blanks around), written 8-4-4-4-12 in lower case. */
static int canonical_uuid(const char *text, char out[37])
{
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    size_t o = 0;
    for (int byte = 0; byte < 16;) {
        if (*p == '-' || *p == ' ') {
            p++;
            continue;
        }
        char hi = lower_hex(p[0]), lo = hi ? lower_hex(p[1]) : 0;
        if (!lo)
            return -1;
        if (byte == 4 || byte == 6 || byte == 8 || byte == 10)
            out[o++] = '-';
        out[o++] = hi;
        out[o++] = lo;
        p += 2;
        byte++;
    }
    out[o] = '\0';
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return *p == '\0' ? 0 : -1;
}

static int read_mdev(xmlNodePtr hostdev, xmlNodePtr source, struct sp_hostdev_src *src,
                     struct sp_err *err)
{
    xmlChar *uuid = xmlGetNoNsProp(sp_xml_child(source, "address"), BAD_CAST "uuid");
    char canon[37];
    int rc = 0;
    if (!uuid || canonical_uuid((const char *)uuid, canon) < 0)
        rc = sp_err_set(err, "type='mdev' needs <address uuid=> (a UUID) in <source>");
    else
        key_add(src, "mdev-%s", canon);
    /* vfio-ccw and vfio-ap devices are not PCI devices in the guest. */
    src->guest_pci = sp_xml_attr_is(hostdev, "model", "vfio-pci");
    xmlFree(uuid);
    return rc;
}

/* mode='capabilities': the device is a path or an interface name. */
static int read_caps(xmlNodePtr source, const char *child, const char *kind,
                     struct sp_hostdev_src *src, struct sp_err *err)
{
    xmlNodePtr node = sp_xml_child(source, child);
    xmlChar *text = node ? xmlNodeGetContent(node) : NULL;
    char need[64];
    snprintf(need, sizeof(need), "type='%s' needs <%s> in <source>", kind, child);
    int rc = key_of_text(src, kind, text, need, err);
    xmlFree(text);
    return rc;
}

static int read_storage(xmlNodePtr hostdev, xmlNodePtr source, struct sp_hostdev_src *src,
                        struct sp_err *err)
{
    (void)hostdev;
    return read_caps(source, "block", "storage", src, err);
}

static int read_misc(xmlNodePtr hostdev, xmlNodePtr source, struct sp_hostdev_src *src,
                     struct sp_err *err)
{
    (void)hostdev;
    return read_caps(source, "char", "misc", src, err);
}

static int read_net(xmlNodePtr hostdev, xmlNodePtr source, struct sp_hostdev_src *src,
                    struct sp_err *err)
{
    (void)hostdev;
    return read_caps(source, "interface", "net", src, err);
}

static const struct kind {
    const char *mode, *type;
    read_fn read;
} kinds[] = {
    {"subsystem", "pci", read_pci},         {"subsystem", "usb", read_usb},
    {"subsystem", "scsi", read_scsi},       {"subsystem", "scsi_host", read_vhost},
    {"subsystem", "mdev", read_mdev},       {"capabilities", "storage", read_storage},
    {"capabilities", "misc", read_misc},    {"capabilities", "net", read_net},
};

static const struct kind *find_kind(const char *mode, const char *type)
{
    for (size_t i = 0; type && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].mode, mode) == 0 && strcmp(kinds[i].type, type) == 0)
            return &kinds[i];
    return NULL;
}

int sp_hostdev_src_read(xmlNodePtr hostdev, struct sp_hostdev_src *src, struct sp_err *err)
{
    memset(src, 0, sizeof(*src));
    if (!sp_xml_is(hostdev, "hostdev"))
        return sp_err_set(err, "not a <hostdev>");
    xmlChar *mode = xmlGetNoNsProp(hostdev, BAD_CAST "mode");
    xmlChar *type = xmlGetNoNsProp(hostdev, BAD_CAST "type");
    const char *m = mode ? (const char *)mode : "subsystem";
    const struct kind *k = find_kind(m, (const char *)type);
    xmlNodePtr source = sp_xml_child(hostdev, "source");
    int rc;
    if (!k)
        rc = sp_err_set(err, "mode='%s' type='%s' is no kind of host device libvirt knows (%s)",
                        m, type ? (const char *)type : "", KNOWN_KINDS);
    else if (!source)
        rc = sp_err_set(err, "type='%s' has no <source>", k->type);
    else
        rc = k->read(hostdev, source, src, err);
    xmlFree(mode);
    xmlFree(type);
    return rc;
}

int sp_hostdev_src_same(const struct sp_hostdev_src *a, const struct sp_hostdev_src *b)
{
    if (a->usb != b->usb)
        return 0;
    if (!a->usb)
        return strcmp(a->key, b->key) == 0;
    int ids = a->has_ids && b->has_ids;
    int place = a->has_place && b->has_place;
    if (ids && (a->vendor != b->vendor || a->product != b->product))
        return 0;
    if (place && (a->bus != b->bus || a->device != b->device))
        return 0;
    return ids || place;
}
