/* Detection: the page scaled as PaddleOCR scales it, normalised, through the
 * DB detector, and its probability map turned into boxes on the page. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/ocr_private.h"

static const float det_mean[3] = {0.485f, 0.456f, 0.406f}; /* B, G, R */
static const float det_std[3] = {0.229f, 0.224f, 0.225f};

/* Python's round() (ties to even), which PaddleOCR's size rule uses. */
static int round_32(int v) {
    int r = (int)nearbyint(v / 32.0) * 32;
    return r < 32 ? 32 : r;
}

void ocr_det_size(int w, int h, int side, int *dw, int *dh) {
    int longer = w > h ? w : h;
    double ratio = longer > side ? (double)side / longer : 1.0;
    *dw = round_32((int)(w * ratio));
    *dh = round_32((int)(h * ratio));
}

q_status ocr_detect(ocr_engine *e, const q_image *img, ocr_box **boxes, size_t *n) {
    *boxes = NULL;
    *n = 0;
    int dw, dh;
    ocr_det_size(img->w, img->h, e->o.det_side, &dw, &dh);
    q_image small;
    q_status st = q_image_alloc(&small, dw, dh, img->channels, 0);
    if (st) return st;
    st = ocr_resize_u8(img, &small);
    if (!st) st = ocr_tensor_reserve(e, (size_t)3 * dw * dh);
    if (st) {
        q_image_free(&small);
        return st;
    }
    ocr_to_tensor_bgr(&small, e->tensor, dw, det_mean, det_std);
    q_image_free(&small);

    nn_shape in = {.ndim = 4, .dims = {1, 3, dh, dw}}, out;
    const float *prob = NULL;
    st = ocr_net_run(e, OCR_NET_DET, e->tensor, &in, &prob, &out);
    if (st) return q_fail_context("text detection");
    if (out.ndim != 4 || out.dims[0] != 1 || out.dims[1] != 1 || out.dims[2] != dh ||
        out.dims[3] != dw)
        return Q_FAIL(Q_ERR_FORMAT, "the detection model gave an output of an unexpected shape");
    const char *dump = getenv("QUIRE_DEBUG_DET_NPY");
    if (dump && *dump) nn_npy_write(dump, prob, &out); /* debugging aid: the map as .npy */
    ocr_db_params p;
    ocr_db_params_default(&p);
    p.fast_only = e->o.det_fast_score;
    return ocr_db_boxes(prob, dw, dh, img->w, img->h, &p, boxes, n);
}
