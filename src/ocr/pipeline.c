/* Pages through the whole pipeline: detect each page, crop its lines, then
 * orient and recognise the lines of all pages together (recognition batches
 * fill up across pages, which is what a GPU rank serving several CPU ranks
 * wants), drop weak lines. The deadline is checked between stages (a model
 * run is not interruptible, and a stage takes at most a few seconds). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/ocr_private.h"

static q_status check_deadline(double deadline, const char *stage) {
    if (deadline > 0 && q_now() >= deadline)
        return Q_FAIL(Q_ERR_TIMEOUT, "timeout before %s", stage);
    return Q_OK;
}

/* A line of nothing but spaces carries no text: the recognizer reads such
 * lines off noise and rules, and PaddleOCR would keep them. */
static int blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ') return 0;
    return 1;
}

/* The crops of every page, and where each came from. */
typedef struct {
    q_image *crops;
    const ocr_box **box; /* the box each crop was cut from */
    size_t *page;        /* and its page */
    ocr_rec_line *rl;
    size_t n, cap;
    q_buf text;
} crop_set;

static void crops_free(crop_set *c) {
    for (size_t i = 0; i < c->n; i++)
        q_image_free(&c->crops[i]);
    free(c->crops);
    free(c->box);
    free(c->page);
    free(c->rl);
    q_buf_free(&c->text);
}

static q_status crops_grow(crop_set *c, size_t extra) {
    if (c->n + extra <= c->cap) return Q_OK;
    size_t cap = c->cap ? c->cap : 64;
    while (cap < c->n + extra)
        cap *= 2;
    void *a = realloc(c->crops, cap * sizeof *c->crops), *b = realloc(c->box, cap * sizeof *c->box);
    if (a) c->crops = a;
    if (b) c->box = b;
    void *p = realloc(c->page, cap * sizeof *c->page), *r = realloc(c->rl, cap * sizeof *c->rl);
    if (p) c->page = p;
    if (r) c->rl = r;
    if (!a || !b || !p || !r) return Q_FAIL(Q_ERR_NOMEM, "out of memory for %zu text lines", cap);
    c->cap = cap;
    return Q_OK;
}

/* Cuts page k's lines out of its image. */
/* The crop reaches OCR_CROP_PAD x the line's height past both ends of the
 * detected box. At PaddleOCR's detection scale a 300-dpi page is shrunk about
 * 3.6 times, and the box often ends inside a thin last character or before a
 * final period ("kerne" for "kernel"); measured on the scans corpus, the pad
 * cuts the bag-of-words error of clean pages from 1.3 % to 0.5 %. The line's
 * reported box stays the detector's. */
#define OCR_CROP_PAD 0.2

static void pad_ends(ocr_box *b, const q_image *img) {
    double ux = b->pt[1][0] - b->pt[0][0], uy = b->pt[1][1] - b->pt[0][1];
    double hx = b->pt[3][0] - b->pt[0][0], hy = b->pt[3][1] - b->pt[0][1];
    double len = sqrt(ux * ux + uy * uy), h = sqrt(hx * hx + hy * hy);
    if (!(len >= 1 && isfinite(len) && isfinite(h))) return; /* ocr_crop refuses such a box */
    double px = ux / len * OCR_CROP_PAD * h, py = uy / len * OCR_CROP_PAD * h;
    static const double side[4] = {-1, 1, 1, -1}; /* left corners back, right ones on */
    for (int k = 0; k < 4; k++) {
        double x = b->pt[k][0] + side[k] * px, y = b->pt[k][1] + side[k] * py;
        b->pt[k][0] = (float)(x < 0 ? 0 : x > img->w - 1 ? img->w - 1 : x);
        b->pt[k][1] = (float)(y < 0 ? 0 : y > img->h - 1 ? img->h - 1 : y);
    }
}

static q_status cut_page(const q_image *img, const ocr_box *boxes, size_t nb, size_t k,
                         crop_set *c) {
    q_status st = crops_grow(c, nb);
    for (size_t i = 0; !st && i < nb; i++) {
        ocr_box b = boxes[i];
        pad_ends(&b, img);
        q_status cs = ocr_crop(img, &b, &c->crops[c->n]);
        if (cs == Q_ERR_NOMEM) return cs;
        if (cs) continue; /* a degenerate box has no text to read */
        c->box[c->n] = &boxes[i];
        c->page[c->n] = k;
        c->n++;
    }
    return st;
}

/* Page k's lines at or above the drop score, in box order. */
static q_status collect(const ocr_engine *e, const crop_set *c, size_t k, ocr_result *out) {
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += c->page[i] == k;
    out->lines = calloc(n ? n : 1, sizeof *out->lines);
    if (!out->lines) return Q_FAIL(Q_ERR_NOMEM, "out of memory");
    q_status st = Q_OK;
    size_t m = 0;
    for (size_t i = 0; !st && i < c->n; i++) {
        const ocr_rec_line *r = &c->rl[i];
        const char *s = c->text.data + r->text_start;
        if (c->page[i] != k || r->conf < e->o.drop_score || blank(s, r->text_len)) continue;
        ocr_line *l = &out->lines[m++];
        memcpy(l->quad, c->box[i]->pt, sizeof l->quad);
        l->conf = r->conf;
        l->len = r->text_len;
        /* an offset until the buffer stops moving */
        l->text = (const char *)(uintptr_t)out->text.len;
        st = q_buf_append(&out->text, s, r->text_len);
        if (!st) st = q_buf_append(&out->text, "", 1);
    }
    out->n = m;
    for (size_t i = 0; !st && i < m; i++)
        out->lines[i].text = out->text.data + (uintptr_t)out->lines[i].text;
    return st;
}

q_status ocr_images(ocr_engine *e, const q_image *imgs, size_t n, double deadline,
                    ocr_result *out) {
    memset(out, 0, n * sizeof *out);
    ocr_box **boxes = calloc(n ? n : 1, sizeof *boxes);
    size_t *nb = calloc(n ? n : 1, sizeof *nb);
    crop_set c = {0};
    q_status st = boxes && nb ? Q_OK : Q_FAIL(Q_ERR_NOMEM, "out of memory");
    for (size_t k = 0; !st && k < n; k++) {
        double t = q_now();
        st = ocr_detect(e, &imgs[k], &boxes[k], &nb[k]);
        if (!st) st = cut_page(&imgs[k], boxes[k], nb[k], k, &c);
        out[k].t_det = q_now() - t;
        if (!st && k + 1 < n) st = check_deadline(deadline, "text detection");
    }
    double t = q_now();
    if (!st && !e->o.no_cls && c.n) {
        st = check_deadline(deadline, "line orientation");
        if (!st) st = ocr_classify(e, c.crops, c.n);
    }
    double t_cls = q_now() - t;
    t = q_now();
    if (!st && c.n) {
        st = check_deadline(deadline, "text recognition");
        if (!st) st = ocr_recognize(e, c.crops, c.n, c.rl, &c.text);
    }
    double t_rec = q_now() - t;
    for (size_t k = 0; !st && k < n; k++) {
        /* Shared stages are charged to pages by their share of the lines. */
        size_t mine = 0;
        for (size_t i = 0; i < c.n; i++)
            mine += c.page[i] == k;
        double share = c.n ? (double)mine / c.n : 1.0 / n;
        out[k].t_cls = t_cls * share;
        out[k].t_rec = t_rec * share;
        st = collect(e, &c, k, &out[k]);
    }
    crops_free(&c);
    for (size_t k = 0; boxes && k < n; k++)
        free(boxes[k]);
    free(boxes);
    free(nb);
    if (st)
        for (size_t k = 0; k < n; k++)
            ocr_result_free(&out[k]);
    return st;
}

q_status ocr_image(ocr_engine *e, const q_image *img, double deadline, ocr_result *out) {
    return ocr_images(e, img, 1, deadline, out);
}

void ocr_result_free(ocr_result *r) {
    if (!r) return;
    free(r->lines);
    q_buf_free(&r->text);
    memset(r, 0, sizeof *r);
}
