/* Quarter turns of a page: its pixels, points and boxes as they lie once the
 * page is turned clockwise by a multiple of 90 degrees. The orientation step
 * (orient.c) reads a sideways or upside-down page on its turned copy and
 * hands its boxes back in the original image's coordinates. */
#include <string.h>

#include "ocr/ocr_private.h"

q_status ocr_turn_image(const q_image *src, int q, q_image *dst) {
    q &= 3;
    int w = src->w, h = src->h, ch = src->channels;
    int dw = q & 1 ? h : w, dh = q & 1 ? w : h;
    q_status st = q_image_alloc(dst, dw, dh, ch, 0);
    if (st) return st;
    /* Row by row over the source; the destination pixel of (x, y) is
     * ocr_turn_point's. Rotated pages are rare: plain loops are enough. */
    for (int y = 0; y < h; y++) {
        const uint8_t *s = src->px + (size_t)y * src->stride;
        for (int x = 0; x < w; x++, s += ch) {
            int tx = q == 0 ? x : q == 1 ? h - 1 - y : q == 2 ? w - 1 - x : y;
            int ty = q == 0 ? y : q == 1 ? x : q == 2 ? h - 1 - y : w - 1 - x;
            memcpy(dst->px + (size_t)ty * dst->stride + (size_t)tx * ch, s, (size_t)ch);
        }
    }
    return Q_OK;
}

void ocr_turn_point(float p[2], int q, int w, int h) {
    float x = p[0], y = p[1];
    switch (q & 3) {
    case 1:
        p[0] = (float)(h - 1) - y, p[1] = x;
        break;
    case 2:
        p[0] = (float)(w - 1) - x, p[1] = (float)(h - 1) - y;
        break;
    case 3:
        p[0] = y, p[1] = (float)(w - 1) - x;
        break;
    default:
        break;
    }
}

void ocr_box_renumber(ocr_box *b, int q) {
    float old[4][2];
    memcpy(old, b->pt, sizeof old);
    /* turning clockwise by q moves the corner that was k places before to k */
    for (int k = 0; k < 4; k++)
        memcpy(b->pt[k], old[(k - q + 8) & 3], sizeof b->pt[k]);
}

void ocr_turn_box(ocr_box *b, int q, int w, int h) {
    for (int k = 0; k < 4; k++)
        ocr_turn_point(b->pt[k], q, w, h);
    ocr_box_renumber(b, q);
}

void ocr_turn_rect(float r[4], int q, float w, float h) {
    /* continuous coordinates (edges, not pixel centres): a w-wide page's x
     * runs over [0, w] */
    float x0 = r[0], y0 = r[1], x1 = r[2], y1 = r[3];
    switch (q & 3) {
    case 1:
        r[0] = h - y1, r[1] = x0, r[2] = h - y0, r[3] = x1;
        break;
    case 2:
        r[0] = w - x1, r[1] = h - y1, r[2] = w - x0, r[3] = h - y0;
        break;
    case 3:
        r[0] = y0, r[1] = w - x1, r[2] = y1, r[3] = w - x0;
        break;
    default:
        break;
    }
}
