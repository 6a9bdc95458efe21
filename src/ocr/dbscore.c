/* dbscore: the mean probability inside a contour (PaddleOCR's score_mode
 * "slow"), which dbpost.c uses where the box's rectangle measures the
 * rectangle's geometry more than the detector's confidence. */
#include <stdlib.h>
#include <string.h>

#include "ocr/dbscore.h"
#include "ocr/ocr_private.h"

/* Marks the pixels of the segment a-b (Bresenham, both ends) on the mask. */
static void mark_segment(unsigned char *mask, int cw, geom_pt a, geom_pt b) {
    int dx = abs(b.x - a.x), dy = -abs(b.y - a.y);
    int sx = a.x < b.x ? 1 : -1, sy = a.y < b.y ? 1 : -1, err = dx + dy;
    for (;;) {
        mask[(size_t)a.y * (size_t)cw + (size_t)a.x] = 1;
        if (a.x == b.x && a.y == b.y) return;
        int e2 = 2 * err;
        if (e2 >= dy) err += dy, a.x += sx;
        if (e2 <= dx) err += dx, a.y += sy;
    }
}

static int cmp_int(const void *pa, const void *pb) {
    int a = *(const int *)pa, b = *(const int *)pb;
    return (a > b) - (a < b);
}

/* Marks the interior of the polygon (even-odd rule, pixel centres on the row
 * between an entering and a leaving edge) row by row; xs holds n ints. */
static void mark_interior(unsigned char *mask, int cw, int ch, const geom_pt *p, size_t n,
                          int *xs) {
    for (int y = 0; y < ch; y++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            geom_pt a = p[i], b = p[(i + 1) % n];
            /* half-open in y: a vertex between two edges counts once */
            if ((a.y <= y) == (b.y <= y)) continue;
            /* the crossing's x, rounded towards the inside by the fill below
             * (the border itself is marked by mark_segment) */
            double t = (double)(y - a.y) / (double)(b.y - a.y);
            xs[k++] = (int)(a.x + t * (b.x - a.x));
        }
        qsort(xs, k, sizeof *xs, cmp_int);
        for (size_t i = 0; i + 1 < k; i += 2)
            memset(mask + (size_t)y * (size_t)cw + (size_t)xs[i], 1,
                   (size_t)(xs[i + 1] - xs[i] + 1));
    }
}

q_status ocr_db_contour_mean(const float *prob, int map_w, int map_h, const geom_pt *pts, size_t n,
                             ocr_db_scratch *s, double *mean) {
    *mean = 0;
    if (n == 0) return Q_OK;
    int x0 = pts[0].x, x1 = x0, y0 = pts[0].y, y1 = y0;
    for (size_t i = 1; i < n; i++) {
        x0 = Q_MIN(x0, pts[i].x), x1 = Q_MAX(x1, pts[i].x);
        y0 = Q_MIN(y0, pts[i].y), y1 = Q_MAX(y1, pts[i].y);
    }
    /* a contour of the map lies on it: its points are pixels of the map */
    if (x0 < 0 || y0 < 0 || x1 >= map_w || y1 >= map_h)
        return Q_FAIL(Q_ERR_USAGE, "ocr_db_contour_mean: contour off the %dx%d map", map_w, map_h);
    int cw = x1 - x0 + 1, ch = y1 - y0 + 1;
    size_t cells = (size_t)cw * (size_t)ch, need = cells + n * (sizeof(int) + sizeof(geom_pt));
    if (need > s->cap) {
        void *m = realloc(s->mem, need);
        if (!m) return Q_FAIL(Q_ERR_NOMEM, "out of memory scoring a contour of %zu points", n);
        s->mem = m;
        s->cap = need;
    }
    geom_pt *local = (geom_pt *)s->mem;
    int *xs = (int *)(local + n);
    unsigned char *mask = (unsigned char *)(xs + n);
    for (size_t i = 0; i < n; i++)
        local[i] = (geom_pt){pts[i].x - x0, pts[i].y - y0};
    memset(mask, 0, cells);
    for (size_t i = 0; i < n; i++)
        mark_segment(mask, cw, local[i], local[(i + 1) % n]);
    mark_interior(mask, cw, ch, local, n, xs);
    double sum = 0;
    size_t count = 0;
    for (int y = 0; y < ch; y++) {
        const float *row = prob + (size_t)(y0 + y) * (size_t)map_w + x0;
        const unsigned char *mrow = mask + (size_t)y * (size_t)cw;
        for (int x = 0; x < cw; x++)
            if (mrow[x]) sum += row[x], count++;
    }
    *mean = count ? sum / (double)count : 0.0;
    return Q_OK;
}

void ocr_db_scratch_free(ocr_db_scratch *s) {
    free(s->mem);
    memset(s, 0, sizeof *s);
}
