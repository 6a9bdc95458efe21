/* Image documents (TIFF, PNG, JPEG, BMP): every page goes to OCR. The loop
 * opens the file, hands each page to the OCR callback (which decodes it with
 * doc_page_image_get), records the pages it could not decode with their
 * reason, keeps the rest, and stops at the deadline between pages. */
#include "doc_int.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    uint32_t npages;
    int failed;
    char failed_msg[300]; /* the first failed page's reason */
    int timed_out;
    uint32_t timeout_page;
} image_run;

static void note_failure(image_run *run, const char *msg) {
    if (!run->failed++) snprintf(run->failed_msg, sizeof run->failed_msg, "%s", msg);
}

/* Size of page i in points for its record, before any pixel is decoded;
 * fails (with the reason in q_errmsg) when the page cannot be read at all. */
static q_status page_size(doc_file *f, uint32_t i, float *w, float *h) {
    if (f->tiff) return doc_tiff_page_size(f->tiff, i, w, h);
    *w = (float)(f->image->w * 72.0 / f->xdpi);
    *h = (float)(f->image->h * 72.0 / f->ydpi);
    return Q_OK;
}

static q_status record_failed(lay_doc *rec, uint32_t i, float w, float h, double t0) {
    q_status st = lay_page_begin(rec, i, w, h, 0);
    return st ? st : lay_page_end(rec, LAY_PAGE_FAILED, (float)(q_now() - t0), 0);
}

static q_status page_process(doc_file *f, uint32_t i, doc_ocr_fn ocr, void *ocr_user,
                             image_run *run, lay_doc *rec) {
    double t0 = q_now();
    float w = 0, h = 0;
    if (page_size(f, i, &w, &h)) {
        note_failure(run, q_errmsg());
        return record_failed(rec, i, w, h, t0);
    }
    size_t before = lay_doc_npages(rec);
    q_status ost = ocr(ocr_user, f, i, rec);
    if (ost == Q_ERR_NOMEM) return ost;
    int added = lay_doc_npages(rec) > before;
    if (f->reader->cookie.abort && !added) {
        run->timed_out = 1;
        run->timeout_page = i;
        return Q_OK;
    }
    if (!ost && added) return Q_OK;
    note_failure(run, ost ? q_errmsg() : "OCR recorded no page");
    return added ? Q_OK : record_failed(rec, i, w, h, t0);
}

/* Policy: timeout wins; a broken chain of TIFF pages (pages lost after the
 * last reachable one) is an error even when every reachable page worked, so
 * the user knows the record is incomplete; failed pages are an error. */
static q_status run_finish(const image_run *run, const char *chain, double t_start, lay_doc *rec) {
    if (run->timed_out)
        return lay_doc_set_error(rec, LAY_DOC_TIMEOUT, "timeout after %.3g s at page %u of %u",
                                 q_now() - t_start, run->timeout_page + 1, run->npages);
    if (chain && run->failed)
        return lay_doc_set_error(rec, LAY_DOC_ERROR,
                                 "damaged TIFF image: pages after page %u unreadable (%s); "
                                 "%d of %u pages failed: %s",
                                 run->npages, chain, run->failed, run->npages, run->failed_msg);
    if (chain)
        return lay_doc_set_error(rec, LAY_DOC_ERROR,
                                 "damaged TIFF image: pages after page %u unreadable (%s)",
                                 run->npages, chain);
    if (run->failed)
        return lay_doc_set_error(rec, LAY_DOC_ERROR, "%d of %u pages failed: %s", run->failed,
                                 run->npages, run->failed_msg);
    return Q_OK;
}

q_status doc_image_process(doc_reader *r, const char *path, doc_type type, const doc_options *opt,
                           doc_ocr_fn ocr, void *ocr_user, lay_doc *rec) {
    double t_start = q_now();
    doc_file f = {.reader = r, .opt = opt, .type = type, .page_index = -1};
    image_run run = {0};
    q_status st = Q_OK;
    if (type == DOC_TYPE_TIFF) {
        if (doc_tiff_open(path, opt, &f.tiff))
            return lay_doc_set_error(rec, LAY_DOC_ERROR, "damaged TIFF image: %s", q_errmsg());
        run.npages = doc_tiff_pages(f.tiff);
    } else {
        if (doc_picture_open(&f, path))
            return lay_doc_set_error(rec, LAY_DOC_ERROR, "damaged %s: %s", doc_type_name(type),
                                     q_errmsg());
        run.npages = 1;
    }
    rec->pages = run.npages;
    if (!run.npages) {
        st = lay_doc_set_error(rec, LAY_DOC_ERROR, "damaged %s: no pages found",
                               doc_type_name(type));
        goto done;
    }
    for (uint32_t i = 0; i < run.npages && !st && !run.timed_out; i++) {
        if ((opt && opt->deadline > 0 && q_now() >= opt->deadline) || r->cookie.abort) {
            run.timed_out = 1;
            run.timeout_page = i;
            break;
        }
        if (opt && opt->progress) opt->progress[0] = i, opt->progress[1] = run.npages;
        if (opt && opt->each_page) opt->each_page();
        st = page_process(&f, i, ocr, ocr_user, &run, rec);
    }
    if (!st) st = run_finish(&run, doc_tiff_chain_error(f.tiff), t_start, rec);
done:
    if (f.tiff) {
        const char *first = NULL;
        int n = doc_tiff_warnings(f.tiff, &first);
        doc_reader_problem(r, n, first);
    }
    doc_tiff_close(f.tiff);
    doc_picture_close(&f);
    return st;
}
