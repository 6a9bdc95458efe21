/* skew: a page's skew from the lines the detector found. DB post-processing
 * gives each line as a minimum-area rectangle, so each long box's direction
 * is a measurement of the page's angle; their length-weighted median, then
 * the weighted mean of the boxes that agree with it, is the estimate. A few
 * words or a rule at another angle (a stamp, a table border) do not move it. */
#include <math.h>
#include <stdlib.h>

#include "ocr/ocr_private.h"

/* A box is a measurement when it is at least this many times as long as it is
 * high: a short word's rectangle hugs its blob, whose angle says little. */
#define SKEW_MIN_ASPECT 2.5
/* Boxes steeper than this are not text lines of the page's skew (vertical
 * text, a sideways page, a rotated stamp); scans are skewed by a few degrees. */
#define SKEW_MAX_DEG 15.0
/* Boxes within this many degrees of the median are averaged: the rectangle of
 * a line is found on the detection map (about a third of a 300-dpi page's
 * resolution), so a short line's angle is off by up to a few tenths. */
#define SKEW_INLIER_DEG 1.0
/* Fewer line-like boxes than this measure no skew (0): one caption or rule at
 * an angle must not turn the frame the rest of a sparse page is ordered in. */
#define SKEW_MIN_BOXES 3

typedef struct {
    double deg, w;
} skew_obs;

static int skew_cmp(const void *pa, const void *pb) {
    const skew_obs *a = pa, *b = pb;
    return a->deg < b->deg ? -1 : a->deg > b->deg;
}

/* The direction of line l's long sides (top and bottom edges together), in
 * degrees counter-clockwise on the page (y grows down), and its length; 0
 * when the box is not line-like. */
static double line_angle(const ocr_line *l, double *deg) {
    const float(*q)[2] = l->quad;
    double dx = (q[1][0] - q[0][0]) + (q[2][0] - q[3][0]);
    double dy = (q[1][1] - q[0][1]) + (q[2][1] - q[3][1]);
    double len = hypot(dx, dy) / 2;
    double h = (hypot(q[3][0] - q[0][0], q[3][1] - q[0][1]) +
                hypot(q[2][0] - q[1][0], q[2][1] - q[1][1])) /
               2;
    if (!(len > 0) || !(len >= SKEW_MIN_ASPECT * h)) return 0; /* NaN corners too */
    *deg = atan2(-dy, dx) * (180.0 / 3.14159265358979323846);
    return fabs(*deg) <= SKEW_MAX_DEG ? len : 0;
}

q_status ocr_page_skew(const ocr_line *lines, size_t n, float *deg) {
    *deg = 0.0f;
    if (n == 0) return Q_OK;
    skew_obs *o = malloc(n * sizeof *o);
    if (!o) return Q_FAIL(Q_ERR_NOMEM, "out of memory estimating the skew of %zu lines", n);
    size_t k = 0;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        double a = 0, w = line_angle(&lines[i], &a);
        if (w > 0) o[k++] = (skew_obs){a, w}, total += w;
    }
    if (k >= SKEW_MIN_BOXES) {
        qsort(o, k, sizeof *o, skew_cmp);
        /* the weighted median: where half the length is reached */
        size_t m = 0;
        for (double acc = o[0].w; acc < total / 2 && m + 1 < k; acc += o[++m].w) {
        }
        double med = o[m].deg, sw = 0, sa = 0;
        for (size_t i = 0; i < k; i++)
            if (fabs(o[i].deg - med) <= SKEW_INLIER_DEG) sw += o[i].w, sa += o[i].w * o[i].deg;
        *deg = (float)(sa / sw); /* sw > 0: the median itself is an inlier */
    }
    free(o);
    return Q_OK;
}
