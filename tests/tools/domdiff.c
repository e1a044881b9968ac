/* domdiff INPUT.xml OUTPUT.xml: proves that OUTPUT differs from INPUT only by added
 * PCI <hostdev>s and pcie-root-port <controller>s (and a <devices> made for them):
 * strips those from OUTPUT, then compares both documents in canonical form (C14N 1.0).
 * It is an oracle: it shares no XML logic with the code it checks, on purpose. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

enum { EXIT_SAME = 0, EXIT_DIFFERENT = 1, EXIT_TROUBLE = 2 };

/* How much of each side the difference report shows around the offset. */
#define CONTEXT_BEFORE 40
#define CONTEXT_AFTER 40

struct pci_addr {
    unsigned long domain, bus, slot, function;
};

struct addr_set {
    struct pci_addr *items;
    size_t n, cap;
};

struct index_set {
    unsigned long *items;
    size_t n, cap;
};

struct removed {
    size_t hostdevs, controllers, devices;
};

/* The whole file, NUL-terminated; NULL with a message on failure. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "domdiff: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, used = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (used + 1 == cap) {
            char *grown = cap < (1u << 30) ? realloc(buf, cap * 2) : NULL;
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        size_t n = fread(buf + used, 1, cap - used - 1, f);
        used += n;
        if (n == 0)
            break;
    }
    if (!buf)
        fprintf(stderr, "domdiff: %s: too large or out of memory\n", path);
    else if (ferror(f)) {
        fprintf(stderr, "domdiff: %s: read error\n", path);
        free(buf);
        buf = NULL;
    } else {
        buf[used] = '\0';
        *len = used;
    }
    fclose(f);
    return buf;
}

static xmlDocPtr read_doc(const char *path)
{
    size_t len = 0;
    char *text = slurp(path, &len);
    if (!text)
        return NULL;
    xmlParserCtxtPtr ctxt = len <= INT_MAX ? xmlNewParserCtxt() : NULL;
    if (!ctxt) {
        fprintf(stderr, "domdiff: %s: too large or out of memory\n", path);
        free(text);
        return NULL;
    }
    /* No network, no entity substitution (XML_PARSE_NOENT unset), no DTD
     * loading; errors are reported here, not by libxml2's global handler. */
    int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, text, (int)len, path, NULL, options);
    if (!doc || !ctxt->wellFormed || !xmlDocGetRootElement(doc)) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        if (e && e->message)
            fprintf(stderr, "domdiff: %s:%d: %s", path, e->line, e->message);
        else
            fprintf(stderr, "domdiff: %s: not a well-formed XML document\n", path);
        if (doc)
            xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    free(text);
    return doc;
}

static int is_element(xmlNodePtr node, const char *name)
{
    return node && node->type == XML_ELEMENT_NODE && node->ns == NULL &&
           xmlStrEqual(node->name, BAD_CAST name);
}

static xmlNodePtr child_element(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
        if (is_element(c, name))
            return c;
    return NULL;
}

static int attr_is(xmlNodePtr node, const char *attr, const char *value)
{
    xmlChar *v = xmlGetNoNsProp(node, BAD_CAST attr);
    int eq = v && xmlStrEqual(v, BAD_CAST value);
    xmlFree(v);
    return eq;
}

/* An unsigned attribute in libvirt's notation ("0x08" or "8"). Returns 1 when
 * present and valid, 0 when absent, -1 when malformed. */
static int attr_number(xmlNodePtr node, const char *attr, unsigned long *out)
{
    xmlChar *v = xmlGetNoNsProp(node, BAD_CAST attr);
    if (!v)
        return 0;
    const char *s = (const char *)v;
    char *end = NULL;
    unsigned long n = (*s >= '0' && *s <= '9') ? strtoul(s, &end, 0) : 0;
    int ok = end && end != s && *end == '\0';
    xmlFree(v);
    if (!ok)
        return -1;
    *out = n;
    return 1;
}

/* Host address of a PCI subsystem <hostdev>: <source><address .../>. A missing
 * domain or function means 0, as libvirt reads it. Returns 0, or -1 when the
 * element is not a PCI hostdev with a complete address. */
static int hostdev_source(xmlNodePtr hostdev, struct pci_addr *out)
{
    if (!is_element(hostdev, "hostdev") || !attr_is(hostdev, "type", "pci"))
        return -1;
    xmlChar *mode = xmlGetNoNsProp(hostdev, BAD_CAST "mode");
    int subsystem = !mode || xmlStrEqual(mode, BAD_CAST "subsystem");
    xmlFree(mode);
    xmlNodePtr addr = child_element(child_element(hostdev, "source"), "address");
    if (!subsystem || !addr)
        return -1;
    struct pci_addr a = {0};
    if (attr_number(addr, "domain", &a.domain) < 0 || attr_number(addr, "bus", &a.bus) != 1 ||
        attr_number(addr, "slot", &a.slot) != 1 || attr_number(addr, "function", &a.function) < 0)
        return -1;
    *out = a;
    return 0;
}

static int addr_set_add(struct addr_set *set, const struct pci_addr *a)
{
    if (set->n == set->cap) {
        size_t ncap = set->cap ? set->cap * 2 : 16;
        struct pci_addr *grown = realloc(set->items, ncap * sizeof(*grown));
        if (!grown)
            return -1;
        set->items = grown;
        set->cap = ncap;
    }
    set->items[set->n++] = *a;
    return 0;
}

static int addr_set_has(const struct addr_set *set, const struct pci_addr *a)
{
    for (size_t i = 0; i < set->n; i++) {
        const struct pci_addr *b = &set->items[i];
        if (a->domain == b->domain && a->bus == b->bus && a->slot == b->slot &&
            a->function == b->function)
            return 1;
    }
    return 0;
}

static int index_set_add(struct index_set *set, unsigned long index)
{
    if (set->n == set->cap) {
        size_t ncap = set->cap ? set->cap * 2 : 16;
        unsigned long *grown = realloc(set->items, ncap * sizeof(*grown));
        if (!grown)
            return -1;
        set->items = grown;
        set->cap = ncap;
    }
    set->items[set->n++] = index;
    return 0;
}

static int index_set_has(const struct index_set *set, unsigned long index)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->items[i] == index)
            return 1;
    return 0;
}

static int is_pci_controller(xmlNodePtr node)
{
    return is_element(node, "controller") && attr_is(node, "type", "pci");
}

/* What INPUT's <devices> already has: hostdev source addresses and PCI
 * controller indexes (the controller index space is per type). */
static int collect_input(xmlNodePtr devices, struct addr_set *hostdevs, struct index_set *indexes)
{
    for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
        struct pci_addr a;
        unsigned long index;
        if (is_element(c, "hostdev") && hostdev_source(c, &a) == 0) {
            if (addr_set_add(hostdevs, &a) < 0)
                return -1;
        } else if (is_pci_controller(c) && attr_number(c, "index", &index) == 1) {
            if (index_set_add(indexes, index) < 0)
                return -1;
        }
    }
    return 0;
}

static int is_blank_text(xmlNodePtr node)
{
    if (!node || node->type != XML_TEXT_NODE)
        return 0;
    for (const xmlChar *p = node->content; p && *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            return 0;
    return 1;
}

/* Unlinks and frees node and the whitespace-only text node right before it. */
static void remove_with_lead(xmlNodePtr node)
{
    xmlNodePtr lead = is_blank_text(node->prev) ? node->prev : NULL;
    xmlUnlinkNode(node);
    xmlFreeNode(node);
    if (lead) {
        xmlUnlinkNode(lead);
        xmlFreeNode(lead);
    }
}

/* An element the patch would have added: a PCI hostdev for a host device
 * INPUT does not pass through, or a root port with an index INPUT lacks. */
static int is_added(xmlNodePtr node, const struct addr_set *hostdevs,
                    const struct index_set *indexes, struct removed *count)
{
    struct pci_addr a;
    unsigned long index;
    if (is_element(node, "hostdev") && hostdev_source(node, &a) == 0 &&
        !addr_set_has(hostdevs, &a)) {
        count->hostdevs++;
        return 1;
    }
    if (is_pci_controller(node) && attr_is(node, "model", "pcie-root-port") &&
        attr_number(node, "index", &index) == 1 && !index_set_has(indexes, index)) {
        count->controllers++;
        return 1;
    }
    return 0;
}

static int only_whitespace(xmlNodePtr parent)
{
    for (xmlNodePtr c = parent->children; c; c = c->next)
        if (!is_blank_text(c))
            return 0;
    return 1;
}

static int strip_added(xmlDocPtr in, xmlDocPtr out, struct removed *count)
{
    xmlNodePtr in_devices = child_element(xmlDocGetRootElement(in), "devices");
    xmlNodePtr out_devices = child_element(xmlDocGetRootElement(out), "devices");
    struct addr_set hostdevs = {0};
    struct index_set indexes = {0};
    int rc = collect_input(in_devices, &hostdevs, &indexes);
    for (xmlNodePtr c = out_devices ? out_devices->children : NULL; c && rc == 0;) {
        xmlNodePtr next = c->next;
        if (is_added(c, &hostdevs, &indexes, count))
            remove_with_lead(c);
        c = next;
    }
    if (rc == 0 && !in_devices && out_devices && only_whitespace(out_devices)) {
        remove_with_lead(out_devices);
        count->devices++;
    }
    free(hostdevs.items);
    free(indexes.items);
    if (rc < 0)
        fprintf(stderr, "domdiff: out of memory\n");
    return rc;
}

static int canonical(xmlDocPtr doc, const char *name, xmlChar **text, size_t *len)
{
    *text = NULL;
    int n = xmlC14NDocDumpMemory(doc, NULL, XML_C14N_1_0, NULL, 1, text);
    if (n < 0 || !*text) {
        fprintf(stderr, "domdiff: %s: canonicalization failed (entity references are not "
                        "expanded, so a document using them cannot be compared)\n", name);
        return -1;
    }
    *len = (size_t)n;
    return 0;
}

/* One line of context around offset, newlines and tabs shown escaped. */
static void print_context(char sign, const xmlChar *text, size_t len, size_t offset)
{
    size_t from = offset > CONTEXT_BEFORE ? offset - CONTEXT_BEFORE : 0;
    size_t to = offset + CONTEXT_AFTER < len ? offset + CONTEXT_AFTER : len;
    putchar(sign);
    for (size_t i = from; i < to; i++) {
        if (i == offset)
            fputs("\xc2\xbb", stdout); /* » marks the first differing byte */
        if (text[i] == '\n')
            fputs("\\n", stdout);
        else if (text[i] == '\t')
            fputs("\\t", stdout);
        else
            putchar(text[i]);
    }
    if (offset >= len)
        fputs("\xc2\xbb<end>", stdout);
    putchar('\n');
}

static int compare(const char *in_name, const xmlChar *a, size_t alen, const char *out_name,
                   const xmlChar *b, size_t blen)
{
    size_t i = 0;
    while (i < alen && i < blen && a[i] == b[i])
        i++;
    if (i == alen && i == blen)
        return EXIT_SAME;
    unsigned line = 1;
    for (size_t k = 0; k < i; k++)
        line += a[k] == '\n';
    printf("domdiff: documents differ beyond the added elements\n");
    printf("--- %s (canonical, %zu bytes) first difference at byte %zu\n", in_name, alen, i);
    printf("+++ %s (stripped, canonical, %zu bytes) first difference at byte %zu\n", out_name,
           blen, i);
    printf("@@ line %u @@\n", line);
    print_context('-', a, alen, i);
    print_context('+', b, blen, i);
    return EXIT_DIFFERENT;
}

int main(int argc, char **argv)
{
    if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-') {
        fprintf(stderr, "usage: domdiff INPUT.xml OUTPUT.xml\n"
                        "Exit 0: OUTPUT is INPUT plus added hostdevs/root ports; 1: it differs "
                        "otherwise; 2: usage or parse error.\n");
        return EXIT_TROUBLE;
    }
    xmlDocPtr in = read_doc(argv[1]);
    xmlDocPtr out = in ? read_doc(argv[2]) : NULL;
    struct removed count = {0};
    xmlChar *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    int code = EXIT_TROUBLE;
    if (in && out && strip_added(in, out, &count) == 0 &&
        canonical(in, argv[1], &a, &alen) == 0 && canonical(out, argv[2], &b, &blen) == 0) {
        printf("domdiff: removed %zu elements from %s (%zu hostdev, %zu pcie-root-port "
               "controller, %zu devices)\n",
               count.hostdevs + count.controllers + count.devices, argv[2], count.hostdevs,
               count.controllers, count.devices);
        code = compare(argv[1], a, alen, argv[2], b, blen);
        if (code == EXIT_SAME)
            printf("domdiff: same after removal\n");
    }
    xmlFree(a);
    xmlFree(b);
    if (in)
        xmlFreeDoc(in);
    if (out)
        xmlFreeDoc(out);
    xmlCleanupParser();
    return code;
}
