/* DB boxes of tilted text whose rectangle takes in white (dbpost.c's rescue
 * by the contour score, dbscore.c): a long, thin band at a page's skew is
 * kept, as a large title's kernel on a page scanned 3 degrees askew must be;
 * an axis-aligned band scoring the same stays dropped (PaddleOCR's boxes on
 * upright pages unchanged), and so does a tilted blob off the page's skew. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/dbscore.h"
#include "ocr/ocr_private.h"
#include "ocr_test.h"

enum { W = 640, H = 240 };
#define PI 3.14159265358979323846

/* A band from x0 to x1 whose centre line starts at y0 and rises at `deg`
 * degrees counter-clockwise (y down), `thick` pixels thick, its centre
 * wavering by `wave` pixels over a period of 80: the probability map of a
 * line of text at a skew as DB gives it (the title of a skewed page: a
 * kernel 6 rows thick that wavers by a pixel or two along its length). */
static void band(float *m, int x0, int x1, double y0, double deg, double thick, double wave,
                 float v) {
    double t = tan(deg * PI / 180);
    for (int x = x0; x <= x1; x++) {
        double yc = y0 - (x - x0) * t + wave * sin(2 * PI * x / 80.0);
        for (int y = 0; y < H; y++)
            if (fabs(y - yc) <= thick / 2) m[(size_t)y * W + x] = v;
    }
}

static ocr_box *boxes(const float *m, size_t *n) {
    ocr_db_params p;
    ocr_db_params_default(&p);
    ocr_box *b = NULL;
    if (ocr_db_boxes(m, W, H, W, H, &p, &b, n) != Q_OK) {
        fprintf(stderr, "ocr_db_boxes: %s\n", q_errmsg());
        failures++;
        *n = 0;
    }
    return b;
}

/* Whether a box's centre lies within 6 px of (x, y). */
static int has_box_at(const ocr_box *b, size_t n, double x, double y) {
    for (size_t i = 0; i < n; i++) {
        double cx = 0, cy = 0;
        for (int k = 0; k < 4; k++)
            cx += b[i].pt[k][0] / 4, cy += b[i].pt[k][1] / 4;
        if (fabs(cx - x) <= 6 && fabs(cy - y) <= 6) return 1;
    }
    return 0;
}

/* The boxes of a map holding a title band (5 rows thick, wavering 1.5 px,
 * from x = 40 to tx1, at ty and tdeg degrees) over three straight body lines
 * (12 rows thick, 30 px apart from by, at bdeg degrees, x = 40 to 600). */
static ocr_box *title_over_body(int tx1, double ty, double tdeg, double by, double bdeg,
                                size_t *n) {
    float *m = map_new(W, H);
    band(m, 40, tx1, ty, tdeg, 5, 1.5, 0.9f);
    for (int i = 0; i < 3; i++)
        band(m, 40, 600, by + 30 * i, bdeg, 12, 0, 0.9f);
    ocr_box *b = boxes(m, n);
    free(m);
    return b;
}

/* Three body lines at 3 degrees (thick, straight: their rectangles score
 * 0.9 x 13/14 or so) give the page's skew; the title band above, 5 rows
 * thick, wavering 1.5 px, at the same angle, covers little more than half
 * of its rectangle: PaddleOCR's fast score is under 0.6, its contour's mean
 * is 0.9. It is kept, with the contour's score. */
static void test_thin_tilted_title_is_kept(void) {
    size_t n;
    ocr_box *b = title_over_body(600, 80, 3, 130, 3, &n);
    CHECK(n == 4);
    double yc = 80 - 280 * tan(3 * PI / 180); /* the title's centre at x = 320 */
    CHECK(has_box_at(b, n, 320, yc));
    for (size_t i = 0; i < n; i++)
        CHECK(b[i].score >= 0.6f && b[i].score <= 0.91f);
    free(b);
}

/* The same title drawn level (its waver makes its rectangle as white) on a
 * level page: PaddleOCR drops it, and so does quire. */
static void test_level_band_scores_as_paddleocr(void) {
    size_t n;
    ocr_box *b = title_over_body(600, 60, 0, 110, 0, &n);
    CHECK(n == 3);
    CHECK(!has_box_at(b, n, 320, 60));
    free(b);
}

/* A wavering band at 12 degrees on a page skewed 3 degrees is no line of the
 * page: not rescued. */
static void test_band_off_the_page_skew_is_dropped(void) {
    size_t n;
    ocr_box *b = title_over_body(400, 100, 12, 130, 3, &n);
    CHECK(n == 3);
    free(b);
}

/* A page with the title alone (no body lines to measure the skew by): no
 * rescue, PaddleOCR's result (nothing). */
static void test_no_skew_no_rescue(void) {
    float *m = map_new(W, H);
    band(m, 40, 600, 80, 3, 5, 1.5, 0.9f);
    size_t n;
    ocr_box *b = boxes(m, &n);
    CHECK(n == 0 && b == NULL);
    free(b);
    free(m);
}

/* The contour mean: a square's border and inside; a triangle's inside by the
 * even-odd rule; a point off the map is a usage error. */
static void test_contour_mean(void) {
    float m[64];
    for (int i = 0; i < 64; i++)
        m[i] = (float)i;
    ocr_db_scratch s = {0};
    double mean = -1;
    const geom_pt sq[4] = {{1, 1}, {3, 1}, {3, 3}, {1, 3}};
    CHECK(ocr_db_contour_mean(m, 8, 8, sq, 4, &s, &mean) == Q_OK);
    /* rows 1..3, columns 1..3 of an 8-wide map: centre 2 + 8 * 2 = 18 */
    CHECK(fabs(mean - 18.0) < 1e-9);
    /* right triangle (0,0) (4,0) (0,4): the 15 pixels x + y <= 4 */
    const geom_pt tri[3] = {{0, 0}, {4, 0}, {0, 4}};
    CHECK(ocr_db_contour_mean(m, 8, 8, tri, 3, &s, &mean) == Q_OK);
    double sum = 0;
    for (int y = 0; y <= 4; y++)
        for (int x = 0; x + y <= 4; x++)
            sum += 8 * y + x;
    CHECK(fabs(mean - sum / 15) < 1e-9);
    CHECK(ocr_db_contour_mean(m, 8, 8, sq, 0, &s, &mean) == Q_OK && mean == 0);
    const geom_pt off[3] = {{0, 0}, {8, 0}, {0, 4}};
    CHECK(ocr_db_contour_mean(m, 8, 8, off, 3, &s, &mean) == Q_ERR_USAGE);
    ocr_db_scratch_free(&s);
    CHECK(s.mem == NULL && s.cap == 0);
}

int main(void) {
    test_thin_tilted_title_is_kept();
    test_level_band_scores_as_paddleocr();
    test_band_off_the_page_skew_is_dropped();
    test_no_skew_no_rescue();
    test_contour_mean();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("ocr_dbscore: all passed\n");
    return 0;
}
