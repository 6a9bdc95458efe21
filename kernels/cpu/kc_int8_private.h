/* Declarations shared by the int8 kernel files only (not part of kc_int8.h). */
#pragma once

#include <math.h>
#include <stdint.h>

#include "kernels/cpu/kc_int8.h"

/* One activation to u8: fma(x, inv_scale, zp + 0.5) clamped to [0, amax]
 * (amax <= 255) and truncated (round half up), exactly as the SIMD packers
 * do it; NaN gives 0. `zp5` is zp + 0.5. */
static inline uint8_t kc_quant_u8(float x, float inv_scale, float zp5, float amax) {
    float t = fmaf(x, inv_scale, zp5);
    t = t > 0.f ? t : 0.f;
    t = t < amax ? t : amax;
    return (uint8_t)(int)t;
}

/* One output of the dequantizing store (kc_int8.h), in the order of the
 * SIMD paths' fused operations, so that every path gives the same bits. */
static inline float kc_qdeq_one(int32_t acc, float z, float nsum, float ws, float a, float bias) {
    return fmaf(fmaf(z, nsum, (float)acc), ws * a, bias);
}

/* kc_qdeq's post on the m x n outputs in C, as kc_epilogue_row does it
 * (bias aside): the reference path's, and the SIMD paths' for a Sigmoid. */
static inline void kc_qpost_rows(const kc_epilogue *ep, int m, int n, float *c, int ldc) {
    kc_epilogue e = *ep;
    e.bias = NULL;
    for (int i = 0; i < m; i++)
        kc_epilogue_row(&e, i, c + (size_t)i * ldc, (size_t)n);
}

/* kc_qdeq's post as the SIMD stores apply it: the activation `kind` with
 * its a and b, then for row r fma(v, sc[r * scstep], sh[r * shstep]) (aff 0:
 * none; a missing scale or shift reads 1 or 0 with step 0), in
 * kc_epilogue_row's order. A Sigmoid is not fused (`rest`: kc_qpost_rows
 * after the stores). */
typedef struct {
    int kind, aff, scstep, shstep, rest;
    float a, b;
    const float *sc, *sh;
} kc_qpost;

static inline kc_qpost kc_qpost_of(const kc_epilogue *ep) {
    static const float one = 1.f, zero = 0.f;
    kc_qpost p = {KC_ACT_NONE, 0, 0, 0, 0, 0.f, 0.f, &one, &zero};
    if (!ep) return p;
    if (ep->act.kind == KC_ACT_SIGMOID) {
        p.rest = 1;
        return p;
    }
    int step = ep->post_n == 1 ? 0 : 1;
    p.kind = (int)ep->act.kind;
    p.a = ep->act.a;
    p.b = ep->act.b;
    p.aff = ep->post_scale || ep->post_shift;
    if (ep->post_scale) {
        p.sc = ep->post_scale;
        p.scstep = step;
    }
    if (ep->post_shift) {
        p.sh = ep->post_shift;
        p.shstep = step;
    }
    return p;
}

/* The activations the SIMD stores apply (kc_qpost.kind): each SIMD path
 * builds one micro kernel per entry, X(name, kind), and a table of them by
 * kind (KC_QGEMM_BY_KIND; its Sigmoid entry is never read: kc_qpost_of gives
 * a Sigmoid KC_ACT_NONE and runs it after the stores). */
#define KC_QGEMM_KINDS(X)                                                                          \
    X(micro_none, KC_ACT_NONE)                                                                     \
    X(micro_relu, KC_ACT_RELU)                                                                     \
    X(micro_clip, KC_ACT_CLIP)                                                                     \
    X(micro_hsig, KC_ACT_HARD_SIGMOID)                                                             \
    X(micro_hswish, KC_ACT_HARD_SWISH)
#define KC_QGEMM_BY_KIND_ENTRY(NAME, KIND) [KIND] = NAME,
#define KC_QGEMM_BY_KIND                                                                           \
    { KC_QGEMM_KINDS(KC_QGEMM_BY_KIND_ENTRY)[KC_ACT_SIGMOID] = micro_none }

/* The SIMD paths of kc_qgemm (same contract); only call each one when
 * kc_qgemm_available says the CPU has it. */
void kc_qgemm_avx2(int m, int n, int kq, const int8_t *w, int ldw, const uint8_t *x,
                   const kc_qdeq *dq, float *c, int ldc);
void kc_qgemm_avxvnni(int m, int n, int kq, const int8_t *w, int ldw, const uint8_t *x,
                      const kc_qdeq *dq, float *c, int ldc);
void kc_qgemm_avx512vnni(int m, int n, int kq, const int8_t *w, int ldw, const uint8_t *x,
                         const kc_qdeq *dq, float *c, int ldc);
/* The column ranges of kc_qpack_act: lo[j] and hi[j] start at 0 and take
 * in x[r][j] * sinv[r] (sinv NULL: 1) for the k rows (stride ldx) by min(v, lo) =
 * v < lo ? v : lo and max(v, hi) = v > hi ? v : hi (NaN is skipped), as
 * minps and maxps do. */
void kc_qrange_avx512(const float *x, int ldx, int k, int n, const float *sinv, float *lo,
                      float *hi);
void kc_qrange_avx2(const float *x, int ldx, int k, int n, const float *sinv, float *lo, float *hi);
/* The packers of kc_qpack_act for one quad of rows (x0..x3, NULL past K;
 * sinv[q] the factor of row q) over n columns, column j with inv[j] and
 * zp5[j] (its zero point + 0.5), up to amax: the same bytes as
 * kc_quant_u8(x * sinv, inv, zp5, amax), 16 or 8 columns a step. */
void kc_qpack_quad_avx512(const float *const *x, int n, const float *sinv, const float *inv,
                          const float *zp5, float amax, uint8_t *d);
void kc_qpack_quad_avx2(const float *const *x, int n, const float *sinv, const float *inv,
                        const float *zp5, float amax, uint8_t *d);
