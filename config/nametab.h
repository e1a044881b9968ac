/* nametab: a set of objects found by a name each holds (a NUL-terminated
 * char array at a fixed offset inside it), as one open-addressing array of
 * pointers: about 13 bytes an object where a uthash handle took 56 and its
 * buckets more (the config cache holds two objects per snippet). Owns the
 * slots only: an object it makes (find_or_new) is the caller's to free. */
#ifndef SP_NAMETAB_H
#define SP_NAMETAB_H

#include <stddef.h>
#include <stdint.h>

struct sp_nametab {
    void **slots; /* cap of them, a power of two; NULL: free */
    size_t cap, n;
    size_t name_off; /* where an object's name is */
    /* When set, an object's name instead: for slots holding objects of
     * more than one shape (find_or_new is then not for this table). */
    const char *(*name_of)(const void *item);
};

/* An empty table of `type` objects named by their char array `member`. */
#define SP_NAMETAB_INIT(type, member) {.name_off = offsetof(type, member)}

/* The hash of a name (FNV-1a), for this table and the VM index's buckets. */
uint32_t sp_name_hash(const char *name);

void *sp_nametab_find(const struct sp_nametab *t, const char *name);
/* The object named name, or else a new one added: zeroed, the name in
 * place and nothing after it. NULL when memory runs out. */
void *sp_nametab_find_or_new(struct sp_nametab *t, const char *name);
/* Adds item, whose name is not in t yet; -1 when memory runs out. */
int sp_nametab_add(struct sp_nametab *t, void *item);
/* Takes item out. The slots after it may move back by one: a loop over the
 * slots that deletes looks at the same slot again (an object may be seen
 * twice, none is missed). */
void sp_nametab_del(struct sp_nametab *t, const void *item);
/* Puts item in the slot of old, which has the same name; cannot fail. */
void sp_nametab_replace(struct sp_nametab *t, const void *old, void *item);
void sp_nametab_free(struct sp_nametab *t);

#endif
