/* vmcheck: one VM's start decision with all its problems, read-only. */
#include "vmcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "binder.h"

/* A stand-in for a VM whose XML is not at hand: a domain that carries its
 * keys (its name, and its UUID and title when libvirt told them), whose
 * firmware is not known. NULL when out of memory. */
static char *stand_in_domain(const struct sp_vmcheck_vm *vm)
{
    const char *uuid = vm->uuid ? vm->uuid : "";
    xmlChar *n = xmlEncodeSpecialChars(NULL, BAD_CAST(vm->name ? vm->name : vm->arg));
    xmlChar *t = vm->title ? xmlEncodeSpecialChars(NULL, BAD_CAST vm->title) : NULL;
    char *xml = NULL;
    int rc = n && (t || !vm->title)
                 ? asprintf(&xml, "<domain><name>%s</name>%s%s%s%s%s%s</domain>", (const char *)n,
                            uuid[0] ? "<uuid>" : "", uuid, uuid[0] ? "</uuid>" : "",
                            t ? "<title>" : "", t ? (const char *)t : "", t ? "</title>" : "")
                 : -1;
    xmlFree(n);
    xmlFree(t);
    return rc < 0 ? NULL : xml;
}

int sp_vmcheck(struct sp_snapshot *snap, const struct sp_vmcheck_vm *vm, const char *domain,
               size_t domain_len, struct sp_start *st, struct sp_problems *problems)
{
    int rc;
    if (domain) {
        rc = sp_start_prepare(snap, domain, domain_len, st);
    } else {
        char *xml = stand_in_domain(vm);
        if (!xml)
            return -1;
        rc = sp_start_prepare(snap, xml, strlen(xml), st);
        free(xml);
    }
    if (rc < 0)
        return -1;
    if (st->verdict == SP_UNMATCHED && vm->unreached && vm->unreached[0])
        sp_problems_add(problems, "no snippet in %s/vm.d names VM '%s' (libvirt, which could tell "
                        "its other names, was not reached: %s)", snap->config_dir, vm->arg,
                        vm->unreached);
    else if (st->verdict == SP_UNMATCHED)
        sp_problems_add(problems, "no snippet in %s/vm.d names VM '%s'", snap->config_dir, vm->arg);
    else if (st->verdict != SP_READY)
        sp_problems_add(problems, "%s", st->err.msg);
    if ((st->verdict == SP_READY || st->verdict == SP_REFUSED) &&
        sp_binder_needed(st->devs, st->n_devs)) {
        struct sp_helper_result *res = calloc(1, sizeof(*res));
        if (!res)
            return -1;
        if (sp_binder_for_start(SP_CHECK, st, res) < 0)
            sp_problems_add(problems, "%s", st->err.msg);
        free(res);
    }
    return 0;
}
