#include "edits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xmlutil.h"
#include "layout.h"

/* The note in <metadata>, one entry per change:
 *   <synopassthru:edits xmlns:synopassthru="urn:synopassthru:edits:1">
 *     <synopassthru:video>(a <video> taken out, as text)</synopassthru:video>
 *     <synopassthru:kvm-hidden added="features|kvm|hidden"/> or was="STATE"
 *     <synopassthru:cpu-hypervisor added="cpu|feature"/> or was="POLICY"
 *   </synopassthru:edits>
 * A video="none" on a domain without <video> needs no entry: our <video>
 * carries our alias, and goes with the hostdevs. */
#define NOTE "edits"
#define NOTE_PREFIX "synopassthru"

/* libvirt's own default when a domain names no CPU model (QEMU's default
 * CPU, with no check, as libvirt writes it in the live XML). */
#define DEFAULT_CPU_MODEL "qemu64"

struct edit {
    xmlDocPtr doc;
    xmlNodePtr root;
    xmlNodePtr note; /* found or made when the first change is noted */
    struct sp_patch_report *report;
    struct sp_err *err;
};

/* --- small builders ----------------------------------------------------- */

static xmlNodePtr new_element(xmlDocPtr doc, const char *name, const char *attr,
                              const char *value)
{
    xmlNodePtr el = xmlNewDocNode(doc, NULL, BAD_CAST name, NULL);
    if (el && attr && !xmlNewProp(el, BAD_CAST attr, BAD_CAST value)) {
        xmlFreeNode(el);
        return NULL;
    }
    return el;
}

/* Appends a new element (with one attribute, or none) to parent. */
static xmlNodePtr append_new(xmlNodePtr parent, const char *name, const char *attr,
                             const char *value)
{
    xmlNodePtr el = new_element(parent->doc, name, attr, value);
    if (el && sp_layout_append(parent, el) == 0)
        return el;
    if (el && !el->parent)
        xmlFreeNode(el);
    return NULL;
}

/* The element serialized without its whitespace-only text. malloc'd. */
static char *compact_text(xmlNodePtr node)
{
    xmlNodePtr copy = xmlDocCopyNode(node, node->doc, 1);
    if (!copy)
        return NULL;
    sp_layout_strip_blank(copy);
    char *text = sp_xml_node_to_string(copy);
    xmlFreeNode(copy);
    return text;
}

/* --- the report and the note -------------------------------------------- */

/* "VERB TEXT[TAIL]" into list. */
static int report(struct edit *e, struct sp_changes *list, const char *verb, const char *text,
                  const char *tail)
{
    char *line = NULL;
    char **grown = realloc(list->text, (list->n + 1) * sizeof(*grown));
    if (grown)
        list->text = grown;
    if (!grown || !text || asprintf(&line, "%s %s%s", verb, text, tail ? tail : "") < 0)
        return sp_err_set(e->err, "out of memory");
    list->text[list->n++] = line;
    return 0;
}

/* report() with the element's compact text. */
static int report_node(struct edit *e, struct sp_changes *list, const char *verb, xmlNodePtr node)
{
    char *text = compact_text(node);
    int rc = report(e, list, verb, text, NULL);
    free(text);
    return rc;
}

static int in_note_ns(xmlNodePtr node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && node->ns && node->ns->href &&
           xmlStrEqual(node->ns->href, BAD_CAST SP_EDITS_NS) &&
           xmlStrEqual(node->name, BAD_CAST name);
}

static xmlNodePtr find_note(xmlNodePtr root)
{
    xmlNodePtr metadata = sp_xml_child(root, "metadata");
    for (xmlNodePtr c = metadata ? metadata->children : NULL; c; c = c->next)
        if (in_note_ns(c, NOTE))
            return c;
    return NULL;
}

static xmlNodePtr make_note(xmlNodePtr root)
{
    xmlNodePtr metadata = sp_layout_domain_child(root, "metadata");
    xmlNodePtr note = metadata ? xmlNewDocNode(root->doc, NULL, BAD_CAST NOTE, NULL) : NULL;
    xmlNsPtr ns = note ? xmlNewNs(note, BAD_CAST SP_EDITS_NS, BAD_CAST NOTE_PREFIX) : NULL;
    if (!ns || sp_layout_append(metadata, note) < 0) {
        if (note && !note->parent)
            xmlFreeNode(note);
        return NULL;
    }
    xmlSetNs(note, ns);
    return note;
}

/* Adds <synopassthru:NAME ATTR="VALUE">TEXT</...> to the note (attr and
 * text may be NULL). */
static int note(struct edit *e, const char *name, const char *attr, const char *value,
                const char *text)
{
    if (!e->note)
        e->note = find_note(e->root);
    if (!e->note)
        e->note = make_note(e->root);
    xmlNodePtr entry = e->note ? xmlNewDocNode(e->doc, e->note->ns, BAD_CAST name, NULL) : NULL;
    int rc = entry ? 0 : -1;
    if (rc == 0 && attr && !xmlNewProp(entry, BAD_CAST attr, BAD_CAST value))
        rc = -1;
    if (rc == 0 && text)
        xmlNodeAddContent(entry, BAD_CAST text);
    if (rc == 0)
        rc = sp_layout_append(e->note, entry);
    if (rc < 0 && entry && !entry->parent)
        xmlFreeNode(entry);
    return rc < 0 ? sp_err_set(e->err, "out of memory") : 0;
}

/* --- video="none" ------------------------------------------------------- */

static int is_none_video(xmlNodePtr video)
{
    return sp_xml_attr_is(sp_xml_child(video, "model"), "type", "none");
}

static int is_our_video(xmlNodePtr video)
{
    return sp_xml_attr_is(sp_xml_child(video, "alias"), "name", SP_VIDEO_ALIAS);
}

/* The domain has one <video>, of model none: nothing emulated to replace
 * (libvirt takes a 'none' video only alone). */
static int video_is_none(xmlNodePtr devices)
{
    xmlNodePtr only = NULL;
    for (xmlNodePtr c = devices->children; c; c = c->next) {
        if (!sp_xml_is(c, "video"))
            continue;
        if (only)
            return 0;
        only = c;
    }
    return only && is_none_video(only);
}

static xmlNodePtr new_none_video(xmlDocPtr doc)
{
    xmlNodePtr video = new_element(doc, "video", NULL, NULL);
    xmlNodePtr model = video ? new_element(doc, "model", "type", "none") : NULL;
    xmlNodePtr alias = model ? new_element(doc, "alias", "name", SP_VIDEO_ALIAS) : NULL;
    if (!alias) {
        xmlFreeNode(model);
        xmlFreeNode(video);
        return NULL;
    }
    xmlAddChild(video, model);
    xmlAddChild(video, alias);
    return video;
}

/* Takes out a <video>, noted (one of ours, from an earlier start, is not). */
static int take_out_video(struct edit *e, xmlNodePtr video)
{
    if (!is_our_video(video)) {
        char *text = compact_text(video);
        int rc = text ? note(e, "video", NULL, NULL, text) : sp_err_set(e->err, "out of memory");
        if (rc == 0)
            rc = report(e, &e->report->video, "removed", text, NULL);
        free(text);
        if (rc < 0)
            return -1;
    }
    sp_layout_remove(video);
    return 0;
}

static int make_video_none(struct edit *e)
{
    xmlNodePtr devices = sp_layout_domain_child(e->root, "devices");
    if (!devices)
        return sp_err_set(e->err, "out of memory");
    if (video_is_none(devices))
        return 0;
    xmlNodePtr first = sp_xml_child(devices, "video");
    xmlNodePtr ours = new_none_video(e->doc);
    int rc = !ours ? -1 : first ? sp_layout_insert_before(first, ours) : sp_layout_append(devices, ours);
    if (rc < 0) {
        if (ours && !ours->parent)
            xmlFreeNode(ours);
        return sp_err_set(e->err, "out of memory");
    }
    for (xmlNodePtr c = devices->children, next; c; c = next) {
        next = c->next;
        if (c != ours && sp_xml_is(c, "video") && take_out_video(e, c) < 0)
            return -1;
    }
    return report_node(e, &e->report->video, "added", ours);
}

/* --- hypervisor="hidden": <kvm><hidden state='on'/> --------------------- */

/* An existing <hidden> set to on; was= keeps its state ("" for none). */
static int switch_hidden_on(struct edit *e, xmlNodePtr hidden)
{
    if (sp_xml_attr_is(hidden, "state", "on"))
        return 0;
    xmlChar *was = xmlGetNoNsProp(hidden, BAD_CAST "state");
    char *before = compact_text(hidden);
    int rc = note(e, "kvm-hidden", "was", was ? (const char *)was : "", NULL);
    if (rc == 0 && !xmlSetProp(hidden, BAD_CAST "state", BAD_CAST "on"))
        rc = sp_err_set(e->err, "out of memory");
    if (rc == 0)
        rc = report(e, &e->report->features, "changed", before, " to state='on'");
    free(before);
    xmlFree(was);
    return rc;
}

static int hide_kvm(struct edit *e)
{
    xmlNodePtr features = sp_xml_child(e->root, "features");
    xmlNodePtr kvm = sp_xml_child(features, "kvm");
    xmlNodePtr hidden = sp_xml_child(kvm, "hidden");
    if (hidden)
        return switch_hidden_on(e, hidden);
    /* The outermost element made here: taking it back takes all. */
    const char *made = !features ? "features" : !kvm ? "kvm" : "hidden";
    if (!features)
        features = sp_layout_domain_child(e->root, "features");
    if (features && !kvm)
        kvm = append_new(features, "kvm", NULL, NULL);
    hidden = kvm ? append_new(kvm, "hidden", "state", "on") : NULL;
    if (!hidden)
        return sp_err_set(e->err, "out of memory");
    xmlNodePtr outer = strcmp(made, "features") == 0 ? features
                       : strcmp(made, "kvm") == 0    ? kvm
                                                     : hidden;
    if (note(e, "kvm-hidden", "added", made, NULL) < 0)
        return -1;
    return report_node(e, &e->report->features, "added", outer);
}

/* --- hypervisor="hidden": the CPU feature --------------------------------- */

static xmlNodePtr hypervisor_feature(xmlNodePtr cpu)
{
    for (xmlNodePtr c = cpu ? cpu->children : NULL; c; c = c->next)
        if (sp_xml_is(c, "feature") && sp_xml_attr_is(c, "name", "hypervisor"))
            return c;
    return NULL;
}

static xmlNodePtr new_disabled_feature(xmlDocPtr doc)
{
    xmlNodePtr f = new_element(doc, "feature", "policy", "disable");
    if (f && !xmlNewProp(f, BAD_CAST "name", BAD_CAST "hypervisor")) {
        xmlFreeNode(f);
        return NULL;
    }
    return f;
}

/* A <cpu> with no mode is mode='custom'. */
static int is_custom(xmlNodePtr cpu)
{
    xmlChar *mode = xmlGetNoNsProp(cpu, BAD_CAST "mode");
    int custom = !mode || xmlStrEqual(mode, BAD_CAST "custom");
    xmlFree(mode);
    return custom;
}

static int switch_feature_off(struct edit *e, xmlNodePtr feature)
{
    if (sp_xml_attr_is(feature, "policy", "disable") || sp_xml_attr_is(feature, "policy", "forbid"))
        return 0;
    xmlChar *was = xmlGetNoNsProp(feature, BAD_CAST "policy");
    char *before = compact_text(feature);
    int rc = note(e, "cpu-hypervisor", "was", was ? (const char *)was : "", NULL);
    if (rc == 0 && !xmlSetProp(feature, BAD_CAST "policy", BAD_CAST "disable"))
        rc = sp_err_set(e->err, "out of memory");
    if (rc == 0)
        rc = report(e, &e->report->cpu, "changed", before, " to policy='disable'");
    free(before);
    xmlFree(was);
    return rc;
}

/* No <cpu>: the CPU libvirt would choose, with the feature disabled. */
static int add_cpu(struct edit *e)
{
    xmlNodePtr cpu = sp_layout_domain_child(e->root, "cpu");
    int rc = cpu && xmlNewProp(cpu, BAD_CAST "mode", BAD_CAST "custom") &&
                     xmlNewProp(cpu, BAD_CAST "match", BAD_CAST "exact") &&
                     xmlNewProp(cpu, BAD_CAST "check", BAD_CAST "none") ? 0 : -1;
    xmlNodePtr model = rc == 0 ? append_new(cpu, "model", "fallback", "forbid") : NULL;
    if (model)
        xmlNodeAddContent(model, BAD_CAST DEFAULT_CPU_MODEL);
    xmlNodePtr feature = model ? new_disabled_feature(e->doc) : NULL;
    if (!feature || sp_layout_append(cpu, feature) < 0) {
        if (feature && !feature->parent)
            xmlFreeNode(feature);
        return sp_err_set(e->err, "out of memory");
    }
    if (note(e, "cpu-hypervisor", "added", "cpu", NULL) < 0)
        return -1;
    return report_node(e, &e->report->cpu, "added", cpu);
}

/* The feature goes where libvirt writes features: before <numa>. */
static int add_feature(struct edit *e, xmlNodePtr cpu)
{
    if (is_custom(cpu) && !sp_xml_child(cpu, "model"))
        return sp_err_set(e->err, "hypervisor='hidden' cannot disable the CPU feature "
                                  "'hypervisor': the domain's <cpu> has neither a mode nor a "
                                  "<model>, and libvirt takes no <feature> in such a <cpu> "
                                  "(give it mode='host-passthrough', or a <model>)");
    xmlNodePtr feature = new_disabled_feature(e->doc);
    xmlNodePtr numa = sp_xml_child(cpu, "numa");
    int rc = !feature ? -1 : numa ? sp_layout_insert_before(numa, feature)
                                  : sp_layout_append(cpu, feature);
    if (rc < 0) {
        if (feature && !feature->parent)
            xmlFreeNode(feature);
        return sp_err_set(e->err, "out of memory");
    }
    if (note(e, "cpu-hypervisor", "added", "feature", NULL) < 0)
        return -1;
    return report_node(e, &e->report->cpu, "added", feature);
}

static int disable_cpu_hypervisor(struct edit *e)
{
    xmlNodePtr cpu = sp_xml_child(e->root, "cpu");
    if (!cpu)
        return add_cpu(e);
    xmlNodePtr feature = hypervisor_feature(cpu);
    return feature ? switch_feature_off(e, feature) : add_feature(e, cpu);
}

int sp_edits_apply(xmlDocPtr doc, const struct sp_edit_opts *opts, struct sp_patch_report *report,
                   struct sp_err *err)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!sp_xml_is(root, "domain"))
        return sp_err_set(err, "document root is not <domain>");
    if (doc->intSubset)
        return sp_err_set(err, "domain XML with a DOCTYPE is not supported");
    struct edit e = {.doc = doc, .root = root, .report = report, .err = err};
    struct sp_xml_oom_guard guard;
    sp_xml_oom_guard_begin(&guard);
    int rc = 0;
    if (opts->video_none)
        rc = make_video_none(&e);
    if (rc == 0 && opts->hide_hypervisor)
        rc = hide_kvm(&e);
    if (rc == 0 && opts->hide_hypervisor)
        rc = disable_cpu_hypervisor(&e);
    if (sp_xml_oom_guard_end(&guard) && rc == 0)
        rc = sp_err_set(err, "out of memory while changing the domain's elements");
    return rc;
}

/* --- taking the changes back -------------------------------------------- */

/* The noted <video> elements in place of the 'none' one. */
static int restore_videos(xmlNodePtr root, xmlNodePtr note_el)
{
    xmlNodePtr devices = sp_xml_child(root, "devices");
    xmlNodePtr none = NULL;
    for (xmlNodePtr c = devices ? devices->children : NULL; c && !none; c = c->next)
        if (sp_xml_is(c, "video") && is_none_video(c))
            none = c;
    if (!none)
        return 0;
    int restored = 0;
    for (xmlNodePtr c = note_el->children; c; c = c->next) {
        xmlChar *text = in_note_ns(c, "video") ? xmlNodeGetContent(c) : NULL;
        struct sp_err ignored;
        xmlNodePtr video = text ? sp_xmlpatch_copy_in(root->doc, (const char *)text,
                                                      "the noted <video>", &ignored) : NULL;
        xmlFree(text);
        if (!video)
            continue;
        if (!sp_xml_is(video, "video") || sp_layout_insert_before(none, video) < 0) {
            if (!video->parent)
                xmlFreeNode(video);
            continue;
        }
        restored++;
    }
    if (restored)
        sp_layout_remove(none);
    return restored;
}

/* An attribute back to what the note says it was ("" for none). */
static void set_back(xmlNodePtr node, const char *attr, const xmlChar *was)
{
    if (was[0])
        xmlSetProp(node, BAD_CAST attr, was);
    else
        xmlUnsetProp(node, BAD_CAST attr);
}

/* Takes out an element added to one that was there: a parent left with no
 * element is closed up again (<cpu .../> as it was, not <cpu ...>\n</cpu>). */
static void remove_added(xmlNodePtr el)
{
    xmlNodePtr parent = el->parent;
    sp_layout_remove(el);
    if (!xmlFirstElementChild(parent))
        sp_layout_strip_blank(parent);
}

/* Removes el when it has no element left; returns 1 when it did. */
static int remove_if_empty(xmlNodePtr el)
{
    if (!el || xmlFirstElementChild(el))
        return 0;
    sp_layout_remove(el);
    return 1;
}

static int revert_kvm_hidden(xmlNodePtr root, xmlNodePtr entry)
{
    xmlNodePtr features = sp_xml_child(root, "features");
    xmlNodePtr kvm = sp_xml_child(features, "kvm");
    xmlNodePtr hidden = sp_xml_child(kvm, "hidden");
    if (!sp_xml_attr_is(hidden, "state", "on"))
        return 0;
    xmlChar *was = xmlGetNoNsProp(entry, BAD_CAST "was");
    xmlChar *made = was ? NULL : xmlGetNoNsProp(entry, BAD_CAST "added");
    int done = 1;
    if (was)
        set_back(hidden, "state", was);
    else if (made && (xmlStrEqual(made, BAD_CAST "hidden") || xmlStrEqual(made, BAD_CAST "kvm") ||
                      xmlStrEqual(made, BAD_CAST "features"))) {
        remove_added(hidden);
        if (!xmlStrEqual(made, BAD_CAST "hidden") && remove_if_empty(kvm) &&
            xmlStrEqual(made, BAD_CAST "features"))
            remove_if_empty(features);
    } else {
        done = 0;
    }
    xmlFree(was);
    xmlFree(made);
    return done;
}

static int revert_cpu_hypervisor(xmlNodePtr root, xmlNodePtr entry)
{
    xmlNodePtr cpu = sp_xml_child(root, "cpu");
    xmlNodePtr feature = hypervisor_feature(cpu);
    if (!sp_xml_attr_is(feature, "policy", "disable"))
        return 0;
    xmlChar *was = xmlGetNoNsProp(entry, BAD_CAST "was");
    xmlChar *made = was ? NULL : xmlGetNoNsProp(entry, BAD_CAST "added");
    int done = 1;
    if (was)
        set_back(feature, "policy", was);
    else if (made && xmlStrEqual(made, BAD_CAST "feature"))
        remove_added(feature);
    else if (made && xmlStrEqual(made, BAD_CAST "cpu"))
        sp_layout_remove(cpu);
    else
        done = 0;
    xmlFree(was);
    xmlFree(made);
    return done;
}

/* Takes back what one note says, then the note; returns how many went. */
static int revert_note(xmlNodePtr root, xmlNodePtr note_el)
{
    int reverted = restore_videos(root, note_el);
    for (xmlNodePtr c = note_el->children; c; c = c->next) {
        if (in_note_ns(c, "kvm-hidden"))
            reverted += revert_kvm_hidden(root, c);
        else if (in_note_ns(c, "cpu-hypervisor"))
            reverted += revert_cpu_hypervisor(root, c);
    }
    xmlNodePtr metadata = note_el->parent;
    sp_layout_remove(note_el);
    remove_if_empty(metadata);
    return reverted + 1;
}

int sp_edits_revert(xmlDocPtr doc, struct sp_err *err)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!sp_xml_is(root, "domain"))
        return 0;
    struct sp_xml_oom_guard guard;
    sp_xml_oom_guard_begin(&guard);
    /* libvirt keeps one note; a text written by hand may have more. */
    int reverted = 0;
    for (xmlNodePtr note_el; (note_el = find_note(root)) != NULL;)
        reverted += revert_note(root, note_el);
    /* A part not taken back would stay in the definition for good. */
    if (sp_xml_oom_guard_end(&guard))
        return sp_err_set(err, "out of memory while taking back the changed elements");
    return reverted;
}
