/* xmlmem: libxml2's allocations counted (xmlMemSetup), for tests that show a
 * document costs what its length says: the peak kept, growth past a cap
 * refused so that an entity bomb fails fast; and the bomb those tests feed. */
#ifndef SP_XMLMEM_H
#define SP_XMLMEM_H

#include <stddef.h>

/* Call first in main, before any libxml2 function. */
void tu_xml_mem_install(void);
/* Starts a measurement: from now on at most cap more bytes may be in use. */
void tu_xml_mem_reset(size_t cap);
/* The most bytes in use beyond those at the reset. */
size_t tu_xml_mem_peak(void);
/* How many allocations the cap refused since the reset. */
size_t tu_xml_mem_refused(void);

/* "<!DOCTYPE root [...]>" declaring e0 (10,000 bytes) and e1 (ten &e0;):
 * shaped as the bombs that got past libxml2's own amplification check
 * (big text, few levels). malloc'd. */
char *tu_entity_bomb_dtd(const char *root);
/* A hundred references to e1: 10 MB once expanded. */
#define TU_REFS_10 "&e1;&e1;&e1;&e1;&e1;&e1;&e1;&e1;&e1;&e1;"
#define TU_BOMB_REFS                                                                       \
    TU_REFS_10 TU_REFS_10 TU_REFS_10 TU_REFS_10 TU_REFS_10 TU_REFS_10 TU_REFS_10 TU_REFS_10 \
        TU_REFS_10 TU_REFS_10

#endif
