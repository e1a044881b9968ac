#include "claim.h"

#include <stdlib.h>
#include <string.h>

#include "bind.h"

int sp_claim_begin(struct sp_claim *c, const char *root, const char *state_dir, const char *vm,
                   long long now, struct sp_err *err)
{
    *c = (struct sp_claim){.root = root, .state_dir = state_dir, .vm = vm, .now = now,
                           .lock = -1};
    if (sp_hold_vm_check(vm, err) < 0)
        return -1;
    c->lock = sp_state_lock(state_dir, err);
    return c->lock < 0 ? -1 : 0;
}

const char *sp_claim_original_driver(const struct sp_claim_item *item)
{
    if (item->kind == SP_CLAIM_NEW || !item->had_hold)
        return item->was;
    return item->before.driver;
}

static enum sp_claim_kind kind_of(const struct sp_claim *c, const struct sp_claim_item *item)
{
    if (strcmp(item->was, SP_VFIO_DRIVER) != 0)
        return SP_CLAIM_NEW;
    return item->had_hold && strcmp(item->before.vm, c->vm) == 0 ? SP_CLAIM_OURS
                                                                  : SP_CLAIM_ON_VFIO;
}

/* Room for one more item; NULL when out of memory. */
static struct sp_claim_item *next_item(struct sp_claim *c, struct sp_err *err)
{
    struct sp_claim_item *grown = realloc(c->items, (c->n + 1) * sizeof(*grown));
    if (!grown) {
        sp_err_set(err, "out of memory");
        return NULL;
    }
    c->items = grown;
    memset(&grown[c->n], 0, sizeof(grown[c->n]));
    return &grown[c->n];
}

int sp_claim_add(struct sp_claim *c, const struct sp_pci_addr *addr, int release,
                 struct sp_err *err)
{
    struct sp_claim_item *item = next_item(c, err);
    if (!item)
        return -1;
    item->addr = *addr;
    int held = sp_state_read(c->state_dir, addr, &item->before, err);
    if (held < 0 || sp_vfio_bind_one(c->root, addr, item->was, sizeof(item->was), err) < 0)
        return -1;
    item->had_hold = held;
    item->kind = kind_of(c, item);
    c->n++; /* from here on a rollback puts it back */
    struct sp_hold h = {.since = c->now, .release = release};
    snprintf(h.vm, sizeof(h.vm), "%s", c->vm);
    snprintf(h.driver, sizeof(h.driver), "%s", sp_claim_original_driver(item));
    return sp_state_write(c->state_dir, addr, &h, err);
}

static void end(struct sp_claim *c)
{
    sp_state_unlock(c->lock);
    free(c->items);
    c->items = NULL;
    c->n = 0;
    c->lock = -1;
}

static void report(const struct sp_claim_item *item, FILE *out)
{
    char name[SP_PCI_ADDR_STRLEN];
    sp_pci_addr_format(&item->addr, name);
    if (item->kind == SP_CLAIM_NEW)
        fprintf(out, "bound %s was=%s\n", name, item->was);
    else if (item->kind == SP_CLAIM_ON_VFIO && item->had_hold)
        fprintf(out, "kept %s (taken over from VM '%s', whose hold had lapsed)\n", name,
                item->before.vm);
    else
        fprintf(out, "kept %s\n", name);
}

void sp_claim_commit(struct sp_claim *c, FILE *out)
{
    for (size_t i = 0; out && i < c->n; i++)
        report(&c->items[i], out);
    end(c);
}

void sp_claim_rollback(struct sp_claim *c)
{
    for (size_t i = c->n; i-- > 0;) {
        const struct sp_claim_item *item = &c->items[i];
        struct sp_err ignored;
        if (item->kind == SP_CLAIM_NEW)
            sp_vfio_release_one(c->root, &item->addr, item->was, &ignored);
        if (item->had_hold)
            sp_state_write(c->state_dir, &item->addr, &item->before, &ignored);
        else
            sp_state_remove(c->state_dir, &item->addr);
    }
    end(c);
}
