/* Line orientation: PaddleOCR's 0/180 classifier on each crop; crops it
 * scores as upside down with confidence turn around before recognition.
 *
 * PaddleOCR squeezes a whole line into the classifier's 192x48 input; a
 * 40:1 line of print then becomes a smear that the classifier calls upside
 * down with confidence (measured: 7 of 32 lines of a clean 300-dpi page were
 * turned, each then read as garbage). quire classifies up to three windows of
 * the line at the classifier's own 4:1 shape (left, middle, right) and
 * averages their scores; `cls_whole` restores PaddleOCR's squeeze. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/ocr_private.h"

enum { CLS_H = 48, CLS_W = 192, CLS_BATCH = 8, CLS_WINDOWS = 3 };
#define CLS_THRESH 0.9f

static const float half[3] = {0.5f, 0.5f, 0.5f};

int ocr_line_width(const q_image *crop, int h, int cap) {
    int rw = (int)ceil(h * ((double)crop->w / crop->h));
    return rw > cap ? cap : rw < 1 ? 1 : rw;
}

q_status ocr_line_tensor(const q_image *crop, int h, int cap, int tw, float *t) {
    int rw = ocr_line_width(crop, h, cap);
    q_image r;
    q_status st = q_image_alloc(&r, rw, h, crop->channels, 0);
    if (st) return st;
    st = ocr_resize_u8(crop, &r);
    if (!st) ocr_to_tensor_bgr(&r, t, tw, half, half);
    q_image_free(&r);
    return st;
}

/* A window of `img` (shares its pixels). */
static q_image window(const q_image *img, int x0, int w) {
    q_image v = *img;
    v.w = w;
    v.px = img->px + (size_t)x0 * img->channels;
    return v;
}

/* The views the classifier sees for one crop: the crop itself, or windows of
 * the classifier's aspect spread over a long line. */
static int views(const q_image *crop, int whole, q_image out[CLS_WINDOWS]) {
    int ww = (int)((double)crop->h * CLS_W / CLS_H);
    if (whole || crop->w <= ww) {
        out[0] = *crop;
        return 1;
    }
    int k = crop->w >= 3 * ww ? 3 : 2;
    for (int i = 0; i < k; i++)
        out[i] = window(crop, (int)((long)(crop->w - ww) * i / (k - 1)), ww);
    return k;
}

/* One batch of views: adds each view's "180" score to its crop's sum (only
 * when 180 wins, as PaddleOCR's argmax decides). */
static q_status run_batch(ocr_engine *e, const q_image *v, const size_t *owner, size_t k,
                          float *score) {
    size_t per = (size_t)3 * CLS_H * CLS_W;
    q_status st = Q_OK;
    for (size_t i = 0; !st && i < k; i++)
        st = ocr_line_tensor(&v[i], CLS_H, CLS_W, CLS_W, e->tensor + i * per);
    if (st) return st;
    nn_shape in = {.ndim = 4, .dims = {(int64_t)k, 3, CLS_H, CLS_W}}, out;
    const float *p = NULL;
    if ((st = ocr_net_run(e, OCR_NET_CLS, e->tensor, &in, &p, &out)))
        return q_fail_context("line orientation");
    if (out.ndim != 2 || out.dims[0] != (int64_t)k || out.dims[1] != 2)
        return Q_FAIL(Q_ERR_FORMAT, "the orientation model gave an output of an unexpected shape");
    for (size_t i = 0; i < k; i++)
        if (p[2 * i + 1] > p[2 * i]) score[owner[i]] += p[2 * i + 1];
    return Q_OK;
}

q_status ocr_cls_scores(ocr_engine *e, const q_image *crops, size_t n, float *score) {
    if (!n) return Q_OK;
    q_status st = ocr_tensor_reserve(e, (size_t)3 * CLS_H * CLS_W * CLS_BATCH);
    if (st) return st;
    q_image *v = malloc(n * CLS_WINDOWS * sizeof *v);
    size_t *owner = malloc(n * CLS_WINDOWS * sizeof *owner);
    int *nviews = calloc(n, sizeof *nviews);
    size_t nv = 0;
    if (!v || !owner || !nviews) st = Q_FAIL(Q_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < n; i++) {
        score[i] = 0;
        nviews[i] = views(&crops[i], e->o.cls_whole, v + nv);
        for (int j = 0; j < nviews[i]; j++)
            owner[nv++] = i;
    }
    for (size_t b = 0; !st && b < nv; b += CLS_BATCH)
        st = run_batch(e, v + b, owner + b, nv - b < CLS_BATCH ? nv - b : CLS_BATCH, score);
    for (size_t i = 0; !st && i < n; i++)
        score[i] /= (float)nviews[i];
    free(v);
    free(owner);
    free(nviews);
    return st;
}

q_status ocr_classify(ocr_engine *e, q_image *crops, size_t n, float *score) {
    if (!n) return Q_OK;
    float *own = score ? NULL : malloc(n * sizeof *own);
    if (!score && !own) return Q_FAIL(Q_ERR_NOMEM, "out of memory");
    float *s = score ? score : own;
    q_status st = ocr_cls_scores(e, crops, n, s);
    for (size_t i = 0; !st && i < n; i++)
        if (s[i] > CLS_THRESH) ocr_rotate180(&crops[i]);
    free(own);
    return st;
}
