/* kc_epilogue_row's activations on 16 lanes (AVX-512) and on 8 (AVX2), for
 * the kernels that apply them in registers as they store (the int8 GEMMs,
 * the depthwise rows): the clamps in act.c's operand order (maxps(a, v) is
 * a > v ? a : v, so NaNs go through as there) and its fmaf, so the values
 * are the same. A Sigmoid is left to kc_epilogue_row (kind passes v
 * through). */
#pragma once

#include <immintrin.h>

#include "kernels/cpu/kc.h"

static inline __attribute__((always_inline, target("avx512f"))) __m512
kc_act16(int kind, __m512 v, __m512 a, __m512 b) {
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.f);
    switch (kind) {
    case KC_ACT_RELU:
        return _mm512_max_ps(v, zero);
    case KC_ACT_CLIP:
        return _mm512_min_ps(b, _mm512_max_ps(a, v));
    case KC_ACT_HARD_SIGMOID:
        return _mm512_min_ps(one, _mm512_max_ps(zero, _mm512_fmadd_ps(a, v, b)));
    case KC_ACT_HARD_SWISH:
        return _mm512_mul_ps(v, _mm512_min_ps(one, _mm512_max_ps(zero, _mm512_fmadd_ps(a, v, b))));
    default:
        return v;
    }
}

static inline __attribute__((always_inline, target("avx2,fma"))) __m256
kc_act8(int kind, __m256 v, __m256 a, __m256 b) {
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.f);
    switch (kind) {
    case KC_ACT_RELU:
        return _mm256_max_ps(v, zero);
    case KC_ACT_CLIP:
        return _mm256_min_ps(b, _mm256_max_ps(a, v));
    case KC_ACT_HARD_SIGMOID:
        return _mm256_min_ps(one, _mm256_max_ps(zero, _mm256_fmadd_ps(a, v, b)));
    case KC_ACT_HARD_SWISH:
        return _mm256_mul_ps(v, _mm256_min_ps(one, _mm256_max_ps(zero, _mm256_fmadd_ps(a, v, b))));
    default:
        return v;
    }
}
