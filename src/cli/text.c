/* `quire text FILE`: one document's text to stdout, no MPI. The same doc
 * module and layout as `quire run`, so what it prints is what results.h5
 * holds for that document. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "doc/doc.h"

static const char text_help[] =
    "usage: quire text [--redo-ocr] FILE\n"
    "\n"
    "Prints the document's text: lines in reading order, a blank line between blocks\n"
    "and pages. Reasons why pages could not be read go to stderr. Exit status 1 when\n"
    "the document could not be read at all.\n";

int cli_text(int argc, char **argv) {
    const char *path = NULL;
    int redo_ocr = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(text_help, stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--redo-ocr")) {
            redo_ocr = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("text", "unknown option '%s'", argv[i]);
        } else if (path) {
            return cli_usage_error("text", "one FILE only (for many, use 'quire run')");
        } else {
            path = argv[i];
        }
    }
    if (!path) return cli_usage_error("text", "no FILE given");
    q_log_init(-1, Q_LOG_INFO);
    doc_reader *reader = NULL;
    lay_doc rec;
    q_buf out = {0};
    int code = CLI_FATAL;
    if (doc_reader_new(&reader) || lay_doc_init(&rec, 0, path)) {
        q_log(Q_LOG_ERROR, "%s", q_errmsg());
        doc_reader_free(reader);
        return CLI_FATAL;
    }
    doc_options opt = {.redo_ocr = redo_ocr, .dpi = 300};
    if (doc_process(reader, &opt, NULL, NULL, &rec) != Q_OK) {
        q_log(Q_LOG_ERROR, "%s: %s", path, q_errmsg());
        goto done;
    }
    if (lay_doc_plain_text(&rec, &out)) {
        q_log(Q_LOG_ERROR, "%s", q_errmsg());
        goto done;
    }
    if (out.len) {
        fwrite(out.data, 1, out.len, stdout);
        fputc('\n', stdout);
    }
    if (rec.error[0])
        q_log(rec.status == LAY_DOC_OK ? Q_LOG_WARN : Q_LOG_ERROR, "%s: %s", path, rec.error);
    code = rec.status == LAY_DOC_OK ? CLI_OK : CLI_FATAL;
done:
    q_buf_free(&out);
    lay_doc_free(&rec);
    doc_reader_free(reader);
    return code;
}
