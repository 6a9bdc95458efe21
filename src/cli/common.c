/* Helpers shared by the subcommands. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "util/util.h"

int cli_version(void) {
    printf("quire %s\n", q_version);
    return CLI_OK;
}

int cli_usage_error(const char *sub, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "quire %s: ", sub);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'quire %s --help')\n", sub);
    va_end(ap);
    return CLI_USAGE;
}

int cli_parse_long(const char *s, long min, long max, long *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max) return -1;
    *out = v;
    return 0;
}
