/* An OCR'd image into the document record: boxes from image pixels to page
 * points, the page's skew from its boxes, then the same block grouping and
 * reading order as text-layer pages (lay_order_page_in), found in the
 * deskewed frame so that the lines of a skewed page do not interleave. */
#include <math.h>
#include <stdlib.h>

#include "ocr/ocr_private.h"

/* Detector boxes are grown by the unclip step, so a box is taller than the
 * glyphs' font size; the layout's em-based gaps expect font sizes. */
#define OCR_BOX_PER_EM 1.5f

/* Axis-aligned hull of quad q turned by `deg` clockwise (undoing a skew of
 * `deg` counter-clockwise) about (cx, cy), in pixels; then scaled to points. */
static void deskewed_box(const float q[4][2], double deg, double cx, double cy, float sx, float sy,
                         float out[4]) {
    double t = deg * (3.14159265358979323846 / 180.0), c = cos(t), s = sin(t);
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int k = 0; k < 4; k++) {
        /* y grows down: a counter-clockwise skew lifted the right end, so
         * turning back lowers it (y' = cy + dx sin t + dy cos t) */
        double dx = q[k][0] - cx, dy = q[k][1] - cy;
        float x = (float)(cx + dx * c - dy * s), y = (float)(cy + dx * s + dy * c);
        x0 = fminf(x0, x), x1 = fmaxf(x1, x);
        y0 = fminf(y0, y), y1 = fmaxf(y1, y);
    }
    out[0] = x0 * sx, out[1] = y0 * sy, out[2] = x1 * sx, out[3] = y1 * sy;
}

static void quad_hull(const float q[4][2], float sx, float sy, float out[4]) {
    float x0 = q[0][0], y0 = q[0][1], x1 = x0, y1 = y0;
    for (int k = 1; k < 4; k++) {
        x0 = fminf(x0, q[k][0]), x1 = fmaxf(x1, q[k][0]);
        y0 = fminf(y0, q[k][1]), y1 = fmaxf(y1, q[k][1]);
    }
    out[0] = x0 * sx, out[1] = y0 * sy, out[2] = x1 * sx, out[3] = y1 * sy;
}

q_status ocr_result_to_page(const ocr_result *r, uint32_t page, float width_pt, float height_pt,
                            float pt_per_px_x, float pt_per_px_y, int16_t rotation, float seconds,
                            lay_doc *rec) {
    float skew = 0;
    float *frame = NULL;
    q_status st = ocr_page_skew(r->lines, r->n, &skew);
    if (!st && r->n && !(frame = malloc(r->n * 4 * sizeof *frame)))
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory ordering %zu lines", r->n);
    if (!st) st = lay_page_begin(rec, page, width_pt, height_pt, rotation);
    double cx = width_pt / pt_per_px_x / 2, cy = height_pt / pt_per_px_y / 2;
    for (size_t i = 0; !st && i < r->n; i++) {
        const ocr_line *l = &r->lines[i];
        float bbox[4];
        quad_hull(l->quad, pt_per_px_x, pt_per_px_y, bbox);
        deskewed_box(l->quad, skew, cx, cy, pt_per_px_x, pt_per_px_y, frame + 4 * i);
        /* The quad's own height, not the hull's: a skewed line's hull is taller. */
        float h = hypotf(l->quad[3][0] - l->quad[0][0], l->quad[3][1] - l->quad[0][1]);
        float size = h * pt_per_px_y / OCR_BOX_PER_EM;
        st = lay_line_add(rec, bbox, l->conf, size, l->text, l->len);
    }
    if (!st) {
        size_t pi = lay_doc_npages(rec) - 1;
        lay_doc_page(rec, pi)->skew_deg = skew;
        st = lay_page_end(rec, LAY_PAGE_OCR, seconds, 0);
        if (!st) st = lay_order_page_in(rec, pi, frame);
    }
    free(frame);
    return st;
}
