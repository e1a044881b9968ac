#include "snippet.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xmlutil.h"

char *sp_vm_key_normalize(const char *key)
{
    char hex[33];
    size_t n = 0;
    const char *p;
    for (p = key; *p && n < 32; p++) {
        if (*p == '-')
            continue;
        if (!isxdigit((unsigned char)*p))
            break;
        hex[n++] = (char)tolower((unsigned char)*p);
    }
    size_t keylen = strlen(key);
    int is_uuid = n == 32 && *p == '\0' && (keylen == 32 || keylen == 36);
    if (!is_uuid)
        return strdup(key);
    hex[32] = '\0';
    char *out = NULL;
    if (asprintf(&out, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
                 hex + 20) < 0)
        return NULL;
    return out;
}

void sp_dev_spec_free(struct sp_dev_spec *s)
{
    free(s->rom);
    free(s->raw_xml);
    free(s->file);
    memset(s, 0, sizeof(*s));
}

static char *dup_or_null(const char *s, int *failed)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *failed = 1;
    return d;
}

int sp_dev_spec_copy(struct sp_dev_spec *dst, const struct sp_dev_spec *src)
{
    int failed = 0;
    *dst = *src;
    dst->rom = dup_or_null(src->rom, &failed);
    dst->raw_xml = dup_or_null(src->raw_xml, &failed);
    dst->file = dup_or_null(src->file, &failed);
    if (failed) {
        sp_dev_spec_free(dst);
        return -1;
    }
    return 0;
}

/* A snippet's specs name it by its own path, not a copy (10,000 snippets
 * held by the daemon: one path each is enough). */
static void free_specs(struct sp_snippet *s)
{
    for (size_t i = 0; i < s->n_specs; i++) {
        if (s->specs[i].file == s->path)
            s->specs[i].file = NULL;
        sp_dev_spec_free(&s->specs[i]);
    }
    free(s->specs);
    s->specs = NULL;
    s->n_specs = 0;
}

void sp_snippet_free(struct sp_snippet *s)
{
    free_specs(s);
    free(s->path);
    free(s->vm);
    free(s->error);
    memset(s, 0, sizeof(*s));
}

static size_t string_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* A spec names its snippet by the snippet's own path: counted once. */
static const char *own_file(const struct sp_snippet *s, const struct sp_dev_spec *spec)
{
    return spec->file == s->path ? NULL : spec->file;
}

size_t sp_snippet_pack_size(const struct sp_snippet *s)
{
    size_t n = s->n_specs * sizeof(*s->specs) + string_size(s->path) + string_size(s->vm) +
               string_size(s->error);
    for (size_t i = 0; i < s->n_specs; i++)
        n += string_size(s->specs[i].rom) + string_size(s->specs[i].raw_xml) +
             string_size(own_file(s, &s->specs[i]));
    return n;
}

/* src copied to *next, which moves past it; NULL stays NULL. */
static char *pack_string(const char *src, char **next)
{
    if (!src)
        return NULL;
    size_t n = strlen(src) + 1;
    char *copy = memcpy(*next, src, n);
    *next += n;
    return copy;
}

void sp_snippet_pack(const struct sp_snippet *s, struct sp_snippet *dst, void *area)
{
    struct sp_dev_spec *specs = area;
    char *next = (char *)(specs + s->n_specs);
    *dst = (struct sp_snippet){.specs = s->n_specs ? specs : NULL, .n_specs = s->n_specs};
    dst->path = pack_string(s->path, &next);
    dst->vm = pack_string(s->vm, &next);
    dst->error = pack_string(s->error, &next);
    for (size_t i = 0; i < s->n_specs; i++) {
        const struct sp_dev_spec *from = &s->specs[i];
        specs[i] = *from;
        specs[i].rom = pack_string(from->rom, &next);
        specs[i].raw_xml = pack_string(from->raw_xml, &next);
        specs[i].file = from->file == s->path ? dst->path : pack_string(from->file, &next);
    }
}

int sp_snippet_set_error(struct sp_snippet *s, const char *msg)
{
    free_specs(s);
    free(s->error);
    s->error = strdup(msg);
    return s->error ? 0 : -1;
}

/* --- element parsers ---------------------------------------------------- */

struct parse_ctx {
    struct sp_snippet *snip;
    int bind;
    int release;
    int video_none;
    int hide_hypervisor;
    struct sp_err err;
};

static int fail_at(struct parse_ctx *ctx, xmlNodePtr node, const char *fmt, const char *a,
                   const char *b)
{
    char cause[512];
    snprintf(cause, sizeof(cause), fmt, a ? a : "", b ? b : "");
    return sp_err_set(&ctx->err, "%s:%ld: %s", ctx->snip->path, xmlGetLineNo(node), cause);
}

/* Rejects attributes outside `allowed` (NULL-terminated). */
static int check_attributes(struct parse_ctx *ctx, xmlNodePtr node, const char *const *allowed)
{
    for (xmlAttrPtr a = node->properties; a; a = a->next) {
        int known = 0;
        for (const char *const *k = allowed; *k; k++)
            if (a->ns == NULL && xmlStrEqual(a->name, BAD_CAST *k))
                known = 1;
        if (!known)
            return fail_at(ctx, node, "unknown attribute '%s' on <%s>", (const char *)a->name,
                           (const char *)node->name);
    }
    return 0;
}

static struct sp_dev_spec *new_spec(struct parse_ctx *ctx, xmlNodePtr node,
                                    enum sp_spec_kind kind)
{
    struct sp_snippet *s = ctx->snip;
    struct sp_dev_spec *grown = realloc(s->specs, (s->n_specs + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    s->specs = grown;
    struct sp_dev_spec *spec = &s->specs[s->n_specs];
    memset(spec, 0, sizeof(*spec));
    spec->kind = kind;
    spec->bind = ctx->bind;
    spec->release = ctx->release;
    spec->video_none = ctx->video_none;
    spec->hide_hypervisor = ctx->hide_hypervisor;
    spec->line = (int)xmlGetLineNo(node);
    spec->file = s->path;
    s->n_specs++;
    return spec;
}

static int parse_id_attr(struct parse_ctx *ctx, xmlNodePtr node, const char *attr,
                         const char *text, uint16_t *out)
{
    if (sp_pci_id_parse(text, out) < 0)
        return fail_at(ctx, node, "%s='%s' is not a 4-digit hex PCI ID", attr, text);
    return 0;
}

static int fill_pci_spec(struct parse_ctx *ctx, xmlNodePtr node, struct sp_dev_spec *spec,
                         const char *address, const char *vendor, const char *product,
                         const char *rom)
{
    if (address) {
        struct sp_err why;
        if (sp_pci_addr_parse(address, &spec->addr, &why) < 0)
            return fail_at(ctx, node, "%s", why.msg, NULL);
        spec->has_addr = 1;
    }
    if ((vendor != NULL) != (product != NULL))
        return fail_at(ctx, node, "<pci> needs both vendor and product, or neither", NULL, NULL);
    if (vendor) {
        if (parse_id_attr(ctx, node, "vendor", vendor, &spec->ids.vendor) < 0 ||
            parse_id_attr(ctx, node, "product", product, &spec->ids.device) < 0)
            return -1;
        spec->has_ids = 1;
    }
    if (!address && !vendor)
        return fail_at(ctx, node, "<pci> needs an address, or vendor and product", NULL, NULL);
    if (rom) {
        if (rom[0] == '\0')
            return fail_at(ctx, node, "rom='' is empty", NULL, NULL);
        spec->rom = strdup(rom);
        if (!spec->rom)
            return sp_err_set(&ctx->err, "out of memory");
    }
    return 0;
}

/* functions="all": the whole multi-function device (an iGPU and its HDMI
 * audio), checked and passed as one unit. */
static int set_functions(struct parse_ctx *ctx, xmlNodePtr node, struct sp_dev_spec *spec,
                         const char *value)
{
    if (strcmp(value, "all") != 0)
        return fail_at(ctx, node, "functions='%s': the only value is 'all'", value, NULL);
    if (!spec->has_addr)
        return fail_at(ctx, node, "functions='all' needs an address", NULL, NULL);
    spec->all_functions = 1;
    return 0;
}

/* subsystem="VVVV:DDDD": which board this is (two cards with the same chip
 * differ here). */
static int set_subsystem(struct parse_ctx *ctx, xmlNodePtr node, struct sp_dev_spec *spec,
                         const char *value)
{
    char vendor[8], device[8];
    const char *colon = strchr(value, ':');
    if (!colon || colon - value >= (long)sizeof(vendor) || strlen(colon + 1) >= sizeof(device))
        return fail_at(ctx, node, "subsystem='%s' is not VVVV:DDDD", value, NULL);
    snprintf(vendor, sizeof(vendor), "%.*s", (int)(colon - value), value);
    snprintf(device, sizeof(device), "%s", colon + 1);
    if (sp_pci_id_parse(vendor, &spec->subsys.vendor) < 0 ||
        sp_pci_id_parse(device, &spec->subsys.device) < 0)
        return fail_at(ctx, node, "subsystem='%s' is not VVVV:DDDD", value, NULL);
    if (!spec->has_addr)
        return fail_at(ctx, node, "subsystem= needs an address", NULL, NULL);
    spec->has_subsys = 1;
    return 0;
}

/* rombar="off": a ROM BAR the guest must not see. A rom= file reaches the
 * guest through that BAR, so the two contradict each other. */
static int set_rom_bar(struct parse_ctx *ctx, xmlNodePtr node, struct sp_dev_spec *spec,
                       const char *value)
{
    if (strcmp(value, "off") != 0)
        return fail_at(ctx, node, "rombar='%s': the only value is 'off'", value, NULL);
    if (spec->rom)
        return fail_at(ctx, node, "rombar='off' and rom='%s' contradict each other: the guest "
                       "reads a ROM file through the ROM BAR that rombar='off' hides", spec->rom,
                       NULL);
    spec->rom_bar_off = 1;
    return 0;
}

/* host_use="allow": the device may be one the host uses (a NIC up with an
 * address, a mounted data disk), never one / or DSM's boot device needs. */
static int set_host_use(struct parse_ctx *ctx, xmlNodePtr node, struct sp_dev_spec *spec,
                        const char *value)
{
    if (strcmp(value, "allow") == 0)
        spec->allow_host_use = 1;
    else if (strcmp(value, "refuse") != 0)
        return fail_at(ctx, node, "host_use='%s': the values are 'allow' and 'refuse'", value,
                       NULL);
    return 0;
}

static int parse_pci(struct parse_ctx *ctx, xmlNodePtr node)
{
    static const char *const allowed[] = {"address", "vendor", "product", "rom", "rombar",
                                          "functions", "subsystem", "host_use", NULL};
    if (check_attributes(ctx, node, allowed) < 0)
        return -1;
    if (node->children)
        for (xmlNodePtr c = node->children; c; c = c->next)
            if (c->type == XML_ELEMENT_NODE)
                return fail_at(ctx, c, "<pci> takes no child elements, found <%s>",
                               (const char *)c->name, NULL);
    struct sp_dev_spec *spec = new_spec(ctx, node, SP_SPEC_PCI);
    if (!spec)
        return sp_err_set(&ctx->err, "out of memory");
    xmlChar *address = xmlGetNoNsProp(node, BAD_CAST "address");
    xmlChar *vendor = xmlGetNoNsProp(node, BAD_CAST "vendor");
    xmlChar *product = xmlGetNoNsProp(node, BAD_CAST "product");
    xmlChar *rom = xmlGetNoNsProp(node, BAD_CAST "rom");
    xmlChar *functions = xmlGetNoNsProp(node, BAD_CAST "functions");
    xmlChar *subsystem = xmlGetNoNsProp(node, BAD_CAST "subsystem");
    xmlChar *host_use = xmlGetNoNsProp(node, BAD_CAST "host_use");
    xmlChar *rombar = xmlGetNoNsProp(node, BAD_CAST "rombar");
    int rc = fill_pci_spec(ctx, node, spec, (const char *)address, (const char *)vendor,
                           (const char *)product, (const char *)rom);
    if (rc == 0 && rombar)
        rc = set_rom_bar(ctx, node, spec, (const char *)rombar);
    if (rc == 0 && functions)
        rc = set_functions(ctx, node, spec, (const char *)functions);
    if (rc == 0 && subsystem)
        rc = set_subsystem(ctx, node, spec, (const char *)subsystem);
    if (rc == 0 && host_use)
        rc = set_host_use(ctx, node, spec, (const char *)host_use);
    xmlFree(host_use);
    xmlFree(rombar);
    xmlFree(functions);
    xmlFree(subsystem);
    xmlFree(address);
    xmlFree(vendor);
    xmlFree(product);
    xmlFree(rom);
    return rc;
}

/* libvirt's <hostdev> has no namespaced content, and a copy would lose
 * namespace declarations made further up in the snippet. */
static xmlNodePtr first_namespaced(xmlNodePtr node)
{
    if (node->ns)
        return node;
    for (xmlAttrPtr a = node->properties; a; a = a->next)
        if (a->ns)
            return node;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        xmlNodePtr found = c->type == XML_ELEMENT_NODE ? first_namespaced(c) : NULL;
        if (found)
            return found;
    }
    return NULL;
}

static int parse_raw_hostdev(struct parse_ctx *ctx, xmlNodePtr node)
{
    xmlNodePtr ns_node = first_namespaced(node);
    if (ns_node)
        return fail_at(ctx, ns_node, "namespaced content in <hostdev> (<%s>) is not supported",
                       (const char *)ns_node->name, NULL);
    struct sp_dev_spec *spec = new_spec(ctx, node, SP_SPEC_RAW);
    if (!spec)
        return sp_err_set(&ctx->err, "out of memory");
    xmlNodePtr src = sp_xml_hostdev_source_address(node);
    if (src) {
        if (sp_xml_read_pci_address(src, &spec->addr) < 0)
            return fail_at(ctx, src, "<hostdev> source <address> needs valid bus, slot and "
                           "function (domain <= 0xffff, bus <= 0xff, slot <= 0x1f, "
                           "function <= 7)", NULL, NULL);
        spec->has_addr = 1;
    }
    xmlChar *rom = NULL;
    xmlNodePtr rom_el = sp_xml_child(node, "rom");
    if (rom_el)
        rom = xmlGetNoNsProp(rom_el, BAD_CAST "file");
    /* Only an absolute ROM path is checked before start; anything else is
     * passed through as written, for libvirt to judge. */
    if (rom && rom[0] == '/')
        spec->rom = strdup((const char *)rom);
    xmlFree(rom);
    spec->raw_xml = sp_xml_node_to_string(node);
    if (!spec->raw_xml)
        return sp_err_set(&ctx->err, "out of memory");
    return 0;
}

/* A yes/no attribute of <passthrough>; absent gives fallback. */
static int parse_yes_no(struct parse_ctx *ctx, xmlNodePtr root, const char *name, int fallback,
                        int *out)
{
    *out = fallback;
    xmlChar *v = xmlGetNoNsProp(root, BAD_CAST name);
    if (!v)
        return 0;
    int rc = 0;
    if (xmlStrEqual(v, BAD_CAST "no"))
        *out = 0;
    else if (xmlStrEqual(v, BAD_CAST "yes"))
        *out = 1;
    else
        rc = fail_at(ctx, root, "%s must be 'yes' or 'no', not '%s'", name, (const char *)v);
    xmlFree(v);
    return rc;
}

static int parse_bind_attr(struct parse_ctx *ctx, xmlNodePtr root)
{
    if (parse_yes_no(ctx, root, "bind", 1, &ctx->bind) < 0 ||
        parse_yes_no(ctx, root, "release", 0, &ctx->release) < 0)
        return -1;
    if (ctx->release && !ctx->bind)
        return fail_at(ctx, root, "release='yes' needs the devices bound (bind='no' is set)",
                       NULL, NULL);
    return 0;
}

/* An attribute of <passthrough> with one value: 1 in *out when given. */
static int parse_only_value(struct parse_ctx *ctx, xmlNodePtr root, const char *name,
                            const char *value, int *out)
{
    xmlChar *v = xmlGetNoNsProp(root, BAD_CAST name);
    *out = v != NULL;
    int rc = 0;
    if (v && !xmlStrEqual(v, BAD_CAST value)) {
        char cause[512];
        snprintf(cause, sizeof(cause), "%s='%s': the only value is '%s'", name, (const char *)v,
                 value);
        rc = fail_at(ctx, root, "%s", cause, NULL);
    }
    xmlFree(v);
    return rc;
}

static int parse_domain_attrs(struct parse_ctx *ctx, xmlNodePtr root)
{
    if (parse_only_value(ctx, root, "video", "none", &ctx->video_none) < 0 ||
        parse_only_value(ctx, root, "hypervisor", "hidden", &ctx->hide_hypervisor) < 0)
        return -1;
    return 0;
}

/* video= and hypervisor= are carried by the specs: a <passthrough> that
 * passes nothing would lose them without a word. */
static int check_domain_attrs_have_devices(struct parse_ctx *ctx, xmlNodePtr root)
{
    if (ctx->snip->n_specs > 0 || (!ctx->video_none && !ctx->hide_hypervisor))
        return 0;
    return fail_at(ctx, root, "%s on a <passthrough> that passes no device: it goes with the "
                   "devices it is for (the GPU, say)", ctx->video_none ? "video='none'"
                                                                       : "hypervisor='hidden'",
                   NULL);
}

static int parse_children(struct parse_ctx *ctx, xmlNodePtr root)
{
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE)
            continue;
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (!xmlIsBlankNode(c))
                return fail_at(ctx, c, "unexpected text in <passthrough>", NULL, NULL);
            continue;
        }
        if (c->type != XML_ELEMENT_NODE)
            return fail_at(ctx, c, "unexpected content in <passthrough>", NULL, NULL);
        int rc;
        if (sp_xml_is(c, "pci"))
            rc = parse_pci(ctx, c);
        else if (sp_xml_is(c, "hostdev"))
            rc = parse_raw_hostdev(ctx, c);
        else
            rc = fail_at(ctx, c, "unknown element <%s> in <passthrough> (expected <pci> or "
                         "<hostdev>)", (const char *)c->name, NULL);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Reads the vm attribute; kept even when the rest is broken, so that the
 * VM it names can be refused instead of started without its devices. */
static int read_vm_attr(struct sp_snippet *out, xmlNodePtr root)
{
    xmlChar *vm = xmlGetNoNsProp(root, BAD_CAST "vm");
    if (!vm)
        return 0;
    int rc = 0;
    if (vm[0] != '\0') {
        out->vm = sp_vm_key_normalize((const char *)vm);
        rc = out->vm ? 0 : -1;
    }
    xmlFree(vm);
    return rc;
}

static int parse_document(struct parse_ctx *ctx, xmlDocPtr doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!sp_xml_is(root, "passthrough"))
        return fail_at(ctx, root, "root element is <%s>, expected <passthrough vm=\"...\">",
                       (const char *)root->name, NULL);
    if (read_vm_attr(ctx->snip, root) < 0)
        return sp_err_set(&ctx->err, "out of memory");
    if (!ctx->snip->vm)
        return fail_at(ctx, root, "<passthrough> needs a non-empty vm attribute "
                       "(domain name, UUID or title)", NULL, NULL);
    static const char *const allowed[] = {"vm", "bind", "release", "video", "hypervisor", NULL};
    if (check_attributes(ctx, root, allowed) < 0 || parse_bind_attr(ctx, root) < 0 ||
        parse_domain_attrs(ctx, root) < 0 || parse_children(ctx, root) < 0)
        return -1;
    return check_domain_attrs_have_devices(ctx, root);
}

/* What a salvage found: the root's vm attribute as written. */
struct salvage {
    char *vm;
    int entity; /* an entity reference came before the root's start */
    int oom;
};

static int salvage_root(void *user, int depth, const xmlChar *localname, const xmlChar *uri,
                        int nb_attributes, const xmlChar **attributes)
{
    struct salvage *sv = user;
    if (depth == 0 && !uri && !sv->entity && xmlStrEqual(localname, BAD_CAST "passthrough"))
        sv->oom = sp_xml_scan_attr(nb_attributes, attributes, "vm", &sv->vm) < 0;
    return 1; /* the root's start is all a salvage reads */
}

/* A vm attribute that refers to an entity says nothing certain. */
static int salvage_entity(void *user)
{
    ((struct salvage *)user)->entity = 1;
    return 1;
}

/* UTF-8 of a code point that XML allows in a document. */
static int put_utf8(unsigned long c, char *out, size_t *n)
{
    if (!(c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
          (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF)))
        return -1;
    int extra = c < 0x80 ? 0 : c < 0x800 ? 1 : c < 0x10000 ? 2 : 3;
    static const unsigned char lead[] = {0x00, 0xC0, 0xE0, 0xF0};
    out[(*n)++] = (char)(lead[extra] | (c >> (6 * extra)));
    for (int i = extra - 1; i >= 0; i--)
        out[(*n)++] = (char)(0x80 | ((c >> (6 * i)) & 0x3F));
    return 0;
}

/* "&#38;" or "&#x26;" at p: its character into out; returns how much of
 * p it took, 0 when malformed. */
static size_t put_char_ref(const char *p, const char *end, char *out, size_t *n)
{
    int hex = end - p > 2 && p[2] == 'x';
    const char *digits = p + (hex ? 3 : 2), *q = digits;
    unsigned long c = 0;
    while (q < end && q - digits < 8) {
        unsigned char d = (unsigned char)*q;
        if (!(hex ? isxdigit(d) : isdigit(d)))
            break;
        c = c * (hex ? 16 : 10) + (unsigned long)(isdigit(d) ? d - '0' : tolower(d) - 'a' + 10);
        q++;
    }
    if (q == digits || q >= end || *q != ';' || put_utf8(c, out, n) < 0)
        return 0;
    return (size_t)(q + 1 - p);
}

/* A reference at p (predefined entity or character reference): as
 * put_char_ref. */
static size_t put_reference(const char *p, const char *end, char *out, size_t *n)
{
    static const char *const names[][2] = {
        {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}, {"&quot;", "\""}, {"&apos;", "'"}};
    if (end - p > 1 && p[1] == '#')
        return put_char_ref(p, end, out, n);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t k = strlen(names[i][0]);
        if ((size_t)(end - p) >= k && memcmp(p, names[i][0], k) == 0) {
            out[(*n)++] = names[i][1][0];
            return k;
        }
    }
    return 0;
}

static int is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Whether the bytes between an attribute's quotes read as vm: references
 * resolved, white space normalized as XML does. */
static int value_reads_as(const char *p, const char *end, const char *vm)
{
    char *out = malloc((size_t)(end - p) + 1); /* decoding never lengthens */
    size_t n = 0;
    while (out && p < end && *p != '<') {
        size_t took = 1;
        if (*p == '&')
            took = put_reference(p, end, out, &n);
        else
            out[n++] = is_xml_space(*p) ? ' ' : *p;
        if (end - p > 1 && p[0] == '\r' && p[1] == '\n')
            took = 2;
        if (took == 0)
            break;
        p += took;
    }
    int same = out && p == end && n == strlen(vm) && memcmp(out, vm, n) == 0;
    free(out);
    return same;
}

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && is_xml_space(*p))
        p++;
    return p;
}

/* The attributes of a start tag from p: 1 when its vm= is there, closed
 * by its quote, and reads as vm. */
static int tag_holds_vm(const char *p, const char *end, const char *vm)
{
    for (;;) {
        const char *name = skip_space(p, end);
        p = name;
        while (p < end && !is_xml_space(*p) && *p != '=' && *p != '/' && *p != '>')
            p++;
        size_t name_len = (size_t)(p - name);
        p = skip_space(p, end);
        if (name_len == 0 || p >= end || *p != '=')
            return 0;
        p = skip_space(p + 1, end);
        if (p >= end || (*p != '\'' && *p != '"'))
            return 0;
        const char *close = memchr(p + 1, *p, (size_t)(end - p - 1));
        if (!close)
            return 0;
        if (name_len == 2 && memcmp(name, "vm", 2) == 0)
            return value_reads_as(p + 1, close, vm);
        p = close + 1;
    }
}

/* libxml2 hands over what it read of an attribute value before an error
 * (the end of a truncated file, a '<', a bad byte): a salvaged vm is
 * believed only when a <passthrough> start tag in the bytes holds it
 * whole, between its quotes. */
static int vm_written_whole(const char *buf, size_t len, const char *vm)
{
    static const char tag[] = "<passthrough";
    const size_t tag_len = sizeof(tag) - 1;
    const char *end = buf + len;
    for (const char *p = buf; (p = memmem(p, (size_t)(end - p), tag, tag_len)) != NULL; p++) {
        const char *after = p + tag_len;
        if (after < end && is_xml_space(*after) && tag_holds_vm(after, end, vm))
            return 1;
    }
    return 0;
}

/* After a syntax error (or a DOCTYPE), salvage the vm attribute from the
 * root's start tag, read as a stream: nothing of a DOCTYPE is expanded. */
static int salvage_vm(struct sp_snippet *out, const char *buf, size_t len)
{
    static const struct sp_xml_scan_ops ops = {.start = salvage_root, .entity = salvage_entity};
    struct salvage sv = {0};
    struct sp_err ignored;
    int doctype;
    sp_xml_scan(buf, len, out->path, &ops, &sv, &doctype, &ignored);
    int rc = sv.oom ? -1 : 0;
    if (sv.vm && sv.vm[0] != '\0' && !sv.entity && vm_written_whole(buf, len, sv.vm)) {
        out->vm = sp_vm_key_normalize(sv.vm);
        rc = out->vm ? 0 : -1;
    }
    free(sv.vm);
    return rc;
}

int sp_snippet_parse(const char *path, const char *buf, size_t len, struct sp_snippet *out)
{
    memset(out, 0, sizeof(*out));
    out->path = strdup(path);
    if (!out->path)
        return -1;
    struct parse_ctx ctx = {.snip = out, .bind = 1};
    xmlDocPtr doc = sp_xml_parse(buf, len, path, &ctx.err);
    int rc;
    if (!doc) {
        if (salvage_vm(out, buf, len) < 0)
            return -1;
        rc = -1;
    } else {
        rc = parse_document(&ctx, doc);
        xmlFreeDoc(doc);
    }
    if (rc < 0)
        return sp_snippet_set_error(out, ctx.err.msg);
    return 0;
}
