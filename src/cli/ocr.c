/* `quire ocr IMAGE`: one image's (or scanned document's) lines with their
 * boxes and confidences, without MPI. The same doc decoding and OCR pipeline
 * as `quire run`, so what it prints is what results.h5 holds. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "run/run.h"

static const char ocr_help[] =
    "usage: quire ocr [options] IMAGE\n"
    "\n"
    "Reads every page of IMAGE (PNG, JPEG, TIFF with all its pages, or a PDF, every\n"
    "page of which is OCR'd) and prints one line per text line:\n"
    "  PAGE<TAB>x0,y0 x1,y1 x2,y2 x3,y3<TAB>CONFIDENCE<TAB>TEXT\n"
    "PAGE counts from 1; the box corners are image pixels, clockwise from the top\n"
    "left; lines come in PaddleOCR's order (top to bottom, then left to right).\n"
    "A page scanned sideways or upside down is read turned upright (unless\n"
    "--no-rotate-pages): its lines come in the upright page's order, their\n"
    "corners stay on the image as given, corner 0 where the line's text starts.\n"
    "A summary per page (size, turn, lines, seconds per stage) goes to stderr.\n"
    "\n"
    "  -q, --quiet            no per-page summary\n"
    "  -h, --help             this help\n"
    "  -V, --version          print quire's version and exit\n";

typedef struct {
    int quiet;
} ocr_print;

static void print_page(void *user, uint32_t page, const doc_page_image *pi, const ocr_result *r) {
    const ocr_print *p = user;
    for (size_t i = 0; i < r->n; i++) {
        const ocr_line *l = &r->lines[i];
        printf("%u\t", page + 1);
        for (int k = 0; k < 4; k++)
            printf("%s%.0f,%.0f", k ? " " : "", l->quad[k][0], l->quad[k][1]);
        /* As results.h5 holds them (lay_line_add): the recognizer reads a
         * crop's margin as a space now and then. */
        const char *t = l->text;
        size_t len = strlen(t);
        while (len && *t == ' ')
            t++, len--;
        while (len && t[len - 1] == ' ')
            len--;
        printf("\t%.4f\t%.*s\n", l->conf, (int)len, t);
    }
    float skew = 0;
    if (!p->quiet && !ocr_page_skew(r->lines, r->n, &skew))
        fprintf(stderr,
                "page %u: %dx%d px, turned %d, %zu lines, skew %.2f deg, detection %.2f s, "
                "orientation %.2f s, recognition %.2f s\n",
                page + 1, pi->img.w, pi->img.h, r->rotation, r->n, skew, r->t_det, r->t_cls,
                r->t_rec);
}

int cli_ocr(int argc, char **argv) {
    static const struct option longs[] = {CLI_OCR_LONG_OPTIONS,
                                          {"quiet", no_argument, 0, 'q'},
                                          {"help", no_argument, 0, 'h'},
                                          {"version", no_argument, 0, 'V'},
                                          {0, 0, 0, 0}};
    ocr_options oo;
    doc_options dopt;
    cli_ocr_defaults(&oo, &dopt);
    ocr_print pr = {0};
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qhV", longs, NULL)) != -1) {
        const char *why = NULL;
        int r = cli_ocr_opt(c, optarg, &oo, &dopt, &why);
        if (r < 0) return cli_usage_error("ocr", "%s", why);
        if (r == 0) continue;
        if (c == 'h') {
            fputs(ocr_help, stdout);
            fputs(cli_ocr_help, stdout);
            return CLI_OK;
        }
        if (c == 'V') return cli_version();
        if (c == 'q')
            pr.quiet = 1;
        else
            return cli_usage_error("ocr", "unknown option '%s'", argv[optind - 1]);
    }
    if (optind >= argc) return cli_usage_error("ocr", "no IMAGE given");
    if (optind + 1 < argc)
        return cli_usage_error("ocr", "one IMAGE only (for many, use 'quire run')");
    const char *path = argv[optind];
    q_log_init(-1, pr.quiet ? Q_LOG_WARN : Q_LOG_INFO);
    char models[4096];
    oo.models_dir = run_models_dir(oo.models_dir, models, sizeof models);

    run_ocr ro;
    run_ocr_init(&ro, &oo);
    ro.on_page = print_page;
    ro.on_page_user = &pr;
    /* Load now: a missing model is this command's fatal error, not a page's. */
    if (ocr_engine_new(&oo, &ro.engine)) {
        fprintf(stderr, "quire ocr: %s\n", q_errmsg());
        return CLI_FATAL;
    }
    doc_reader *reader = NULL;
    lay_doc rec;
    int code = CLI_FATAL;
    if (doc_reader_new(&reader) || lay_doc_init(&rec, 0, path)) {
        fprintf(stderr, "quire ocr: %s\n", q_errmsg());
        doc_reader_free(reader);
        run_ocr_free(&ro);
        return CLI_FATAL;
    }
    dopt.redo_ocr = 1; /* every page of a PDF is read as pixels here */
    dopt.ocr_all = 1;
    if (doc_process(reader, &dopt, run_ocr_page, &ro, &rec) != Q_OK) {
        fprintf(stderr, "quire ocr: %s: %s\n", path, q_errmsg());
    } else {
        if (rec.error[0]) fprintf(stderr, "quire ocr: %s: %s\n", path, rec.error);
        code = rec.status == LAY_DOC_OK ? CLI_OK : CLI_FATAL;
    }
    lay_doc_free(&rec);
    doc_reader_free(reader);
    run_ocr_free(&ro);
    return code;
}
