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

/* Rows y that edge a-b crosses: half-open in y, so that a vertex between two
 * edges counts once. */
static int edge_rows(geom_pt a, geom_pt b, int *lo, int *hi) {
    if (a.y == b.y) return 0;
    *lo = a.y < b.y ? a.y : b.y;
    *hi = a.y < b.y ? b.y : a.y; /* exclusive */
    return 1;
}

/* Marks the interior of the polygon (even-odd rule: between an entering and
 * a leaving edge on each row) from an edge table, so that the work is the
 * rows each edge crosses, not edges times rows (a long noisy contour).
 * start holds ch + 1 ints; xs one per row an edge crosses (counted first). */
static void mark_interior(unsigned char *mask, int cw, int ch, const geom_pt *p, size_t n,
                          size_t *start, int *xs) {
    memset(start, 0, (size_t)(ch + 1) * sizeof *start);
    for (size_t i = 0; i < n; i++) {
        int lo, hi;
        if (edge_rows(p[i], p[(i + 1) % n], &lo, &hi))
            for (int y = lo; y < hi; y++)
                start[y + 1]++;
    }
    for (int y = 0; y < ch; y++)
        start[y + 1] += start[y];
    size_t *fill = start + ch + 1; /* ch more: where each row's next x goes */
    memcpy(fill, start, (size_t)ch * sizeof *fill);
    for (size_t i = 0; i < n; i++) {
        geom_pt a = p[i], b = p[(i + 1) % n];
        int lo, hi;
        if (!edge_rows(a, b, &lo, &hi)) continue;
        for (int y = lo; y < hi; y++) {
            double t = (double)(y - a.y) / (double)(b.y - a.y);
            xs[fill[y]++] = (int)(a.x + t * (b.x - a.x)); /* in [0, cw) */
        }
    }
    for (int y = 0; y < ch; y++) {
        size_t k0 = start[y], k = start[y + 1] - k0;
        qsort(xs + k0, k, sizeof *xs, cmp_int);
        for (size_t i = 0; i + 1 < k; i += 2)
            memset(mask + (size_t)y * (size_t)cw + (size_t)xs[k0 + i], 1,
                   (size_t)(xs[k0 + i + 1] - xs[k0 + i] + 1));
    }
}

/* The crossings of the polygon's edges with the rows (the edge table's size). */
static size_t crossings(const geom_pt *p, size_t n) {
    size_t t = 0;
    for (size_t i = 0; i < n; i++) {
        int lo, hi;
        if (edge_rows(p[i], p[(i + 1) % n], &lo, &hi)) t += (size_t)(hi - lo);
    }
    return t;
}

static q_status reserve(ocr_db_scratch *s, size_t need) {
    if (need <= s->cap) return Q_OK;
    void *m = realloc(s->mem, need);
    if (!m) return Q_FAIL(Q_ERR_NOMEM, "out of memory scoring a contour (%zu bytes)", need);
    s->mem = m;
    s->cap = need;
    return Q_OK;
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
    /* laid out largest alignment first: points, row starts, crossings, mask */
    size_t cells = (size_t)cw * (size_t)ch, nx = crossings(pts, n);
    size_t need = n * sizeof(geom_pt) + (2 * (size_t)ch + 1) * sizeof(size_t) + nx * sizeof(int);
    q_status st = reserve(s, need + cells);
    if (st) return st;
    geom_pt *local = (geom_pt *)s->mem;
    size_t *start = (size_t *)(local + n);
    int *xs = (int *)(start + 2 * (size_t)ch + 1);
    unsigned char *mask = (unsigned char *)(xs + nx);
    for (size_t i = 0; i < n; i++)
        local[i] = (geom_pt){pts[i].x - x0, pts[i].y - y0};
    memset(mask, 0, cells);
    for (size_t i = 0; i < n; i++)
        mark_segment(mask, cw, local[i], local[(i + 1) % n]);
    mark_interior(mask, cw, ch, local, n, start, xs);
    *mean = geom_mask_mean(prob, map_w, x0, y0, cw, ch, mask);
    return Q_OK;
}

void ocr_db_scratch_free(ocr_db_scratch *s) {
    free(s->mem);
    memset(s, 0, sizeof *s);
}
