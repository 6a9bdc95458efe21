/* cli: one file per subcommand. Each entry point gets the arguments after the
 * subcommand name (argv[0] is the subcommand) and returns the process exit
 * status: 0 success, 1 fatal error, 2 usage error (DESIGN.md §3). */
#pragma once

#include "doc/doc.h"
#include "ocr/ocr.h"

enum { CLI_OK = 0, CLI_FATAL = 1, CLI_USAGE = 2 };

int cli_run(int argc, char **argv);
int cli_text(int argc, char **argv);
int cli_ocr(int argc, char **argv);
int cli_nn(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_export(int argc, char **argv);

/* Prints "quire VERSION" on stdout (-V, --version); returns CLI_OK. */
int cli_version(void);
/* Prints "quire SUBCOMMAND: message" and a hint to --help on stderr; returns CLI_USAGE. */
int cli_usage_error(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses a non-negative integer option value; returns 0 on success. */
int cli_parse_long(const char *s, long min, long max, long *out);

/* ---- OCR options shared by ocr, text and run (ocropt.c) ---- */
enum {
    CLI_OPT_MODELS = 1000,
    CLI_OPT_THREADS,
    CLI_OPT_DET_SIDE,
    CLI_OPT_NO_CLS,
    CLI_OPT_CLS_WHOLE,
    CLI_OPT_REC_BATCH,
    CLI_OPT_DROP_SCORE,
    CLI_OPT_DPI,
    CLI_OPT_MAX_PIXELS,
    CLI_OPT_ROTATE_PAGES,
    CLI_OPT_NO_ROTATE_PAGES,
    CLI_OPT_DECODE,
    CLI_OPT_BEAM,
    CLI_OPT_LANG,
    CLI_OPT_WORDS,
    CLI_OPT_PRECISION,
    CLI_OPT_REC_COLS,
    CLI_OPT_DET_FAST_SCORE,
};
/* getopt_long entries for the options above (models_dir left to the caller). */
#define CLI_OCR_LONG_OPTIONS                                                                       \
    {"models", required_argument, 0, CLI_OPT_MODELS},                                              \
        {"threads", required_argument, 0, CLI_OPT_THREADS},                                        \
        {"det-side", required_argument, 0, CLI_OPT_DET_SIDE},                                      \
        {"no-cls", no_argument, 0, CLI_OPT_NO_CLS},                                                \
        {"cls-whole", no_argument, 0, CLI_OPT_CLS_WHOLE},                                          \
        {"rotate-pages", no_argument, 0, CLI_OPT_ROTATE_PAGES},                                    \
        {"no-rotate-pages", no_argument, 0, CLI_OPT_NO_ROTATE_PAGES},                              \
        {"rec-batch", required_argument, 0, CLI_OPT_REC_BATCH},                                    \
        {"rec-cols", required_argument, 0, CLI_OPT_REC_COLS},                                      \
        {"det-fast-score", no_argument, 0, CLI_OPT_DET_FAST_SCORE},                                \
        {"drop-score", required_argument, 0, CLI_OPT_DROP_SCORE},                                  \
        {"decode", required_argument, 0, CLI_OPT_DECODE},                                          \
        {"beam", required_argument, 0, CLI_OPT_BEAM},                                              \
        {"lang", required_argument, 0, CLI_OPT_LANG},                                              \
        {"words", required_argument, 0, CLI_OPT_WORDS},                                            \
        {"precision", required_argument, 0, CLI_OPT_PRECISION},                                    \
        {"dpi", required_argument, 0, CLI_OPT_DPI}, {                                              \
        "max-pixels", required_argument, 0, CLI_OPT_MAX_PIXELS                                     \
    }
void cli_ocr_defaults(ocr_options *o, doc_options *d);
/* Applies option `c` (one of CLI_OPT_*): 0 done, 1 not an OCR option, -1 bad
 * value (*why says what is allowed). */
int cli_ocr_opt(int c, const char *arg, ocr_options *o, doc_options *d, const char **why);
extern const char cli_ocr_help[];
