/* The OCR route of a page, in-process: doc hands over a page that needs OCR,
 * this decodes its pixels (doc), reads them (ocr) and records the page. The
 * engine is loaded on the first page that needs it, so text-only campaigns
 * never pay for the models. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/rankstats.h"
#include "run/run.h"

int run_ocr_threads(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    static const char *const vars[] = {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS",
                                       "SLURM_NTASKS_PER_NODE"};
    long ranks = 1;
    for (size_t i = 0; i < Q_ARRAY_LEN(vars); i++) {
        const char *v = getenv(vars[i]);
        if (v && atol(v) > 0) {
            ranks = atol(v);
            break;
        }
    }
    /* Rank 0 mostly sleeps while it hands out work: it does not count. */
    long workers = ranks > 1 ? ranks - 1 : 1;
    long t = cores / workers;
    return t < 1 ? 1 : (int)t;
}

void run_ocr_init(run_ocr *r, const ocr_options *o) {
    memset(r, 0, sizeof *r);
    r->opt = *o;
}

void run_ocr_free(run_ocr *r) {
    if (!r) return;
    run_stats_add_nn(ocr_engine_nn_seconds(r->engine)); /* the rank's share: rankstats.h */
    ocr_engine_free(r->engine);
    r->engine = NULL;
}

q_status run_ocr_engine_load(run_ocr *r) {
    if (r->engine) return Q_OK;
    if (r->load_failed) return Q_FAIL(Q_ERR_UNSUPPORTED, "%s", r->why);
    q_status st = ocr_engine_new(&r->opt, &r->engine);
    if (st) {
        /* Once: every later page gets the same reason without retrying. Not
         * logged here: the caller ends the job with it (run.h), and rank 0
         * prints it as the job's one error line. */
        r->load_failed = 1;
        const char *why = q_errmsg();
        int n = snprintf(r->why, sizeof r->why, "cannot load the OCR models in %s: %s",
                         r->opt.models_dir ? r->opt.models_dir : "(none)", why);
        if (n > 0 && !strstr(why, "fetch.sh"))
            snprintf(r->why + Q_MIN((size_t)n, sizeof r->why - 1),
                     sizeof r->why - Q_MIN((size_t)n, sizeof r->why - 1),
                     "; run models/fetch.sh, or point --models DIR (or $QUIRE_MODELS) at the "
                     "folder that holds them");
        return Q_FAIL(st, "%s", r->why);
    }
    return Q_OK;
}

q_status run_ocr_page(void *user, doc_file *f, uint32_t page, lay_doc *rec) {
    run_ocr *r = user;
    double t0 = q_now();
    q_status st = run_ocr_engine_load(r);
    if (st) return st;
    doc_page_image pi;
    st = doc_page_image_get(f, page, &pi);
    if (st) return st;
    ocr_result res = {0};
    st = ocr_image(r->engine, &pi.img, r->deadline, &res);
    if (!st && r->on_page) r->on_page(r->on_page_user, page, &pi, &res);
    st = run_ocr_finish(st, &res, &pi, page, t0, rec);
    r->pages += !st;
    return st;
}

q_status run_ocr_finish(q_status st, ocr_result *res, doc_page_image *pi, uint32_t page, double t0,
                        lay_doc *rec) {
    if (!st)
        st = ocr_result_to_page(res, page, pi->width, pi->height, pi->pt_per_px_x, pi->pt_per_px_y,
                                pi->rotation, (float)(q_now() - t0), rec);
    ocr_result_free(res);
    doc_page_image_free(pi);
    return st;
}
