/* import: the work of `synopassthru import`: reads an install of the
 * community scripts (legacy/), puts its snippets and ROMs into the config
 * dir (apply/), takes the old hook out when asked (oldhook/) and prints the
 * report (report/). Owns the order of those steps and the exit status.
 * Never parses a command line and never runs a script. */
#ifndef SP_IMPORT_H
#define SP_IMPORT_H

#include <stdio.h>

#include "../common/err.h"
#include "apply.h"
#include "legacy.h"
#include "oldhook.h"

struct sp_import_opts {
    const char *config_dir; /* as sp_config_dir_choose picked it */
    const char *root;       /* prefix of every system path; "" on the NAS */
    const char *from;       /* the scripts' folder; NULL: ROOT/usr/local/libvirt */
    int dry_run;            /* print every action, change nothing */
    int remove_old;         /* afterwards, back up and remove the old hook */
};

/* The exit status of an import (the CLI's codes). */
enum sp_import_status {
    SP_IMPORT_DONE = 0,         /* everything imported, every ROM fits */
    SP_IMPORT_INCOMPLETE = 1,   /* something not imported or refused, or a ROM does not fit */
    SP_IMPORT_NOT_FOUND = 3,    /* no old install at the folder */
    SP_IMPORT_WRITE_FAILED = 4, /* a file could not be written (or memory ran out) */
};

enum sp_import_removal {
    SP_REMOVAL_NOT_ASKED,
    SP_REMOVAL_BLOCKED, /* not everything was imported: the old hook stays */
    SP_REMOVAL_NOTHING, /* nothing of the old hook is installed */
    SP_REMOVAL_WOULD,   /* dry run */
    SP_REMOVAL_DONE,
    SP_REMOVAL_FAILED,
};

/* Everything one run found and did: what the report prints. */
struct sp_import_run {
    const struct sp_import_opts *opts;
    const char *from;   /* the folder read */
    const char *origin; /* the folder as the snippets' comment names it */
    struct sp_legacy_plan plan;
    struct sp_apply apply;
    struct sp_oldhook hook;
    char *hook_error; /* the hooks could not be read */
    char *config_error; /* the config dir's own problem, if any */
    enum sp_import_removal removal;
    char *backup_dir;
    struct sp_oldhook_done done;
    char *removal_error;
};

/* Runs the import and prints the report on out. A status other than
 * SP_IMPORT_DONE comes with a one-line summary in err. */
int sp_import(const struct sp_import_opts *opts, FILE *out, struct sp_err *err);

#endif
