#include "slots.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xmlutil.h"

int sp_slot_map_mark(struct sp_slot_map *map, const struct sp_pci_addr *guest)
{
    if (map->n_used == map->cap) {
        size_t ncap = map->cap ? map->cap * 2 : 32;
        struct sp_pci_addr *grown = realloc(map->used, ncap * sizeof(*grown));
        if (!grown)
            return -1;
        map->used = grown;
        map->cap = ncap;
    }
    map->used[map->n_used++] = *guest;
    if (guest->domain == 0 && guest->bus == 0)
        map->bus0_taken |= 1u << guest->slot;
    if (guest->bus >= map->next_bus)
        map->next_bus = guest->bus + 1;
    return 0;
}

int sp_slot_map_function_used(const struct sp_slot_map *map, unsigned bus, unsigned slot,
                              unsigned function)
{
    for (size_t i = 0; i < map->n_used; i++)
        if (map->used[i].domain == 0 && map->used[i].bus == bus &&
            map->used[i].slot == slot && map->used[i].function == function)
            return 1;
    return 0;
}

/* Slots libvirt or the machine reserve on bus 0 even when the document
 * names nothing there: 0 is the host bridge; on i440fx 1 is the PIIX3 and
 * 2 the primary video; on q35 0x1f is the ICH9 LPC/SATA/SMBus and libvirt
 * keeps 0x1d for USB and 0x1e for the DMI-to-PCI bridge. */
static uint32_t reserved_bus0_slots(int pcie)
{
    uint32_t mask = 1u << 0;
    if (pcie)
        mask |= (1u << 0x1d) | (1u << 0x1e) | (1u << 0x1f);
    else
        mask |= (1u << 1) | (1u << 2);
    return mask;
}

int sp_slot_map_take_bus0_slot(struct sp_slot_map *map, unsigned *slot, struct sp_err *err)
{
    uint32_t blocked = map->bus0_taken | reserved_bus0_slots(map->pcie);
    for (int s = 0x1f; s >= 0; s--) {
        if (!(blocked & (1u << s))) {
            map->bus0_taken |= 1u << s;
            *slot = (unsigned)s;
            return 0;
        }
    }
    return sp_err_set(err, "no free slot left on guest PCI bus 0 for the device");
}

unsigned sp_slot_map_take_bus(struct sp_slot_map *map)
{
    if (map->next_bus == 0)
        map->next_bus = 1; /* bus 0 is the root bus itself */
    return map->next_bus++;
}

void sp_slot_map_free(struct sp_slot_map *map)
{
    free(map->used);
    memset(map, 0, sizeof(*map));
}

/* --- reading a document ------------------------------------------------- */

static int hex_digit(int c)
{
    if (isdigit(c))
        return c - '0';
    c = tolower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* QEMU reads addr= as hex "SS[.F]", with or without "0x". */
static int parse_qemu_addr(const char *v, size_t len, unsigned *slot)
{
    size_t i = 0;
    if (len >= 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
        i = 2;
    unsigned s = 0;
    size_t digits = 0;
    for (; i < len && v[i] != '.'; i++, digits++) {
        int d = hex_digit((unsigned char)v[i]);
        if (d < 0 || digits >= 2)
            return -1;
        s = s * 16 + (unsigned)d;
    }
    if (digits == 0 || s > 0x1f)
        return -1;
    *slot = s;
    return 0;
}

void sp_qemu_arg_slots(const char *arg, void (*fn)(unsigned slot, void *opaque), void *opaque)
{
    const char *p = arg;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        unsigned slot;
        if (len > 5 && strncmp(p, "addr=", 5) == 0 && parse_qemu_addr(p + 5, len - 5, &slot) == 0)
            fn(slot, opaque);
        p += len;
        if (*p == ',')
            p++;
    }
}

static void mark_bus0_slot(unsigned slot, void *opaque)
{
    struct sp_slot_map *map = opaque;
    map->bus0_taken |= 1u << slot;
}

static int is_qemu_arg(xmlNodePtr node)
{
    return node->type == XML_ELEMENT_NODE && node->ns && node->ns->href &&
           xmlStrEqual(node->ns->href, BAD_CAST SP_QEMU_NS) &&
           xmlStrEqual(node->name, BAD_CAST "arg");
}

static void note_machine(xmlNodePtr node, struct sp_slot_map *map)
{
    xmlChar *machine = xmlGetNoNsProp(node, BAD_CAST "machine");
    if (machine && (xmlStrstr(machine, BAD_CAST "q35") ||
                    xmlStrncmp(machine, BAD_CAST "virt", 4) == 0))
        map->pcie = 1;
    xmlFree(machine);
}

static int note_address(xmlNodePtr node, struct sp_slot_map *map)
{
    if (!sp_xml_attr_is(node, "type", "pci"))
        return 0;
    struct sp_pci_addr guest;
    /* A partial guest address (libvirt fills the rest) still names its bus. */
    if (sp_xml_read_pci_address(node, &guest) == 0)
        return sp_slot_map_mark(map, &guest);
    unsigned bus;
    if (sp_xml_attr_uint(node, "bus", 0xff, &bus) == 1 && bus >= map->next_bus)
        map->next_bus = bus + 1;
    return 0;
}

static void note_controller(xmlNodePtr node, struct sp_slot_map *map)
{
    if (!sp_xml_attr_is(node, "type", "pci"))
        return;
    unsigned index;
    if (sp_xml_attr_uint(node, "index", 0xff, &index) == 1 && index >= map->next_bus)
        map->next_bus = index + 1;
    if (sp_xml_attr_is(node, "model", "pcie-root"))
        map->pcie = 1;
}

static void note_qemu_arg(xmlNodePtr node, struct sp_slot_map *map)
{
    xmlChar *value = xmlGetNoNsProp(node, BAD_CAST "value");
    if (value)
        sp_qemu_arg_slots((const char *)value, mark_bus0_slot, map);
    xmlFree(value);
}

/* Every element of the document comes here: its name is compared once,
 * and only a namespaced one can be a qemu:arg. */
static int visit(xmlNodePtr node, struct sp_slot_map *map)
{
    const char *name = (const char *)node->name;
    if (node->ns) {
        if (is_qemu_arg(node))
            note_qemu_arg(node, map);
        return 0;
    }
    if (!name)
        return 0;
    if (strcmp(name, "address") == 0)
        return note_address(node, map);
    if (strcmp(name, "controller") == 0)
        note_controller(node, map);
    else if (strcmp(name, "type") == 0 && node->parent && sp_xml_is(node->parent, "os"))
        note_machine(node, map);
    return 0;
}

static int walk(xmlNodePtr node, struct sp_slot_map *map, int depth)
{
    /* Domain documents are shallow; the bound keeps hostile input cheap. */
    if (depth > 64)
        return 0;
    for (; node; node = node->next) {
        if (node->type != XML_ELEMENT_NODE)
            continue;
        if (visit(node, map) < 0 || walk(node->children, map, depth + 1) < 0)
            return -1;
    }
    return 0;
}

int sp_slot_map_from_doc(xmlDocPtr doc, struct sp_slot_map *map, struct sp_err *err)
{
    memset(map, 0, sizeof(*map));
    if (walk(xmlDocGetRootElement(doc), map, 0) < 0) {
        sp_slot_map_free(map);
        return sp_err_set(err, "out of memory");
    }
    return 0;
}
