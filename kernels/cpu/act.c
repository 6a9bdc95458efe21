/* Activations and the per-channel conv epilogue (bias, activation, affine).
 * Kept in one place so that the fused conv output pass and the standalone
 * elementwise ops compute exactly the same function. */
#include <math.h>

#include "kernels/cpu/kc_private.h"

/* One loop per kind so that each inner loop is branch-free and vectorizes;
 * built three times like the epilogue below (a standalone Sigmoid ran in
 * SSE2 at 1.2 ns a value). */
static inline __attribute__((always_inline)) void act_apply(kc_act act, float *y, size_t n) {
    float a = act.a, b = act.b;
    switch (act.kind) {
    case KC_ACT_NONE:
        return;
    case KC_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            y[i] = y[i] > 0.f ? y[i] : 0.f;
        return;
    case KC_ACT_CLIP:
        for (size_t i = 0; i < n; i++) {
            float v = y[i] < a ? a : y[i];
            y[i] = v > b ? b : v;
        }
        return;
    case KC_ACT_HARD_SIGMOID:
        for (size_t i = 0; i < n; i++) {
            float t = a * y[i] + b;
            float u = t < 0.f ? 0.f : t;
            y[i] = u > 1.f ? 1.f : u;
        }
        return;
    case KC_ACT_HARD_SWISH:
        for (size_t i = 0; i < n; i++) {
            float t = a * y[i] + b;
            float u = t < 0.f ? 0.f : t;
            float w = u > 1.f ? 1.f : u;
            y[i] = y[i] * w;
        }
        return;
    case KC_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            y[i] = 1.f / (1.f + kc_expf(-y[i]));
        return;
    }
}

/* bias, activation and post-affine in one pass over the row: conv outputs
 * are often larger than the cache, so every extra pass costs memory traffic.
 * Temporaries are local to the loop body so that GCC if-converts the clamps
 * and vectorizes. The multiply-adds are fmaf where the build has FMA (`fma`
 * constant, folded), written out rather than left to contraction, which GCC
 * skipped for one kind's post-affine: the int8 GEMMs' fused store
 * (kc_qdeq's post) computes the same values. */
#define MADD(x, y, z) (fma ? fmaf(x, y, z) : (x) * (y) + (z))
#define EPI_LOOP(ACT)                                                                              \
    for (size_t i = 0; i < n; i++) {                                                               \
        float v = y[i] + bv;                                                                       \
        ACT;                                                                                       \
        y[i] = MADD(v, sc, sh);                                                                    \
    }

static inline __attribute__((always_inline)) void
epilogue_row(const kc_epilogue *ep, int c, float *restrict y, size_t n, const int fma) {
    if (!ep || (!ep->bias && ep->act.kind == KC_ACT_NONE && !ep->post_scale && !ep->post_shift))
        return;
    const float bv = ep->bias ? ep->bias[c] : 0.f, a = ep->act.a, b = ep->act.b;
    const int pc = ep->post_n == 1 ? 0 : c;
    const float sc = ep->post_scale ? ep->post_scale[pc] : 1.f;
    const float sh = ep->post_shift ? ep->post_shift[pc] : 0.f;
    switch (ep->act.kind) {
    case KC_ACT_NONE:
        EPI_LOOP((void)0);
        break;
    case KC_ACT_RELU:
        EPI_LOOP(v = v > 0.f ? v : 0.f);
        break;
    case KC_ACT_CLIP:
        EPI_LOOP(float u = v < a ? a : v; v = u > b ? b : u);
        break;
    case KC_ACT_HARD_SIGMOID:
        EPI_LOOP(float t = MADD(a, v, b); float u = t < 0.f ? 0.f : t; v = u > 1.f ? 1.f : u);
        break;
    case KC_ACT_HARD_SWISH:
        EPI_LOOP(float t = MADD(a, v, b); float u = t < 0.f ? 0.f : t; float w = u > 1.f ? 1.f : u;
                 v = v * w);
        break;
    case KC_ACT_SIGMOID:
        EPI_LOOP(v = 1.f / (1.f + kc_expf(-v)));
        break;
    }
}

/* The epilogue is inlined into an AVX-512 build, an AVX2+FMA build and a
 * baseline build; the CPU picks (it runs on every conv output: 8 % of a
 * page's time in 8 lanes). The AVX-512 and AVX2 builds compute the same
 * values (the same operations per element, contracted to the same FMAs). */
__attribute__((target("avx512f,avx2,fma"))) static void
epilogue_row_avx512(const kc_epilogue *ep, int c, float *y, size_t n) {
    epilogue_row(ep, c, y, n, 1);
}

__attribute__((target("avx2,fma"))) static void epilogue_row_avx2(const kc_epilogue *ep, int c,
                                                                  float *y, size_t n) {
    epilogue_row(ep, c, y, n, 1);
}

static void epilogue_row_base(const kc_epilogue *ep, int c, float *y, size_t n) {
    epilogue_row(ep, c, y, n, 0);
}

void kc_epilogue_row(const kc_epilogue *ep, int c, float *y, size_t n) {
    static void (*const build[])(const kc_epilogue *, int, float *,
                                 size_t) = {[KC_SIMD_BASE] = epilogue_row_base,
                                            [KC_SIMD_AVX2] = epilogue_row_avx2,
                                            [KC_SIMD_AVX512] = epilogue_row_avx512};
    build[kc_simd_level()](ep, c, y, n);
}

__attribute__((target("avx512f,avx2,fma"))) static void act_apply_avx512(kc_act act, float *y,
                                                                         size_t n) {
    act_apply(act, y, n);
}

__attribute__((target("avx2,fma"))) static void act_apply_avx2(kc_act act, float *y, size_t n) {
    act_apply(act, y, n);
}

static void act_apply_base(kc_act act, float *y, size_t n) {
    act_apply(act, y, n);
}

void kc_act_apply(kc_act act, float *y, size_t n) {
    static void (*const build[])(kc_act, float *, size_t) = {[KC_SIMD_BASE] = act_apply_base,
                                                             [KC_SIMD_AVX2] = act_apply_avx2,
                                                             [KC_SIMD_AVX512] = act_apply_avx512};
    build[kc_simd_level()](act, y, n);
}
