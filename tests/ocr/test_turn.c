/* Quarter turns (turn.c) on hand-made inputs: an image's pixels, points,
 * boxes and rectangles go where the turned page has them, and turning back
 * gives what went in. The orientation decision on real pages is
 * tests/e2e/rotate.sh. */
#include <string.h>

#include "ocr/ocr_private.h"
#include "tests/ocr/ocr_test.h"

/* A 3 x 2 gray image whose pixel (x, y) is 10 y + x. */
static q_image small(void) {
    q_image im;
    if (q_image_alloc(&im, 3, 2, 1, 0)) exit(1);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++)
            im.px[y * im.stride + x] = (uint8_t)(10 * y + x);
    return im;
}

/* Each pixel lands where ocr_turn_point says, for every turn. */
static void pixels_follow_points(void) {
    q_image im = small();
    for (int q = 0; q < 4; q++) {
        q_image t;
        CHECK(ocr_turn_image(&im, q, &t) == Q_OK);
        CHECK(t.w == (q & 1 ? 2 : 3) && t.h == (q & 1 ? 3 : 2));
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++) {
                float p[2] = {(float)x, (float)y};
                ocr_turn_point(p, q, 3, 2);
                CHECK(t.px[(size_t)p[1] * t.stride + (size_t)p[0]] == 10 * y + x);
            }
        q_image_free(&t);
    }
    /* clockwise: the bottom-left pixel becomes the top-left */
    q_image t;
    CHECK(ocr_turn_image(&im, 1, &t) == Q_OK);
    CHECK(t.px[0] == 10 && t.px[1] == 0);
    q_image_free(&t);
    q_image_free(&im);
}

/* A box turned by q then by 4 - q is the box it was, corners in order; on
 * the turned image its corner 0 is again the top-left. */
static void boxes_turn_back(void) {
    const ocr_box b = {.pt = {{10, 20}, {110, 22}, {109, 50}, {9, 48}}};
    for (int q = 0; q < 4; q++) {
        ocr_box t = b;
        ocr_turn_box(&t, q, 200, 100);
        float xmin = 1e9f, ymin = 1e9f;
        for (int k = 0; k < 4; k++)
            xmin = t.pt[k][0] < xmin ? t.pt[k][0] : xmin,
            ymin = t.pt[k][1] < ymin ? t.pt[k][1] : ymin;
        CHECK(t.pt[0][0] - xmin < 3 && t.pt[0][1] - ymin < 3);
        int w = q & 1 ? 100 : 200, h = q & 1 ? 200 : 100;
        ocr_turn_box(&t, 4 - q, w, h);
        CHECK(!memcmp(&t, &b, sizeof b));
    }
    ocr_box r = b;
    ocr_box_renumber(&r, 1);
    CHECK(r.pt[1][0] == 10 && r.pt[0][0] == 9); /* old top-left is the turned top-right */
}

/* Rectangles in points: turned and back, and a quarter turn moves a
 * rectangle at the top-left of the page to its top-right. */
static void rects_turn_back(void) {
    for (int q = 0; q < 4; q++) {
        float r[4] = {10, 20, 110, 50};
        ocr_turn_rect(r, q, 612, 792);
        CHECK(r[0] <= r[2] && r[1] <= r[3]);
        ocr_turn_rect(r, 4 - q, q & 1 ? 792 : 612, q & 1 ? 612 : 792);
        CHECK(r[0] == 10 && r[1] == 20 && r[2] == 110 && r[3] == 50);
    }
    float r[4] = {10, 20, 110, 50};
    ocr_turn_rect(r, 1, 612, 792);
    CHECK(r[0] == 792 - 50 && r[1] == 10 && r[2] == 792 - 20 && r[3] == 110);
}

int main(void) {
    pixels_follow_points();
    boxes_turn_back();
    rects_turn_back();
    if (failures) fprintf(stderr, "%d checks failed\n", failures);
    return failures ? 1 : 0;
}
