/* term: colour only for a person at a terminal. */
#include "term.h"

#include <stdlib.h>
#include <unistd.h>

int sp_term_colour(FILE *f)
{
    const char *no_colour = getenv("NO_COLOR");
    return !(no_colour && no_colour[0]) && isatty(fileno(f));
}

const char *sp_term_on(int colour, enum sp_tone tone)
{
    static const char *const escapes[] = {
        [SP_TONE_OK] = "\033[32m",
        [SP_TONE_WARNING] = "\033[33m",
        [SP_TONE_PROBLEM] = "\033[31m",
    };
    return colour ? escapes[tone] : "";
}

const char *sp_term_off(int colour)
{
    return colour ? "\033[0m" : "";
}
