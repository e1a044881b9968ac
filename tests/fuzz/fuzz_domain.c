/* Fuzzes the domain pipeline: sp_domain_parse, sp_domain_identify,
 * sp_xmlpatch_apply with a fixed device set (built PCI hostdevs and raw
 * <hostdev> elements of every kind), sp_edits_apply (video="none",
 * hypervisor="hidden"), sp_domain_serialize. Properties: no memory errors,
 * leaks or UB; every added element carries our alias; idempotence:
 * re-parsing the patched output and patching it again must succeed and
 * change nothing; and the edits alone, taken back as a definition written
 * back from live XML is, leave the document as it was. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>

#include "../../common/xmlutil.h"
#include "../../core/persist.h"
#include "../../xmlpatch/domain.h"
#include "../../xmlpatch/edits.h"
#include "../../xmlpatch/xmlpatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAW_HOSTDEV                                                                  \
    "<hostdev mode='subsystem' type='pci' managed='no'><source>"                     \
    "<address domain='0x0000' bus='0x08' slot='0x00' function='0x6'/></source>"      \
    "</hostdev>"
#define RAW(attrs, body) "<hostdev mode='subsystem' " attrs "><source" body "</hostdev>"

/* Two functions of one host slot (one with a ROM), a device on another slot,
 * and a raw hostdev that shares the first slot. As in core/start.c, a raw
 * hostdev carries the host address of its <source>. Then raw elements of
 * every other kind: USB by IDs, by place and by both (the last one the same
 * device as the first: added once), SCSI, iSCSI, vhost-scsi and mdev (these
 * two take guest PCI slots), and the capabilities kinds. */
static const struct sp_patch_dev devs[] = {
    {.has_host = 1, .host = {0, 0x08, 0x00, 0}, .rom = "/etc/synopassthru/rom/gpu.bin"},
    {.has_host = 1, .host = {0, 0x08, 0x00, 1}},
    {.has_host = 1, .host = {0, 0x03, 0x00, 0}},
    {.has_host = 1, .host = {0, 0x08, 0x00, 6}, .raw_xml = RAW_HOSTDEV},
    {.raw_xml = RAW("type='usb'", "><vendor id='0x046d'/><product id='0xc52b'/></source>")},
    {.raw_xml = RAW("type='usb'", "><address bus='1' device='4'/></source>"
                    "<address type='usb' bus='0' port='3'/>")},
    {.raw_xml = RAW("type='usb'", "><vendor id='0x46D'/><product id='50475'/>"
                    "<address bus='2' device='7'/></source>")},
    {.raw_xml = RAW("type='scsi'", "><adapter name='scsi_host2'/>"
                    "<address bus='0' target='1' unit='0'/></source><readonly/>")},
    {.raw_xml = RAW("type='scsi'", " protocol='iscsi' name='iqn.2014-08.com.example:tape/1'>"
                    "<host name='nas.local'/></source>")},
    {.raw_xml = RAW("type='scsi_host'", " protocol='vhost' wwpn='naa.5001405df3e54061'/>")},
    {.raw_xml = RAW("type='mdev' model='vfio-pci'",
                    "><address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source>"
                    "<alias name='ua-sp-mdev-c2177883-f1bb-47f0-914d-32a22e3a8804'/>")},
    {.raw_xml = "<hostdev mode='capabilities' type='storage'><source><block>/dev/sdf</block>"
                "</source></hostdev>"},
    {.raw_xml = "<hostdev mode='capabilities' type='misc'><source><char>/dev/input/event3</char>"
                "</source></hostdev>"},
    {.raw_xml = "<hostdev mode='capabilities' type='net'><source><interface>eth3</interface>"
                "</source></hostdev>"},
};
#define N_DEVS (sizeof(devs) / sizeof(devs[0]))

static const struct sp_edit_opts edits = {.video_none = 1, .hide_hypervisor = 1};

static void fail(const char *what, const char *detail, const char *text)
{
    fprintf(stderr, "fuzz_domain: %s: %s\n", what, detail ? detail : "");
    if (text)
        fprintf(stderr, "--- patched document ---\n%s\n--- end ---\n", text);
    abort();
}

/* Second pass over the serialized output of a successful first pass. */
static void check_idempotent(const char *out, size_t out_len)
{
    struct sp_err err;
    sp_err_clear(&err);
    xmlDocPtr doc = sp_domain_parse(out, out_len, &err);
    if (!doc)
        fail("patched output does not re-parse", err.msg, out);
    struct sp_domain_id id;
    if (sp_domain_identify(out, out_len, &id, &err) < 0)
        fail("patched output lost its identity", err.msg, out);
    sp_domain_id_free(&id);
    struct sp_patch_report report;
    if (sp_xmlpatch_apply(doc, devs, N_DEVS, &report, &err) < 0)
        fail("second pass failed", err.msg, out);
    if (sp_edits_apply(doc, &edits, &report, &err) < 0)
        fail("second pass of the edits failed", err.msg, out);
    if (report.n_added != 0)
        fail("second pass added elements (not idempotent)", report.added[0], out);
    if (sp_patch_report_changed(&report))
        fail("second pass changed elements (not idempotent)", NULL, out);
    if (report.n_present != N_DEVS)
        fail("second pass did not find every device present", NULL, out);
    sp_patch_report_free(&report);
    xmlFreeDoc(doc);
}

/* Layout is no content: text beside elements dropped (libvirt reads none
 * there, and the whitespace around a new element joins it), other text
 * trimmed at both ends. */
static void trim_text(xmlNodePtr node)
{
    int mixed = xmlFirstElementChild(node) != NULL;
    xmlNodePtr c = node->children;
    while (c) {
        xmlNodePtr next = c->next;
        if (c->type == XML_TEXT_NODE && mixed) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        } else if (c->type == XML_TEXT_NODE && c->content) {
            const char *t = (const char *)c->content;
            size_t start = strspn(t, " \t\r\n"), end = strlen(t);
            while (end > start && strchr(" \t\r\n", t[end - 1]))
                end--;
            char *kept = strndup(t + start, end - start);
            if (kept && kept[0])
                xmlNodeSetContent(c, BAD_CAST kept);
            else if (kept) {
                xmlUnlinkNode(c);
                xmlFreeNode(c);
            }
            free(kept);
        } else if (c->type == XML_ELEMENT_NODE) {
            trim_text(c);
        }
        c = next;
    }
}

static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

/* The document without its layout, in exclusive canonical form (where
 * namespaces are declared does not count); NULL when it has none (a
 * relative namespace URI). */
static char *canonical(xmlDocPtr doc)
{
    xmlDocPtr copy = xmlCopyDoc(doc, 1);
    if (!copy)
        return NULL;
    trim_text(xmlDocGetRootElement(copy));
    xmlChar *text = NULL;
    xmlSetGenericErrorFunc(NULL, quiet);
    int n = xmlC14NDocDumpMemory(copy, NULL, XML_C14N_EXCLUSIVE_1_0, NULL, 1, &text);
    xmlSetGenericErrorFunc(NULL, NULL);
    xmlFreeDoc(copy);
    char *out = n >= 0 && text ? strdup((const char *)text) : NULL;
    xmlFree(text);
    return out;
}

/* The <video> elements of devices follow each other, as libvirt writes
 * them (they come back together, in the first one's place). */
static int videos_together(xmlNodePtr devices)
{
    int runs = 0, in_run = 0;
    for (xmlNodePtr c = xmlFirstElementChild(devices); c; c = xmlNextElementSibling(c)) {
        int video = sp_xml_is(c, "video");
        runs += video && !in_run;
        in_run = video;
    }
    return runs <= 1;
}

/* A domain that has a <devices> (libvirt's always has one: a 'none'
 * <video> may have to make it, and it stays) with its videos together, no
 * empty <metadata> (it goes with the note) and nothing of ours yet. */
static int comparable(xmlDocPtr doc, const char *xml, size_t size)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr metadata = sp_xml_child(root, "metadata");
    xmlNodePtr devices = sp_xml_child(root, "devices");
    return devices && videos_together(devices) && (!metadata || xmlFirstElementChild(metadata)) &&
           !memmem(xml, size, "ua-sp-", 6) && !memmem(xml, size, "urn:synopassthru", 16);
}

/* The edits alone, their output cleaned as a define would clean it. */
static void check_edits_go_back(const char *xml, size_t size)
{
    struct sp_err err;
    xmlDocPtr doc = sp_domain_parse(xml, size, &err);
    if (!doc || !comparable(doc, xml, size)) {
        if (doc)
            xmlFreeDoc(doc);
        return;
    }
    char *before = canonical(doc);
    struct sp_patch_report report = {0};
    char *out = NULL, *clean = NULL;
    size_t out_len;
    if (before && sp_edits_apply(doc, &edits, &report, &err) == 0 &&
        sp_domain_serialize(doc, xml, size, &out, &out_len, &err) == 0) {
        if (sp_persist_clean(out, &clean, &err) < 0)
            fail("cleaning the edited document failed", err.msg, out);
        xmlDocPtr back = clean ? sp_domain_parse(clean, strlen(clean), &err) : NULL;
        char *after = back ? canonical(back) : NULL;
        if (sp_patch_report_changed(&report) && after && strcmp(before, after) != 0)
            fail("the edits did not go back", after, out);
        free(after);
        if (back)
            xmlFreeDoc(back);
    }
    free(clean);
    free(out);
    free(before);
    sp_patch_report_free(&report);
    xmlFreeDoc(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *xml = (const char *)data;
    struct sp_err err;
    sp_err_clear(&err);
    xmlDocPtr doc = sp_domain_parse(xml, size, &err);
    if (!doc)
        return 0;
    struct sp_domain_id id;
    /* core/start.c refuses a domain without a name before patching it. */
    if (sp_domain_identify(xml, size, &id, &err) < 0) {
        xmlFreeDoc(doc);
        return 0;
    }
    char *label = sp_domain_label(&id);
    free(label);
    sp_domain_id_free(&id);

    struct sp_patch_report report;
    int rc = sp_xmlpatch_apply(doc, devs, N_DEVS, &report, &err);
    if (rc == 0)
        rc = sp_edits_apply(doc, &edits, &report, &err);
    if (rc == 0) {
        for (size_t i = 0; i < report.n_added; i++) {
            if (!report.added[i] || strlen(report.added[i]) == 0)
                fail("empty report entry", NULL, NULL);
            if (!strstr(report.added[i], "<alias name=\"" SP_ALIAS_PREFIX))
                fail("an added element has no alias of ours", report.added[i], NULL);
        }
        char *out = NULL;
        size_t out_len = 0;
        if (sp_domain_serialize(doc, xml, size, &out, &out_len, &err) < 0)
            fail("serialize failed", err.msg, NULL);
        if (strlen(out) != out_len)
            fail("serialized length mismatch", NULL, out);
        check_idempotent(out, out_len);
        free(out);
    }
    sp_patch_report_free(&report);
    xmlFreeDoc(doc);
    check_edits_go_back(xml, size);
    return 0;
}
