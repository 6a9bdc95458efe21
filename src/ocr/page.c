/* An OCR'd image into the document record: boxes from image pixels to page
 * points, then the same block grouping and reading order as text-layer
 * pages (lay_order_page), so both routes give the same kind of output. */
#include <math.h>

#include "ocr/ocr_private.h"

/* Detector boxes are grown by the unclip step, so a box is taller than the
 * glyphs' font size; the layout's em-based gaps expect font sizes. */
#define OCR_BOX_PER_EM 1.5f

q_status ocr_result_to_page(const ocr_result *r, uint32_t page, float width_pt, float height_pt,
                            float pt_per_px_x, float pt_per_px_y, int16_t rotation, float seconds,
                            lay_doc *rec) {
    /* A page read turned (r->rotation): its lines are put in reading order
     * on the page turned upright, then their boxes turned back. */
    int q = r->rotation / 90 & 3;
    float uw = q & 1 ? height_pt : width_pt, uh = q & 1 ? width_pt : height_pt;
    int16_t rot = (int16_t)(((rotation + r->rotation) % 360 + 360) % 360);
    q_status st = lay_page_begin(rec, page, width_pt, height_pt, rot);
    for (size_t i = 0; !st && i < r->n; i++) {
        const ocr_line *l = &r->lines[i];
        float x0 = l->quad[0][0], y0 = l->quad[0][1], x1 = x0, y1 = y0;
        for (int k = 1; k < 4; k++) {
            x0 = fminf(x0, l->quad[k][0]);
            x1 = fmaxf(x1, l->quad[k][0]);
            y0 = fminf(y0, l->quad[k][1]);
            y1 = fmaxf(y1, l->quad[k][1]);
        }
        float bbox[4] = {x0 * pt_per_px_x, y0 * pt_per_px_y, x1 * pt_per_px_x, y1 * pt_per_px_y};
        ocr_turn_rect(bbox, q, width_pt, height_pt);
        /* The quad's own height, not the hull's: a skewed line's hull is taller. */
        float h = hypotf((l->quad[3][0] - l->quad[0][0]) * pt_per_px_x,
                         (l->quad[3][1] - l->quad[0][1]) * pt_per_px_y);
        float size = h / OCR_BOX_PER_EM;
        st = lay_line_add(rec, bbox, l->conf, size, l->text, l->len);
    }
    if (!st) st = lay_page_end(rec, LAY_PAGE_OCR, seconds, 1);
    const lay_page *pg = st ? NULL : lay_doc_page(rec, lay_doc_npages(rec) - 1);
    for (uint64_t i = 0; pg && q && i < pg->lines; i++)
        ocr_turn_rect(lay_doc_line(rec, pg->first_line + i)->bbox, 4 - q, uw, uh);
    return st;
}
