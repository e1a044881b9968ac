/* Fuzzes sp_sh_parse (the shell subset of the community passthrough
 * scripts). Property: any input parses without memory errors, leaks or UB;
 * every statement is sane (lines in order and inside the input, each word
 * a literal or a reference, never both, a reason for every line not
 * understood), and a second parse gives the same statements. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../import/shvars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_word(const struct sp_sh_word *w)
{
    if ((w->text == NULL) == (w->ref == NULL))
        abort();
    if (w->text && strchr(w->text, '\n'))
        abort();
    if (w->ref && w->ref[0] == '\0')
        abort();
}

static void check_stmt(const struct sp_sh_stmt *st, int last_line, int lines)
{
    if (st->line <= last_line || st->line > lines)
        abort();
    if ((st->kind == SP_SH_UNKNOWN || st->kind == SP_SH_COMMENT) && !st->text)
        abort();
    if (st->kind == SP_SH_ASSIGN) {
        if (!st->name || !st->name[0])
            abort();
        check_word(&st->value);
    }
    if ((st->kind == SP_SH_WORKER || st->kind == SP_SH_COMMAND || st->kind == SP_SH_EXPORT) &&
        st->n_words && !st->words)
        abort();
    if (st->kind == SP_SH_COMMAND && st->n_words == 0)
        abort();
    for (size_t i = 0; i < st->n_words; i++)
        check_word(&st->words[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sp_sh_script a, b;
    if (sp_sh_parse((const char *)data, size, &a) < 0)
        return 0;
    int lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    int last = 0;
    for (size_t i = 0; i < a.n_stmts; i++) {
        check_stmt(&a.stmts[i], last, lines);
        last = a.stmts[i].line;
    }
    if (sp_sh_parse((const char *)data, size, &b) == 0) {
        if (b.n_stmts != a.n_stmts)
            abort();
        for (size_t i = 0; i < a.n_stmts; i++)
            if (a.stmts[i].kind != b.stmts[i].kind || a.stmts[i].line != b.stmts[i].line)
                abort();
        sp_sh_script_free(&b);
    }
    sp_sh_script_free(&a);
    return 0;
}
