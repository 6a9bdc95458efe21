/* Page orientation: which of the four quarter turns reads a page upright.
 * There is no orientation model, so three cues the pipeline has anyway are
 * combined, cheapest first:
 *  - the boxes' shape: lines of a sideways page stand upright (tall boxes);
 *  - the line classifier's 0/180 votes over many lines (on an upright page
 *    these come free: the pipeline classifies every line anyway);
 *  - where those are weak or disagree, the recognizer's confidence on a few
 *    of the longest lines cut at each candidate turn: text read the right
 *    way up is read with confidence, text read sideways or upside down not.
 * An upright page whose lines lie along x and whose votes say upright costs
 * nothing more than before. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/ocr_private.h"

/* A box stands upright when its height is this many times its width: the
 * crop's own rule (ocr_crop turns such a crop), so a box that counts as
 * tall here is one the crop would have turned. */
#define SHAPE_RATIO 1.5
/* The boxes' shape says "along x" (or "along y") when the long sides of the
 * boxes lying that way outweigh the others this many times. */
#define SHAPE_CLEAR 3.0
/* The classifier's votes are clear when one way holds this share of them... */
#define VOTE_CLEAR 0.75
/* ...and there are at least this many windows' worth of them (a window is a
 * 4:1 piece of line, the classifier's input shape; a line gives up to 3). */
#define VOTE_MIN 3.0
/* A turn tried again after a page read almost nothing must beat the turn it
 * was read at by this much mean confidence (on its scale of 0 to 1: a
 * line read right is near 0.9, one read the wrong way round rarely 0.6). */
#define RETRY_MARGIN 0.15

enum {
    VOTE_LINES = 16, /* lines of a sideways page the classifier votes on */
    PROBE_LINES = 6, /* lines the recognizer reads at each candidate turn */
    PROBE_EM = 16,   /* at most this many line heights of each (its middle) */
    ALL_TURNS = 15,  /* bits 0..3 */
};

static double dist(const float a[2], const float b[2]) {
    return hypot(a[0] - b[0], a[1] - b[1]);
}

/* Width (along corners 0 -> 1) and height (0 -> 3) of a box, the longer of
 * each pair of opposite sides, as ocr_crop measures them. */
static void box_size(const ocr_box *b, double *w, double *h) {
    *w = fmax(dist(b->pt[0], b->pt[1]), dist(b->pt[3], b->pt[2]));
    *h = fmax(dist(b->pt[0], b->pt[3]), dist(b->pt[1], b->pt[2]));
}

/* Summed long sides of the boxes lying along x and standing along y; boxes
 * near square (a word of two letters, a digit) say nothing. */
static void shape(const ocr_box *b, size_t n, double *along_x, double *along_y) {
    *along_x = *along_y = 0;
    for (size_t i = 0; i < n; i++) {
        double w, h;
        box_size(&b[i], &w, &h);
        if (h >= SHAPE_RATIO * w)
            *along_y += h;
        else if (w >= SHAPE_RATIO * h)
            *along_x += w;
    }
}

/* Indices of the (at most) k boxes with the longest long side, among those
 * standing upright (`tall` 1) or not (0), or all (-1). Returns how many. */
static size_t longest(const ocr_box *b, size_t n, int tall, size_t k, size_t *idx) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        double w, h;
        box_size(&b[i], &w, &h);
        if (tall >= 0 && (h >= SHAPE_RATIO * w) != tall) continue;
        double len = fmax(w, h);
        size_t j = m < k ? m++ : k;
        /* insertion into the sorted top k (k is small) */
        while (j > 0) {
            double pw, ph;
            box_size(&b[idx[j - 1]], &pw, &ph);
            if (fmax(pw, ph) >= len) break;
            if (j < k) idx[j] = idx[j - 1];
            j--;
        }
        if (j < k) idx[j] = i;
    }
    return m;
}

/* The classifier's votes: each crop counts as many 4:1 windows as it holds
 * (at most 3, as the classifier sees it), split by its upside-down score.
 * Returns 0 (upright) or 2 (upside down) when clear, -1 when not. */
static int votes(const q_image *crops, const float *score, size_t n) {
    double up = 0, down = 0;
    for (size_t i = 0; i < n; i++) {
        if (crops[i].h <= 0) continue;
        double w = fmin((double)crops[i].w / crops[i].h / 4.0, 3.0);
        up += w * (1 - score[i]);
        down += w * score[i];
    }
    double all = up + down;
    if (all < VOTE_MIN) return -1;
    if (up >= VOTE_CLEAR * all) return 0;
    if (down >= VOTE_CLEAR * all) return 2;
    return -1;
}

static void free_crops(q_image *c, size_t n) {
    for (size_t i = 0; i < n; i++)
        q_image_free(&c[i]);
}

/* Sample line idx[i] cut as the page turned by q would show it; a box that
 * would stand upright there (or cannot be cut) gives an empty image. */
static q_status cut_turned(const q_image *img, const ocr_box *b, int q, q_image *out) {
    ocr_box t = *b;
    ocr_box_renumber(&t, q);
    double w, h;
    box_size(&t, &w, &h);
    memset(out, 0, sizeof *out);
    if (h >= SHAPE_RATIO * w) return Q_OK;
    q_status st = ocr_crop_line(img, &t, out);
    return st == Q_ERR_NOMEM ? st : Q_OK;
}

/* The recognizer's mean confidence over the page's PROBE_LINES longest lines
 * at each turn in `mask` (a line it cannot read that way counts 0). Only the
 * middle PROBE_EM line heights of each are read: enough words to tell, at a
 * fraction of a long line's cost. */
static q_status probe(ocr_engine *e, const q_image *img, const ocr_box *b, size_t n, int mask,
                      float conf[4]) {
    size_t idx[PROBE_LINES], k = longest(b, n, -1, PROBE_LINES, idx), m = 0;
    q_image crops[4 * PROBE_LINES], views[4 * PROBE_LINES];
    int turn[4 * PROBE_LINES];
    ocr_rec_line rl[4 * PROBE_LINES];
    q_status st = Q_OK;
    for (int q = 0; q < 4; q++) {
        conf[q] = 0;
        for (size_t i = 0; !st && (mask >> q & 1) && i < k; i++) {
            st = cut_turned(img, &b[idx[i]], q, &crops[m]);
            if (st || !crops[m].px) continue;
            views[m] = crops[m];
            int cap = PROBE_EM * crops[m].h;
            if (views[m].w > cap) { /* the middle of the line */
                views[m].px += (size_t)(views[m].w - cap) / 2 * (size_t)views[m].channels;
                views[m].w = cap;
            }
            turn[m++] = q;
        }
    }
    q_buf text = {0};
    if (!st && m) st = ocr_recognize(e, views, m, rl, &text);
    for (size_t i = 0; !st && i < m; i++)
        conf[turn[i]] += rl[i].text_len ? rl[i].conf / (float)k : 0;
    q_buf_free(&text);
    free_crops(crops, m);
    return st;
}

/* The turn in `mask` that the recognizer reads best; `prefer` on a tie. */
static int best(const float conf[4], int mask, int prefer) {
    int q = prefer;
    for (int t = 0; t < 4; t++)
        if ((mask >> t & 1) && conf[t] > conf[q]) q = t;
    return q;
}

q_status ocr_orient_sideways(ocr_engine *e, const q_image *img, const ocr_box *b, size_t n,
                             ocr_orient *o) {
    o->q = -1;
    o->probed = 0;
    double ax, ay;
    shape(b, n, &ax, &ay);
    if (!(ay > 0 && ay >= SHAPE_CLEAR * ax)) return Q_OK;
    /* The classifier on the longest upright boxes, cut as the page turned a
     * quarter clockwise would show them: upright there means turn 1, upside
     * down means the other way (turn 3). */
    size_t idx[VOTE_LINES], k = longest(b, n, 1, VOTE_LINES, idx), m = 0;
    q_image crops[VOTE_LINES];
    float score[VOTE_LINES];
    q_status st = Q_OK;
    for (size_t i = 0; !st && i < k; i++) {
        st = cut_turned(img, &b[idx[i]], 1, &crops[m]);
        if (!st && crops[m].px) m++;
    }
    if (!st && m) st = ocr_cls_scores(e, crops, m, score);
    int v = st || !m ? -1 : votes(crops, score, m);
    free_crops(crops, m);
    if (st) return st;
    if (v >= 0) {
        o->q = v == 0 ? 1 : 3;
        return Q_OK;
    }
    float conf[4];
    o->probed = 1 << 1 | 1 << 3;
    st = probe(e, img, b, n, o->probed, conf);
    if (!st) o->q = best(conf, o->probed, 1);
    return st;
}

q_status ocr_orient_flat(ocr_engine *e, const q_image *img, const ocr_box *b, size_t nb,
                         const q_image *crops, const float *score, size_t nc, ocr_orient *o) {
    double ax, ay;
    shape(b, nb, &ax, &ay);
    int flat = ax > 0 && ax >= SHAPE_CLEAR * ay;
    int v = votes(crops, score, nc);
    o->probed = 0;
    o->q = 0;
    if (!nb || (flat && v >= 0)) {
        o->q = v < 0 ? 0 : v;
        return Q_OK;
    }
    /* The votes are weak, or the shape says nothing: the recognizer decides
     * (the classifier's way on a tie). */
    float conf[4];
    o->probed = flat ? 1 << 0 | 1 << 2 : ALL_TURNS;
    q_status st = probe(e, img, b, nb, o->probed, conf);
    if (!st) o->q = best(conf, o->probed, v < 0 ? 0 : v);
    return st;
}

int ocr_orient_read_little(size_t nb, size_t kept) {
    /* On a page read the right way up nearly every line passes the drop
     * score; read the wrong way, nearly none does. */
    return nb > 0 && 2 * kept < nb;
}

q_status ocr_orient_retry(ocr_engine *e, const q_image *img, const ocr_box *b, size_t n,
                          ocr_orient *o) {
    if (o->probed == ALL_TURNS || !n) return Q_OK;
    float conf[4];
    q_status st = probe(e, img, b, n, ALL_TURNS, conf);
    if (st) return st;
    int q = best(conf, ALL_TURNS, o->q);
    if (conf[q] >= conf[o->q] + RETRY_MARGIN) o->q = q;
    o->probed = ALL_TURNS;
    return Q_OK;
}
