/* pdf.c: --format pdf, a searchable PDF of each document, as OCRmyPDF makes
 * them: the pages as they look, with an invisible text layer on the lines
 * quire read by OCR (pdflayer.c). An image (TIFF, every page; PNG; JPEG)
 * becomes a PDF whose pages show the images; a scanned PDF keeps its pages
 * and gets the layer on its OCR'd pages; a born-digital PDF (no OCR'd page)
 * is copied as it is. Written with MuPDF's PDF API in a context of its own
 * per document, so nothing is shared between documents. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pdf_int.h"

#define PDF_FONT_RES "QuireOCR" /* the layer's font in each page's /Font */

static void pdf_quiet(void *user, const char *msg) {
    (void)user, (void)msg; /* MuPDF's warnings about a source are not the export's */
}

static int pdf_any_ocr(const lay_doc *d) {
    for (size_t i = 0; i < d->page_v.len; i++)
        if (Q_VEC_AT(&d->page_v, lay_page, i).kind == LAY_PAGE_OCR) return 1;
    return 0;
}

static int pdf_quarter(int deg) {
    deg %= 360;
    if (deg < 0) deg += 360;
    return (deg + 45) / 90 % 4 * 90;
}

static q_status pdf_copy_file(const char *src, const char *dst) {
    FILE *in = fopen(src, "rb"), *out = in ? fopen(dst, "wb") : NULL;
    q_status st = Q_OK;
    if (!in || !out) st = Q_FAIL(Q_ERR_IO, "cannot copy %s: %s", src, strerror(errno));
    char buf[1 << 16];
    size_t n;
    while (!st && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) st = Q_FAIL(Q_ERR_IO, "cannot write %s", dst);
    if (!st && ferror(in)) st = Q_FAIL(Q_ERR_IO, "cannot read %s", src);
    if (in) fclose(in);
    if (out && fclose(out) != 0 && !st) st = Q_FAIL(Q_ERR_IO, "cannot write %s", dst);
    return st;
}

/* The size of page i in points: results.h5's, or for a page never read
 * (size 0) the image's at its resolution. */
static fz_rect pdf_page_box(fz_image *img, const lay_page *pg) {
    float w = pg->width, h = pg->height;
    if (!(w > 0 && h > 0)) {
        int xr = 0, yr = 0;
        fz_image_resolution(img, &xr, &yr);
        w = (float)img->w * 72.0f / (float)(xr > 0 ? xr : 300);
        h = (float)img->h * 72.0f / (float)(yr > 0 ? yr : 300);
    }
    return fz_make_rect(0, 0, w, h);
}

/* Adds one page showing `img` with page i's text layer to `out`. */
static void pdf_image_page(fz_context *ctx, pdf_document *out, fz_image *img, const lay_doc *d,
                           size_t i, pdf_obj *font, const pdffont_map *m) {
    const lay_page *pg = &Q_VEC_AT(&d->page_v, lay_page, i);
    const fz_rect box = pdf_page_box(img, pg);
    q_buf c = {0};
    pdf_obj *res = NULL, *ref = NULL, *page = NULL;
    fz_buffer *buf = NULL;
    fz_var(res), fz_var(ref), fz_var(page), fz_var(buf);
    fz_try(ctx) {
        res = pdf_new_dict(ctx, out, 2);
        ref = pdf_add_image(ctx, out, img);
        pdf_dict_puts(ctx, pdf_dict_put_dict(ctx, res, PDF_NAME(XObject), 1), "Im0", ref);
        pdf_dict_puts(ctx, pdf_dict_put_dict(ctx, res, PDF_NAME(Font), 1), PDF_FONT_RES, font);
        fz_matrix disp = {1, 0, 0, -1, 0, box.y1}; /* top-left, y down -> PDF space */
        if (q_buf_printf(&c, "q\n%.4f 0 0 %.4f 0 0 cm\n/Im0 Do\nQ\n", (double)box.x1,
                         (double)box.y1) ||
            pdf_text_layer(d, i, disp, pdf_quarter(pg->rotation), PDF_FONT_RES, m, &c))
            fz_throw(ctx, FZ_ERROR_GENERIC, "%s", q_errmsg());
        buf = fz_new_buffer_from_copied_data(ctx, (const unsigned char *)c.data, c.len);
        page = pdf_add_page(ctx, out, box, 0, res, buf);
        pdf_insert_page(ctx, out, -1, page);
    }
    fz_always(ctx) {
        q_buf_free(&c);
        fz_drop_buffer(ctx, buf);
        pdf_drop_obj(ctx, page);
        pdf_drop_obj(ctx, ref);
        pdf_drop_obj(ctx, res);
    }
    fz_catch(ctx) fz_rethrow(ctx);
}

static int pdf_is_tiff(const unsigned char *p, size_t n) {
    return n >= 4 && (!memcmp(p, "II*\0", 4) || !memcmp(p, "MM\0*", 4));
}

static int pdf_is_pdf(const unsigned char *p, size_t n) {
    for (size_t i = 0; i + 5 <= n && i < 1024; i++)
        if (!memcmp(p + i, "%PDF-", 5)) return 1;
    return 0;
}

/* An image file (TIFF: every page) as a new PDF in `out`. */
static void pdf_from_image(fz_context *ctx, pdf_document *out, fz_buffer *src, const lay_doc *d,
                           pdf_obj *font, const pdffont_map *m) {
    unsigned char *data;
    size_t len = fz_buffer_storage(ctx, src, &data);
    int tiff = pdf_is_tiff(data, len);
    int n = tiff ? fz_load_tiff_subimage_count(ctx, data, len) : 1;
    if (n != (int)d->page_v.len)
        fz_throw(ctx, FZ_ERROR_GENERIC, "the source has %d pages now, results.h5 %zu", n,
                 d->page_v.len);
    for (int i = 0; i < n; i++) {
        fz_pixmap *pix = NULL;
        fz_image *img = NULL;
        fz_var(pix), fz_var(img);
        fz_try(ctx) {
            if (tiff) {
                pix = fz_load_tiff_subimage(ctx, data, len, i);
                img = fz_new_image_from_pixmap(ctx, pix, NULL);
            } else {
                img = fz_new_image_from_buffer(ctx, src); /* JPEG stays JPEG */
            }
            pdf_image_page(ctx, out, img, d, (size_t)i, font, m);
        }
        fz_always(ctx) {
            fz_drop_image(ctx, img);
            fz_drop_pixmap(ctx, pix);
        }
        fz_catch(ctx) fz_rethrow(ctx);
    }
}

/* A stream object holding `s`. */
static pdf_obj *pdf_stream(fz_context *ctx, pdf_document *doc, const char *s, size_t n) {
    fz_buffer *b = fz_new_buffer_from_copied_data(ctx, (const unsigned char *)s, n);
    pdf_obj *o = NULL;
    fz_try(ctx) o = pdf_add_stream(ctx, doc, b, NULL, 0);
    fz_always(ctx) fz_drop_buffer(ctx, b);
    fz_catch(ctx) fz_rethrow(ctx);
    return o;
}

/* Page i of a scanned PDF: its content wrapped in q ... Q, then the layer. */
static void pdf_layer_page(fz_context *ctx, pdf_document *doc, const lay_doc *d, size_t i,
                           pdf_obj *font, const pdffont_map *m) {
    pdf_obj *pobj = pdf_lookup_page_obj(ctx, doc, (int)i);
    fz_rect mb;
    fz_matrix ctm;
    pdf_page_obj_transform(ctx, pobj, &mb, &ctm);
    int rot = pdf_to_int(ctx, pdf_dict_get_inheritable(ctx, pobj, PDF_NAME(Rotate)));
    const lay_page *pg = &Q_VEC_AT(&d->page_v, lay_page, i);
    q_buf c = {0};
    pdf_obj *arr = NULL, *pre = NULL, *post = NULL;
    fz_var(arr), fz_var(pre), fz_var(post);
    fz_try(ctx) {
        if (q_buf_puts(&c, "Q\n") ||
            pdf_text_layer(d, i, fz_invert_matrix(ctm), pdf_quarter(pg->rotation - rot),
                           PDF_FONT_RES, m, &c))
            fz_throw(ctx, FZ_ERROR_GENERIC, "%s", q_errmsg());
        pdf_flatten_inheritable_page_items(ctx, pobj);
        pdf_obj *res = pdf_dict_get(ctx, pobj, PDF_NAME(Resources));
        if (!res) res = pdf_dict_put_dict(ctx, pobj, PDF_NAME(Resources), 1);
        pdf_obj *fonts = pdf_dict_get(ctx, res, PDF_NAME(Font));
        if (!fonts) fonts = pdf_dict_put_dict(ctx, res, PDF_NAME(Font), 1);
        pdf_dict_puts(ctx, fonts, PDF_FONT_RES, font);
        pre = pdf_stream(ctx, doc, "q\n", 2);
        post = pdf_stream(ctx, doc, c.data, c.len);
        pdf_obj *old = pdf_dict_get(ctx, pobj, PDF_NAME(Contents));
        arr = pdf_new_array(ctx, doc, 4);
        pdf_array_push(ctx, arr, pre);
        if (pdf_is_array(ctx, old))
            for (int k = 0; k < pdf_array_len(ctx, old); k++)
                pdf_array_push(ctx, arr, pdf_array_get(ctx, old, k));
        else if (old)
            pdf_array_push(ctx, arr, old);
        pdf_array_push(ctx, arr, post);
        pdf_dict_put(ctx, pobj, PDF_NAME(Contents), arr);
    }
    fz_always(ctx) {
        q_buf_free(&c);
        pdf_drop_obj(ctx, arr);
        pdf_drop_obj(ctx, pre);
        pdf_drop_obj(ctx, post);
    }
    fz_catch(ctx) fz_rethrow(ctx);
}

/* A scanned (or mixed) PDF with the layer on its OCR'd pages. */
static void pdf_add_layers(fz_context *ctx, pdf_document *doc, const lay_doc *d,
                           const pdffont_map *m) {
    if (pdf_needs_password(ctx, doc))
        fz_throw(ctx, FZ_ERROR_GENERIC, "the source needs a password");
    int n = pdf_count_pages(ctx, doc);
    if (n != (int)d->page_v.len)
        fz_throw(ctx, FZ_ERROR_GENERIC, "the source has %d pages now, results.h5 %zu", n,
                 d->page_v.len);
    pdf_obj *font = pdffont_add(ctx, doc, m);
    fz_try(ctx) {
        for (size_t i = 0; i < d->page_v.len; i++)
            if (Q_VEC_AT(&d->page_v, lay_page, i).kind == LAY_PAGE_OCR)
                pdf_layer_page(ctx, doc, d, i, font, m);
    }
    fz_always(ctx) pdf_drop_obj(ctx, font);
    fz_catch(ctx) fz_rethrow(ctx);
}

static q_status pdf_build(fz_context *ctx, const lay_doc *d, const char *src, const char *dst,
                          const pdffont_map *m) {
    fz_buffer *buf = NULL;
    pdf_document *doc = NULL;
    pdf_obj *font = NULL;
    q_status st = Q_OK;
    fz_var(buf), fz_var(doc), fz_var(font);
    fz_try(ctx) {
        buf = fz_read_file(ctx, src);
        unsigned char *data;
        size_t len = fz_buffer_storage(ctx, buf, &data);
        if (pdf_is_pdf(data, len)) {
            fz_stream *s = fz_open_buffer(ctx, buf);
            fz_try(ctx) doc = pdf_open_document_with_stream(ctx, s);
            fz_always(ctx) fz_drop_stream(ctx, s);
            fz_catch(ctx) fz_rethrow(ctx);
            pdf_add_layers(ctx, doc, d, m);
        } else {
            doc = pdf_create_document(ctx);
            font = pdffont_add(ctx, doc, m);
            pdf_from_image(ctx, doc, buf, d, font, m);
        }
        pdf_write_options o = pdf_default_write_options;
        o.do_compress = 1;
        o.do_garbage = 1;
        pdf_save_document(ctx, doc, dst, &o);
    }
    fz_always(ctx) {
        pdf_drop_obj(ctx, font);
        pdf_drop_document(ctx, doc);
        fz_drop_buffer(ctx, buf);
    }
    fz_catch(ctx) st = Q_FAIL_LIB(Q_ERR_LIB, "mupdf", "%s", fz_caught_message(ctx));
    return st;
}

q_status export_pdf(const lay_doc *d, const char *src, const char *dst) {
    int ocr = pdf_any_ocr(d);
    FILE *fp = fopen(src, "rb");
    unsigned char head[1024];
    size_t n = fp ? fread(head, 1, sizeof head, fp) : 0;
    if (fp) fclose(fp);
    if (!fp) return Q_FAIL(Q_ERR_IO, "cannot open %s: %s", src, strerror(errno));
    if (!ocr && pdf_is_pdf(head, n)) return pdf_copy_file(src, dst); /* born-digital */
    pdffont_map m = {0};
    q_status st = pdffont_collect(&m, d);
    if (st) return st;
    fz_context *ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
    if (!ctx) {
        pdffont_map_free(&m);
        return Q_FAIL(Q_ERR_NOMEM, "cannot start MuPDF");
    }
    fz_set_warning_callback(ctx, pdf_quiet, NULL);
    fz_set_error_callback(ctx, pdf_quiet, NULL);
    st = pdf_build(ctx, d, src, dst, &m);
    fz_drop_context(ctx);
    pdffont_map_free(&m);
    return st;
}
