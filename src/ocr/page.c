/* An OCR'd image into the document record: boxes from image pixels to page
 * points, the page turned upright (r->rotation), its skew from its boxes,
 * then the same block grouping and reading order as text-layer pages
 * (lay_order_page_in), found in the upright, deskewed frame so that the
 * lines of a turned or skewed page do not interleave; the boxes go back onto
 * the page as given. */
#include <math.h>
#include <stdlib.h>

#include "ocr/ocr_private.h"

/* Detector boxes are grown by the unclip step, so a box is taller than the
 * glyphs' font size; the layout's em-based gaps expect font sizes. */
#define OCR_BOX_PER_EM 1.5f

/* The box line q stands for when ordering: its hull turned by `deg`
 * clockwise (undoing a skew of `deg` counter-clockwise) about the image's
 * origin, less the margin the unclip step grew it by. The detector's box is
 * about 1.5 font sizes high where the ink is one, the margin the same on all
 * sides: left in, tightly leaded lines overlap the next by more than the
 * layout's row overlap (a whole column read as one row, left to right), and
 * a one-em gutter between columns shrinks below the layout's minimum (the
 * columns interleave). Text-layer boxes are the glyphs' own; these then
 * measure the same whitespace. In pixels, then scaled to points. A turn
 * about any other point differs by a shift, which the order does not see. */
static void order_box(const float q[4][2], double deg, float sx, float sy, float out[4]) {
    double t = deg * (3.14159265358979323846 / 180.0), c = cos(t), s = sin(t);
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int k = 0; k < 4; k++) {
        /* y grows down: a counter-clockwise skew lifted the right end, so
         * turning back lowers it (y' = x sin t + y cos t) */
        double qx = q[k][0], qy = q[k][1];
        float x = (float)(qx * c - qy * s), y = (float)(qx * s + qy * c);
        x0 = fminf(x0, x), x1 = fmaxf(x1, x);
        y0 = fminf(y0, y), y1 = fmaxf(y1, y);
    }
    float h = (hypotf(q[3][0] - q[0][0], q[3][1] - q[0][1]) +
               hypotf(q[2][0] - q[1][0], q[2][1] - q[1][1])) /
              2;
    float m = h * (1 - 1 / OCR_BOX_PER_EM) / 2; /* the grown margin, per side */
    float ym = (y0 + y1) / 2, hy = fminf(h - 2 * m, y1 - y0) / 2;
    float xm = (x0 + x1) / 2, hx = fmaxf((x1 - x0) / 2 - m, 0);
    out[0] = (xm - hx) * sx, out[1] = (ym - hy) * sy;
    out[2] = (xm + hx) * sx, out[3] = (ym + hy) * sy;
}

static void quad_hull(const float q[4][2], float sx, float sy, float out[4]) {
    float x0 = q[0][0], y0 = q[0][1], x1 = x0, y1 = y0;
    for (int k = 1; k < 4; k++) {
        x0 = fminf(x0, q[k][0]), x1 = fmaxf(x1, q[k][0]);
        y0 = fminf(y0, q[k][1]), y1 = fmaxf(y1, q[k][1]);
    }
    out[0] = x0 * sx, out[1] = y0 * sy, out[2] = x1 * sx, out[3] = y1 * sy;
}

/* The lines with their quads in points on the page turned upright by q
 * quarter turns (w x h points as given): what the skew and the order see. */
static ocr_line *upright_lines(const ocr_result *r, int q, float sx, float sy, float w, float h) {
    ocr_line *up = malloc((r->n ? r->n : 1) * sizeof *up);
    for (size_t i = 0; up && i < r->n; i++) {
        up[i] = r->lines[i];
        for (int k = 0; k < 4; k++) {
            float p[4] = {r->lines[i].quad[k][0] * sx, r->lines[i].quad[k][1] * sy, 0, 0};
            p[2] = p[0], p[3] = p[1];
            ocr_turn_rect(p, q, w, h);
            up[i].quad[k][0] = p[0], up[i].quad[k][1] = p[1];
        }
    }
    return up;
}

q_status ocr_result_to_page(const ocr_result *r, uint32_t page, float width_pt, float height_pt,
                            float pt_per_px_x, float pt_per_px_y, int16_t rotation, float seconds,
                            lay_doc *rec) {
    int q = r->rotation / 90 & 3;
    float uw = q & 1 ? height_pt : width_pt, uh = q & 1 ? width_pt : height_pt;
    int16_t rot = (int16_t)(((rotation + r->rotation) % 360 + 360) % 360);
    float skew = 0;
    float *frame = malloc((r->n ? r->n : 1) * 4 * sizeof *frame);
    ocr_line *up = upright_lines(r, q, pt_per_px_x, pt_per_px_y, width_pt, height_pt);
    q_status st =
        frame && up ? Q_OK : Q_FAIL(Q_ERR_NOMEM, "out of memory ordering %zu lines", r->n);
    if (!st) st = ocr_page_skew(up, r->n, &skew);
    if (!st) st = lay_page_begin(rec, page, width_pt, height_pt, rot);
    for (size_t i = 0; !st && i < r->n; i++) {
        const ocr_line *l = &up[i];
        float bbox[4];
        quad_hull(l->quad, 1, 1, bbox);
        order_box(l->quad, skew, 1, 1, frame + 4 * i);
        /* The quad's own height, not the hull's: a skewed line's hull is taller. */
        float hq = hypotf(l->quad[3][0] - l->quad[0][0], l->quad[3][1] - l->quad[0][1]);
        st = lay_line_add(rec, bbox, l->conf, hq / OCR_BOX_PER_EM, l->text, l->len);
    }
    if (!st) {
        size_t pi = lay_doc_npages(rec) - 1;
        lay_doc_page(rec, pi)->skew_deg = skew;
        st = lay_page_end(rec, LAY_PAGE_OCR, seconds, 0);
        if (!st) st = lay_order_page_in(rec, pi, frame);
    }
    const lay_page *pg = st ? NULL : lay_doc_page(rec, lay_doc_npages(rec) - 1);
    for (uint64_t i = 0; pg && q && i < pg->lines; i++)
        ocr_turn_rect(lay_doc_line(rec, pg->first_line + i)->bbox, 4 - q, uw, uh);
    free(up);
    free(frame);
    return st;
}
