#include "xmlmem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlmemory.h>

/* Each block carries its size in front of it. The tests that use this are
 * single-threaded. */
#define HEADER 16

static size_t in_use, base, peak, cap = (size_t)-1, refused;

static int may_grow(size_t more)
{
    size_t used = in_use > base ? in_use - base : 0;
    if (more > cap || used > cap - more) {
        refused++;
        return 0;
    }
    return 1;
}

static void account(size_t old_size, size_t new_size)
{
    in_use = in_use - old_size + new_size;
    if (in_use > base && in_use - base > peak)
        peak = in_use - base;
}

static void *counted_malloc(size_t size)
{
    if (!may_grow(size))
        return NULL;
    char *p = malloc(size + HEADER);
    if (!p)
        return NULL;
    memcpy(p, &size, sizeof(size));
    account(0, size);
    return p + HEADER;
}

static void counted_free(void *mem)
{
    if (!mem)
        return;
    char *p = (char *)mem - HEADER;
    size_t size;
    memcpy(&size, p, sizeof(size));
    account(size, 0);
    free(p);
}

static void *counted_realloc(void *mem, size_t size)
{
    if (!mem)
        return counted_malloc(size);
    char *p = (char *)mem - HEADER;
    size_t old;
    memcpy(&old, p, sizeof(old));
    if (size > old && !may_grow(size - old))
        return NULL;
    char *q = realloc(p, size + HEADER);
    if (!q)
        return NULL;
    memcpy(q, &size, sizeof(size));
    account(old, size);
    return q + HEADER;
}

static char *counted_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = counted_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void tu_xml_mem_install(void)
{
    if (xmlMemSetup(counted_free, counted_malloc, counted_realloc, counted_strdup) != 0) {
        fprintf(stderr, "xmlmem: xmlMemSetup failed\n");
        abort();
    }
}

void tu_xml_mem_reset(size_t new_cap)
{
    base = in_use;
    peak = 0;
    refused = 0;
    cap = new_cap;
}

size_t tu_xml_mem_peak(void)
{
    return peak;
}

size_t tu_xml_mem_refused(void)
{
    return refused;
}

char *tu_entity_bomb_dtd(const char *root)
{
    char e0[10001];
    memset(e0, 'x', 10000);
    e0[10000] = '\0';
    char *out = NULL;
    if (asprintf(&out, "<!DOCTYPE %s [<!ENTITY e0 '%s'><!ENTITY e1 '%s'>]>", root, e0,
                 "&e0;&e0;&e0;&e0;&e0;&e0;&e0;&e0;&e0;&e0;") < 0)
        abort();
    return out;
}
