/* Fuzzes the domain pipeline: sp_domain_parse, sp_domain_identity,
 * sp_xmlpatch_apply with a fixed device set, sp_domain_serialize. Properties:
 * no memory errors, leaks or UB; and idempotence: re-parsing the patched
 * output and patching it again must succeed and add nothing. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../xmlpatch/domain.h"
#include "../../xmlpatch/xmlpatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAW_HOSTDEV                                                                  \
    "<hostdev mode='subsystem' type='pci' managed='no'><source>"                     \
    "<address domain='0x0000' bus='0x08' slot='0x00' function='0x6'/></source>"      \
    "</hostdev>"

/* Two functions of one host slot (one with a ROM), a device on another slot,
 * and a raw hostdev that shares the first slot. As in core/start.c, a raw
 * hostdev carries the host address of its <source>. */
static const struct sp_patch_dev devs[] = {
    {.has_host = 1, .host = {0, 0x08, 0x00, 0}, .rom = "/etc/synopassthru/rom/gpu.bin"},
    {.has_host = 1, .host = {0, 0x08, 0x00, 1}},
    {.has_host = 1, .host = {0, 0x03, 0x00, 0}},
    {.has_host = 1, .host = {0, 0x08, 0x00, 6}, .raw_xml = RAW_HOSTDEV},
};
#define N_DEVS (sizeof(devs) / sizeof(devs[0]))

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
    if (sp_domain_identity(doc, &id, &err) < 0)
        fail("patched output lost its identity", err.msg, out);
    sp_domain_id_free(&id);
    struct sp_patch_report report;
    if (sp_xmlpatch_apply(doc, devs, N_DEVS, &report, &err) < 0)
        fail("second pass failed", err.msg, out);
    if (report.n_added != 0)
        fail("second pass added elements (not idempotent)", report.added[0], out);
    if (report.n_present != N_DEVS)
        fail("second pass did not find every device present", NULL, out);
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
    if (sp_domain_identity(doc, &id, &err) < 0) {
        xmlFreeDoc(doc);
        return 0;
    }
    char *label = sp_domain_label(&id);
    free(label);
    sp_domain_id_free(&id);

    struct sp_patch_report report;
    int rc = sp_xmlpatch_apply(doc, devs, N_DEVS, &report, &err);
    if (rc == 0) {
        for (size_t i = 0; i < report.n_added; i++)
            if (!report.added[i] || strlen(report.added[i]) == 0)
                fail("empty report entry", NULL, NULL);
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
    return 0;
}
