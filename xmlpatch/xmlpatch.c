#include "xmlpatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "../common/xmlutil.h"
#include "layout.h"
#include "slots.h"
#include "source.h"

/* A host device already in the domain, with its guest placement if any. */
struct present {
    struct sp_pci_addr host;
    int has_guest;
    struct sp_pci_addr guest;
};

struct patch {
    xmlDocPtr doc;
    xmlNodePtr devices;
    struct present *present;
    size_t n_present;
    struct sp_slot_map slots;
    struct sp_patch_report *report;
    struct sp_err *err;
};

/* --- what the domain already has ---------------------------------------- */

static xmlNodePtr guest_address(xmlNodePtr dev)
{
    for (xmlNodePtr c = dev->children; c; c = c->next)
        if (sp_xml_is(c, "address"))
            return c;
    return NULL;
}

/* A host PCI address claimed by a device element: PCI <hostdev>, or an
 * <interface type='hostdev'> with a PCI source. */
static xmlNodePtr host_address_of(xmlNodePtr dev)
{
    if (sp_xml_is(dev, "hostdev"))
        return sp_xml_hostdev_source_address(dev);
    if (sp_xml_is(dev, "interface")) {
        xmlChar *type = xmlGetNoNsProp(dev, BAD_CAST "type");
        int hostdev = type && xmlStrEqual(type, BAD_CAST "hostdev");
        xmlFree(type);
        if (hostdev)
            return sp_xml_child(sp_xml_child(dev, "source"), "address");
    }
    return NULL;
}

static int add_present(struct patch *p, xmlNodePtr dev)
{
    xmlNodePtr src = host_address_of(dev);
    struct present item = {0};
    if (!src || sp_xml_read_pci_address(src, &item.host) < 0)
        return 0;
    xmlNodePtr guest = guest_address(dev);
    item.has_guest = guest && sp_xml_read_pci_address(guest, &item.guest) == 0;
    struct present *grown = realloc(p->present, (p->n_present + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    p->present = grown;
    p->present[p->n_present++] = item;
    return 0;
}

static int collect_present(struct patch *p)
{
    for (xmlNodePtr c = p->devices ? p->devices->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && add_present(p, c) < 0)
            return -1;
    return 0;
}

static int is_present(const struct patch *p, const struct sp_pci_addr *host)
{
    for (size_t i = 0; i < p->n_present; i++)
        if (sp_pci_addr_cmp(&p->present[i].host, host) == 0)
            return 1;
    return 0;
}

/* Guest slot of a function of the same host slot already in the domain. */
static const struct present *present_sibling(const struct patch *p, const struct sp_pci_addr *host)
{
    for (size_t i = 0; i < p->n_present; i++)
        if (p->present[i].has_guest && sp_pci_same_slot(&p->present[i].host, host))
            return &p->present[i];
    return NULL;
}

/* --- building elements -------------------------------------------------- */

static xmlNodePtr new_element(xmlDocPtr doc, const char *name)
{
    return xmlNewDocNode(doc, NULL, BAD_CAST name, NULL);
}

static int set_attr(xmlNodePtr node, const char *name, const char *fmt, unsigned value)
{
    char text[16];
    snprintf(text, sizeof(text), fmt, value);
    return xmlNewProp(node, BAD_CAST name, BAD_CAST text) ? 0 : -1;
}

/* name="0x..." with at least digits hex digits. */
static int set_hex_attr(xmlNodePtr node, const char *name, unsigned value, unsigned digits)
{
    char text[16] = "0x";
    text[2 + sp_pci_hex(text + 2, value, digits)] = '\0';
    return xmlNewProp(node, BAD_CAST name, BAD_CAST text) ? 0 : -1;
}

/* <address type='pci' domain= bus= slot= function= [multifunction='on']/> */
static xmlNodePtr new_pci_address(xmlDocPtr doc, const struct sp_pci_addr *a, int with_type,
                                  int multifunction)
{
    xmlNodePtr addr = new_element(doc, "address");
    if (!addr)
        return NULL;
    int rc = 0;
    if (with_type)
        rc |= xmlNewProp(addr, BAD_CAST "type", BAD_CAST "pci") ? 0 : -1;
    rc |= set_hex_attr(addr, "domain", a->domain, 4);
    rc |= set_hex_attr(addr, "bus", a->bus, 2);
    rc |= set_hex_attr(addr, "slot", a->slot, 2);
    rc |= set_hex_attr(addr, "function", a->function, 1);
    if (multifunction)
        rc |= xmlNewProp(addr, BAD_CAST "multifunction", BAD_CAST "on") ? 0 : -1;
    if (rc) {
        xmlFreeNode(addr);
        return NULL;
    }
    return addr;
}

/* <alias name='ua-sp-KEY'/>: our mark on what we add. */
static int set_alias(xmlNodePtr node, const char *key)
{
    char name[sizeof(SP_ALIAS_PREFIX) + SP_SRC_KEY_MAX];
    snprintf(name, sizeof(name), SP_ALIAS_PREFIX "%s", key);
    xmlNodePtr alias = xmlNewDocNode(node->doc, NULL, BAD_CAST "alias", NULL);
    if (!alias || !xmlNewProp(alias, BAD_CAST "name", BAD_CAST name) || !xmlAddChild(node, alias)) {
        xmlFreeNode(alias);
        return -1;
    }
    return 0;
}

/* <rom file='...'/> or <rom bar='off'/> (never both: the snippet says so). */
static int add_rom(xmlNodePtr hd, const struct sp_patch_dev *dev)
{
    xmlNodePtr rom = new_element(hd->doc, "rom");
    if (!rom || !xmlAddChild(hd, rom))
        return -1;
    if (dev->rom_bar_off)
        return xmlNewProp(rom, BAD_CAST "bar", BAD_CAST "off") ? 0 : -1;
    return xmlNewProp(rom, BAD_CAST "file", BAD_CAST dev->rom) ? 0 : -1;
}

static xmlNodePtr build_hostdev(xmlDocPtr doc, const struct sp_patch_dev *dev)
{
    xmlNodePtr hd = new_element(doc, "hostdev");
    xmlNodePtr source = new_element(doc, "source");
    xmlNodePtr host = new_pci_address(doc, &dev->host, 0, 0);
    if (!hd || !source || !host || !xmlNewProp(hd, BAD_CAST "mode", BAD_CAST "subsystem") ||
        !xmlNewProp(hd, BAD_CAST "type", BAD_CAST "pci") ||
        !xmlNewProp(hd, BAD_CAST "managed", BAD_CAST "no")) {
        xmlFreeNode(hd);
        xmlFreeNode(source);
        xmlFreeNode(host);
        return NULL;
    }
    xmlAddChild(hd, source);
    xmlAddChild(source, host);
    if ((dev->rom || dev->rom_bar_off) && add_rom(hd, dev) < 0) {
        xmlFreeNode(hd);
        return NULL;
    }
    char key[SP_SRC_KEY_MAX];
    sp_src_pci_key(key, sizeof(key), &dev->host, 1);
    if (set_alias(hd, key) < 0) {
        xmlFreeNode(hd);
        return NULL;
    }
    return hd;
}

/* The element or one of its attributes is in the xml: namespace, whose
 * declaration belongs to the document, not to the element. */
static int uses_doc_namespace(xmlNodePtr node)
{
    for (; node; node = node->next) {
        if (node->type != XML_ELEMENT_NODE)
            continue;
        if (node->ns && xmlStrEqual(node->ns->prefix, BAD_CAST "xml"))
            return 1;
        for (xmlAttrPtr a = node->properties; a; a = a->next)
            if (a->ns && xmlStrEqual(a->ns->prefix, BAD_CAST "xml"))
                return 1;
        if (uses_doc_namespace(node->children))
            return 1;
    }
    return 0;
}

/* The root element of src, made doc's: moved when neither document has a
 * dictionary (nothing in it then belongs to src, and a move allocates
 * nothing), else copied. */
static xmlNodePtr take_root(xmlDocPtr src, xmlDocPtr doc)
{
    xmlNodePtr root = xmlDocGetRootElement(src);
    if (src->dict || doc->dict || uses_doc_namespace(root))
        return xmlDocCopyNode(root, doc, 1);
    xmlUnlinkNode(root);
    xmlSetTreeDoc(root, doc);
    return root;
}

xmlNodePtr sp_xmlpatch_copy_in(xmlDocPtr doc, const char *xml, const char *name,
                               struct sp_err *err)
{
    xmlDocPtr src = sp_xml_parse(xml, strlen(xml), name, err);
    if (!src)
        return NULL;
    xmlNodePtr copy = take_root(src, doc);
    xmlFreeDoc(src);
    if (!copy) {
        sp_err_set(err, "out of memory");
        return NULL;
    }
    sp_layout_strip_blank(copy);
    return copy;
}

static xmlNodePtr copy_raw_hostdev(struct patch *p, const char *raw)
{
    return sp_xmlpatch_copy_in(p->doc, raw, "snippet hostdev", p->err);
}

/* --- placing elements --------------------------------------------------- */

static int record_added(struct patch *p, xmlNodePtr node)
{
    char *text = sp_xml_node_to_string(node);
    char **grown = text ? realloc(p->report->added, (p->report->n_added + 1) * sizeof(*grown)) : NULL;
    if (!grown) {
        free(text);
        return sp_err_set(p->err, "out of memory");
    }
    p->report->added = grown;
    p->report->added[p->report->n_added++] = text;
    return 0;
}

static int ensure_devices(struct patch *p)
{
    if (p->devices)
        return 0;
    xmlNodePtr devices = sp_layout_domain_child(xmlDocGetRootElement(p->doc), "devices");
    if (!devices)
        return sp_err_set(p->err, "out of memory");
    p->devices = devices;
    return 0;
}

/* Appends a device element (recorded compact, then laid out). */
static int place_device(struct patch *p, xmlNodePtr node)
{
    if (ensure_devices(p) < 0 || record_added(p, node) < 0) {
        xmlFreeNode(node);
        return -1;
    }
    if (sp_layout_append(p->devices, node) < 0) {
        /* Not placed: it is ours to free (placed, the document owns it). */
        if (!node->parent)
            xmlFreeNode(node);
        return sp_err_set(p->err, "out of memory");
    }
    return 0;
}

/* q35: one pcie-root-port per host slot (or per raw device that takes a
 * guest PCI slot), its alias "ua-sp-port-..."; returns its bus number. */
static int add_root_port(struct patch *p, const char *port_key, unsigned *bus)
{
    unsigned slot;
    if (sp_slot_map_take_bus0_slot(&p->slots, &slot, p->err) < 0)
        return -1;
    unsigned index = sp_slot_map_take_bus(&p->slots);
    struct sp_pci_addr at = {.slot = slot};
    xmlNodePtr ctl = new_element(p->doc, "controller");
    xmlNodePtr addr = new_pci_address(p->doc, &at, 1, 0);
    if (!ctl || !addr || !xmlNewProp(ctl, BAD_CAST "type", BAD_CAST "pci") ||
        set_attr(ctl, "index", "%u", index) < 0 ||
        !xmlNewProp(ctl, BAD_CAST "model", BAD_CAST "pcie-root-port") ||
        set_alias(ctl, port_key) < 0) {
        xmlFreeNode(ctl);
        xmlFreeNode(addr);
        return sp_err_set(p->err, "out of memory");
    }
    xmlAddChild(ctl, addr);
    if (sp_slot_map_mark(&p->slots, &at) < 0)
        return sp_err_set(p->err, "out of memory");
    *bus = index;
    return place_device(p, ctl);
}

/* Where the functions of one host slot go in the guest. */
struct placement {
    unsigned bus, slot;
    int fresh; /* a new slot: functions numbered from 0 */
};

/* A guest slot nothing uses: on bus 0, or behind a new root port. */
static int fresh_placement(struct patch *p, const char *port_key, struct placement *pl)
{
    pl->fresh = 1;
    pl->slot = 0;
    if (p->slots.pcie)
        return add_root_port(p, port_key, &pl->bus);
    pl->bus = 0;
    return sp_slot_map_take_bus0_slot(&p->slots, &pl->slot, p->err);
}

static int choose_placement(struct patch *p, const struct sp_pci_addr *host, struct placement *pl)
{
    const struct present *sib = present_sibling(p, host);
    if (sib) {
        pl->bus = sib->guest.bus;
        pl->slot = sib->guest.slot;
        pl->fresh = 0;
        return 0;
    }
    char port_key[SP_SRC_KEY_MAX] = "port-";
    sp_src_pci_key(port_key + 5, sizeof(port_key) - 5, host, 0);
    return fresh_placement(p, port_key, pl);
}

static int next_free_function(const struct patch *p, const struct placement *pl, unsigned *fn)
{
    for (unsigned f = 0; f < 8; f++)
        if (!sp_slot_map_function_used(&p->slots, pl->bus, pl->slot, f)) {
            *fn = f;
            return 0;
        }
    return -1;
}

/* The guest <address> at function 0 of a slot, among the device elements
 * already in <devices>; NULL when function 0 is not taken there. */
static xmlNodePtr function0_address(const struct patch *p, unsigned bus, unsigned slot)
{
    for (xmlNodePtr c = p->devices ? p->devices->children : NULL; c; c = c->next) {
        xmlNodePtr addr = c->type == XML_ELEMENT_NODE ? guest_address(c) : NULL;
        struct sp_pci_addr a;
        if (addr && sp_xml_read_pci_address(addr, &a) == 0 && a.domain == 0 && a.bus == bus &&
            a.slot == slot && a.function == 0)
            return addr;
    }
    return NULL;
}

/* A guest only sees functions above 0 when function 0 says multifunction.
 * Joining a slot the domain already uses is the one case where an element
 * that was there before gets an attribute: without it the new function
 * would be invisible (or QEMU would refuse it). */
static int mark_slot_multifunction(struct patch *p, unsigned bus, unsigned slot)
{
    xmlNodePtr addr = function0_address(p, bus, slot);
    if (!addr)
        return 0;
    xmlChar *mf = xmlGetNoNsProp(addr, BAD_CAST "multifunction");
    int already = mf && xmlStrEqual(mf, BAD_CAST "on");
    xmlFree(mf);
    if (already)
        return 0;
    return xmlSetProp(addr, BAD_CAST "multifunction", BAD_CAST "on") ? 0 : -1;
}

/* name: the device, for messages. */
static int give_guest_address(struct patch *p, xmlNodePtr hd, const struct placement *pl,
                              const char *name, int multifunction)
{
    struct sp_pci_addr guest = {.bus = pl->bus, .slot = pl->slot};
    if (next_free_function(p, pl, &guest.function) < 0)
        return sp_err_set(p->err, "device %s: guest slot %02x:%02x.x has no free function",
                          name, pl->bus, pl->slot);
    if (!pl->fresh && guest.function != 0 && mark_slot_multifunction(p, pl->bus, pl->slot) < 0)
        return sp_err_set(p->err, "out of memory");
    int mf = guest.function == 0 && (multifunction || !pl->fresh);
    xmlNodePtr addr = new_pci_address(p->doc, &guest, 1, mf);
    if (!addr || !xmlAddChild(hd, addr) || sp_slot_map_mark(&p->slots, &guest) < 0)
        return sp_err_set(p->err, "out of memory");
    return 0;
}

/* "FILE:LINE: " of a raw element, or "" when not known. */
static void origin(const struct sp_patch_dev *dev, char *out, size_t size)
{
    if (dev->file)
        snprintf(out, size, "%s:%d: ", dev->file, dev->line);
    else
        out[0] = '\0';
}

/* An <alias> a raw element brings is kept only when it is the one we
 * would give (copied from a domain we patched). Any other is refused: one
 * without "ua-" libvirt drops, a user alias may be named elsewhere (so we
 * cannot replace it), and kept, the element could not be found again. */
static int check_own_alias(struct patch *p, xmlNodePtr el, const struct sp_patch_dev *dev,
                           const char *key)
{
    xmlNodePtr own = sp_xml_child(el, "alias");
    if (!own)
        return 0;
    char want[sizeof(SP_ALIAS_PREFIX) + SP_SRC_KEY_MAX];
    snprintf(want, sizeof(want), SP_ALIAS_PREFIX "%s", key);
    xmlChar *name = xmlGetNoNsProp(own, BAD_CAST "name");
    int same = name && strcmp((const char *)name, want) == 0;
    if (!same) {
        char where[512];
        origin(dev, where, sizeof(where));
        sp_err_set(p->err, "%s<hostdev> has <alias name='%s'/>, but SynoPassthru names each "
                   "device it adds itself ('%s'), to find it again at the next start and when "
                   "live XML is defined back; remove that <alias>", where,
                   name ? (const char *)name : "", want);
    }
    xmlFree(name);
    return same ? 0 : -1;
}

/* A raw element is marked like the ones we build (check_raw_elements has
 * made sure that an alias it brings is that one). */
static int mark_raw(struct patch *p, xmlNodePtr el, const char *key)
{
    if (sp_xml_child(el, "alias") || set_alias(el, key) == 0)
        return 0;
    return sp_err_set(p->err, "out of memory");
}

static xmlNodePtr device_element(struct patch *p, const struct sp_patch_dev *dev)
{
    if (dev->raw_xml) {
        xmlNodePtr raw = copy_raw_hostdev(p, dev->raw_xml);
        char key[SP_SRC_KEY_MAX];
        sp_src_pci_key(key, sizeof(key), &dev->host, 1);
        if (raw && mark_raw(p, raw, key) < 0) {
            xmlFreeNode(raw);
            return NULL;
        }
        return raw;
    }
    xmlNodePtr hd = build_hostdev(p->doc, dev);
    if (!hd)
        sp_err_set(p->err, "out of memory");
    return hd;
}

/* --- grouping by host slot ---------------------------------------------- */

static int by_host_addr(const void *a, const void *b)
{
    const struct sp_patch_dev *x = *(const struct sp_patch_dev *const *)a;
    const struct sp_patch_dev *y = *(const struct sp_patch_dev *const *)b;
    return sp_pci_addr_cmp(&x->host, &y->host);
}

/* Adds the new functions of one host slot, sharing one guest slot. */
static int add_slot_group(struct patch *p, const struct sp_patch_dev **group, size_t n)
{
    qsort(group, n, sizeof(*group), by_host_addr);
    struct placement pl = {0};
    int placed = 0;
    for (size_t i = 0; i < n; i++) {
        xmlNodePtr el = device_element(p, group[i]);
        if (!el)
            return -1;
        if (!guest_address(el)) {
            if (!placed && choose_placement(p, &group[i]->host, &pl) < 0) {
                xmlFreeNode(el);
                return -1;
            }
            placed = 1;
            char name[SP_PCI_ADDR_STRLEN];
            sp_pci_addr_format(&group[i]->host, name);
            if (give_guest_address(p, el, &pl, name, pl.fresh && n > 1) < 0) {
                xmlFreeNode(el);
                return -1;
            }
        }
        if (place_device(p, el) < 0)
            return -1;
    }
    return 0;
}

/* --- raw elements without a PCI host address ----------------------------- */

static int read_raw_source(struct patch *p, xmlNodePtr el, const struct sp_patch_dev *dev,
                           struct sp_hostdev_src *src)
{
    struct sp_err why;
    if (sp_hostdev_src_read(el, src, &why) == 0)
        return 0;
    char where[512];
    origin(dev, where, sizeof(where));
    return sp_err_set(p->err, "%s<hostdev>: %s, so SynoPassthru cannot tell whether the domain "
                      "has the device already", where, why.msg);
}

/* A <hostdev> in <devices> (the domain's own, or one added before) names
 * the same device. */
static int source_present(const struct patch *p, const struct sp_hostdev_src *src)
{
    for (xmlNodePtr c = p->devices ? p->devices->children : NULL; c; c = c->next) {
        struct sp_hostdev_src have;
        if (sp_xml_is(c, "hostdev") && sp_hostdev_src_read(c, &have, NULL) == 0 &&
            sp_hostdev_src_same(&have, src))
            return 1;
    }
    return 0;
}

/* A device that takes a guest PCI slot (mdev vfio-pci, vhost-scsi) gets a
 * slot of its own, as a host PCI device does. */
static int place_alone(struct patch *p, xmlNodePtr el, const struct sp_hostdev_src *src)
{
    char port_key[SP_SRC_KEY_MAX];
    snprintf(port_key, sizeof(port_key), "port-%s", src->key);
    struct placement pl;
    if (fresh_placement(p, port_key, &pl) < 0)
        return -1;
    return give_guest_address(p, el, &pl, src->key, 0);
}

/* A raw <hostdev> that names no host PCI address (USB, SCSI, mdev, ...):
 * added once, marked like ours. */
static int add_raw(struct patch *p, const struct sp_patch_dev *dev)
{
    if (!dev->raw_xml)
        return sp_err_set(p->err, "a device with neither a host PCI address nor a <hostdev>");
    xmlNodePtr el = copy_raw_hostdev(p, dev->raw_xml);
    if (!el)
        return -1;
    struct sp_hostdev_src src;
    int rc = read_raw_source(p, el, dev, &src);
    if (rc == 0 && source_present(p, &src)) {
        p->report->n_present++;
        xmlFreeNode(el);
        return 0;
    }
    if (rc == 0)
        rc = mark_raw(p, el, src.key);
    if (rc == 0 && src.guest_pci && !guest_address(el))
        rc = place_alone(p, el, &src);
    if (rc < 0) {
        xmlFreeNode(el);
        return -1;
    }
    return place_device(p, el);
}

static int already_listed(const struct sp_patch_dev *devs, size_t upto, const struct sp_patch_dev *d)
{
    for (size_t i = 0; i < upto; i++)
        if (devs[i].has_host && sp_pci_addr_cmp(&devs[i].host, &d->host) == 0)
            return 1;
    return 0;
}

/* Marks a guest address that a raw hostdev brings with it. */
static int reserve_guest_address(struct patch *p, xmlNodePtr el)
{
    xmlNodePtr guest = guest_address(el);
    struct sp_pci_addr a;
    if (guest && sp_xml_read_pci_address(guest, &a) == 0 && sp_slot_map_mark(&p->slots, &a) < 0)
        return sp_err_set(p->err, "out of memory");
    return 0;
}

/* The key of a raw element's device: its host PCI address, or its source. */
static int raw_key(struct patch *p, xmlNodePtr el, const struct sp_patch_dev *dev, char *key)
{
    struct sp_hostdev_src src;
    if (dev->has_host) {
        sp_src_pci_key(key, SP_SRC_KEY_MAX, &dev->host, 1);
        return 0;
    }
    if (read_raw_source(p, el, dev, &src) < 0)
        return -1;
    memcpy(key, src.key, SP_SRC_KEY_MAX);
    return 0;
}

/* Before anything is added (so that the verdict never depends on what the
 * domain has): every raw element names a device we can tell apart and
 * brings no alias but ours; the guest addresses raw elements bring are
 * taken before any slot is chosen, so that nothing else lands there. */
static int check_raw_elements(struct patch *p, const struct sp_patch_dev *devs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!devs[i].raw_xml)
            continue;
        xmlDocPtr doc =
            sp_xml_parse(devs[i].raw_xml, strlen(devs[i].raw_xml), "snippet hostdev", p->err);
        if (!doc)
            return -1;
        xmlNodePtr el = xmlDocGetRootElement(doc);
        char key[SP_SRC_KEY_MAX];
        int rc = raw_key(p, el, &devs[i], key);
        if (rc == 0)
            rc = check_own_alias(p, el, &devs[i], key);
        if (rc == 0)
            rc = reserve_guest_address(p, el);
        xmlFreeDoc(doc);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int add_all(struct patch *p, const struct sp_patch_dev *devs, size_t n)
{
    const struct sp_patch_dev **group = calloc(n ? n : 1, sizeof(*group));
    char *done = calloc(n ? n : 1, 1);
    int rc = (group && done) ? 0 : sp_err_set(p->err, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (done[i])
            continue;
        done[i] = 1;
        if (devs[i].has_host && (is_present(p, &devs[i].host) || already_listed(devs, i, &devs[i]))) {
            p->report->n_present++;
            continue;
        }
        size_t k = 0;
        group[k++] = &devs[i];
        for (size_t j = i + 1; devs[i].has_host && j < n; j++) {
            if (!done[j] && devs[j].has_host && sp_pci_same_slot(&devs[i].host, &devs[j].host) &&
                !is_present(p, &devs[j].host) && !already_listed(devs, j, &devs[j])) {
                group[k++] = &devs[j];
                done[j] = 1;
            }
        }
        rc = devs[i].has_host ? add_slot_group(p, group, k) : add_raw(p, &devs[i]);
    }
    free(group);
    free(done);
    return rc;
}

int sp_xmlpatch_apply(xmlDocPtr doc, const struct sp_patch_dev *devs, size_t n,
                      struct sp_patch_report *report, struct sp_err *err)
{
    memset(report, 0, sizeof(*report));
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!sp_xml_is(root, "domain"))
        return sp_err_set(err, "document root is not <domain>");
    /* A DTD can default attributes (xmlns among them) and declare entities
     * that libvirt expands and we would not see: refuse to merge into what
     * we cannot fully read. */
    if (doc->intSubset)
        return sp_err_set(err, "domain XML with a DOCTYPE is not supported");
    struct patch p = {.doc = doc, .devices = sp_xml_child(root, "devices"),
                      .report = report, .err = err};
    struct sp_xml_oom_guard guard;
    sp_xml_oom_guard_begin(&guard);
    int rc = collect_present(&p) < 0 ? sp_err_set(err, "out of memory") : 0;
    if (rc == 0)
        rc = sp_slot_map_from_doc(doc, &p.slots, err);
    if (rc == 0)
        rc = check_raw_elements(&p, devs, n);
    if (rc == 0)
        rc = add_all(&p, devs, n);
    sp_slot_map_free(&p.slots);
    free(p.present);
    /* A failed allocation inside libxml2 leaves the tree short of what was
     * asked (an empty attribute, a missing node) without failing the call. */
    if (sp_xml_oom_guard_end(&guard) && rc == 0)
        rc = sp_err_set(err, "out of memory while adding the devices");
    if (rc < 0)
        sp_patch_report_free(report);
    return rc;
}

/* The element carries our alias. */
static int is_ours(xmlNodePtr node)
{
    xmlNodePtr alias = sp_xml_child(node, "alias");
    xmlChar *name = alias ? xmlGetNoNsProp(alias, BAD_CAST "name") : NULL;
    int ours = name && xmlStrncmp(name, BAD_CAST SP_ALIAS_PREFIX, strlen(SP_ALIAS_PREFIX)) == 0;
    xmlFree(name);
    return ours;
}

int sp_xmlpatch_strip(xmlDocPtr doc, struct sp_err *err)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!sp_xml_is(root, "domain"))
        return sp_err_set(err, "document root is not <domain>");
    xmlNodePtr devices = sp_xml_child(root, "devices");
    int removed = 0;
    struct sp_xml_oom_guard guard;
    sp_xml_oom_guard_begin(&guard);
    xmlNodePtr c = devices ? devices->children : NULL;
    while (c) {
        xmlNodePtr next = c->next;
        if (c->type == XML_ELEMENT_NODE && is_ours(c)) {
            sp_layout_remove(c);
            removed++;
        }
        c = next;
    }
    /* An alias that could not be read would keep its element in. */
    if (sp_xml_oom_guard_end(&guard))
        return sp_err_set(err, "out of memory while taking out the added devices");
    return removed;
}

static void free_strings(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

void sp_patch_report_free(struct sp_patch_report *report)
{
    free_strings(report->added, report->n_added);
    free_strings(report->video.text, report->video.n);
    free_strings(report->features.text, report->features.n);
    free_strings(report->cpu.text, report->cpu.n);
    memset(report, 0, sizeof(*report));
}

int sp_patch_report_changed(const struct sp_patch_report *report)
{
    return report->n_added || report->video.n || report->features.n || report->cpu.n;
}
