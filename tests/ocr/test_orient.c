/* Page orientation on a real scan (the shared corpus's phototest.tif, 8 lines
 * of print) and its three quarter turns, read in one ocr_images batch as a
 * GPU rank reads its clients' pages: each turned copy is read at the turn
 * that brings it upright, with the upright page's lines (same text, same
 * order) and its boxes where the turned page has them. Then each way of
 * deciding alone: the classifier's votes are withheld so the recognizer
 * decides (flat and sideways), the second look finds a sideways page that
 * was read as it is, and no_rotate_pages reads it as it is. Skipped (77)
 * without the models or the corpus. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "doc/doc.h"
#include "ocr/ocr_private.h"
#include "tests/ocr/ocr_test.h"
#include "tests/ocr/page_load.h"

static const char *const scan = QUIRE_SHARED_DIR "/corpus/scans/phototest.tif";

static q_image page;

/* imgs[q] is the page turned clockwise by q: it reads upright turned by 4 - q,
 * with the upright page's lines, boxes turned by q. */
static void batch_reads_every_turn(ocr_engine *e, q_image imgs[4]) {
    ocr_result res[4];
    CHECK(ocr_images(e, imgs, 4, 0, res) == Q_OK);
    CHECK(res[0].rotation == 0 && res[0].n >= 6);
    for (int q = 1; q < 4; q++) {
        CHECK(res[q].rotation == 90 * (4 - q));
        CHECK(res[q].n == res[0].n);
        for (size_t i = 0; i < res[q].n && i < res[0].n; i++) {
            CHECK(!strcmp(res[q].lines[i].text, res[0].lines[i].text));
            for (int k = 0; k < 4; k++) {
                float p[2] = {res[0].lines[i].quad[k][0], res[0].lines[i].quad[k][1]};
                ocr_turn_point(p, q, page.w, page.h);
                CHECK(fabsf(p[0] - res[q].lines[i].quad[k][0]) <= 1.5f);
                CHECK(fabsf(p[1] - res[q].lines[i].quad[k][1]) <= 1.5f);
            }
        }
        if (res[q].n) fprintf(stderr, "turn %d: %s\n", q, res[q].lines[0].text);
    }
    for (int q = 0; q < 4; q++)
        ocr_result_free(&res[q]);
}

/* With no votes to go on, the recognizer's confidence decides. */
static void recognizer_decides_without_votes(ocr_engine *e, q_image imgs[4]) {
    ocr_box *b;
    size_t n;
    ocr_orient o;
    CHECK(ocr_detect(e, &imgs[2], &b, &n) == Q_OK);
    CHECK(ocr_orient_flat(e, &imgs[2], b, n, NULL, NULL, 0, &o) == Q_OK);
    CHECK(o.q == 2 && o.probed == (1 << 0 | 1 << 2));
    free(b);
    CHECK(ocr_detect(e, &imgs[0], &b, &n) == Q_OK);
    CHECK(ocr_orient_flat(e, &imgs[0], b, n, NULL, NULL, 0, &o) == Q_OK);
    CHECK(o.q == 0 && o.probed);
    free(b);
    /* a sideways page read as it is reads almost nothing: the second look */
    CHECK(ocr_detect(e, &imgs[1], &b, &n) == Q_OK);
    o = (ocr_orient){0};
    CHECK(ocr_orient_retry(e, &imgs[1], b, n, &o) == Q_OK);
    CHECK(o.q == 3);
    CHECK(ocr_orient_sideways(e, &imgs[1], b, n, &o) == Q_OK);
    CHECK(o.q == 3);
    free(b);
}

/* no_rotate_pages: the sideways page as it is, rotation 0. */
static void no_rotate_reads_as_is(ocr_engine *e, q_image imgs[4]) {
    e->o.no_rotate_pages = 1;
    ocr_result r;
    CHECK(ocr_image(e, &imgs[1], 0, &r) == Q_OK);
    CHECK(r.rotation == 0);
    size_t good = 0;
    for (size_t i = 0; i < r.n; i++)
        good += strstr(r.lines[i].text, "quick") != NULL;
    CHECK(good == 0);
    ocr_result_free(&r);
    e->o.no_rotate_pages = 0;
}

int main(void) {
    ocr_options o;
    ocr_options_default(&o);
    o.models_dir = QUIRE_MODELS_DIR;
    o.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    ocr_engine *e = NULL;
    if (access(scan, R_OK) || ocr_engine_new(&o, &e)) {
        fprintf(stderr, "no models or no %s: skipped\n", scan);
        return 77;
    }
    if (!page_load(scan, &page)) {
        fprintf(stderr, "cannot read %s: %s\n", scan, q_errmsg());
        return 1;
    }
    q_image imgs[4];
    for (int q = 0; q < 4; q++)
        if (ocr_turn_image(&page, q, &imgs[q])) return 1;
    batch_reads_every_turn(e, imgs);
    recognizer_decides_without_votes(e, imgs);
    no_rotate_reads_as_is(e, imgs);
    for (int q = 0; q < 4; q++)
        q_image_free(&imgs[q]);
    q_image_free(&page);
    ocr_engine_free(e);
    if (failures) fprintf(stderr, "%d checks failed\n", failures);
    return failures ? 1 : 0;
}
