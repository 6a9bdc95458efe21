/* Declarations shared by the int8 kernel files only (not part of kc_int8.h). */
#pragma once

#include <stdint.h>

#include <math.h>

/* One activation to u8: fma(x, inv_scale, zp + 0.5) clamped to [0, 255]
 * and truncated (round half up), exactly as the SIMD packers do it; NaN
 * gives 0. `zp5` is zp + 0.5. */
static inline uint8_t kc_quant_u8(float x, float inv_scale, float zp5) {
    float t = fmaf(x, inv_scale, zp5);
    t = t > 0.f ? t : 0.f;
    t = t < 255.f ? t : 255.f;
    return (uint8_t)(int)t;
}

/* The SIMD paths of kc_qgemm (same contract); only call each one when
 * kc_qgemm_available says the CPU has it. */
void kc_qgemm_avx2(int m, int n, int kq, const int8_t *w, int ldw, const uint8_t *x,
                   const float *scale, const float *offset, float *c, int ldc);
void kc_qgemm_avxvnni(int m, int n, int kq, const int8_t *w, int ldw, const uint8_t *x,
                      const float *scale, const float *offset, float *c, int ldc);
/* The packers of kc_qpack_act for one quad of rows (x0..x3, NULL past K;
 * inv[q] the factor of row q)
 * over n columns: the same bytes as kc_quant_u8, 16 or 8 columns a step. */
void kc_qpack_quad_avx512(const float *const *x, int n, const float *inv, float zp5, uint8_t *d);
void kc_qpack_quad_avx2(const float *const *x, int n, const float *inv, float zp5, uint8_t *d);
void kc_qgemm_avx512vnni(int m, int n, int kq, const int8_t *w, int ldw, const uint8_t *x,
                         const float *scale, const float *offset, float *c, int ldc);
