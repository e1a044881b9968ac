/* err: the one error type carried up from every module and printed once.
 * Owns a fixed-size message buffer (no allocation, so reporting never fails).
 * Never prints: the caller at the top decides where the message goes. */
#ifndef SP_ERR_H
#define SP_ERR_H

#include <stddef.h>

#define SP_ERR_MAX 1536

struct sp_err {
    char msg[SP_ERR_MAX];
};

/* Sets the message (printf format) and returns -1, so callers can write
 * `return sp_err_set(err, ...);`. A NULL err is allowed and ignored. */
int sp_err_set(struct sp_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the existing message with a context: "<context>: <old message>". */
int sp_err_prefix(struct sp_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void sp_err_clear(struct sp_err *err);

#endif
