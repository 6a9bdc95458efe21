/* `quire text FILE`: one document's text to stdout, no MPI. The same doc
 * module and layout as `quire run`, so what it prints is what results.h5
 * holds for that document. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "doc/doc.h"
#include "run/run.h"

static const char text_help[] =
    "usage: quire text [options] FILE\n"
    "\n"
    "Prints the document's text: lines in reading order, a blank line between blocks\n"
    "and pages. Pages without a usable text layer (scans) and images are OCR'd.\n"
    "Reasons why pages could not be read go to stderr. Exit status 1 when the\n"
    "document could not be read at all.\n"
    "\n"
    "      --redo-ocr         OCR pages whose only text is an invisible OCR layer\n"
    "      --no-ocr           never OCR: pages that need it are reported, not read\n"
    "  -h, --help             this help\n"
    "  -V, --version          print quire's version and exit\n";

int cli_text(int argc, char **argv) {
    enum { OPT_REDO_OCR = 2000, OPT_NO_OCR };
    static const struct option longs[] = {CLI_OCR_LONG_OPTIONS,
                                          {"redo-ocr", no_argument, 0, OPT_REDO_OCR},
                                          {"no-ocr", no_argument, 0, OPT_NO_OCR},
                                          {"help", no_argument, 0, 'h'},
                                          {"version", no_argument, 0, 'V'},
                                          {0, 0, 0, 0}};
    ocr_options oo;
    doc_options opt;
    cli_ocr_defaults(&oo, &opt);
    int no_ocr = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hV", longs, NULL)) != -1) {
        const char *why = NULL;
        int r = cli_ocr_opt(c, optarg, &oo, &opt, &why);
        if (r < 0) return cli_usage_error("text", "%s", why);
        if (r == 0) continue;
        if (c == 'h') {
            fputs(text_help, stdout);
            fputs(cli_ocr_help, stdout);
            return CLI_OK;
        } else if (c == 'V') {
            return cli_version();
        } else if (c == OPT_REDO_OCR) {
            opt.redo_ocr = 1;
        } else if (c == OPT_NO_OCR) {
            no_ocr = 1;
        } else {
            return cli_usage_error("text", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return cli_usage_error("text", "no FILE given");
    if (optind + 1 < argc)
        return cli_usage_error("text", "one FILE only (for many, use 'quire run')");
    const char *path = argv[optind];
    char models[4096];
    oo.models_dir = run_models_dir(oo.models_dir, models, sizeof models);
    run_ocr ro;
    run_ocr_init(&ro, &oo);
    q_log_init(-1, Q_LOG_INFO);
    doc_reader *reader = NULL;
    lay_doc rec;
    q_buf out = {0};
    int code = CLI_FATAL;
    if (doc_reader_new(&reader) || lay_doc_init(&rec, 0, path)) {
        q_log(Q_LOG_ERROR, "%s", q_errmsg());
        doc_reader_free(reader);
        run_ocr_free(&ro);
        return CLI_FATAL;
    }
    if (doc_process(reader, &opt, no_ocr ? NULL : run_ocr_page, &ro, &rec) != Q_OK) {
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
    run_ocr_free(&ro);
    return code;
}
