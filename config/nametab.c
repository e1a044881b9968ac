#include "nametab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *name_of(const struct sp_nametab *t, const void *item)
{
    return t->name_of ? t->name_of(item) : (const char *)item + t->name_off;
}

uint32_t sp_name_hash(const char *name)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

static size_t home_of(const struct sp_nametab *t, const char *name)
{
    return sp_name_hash(name) & (t->cap - 1);
}

/* The slot holding name, or the free one where it would go. */
static size_t slot_of(const struct sp_nametab *t, const char *name)
{
    size_t i = home_of(t, name);
    while (t->slots[i] && strcmp(name_of(t, t->slots[i]), name) != 0)
        i = (i + 1) & (t->cap - 1);
    return i;
}

void *sp_nametab_find(const struct sp_nametab *t, const char *name)
{
    return t->cap ? t->slots[slot_of(t, name)] : NULL;
}

/* At most three quarters full, so that a probe ends soon. */
static int make_room(struct sp_nametab *t)
{
    if (4 * (t->n + 1) <= 3 * t->cap)
        return 0;
    struct sp_nametab bigger = *t;
    bigger.cap = t->cap ? 2 * t->cap : 16;
    if (!(bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots))))
        return -1;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i])
            bigger.slots[slot_of(&bigger, name_of(t, t->slots[i]))] = t->slots[i];
    free(t->slots);
    *t = bigger;
    return 0;
}

int sp_nametab_add(struct sp_nametab *t, void *item)
{
    if (make_room(t) < 0)
        return -1;
    t->slots[slot_of(t, name_of(t, item))] = item;
    t->n++;
    return 0;
}

void *sp_nametab_find_or_new(struct sp_nametab *t, const char *name)
{
    void *item = sp_nametab_find(t, name);
    if (item)
        return item;
    size_t len = strlen(name);
    if (!(item = calloc(1, t->name_off + len + 1)))
        return NULL;
    memcpy((char *)item + t->name_off, name, len + 1);
    if (sp_nametab_add(t, item) < 0) {
        free(item);
        return NULL;
    }
    return item;
}

/* Whether home lies cyclically in (hole, at]: then the object at `at`
 * must stay where it is when hole frees. */
static int stays(size_t home, size_t hole, size_t at)
{
    return hole < at ? home > hole && home <= at : home > hole || home <= at;
}

void sp_nametab_del(struct sp_nametab *t, const void *item)
{
    if (!t->cap)
        return;
    size_t hole = slot_of(t, name_of(t, item));
    if (t->slots[hole] != item)
        return;
    size_t mask = t->cap - 1;
    /* Backward shift: the probe runs after the hole stay unbroken. */
    for (size_t at = (hole + 1) & mask; t->slots[at]; at = (at + 1) & mask) {
        if (stays(home_of(t, name_of(t, t->slots[at])), hole, at))
            continue;
        t->slots[hole] = t->slots[at];
        hole = at;
    }
    t->slots[hole] = NULL;
    t->n--;
}

void sp_nametab_replace(struct sp_nametab *t, const void *old, void *item)
{
    size_t at = slot_of(t, name_of(t, old));
    if (t->slots[at] == old)
        t->slots[at] = item;
}

void sp_nametab_free(struct sp_nametab *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = t->n = 0;
}
