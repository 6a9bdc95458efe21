/* Pages through the whole pipeline: detect each page, find which way up it
 * reads (orient.c; a sideways or upside-down page is detected again on its
 * turned copy), crop and orient its lines, then recognise the lines of all
 * pages together (recognition batches fill up across pages, which is what a
 * GPU rank serving several CPU ranks wants), drop weak lines, and give a
 * page that read almost nothing a second look at the other turns. The
 * deadline is checked between stages (a model run is not interruptible, and
 * a stage takes at most a few seconds). */
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

#define NO_PAGE SIZE_MAX

/* The crops of every page, and where each came from. */
typedef struct {
    q_image *crops;
    const ocr_box **box; /* the box each crop was cut from */
    size_t *page;        /* and its page (NO_PAGE: dropped, the page was read again) */
    float *score;        /* the classifier's upside-down score */
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
    free(c->score);
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
    void *s = realloc(c->score, cap * sizeof *c->score);
    if (s) c->score = s;
    if (!a || !b || !p || !r || !s)
        return Q_FAIL(Q_ERR_NOMEM, "out of memory for %zu text lines", cap);
    c->cap = cap;
    return Q_OK;
}

/* Cuts page k's lines out of its image. */
static q_status cut_page(const q_image *img, const ocr_box *boxes, size_t nb, size_t k,
                         crop_set *c) {
    q_status st = crops_grow(c, nb);
    for (size_t i = 0; !st && i < nb; i++) {
        q_status cs = ocr_crop_line(img, &boxes[i], &c->crops[c->n]);
        if (cs == Q_ERR_NOMEM) return cs;
        if (cs) continue; /* a degenerate box has no text to read */
        c->box[c->n] = &boxes[i];
        c->page[c->n] = k;
        c->n++;
    }
    return st;
}

/* Line i of the set survives the drop score. */
static int kept(const ocr_engine *e, const crop_set *c, size_t i) {
    const ocr_rec_line *r = &c->rl[i];
    return r->conf >= e->o.drop_score && !blank(c->text.data + r->text_start, r->text_len);
}

/* One page as the pipeline reads it. */
typedef struct {
    ocr_box *first; /* detected on the image as given */
    size_t nfirst;
    ocr_box *turned; /* detected on the image turned by o.q (NULL when o.q is 0) */
    size_t nturned;
    ocr_orient o;
    size_t cut; /* the page's crops start here in the crop set */
    double t_det, t_cls;
} page_read;

static void page_read_free(page_read *p) {
    free(p->first);
    free(p->turned);
    memset(p, 0, sizeof *p);
}

static q_status detect(ocr_engine *e, const q_image *img, page_read *p, ocr_box **b, size_t *n) {
    double t = q_now();
    q_status st = ocr_detect(e, img, b, n);
    p->t_det += q_now() - t;
    return st;
}

/* Lines of a page that the classifier scores, when --no-cls, only for its
 * votes on the page's way up: a sample is enough for those. */
enum { VOTE_SAMPLE = 16 };

/* Cuts page k's lines and classifies them (flipping the upside-down ones).
 * With --no-cls, and `votes`, it scores a sample (VOTE_SAMPLE) of them and
 * flips none. Returns the number of crops scored in *scored. */
static q_status cut_classify(ocr_engine *e, const q_image *img, const ocr_box *b, size_t nb,
                             size_t k, int votes, crop_set *c, size_t *scored) {
    size_t start = c->n;
    q_status st = cut_page(img, b, nb, k, c);
    size_t n = c->n - start;
    *scored = 0;
    if (st || !n) return st;
    if (!e->o.no_cls) st = ocr_classify(e, c->crops + start, n, c->score + start);
    if (e->o.no_cls && votes) {
        n = n < VOTE_SAMPLE ? n : VOTE_SAMPLE;
        st = ocr_cls_scores(e, c->crops + start, n, c->score + start);
    }
    *scored = e->o.no_cls && !votes ? 0 : n;
    return st;
}

/* Forgets the crops of the set from `from` on (the page's, cut last). */
static void drop_from(crop_set *c, size_t from) {
    for (size_t i = from; i < c->n; i++)
        q_image_free(&c->crops[i]);
    c->n = from;
}

/* Reads page k at turn p->o.q (not 0): its turned copy detected and cut. */
static q_status read_turned(ocr_engine *e, const q_image *img, size_t k, page_read *p,
                            crop_set *c) {
    q_image t;
    q_status st = ocr_turn_image(img, p->o.q, &t);
    if (st) return st;
    free(p->turned);
    p->turned = NULL;
    st = detect(e, &t, p, &p->turned, &p->nturned);
    double t0 = q_now();
    size_t scored;
    if (!st) st = cut_classify(e, &t, p->turned, p->nturned, k, 0, c, &scored);
    p->t_cls += q_now() - t0;
    q_image_free(&t);
    return st;
}

/* Detects page k, finds its way up, and cuts and classifies its lines. */
static q_status read_page(ocr_engine *e, const q_image *img, size_t k, page_read *p, crop_set *c) {
    p->cut = c->n;
    q_status st = detect(e, img, p, &p->first, &p->nfirst);
    if (st) return st;
    double t0 = q_now();
    size_t scored;
    if (e->o.no_rotate_pages) {
        st = cut_classify(e, img, p->first, p->nfirst, k, 0, c, &scored);
        p->t_cls += q_now() - t0;
        return st;
    }
    st = ocr_orient_sideways(e, img, p->first, p->nfirst, &p->o);
    if (!st && p->o.q < 0) {
        st = cut_classify(e, img, p->first, p->nfirst, k, 1, c, &scored);
        if (!st)
            st = ocr_orient_flat(e, img, p->first, p->nfirst, c->crops + p->cut, c->score + p->cut,
                                 scored, &p->o);
        if (!st && p->o.q) drop_from(c, p->cut);
    }
    p->t_cls += q_now() - t0;
    if (st || !p->o.q) return st;
    return read_turned(e, img, k, p, c);
}

/* The second look at page k after recognition: when it read almost nothing,
 * the recognizer tries the other turns, and a clearly better one has the page
 * read again at that turn (its earlier lines dropped). */
static q_status second_look(ocr_engine *e, const q_image *img, size_t k, page_read *p,
                            crop_set *c) {
    size_t mine = 0, good = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->page[i] == k) mine++, good += kept(e, c, i);
    if (!ocr_orient_read_little(mine, good)) return Q_OK;
    int was = p->o.q;
    double t0 = q_now();
    q_status st = ocr_orient_retry(e, img, p->first, p->nfirst, &p->o);
    p->t_cls += q_now() - t0;
    if (st || p->o.q == was) return st;
    for (size_t i = 0; i < c->n; i++)
        if (c->page[i] == k) {
            c->page[i] = NO_PAGE;
            q_image_free(&c->crops[i]);
        }
    size_t start = c->n, scored;
    if (p->o.q)
        st = read_turned(e, img, k, p, c);
    else
        st = cut_classify(e, img, p->first, p->nfirst, k, 0, c, &scored);
    if (!st && c->n > start)
        st = ocr_recognize(e, c->crops + start, c->n - start, c->rl + start, &c->text);
    return st;
}

/* Page k's lines at or above the drop score, in box order; boxes back on the
 * image as given (w x h) when the page was read turned. */
static q_status collect(const ocr_engine *e, const crop_set *c, size_t k, const q_image *img, int q,
                        ocr_result *out) {
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += c->page[i] == k;
    out->lines = calloc(n ? n : 1, sizeof *out->lines);
    if (!out->lines) return Q_FAIL(Q_ERR_NOMEM, "out of memory");
    out->rotation = 90 * q;
    /* the turned image's size, and the turn that brings its points back */
    int tw = q & 1 ? img->h : img->w, th = q & 1 ? img->w : img->h, back = (4 - q) & 3;
    q_status st = Q_OK;
    size_t m = 0;
    for (size_t i = 0; !st && i < c->n; i++) {
        const ocr_rec_line *r = &c->rl[i];
        const char *s = c->text.data + r->text_start;
        if (c->page[i] != k || !kept(e, c, i)) continue;
        ocr_line *l = &out->lines[m++];
        memcpy(l->quad, c->box[i]->pt, sizeof l->quad);
        /* points only: corner 0 stays where the line's text starts */
        for (int j = 0; q && j < 4; j++)
            ocr_turn_point(l->quad[j], back, tw, th);
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

/* Recognises every line of the set, then gives each page its second look. */
static q_status recognise(ocr_engine *e, const q_image *imgs, size_t n, page_read *pr, crop_set *c,
                          double deadline, double *t_rec) {
    double t = q_now();
    q_status st = c->n ? check_deadline(deadline, "text recognition") : Q_OK;
    if (!st && c->n) st = ocr_recognize(e, c->crops, c->n, c->rl, &c->text);
    *t_rec = q_now() - t;
    for (size_t k = 0; !st && !e->o.no_rotate_pages && k < n; k++) {
        st = check_deadline(deadline, "a second look at the page's orientation");
        if (!st) st = second_look(e, &imgs[k], k, &pr[k], c);
    }
    return st;
}

q_status ocr_images(ocr_engine *e, const q_image *imgs, size_t n, double deadline,
                    ocr_result *out) {
    memset(out, 0, n * sizeof *out);
    e->deadline = deadline;
    page_read *pr = calloc(n ? n : 1, sizeof *pr);
    crop_set c = {0};
    q_status st = pr ? Q_OK : Q_FAIL(Q_ERR_NOMEM, "out of memory");
    for (size_t k = 0; !st && k < n; k++) {
        st = read_page(e, &imgs[k], k, &pr[k], &c);
        if (!st && k + 1 < n) st = check_deadline(deadline, "text detection");
    }
    double t_rec = 0;
    if (!st) st = recognise(e, imgs, n, pr, &c, deadline, &t_rec);
    size_t live = 0;
    for (size_t i = 0; i < c.n; i++)
        live += c.page[i] != NO_PAGE;
    for (size_t k = 0; !st && k < n; k++) {
        /* Recognition is shared: charged to pages by their share of the lines. */
        size_t mine = 0;
        for (size_t i = 0; i < c.n; i++)
            mine += c.page[i] == k;
        out[k].t_det = pr[k].t_det;
        out[k].t_cls = pr[k].t_cls;
        out[k].t_rec = t_rec * (live ? (double)mine / live : 1.0 / n);
        e->t_stage[OCR_NET_DET] += out[k].t_det;
        e->t_stage[OCR_NET_CLS] += out[k].t_cls;
        e->t_stage[OCR_NET_REC] += out[k].t_rec;
        e->pages++;
        st = collect(e, &c, k, &imgs[k], pr[k].o.q, &out[k]);
    }
    crops_free(&c);
    if (st) ocr_net_drain(e);
    for (size_t k = 0; pr && k < n; k++)
        page_read_free(&pr[k]);
    free(pr);
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
