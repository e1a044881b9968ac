#include "shvars.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REASON_MAX 160

/* ---- characters ---------------------------------------------------------- */

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int is_operator(char c)
{
    return c != '\0' && strchr(";|&<>()", c) != NULL;
}

static int is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static int is_name(const char *s)
{
    if (!is_name_start(*s))
        return 0;
    while (*++s)
        if (!is_name_char(*s))
            return 0;
    return 1;
}

const char *sp_sh_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ---- one word as it is read ------------------------------------------------ */

struct word_buf {
    char *text;
    size_t len, cap;
    char *ref;      /* the first variable reference */
    int n_refs;
    size_t literal; /* characters that are not part of a reference */
    char glob;      /* an unquoted '*', '?' or '[' (0 when none) */
    int tilde;      /* an unquoted '~' where the shell expands it */
};

struct token {
    int semi;          /* the operator ';' */
    char *assign_name; /* the word is NAME=value: the value is in w */
    struct word_buf w;
};

struct lexer {
    const char *p, *end;
    char reason[REASON_MAX]; /* set once something is not understood */
    int oom;
};

/* The first reason a line is not understood; later ones are dropped. */
static void first_reason(char reason[REASON_MAX], const char *fmt, va_list ap)
{
    if (!reason[0])
        vsnprintf(reason, REASON_MAX, fmt, ap);
}

static void lex_fail(struct lexer *lx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lex_fail(struct lexer *lx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    first_reason(lx->reason, fmt, ap);
    va_end(ap);
}

static int lex_ok(const struct lexer *lx)
{
    return !lx->reason[0] && !lx->oom;
}

static void wb_free(struct word_buf *w)
{
    free(w->text);
    free(w->ref);
    memset(w, 0, sizeof(*w));
}

static void wb_putc(struct lexer *lx, struct word_buf *w, char c)
{
    if (w->len + 2 > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        char *grown = realloc(w->text, cap);
        if (!grown) {
            lx->oom = 1;
            return;
        }
        w->text = grown;
        w->cap = cap;
    }
    w->text[w->len++] = c;
    w->text[w->len] = '\0';
    w->literal++;
}

static void wb_add_ref(struct lexer *lx, struct word_buf *w, const char *name, size_t n)
{
    if (w->n_refs++ > 0)
        return;
    w->ref = strndup(name, n);
    if (!w->ref)
        lx->oom = 1;
}

/* ---- the lexer --------------------------------------------------------------- */

/* ${NAME} (p at the '{'); anything else in braces is not evaluated. */
static void lex_braced(struct lexer *lx, struct word_buf *w, const char *p)
{
    const char *close = memchr(p, '}', (size_t)(lx->end - p));
    if (!close) {
        lex_fail(lx, "unbalanced ${");
        return;
    }
    size_t n = (size_t)(close - p - 1);
    int name = n > 0 && is_name_start(p[1]);
    for (size_t i = 1; name && i < n; i++)
        name = is_name_char(p[1 + i]);
    if (!name) {
        lex_fail(lx, "parameter expansion ${...}: import does not evaluate it");
        return;
    }
    wb_add_ref(lx, w, p + 1, n);
    lx->p = close + 1;
}

/* At '$': a reference, a literal '$', or something import does not evaluate. */
static void lex_dollar(struct lexer *lx, struct word_buf *w, int in_quotes)
{
    const char *p = lx->p + 1;
    if (p == lx->end || (!is_name_start(*p) && !strchr("({0123456789?$#@*!-'\"", *p)) ||
        (in_quotes && (*p == '"' || *p == '\''))) {
        wb_putc(lx, w, '$'); /* a '$' that starts nothing stays as written */
        lx->p = p;
        return;
    }
    if (*p == '(') {
        lex_fail(lx, "command substitution $(...): import reads values, it runs nothing");
    } else if (*p == '{') {
        lex_braced(lx, w, p);
    } else if (is_name_start(*p)) {
        const char *q = p;
        while (q < lx->end && is_name_char(*q))
            q++;
        wb_add_ref(lx, w, p, (size_t)(q - p));
        lx->p = q;
    } else if (*p >= '0' && *p <= '9') {
        wb_add_ref(lx, w, p, 1);
        lx->p = p + 1;
    } else if (*p == '\'' || *p == '"') {
        lex_fail(lx, "$%c...%c quoting: import does not evaluate it", *p, *p);
    } else {
        lex_fail(lx, "special parameter $%c: import does not evaluate it", *p);
    }
}

static void lex_single_quoted(struct lexer *lx, struct word_buf *w)
{
    const char *close = memchr(lx->p + 1, '\'', (size_t)(lx->end - lx->p - 1));
    if (!close) {
        lex_fail(lx, "unbalanced single quote");
        return;
    }
    for (const char *c = lx->p + 1; c < close; c++)
        wb_putc(lx, w, *c);
    lx->p = close + 1;
}

static void lex_double_quoted(struct lexer *lx, struct word_buf *w)
{
    lx->p++;
    while (lex_ok(lx)) {
        if (lx->p == lx->end) {
            lex_fail(lx, "unbalanced double quote");
        } else if (*lx->p == '"') {
            lx->p++;
            return;
        } else if (*lx->p == '\\') {
            lex_fail(lx, "a backslash escape: import does not interpret it");
        } else if (*lx->p == '`') {
            lex_fail(lx, "backquoted command `...`: import reads values, it runs nothing");
        } else if (*lx->p == '$') {
            lex_dollar(lx, w, 1);
        } else {
            wb_putc(lx, w, *lx->p++);
        }
    }
}

/* One unquoted character of a word (or the start of a quoted part). */
static void lex_word_char(struct lexer *lx, struct word_buf *w, int at_value_start)
{
    char c = *lx->p;
    if (c == '\'') {
        lex_single_quoted(lx, w);
    } else if (c == '"') {
        lex_double_quoted(lx, w);
    } else if (c == '\\') {
        lex_fail(lx, lx->p + 1 == lx->end
                         ? "line continuation (a backslash at the end of the line)"
                         : "a backslash escape: import does not interpret it");
    } else if (c == '`') {
        lex_fail(lx, "backquoted command `...`: import reads values, it runs nothing");
    } else if (c == '$') {
        lex_dollar(lx, w, 0);
    } else {
        if ((c == '*' || c == '?' || c == '[') && !w->glob)
            w->glob = c;
        if (c == '~' && at_value_start)
            w->tilde = 1;
        wb_putc(lx, w, c);
        lx->p++;
    }
}

/* A word is read as NAME=value when it starts with NAME= (unquoted). */
static void lex_word(struct lexer *lx, struct token *t)
{
    const char *q = lx->p;
    while (q < lx->end && is_name_char(*q))
        q++;
    int named = q > lx->p && is_name_start(*lx->p);
    if (named && q + 1 < lx->end && q[0] == '+' && q[1] == '=') {
        lex_fail(lx, "an append assignment (+=)");
        return;
    }
    if (named && q < lx->end && *q == '=') {
        t->assign_name = strndup(lx->p, (size_t)(q - lx->p));
        if (!t->assign_name) {
            lx->oom = 1;
            return;
        }
        lx->p = q + 1;
    }
    const char *start = lx->p;
    while (lex_ok(lx) && lx->p < lx->end && !is_blank(*lx->p) && !is_operator(*lx->p))
        lex_word_char(lx, &t->w, lx->p == start);
}

static struct token *new_token(struct lexer *lx, struct token **tokens, size_t *n)
{
    struct token *grown = realloc(*tokens, (*n + 1) * sizeof(*grown));
    if (!grown) {
        lx->oom = 1;
        return NULL;
    }
    *tokens = grown;
    memset(&grown[*n], 0, sizeof(grown[*n]));
    return &grown[(*n)++];
}

static const char *operator_name(char c)
{
    switch (c) {
    case '|': return "a pipe '|'";
    case '&': return "'&' (background or &&)";
    case '<':
    case '>': return "a redirection";
    default: return "parentheses (a subshell or a function)";
    }
}

static void lex_operator(struct lexer *lx, struct token **tokens, size_t *n)
{
    if (*lx->p == ';' && !(lx->p + 1 < lx->end && lx->p[1] == ';')) {
        struct token *t = new_token(lx, tokens, n);
        if (t)
            t->semi = 1;
        lx->p++;
        return;
    }
    lex_fail(lx, "shell operator: %s", *lx->p == ';' ? "';;'" : operator_name(*lx->p));
}

/* Splits one line into tokens; stops at a comment (which is returned when
 * it is the whole line). */
static void lex_line(struct lexer *lx, struct token **tokens, size_t *n, const char **comment)
{
    *comment = NULL;
    while (lex_ok(lx)) {
        while (lx->p < lx->end && is_blank(*lx->p))
            lx->p++;
        if (lx->p == lx->end)
            return;
        if (*lx->p == '#') {
            if (*n == 0)
                *comment = lx->p + 1;
            return;
        }
        if (is_operator(*lx->p)) {
            lex_operator(lx, tokens, n);
            continue;
        }
        struct token *t = new_token(lx, tokens, n);
        if (t)
            lex_word(lx, t);
    }
}

static void free_tokens(struct token *tokens, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(tokens[i].assign_name);
        wb_free(&tokens[i].w);
    }
    free(tokens);
}

/* ---- statements -------------------------------------------------------------- */

struct line_ctx {
    struct sp_sh_stmt *st;
    char reason[REASON_MAX];
    int oom;
};

static void unknown(struct line_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void unknown(struct line_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    first_reason(c->reason, fmt, ap);
    va_end(ap);
}

/* The word a token stands for, or a reason in c. */
static void word_of(struct line_ctx *c, const struct word_buf *w, struct sp_sh_word *out)
{
    memset(out, 0, sizeof(*out));
    if (w->n_refs > 1 || (w->n_refs == 1 && w->literal > 0)) {
        unknown(c, "$%s inside a longer word: import does not expand variables", w->ref);
        return;
    }
    if (w->n_refs == 1)
        out->ref = strdup(w->ref);
    else
        out->text = strdup(w->text ? w->text : "");
    if (!out->ref && !out->text)
        c->oom = 1;
}

/* A literal token's text, or NULL (a reference, an assignment, ';'). */
static const char *literal(const struct token *t)
{
    if (t->semi || t->assign_name || t->w.n_refs)
        return NULL;
    return t->w.text ? t->w.text : "";
}

static int literal_is(const struct token *t, const char *s)
{
    const char *l = literal(t);
    return l && strcmp(l, s) == 0;
}

static int ref_is(const struct token *t, const char *name)
{
    return !t->semi && !t->assign_name && t->w.n_refs == 1 && t->w.literal == 0 &&
           strcmp(t->w.ref, name) == 0;
}

static void take_words(struct line_ctx *c, const struct token *t, size_t n)
{
    struct sp_sh_stmt *st = c->st;
    st->words = n ? calloc(n, sizeof(*st->words)) : NULL;
    if (n && !st->words) {
        c->oom = 1;
        return;
    }
    for (size_t i = 0; i < n && !c->reason[0] && !c->oom; i++) {
        if (t[i].assign_name && t[i].w.n_refs == 0) {
            if (asprintf(&st->words[i].text, "%s=%s", t[i].assign_name,
                         t[i].w.text ? t[i].w.text : "") < 0) {
                st->words[i].text = NULL;
                c->oom = 1;
            }
        } else if (t[i].assign_name) {
            unknown(c, "$%s inside a longer word: import does not expand variables", t[i].w.ref);
        } else {
            word_of(c, &t[i].w, &st->words[i]);
        }
        st->n_words = i + 1;
    }
}

static void classify_assignment(struct line_ctx *c, const struct token *t, size_t n, int exported)
{
    if (n > 1) {
        unknown(c, "an assignment followed by more words: import reads one NAME=value a line");
        return;
    }
    if (t->w.tilde) {
        unknown(c, "'~' in the value of %s: import does not expand it", t->assign_name);
        return;
    }
    c->st->kind = SP_SH_ASSIGN;
    c->st->exported = exported;
    c->st->name = strdup(t->assign_name);
    if (!c->st->name)
        c->oom = 1;
    word_of(c, &t->w, &c->st->value);
}

static void classify_export(struct line_ctx *c, const struct token *t, size_t n)
{
    if (n == 2 && t[1].assign_name) {
        classify_assignment(c, t + 1, 1, 1);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        const char *name = literal(&t[i]);
        if (!name || !is_name(name)) {
            unknown(c, "export with anything but variable names or one NAME=value");
            return;
        }
    }
    if (n == 1) {
        unknown(c, "export without a name");
        return;
    }
    c->st->kind = SP_SH_EXPORT;
    take_words(c, t + 1, n - 1);
}

/* if [ "$TARGET_VM" == "$VM_NAME" ]; then  (also [[ ]], '=', either order) */
static int is_guard(const struct token *t, size_t n)
{
    if (n != 8 || !literal_is(&t[0], "if") || !t[6].semi || !literal_is(&t[7], "then"))
        return 0;
    int single = literal_is(&t[1], "[") && literal_is(&t[5], "]");
    int dbl = literal_is(&t[1], "[[") && literal_is(&t[5], "]]");
    int op = literal_is(&t[3], "==") || literal_is(&t[3], "=");
    int operands = (ref_is(&t[2], "TARGET_VM") && ref_is(&t[4], "VM_NAME")) ||
                   (ref_is(&t[2], "VM_NAME") && ref_is(&t[4], "TARGET_VM"));
    return (single || dbl) && op && operands;
}

static int is_keyword(const char *w)
{
    static const char *const keywords[] = {"then", "else", "elif", "for", "while", "until", "do",
                                           "done", "case", "esac", "function", "select", "{",
                                           "}", "!", "[[", "[", NULL};
    for (const char *const *k = keywords; *k; k++)
        if (strcmp(w, *k) == 0)
            return 1;
    return 0;
}

static void classify_worker(struct line_ctx *c, const struct token *args, size_t n, int current)
{
    struct sp_sh_stmt *st = c->st;
    st->kind = SP_SH_WORKER;
    if (!current) {
        if (n > 4)
            unknown(c, "more arguments than %s reads", SP_SH_WORKER_OLD);
        st->worker = SP_SH_WORKER_PREDECESSOR;
        take_words(c, args, n);
        return;
    }
    const char *mode = n ? literal(&args[0]) : NULL;
    if (!mode)
        unknown(c, "the worker's first argument is not a literal ATTACH or DETACH");
    else if (strcmp(mode, "ATTACH") != 0 && strcmp(mode, "DETACH") != 0)
        unknown(c, "worker mode '%s': the worker only acts on ATTACH and DETACH", mode);
    else if (n > 5)
        unknown(c, "more arguments than %s reads", SP_SH_WORKER_CURRENT);
    else {
        st->worker = strcmp(mode, "ATTACH") == 0 ? SP_SH_WORKER_ATTACH : SP_SH_WORKER_DETACH;
        take_words(c, args + 1, n - 1);
    }
}

static void classify_command(struct line_ctx *c, const struct token *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].semi) {
            unknown(c, "several commands on one line (';')");
            return;
        }
        if (t[i].w.glob && !t[i].assign_name) {
            unknown(c, "a pattern ('%c') in a command: import does not expand it", t[i].w.glob);
            return;
        }
        if (t[i].w.tilde) {
            unknown(c, "'~' in a command: import does not expand it");
            return;
        }
    }
    size_t prog = n > 1 && (literal_is(&t[0], "sh") || literal_is(&t[0], "bash")) ? 1 : 0;
    const char *name = literal(&t[prog]);
    if (!name) {
        unknown(c, "a command named by a variable or an assignment");
        return;
    }
    const char *base = sp_sh_basename(name);
    if (strcmp(base, SP_SH_WORKER_CURRENT) == 0 || strcmp(base, SP_SH_WORKER_OLD) == 0) {
        classify_worker(c, t + prog + 1, n - prog - 1, strcmp(base, SP_SH_WORKER_CURRENT) == 0);
        return;
    }
    c->st->kind = SP_SH_COMMAND;
    take_words(c, t, n);
}

static void classify(struct line_ctx *c, const struct token *t, size_t n)
{
    if (t[0].assign_name) {
        classify_assignment(c, t, n, 0);
        return;
    }
    const char *first = literal(&t[0]);
    if (t[0].semi)
        unknown(c, "a line starting with ';'");
    else if (first && strcmp(first, "export") == 0)
        classify_export(c, t, n);
    else if (first && strcmp(first, "if") == 0) {
        if (is_guard(t, n))
            c->st->kind = SP_SH_GUARD_BEGIN;
        else
            unknown(c, "an if other than the guard if [ \"$TARGET_VM\" == \"$VM_NAME\" ]; then");
    } else if (first && strcmp(first, "fi") == 0 && n == 1)
        c->st->kind = SP_SH_GUARD_END;
    else if (first && (is_keyword(first) || strcmp(first, "fi") == 0))
        unknown(c, "shell control flow or a test ('%s'): import reads only the guard "
                   "if ... fi", first);
    else
        classify_command(c, t, n);
}

/* ---- the script ----------------------------------------------------------------- */

static void stmt_free(struct sp_sh_stmt *st)
{
    free(st->name);
    free(st->value.text);
    free(st->value.ref);
    for (size_t i = 0; i < st->n_words; i++) {
        free(st->words[i].text);
        free(st->words[i].ref);
    }
    free(st->words);
    free(st->text);
    memset(st, 0, sizeof(*st));
}

void sp_sh_script_free(struct sp_sh_script *s)
{
    for (size_t i = 0; i < s->n_stmts; i++)
        stmt_free(&s->stmts[i]);
    free(s->stmts);
    memset(s, 0, sizeof(*s));
}

/* Turns the statement into SP_SH_UNKNOWN with the reason. */
static int make_unknown(struct sp_sh_stmt *st, const char *reason)
{
    int line = st->line;
    stmt_free(st);
    st->kind = SP_SH_UNKNOWN;
    st->line = line;
    st->text = strdup(reason);
    return st->text ? 0 : -1;
}

static int set_comment(struct sp_sh_stmt *st, const char *text, const char *end)
{
    st->kind = SP_SH_COMMENT;
    st->text = strndup(text, (size_t)(end - text));
    return st->text ? 0 : -1;
}

/* Reads one line [p, end) into st. Returns 1 when it holds a statement, 0
 * for a blank line, -1 when memory runs out. */
static int parse_line(const char *p, const char *end, struct sp_sh_stmt *st)
{
    if (memchr(p, '\0', (size_t)(end - p)))
        return make_unknown(st, "a NUL byte in the line") < 0 ? -1 : 1;
    struct lexer lx = {.p = p, .end = end};
    struct token *tokens = NULL;
    size_t n = 0;
    const char *comment = NULL;
    lex_line(&lx, &tokens, &n, &comment);
    struct line_ctx c = {.st = st};
    int rc = 1;
    if (lx.oom)
        rc = -1;
    else if (lx.reason[0])
        rc = make_unknown(st, lx.reason) < 0 ? -1 : 1;
    else if (n == 0)
        rc = comment ? (set_comment(st, comment, end) < 0 ? -1 : 1) : 0;
    else {
        classify(&c, tokens, n);
        if (c.oom)
            rc = -1;
        else if (c.reason[0])
            rc = make_unknown(st, c.reason) < 0 ? -1 : 1;
    }
    free_tokens(tokens, n);
    return rc;
}

static int append_stmt(struct sp_sh_script *out, const struct sp_sh_stmt *st)
{
    struct sp_sh_stmt *grown = realloc(out->stmts, (out->n_stmts + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    out->stmts = grown;
    out->stmts[out->n_stmts++] = *st;
    return 0;
}

int sp_sh_parse(const char *buf, size_t len, struct sp_sh_script *out)
{
    memset(out, 0, sizeof(*out));
    const char *p = buf, *end = buf + len;
    for (int line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        const char *text_end = line_end > p && line_end[-1] == '\r' ? line_end - 1 : line_end;
        struct sp_sh_stmt st = {.line = line};
        int rc = parse_line(p, text_end, &st);
        if (rc < 0 || (rc == 1 && append_stmt(out, &st) < 0)) {
            stmt_free(&st);
            sp_sh_script_free(out);
            return -1;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}
