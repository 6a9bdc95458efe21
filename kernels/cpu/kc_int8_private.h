/* Declarations shared by the int8 kernel files only (not part of kc_int8.h). */
#pragma once

#include <stdint.h>

/* One activation to u8: round half up of x * inv_scale + zp, clamped to
 * [0, 255]. Branch-free so that the packing loop vectorizes; NaN gives 0. */
static inline uint8_t kc_quant_u8(float x, float inv_scale, float zp) {
    float t = x * inv_scale + zp + 0.5f;
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
void kc_qgemm_avx512vnni(int m, int n, int kq, const int8_t *w, int ldw, const uint8_t *x,
                         const float *scale, const float *offset, float *c, int ldc);
