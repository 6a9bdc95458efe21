/* hocr.c: --format hocr. hOCR 1.2 in XHTML: an ocr_page per page, an
 * ocr_carea holding one ocr_par per block, an ocr_line per line and an
 * ocrx_word per word with its bbox and x_wconf. Boxes are integers in pixels
 * at 300 dpi (points x 300/72; the page says scan_res 300 300), the unit
 * hOCR readers expect; word boxes are shares of the line's box (words.c) and
 * x_wconf is the line's confidence in percent. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "export_int.h"

#define HOCR_DPI   300
#define HOCR_SCALE (HOCR_DPI / 72.0)

typedef struct {
    long w, h; /* the page in pixels: every box is clamped into it */
} hocr_page;

static long hocr_px(float pt, long max, int up) {
    double v = isfinite(pt) ? pt * HOCR_SCALE : 0.0;
    v = up ? ceil(v - 1e-6) : floor(v + 1e-6);
    return v < 0 ? 0 : v > (double)max ? max : (long)v;
}

static q_status hocr_bbox(q_buf *b, const hocr_page *pg, const float *bb) {
    long x0 = hocr_px(bb[0], pg->w, 0), y0 = hocr_px(bb[1], pg->h, 0);
    long x1 = hocr_px(bb[2], pg->w, 1), y1 = hocr_px(bb[3], pg->h, 1);
    return q_buf_printf(b, "bbox %ld %ld %ld %ld", x0, y0, x1 < x0 ? x0 : x1, y1 < y0 ? y0 : y1);
}

static q_status hocr_head(const lay_doc *d, q_buf *b) {
    q_status st =
        q_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n"
                      "    \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
                      "<html xmlns=\"http://www.w3.org/1999/xhtml\">\n <head>\n  <title>");
    if (!st) st = export_xml(b, d->path, strlen(d->path));
    if (!st)
        st = q_buf_printf(b,
                          "</title>\n"
                          "  <meta http-equiv=\"Content-Type\" content=\"text/html; "
                          "charset=utf-8\"/>\n"
                          "  <meta name=\"ocr-system\" content=\"quire %s\"/>\n"
                          "  <meta name=\"ocr-capabilities\" content=\"ocr_page ocr_carea "
                          "ocr_par ocr_line ocrx_word ocrp_wconf\"/>\n"
                          "  <meta name=\"ocr-number-of-pages\" content=\"%zu\"/>\n"
                          " </head>\n <body>\n",
                          q_version, d->page_v.len);
    return st;
}

static q_status hocr_line(const lay_doc *d, const hocr_page *pg, const lay_line *l, size_t p,
                          size_t n, q_vec *words, q_buf *b) {
    q_status st = export_line_words(d, l, words);
    if (!st)
        st = q_buf_printf(b, "     <span class=\"ocr_line\" id=\"line_%zu_%zu\" title=\"", p, n);
    if (!st) st = hocr_bbox(b, pg, l->bbox);
    if (!st)
        st = q_buf_printf(b, "; x_size %ld\">",
                          hocr_px(l->bbox[3], pg->h, 1) - hocr_px(l->bbox[1], pg->h, 0));
    const char *text = export_line_text(d, l);
    long conf = isfinite(l->conf) ? lround(Q_MAX(0.0f, Q_MIN(1.0f, l->conf)) * 100.0) : 0;
    for (size_t w = 0; w < words->len && !st; w++) {
        const export_word *x = &Q_VEC_AT(words, export_word, w);
        st = q_buf_printf(b, "%s<span class=\"ocrx_word\" id=\"word_%zu_%zu_%zu\" title=\"",
                          w ? " " : "", p, n, w + 1);
        if (!st) st = hocr_bbox(b, pg, x->bbox);
        if (!st) st = q_buf_printf(b, "; x_wconf %ld\">", conf);
        if (!st) st = export_xml(b, text + x->start, x->len);
        if (!st) st = q_buf_puts(b, "</span>");
    }
    if (!st) st = q_buf_puts(b, "</span>\n");
    return st;
}

/* The ocr_carea and ocr_par of lines [i, j) of page p (1-based). */
static q_status hocr_block(const lay_doc *d, const hocr_page *pg, size_t p, size_t i, size_t j,
                           q_vec *words, q_buf *b) {
    float bb[4];
    for (size_t k = i; k < j; k++) {
        const float *l = Q_VEC_AT(&d->line_v, lay_line, k).bbox;
        if (k == i) memcpy(bb, l, sizeof bb);
        bb[0] = Q_MIN(bb[0], l[0]), bb[1] = Q_MIN(bb[1], l[1]);
        bb[2] = Q_MAX(bb[2], l[2]), bb[3] = Q_MAX(bb[3], l[3]);
    }
    unsigned blk = Q_VEC_AT(&d->line_v, lay_line, i).block + 1;
    q_buf box = {0};
    q_status st = hocr_bbox(&box, pg, bb);
    if (!st)
        st = q_buf_printf(b,
                          "   <div class=\"ocr_carea\" id=\"block_%zu_%u\" title=\"%s\">\n"
                          "    <p class=\"ocr_par\" id=\"par_%zu_%u\" title=\"%s\">\n",
                          p, blk, box.data, p, blk, box.data);
    for (size_t k = i; k < j && !st; k++)
        st = hocr_line(d, pg, &Q_VEC_AT(&d->line_v, lay_line, k), p, k + 1, words, b);
    if (!st) st = q_buf_puts(b, "    </p>\n   </div>\n");
    q_buf_free(&box);
    return st;
}

static q_status hocr_page_out(const lay_doc *d, size_t p, q_vec *words, q_buf *b) {
    const lay_page *pg = &Q_VEC_AT(&d->page_v, lay_page, p);
    hocr_page px = {hocr_px(pg->width, 1L << 30, 1), hocr_px(pg->height, 1L << 30, 1)};
    q_status st =
        q_buf_printf(b, "  <div class=\"ocr_page\" id=\"page_%zu\" title=\"image &quot;", p + 1);
    if (!st) st = export_xml(b, d->path, strlen(d->path));
    if (!st)
        st = q_buf_printf(b, "&quot;; bbox 0 0 %ld %ld; ppageno %zu; scan_res %d %d\">\n", px.w,
                          px.h, p, HOCR_DPI, HOCR_DPI);
    size_t first, n;
    export_page_lines(d, p, &first, &n);
    for (size_t i = first; i < first + n && !st;) {
        size_t j = export_block_end(d, i, first + n);
        st = hocr_block(d, &px, p + 1, i, j, words, b);
        i = j;
    }
    if (!st) st = q_buf_puts(b, "  </div>\n");
    return st;
}

q_status export_hocr(const lay_doc *d, q_buf *out) {
    q_vec words;
    q_vec_init(&words, sizeof(export_word));
    q_status st = hocr_head(d, out);
    for (size_t p = 0; p < d->page_v.len && !st; p++)
        st = hocr_page_out(d, p, &words, out);
    if (!st) st = q_buf_puts(out, " </body>\n</html>\n");
    q_vec_free(&words);
    return st;
}
