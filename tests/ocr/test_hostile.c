/* DB post-processing and crops on hostile input: probability maps with NaN,
 * infinities and huge values, boxes at 45 degrees (whose corner order once
 * came out crossed), and boxes with non-finite, huge, repeated or collinear
 * corners. Nothing may crash or convert a non-finite float to int (the
 * sanitizer pass runs this with -fsanitize=float-cast-overflow); every box
 * that comes out is finite, on the page and convex, every bad box is refused.
 * A damaged LZW TIFF once crashed `quire text` in the crop (issue 15). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/geom.h"
#include "ocr/ocr_private.h"
#include "ocr_test.h"

/* ---- helpers ---------------------------------------------------------------- */
static uint32_t rng_state = 2024;
static float rnd(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)(rng_state >> 8) / 16777216.0f;
}

/* Strictly convex, clockwise on screen (y down), like every box dbpost gives. */
static int convex_clockwise(const ocr_box *b) {
    for (int k = 0; k < 4; k++) {
        const float *a = b->pt[(k + 3) & 3], *p = b->pt[k], *c = b->pt[(k + 1) & 3];
        double turn = ((double)p[0] - a[0]) * ((double)c[1] - p[1]) -
                      ((double)p[1] - a[1]) * ((double)c[0] - p[0]);
        if (!(turn > 0)) return 0;
    }
    return 1;
}

/* Every box finite, on the page, convex and clockwise, its score finite. */
static int boxes_sane(const ocr_box *b, size_t n, int pw, int ph) {
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 4; k++) {
            float x = b[i].pt[k][0], y = b[i].pt[k][1];
            if (!(x >= 0 && x <= pw - 1 && y >= 0 && y <= ph - 1)) return 0;
        }
        if (!isfinite(b[i].score) || !convex_clockwise(&b[i])) {
            fprintf(stderr, "  box %zu: (%g,%g) (%g,%g) (%g,%g) (%g,%g) score %g\n", i,
                    b[i].pt[0][0], b[i].pt[0][1], b[i].pt[1][0], b[i].pt[1][1], b[i].pt[2][0],
                    b[i].pt[2][1], b[i].pt[3][0], b[i].pt[3][1], b[i].score);
            return 0;
        }
    }
    return 1;
}

/* ocr_db_boxes with the default parameters must succeed; returns the boxes. */
static ocr_box *detect(const float *m, int w, int h, int pw, int ph, size_t *n) {
    ocr_db_params p;
    ocr_db_params_default(&p);
    ocr_box *b = NULL;
    q_status st = ocr_db_boxes(m, w, h, pw, ph, &p, &b, n);
    CHECK(st == Q_OK);
    if (st) *n = 0;
    return b;
}

static void fill_rect(float *m, int w, int x0, int y0, int x1, int y1, float v) {
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            m[(size_t)y * w + x] = v;
}

/* ---- probability maps --------------------------------------------------------- */

/* NaN is not above the threshold: a map of NaN has no text, and NaN inside a
 * blob neither crashes nor makes a NaN score. */
static void test_nan_map_gives_no_boxes_and_no_nan_scores(void) {
    const int w = 64, h = 48;
    float *m = map_new(w, h);
    for (size_t i = 0; i < (size_t)w * h; i++)
        m[i] = NAN;
    size_t n;
    ocr_box *b = detect(m, w, h, 640, 480, &n);
    CHECK(n == 0);
    free(b);
    for (size_t i = 0; i < (size_t)w * h; i++)
        m[i] = 0;
    fill_rect(m, w, 8, 10, 50, 20, 0.9f);
    m[15 * w + 20] = NAN; /* inside the blob: its score would be NaN */
    b = detect(m, w, h, 640, 480, &n);
    CHECK(boxes_sane(b, n, 640, 480));
    CHECK(n == 0); /* a NaN mean is not at least box_thresh */
    free(b);
    free(m);
}

/* +Inf is above any threshold but no probability: the blob's score is not
 * finite and the box is dropped. -Inf and huge values neither crash. */
static void test_infinite_and_huge_values(void) {
    const int w = 64, h = 48;
    const float vals[] = {INFINITY, -INFINITY, 1e30f, -1e30f, FLT_MAX};
    for (size_t v = 0; v < Q_ARRAY_LEN(vals); v++) {
        float *m = map_new(w, h);
        fill_rect(m, w, 8, 10, 50, 20, 0.9f);
        fill_rect(m, w, 20, 12, 30, 18, vals[v]);
        size_t n;
        ocr_box *b = detect(m, w, h, 640, 480, &n);
        CHECK(boxes_sane(b, n, 640, 480));
        if (isinf(vals[v]) && vals[v] > 0) CHECK(n == 0);
        free(b);
        free(m);
    }
}

/* Noise sprinkled with NaN and infinities, on maps of several shapes and
 * pages of several sizes (a page much larger than int's range of a float's
 * integers too): every box that comes out is sane. */
static void test_noise_with_non_finite_values(void) {
    static const int dims[][4] = {{96, 64, 960, 640},
                                  {64, 96, 100, 150},
                                  {32, 32, 2000000000, 7},
                                  {128, 32, 128, 32},
                                  {40, 200, 4000, 20000}};
    for (size_t d = 0; d < Q_ARRAY_LEN(dims); d++) {
        int w = dims[d][0], h = dims[d][1], pw = dims[d][2], ph = dims[d][3];
        float *m = map_new(w, h);
        for (int round = 0; round < 4; round++) {
            for (size_t i = 0; i < (size_t)w * h; i++) {
                float r = rnd();
                m[i] = r < 0.02f ? NAN : r < 0.03f ? INFINITY : r < 0.04f ? -INFINITY : rnd();
                if (round & 1) m[i] = m[i] > 0.5f ? 0.9f : m[i]; /* larger blobs */
            }
            size_t n;
            ocr_box *b = detect(m, w, h, pw, ph, &n);
            CHECK(boxes_sane(b, n, pw, ph));
            free(b);
        }
        free(m);
    }
}

/* Parameters out of their range give fewer boxes, never a crash: NaN, zero,
 * negative and huge unclip ratios and thresholds. */
static void test_hostile_parameters(void) {
    const int w = 64, h = 48;
    float *m = map_new(w, h);
    fill_rect(m, w, 8, 10, 50, 20, 0.9f);
    fill_rect(m, w, 5, 30, 40, 38, 0.8f);
    const float ratios[] = {NAN, INFINITY, -1.0f, 0.0f, 1e-30f, 1e30f, 1e6f};
    for (size_t i = 0; i < Q_ARRAY_LEN(ratios); i++) {
        ocr_db_params p;
        ocr_db_params_default(&p);
        p.unclip_ratio = ratios[i];
        p.thresh = i % 2 ? NAN : -1.0f;
        p.box_thresh = i % 3 ? NAN : -INFINITY;
        p.min_size = i % 2 ? -5 : 0;
        ocr_box *b = NULL;
        size_t n = 0;
        CHECK(ocr_db_boxes(m, w, h, 640, 480, &p, &b, &n) == Q_OK);
        CHECK(boxes_sane(b, n, 640, 480));
        free(b);
    }
    free(m);
}

/* A band of text at 45 degrees through the map's centre moved `shift`
 * pixels across: falling to the right (along x = y), or rising with `up`;
 * `half` pixels either side of its middle line (measured in x + y or x - y
 * steps), `len` steps long. */
static void band(float *m, int w, int h, int shift, int half, int len, int up) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int dx = x - w / 2, dy = y - h / 2;
            int across = (up ? dx + dy : dx - dy) - shift, along = up ? dx - dy : dx + dy;
            if (abs(across) <= half && abs(along) <= len / 2) m[(size_t)y * w + x] = 0.9f;
        }
}

/* At 45 degrees the sums and differences of a box's corners tie, and
 * PaddleOCR's order_points_clockwise (numpy's first-of-equals) then gives a
 * crossed or repeated-corner order; the crop of such a box read pixels at
 * infinity. Every box here must come out convex and clockwise. */
static void test_boxes_at_45_degrees_are_convex(void) {
    const int w = 96, h = 96;
    size_t total = 0;
    for (int up = 0; up < 2; up++)
        for (int half = 2; half <= 7; half++)
            for (int len = 20; len <= 70; len += 7)
                for (int scale = 1; scale <= 3; scale++) {
                    float *m = map_new(w, h);
                    band(m, w, h, scale - 2, half, len, up);
                    size_t n;
                    ocr_box *b = detect(m, w, h, w * scale, h * scale, &n);
                    CHECK(boxes_sane(b, n, w * scale, h * scale));
                    total += n;
                    free(b);
                    free(m);
                }
    fprintf(stderr, "  45-degree bands: %zu boxes\n", total);
    CHECK(total > 100); /* the bands were found: the check above had boxes to check */
}

/* geom_offset_round adds nothing for a delta it cannot use. */
static void test_offset_refuses_bad_delta(void) {
    const geom_pt sq[4] = {{0, 0}, {10, 0}, {10, 10}, {0, 10}};
    const double deltas[] = {0.0, -1.0, NAN, INFINITY, 1e12};
    for (size_t i = 0; i < Q_ARRAY_LEN(deltas); i++) {
        geom_pts out = {0};
        CHECK(geom_offset_round(sq, 4, deltas[i], &out) == Q_OK);
        CHECK(out.n == 0);
        geom_pts_free(&out);
    }
    geom_pts out = {0};
    CHECK(geom_offset_round(sq, 4, 2.0, &out) == Q_OK && out.n > 4);
    geom_pts_free(&out);
}

/* ---- crops -------------------------------------------------------------------- */
static q_image image_new(int w, int h, int channels) {
    q_image im;
    if (q_image_alloc(&im, w, h, channels, 0) != Q_OK) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w * channels; x++)
            im.px[(size_t)y * im.stride + x] = (uint8_t)(x * 7 + y * 3);
    return im;
}

static ocr_box quad(float x0, float y0, float x1, float y1, float x2, float y2, float x3,
                    float y3) {
    ocr_box b = {{{x0, y0}, {x1, y1}, {x2, y2}, {x3, y3}}, 0.9f};
    return b;
}

/* The crop of `b` is refused as a format error, with nothing allocated. */
static int refused(const q_image *img, const ocr_box *b) {
    q_image out;
    q_status st = ocr_crop(img, b, &out);
    int ok = st == Q_ERR_FORMAT && out.px == NULL;
    if (!ok) fprintf(stderr, "  crop not refused: status %d, %dx%d\n", st, out.w, out.h);
    q_image_free(&out);
    return ok;
}

/* The padded box of the damaged page of issue 15 (a 45-degree box whose
 * corners came out crossed): its homography's denominator changes sign inside
 * the crop, and the sampler was asked for pixel -inf. */
static void test_crop_refuses_crossed_box(void) {
    q_image img = image_new(2118, 2118, 1);
    ocr_box b =
        quad(910.948f, 728.154f, 922.052f, 789.846f, 943.052f, 768.846f, 889.948f, 749.154f);
    CHECK(refused(&img, &b));
    b = quad(912, 734, 921, 784, 942, 763, 891, 755); /* as the detector gave it */
    CHECK(refused(&img, &b));
    b = quad(10, 10, 50, 50, 50, 10, 10, 50); /* a bow tie */
    CHECK(refused(&img, &b));
    q_image_free(&img);
}

static void test_crop_refuses_degenerate_boxes(void) {
    q_image img = image_new(200, 100, 3);
    ocr_box b = quad(10, 10, 60, 60, 80, 50, 60, 60); /* a corner repeated */
    CHECK(refused(&img, &b));
    b = quad(10, 10, 50, 10, 90, 10, 30, 40); /* three corners on a line */
    CHECK(refused(&img, &b));
    b = quad(10, 10, 30, 30, 50, 50, 70, 70); /* all on a line */
    CHECK(refused(&img, &b));
    b = quad(20, 20, 20, 20, 20, 20, 20, 20); /* a point */
    CHECK(refused(&img, &b));
    b = quad(20, 20, 20.5f, 20, 20.5f, 20.5f, 20, 20.5f); /* under a pixel */
    CHECK(refused(&img, &b));
    b = quad(10, 10, 60, 10, 30, 15, 60, 40); /* not convex */
    CHECK(refused(&img, &b));
    q_image_free(&img);
}

/* NaN, infinities and values far outside the page in every corner and
 * coordinate, among them the -4.5e9 of issue 15. */
static void test_crop_refuses_non_finite_and_far_corners(void) {
    q_image img = image_new(200, 100, 1);
    const float bad[] = {NAN, INFINITY, -INFINITY, -4.5e9f, 4.5e9f, 1e30f, -1e30f, -50, 201, 1e7f};
    for (size_t v = 0; v < Q_ARRAY_LEN(bad); v++)
        for (int k = 0; k < 4; k++)
            for (int c = 0; c < 2; c++) {
                ocr_box b = quad(10, 10, 90, 10, 90, 40, 10, 40);
                b.pt[k][c] = bad[v];
                CHECK(refused(&img, &b));
            }
    q_image_free(&img);
}

/* Good boxes still crop, of the size the contract gives: upright, rotated,
 * counter-clockwise (mirrored), touching the image's edges, a 1x1 image. */
static void test_crop_keeps_good_boxes(void) {
    q_image img = image_new(200, 100, 3), out;
    ocr_box b = quad(10, 20, 90, 20, 90, 40, 10, 40);
    CHECK(ocr_crop(&img, &b, &out) == Q_OK && out.w == 80 && out.h == 20);
    /* pixel (0, 0) of the crop is the image's (10, 20) */
    CHECK(out.px && out.px[0] == img.px[(size_t)20 * img.stride + 30]);
    q_image_free(&out);
    b = quad(20, 30, 100, 10, 105, 30, 25, 50); /* rotated */
    CHECK(ocr_crop(&img, &b, &out) == Q_OK && out.w == 82 && out.h == 20);
    q_image_free(&out);
    b = quad(10, 40, 90, 40, 90, 20, 10, 20); /* counter-clockwise */
    CHECK(ocr_crop(&img, &b, &out) == Q_OK && out.w == 80 && out.h == 20);
    q_image_free(&out);
    b = quad(0, 0, 199, 0, 199, 99, 0, 99); /* the whole image */
    CHECK(ocr_crop(&img, &b, &out) == Q_OK && out.w == 199 && out.h == 99);
    q_image_free(&out);
    b = quad(10, 10, 20, 10, 20, 40, 10, 40); /* tall: turned */
    CHECK(ocr_crop(&img, &b, &out) == Q_OK && out.w == 30 && out.h == 10);
    q_image_free(&out);
    q_image_free(&img);
    img = image_new(1, 1, 1);
    b = quad(0, 0, 1, 0, 1, 1, 0, 1);
    CHECK(ocr_crop(&img, &b, &out) == Q_OK && out.w == 1 && out.h == 1);
    q_image_free(&out);
    q_image_free(&img);
}

/* What the detector gives goes straight into the crop: on maps with bands at
 * 45 degrees and NaN and infinities around them, every box it keeps can be cut. */
static void test_detected_boxes_can_be_cut(void) {
    const int w = 96, h = 96, pw = 288, ph = 288;
    q_image img = image_new(pw, ph, 1), out;
    size_t cut = 0, total = 0;
    for (int round = 0; round < 6; round++) {
        float *m = map_new(w, h);
        band(m, w, h, round * 9 - 20, 3 + round, 40 + 5 * round, round & 1);
        for (size_t i = 0; i < (size_t)w * h; i++)
            if (m[i] == 0 && rnd() < 0.02f) m[i] = rnd() < 0.5f ? NAN : INFINITY;
        size_t n;
        ocr_box *b = detect(m, w, h, pw, ph, &n);
        for (size_t i = 0; i < n; i++) {
            q_status st = ocr_crop(&img, &b[i], &out);
            cut += st == Q_OK;
            CHECK(st == Q_OK);
            q_image_free(&out);
        }
        total += n;
        free(b);
        free(m);
    }
    CHECK(total > 0 && cut == total);
    q_image_free(&img);
}

int main(void) {
    test_nan_map_gives_no_boxes_and_no_nan_scores();
    test_infinite_and_huge_values();
    test_noise_with_non_finite_values();
    test_hostile_parameters();
    test_boxes_at_45_degrees_are_convex();
    test_offset_refuses_bad_delta();
    test_crop_refuses_crossed_box();
    test_crop_refuses_degenerate_boxes();
    test_crop_refuses_non_finite_and_far_corners();
    test_crop_keeps_good_boxes();
    test_detected_boxes_can_be_cut();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("ocr_hostile: all passed\n");
    return 0;
}
