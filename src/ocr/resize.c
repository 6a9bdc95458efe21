/* Pixels into model inputs. The resize is OpenCV's INTER_LINEAR (half-pixel
 * centres, clamped edges, no antialiasing) because PaddleOCR's models were
 * trained and tuned on pages resized that way; output is rounded to u8 like
 * cv2.resize on u8 images before PaddleOCR converts to float. */
#include <math.h>
#include <stdlib.h>

#include "ocr/ocr_private.h"

/* Source index and weight of the right/lower neighbour for each output
 * coordinate, with OpenCV's clamping at both edges. */
static void axis_map(int src, int dst, int *idx, float *frac) {
    double scale = (double)src / dst;
    for (int d = 0; d < dst; d++) {
        double f = (d + 0.5) * scale - 0.5;
        int i = (int)floor(f);
        double w = f - i;
        if (i < 0) {
            i = 0;
            w = 0;
        }
        if (i >= src - 1) {
            i = src - 1;
            w = 0;
        }
        idx[d] = i;
        frac[d] = (float)w;
    }
}

q_status ocr_resize_u8(const q_image *src, q_image *dst) {
    int ch = src->channels;
    int *xi = malloc(((size_t)dst->w + dst->h) * sizeof *xi);
    float *xf = malloc(((size_t)dst->w + dst->h) * sizeof *xf);
    if (!xi || !xf) {
        free(xi);
        free(xf);
        return Q_FAIL(Q_ERR_NOMEM, "out of memory resizing to %dx%d", dst->w, dst->h);
    }
    int *yi = xi + dst->w;
    float *yf = xf + dst->w;
    axis_map(src->w, dst->w, xi, xf);
    axis_map(src->h, dst->h, yi, yf);
    for (int y = 0; y < dst->h; y++) {
        const uint8_t *r0 = src->px + (size_t)yi[y] * src->stride;
        const uint8_t *r1 = yi[y] + 1 < src->h ? r0 + src->stride : r0;
        float wy = yf[y];
        uint8_t *out = dst->px + (size_t)y * dst->stride;
        for (int x = 0; x < dst->w; x++) {
            size_t a = (size_t)xi[x] * ch;
            size_t b = xi[x] + 1 < src->w ? a + ch : a;
            float wx = xf[x];
            for (int c = 0; c < ch; c++) {
                float top = r0[a + c] + wx * (r0[b + c] - r0[a + c]);
                float bot = r1[a + c] + wx * (r1[b + c] - r1[a + c]);
                float v = top + wy * (bot - top);
                out[(size_t)x * ch + c] = (uint8_t)(v + 0.5f);
            }
        }
    }
    free(xi);
    free(xf);
    return Q_OK;
}

void ocr_to_tensor_bgr(const q_image *img, float *t, int tw, const float mean[3],
                       const float std[3]) {
    size_t plane = (size_t)img->h * tw;
    for (int c = 0; c < 3; c++) {
        /* Channel c of the tensor is B, G, R: RGB source channel 2 - c. */
        int sc = img->channels == 3 ? 2 - c : 0;
        float k = 1.0f / (255.0f * std[c]), m = mean[c] / std[c];
        float *p = t + c * plane;
        for (int y = 0; y < img->h; y++) {
            const uint8_t *row = img->px + (size_t)y * img->stride;
            float *o = p + (size_t)y * tw;
            for (int x = 0; x < img->w; x++)
                o[x] = row[(size_t)x * img->channels + sc] * k - m;
            for (int x = img->w; x < tw; x++)
                o[x] = 0;
        }
    }
}
