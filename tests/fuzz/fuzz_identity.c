/* Fuzzes the identity and DOCTYPE path on inputs up to 1 MB: sp_xml_scan,
 * sp_domain_identify, sp_domain_parse and sp_snippet_parse. Properties: no
 * memory errors, leaks or UB; libxml2 holds at most a bound linear in the
 * input (an expanded entity breaks it at once); a DOCTYPE is refused by both
 * tree parses; and without one, the identity read from the stream is the
 * one the tree gives, for exactly the documents the tree parse accepts. The
 * read of the head (sp_domain_identify_head) finds the full read's identity
 * whenever that one succeeds and never accepts what it refuses when read to
 * the end; a start it lets through (sp_start_untouched) is one
 * sp_start_prepare lets through, for VMs snippets name and VMs they do not. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/xmlutil.h"
#include "../../common/fsutil.h"
#include "../../common/testhooks.h"
#include "../../config/config.h"
#include "../../config/snippet.h"
#include "../../core/start.h"
#include "../../xmlpatch/domain.h"
#include "../unit/xmlmem.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A stream holds the input and the text it keeps; a tree some dozens of
 * bytes per byte of markup ("<a/>" is a node of 120 bytes). */
#define STREAM_BOUND(size) (4 * (size) + (1u << 20))
#define TREE_BOUND(size) (64 * (size) + (4u << 20))

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_identity: %s: %s\n", what, detail ? detail : "");
    abort();
}

static void check_bound(const char *what, size_t bound)
{
    char detail[128];
    snprintf(detail, sizeof(detail), "%zu bytes at the peak, %zu allocations past %zu refused",
             tu_xml_mem_peak(), tu_xml_mem_refused(), bound);
    if (tu_xml_mem_refused())
        fail(what, detail);
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* What the tree says, as the identity used to be read from it. */
static char *tree_text(xmlNodePtr root, const char *name, int trim)
{
    xmlChar *content = xmlNodeGetContent(sp_xml_child(root, name));
    if (!content)
        return NULL;
    const char *s = (const char *)content;
    size_t len = strlen(s);
    while (trim && len > 0 && strchr(" \t\r\n", s[len - 1]))
        len--;
    while (trim && len > 0 && strchr(" \t\r\n", *s))
        s++, len--;
    char *out = strndup(s, len);
    xmlFree(content);
    return out;
}

static void compare_with_tree(xmlDocPtr doc, int rc, const struct sp_domain_id *id,
                              const char *why)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    char *name = tree_text(root, "name", 1);
    char *uuid = tree_text(root, "uuid", 1);
    char *title = tree_text(root, "title", 0);
    if (!name || !name[0]) {
        if (rc == 0)
            fail("the stream found a <name> the tree has not", id->name);
    } else if (rc < 0) {
        fail("the stream refused what the tree parse accepts", why);
    } else if (id->doctype || id->unknown || !same(id->name, name) || !same(id->uuid, uuid) ||
               !same(id->title, title)) {
        fail("the stream's identity is not the tree's", name);
    }
    free(name);
    free(uuid);
    free(title);
}

static void check_snippet(const uint8_t *data, size_t size, int doctype)
{
    struct sp_snippet snip;
    tu_xml_mem_reset(TREE_BOUND(size));
    int rc = sp_snippet_parse("vm.d/fuzz.xml", (const char *)data, size, &snip);
    check_bound("sp_snippet_parse", TREE_BOUND(size));
    tu_xml_mem_reset((size_t)-1);
    if (rc == 0 && doctype && !snip.error)
        fail("a snippet with a DOCTYPE was accepted", snip.vm);
    if (snip.error && strpbrk(snip.error, "\n\r\t"))
        fail("an error is not one line", snip.error);
    sp_snippet_free(&snip);
}

/* The head read against the full one, on the same input. */
static void check_head(const char *xml, size_t size, int rc_full, const struct sp_domain_id *full)
{
    struct sp_domain_id head;
    struct sp_err err;
    int rc = sp_domain_identify_head(xml, size, &head, &err);
    if (rc_full >= 0 && rc < 0)
        fail("the head read refused what the full read accepts", err.msg);
    if (rc_full < 0 && rc == 0)
        fail("the head read accepted what the full read refuses", NULL);
    if (rc == 0 && (!same(head.name, full->name) || !same(head.uuid, full->uuid) ||
                    !same(head.title, full->title) || head.doctype != full->doctype))
        fail("the head read to the end is not the full read", head.name);
    if (rc_full >= 0 && rc >= 0 &&
        (!same(head.name, full->name) || !same(head.uuid, full->uuid) ||
         !same(head.title, full->title) || !same(head.unknown, full->unknown)))
        fail("the head's identity is not the full read's", head.name);
    if (rc >= 0)
        sp_domain_id_free(&head);
}

/* Snippets naming VM "a", uuid "u" and title "t" (the seeds use them). */
static struct sp_snapshot *snap;
static char base[SP_PATH_MAX];

static void write_text(const char *name, const char *text)
{
    char path[SP_PATH_MAX];
    FILE *f = sp_path_fmt(path, sizeof(path), "%s/%s", base, name) == 0 ? fopen(path, "w") : NULL;
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        fail("cannot write", name);
}

static void remove_base(void)
{
    static const char *const names[] = {"vm.d/a.xml", "vm.d/u.xml", "vm.d/t.xml", "vm.d", "sys",
                                        ""};
    char path[SP_PATH_MAX];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (sp_path_fmt(path, sizeof(path), "%s/%s", base, names[i]) == 0)
            remove(path);
}

static void make_snapshot(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[SP_PATH_MAX];
    char uid[32];
    snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
    if (sp_path_fmt(base, sizeof(base), "%s/sp-fuzz-id.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0 ||
        !mkdtemp(base) || sp_path_fmt(path, sizeof(path), "%s/vm.d", base) < 0 ||
        mkdir(path, 0755) < 0 || sp_path_fmt(path, sizeof(path), "%s/sys", base) < 0 ||
        mkdir(path, 0755) < 0)
        fail("cannot make the config dir", base);
    atexit(remove_base);
    /* An empty fake sysfs: never this machine's own. */
    setenv(SP_ENV_SYSFS_ROOT, path, 1);
    setenv(SP_ENV_TRUSTED_UID, uid, 1);
    static const char *const vms[] = {"a", "u", "t"};
    for (size_t i = 0; i < 3; i++) {
        char name[32], text[128];
        snprintf(name, sizeof(name), "vm.d/%s.xml", vms[i]);
        snprintf(text, sizeof(text), "<passthrough vm='%s'><pci address='01:00.0'/>"
                 "</passthrough>\n", vms[i]);
        write_text(name, text);
    }
    struct sp_config *cfg = sp_config_new(base);
    struct sp_err err;
    if (!cfg || sp_config_snapshot(cfg, &snap, &err) < 0 || !sp_snapshot_lookup(snap, "t"))
        fail("no snapshot", err.msg);
    sp_config_free(cfg);
}

static int named(const char *key)
{
    return key && sp_snapshot_lookup(snap, key);
}

/* The verdict from the identity read whole: the fake host has none of the
 * snippets' devices, so a VM they name is refused. */
static enum sp_verdict expected_verdict(int rc_full, const struct sp_domain_id *full)
{
    if (rc_full == SP_XML_OOM)
        return SP_REFUSED;
    if (rc_full < 0)
        return SP_BAD_INPUT;
    int is_named = named(full->name) || named(full->uuid) || named(full->title);
    return is_named || (full->doctype && full->unknown) ? SP_REFUSED : SP_UNMATCHED;
}

/* sp_start_decide, the launch's one read of the head: what
 * sp_start_untouched lets through goes on as it is, anything else is
 * decided as by sp_start_prepare (prepared), in the same words. */
static void check_launch_decision(const char *xml, size_t size, int untouched,
                                  const struct sp_start *prepared)
{
    struct sp_start st;
    if (sp_start_decide(snap, xml, size, &st) < 0)
        fail("out of memory without a limit", NULL);
    int passes = st.verdict == SP_UNMATCHED || st.verdict == SP_BAD_INPUT;
    if (untouched ? !passes : st.verdict != prepared->verdict)
        fail("the launch's decision is not sp_start_untouched then sp_start_prepare",
             st.err.msg);
    if (!untouched && strcmp(st.err.msg, prepared->err.msg) != 0)
        fail("the launch's decision says otherwise than sp_start_prepare", st.err.msg);
    sp_start_free(&st);
}

/* sp_start_prepare, which reads the head first, decides as the whole read
 * does (bad input in the same words); a start the head lets through is one
 * it lets through. */
static void check_decision(const char *xml, size_t size, int rc_full,
                           const struct sp_domain_id *full, const char *full_err)
{
    int untouched = sp_start_untouched(snap, xml, size);
    struct sp_start st;
    if (sp_start_prepare(snap, xml, size, &st) < 0)
        fail("out of memory without a limit", NULL);
    if (st.verdict != expected_verdict(rc_full, full))
        fail("the decision is not the one the whole read gives", st.err.msg);
    if (st.verdict == SP_BAD_INPUT && strcmp(st.err.msg, full_err) != 0)
        fail("bad input said otherwise than by the whole read", st.err.msg);
    if (untouched && st.verdict != SP_UNMATCHED && st.verdict != SP_BAD_INPUT)
        fail("the head let through a start the full decision keeps", st.err.msg);
    check_launch_decision(xml, size, untouched, &st);
    sp_start_free(&st);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    make_snapshot();
    tu_xml_mem_install();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *xml = (const char *)data;
    struct sp_err err, tree_err;
    int doctype;
    static const struct sp_xml_scan_ops nothing;
    tu_xml_mem_reset(STREAM_BOUND(size));
    int wellformed = sp_xml_scan(xml, size, "fuzz", &nothing, NULL, &doctype, &err) == 0;
    check_bound("sp_xml_scan", STREAM_BOUND(size));

    struct sp_domain_id id;
    tu_xml_mem_reset(STREAM_BOUND(size));
    int rc = sp_domain_identify(xml, size, &id, &err);
    check_bound("sp_domain_identify", STREAM_BOUND(size));
    if (rc < 0 && strpbrk(err.msg, "\n\r\t"))
        fail("an error is not one line", err.msg);

    tu_xml_mem_reset(TREE_BOUND(size));
    xmlDocPtr doc = sp_domain_parse(xml, size, &tree_err);
    check_bound("sp_domain_parse", TREE_BOUND(size));
    tu_xml_mem_reset((size_t)-1);
    if (doc && doctype)
        fail("a DOCTYPE got past the tree parse", NULL);
    if (doc)
        compare_with_tree(doc, rc, &id, err.msg);
    else if (rc == 0 && !doctype)
        fail("the stream read what the tree parse refuses", tree_err.msg);
    if (doctype && wellformed && !strstr(tree_err.msg, "a DOCTYPE is not supported"))
        fail("a DOCTYPE was refused for another reason", tree_err.msg);
    if (doc)
        xmlFreeDoc(doc);
    check_head(xml, size, rc, &id);
    check_decision(xml, size, rc, &id, err.msg);
    if (rc == 0)
        sp_domain_id_free(&id);
    check_snippet(data, size, doctype && wellformed);
    return 0;
}
