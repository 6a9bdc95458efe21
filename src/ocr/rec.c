/* Recognition: crops sorted by aspect ratio and batched (on the CPU, no
 * more columns in a batch than stay in the caches), each batch as wide as its
 * widest line (at least 320 px) rounded up to a width bucket, CTC-decoded
 * (greedily, or by the beam with word lists: beam.c), then what the network
 * misreads corrected (case.c, numbers.c, words.c). Sorting keeps padding,
 * and so wasted work, small. */
#include <stdlib.h>
#include <string.h>

#include "ocr/ocr_private.h"

/* REC_W_STEP: the tensor width is rounded up to a multiple of this. Each new
 * input shape costs a new plan in nn and, on CUDA, a cudnnFind per conv
 * shape; a batch as wide as its widest line is nearly always a new shape. In
 * buckets of 64 px (8 CTC steps of the recognizer) a document's batches
 * share a handful of shapes. Lines keep their own width: the rest is
 * padding, as for the shorter lines of any batch. */
enum { REC_H = 48, REC_MIN_W = 320, REC_W_STEP = 64 };

typedef struct {
    size_t idx;
    double ratio;
} rec_item;

/* The tensor width of a batch whose widest line has aspect `ratio`. */
static int batch_width(double ratio, int *line_w) {
    double r = ratio > (double)REC_MIN_W / REC_H ? ratio : (double)REC_MIN_W / REC_H;
    int w = (int)(REC_H * r);
    if (line_w) *line_w = w;
    return (w + REC_W_STEP - 1) / REC_W_STEP * REC_W_STEP;
}

static int cmp_ratio(const void *pa, const void *pb) {
    const rec_item *a = pa, *b = pb;
    if (a->ratio != b->ratio) return a->ratio < b->ratio ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* One batch on its way: its lines, its widths and its request. */
typedef struct {
    const rec_item *it;
    size_t k;
    int W, TW; /* W: the widest line's width, which caps every line; TW: the tensor's */
    uint64_t ticket;
} rec_flight;

static q_status rec_submit(ocr_engine *e, const q_image *crops, rec_flight *f) {
    double max_ratio = 0;
    for (size_t i = 0; i < f->k; i++)
        if (f->it[i].ratio > max_ratio) max_ratio = f->it[i].ratio;
    f->TW = batch_width(max_ratio, &f->W);
    size_t per = (size_t)3 * REC_H * f->TW;
    q_status st = ocr_tensor_reserve(e, per * f->k);
    for (size_t i = 0; !st && i < f->k; i++)
        st = ocr_line_tensor(&crops[f->it[i].idx], REC_H, f->W, f->TW, e->tensor + i * per);
    if (st) return st;
    nn_shape in = {.ndim = 4, .dims = {(int64_t)f->k, 3, REC_H, f->TW}};
    if (ocr_net_submit(e, OCR_NET_REC, e->tensor, &in, &f->ticket))
        return q_fail_context("text recognition");
    return Q_OK;
}

/* Decodes one line of a batch's output and fixes what the network misreads. */
static q_status rec_line(ocr_engine *e, const q_image *crop, const rec_flight *f, const float *lp,
                         int steps, int classes, ocr_ctc_char *chars, ocr_rec_line *l,
                         q_buf *text) {
    ocr_beam_params bp;
    ocr_beam_params_default(&bp, e->o.beam_width);
    l->text_start = text->len;
    size_t nc = 0;
    double t_dec = q_now();
    q_status st;
    if (e->o.decode == OCR_DECODE_BEAM)
        st = ocr_beam_decode(&e->dict, e->lex, &bp, lp, steps, classes, &l->conf, text, chars, &nc);
    else
        st = ocr_ctc_decode(&e->dict, lp, steps, classes, &l->conf, text, chars, &nc);
    e->t_decode += q_now() - t_dec;
    size_t len = text->len - l->text_start;
    char *line = text->data + l->text_start;
    if (!st && chars) {
        /* the crop filled the first rw of the tensor's TW columns */
        int rw = ocr_line_width(crop, REC_H, f->W);
        for (size_t j = 0; j < nc; j++)
            chars[j].byte -= l->text_start;
        ocr_fix_case(crop, (double)f->TW / steps * crop->w / rw, chars, nc, line, len);
    }
    if (!st) {
        ocr_fix_numbers(line, len);
        len = ocr_fix_words(line, len);
        text->len = l->text_start + len; /* the line is the buffer's last */
        st = q_buf_append(text, "", 1);
    }
    l->text_len = (uint32_t)len;
    return st;
}

static q_status rec_decode(ocr_engine *e, const q_image *crops, const rec_flight *f,
                           ocr_rec_line *out, q_buf *text) {
    nn_shape os;
    const float *p = NULL;
    if (ocr_net_collect(e, f->ticket, &p, &os)) return q_fail_context("text recognition");
    if (os.ndim != 3 || os.dims[0] != (int64_t)f->k)
        return Q_FAIL(Q_ERR_FORMAT, "the recognition model gave an output of an unexpected shape");
    int steps = (int)os.dims[1], classes = (int)os.dims[2];
    ocr_ctc_char *chars = steps > 0 ? malloc((size_t)steps * sizeof *chars) : NULL;
    q_status st = Q_OK;
    for (size_t i = 0; !st && i < f->k; i++)
        st = rec_line(e, &crops[f->it[i].idx], f, p + i * (size_t)steps * classes, steps, classes,
                      chars, &out[f->it[i].idx], text);
    free(chars); /* without it the text stays as read */
    return st;
}

/* How many of the next `left` lines (sorted by aspect) the next batch takes. */
static size_t batch_lines(const ocr_engine *e, const rec_item *it, size_t left, int cpu) {
    size_t k = left < (size_t)e->o.rec_batch ? left : (size_t)e->o.rec_batch;
    if (!cpu || e->o.rec_cols <= 0) return k; /* why a CPU batch is capped: OCR_REC_COLS */
    size_t fit = 1;
    while (fit < k && (fit + 1) * (size_t)batch_width(it[fit].ratio, NULL) <= (size_t)e->o.rec_cols)
        fit++;
    return fit;
}

q_status ocr_recognize(ocr_engine *e, const q_image *crops, size_t n, ocr_rec_line *out,
                       q_buf *text) {
    if (!n) return Q_OK;
    rec_item *it = malloc(n * sizeof *it);
    if (!it) return Q_FAIL(Q_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        it[i].idx = i;
        it[i].ratio = (double)crops[i].w / crops[i].h;
    }
    qsort(it, n, sizeof *it, cmp_ratio);
    /* Up to `depth` batches in flight (a remote engine's GPU rank works on
     * one while this process builds the next and decodes the last), decoded
     * in order, so that the text buffer fills line by line as before. */
    double t0 = q_now();
    rec_flight fl[OCR_NET_DEPTH_MAX];
    size_t head = 0, nf = 0, next = 0;
    size_t depth = (size_t)ocr_net_depth(e);
    int cpu = strcmp(ocr_engine_backend(e), "cpu") == 0;
    q_status st = Q_OK;
    while (!st && (next < n || nf)) {
        if (next < n && nf < depth) {
            rec_flight *f = &fl[(head + nf) % OCR_NET_DEPTH_MAX];
            *f = (rec_flight){.it = it + next, .k = batch_lines(e, it + next, n - next, cpu)};
            st = rec_submit(e, crops, f);
            nf += !st;
            next += f->k;
        } else {
            st = rec_decode(e, crops, &fl[head], out, text);
            head = (head + 1) % OCR_NET_DEPTH_MAX, nf--;
        }
    }
    e->t_rec += q_now() - t0;
    free(it);
    return st;
}
