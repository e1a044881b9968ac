/* report: what an import found and did, as the text the user reads: per VM
 * the snippet and each device with its source line and ROM verdict, then
 * what was not imported, the scripts the master does not run, and the old
 * hook. Owns the tallies the exit status is made from. Never decides or
 * changes anything. */
#ifndef SP_IMPORT_REPORT_H
#define SP_IMPORT_REPORT_H

#include <stdio.h>

#include "import.h"

struct sp_import_counts {
    size_t written;   /* snippets and ROMs written now */
    size_t unchanged; /* already there, identical */
    size_t pending;   /* would be written (dry run) */
    size_t refused;   /* files not written because another is there */
    size_t failed;    /* writes that failed */
    size_t misfits;   /* ROMs that do not fit their device */
    size_t skipped;   /* lines or scripts not imported */
    size_t blocking;  /* of those, the ones that keep the old hook needed */
};

void sp_import_count(const struct sp_import_run *r, struct sp_import_counts *c);

void sp_import_report(FILE *out, const struct sp_import_run *r);

#endif
