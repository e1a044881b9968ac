/* fuzz_logview: the audit log reader. The input's first line is a --since
 * argument and a VM filter (split at the first tab), the rest a log file.
 * Properties: no crash, leak or hang; every line is either kept, filtered
 * out or noted (never more records than lines); every kept record passes
 * the filter; printing any kept record, with and without --diff, works. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/logview.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_lines(const char *text, size_t len)
{
    size_t n = len > 0 && text[len - 1] != '\n';
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data, *nl = memchr(text, '\n', size);
    size_t head = nl ? (size_t)(nl - text) : size;
    char *first = strndup(text, head);
    if (!first)
        return 0;
    struct sp_log_filter f = {0};
    struct sp_err err;
    char *tab = strchr(first, '\t');
    if (tab) {
        *tab = '\0';
        f.vm = tab + 1;
    }
    f.has_since = sp_log_parse_since(first, 1800000000, &f.since, &err) == 0;
    const char *body = nl ? nl + 1 : text + size;
    size_t body_len = (size_t)(text + size - body);
    struct sp_log log = {0};
    if (sp_log_add_text(&log, "audit.log", body, body_len, &f) < 0)
        abort();
    if (log.n + log.n_notes > count_lines(body, body_len))
        abort();
    FILE *out = fopen("/dev/null", "w");
    for (size_t i = 0; i < log.n; i++) {
        if (!sp_log_record_matches(log.records[i], &f))
            abort();
        sp_log_print(out, log.records[i], (int)(i & 1));
    }
    fclose(out);
    sp_log_free(&log);
    free(first);
    return 0;
}
