/* term: whether the CLI's human output is coloured, and the colours. Colour
 * only when the stream is a terminal and NO_COLOR is not set to a non-empty
 * value (https://no-color.org); never in --json output, whose callers do not
 * ask. Without colour every function here adds no byte. */
#ifndef SP_TERM_H
#define SP_TERM_H

#include <stdio.h>

enum sp_tone {
    SP_TONE_OK,      /* green */
    SP_TONE_WARNING, /* yellow */
    SP_TONE_PROBLEM, /* red: a problem or a refusal */
};

/* 1 when text written to f may carry colour. */
int sp_term_colour(FILE *f);

/* The escape that starts tone, and the one that ends it; "" without colour. */
const char *sp_term_on(int colour, enum sp_tone tone);
const char *sp_term_off(int colour);

#endif
