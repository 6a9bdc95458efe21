/* CTC prefix beam search with word lists: instead of the best class of each
 * time step (greedy decoding), the few most probable label sequences are
 * followed through the line, summing every alignment of each, and a word
 * that the lexicon does not know pays a penalty when it completes unless its
 * letters were read clearly. "thc" read with a doubtful c then loses to
 * "the", whose e the recognizer gave some probability. Prefixes live in a
 * tree (one node per distinct prefix) so that paths reaching the same text
 * merge. Probabilities are renormalised at each step instead of taken as
 * logarithms: a line is a few hundred steps and ratios are what count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/ocr_private.h"

enum { WORD_MAX = 256 }; /* bytes of a word the lexicon is asked about */

void ocr_beam_params_default(ocr_beam_params *p, int width) {
    p->width = width > 0 ? width : OCR_BEAM_WIDTH;
    p->topk = OCR_BEAM_TOPK;
    p->min_prob = 1e-3f;
    p->clear = 0.9f;
    p->nonword_log = -4.0f;
}

typedef struct {
    int parent, label;  /* the prefix without its last label, and that label */
    int child, sibling; /* first child, next sibling */
    int word;           /* node of the first character of the word it ends in; -1 after a space */
    float pmax;         /* the highest probability its last label was read with */
    float lm;           /* the word scores of the words completed in the prefix */
    double pb, pnb;     /* this step's mass: paths ending in a blank / in the label */
    int stamp;          /* the step pb and pnb belong to */
} bnode;

typedef struct {
    const ocr_dict *d;
    const ocr_lexicon *lx;
    const ocr_beam_params *bp;
    int classes;
    bnode *node;
    int nn, cap;
    int *cand, ncand; /* nodes that received mass this step */
} beam;

static const char *label_str(const beam *b, int c) {
    return c == b->classes - 1 ? " " : b->d->chars.data + b->d->off[c - 1];
}

/* The score of the word that ends at node n (0 when it is empty). */
static float word_score(const beam *b, int n) {
    if (n <= 0 || b->node[n].word < 0) return 0;
    int at[WORD_MAX], k = 0;
    float min_p = 1;
    for (int m = n; k < WORD_MAX; m = b->node[m].parent) {
        at[k++] = m;
        if (b->node[m].pmax < min_p) min_p = b->node[m].pmax;
        if (m == b->node[n].word) break;
    }
    char w[WORD_MAX];
    size_t len = 0;
    for (int i = k - 1; i >= 0; i--) {
        const char *s = label_str(b, b->node[at[i]].label);
        size_t l = strlen(s);
        if (len + l > sizeof w) return 0; /* no word is this long: leave it to the recognizer */
        memcpy(w + len, s, l);
        len += l;
    }
    return ocr_beam_word_score(b->lx, b->bp, w, len, min_p);
}

static int new_node(beam *b, int parent, int label) {
    if (b->nn == b->cap) {
        int cap = b->cap * 2;
        bnode *g = realloc(b->node, (size_t)cap * sizeof *g);
        if (!g) return -1;
        b->node = g;
        b->cap = cap;
    }
    int i = b->nn++;
    bnode *x = &b->node[i];
    memset(x, 0, sizeof *x);
    x->parent = parent;
    x->label = label;
    x->child = -1;
    x->stamp = -1;
    x->word = -1;
    if (parent >= 0) {
        bnode *p = &b->node[parent];
        x->sibling = p->child;
        p->child = i;
        int space = label == b->classes - 1;
        x->word = space ? -1 : p->word >= 0 ? p->word : i;
        x->lm = p->lm + (space ? word_score(b, parent) : 0);
    }
    return i;
}

static int child(beam *b, int n, int c) {
    for (int k = b->node[n].child; k >= 0; k = b->node[k].sibling)
        if (b->node[k].label == c) return k;
    return new_node(b, n, c);
}

/* Adds mass to node n's candidate for step t. */
static void add(beam *b, int n, int t, double pb, double pnb) {
    bnode *x = &b->node[n];
    if (x->stamp != t) {
        x->stamp = t;
        x->pb = x->pnb = 0;
        b->cand[b->ncand++] = n;
    }
    x->pb += pb;
    x->pnb += pnb;
}

static double rank_of(const beam *b, int n, double pb, double pnb) {
    double tot = pb + pnb;
    return (tot > 0 ? log(tot) : -1e300) + b->node[n].lm;
}

/* The k most probable non-blank classes of a row, at least min_prob each. */
static int top_classes(const float *row, int classes, int k, float min_prob, int *top) {
    int n = 0;
    for (int c = 1; c < classes; c++) {
        float p = ocr_prob(row[c]);
        if (p < min_prob || (n == k && p <= ocr_prob(row[top[n - 1]]))) continue;
        int i = n < k ? n++ : n - 1;
        while (i > 0 && ocr_prob(row[top[i - 1]]) < p) {
            top[i] = top[i - 1];
            i--;
        }
        top[i] = c;
    }
    return n;
}

typedef struct {
    int n;
    double pb, pnb, rank;
} bentry;

static int cmp_rank(const void *pa, const void *pb) {
    const bentry *a = pa, *b = pb;
    if (a->rank != b->rank) return a->rank > b->rank ? -1 : 1;
    return a->n - b->n;
}

/* One time step: every kept prefix extended by a blank, its own last label
 * and the step's top classes; then the best `width` candidates kept. */
static int step(beam *b, const float *row, int t, bentry *beams, int *nb, bentry *scratch) {
    int top[64];
    int k = top_classes(row, b->classes, b->bp->topk, b->bp->min_prob, top);
    float pblank = ocr_prob(row[0]);
    b->ncand = 0;
    for (int i = 0; i < *nb; i++) {
        int n = beams[i].n;
        double pb = beams[i].pb, pnb = beams[i].pnb, tot = pb + pnb;
        add(b, n, t, tot * pblank, 0);
        int last = n > 0 ? b->node[n].label : -1;
        if (last > 0) {
            float p = ocr_prob(row[last]);
            add(b, n, t, 0, pnb * p);
            if (p > b->node[n].pmax) b->node[n].pmax = p;
        }
        for (int j = 0; j < k; j++) {
            float p = ocr_prob(row[top[j]]);
            int c = child(b, n, top[j]);
            if (c < 0) return -1;
            add(b, c, t, 0, (top[j] == last ? pb : tot) * p);
            if (p > b->node[c].pmax) b->node[c].pmax = p;
        }
    }
    double best = 0;
    int m = 0;
    for (int i = 0; i < b->ncand; i++) {
        bnode *x = &b->node[b->cand[i]];
        if (!(x->pb + x->pnb > 0)) continue;
        scratch[m++] = (bentry){b->cand[i], x->pb, x->pnb, rank_of(b, b->cand[i], x->pb, x->pnb)};
    }
    if (!m) return 0; /* a row of zeros says nothing: the prefixes stay as they were */
    qsort(scratch, (size_t)m, sizeof *scratch, cmp_rank);
    if (m > b->bp->width) m = b->bp->width;
    for (int i = 0; i < m; i++)
        if (scratch[i].pb + scratch[i].pnb > best) best = scratch[i].pb + scratch[i].pnb;
    for (int i = 0; i < m; i++) {
        beams[i] = scratch[i];
        beams[i].pb /= best;
        beams[i].pnb /= best;
    }
    *nb = m;
    return 0;
}

/* The labels of node n's prefix, in order, into labels[]; returns their count. */
static int prefix_labels(const beam *b, int n, int *labels) {
    int k = 0;
    for (int m = n; m > 0; m = b->node[m].parent)
        k++;
    int i = k;
    for (int m = n; m > 0; m = b->node[m].parent)
        labels[--i] = b->node[m].label;
    return k;
}

/* Appends the chosen prefix's text, character origins and confidence. */
static q_status emit(const beam *b, int n, const float *probs, int steps, float *conf, q_buf *text,
                     ocr_ctc_char *chars, size_t *nchars) {
    int *lab = malloc(((size_t)steps * 3 + 1) * sizeof *lab);
    float *p0 = malloc(((size_t)steps + 1) * sizeof *p0);
    const char **strs = malloc(((size_t)steps + 1) * sizeof *strs);
    q_status st = Q_OK;
    if (!lab || !p0 || !strs) st = Q_FAIL(Q_ERR_NOMEM, "out of memory decoding a line");
    int nl = st ? 0 : prefix_labels(b, n, lab), *t0 = lab + steps, *t1 = lab + 2 * steps;
    if (!st) st = ocr_ctc_align(probs, steps, b->classes, lab, nl, t0, t1, p0);
    for (int j = 0; !st && j < nl; j++)
        strs[j] = label_str(b, lab[j]);
    if (!st) ocr_beam_respell(b->lx, b->bp, strs, nl);
    double sum = 0;
    for (int j = 0; !st && j < nl; j++) {
        /* a ligature respelled "fi" is one character of two letters: its steps are the f's */
        if (chars) chars[(*nchars)++] = (ocr_ctc_char){.byte = text->len, .t0 = t0[j], .t1 = t1[j]};
        st = q_buf_puts(text, strs[j]);
        sum += p0[j];
    }
    if (!st) *conf = nl ? (float)(sum / nl) : 0.0f;
    free(lab);
    free(p0);
    free(strs);
    return st;
}

q_status ocr_beam_decode(const ocr_dict *d, const ocr_lexicon *lx, const ocr_beam_params *bp,
                         const float *probs, int steps, int classes, float *conf, q_buf *text,
                         ocr_ctc_char *chars, size_t *nchars) {
    *conf = 0;
    if (nchars) *nchars = 0;
    q_status fit = ocr_ctc_check(d, classes);
    if (fit) return fit;
    if (steps <= 0) return Q_OK;
    ocr_beam_params p = *bp;
    if (p.width < 1) p.width = 1;
    if (p.topk < 1) p.topk = 1;
    if (p.topk > 64) p.topk = 64;
    beam b = {.d = d, .lx = lx, .bp = &p, .classes = classes, .cap = 256};
    int per = p.width * (p.topk + 2);
    b.node = malloc((size_t)b.cap * sizeof *b.node);
    b.cand = malloc((size_t)per * sizeof *b.cand);
    bentry *beams = malloc((size_t)per * 2 * sizeof *beams);
    q_status st = Q_OK;
    if (!b.node || !b.cand || !beams) st = Q_FAIL(Q_ERR_NOMEM, "out of memory decoding a line");
    int nb = 1;
    if (!st) {
        new_node(&b, -1, 0); /* the root: the empty prefix */
        beams[0] = (bentry){0, 1, 0, 0};
    }
    for (int t = 0; !st && t < steps; t++)
        if (step(&b, probs + (size_t)t * classes, t, beams, &nb, beams + per))
            st = Q_FAIL(Q_ERR_NOMEM, "out of memory decoding a line");
    if (!st) {
        /* the last word completes at the line's end */
        int best = 0;
        double best_rank = -INFINITY;
        for (int i = 0; i < nb; i++) {
            double r =
                rank_of(&b, beams[i].n, beams[i].pb, beams[i].pnb) + word_score(&b, beams[i].n);
            if (r > best_rank) best_rank = r, best = beams[i].n;
        }
        st = emit(&b, best, probs, steps, conf, text, chars, nchars);
    }
    free(b.node);
    free(b.cand);
    free(beams);
    return st;
}
