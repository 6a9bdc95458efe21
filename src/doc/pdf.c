/* PDF documents through MuPDF: open, password check, the page loop with routing and extraction, the
 * repair policy and the deadline. fz_try/fz_catch stay in this file. */
#include "doc_int.h"

#include <mupdf/pdf.h>
#include <stdio.h>
#include <string.h>

/* What the page loop learned, turned into the record's status at the end. */
typedef struct {
    int npages;
    int failed;           /* pages that could not be read */
    char failed_msg[300]; /* MuPDF's message for the first of them */
    int timed_out, timeout_page;
    q_buf need_ocr; /* "1, 3, 7" (1-based), pages left without OCR */
    int need_ocr_n;
    int done_ok;    /* pages recorded as text or empty or OCRed */
    int incomplete; /* pages read with errors inside (partly lost) */
} pdf_run;

int16_t doc_page_rotation(fz_context *ctx, fz_page *page) {
    pdf_page *pp = pdf_page_from_fz_page(ctx, page);
    if (!pp) return 0;
    volatile int got = 0;
    /* The lookup climbs /Parent and throws on a damaged page tree (a cycle, too
     * deep); with no try frame MuPDF would exit the process. Unreadable is 0. */
    fz_try(ctx) {
        got = pdf_to_int(ctx, pdf_dict_get_inheritable(ctx, pp->obj, PDF_NAME(Rotate)));
    }
    fz_catch(ctx) {
        got = 0;
    }
    int rot = ((got % 360) + 360) % 360;
    return (int16_t)(rot % 90 ? 0 : rot); /* MuPDF ignores other angles too */
}

static void copy_msg(char *dst, size_t cap, const char *msg) {
    snprintf(dst, cap, "%s", msg && *msg ? msg : "unknown MuPDF error");
}

/* Loads page i and runs it once through the scan device into a stext page.
 * On MuPDF failure, returns 0 and leaves the message in `msg`. */
static int page_load(doc_reader *r, fz_document *doc, int i, int want_text, fz_page **page,
                     fz_stext_page **tp, fz_rect *bound, doc_scan *scan, char *msg, size_t cap) {
    fz_context *ctx = r->ctx;
    fz_device *volatile sdev = NULL, *volatile tdev = NULL;
    fz_page *volatile pg = NULL;
    fz_stext_page *volatile text = NULL;
    int ok = 1;
    memset(scan, 0, sizeof *scan);
    fz_try(ctx) {
        pg = fz_load_page(ctx, doc, i);
        *bound = fz_bound_page(ctx, pg);
        if (want_text) {
            /* No dehyphenation, ligatures expanded, whitespace normalised to
             * spaces, characters outside the page dropped. */
            fz_stext_options so = {.flags = FZ_STEXT_MEDIABOX_CLIP};
            text = fz_new_stext_page(ctx, *bound);
            tdev = fz_new_stext_device(ctx, text, &so);
            sdev = doc_new_scan_device(ctx, tdev, scan, *bound);
            fz_run_page(ctx, pg, sdev, fz_identity, &r->cookie);
            fz_close_device(ctx, sdev);
            fz_close_device(ctx, tdev);
        }
    }
    fz_always(ctx) {
        fz_drop_device(ctx, sdev);
        fz_drop_device(ctx, tdev);
    }
    fz_catch(ctx) {
        copy_msg(msg, cap, fz_caught_message(ctx));
        fz_drop_stext_page(ctx, text);
        text = NULL;
        ok = 0;
    }
    *page = pg;
    *tp = text;
    return ok;
}

/* Records page i of the document; updates `run`. Non-OK only for quire
 * failures (out of memory). */
static q_status page_process(doc_reader *r, doc_file *f, int i, doc_ocr_fn ocr, void *ocr_user,
                             pdf_run *run, lay_doc *rec) {
    fz_context *ctx = r->ctx;
    double t0 = q_now();
    fz_page *page = NULL;
    fz_stext_page *tp = NULL;
    fz_rect bound = fz_empty_rect;
    doc_scan scan;
    char msg[200] = "";
    q_status st = Q_OK;
    int want_text = f->type == DOC_TYPE_PDF;
    int errors_before = r->cookie.errors;
    int ok = page_load(r, f->doc, i, want_text, &page, &tp, &bound, &scan, msg, sizeof msg);
    if (ok && r->cookie.errors > errors_before && !run->incomplete++ && !run->failed)
        snprintf(run->failed_msg, sizeof run->failed_msg, "%s", r->last_error);
    float w = fz_is_empty_rect(bound) ? 0 : bound.x1 - bound.x0;
    float h = fz_is_empty_rect(bound) ? 0 : bound.y1 - bound.y0;
    int16_t rot = page ? doc_page_rotation(ctx, page) : 0;
    if (r->cookie.abort) {
        /* The deadline passed inside this page: it is not done. */
        run->timed_out = 1;
        run->timeout_page = i;
        goto done;
    }
    if (!ok) {
        if (!run->failed++) snprintf(run->failed_msg, sizeof run->failed_msg, "%s", msg);
        st = lay_page_begin(rec, (uint32_t)i, w, h, rot);
        if (!st) st = lay_page_end(rec, LAY_PAGE_FAILED, (float)(q_now() - t0), 0);
        goto done;
    }
    lay_page_kind kind = want_text ? doc_route_page(&scan, f->opt) : LAY_PAGE_OCR;
    if (kind == LAY_PAGE_OCR && ocr) {
        size_t before = lay_doc_npages(rec);
        f->page = page;
        f->page_index = i;
        q_status ost = ocr(ocr_user, f, (uint32_t)i, rec);
        f->page = NULL;
        f->page_index = -1;
        if (ost == Q_ERR_NOMEM) {
            st = ost;
            goto done;
        }
        if (r->cookie.abort && lay_doc_npages(rec) == before) {
            /* The deadline stopped rendering or OCR of this page. */
            run->timed_out = 1;
            run->timeout_page = i;
            goto done;
        }
        if (ost || lay_doc_npages(rec) == before) {
            if (!run->failed++)
                snprintf(run->failed_msg, sizeof run->failed_msg, "OCR failed: %s", q_errmsg());
            if (lay_doc_npages(rec) == before) {
                st = lay_page_begin(rec, (uint32_t)i, w, h, rot);
                if (!st) st = lay_page_end(rec, LAY_PAGE_FAILED, (float)(q_now() - t0), 0);
            }
        } else {
            run->done_ok++;
        }
        goto done;
    }
    st = lay_page_begin(rec, (uint32_t)i, w, h, rot);
    if (st) goto done;
    if (kind == LAY_PAGE_TEXT) {
        st = doc_extract_lines(tp, bound, &r->scratch, rec);
        if (!st) st = lay_page_end(rec, LAY_PAGE_TEXT, (float)(q_now() - t0), 1);
        run->done_ok++;
    } else if (kind == LAY_PAGE_EMPTY) {
        st = lay_page_end(rec, LAY_PAGE_EMPTY, (float)(q_now() - t0), 0);
        run->done_ok++;
    } else {
        st = lay_page_end(rec, LAY_PAGE_FAILED, (float)(q_now() - t0), 0);
        if (!st && run->need_ocr_n++ < 20)
            st = q_buf_printf(&run->need_ocr, "%s%d", run->need_ocr.len ? ", " : "", i + 1);
    }
done:
    fz_drop_stext_page(ctx, tp);
    fz_drop_page(ctx, page);
    return st;
}

/* Turns the page loop's findings into status and reason. Policy:
 * - timeout wins: "timeout after N s at page P of N"; pages done are kept;
 * - unreadable pages make the document an error (readable pages are kept),
 *   naming the repair when MuPDF had to rebuild the file;
 * - pages MuPDF read with errors inside (a broken content stream) keep what
 *   was read and the reason names them as incomplete; the status is error when
 *   the file itself was damaged (repaired: truncated or overwritten, so text
 *   is lost and the user must know), ok otherwise (a sloppy producer);
 * - pages that need OCR when no OCR is available leave the status ok as long
 *   as some page was extracted (the text we have is good; the error field names
 *   the missing pages so a later run with OCR can redo them); when no page at
 *   all could be extracted the document is an error, because its record holds
 *   nothing. */
static q_status run_finish(const pdf_run *run, int repaired, double t_start, lay_doc *rec) {
    q_buf why = {0};
    q_status st = Q_OK;
    lay_doc_status status = LAY_DOC_OK;
    if (run->timed_out) {
        status = LAY_DOC_TIMEOUT;
        st = q_buf_printf(&why, "timeout after %.3g s at page %d of %d", q_now() - t_start,
                          run->timeout_page + 1, run->npages);
    } else if (run->failed) {
        status = LAY_DOC_ERROR;
        st = q_buf_printf(&why, "%s%d of %d pages unreadable: %s",
                          repaired ? "damaged PDF (repaired): " : "", run->failed, run->npages,
                          run->failed_msg);
    } else if (run->incomplete) {
        /* The pages are recorded with what MuPDF could read of them. */
        if (repaired) status = LAY_DOC_ERROR;
        st = q_buf_printf(&why, "%s%d of %d pages incomplete: %s",
                          repaired ? "damaged PDF (repaired): " : "", run->incomplete, run->npages,
                          run->failed_msg);
    }
    if (!st && run->need_ocr_n) {
        if (!run->done_ok && status == LAY_DOC_OK) status = LAY_DOC_ERROR;
        const char *more = run->need_ocr_n > 20 ? ", \xe2\x80\xa6" : "";
        st = q_buf_printf(&why, "%sOCR not available: %s %s%s (%d) need%s OCR", why.len ? "; " : "",
                          run->need_ocr_n == 1 ? "page" : "pages", run->need_ocr.data, more,
                          run->need_ocr_n, run->need_ocr_n == 1 ? "s" : "");
    }
    if (!st && why.len) st = lay_doc_set_error(rec, status, "%s", why.data);
    q_buf_free(&why);
    return st;
}

q_status doc_pdf_process(doc_reader *r, const char *path, doc_type type, const doc_options *opt,
                         doc_ocr_fn ocr, void *ocr_user, lay_doc *rec) {
    fz_context *ctx = r->ctx;
    fz_document *volatile doc = NULL;
    fz_stream *volatile stm = NULL;
    pdf_run run = {0};
    double t_start = q_now();
    char msg[256] = "";
    int open_ok = 1, locked = 0;
    q_status st = Q_OK;

    fz_try(ctx) {
        stm = fz_open_file(ctx, path);
        doc = fz_open_document_with_stream(ctx, doc_type_magic(type), stm);
        if (fz_needs_password(ctx, doc))
            locked = 1;
        else
            run.npages = fz_count_pages(ctx, doc);
    }
    fz_always(ctx) {
        fz_drop_stream(ctx, stm);
    }
    fz_catch(ctx) {
        copy_msg(msg, sizeof msg, fz_caught_message(ctx));
        open_ok = 0;
    }
    if (!open_ok) {
        st = lay_doc_set_error(rec, LAY_DOC_ERROR, "damaged %s: %s", doc_type_name(type), msg);
        goto done;
    }
    if (locked) {
        st = lay_doc_set_error(rec, LAY_DOC_ERROR, "encrypted: needs a password");
        goto done;
    }
    rec->pages = (uint32_t)(run.npages > 0 ? run.npages : 0);
    if (run.npages <= 0) {
        pdf_document *pdf = pdf_specifics(ctx, doc);
        st = lay_doc_set_error(rec, LAY_DOC_ERROR, "damaged %s%s: no pages found%s%s",
                               doc_type_name(type),
                               pdf && pdf_was_repaired(ctx, pdf) ? " (repaired)" : "",
                               r->last_error[0] ? ": " : "", r->last_error);
        goto done;
    }
    doc_file f = {.reader = r, .doc = doc, .opt = opt, .type = type, .page_index = -1};
    for (int i = 0; i < run.npages && !st; i++) {
        if ((opt && opt->deadline > 0 && q_now() >= opt->deadline) || r->cookie.abort) {
            run.timed_out = 1;
            run.timeout_page = i;
            break;
        }
        if (opt && opt->progress) opt->progress[0] = (uint32_t)i, opt->progress[1] = rec->pages;
        if (opt && opt->each_page) opt->each_page();
        st = page_process(r, &f, i, ocr, ocr_user, &run, rec);
        if (run.timed_out) break;
    }
    if (!st) {
        pdf_document *pdf = pdf_specifics(ctx, doc);
        st = run_finish(&run, pdf && pdf_was_repaired(ctx, pdf), t_start, rec);
    }
done:
    if (doc) { /* neither call throws */
        pdf_document *pdf = pdf_specifics(ctx, doc);
        r->repaired = pdf && pdf_was_repaired(ctx, pdf);
    }
    q_buf_free(&run.need_ocr);
    fz_drop_document(ctx, doc);
    return st;
}
