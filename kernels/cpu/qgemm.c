/* The int8 GEMM (kc_int8.h): the plain C twin of the SIMD paths, the choice
 * of path by CPU features, and the packing of activations and weights that
 * every path shares (one layout, so the twins can be compared exactly). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/kc_int8.h"
#include "kernels/cpu/kc_int8_private.h"

static void qgemm_ref(int m, int n, int kq, const int8_t *w, int ldw, const uint8_t *x,
                      const float *scale, const float *offset, float *c, int ldc) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            int32_t acc = 0;
            for (int p = 0; p < kq; p++)
                for (int q = 0; q < 4; q++)
                    acc += (int32_t)x[((size_t)p * n + j) * 4 + q] *
                           (int32_t)w[(size_t)i * ldw + 4 * p + q];
            /* fmaf: the SIMD paths' fused multiply-add, bit for bit */
            c[(size_t)i * ldc + j] = fmaf((float)acc, scale[i], offset[i]);
        }
}

/* AVX-VNNI is CPUID leaf 7, subleaf 1, EAX bit 4; GCC 12's
 * __builtin_cpu_supports does not know it. */
static int has_avxvnni(void) {
#if defined(__x86_64__)
    unsigned a = 7, b, c = 1, d;
    __asm__("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return (a >> 4) & 1;
#else
    return 0;
#endif
}

int kc_qgemm_available(kc_qgemm_path p) {
#if defined(__x86_64__)
    switch (p) {
    case KC_QGEMM_REF:
        return 1;
    case KC_QGEMM_AVX2:
        return __builtin_cpu_supports("avx2");
    case KC_QGEMM_AVXVNNI:
        return __builtin_cpu_supports("avx2") && has_avxvnni();
    case KC_QGEMM_AVX512VNNI:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vnni");
    default:
        return 0;
    }
#else
    return p == KC_QGEMM_REF;
#endif
}

kc_qgemm_path kc_qgemm_best(void) {
    static _Atomic int best = -1; /* every thread that races here computes the same */
    if (best < 0) {
        kc_qgemm_path p = KC_QGEMM_REF;
        if (kc_qgemm_available(KC_QGEMM_AVX2)) p = KC_QGEMM_AVX2;
        if (kc_qgemm_available(KC_QGEMM_AVXVNNI)) p = KC_QGEMM_AVXVNNI;
        if (kc_qgemm_available(KC_QGEMM_AVX512VNNI) && !getenv("QUIRE_NO_AVX512"))
            p = KC_QGEMM_AVX512VNNI;
        best = (int)p;
    }
    return (kc_qgemm_path)best;
}

const char *kc_qgemm_name(kc_qgemm_path p) {
    static const char *names[] = {"int8-ref", "int8-avx2", "int8-avxvnni", "int8-avx512vnni"};
    return p >= 0 && p < KC_QGEMM_NPATHS ? names[p] : "?";
}

int kc_qgemm_weight_max(kc_qgemm_path p) {
    return p == KC_QGEMM_AVX2 ? 63 : 127;
}

void kc_qgemm(kc_qgemm_path p, int m, int n, int kq, const int8_t *w, int ldw, const uint8_t *x,
              const float *scale, const float *offset, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    switch (p) {
#if defined(__x86_64__)
    case KC_QGEMM_AVX2:
        kc_qgemm_avx2(m, n, kq, w, ldw, x, scale, offset, c, ldc);
        return;
    case KC_QGEMM_AVXVNNI:
        kc_qgemm_avxvnni(m, n, kq, w, ldw, x, scale, offset, c, ldc);
        return;
    case KC_QGEMM_AVX512VNNI:
        kc_qgemm_avx512vnni(m, n, kq, w, ldw, x, scale, offset, c, ldc);
        return;
#endif
    default:
        qgemm_ref(m, n, kq, w, ldw, x, scale, offset, c, ldc);
    }
}

static void qpack_quad_ref(const float *const *x, int n, const float *inv, float zp5, uint8_t *d) {
    for (int q = 0; q < 4; q++)
        for (int j = 0; j < n; j++)
            d[(size_t)j * 4 + q] = x[q] ? kc_quant_u8(x[q][j], inv[q], zp5) : 0;
}

void kc_qpack_act(kc_qgemm_path path, const float *x, int ldx, int k, int n, const float *inv_all,
                  int zp, uint8_t *xp) {
    int kq = (k + 3) / 4;
    float zp5 = (float)zp + 0.5f;
    for (int p = 0; p < kq; p++) {
        const float *rows[4];
        float inv[4];
        for (int q = 0; q < 4; q++) {
            rows[q] = 4 * p + q < k ? x + (size_t)(4 * p + q) * ldx : NULL;
            inv[q] = rows[q] ? inv_all[4 * p + q] : 0.f;
        }
        uint8_t *d = xp + (size_t)p * n * 4;
#if defined(__x86_64__)
        if (path == KC_QGEMM_AVX512VNNI)
            kc_qpack_quad_avx512(rows, n, inv, zp5, d);
        else if (path == KC_QGEMM_AVX2 || path == KC_QGEMM_AVXVNNI)
            kc_qpack_quad_avx2(rows, n, inv, zp5, d);
        else
#endif
            qpack_quad_ref(rows, n, inv, zp5, d);
    }
}

size_t kc_qweights_size(int m, int k) {
    size_t kp = (size_t)(k + 3) / 4 * 4;
    size_t wb = ((size_t)m * kp + 63) / 64 * 64;
    return wb + sizeof(float) * (2 * (size_t)m + (size_t)k);
}

void kc_qweights_pack(int m, int k, const float *w, const float *bias, const float *smooth,
                      float a_scale, int a_zp, int qmax, void *mem, kc_qweights *out) {
    int kp = (k + 3) / 4 * 4;
    size_t wb = ((size_t)m * kp + 63) / 64 * 64;
    out->m = m;
    out->k = k;
    out->kp = kp;
    out->w = mem;
    out->scale = (float *)((char *)mem + wb);
    out->offset = out->scale + m;
    out->a_inv = out->offset + m;
    out->a_scale = a_scale;
    out->a_zp = a_zp;
    for (int j = 0; j < k; j++)
        out->a_inv[j] = 1.f / (a_scale * (smooth ? smooth[j] : 1.f));
    for (int i = 0; i < m; i++) {
        const float *wr = w + (size_t)i * k;
        int8_t *q = out->w + (size_t)i * kp;
        float amax = 0.f;
        for (int j = 0; j < k; j++) {
            float v = fabsf(wr[j] * (smooth ? smooth[j] : 1.f));
            amax = v > amax ? v : amax;
        }
        float ws = amax > 0.f ? amax / (float)qmax : 1.f;
        int32_t rowsum = 0;
        for (int j = 0; j < kp; j++) {
            long v = j < k ? lrintf(wr[j] * (smooth ? smooth[j] : 1.f) / ws) : 0;
            v = v > qmax ? qmax : v < -qmax ? -qmax : v;
            q[j] = (int8_t)v;
            rowsum += (int32_t)v;
        }
        out->scale[i] = ws * a_scale;
        out->offset[i] = (bias ? bias[i] : 0.f) - (float)a_zp * (float)rowsum * out->scale[i];
    }
}
