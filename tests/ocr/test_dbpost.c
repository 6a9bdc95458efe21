/* DB post-processing on hand-made probability maps whose boxes are worked out
 * by hand below (PaddleOCR 2.7's arithmetic), and the geometry under it:
 * minimum-area rectangles, hulls, contours, rounded offsets. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/geom.h"
#include "ocr/ocr_private.h"
#include "ocr_test.h"

/* ---- helpers ---------------------------------------------------------------- */
/* Sets pixels x0..x1, y0..y1 (inclusive) to v. */
static void map_rect(float *m, int w, int x0, int y0, int x1, int y1, float v) {
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            m[(size_t)y * (size_t)w + x] = v;
}

static ocr_box *detect(const float *m, int w, int h, int pw, int ph, size_t *n) {
    ocr_db_params p;
    ocr_db_params_default(&p);
    ocr_box *b = NULL;
    q_status st = ocr_db_boxes(m, w, h, pw, ph, &p, &b, n);
    if (st != Q_OK) {
        fprintf(stderr, "ocr_db_boxes: %s\n", q_errmsg());
        failures++;
        *n = 0;
    }
    return b;
}

/* The box is exactly the axis-aligned rectangle x0..x1, y0..y1, corners
 * clockwise from top-left. */
static int box_is(const ocr_box *b, int x0, int y0, int x1, int y1) {
    const float want[4][2] = {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
    for (int k = 0; k < 4; k++)
        if (b->pt[k][0] != want[k][0] || b->pt[k][1] != want[k][1]) {
            fprintf(stderr, "  box (%g,%g) (%g,%g) (%g,%g) (%g,%g), want (%d,%d)-(%d,%d)\n",
                    b->pt[0][0], b->pt[0][1], b->pt[1][0], b->pt[1][1], b->pt[2][0], b->pt[2][1],
                    b->pt[3][0], b->pt[3][1], x0, y0, x1, y1);
            return 0;
        }
    return 1;
}

/* ---- the pipeline on hand-made maps ----------------------------------------- */

/* Pixels x 10..39, y 8..15 at 0.9 on a 64x32 map, page 128x64.
 * Contour hull (10,8) (39,8) (39,15) (10,15): mini box 29 x 7, short side
 * 7 >= 3; score = 0.9 (the fill covers exactly the blob) >= 0.6.
 * Unclip: D = 29*7*1.5 / (2*(29+7)) = 304.5/72 = 4.229; Clipper rounds each
 * offset vertex: 10-4.229 -> 6, 39+4.229 -> 43, 8-4.229 -> 4, 15+4.229 -> 19
 * (arc points round inside), so the min-area rectangle is x 6..43, y 4..19
 * (short side 15 >= 5). Page x2: x 12..86, y 8..38. */
static void test_axis_aligned_rectangle(void) {
    float *m = map_new(64, 32);
    map_rect(m, 64, 10, 8, 39, 15, 0.9f);
    size_t n;
    ocr_box *b = detect(m, 64, 32, 128, 64, &n);
    CHECK(n == 1);
    if (n == 1) {
        CHECK(box_is(&b[0], 12, 8, 86, 38));
        CHECK(fabsf(b[0].score - 0.9f) < 1e-6f);
    }
    free(b);
    free(m);
}

/* The same map on a 100x50 page: x * 100/64 and y * 50/32 of the map box
 * x 6..43, y 4..19: 9.375 -> 9, 67.1875 -> 67, 6.25 -> 6, 29.6875 -> 30. */
static void test_scaled_to_page_of_other_size(void) {
    float *m = map_new(64, 32);
    map_rect(m, 64, 10, 8, 39, 15, 0.9f);
    size_t n;
    ocr_box *b = detect(m, 64, 32, 100, 50, &n);
    CHECK(n == 1);
    if (n == 1) CHECK(box_is(&b[0], 9, 6, 67, 30));
    free(b);
    free(m);
}

/* Pixels with 100 <= 2x + y <= 160 and 0 <= 2y - x <= 20: a rectangle turned
 * atan(1/2) = 26.57 degrees whose corners are pixels: (40,20) (64,32) (60,40)
 * (36,28); sides 12*sqrt(5) and 4*sqrt(5), area 240, perimeter 32*sqrt(5).
 * D = 240*1.5 / (32*sqrt(5)) = 2.25*sqrt(5): each corner moves 2.25 along
 * both unit normals (2,1)/sqrt(5) and (-1,2)/sqrt(5): (37.75,13.25)
 * (70.75,29.75) (62.25,46.75) (29.25,30.25). PaddleOCR truncates the float
 * corners before the offset and rounds the offset's vertices and the page
 * box, so each corner may move by up to one pixel from there. */
static void test_rotated_rectangle(void) {
    float *m = map_new(80, 80);
    for (int y = 0; y < 80; y++)
        for (int x = 0; x < 80; x++) {
            int u = 2 * x + y, v = 2 * y - x;
            if (u >= 100 && u <= 160 && v >= 0 && v <= 20) m[y * 80 + x] = 0.8f;
        }
    size_t n;
    ocr_box *b = detect(m, 80, 80, 80, 80, &n);
    CHECK(n == 1);
    if (n == 1) {
        const float want[4][2] = {
            {37.75f, 13.25f}, {70.75f, 29.75f}, {62.25f, 46.75f}, {29.25f, 30.25f}};
        for (int k = 0; k < 4; k++) {
            float dx = b[0].pt[k][0] - want[k][0], dy = b[0].pt[k][1] - want[k][1];
            if (!(fabsf(dx) <= 1.0f && fabsf(dy) <= 1.0f))
                fprintf(stderr, "  corner %d (%g,%g), want (%g,%g)\n", k, b[0].pt[k][0],
                        b[0].pt[k][1], want[k][0], want[k][1]);
            CHECK(fabsf(dx) <= 1.0f && fabsf(dy) <= 1.0f);
        }
        double angle = atan2(b[0].pt[1][1] - b[0].pt[0][1], b[0].pt[1][0] - b[0].pt[0][0]);
        CHECK(fabs(angle * 180 / 3.14159265358979 - 26.565) < 2.0);
        CHECK(fabsf(b[0].score - 0.8f) < 0.05f);
    }
    free(b);
    free(m);
}

/* Four 36x6-pixel lines, two columns: A x 5..40 y 12..17, B x 55..90 y
 * 10..15, C x 5..40 y 40..45, D x 55..90 y 42..47. Mini box 35 x 5,
 * D = 35*5*1.5/80 = 3.28: tops A 9, B 7, C 37, D 39; lefts 2 and 52.
 * By (top, left): B A C D; the pass swaps A before B (|9-7| < 10, A further
 * left) and leaves C D: reading order A B C D. */
static void test_two_columns_in_reading_order(void) {
    float *m = map_new(100, 60);
    map_rect(m, 100, 5, 12, 40, 17, 0.9f);
    map_rect(m, 100, 55, 10, 90, 15, 0.9f);
    map_rect(m, 100, 5, 40, 40, 45, 0.9f);
    map_rect(m, 100, 55, 42, 90, 47, 0.9f);
    size_t n;
    ocr_box *b = detect(m, 100, 60, 100, 60, &n);
    CHECK(n == 4);
    if (n == 4) {
        const int want[4][2] = {{2, 9}, {52, 7}, {2, 37}, {52, 39}};
        for (int k = 0; k < 4; k++) {
            CHECK(b[k].pt[0][0] == want[k][0]);
            CHECK(b[k].pt[0][1] == want[k][1]);
        }
    }
    free(b);
    free(m);
}

static ocr_box box_at(float x, float y, float score) {
    ocr_box b = {{{x, y}, {x + 20, y}, {x + 20, y + 8}, {x, y + 8}}, score};
    return b;
}

/* sorted_boxes is one bubbling pass, not a sort: (0,12) is 7 px below (50,5)
 * and further left, yet stays last because its left neighbour after the
 * sort, (100,0), is 12 px above it. */
static void test_sort_is_paddleocr_single_pass(void) {
    ocr_box b[3] = {box_at(0, 12, 0), box_at(100, 0, 0), box_at(50, 5, 0)};
    ocr_boxes_sort(b, 3);
    CHECK(b[0].pt[0][0] == 50 && b[0].pt[0][1] == 5);
    CHECK(b[1].pt[0][0] == 100 && b[1].pt[0][1] == 0);
    CHECK(b[2].pt[0][0] == 0 && b[2].pt[0][1] == 12);
}

/* Python's sorted is stable: boxes with the same top-left keep their order. */
static void test_sort_keeps_equal_boxes_in_order(void) {
    ocr_box b[5] = {box_at(10, 30, 1), box_at(5, 5, 2), box_at(10, 30, 3), box_at(5, 5, 4),
                    box_at(10, 30, 5)};
    ocr_boxes_sort(b, 5);
    const float want[5] = {2, 4, 1, 3, 5};
    for (int k = 0; k < 5; k++)
        CHECK(b[k].score == want[k]);
    ocr_boxes_sort(NULL, 0);
    ocr_boxes_sort(b, 1);
}

/* 0.5 is above thresh (0.3) so the blob has a contour, but its mean is below
 * box_thresh (0.6); 0.61 passes. */
static void test_blob_below_box_thresh_dropped(void) {
    float *m = map_new(64, 32);
    map_rect(m, 64, 10, 8, 39, 15, 0.5f);
    size_t n;
    ocr_box *b = detect(m, 64, 32, 64, 32, &n);
    CHECK(n == 0 && b == NULL);
    free(b);
    map_rect(m, 64, 10, 8, 39, 15, 0.61f);
    b = detect(m, 64, 32, 64, 32, &n);
    CHECK(n == 1);
    free(b);
    free(m);
}

/* Rows of 3 pixels span 2 between pixel centres: short side 2 < min_size 3.
 * Four rows give 3, and after unclip (D = 29*3*1.5/64 = 2.04, rounded to 2
 * per side) 7 >= 5: kept. */
static void test_tiny_blob_dropped_by_min_size(void) {
    float *m = map_new(64, 32);
    map_rect(m, 64, 10, 2, 39, 3, 0.9f);   /* 30 x 2 */
    map_rect(m, 64, 10, 10, 39, 12, 0.9f); /* 30 x 3 */
    map_rect(m, 64, 50, 20, 51, 21, 0.9f); /* 2 x 2 */
    size_t n;
    ocr_box *b = detect(m, 64, 32, 64, 32, &n);
    CHECK(n == 0);
    free(b);
    map_rect(m, 64, 10, 20, 39, 23, 0.9f); /* 30 x 4 */
    b = detect(m, 64, 32, 64, 32, &n);
    CHECK(n == 1);
    if (n == 1) CHECK(box_is(&b[0], 8, 18, 41, 25));
    free(b);
    free(m);
}

/* Blobs in the top-left and bottom-right corners of a 64x32 map: hulls
 * 19 x 5, D = 95*1.5/48 = 2.97, rounded away from zero to 3:
 * x -3..22 y -3..8 and x 41..66 y 23..34, clipped to the page (0..64,
 * 0..32) and then to its last pixel (63, 31). */
static void test_blob_touching_map_border(void) {
    float *m = map_new(64, 32);
    map_rect(m, 64, 0, 0, 19, 5, 0.9f);
    map_rect(m, 64, 44, 26, 63, 31, 0.9f);
    size_t n;
    ocr_box *b = detect(m, 64, 32, 64, 32, &n);
    CHECK(n == 2);
    if (n == 2) {
        CHECK(box_is(&b[0], 0, 0, 22, 8));
        CHECK(box_is(&b[1], 41, 23, 63, 31));
    }
    free(b);
    free(m);
}

static void test_empty_map_gives_no_boxes(void) {
    float *m = map_new(64, 32);
    size_t n = 7;
    ocr_box *b = detect(m, 64, 32, 640, 320, &n);
    CHECK(n == 0 && b == NULL);
    free(m);
}

/* One border, the map's: 63 x 31, D = 63*31*1.5/188 = 15.58 -> x -16..79,
 * y -16..47, clipped to the page's last pixel. */
static void test_all_ones_map_gives_the_page(void) {
    float *m = map_new(64, 32);
    map_rect(m, 64, 0, 0, 63, 31, 1.0f);
    size_t n;
    ocr_box *b = detect(m, 64, 32, 64, 32, &n);
    CHECK(n == 1);
    if (n == 1) {
        CHECK(box_is(&b[0], 0, 0, 63, 31));
        CHECK(b[0].score == 1.0f);
    }
    free(b);
    free(m);
}

/* RETR_LIST, as PaddleOCR asks: a hole's border is a contour too. Blob x
 * 10..40 y 5..20 at 1.0 with a hole x 20..22 y 10..12 at 0. The hole's
 * border pixels span x 19..23 y 9..13 (4 x 4; the 45-degree rectangle would
 * have area 18 > 16); its score is 16 ones of 25 = 0.64 >= 0.6. D = 16*1.5/16
 * = 1.5: 17.5 -> 18, 24.5 -> 25, 7.5 -> 8, 14.5 -> 15. The outer border: 30
 * x 15, D = 7.5: x 3..48, y -3..28 -> 0..28. */
static void test_hole_border_is_a_candidate(void) {
    float *m = map_new(64, 32);
    map_rect(m, 64, 10, 5, 40, 20, 1.0f);
    map_rect(m, 64, 20, 10, 22, 12, 0.0f);
    size_t n;
    ocr_box *b = detect(m, 64, 32, 64, 32, &n);
    CHECK(n == 2);
    if (n == 2) {
        CHECK(box_is(&b[0], 3, 0, 48, 28));
        CHECK(box_is(&b[1], 18, 8, 25, 15));
        CHECK(fabsf(b[1].score - 0.64f) < 1e-6f);
    }
    free(b);
    free(m);
}

static uint32_t rng_state = 12345;
static float rnd(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)(rng_state >> 8) / 16777216.0f;
}

static void check_inside_page(const ocr_box *b, size_t n, int pw, int ph) {
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++) {
            CHECK(b[i].pt[k][0] >= 0 && b[i].pt[k][0] <= pw - 1);
            CHECK(b[i].pt[k][1] >= 0 && b[i].pt[k][1] <= ph - 1);
        }
}

/* Uniform noise on the largest map the detector makes (and then some): about
 * a million contours; memory stays bounded and it returns in seconds. */
static void test_random_noise_finishes(void) {
    const int w = 2000, h = 2000;
    float *m = map_new(w, h);
    for (size_t i = 0; i < (size_t)w * h; i++)
        m[i] = rnd();
    size_t n;
    double t0 = q_now();
    ocr_box *b = detect(m, w, h, 3000, 3000, &n);
    double t = q_now() - t0;
    fprintf(stderr, "  noise 2000x2000: %zu boxes in %.2f s\n", n, t);
    CHECK(n <= 1000);
    CHECK(t < 60);
    check_inside_page(b, n, 3000, 3000);
    free(b);
    /* blocks of 8x8 at random: clusters of every shape and size, many kept */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t hsh = (uint32_t)(x / 8) * 2654435761u ^ (uint32_t)(y / 8) * 40503u;
            hsh ^= hsh >> 13;
            hsh *= 2246822519u;
            m[(size_t)y * w + x] = (hsh >> 28) < 7 ? 0.9f : 0.1f;
        }
    t0 = q_now();
    b = detect(m, w, h, 1000, 1000, &n);
    t = q_now() - t0;
    fprintf(stderr, "  blocks 2000x2000: %zu boxes in %.2f s\n", n, t);
    CHECK(n > 0 && n <= 1000);
    CHECK(t < 60);
    check_inside_page(b, n, 1000, 1000);
    free(b);
    /* isolated pixels: one contour per 4 pixels, none large enough */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            m[(size_t)y * w + x] = (x % 2 == 0 && y % 2 == 0) ? 1.0f : 0.0f;
    b = detect(m, w, h, w, h, &n);
    CHECK(n == 0);
    free(b);
    free(m);
}

/* max_candidates counts contours in OpenCV's order (last discovered first):
 * with 1, only the lowest of two blobs is looked at. */
static void test_max_candidates_takes_last_discovered(void) {
    float *m = map_new(64, 64);
    map_rect(m, 64, 10, 5, 40, 12, 0.9f);
    map_rect(m, 64, 10, 40, 40, 47, 0.9f);
    ocr_db_params p;
    ocr_db_params_default(&p);
    p.max_candidates = 1;
    ocr_box *b = NULL;
    size_t n = 0;
    CHECK(ocr_db_boxes(m, 64, 64, 64, 64, &p, &b, &n) == Q_OK);
    CHECK(n == 1);
    if (n == 1) CHECK(b[0].pt[0][1] > 30);
    free(b);
    free(m);
}

static void test_bad_arguments_are_usage_errors(void) {
    ocr_db_params p;
    ocr_db_params_default(&p);
    float m[4] = {0};
    ocr_box *b = NULL;
    size_t n = 0;
    CHECK(ocr_db_boxes(NULL, 2, 2, 2, 2, &p, &b, &n) == Q_ERR_USAGE);
    CHECK(ocr_db_boxes(m, 0, 2, 2, 2, &p, &b, &n) == Q_ERR_USAGE);
    CHECK(ocr_db_boxes(m, 2, 2, 2, -1, &p, &b, &n) == Q_ERR_USAGE);
    CHECK(b == NULL && n == 0);
}

static void test_default_params_are_paddleocr_constants(void) {
    ocr_db_params p;
    ocr_db_params_default(&p);
    CHECK(p.thresh == 0.3f && p.box_thresh == 0.6f && p.unclip_ratio == 1.5f);
    CHECK(p.max_candidates == 1000 && p.min_size == 3);
}

/* ---- geometry ----------------------------------------------------------------- */
static geom_rrect min_rect(const int (*xy)[2], size_t n) {
    geom_pt *p = malloc(n * sizeof(*p));
    geom_work w = {0};
    geom_rrect r = {0};
    for (size_t i = 0; i < n; i++)
        p[i].x = xy[i][0], p[i].y = xy[i][1];
    CHECK(geom_min_area_rect(p, n, &w, &r) == Q_OK);
    geom_work_free(&w);
    free(p);
    return r;
}

/* Every expected corner is one of the rectangle's corners, within tol. */
static int corners_are(const geom_rrect *r, const float want[4][2], float tol) {
    float pt[4][2];
    geom_rrect_points(r, pt);
    for (int i = 0; i < 4; i++) {
        int found = 0;
        for (int k = 0; k < 4; k++)
            found |= fabsf(pt[k][0] - want[i][0]) <= tol && fabsf(pt[k][1] - want[i][1]) <= tol;
        if (!found) return 0;
    }
    return 1;
}

static void test_min_area_rect_axis_aligned(void) {
    const int xy[][2] = {{0, 0}, {4, 0}, {2, 1}, {4, 2}, {0, 2}, {1, 1}, {3, 0}};
    geom_rrect r = min_rect(xy, 7);
    CHECK(fminf(r.w, r.h) == 2.0f && fmaxf(r.w, r.h) == 4.0f);
    CHECK(r.cx == 2.0f && r.cy == 1.0f);
    const float want[4][2] = {{0, 0}, {4, 0}, {4, 2}, {0, 2}};
    CHECK(corners_are(&r, want, 1e-5f));
}

/* A 10 x 5 rectangle along (3,4)/5 with points inside it. */
static void test_min_area_rect_rotated_3_4_5(void) {
    const int xy[][2] = {{0, 0}, {6, 8}, {2, 11}, {-4, 3}, {1, 5}, {2, 6}, {0, 4}};
    geom_rrect r = min_rect(xy, 7);
    CHECK(fabsf(fminf(r.w, r.h) - 5) < 1e-4f && fabsf(fmaxf(r.w, r.h) - 10) < 1e-4f);
    const float want[4][2] = {{0, 0}, {6, 8}, {2, 11}, {-4, 3}};
    CHECK(corners_are(&r, want, 1e-4f));
}

/* A diamond: the square of side 5*sqrt(2) on its edges, not the 10 x 10 box. */
static void test_min_area_rect_diamond(void) {
    const int xy[][2] = {{5, 0}, {0, 5}, {-5, 0}, {0, -5}, {0, 0}};
    geom_rrect r = min_rect(xy, 5);
    CHECK(fabsf(r.w - 7.0710678f) < 1e-4f && fabsf(r.h - 7.0710678f) < 1e-4f);
    CHECK(fabsf(fmodf(fabsf(r.angle), 90.0f) - 45.0f) < 1e-3f);
}

static void test_min_area_rect_thin_triangle(void) {
    const int xy[][2] = {{0, 0}, {10, 0}, {5, 1}};
    geom_rrect r = min_rect(xy, 3);
    CHECK(fabsf(fminf(r.w, r.h) - 1) < 1e-5f && fabsf(fmaxf(r.w, r.h) - 10) < 1e-5f);
}

static void test_min_area_rect_degenerate(void) {
    const int line[][2] = {{0, 0}, {1, 1}, {3, 3}, {2, 2}};
    geom_rrect r = min_rect(line, 4);
    CHECK(r.h == 0 && fabsf(r.w - 3 * sqrtf(2)) < 1e-5f);
    CHECK(r.cx == 1.5f && r.cy == 1.5f);
    const int dot[][2] = {{2, 3}, {2, 3}, {2, 3}};
    r = min_rect(dot, 3);
    CHECK(r.w == 0 && r.h == 0 && r.cx == 2 && r.cy == 3);
}

/* Brute force: the minimum-area rectangle has a side on a hull edge, so the
 * smallest area over all point-pair directions is the answer. */
static double brute_min_area(const int (*xy)[2], int n) {
    double best = INFINITY;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double dx = xy[j][0] - xy[i][0], dy = xy[j][1] - xy[i][1], l = hypot(dx, dy);
            if (l == 0) continue;
            dx /= l, dy /= l;
            double u0 = INFINITY, u1 = -INFINITY, v0 = INFINITY, v1 = -INFINITY;
            for (int k = 0; k < n; k++) {
                double u = xy[k][0] * dx + xy[k][1] * dy, v = -xy[k][0] * dy + xy[k][1] * dx;
                u0 = fmin(u0, u), u1 = fmax(u1, u), v0 = fmin(v0, v), v1 = fmax(v1, v);
            }
            best = fmin(best, (u1 - u0) * (v1 - v0));
        }
    return best;
}

static void test_min_area_rect_matches_brute_force(void) {
    for (int t = 0; t < 200; t++) {
        int xy[24][2], n = 3 + t % 20;
        for (int i = 0; i < n; i++)
            xy[i][0] = (int)(rnd() * 200), xy[i][1] = (int)(rnd() * 120);
        double want = brute_min_area((const int(*)[2])xy, n);
        geom_rrect r = min_rect((const int(*)[2])xy, (size_t)n);
        double got = (double)r.w * r.h;
        if (!(fabs(got - want) <= 1e-3 * fmax(want, 1.0)))
            fprintf(stderr, "  set %d: area %g, brute force %g\n", t, got, want);
        CHECK(fabs(got - want) <= 1e-3 * fmax(want, 1.0));
    }
}

/* OpenCV's counter-clockwise hull (y up): from the largest (x, y), collinear
 * points gone. */
static void test_hull_order_and_collinear_points(void) {
    geom_pt p[9] = {{1, 1}, {0, 0}, {1, 0}, {2, 0}, {2, 1}, {2, 2}, {1, 2}, {0, 2}, {0, 1}};
    geom_pt h[19];
    size_t k = geom_hull(p, 9, h);
    CHECK(k == 4);
    const geom_pt want[4] = {{2, 2}, {0, 2}, {0, 0}, {2, 0}};
    for (size_t i = 0; i < 4 && k == 4; i++)
        CHECK(h[i].x == want[i].x && h[i].y == want[i].y);
}

typedef struct {
    int count;
    int ys[8];
} contour_log;

static q_status log_contour(void *user, geom_pt *pts, size_t n) {
    contour_log *l = user;
    if (l->count < 8) l->ys[l->count] = pts[0].y;
    l->count++;
    (void)n;
    return Q_OK;
}

/* A ring has two borders (outer, then its hole); a lone pixel one. */
static void test_contours_outer_and_hole(void) {
    float *m = map_new(16, 16);
    map_rect(m, 16, 2, 2, 8, 8, 1.0f);
    map_rect(m, 16, 4, 4, 6, 6, 0.0f);
    map_rect(m, 16, 12, 12, 12, 12, 1.0f);
    contour_log l = {0};
    CHECK(geom_contours(m, 16, 16, 0.5f, log_contour, &l) == Q_OK);
    CHECK(l.count == 3);
    CHECK(l.ys[0] == 2 && l.ys[1] == 4 && l.ys[2] == 12);
    free(m);
}

/* The offset of a 10 x 10 square by 2: its edges moved out by 2 and arcs at
 * the corners, every vertex 2 from the square (give or take rounding). */
static void test_offset_round_square(void) {
    const geom_pt sq[4] = {{0, 0}, {10, 0}, {10, 10}, {0, 10}};
    geom_pts out = {0};
    CHECK(geom_offset_round(sq, 4, 2.0, &out) == Q_OK);
    CHECK(out.n > 8);
    int x0 = 99, x1 = -99, y0 = 99, y1 = -99;
    for (size_t i = 0; i < out.n; i++) {
        geom_pt q = out.p[i];
        x0 = q.x < x0 ? q.x : x0, x1 = q.x > x1 ? q.x : x1;
        y0 = q.y < y0 ? q.y : y0, y1 = q.y > y1 ? q.y : y1;
        double dx = q.x < 0 ? -q.x : q.x > 10 ? q.x - 10 : 0;
        double dy = q.y < 0 ? -q.y : q.y > 10 ? q.y - 10 : 0;
        CHECK(fabs(hypot(dx, dy) - 2) <= 0.75);
    }
    CHECK(x0 == -2 && x1 == 12 && y0 == -2 && y1 == 12);
    /* the same square listed the other way round grows the same way */
    const geom_pt rev[4] = {{0, 0}, {0, 10}, {10, 10}, {10, 0}};
    out.n = 0;
    CHECK(geom_offset_round(rev, 4, 2.0, &out) == Q_OK);
    for (size_t i = 0; i < out.n; i++)
        CHECK(out.p[i].x <= -1 || out.p[i].x >= 11 || out.p[i].y <= -1 || out.p[i].y >= 11);
    geom_pts_free(&out);
}

/* fillPoly's mask of an axis-aligned square covers it edges included. */
static void test_fill_mean_square(void) {
    float m[36];
    for (int i = 0; i < 36; i++)
        m[i] = (float)i;
    const geom_pt q[4] = {{1, 1}, {3, 1}, {3, 3}, {1, 3}};
    unsigned char mask[36];
    double mean = geom_fill_mean(m, 6, 0, 0, 6, 6, q, mask);
    /* rows 1..3, columns 1..3: 7+8+9 + 13+14+15 + 19+20+21 = 126 over 9 */
    CHECK(fabs(mean - 14.0) < 1e-9);
}

int main(void) {
    test_axis_aligned_rectangle();
    test_scaled_to_page_of_other_size();
    test_rotated_rectangle();
    test_two_columns_in_reading_order();
    test_sort_is_paddleocr_single_pass();
    test_sort_keeps_equal_boxes_in_order();
    test_blob_below_box_thresh_dropped();
    test_tiny_blob_dropped_by_min_size();
    test_blob_touching_map_border();
    test_empty_map_gives_no_boxes();
    test_all_ones_map_gives_the_page();
    test_hole_border_is_a_candidate();
    test_random_noise_finishes();
    test_max_candidates_takes_last_discovered();
    test_bad_arguments_are_usage_errors();
    test_default_params_are_paddleocr_constants();
    test_min_area_rect_axis_aligned();
    test_min_area_rect_rotated_3_4_5();
    test_min_area_rect_diamond();
    test_min_area_rect_thin_triangle();
    test_min_area_rect_degenerate();
    test_min_area_rect_matches_brute_force();
    test_hull_order_and_collinear_points();
    test_contours_outer_and_hole();
    test_offset_round_square();
    test_fill_mean_square();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("ocr_dbpost: all passed\n");
    return 0;
}
