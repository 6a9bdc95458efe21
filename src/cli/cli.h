/* cli: one file per subcommand. Each entry point gets the arguments after the
 * subcommand name (argv[0] is the subcommand) and returns the process exit
 * status: 0 success, 1 fatal error, 2 usage error (DESIGN.md §3). */
#pragma once

enum { CLI_OK = 0, CLI_FATAL = 1, CLI_USAGE = 2 };

int cli_run(int argc, char **argv);
int cli_text(int argc, char **argv);
int cli_ocr(int argc, char **argv);
int cli_nn(int argc, char **argv);
int cli_info(int argc, char **argv);

/* Prints "quire SUBCOMMAND: message" and a hint to --help on stderr; returns CLI_USAGE. */
int cli_usage_error(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses a non-negative integer option value; returns 0 on success. */
int cli_parse_long(const char *s, long min, long max, long *out);
