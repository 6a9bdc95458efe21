/* The page skew from detected boxes (ocr_page_skew) and the reading order in
 * the deskewed frame (ocr_result_to_page) on synthetic quads: lines of a
 * 300-dpi page turned by a known angle, as DB post-processing gives them
 * (rotated rectangles, corners clockwise from top-left), in a scrambled order.
 * At 2 degrees a 1500-px line's upright hull is 52 px taller than the line,
 * more than the 50-px line pitch: ordered by those hulls, lines interleave. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ocr/ocr_private.h"
#include "ocr_test.h"

#define PAGE_W 2550.0
#define PAGE_H 3300.0
#define PT     (72.0f / 300.0f)
#define MAXL   256

typedef struct {
    ocr_line l[MAXL];
    char text[MAXL][16];
    size_t n;
} page;

/* A w x h box at (x, y) of the straight page, turned `deg` counter-clockwise
 * about the page centre (PIL's Image.rotate, y down). */
static void add(page *p, double x, double y, double w, double h, double deg, const char *text) {
    double t = deg * 3.14159265358979323846 / 180.0, c = cos(t), s = sin(t);
    const double cx[4] = {x, x + w, x + w, x}, cy[4] = {y, y, y + h, y + h};
    ocr_line *l = &p->l[p->n];
    for (int k = 0; k < 4; k++) {
        double dx = cx[k] - PAGE_W / 2, dy = cy[k] - PAGE_H / 2;
        /* corners rounded to pixels, as ocr_db_boxes gives them */
        l->quad[k][0] = (float)round(PAGE_W / 2 + dx * c + dy * s);
        l->quad[k][1] = (float)round(PAGE_H / 2 - dx * s + dy * c);
    }
    snprintf(p->text[p->n], sizeof p->text[0], "%s", text);
    l->text = p->text[p->n];
    l->len = strlen(text);
    l->conf = 0.9f;
    p->n++;
}

/* Reverses every third pair, so that no input order is the answer. */
static void scramble(page *p) {
    for (size_t i = 0; i + 1 < p->n; i += 3) {
        ocr_line t = p->l[i];
        p->l[i] = p->l[i + 1];
        p->l[i + 1] = t;
    }
}

static float skew_of(const page *p) {
    float deg = NAN;
    CHECK(ocr_page_skew(p->l, p->n, &deg) == Q_OK);
    return deg;
}

/* One column of 40 lines, each found as two boxes split at a different
 * place on each line (their grown margins touch: a wide word space), a
 * paragraph gap after line 19. */
static void single_column(page *p, double deg, double pitch, double box_h) {
    p->n = 0;
    char t[16];
    for (int i = 0; i < 40; i++) {
        double y = 300 + pitch * i + (i >= 20 ? pitch : 0);
        double wa = 500 + (i * 137) % 600, xb = 300 + wa; /* boxes touch */
        snprintf(t, sizeof t, "%02da", i);
        add(p, 300, y, wa, box_h, deg, t);
        snprintf(t, sizeof t, "%02db", i);
        add(p, xb, y, (i % 7 == 6 ? 1200 : 2200) - xb, box_h, deg, t);
    }
    scramble(p);
}

/* A heading across two columns of 30 lines each, 60 px apart. */
static void two_columns(page *p, double deg) {
    p->n = 0;
    char t[16];
    add(p, 300, 200, 1500, 60, deg, "head");
    for (int col = 0; col < 2; col++)
        for (int i = 0; i < 30; i++) {
            snprintf(t, sizeof t, "%c%02d", col ? 'R' : 'L', i);
            add(p, col ? 1305 : 300, 320 + 50.0 * i, 945, 36, deg, t);
        }
    scramble(p);
}

/* The record's text of page `pg` in line order, joined by ' '. */
static void record_text(lay_doc *d, size_t pg, char *out, size_t cap) {
    const lay_page *p = lay_doc_page(d, pg);
    size_t k = 0;
    out[0] = 0;
    for (size_t i = 0; i < p->lines; i++) {
        const lay_line *l = lay_doc_line(d, (size_t)p->first_line + i);
        int w = snprintf(out + k, cap - k, "%s%.*s", i ? " " : "", (int)l->text_len,
                         d->text.data + l->text_start);
        if (w < 0 || (size_t)w >= cap - k) break;
        k += (size_t)w;
    }
}

static void to_record(page *p, lay_doc *d, uint32_t pg) {
    ocr_result r = {.lines = p->l, .n = p->n};
    CHECK(ocr_result_to_page(&r, pg, (float)PAGE_W * PT, (float)PAGE_H * PT, PT, PT, 0, 0, d) ==
          Q_OK);
}

static void test_estimate(void) {
    static page p;
    const double angles[] = {0, 0.5, -0.7, 1, -1.5, 2, -3, 3, 6};
    for (size_t a = 0; a < sizeof angles / sizeof angles[0]; a++) {
        single_column(&p, angles[a], 50, 36);
        /* noise the median must ignore: short words at odd angles, a
         * vertical stamp, a long rule at 10 degrees */
        add(&p, 2000, 3000, 120, 40, angles[a] + 8, "w1");
        add(&p, 2000, 3100, 100, 40, angles[a] - 12, "w2");
        add(&p, 2300, 500, 40, 1200, angles[a], "stamp");
        add(&p, 200, 3150, 700, 30, angles[a] + 10, "rule");
        float got = skew_of(&p);
        if (!(fabs(got - angles[a]) < 0.05))
            fprintf(stderr, "skew %g: estimated %g\n", angles[a], got), failures++;
    }
    p.n = 0;
    CHECK(skew_of(&p) == 0.0f); /* no lines */
    add(&p, 100, 100, 60, 50, 5, "x");
    add(&p, 300, 100, 50, 50, -5, "y");
    CHECK(skew_of(&p) == 0.0f); /* no line-like box */
    p.l[0].quad[1][0] = NAN;
    CHECK(skew_of(&p) == 0.0f); /* NaN corners are not measurements */
    add(&p, 100, 300, 800, 40, 1.25, "z1");
    add(&p, 100, 400, 800, 40, 1.25, "z2");
    CHECK(skew_of(&p) == 0.0f); /* two lines are not enough */
    add(&p, 100, 500, 600, 40, 1.25, "z3");
    CHECK(fabsf(skew_of(&p) - 1.25f) < 0.05f); /* three are */
}

/* 40 lines in two paragraphs read in order at `deg`: their text, skew,
 * blocks, and the lines keep their page-frame hulls. */
static void check_single_column(double deg, double pitch, double box_h) {
    static page p;
    static char got[8192], want[8192];
    size_t k = 0;
    for (int i = 0; i < 40; i++)
        k += (size_t)snprintf(want + k, sizeof want - k, "%s%02da %02db", i ? " " : "", i, i);
    lay_doc d;
    CHECK(lay_doc_init(&d, 0, "synthetic") == Q_OK);
    single_column(&p, deg, pitch, box_h);
    to_record(&p, &d, 0);
    record_text(&d, 0, got, sizeof got);
    if (strcmp(got, want))
        fprintf(stderr, "skew %g, pitch %g: read %s\n", deg, pitch, got), failures++;
    CHECK(fabsf(lay_doc_page(&d, 0)->skew_deg - (float)deg) < 0.05f);
    const lay_line *l = lay_doc_line(&d, 0);
    CHECK(l[0].block == 0 && l[39].block == 0 && l[40].block == 1 && l[79].block == 1);
    for (size_t i = 0; i < p.n; i++) {
        if (strcmp(p.l[i].text, "00a")) continue;
        float x1 = -INFINITY, y0 = INFINITY;
        for (int c = 0; c < 4; c++)
            x1 = fmaxf(x1, p.l[i].quad[c][0] * PT), y0 = fminf(y0, p.l[i].quad[c][1] * PT);
        CHECK(l[0].bbox[2] == x1 && l[0].bbox[1] == y0);
    }
    lay_doc_free(&d);
}

static void test_single_column_order(void) {
    const double angles[] = {-3, -2, -1, -0.7, 0, 0.7, 1, 2, 3};
    for (size_t a = 0; a < sizeof angles / sizeof angles[0]; a++) {
        check_single_column(angles[a], 50, 36);
        /* tightly leaded: the detector's boxes (1.5 font sizes) overlap
         * the next line's by a third of their height */
        check_single_column(angles[a], 40, 60);
    }
}

static void test_two_column_order(void) {
    static page p;
    static char got[8192], want[8192];
    size_t k = (size_t)snprintf(want, sizeof want, "head");
    for (int col = 0; col < 2; col++)
        for (int i = 0; i < 30; i++)
            k += (size_t)snprintf(want + k, sizeof want - k, " %c%02d", col ? 'R' : 'L', i);
    const double angles[] = {-3, -1.5, 0, 1, 2.5, 3};
    for (size_t a = 0; a < sizeof angles / sizeof angles[0]; a++) {
        lay_doc d;
        CHECK(lay_doc_init(&d, 0, "synthetic") == Q_OK);
        two_columns(&p, angles[a]);
        to_record(&p, &d, 0);
        record_text(&d, 0, got, sizeof got);
        if (strcmp(got, want)) fprintf(stderr, "skew %g: read %s\n", angles[a], got), failures++;
        lay_doc_free(&d);
    }
}

/* A text-layer page is ordered by its boxes as before: skew 0. */
static void test_text_layer_unchanged(void) {
    lay_doc d;
    CHECK(lay_doc_init(&d, 0, "synthetic") == Q_OK);
    CHECK(lay_page_begin(&d, 0, 612, 792, 0) == Q_OK);
    const float b[3][4] = {{50, 100, 290, 110}, {50, 80, 560, 95}, {320, 100, 560, 110}};
    const char *t[3] = {"L", "H", "R"};
    for (int i = 0; i < 3; i++)
        CHECK(lay_line_add(&d, b[i], 1, 10, t[i], 1) == Q_OK);
    CHECK(lay_page_end(&d, LAY_PAGE_TEXT, 0, 1) == Q_OK);
    char got[64];
    record_text(&d, 0, got, sizeof got);
    CHECK(strcmp(got, "H L R") == 0 && lay_doc_page(&d, 0)->skew_deg == 0.0f);
    lay_doc_free(&d);
}

int main(void) {
    test_estimate();
    test_single_column_order();
    test_two_column_order();
    test_text_layer_unchanged();
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("ok: page skew and order in the deskewed frame\n");
    return failures ? 1 : 0;
}
