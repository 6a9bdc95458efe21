/* Line orientation: PaddleOCR's 0/180 classifier on each crop; crops it
 * scores as upside down with confidence turn around before recognition. */
#include <math.h>
#include <string.h>

#include "ocr/ocr_private.h"

enum { CLS_H = 48, CLS_W = 192, CLS_BATCH = 8 };
#define CLS_THRESH 0.9f

static const float half[3] = {0.5f, 0.5f, 0.5f};

/* A crop resized to height h and width min(ceil(h * w / h0), cap), into the
 * tensor slot `t` of width tw (zero-padded on the right). */
q_status ocr_line_tensor(const q_image *crop, int h, int cap, int tw, float *t) {
    double ratio = (double)crop->w / crop->h;
    int rw = (int)ceil(h * ratio);
    if (rw > cap) rw = cap;
    if (rw < 1) rw = 1;
    q_image r;
    q_status st = q_image_alloc(&r, rw, h, crop->channels, 0);
    if (st) return st;
    st = ocr_resize_u8(crop, &r);
    if (!st) ocr_to_tensor_bgr(&r, t, tw, half, half);
    q_image_free(&r);
    return st;
}

q_status ocr_classify(ocr_engine *e, q_image *crops, size_t n) {
    size_t per = (size_t)3 * CLS_H * CLS_W;
    q_status st = ocr_tensor_reserve(e, per * CLS_BATCH);
    for (size_t b = 0; !st && b < n; b += CLS_BATCH) {
        size_t k = n - b < CLS_BATCH ? n - b : CLS_BATCH;
        for (size_t i = 0; !st && i < k; i++)
            st = ocr_line_tensor(&crops[b + i], CLS_H, CLS_W, CLS_W, e->tensor + i * per);
        if (st) break;
        nn_shape in = {.ndim = 4, .dims = {(int64_t)k, 3, CLS_H, CLS_W}}, out;
        const float *p = NULL;
        st = nn_model_run(e->cls, e->tensor, &in, &p, &out);
        if (st) return q_fail_context("line orientation");
        if (out.ndim != 2 || out.dims[0] != (int64_t)k || out.dims[1] != 2)
            return Q_FAIL(Q_ERR_FORMAT,
                          "the orientation model gave an output of an unexpected shape");
        for (size_t i = 0; i < k; i++)
            if (p[2 * i + 1] > p[2 * i] && p[2 * i + 1] > CLS_THRESH) ocr_rotate180(&crops[b + i]);
    }
    return st;
}
