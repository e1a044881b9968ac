#include "vmindex.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nametab.h"

/* Enough that a bucket of a 10,000-VM config holds a few dozen entries. */
#define BUCKETS 256

struct bucket {
    atomic_int refs;
    size_t n, cap;
    struct sp_vm_entry **entries; /* sorted by key */
};

struct sp_vm_index {
    struct bucket *buckets[BUCKETS];
    size_t n;
};

static unsigned bucket_of(const char *key)
{
    return sp_name_hash(key) % BUCKETS;
}

static void bucket_release(struct bucket *b)
{
    if (!b || atomic_fetch_sub(&b->refs, 1) != 1)
        return;
    for (size_t i = 0; i < b->n; i++)
        sp_vm_entry_release(b->entries[i]);
    free(b->entries);
    free(b);
}

struct sp_vm_index *sp_index_copy(const struct sp_vm_index *from)
{
    struct sp_vm_index *ix = calloc(1, sizeof(*ix));
    if (!ix || !from)
        return ix;
    *ix = *from;
    for (size_t i = 0; i < BUCKETS; i++)
        if (ix->buckets[i])
            atomic_fetch_add(&ix->buckets[i]->refs, 1);
    return ix;
}

void sp_index_free(struct sp_vm_index *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < BUCKETS; i++)
        bucket_release(ix->buckets[i]);
    free(ix);
}

/* Where key is, or would go, in b; *found when it is there. */
static size_t position(const struct bucket *b, const char *key, int *found)
{
    size_t lo = 0, hi = b ? b->n : 0;
    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(b->entries[mid]->key, key);
        if (cmp == 0) {
            *found = 1;
            return mid;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The bucket this index alone holds, room for one more: shared ones are
 * copied first (a published index never changes). */
static struct bucket *own_bucket(struct sp_vm_index *ix, unsigned slot)
{
    struct bucket *b = ix->buckets[slot];
    if (b && atomic_load(&b->refs) == 1 && b->n < b->cap)
        return b;
    size_t n = b ? b->n : 0;
    size_t cap = n < 4 ? 8 : 2 * n;
    struct sp_vm_entry **entries = malloc(cap * sizeof(*entries));
    if (!entries)
        return NULL;
    if (b && atomic_load(&b->refs) == 1) {
        memcpy(entries, b->entries, n * sizeof(*entries));
        free(b->entries);
        b->entries = entries;
        b->cap = cap;
        return b;
    }
    struct bucket *copy = calloc(1, sizeof(*copy));
    if (!copy) {
        free(entries);
        return NULL;
    }
    atomic_init(&copy->refs, 1);
    copy->entries = entries;
    copy->n = n;
    copy->cap = cap;
    for (size_t i = 0; i < n; i++) {
        entries[i] = b->entries[i];
        atomic_fetch_add(&entries[i]->refs, 1);
    }
    bucket_release(b);
    ix->buckets[slot] = copy;
    return copy;
}

int sp_index_set(struct sp_vm_index *ix, const char *key, struct sp_vm_entry *entry)
{
    unsigned slot = bucket_of(key);
    int found;
    position(ix->buckets[slot], key, &found);
    if (!found && !entry)
        return 0;
    struct bucket *b = own_bucket(ix, slot);
    if (!b) {
        sp_vm_entry_release(entry);
        return -1;
    }
    size_t at = position(b, key, &found);
    if (found) {
        sp_vm_entry_release(b->entries[at]);
        if (entry) {
            b->entries[at] = entry;
            return 0;
        }
        memmove(&b->entries[at], &b->entries[at + 1], (b->n - at - 1) * sizeof(*b->entries));
        b->n--;
        ix->n--;
        return 0;
    }
    memmove(&b->entries[at + 1], &b->entries[at], (b->n - at) * sizeof(*b->entries));
    b->entries[at] = entry;
    b->n++;
    ix->n++;
    return 0;
}

size_t sp_index_size(const struct sp_vm_index *ix)
{
    return ix ? ix->n : 0;
}

const struct sp_vm_entry *sp_index_find(const struct sp_vm_index *ix, const char *key)
{
    if (!ix)
        return NULL;
    const struct bucket *b = ix->buckets[bucket_of(key)];
    int found;
    size_t at = position(b, key, &found);
    return found ? b->entries[at] : NULL;
}

const struct sp_vm_entry *sp_index_next(const struct sp_vm_index *ix,
                                        const struct sp_vm_entry *prev)
{
    if (!ix)
        return NULL;
    unsigned slot = 0;
    size_t at = 0;
    if (prev) {
        int found;
        slot = bucket_of(prev->key);
        at = position(ix->buckets[slot], prev->key, &found) + 1;
    }
    for (; slot < BUCKETS; slot++, at = 0) {
        const struct bucket *b = ix->buckets[slot];
        if (b && at < b->n)
            return b->entries[at];
    }
    return NULL;
}
