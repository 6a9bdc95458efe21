/* pdflayer.c: one page's invisible text layer as a content stream. Each line
 * is one text object in render mode 3 (neither filled nor stroked), its
 * characters of equal width scaled horizontally to fill the line's box and
 * its font size most of the box's height (PDFL_FILL), centred in it:
 * so pdftotext reads the line and a viewer's search highlights its place. A
 * page quire read turned (rotation) has its lines along the turned
 * direction. */
#include <math.h>

#include "pdf_int.h"

#define PDFL_DESCENT 0.2f /* of the font size, below the baseline (Descent -200) */
/* The share of a line box's height the text takes, centred: an OCR'd line's
 * box reaches past its glyphs (detection's unclip step grows it), by about a
 * tenth of its height each side on generated 300-dpi scans. */
#define PDFL_FILL 0.8f

typedef struct {
    float ux, uy, vx, vy; /* reading direction and glyph "up", page as displayed (y down) */
} pdfl_dir;

/* Direction of text on a page as displayed that was turned `turn` degrees
 * clockwise to be read (README: rotation 90 = text read bottom to top). */
static pdfl_dir pdfl_direction(int turn) {
    switch (turn) {
    case 90:
        return (pdfl_dir){0, -1, -1, 0};
    case 180:
        return (pdfl_dir){-1, 0, 0, 1};
    case 270:
        return (pdfl_dir){0, 1, 1, 0};
    default:
        return (pdfl_dir){1, 0, 0, -1};
    }
}

/* Line box -> baseline start (x, y), length along the text and height. */
static void pdfl_place(const float *b, int turn, float *x, float *y, float *len, float *h) {
    int side = turn == 90 || turn == 270;
    float full = side ? b[2] - b[0] : b[3] - b[1];
    *h = PDFL_FILL * full;
    *len = side ? b[3] - b[1] : b[2] - b[0];
    /* from the box's edge to the baseline: the margin, then the descent */
    float dsc = (1.0f - PDFL_FILL) / 2.0f * full + PDFL_DESCENT * *h;
    switch (turn) {
    case 90:
        *x = b[2] - dsc, *y = b[3];
        break;
    case 180:
        *x = b[2], *y = b[1] + dsc;
        break;
    case 270:
        *x = b[0] + dsc, *y = b[1];
        break;
    default:
        *x = b[0], *y = b[3] - dsc;
        break;
    }
}

static q_status pdfl_line(const lay_doc *d, const lay_line *l, const pdfl_dir *dir, int turn,
                          const pdffont_map *m, q_buf *hex, q_buf *out) {
    const float *b = l->bbox;
    if (!isfinite(b[0]) || !isfinite(b[1]) || !isfinite(b[2]) || !isfinite(b[3])) return Q_OK;
    float x, y, len, h;
    pdfl_place(b, turn, &x, &y, &len, &h);
    size_t chars;
    q_buf_clear(hex);
    q_status st = pdffont_hex(m, export_line_text(d, l), l->text_len, hex, &chars);
    if (st || !chars || h <= 0.01f || len <= 0.01f) return st;
    float hs = len / ((float)chars * pdffont_advance() * h); /* horizontal scale */
    return q_buf_printf(out, "%.4f %.4f %.4f %.4f %.3f %.3f Tm %s Tj\n", (double)(dir->ux * h * hs),
                        (double)(dir->uy * h * hs), (double)(dir->vx * h), (double)(dir->vy * h),
                        (double)x, (double)y, hex->data);
}

q_status pdf_text_layer(const lay_doc *d, size_t i, fz_matrix disp, int turn, const char *font,
                        const pdffont_map *m, q_buf *out) {
    size_t first, n;
    export_page_lines(d, i, &first, &n);
    if (!n) return Q_OK;
    pdfl_dir dir = pdfl_direction(turn);
    q_buf hex = {0};
    q_status st = q_buf_printf(out, "q\n%.6f %.6f %.6f %.6f %.4f %.4f cm\nBT\n3 Tr\n/%s 1 Tf\n",
                               (double)disp.a, (double)disp.b, (double)disp.c, (double)disp.d,
                               (double)disp.e, (double)disp.f, font);
    for (size_t k = first; k < first + n && !st; k++)
        st = pdfl_line(d, &Q_VEC_AT(&d->line_v, lay_line, k), &dir, turn, m, &hex, out);
    if (!st) st = q_buf_puts(out, "ET\nQ\n");
    q_buf_free(&hex);
    return st;
}
