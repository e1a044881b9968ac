#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sp_err_set(struct sp_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int sp_err_prefix(struct sp_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char context[SP_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof(context), fmt, ap);
    va_end(ap);

    /* Context first, then as much of the old message as still fits. */
    char old[SP_ERR_MAX];
    memcpy(old, err->msg, sizeof(old));
    size_t n = strnlen(context, sizeof(err->msg) - 1);
    memcpy(err->msg, context, n);
    size_t room = sizeof(err->msg) - n;
    if (room > 2) {
        memcpy(err->msg + n, ": ", 2);
        n += 2;
        size_t tail = strnlen(old, sizeof(err->msg) - n - 1);
        memcpy(err->msg + n, old, tail);
        n += tail;
    }
    err->msg[n] = '\0';
    return -1;
}

void sp_err_clear(struct sp_err *err)
{
    if (err)
        err->msg[0] = '\0';
}
