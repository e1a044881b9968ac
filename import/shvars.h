/* shvars: the little shell the community passthrough scripts are written in,
 * read from a buffer line by line into statements (assignments, export, the
 * worker call, the TARGET_VM guard, plain commands, comments). Owns the
 * quoting rules and the reason a line is not understood. Never runs, expands
 * or guesses anything: what it cannot read exactly comes back as
 * SP_SH_UNKNOWN with the reason. */
#ifndef SP_SHVARS_H
#define SP_SHVARS_H

#include <stddef.h>

enum sp_sh_kind {
    SP_SH_COMMENT,     /* a whole-line comment or the shebang; text = after the '#' */
    SP_SH_ASSIGN,      /* NAME=value, or export NAME=value (exported set) */
    SP_SH_EXPORT,      /* export NAME...: words are the names */
    SP_SH_WORKER,      /* a call of the community worker script */
    SP_SH_GUARD_BEGIN, /* if [ "$TARGET_VM" == "$VM_NAME" ]; then */
    SP_SH_GUARD_END,   /* fi */
    SP_SH_COMMAND,     /* any other simple command of plain words */
    SP_SH_UNKNOWN,     /* not understood; text = the reason */
};

enum sp_sh_worker {
    SP_SH_WORKER_ATTACH,      /* attach_detach_pci_from_vm.sh "ATTACH" ADDRESS VENDOR PRODUCT ROM */
    SP_SH_WORKER_DETACH,      /* the same with "DETACH" */
    SP_SH_WORKER_PREDECESSOR, /* attach_pci_to_vm.sh VENDOR PRODUCT VM_NAME [MODPROBE_PARAMS] */
};

#define SP_SH_WORKER_CURRENT "attach_detach_pci_from_vm.sh"
#define SP_SH_WORKER_OLD "attach_pci_to_vm.sh"

/* One word: either a literal (quotes taken off) or exactly one variable
 * reference ($NAME, "$NAME", ${NAME}, $1). */
struct sp_sh_word {
    char *text; /* the literal; NULL when the word is a reference */
    char *ref;  /* the variable's name; NULL for a literal */
};

struct sp_sh_stmt {
    enum sp_sh_kind kind;
    int line;                /* 1-based */
    char *name;              /* SP_SH_ASSIGN: the variable */
    struct sp_sh_word value; /* SP_SH_ASSIGN */
    int exported;            /* SP_SH_ASSIGN: written as export NAME=value */
    enum sp_sh_worker worker;
    /* SP_SH_WORKER: the arguments after the mode (ATTACH/DETACH), or every
     * argument of the predecessor's worker; SP_SH_COMMAND: every word;
     * SP_SH_EXPORT: the names. */
    struct sp_sh_word *words;
    size_t n_words;
    char *text; /* SP_SH_COMMENT: the comment; SP_SH_UNKNOWN: the reason */
};

struct sp_sh_script {
    struct sp_sh_stmt *stmts;
    size_t n_stmts;
};

/* Parses a whole script (LF or CRLF line ends). Blank lines leave no
 * statement. Returns 0, or -1 only when memory runs out (out is then
 * empty). */
int sp_sh_parse(const char *buf, size_t len, struct sp_sh_script *out);

void sp_sh_script_free(struct sp_sh_script *s);

/* The file name part of a path ("/a/b.sh" -> "b.sh"). */
const char *sp_sh_basename(const char *path);

#endif
