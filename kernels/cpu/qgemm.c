/* The int8 GEMM (kc_int8.h): the plain C twin of the SIMD paths, the choice
 * of path by CPU features, and the packing of activations and weights that
 * every path shares (one layout, so the twins can be compared exactly). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/kc_int8.h"
#include "kernels/cpu/kc_int8_private.h"

static void qgemm_ref(int m, int n, int kq, const int8_t *w, int ldw, const uint8_t *x,
                      const kc_qdeq *dq, float *c, int ldc) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            int32_t acc = 0;
            for (int p = 0; p < kq; p++)
                for (int q = 0; q < 4; q++)
                    acc += (int32_t)x[((size_t)p * n + j) * 4 + q] *
                           (int32_t)w[(size_t)i * ldw + 4 * p + q];
            c[(size_t)i * ldc + j] =
                kc_qdeq_one(acc, dq->z[j], dq->nsum[i], dq->ws[i], dq->a[j], dq->bias[i]);
        }
    if (dq->post) kc_qpost_rows(dq->post, m, n, c, ldc);
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
        /* QUIRE_NO_VNNI: with QUIRE_NO_AVX512, a VNNI CPU runs what an
         * AVX2-only one would (for measuring the AVX2 path) */
        int vnni = !getenv("QUIRE_NO_VNNI");
        if (vnni && kc_qgemm_available(KC_QGEMM_AVXVNNI)) p = KC_QGEMM_AVXVNNI;
        if (vnni && kc_qgemm_available(KC_QGEMM_AVX512VNNI) && !getenv("QUIRE_NO_AVX512"))
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
    (void)p;
    return 127;
}

int kc_qgemm_act_max(kc_qgemm_path p) {
    return p == KC_QGEMM_AVX2 ? 127 : 255;
}

void kc_qgemm(kc_qgemm_path p, int m, int n, int kq, const int8_t *w, int ldw, const uint8_t *x,
              const kc_qdeq *dq, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    switch (p) {
#if defined(__x86_64__)
    case KC_QGEMM_AVX2:
        kc_qgemm_avx2(m, n, kq, w, ldw, x, dq, c, ldc);
        return;
    case KC_QGEMM_AVXVNNI:
        kc_qgemm_avxvnni(m, n, kq, w, ldw, x, dq, c, ldc);
        return;
    case KC_QGEMM_AVX512VNNI:
        kc_qgemm_avx512vnni(m, n, kq, w, ldw, x, dq, c, ldc);
        return;
#endif
    default:
        qgemm_ref(m, n, kq, w, ldw, x, dq, c, ldc);
    }
}

static void qpack_quad_ref(const float *const *x, int n, const float *sinv, const float *inv,
                           const float *zp5, float amax, uint8_t *d) {
    for (int q = 0; q < 4; q++)
        for (int j = 0; j < n; j++)
            d[(size_t)j * 4 + q] = x[q] ? kc_quant_u8(x[q][j] * sinv[q], inv[j], zp5[j], amax) : 0;
}

enum { CHUNK = 256 }; /* columns whose ranges kc_qpack_act keeps on the stack */

static void qrange_ref(const float *x, int ldx, int k, int n, const float *sinv, float *lo,
                       float *hi) {
    for (int j = 0; j < n; j++)
        lo[j] = hi[j] = 0.f;
    for (int r = 0; r < k; r++) {
        const float *xr = x + (size_t)r * ldx;
        for (int j = 0; j < n; j++) {
            float v = xr[j] * (sinv ? sinv[r] : 1.f);
            lo[j] = v < lo[j] ? v : lo[j];
            hi[j] = v > hi[j] ? v : hi[j];
        }
    }
}

/* The column-range and quad-packing kernels of one path (kc_qpack_act). */
typedef struct {
    void (*range)(const float *x, int ldx, int k, int n, const float *sinv, float *lo, float *hi);
    void (*quad)(const float *const *x, int n, const float *sinv, const float *inv,
                 const float *zp5, float amax, uint8_t *d);
} packers;

static packers packers_for(kc_qgemm_path path) {
#if defined(__x86_64__)
    if (path == KC_QGEMM_AVX512VNNI) return (packers){kc_qrange_avx512, kc_qpack_quad_avx512};
    if (path == KC_QGEMM_AVX2 || path == KC_QGEMM_AVXVNNI)
        return (packers){kc_qrange_avx2, kc_qpack_quad_avx2};
#endif
    (void)path;
    return (packers){qrange_ref, qpack_quad_ref};
}

/* Each column's range over the k rows (the comparisons skip NaN, which the
 * packers map to 0), then its scale (the range over amax) and zero point;
 * an infinite range gives scale 1. */
static void column_ranges(const packers *pk, const float *x, int ldx, int k, int n,
                          const float *sinv, float amax, float *a, float *z, float *inv,
                          float *zp5) {
    float lo[CHUNK], hi[CHUNK];
    pk->range(x, ldx, k, n, sinv, lo, hi);
    for (int j = 0; j < n; j++) {
        float d = hi[j] - lo[j], s = d / amax, zp = 0.f;
        if (d > 0.f && d <= 3.4e38f) {
            zp = rintf(-lo[j] / s);
            zp = zp < 0.f ? 0.f : zp > amax ? amax : zp;
        } else {
            s = 1.f;
        }
        a[j] = s;
        z[j] = zp;
        inv[j] = 1.f / s;
        zp5[j] = zp + 0.5f;
    }
}

void kc_qpack_act(kc_qgemm_path path, const float *x, int ldx, int k, int n, const float *sinv_all,
                  int amax, uint8_t *xp, float *a, float *z) {
    int kq = (k + 3) / 4;
    float inv[CHUNK], zp5[CHUNK];
    packers pk = packers_for(path);
    for (int j0 = 0; j0 < n; j0 += CHUNK) {
        int nc = n - j0 < CHUNK ? n - j0 : CHUNK;
        column_ranges(&pk, x + j0, ldx, k, nc, sinv_all, (float)amax, a + j0, z + j0, inv, zp5);
        for (int p = 0; p < kq; p++) {
            const float *rows[4];
            float sinv[4];
            for (int q = 0; q < 4; q++) {
                rows[q] = 4 * p + q < k ? x + (size_t)(4 * p + q) * ldx + j0 : NULL;
                sinv[q] = rows[q] && sinv_all ? sinv_all[4 * p + q] : 1.f;
            }
            pk.quad(rows, nc, sinv, inv, zp5, (float)amax, xp + ((size_t)p * n + j0) * 4);
        }
    }
}

size_t kc_qweights_size(int m, int k, int planes) {
    size_t kp = (size_t)(k + 3) / 4 * 4, pm = (size_t)planes * m;
    size_t wb = (pm * kp + 63) / 64 * 64;
    return wb + sizeof(float) * (3 * pm + (size_t)k);
}

/* Row i of w (k values, times smooth) into `planes` planes (kc_qweights). */
static void quantize_row(const float *wr, int k, int kp, const float *smooth, int qmax, int planes,
                         size_t plane_stride, int8_t *q, float *ws_out, float *nsum) {
    float amax = 0.f;
    for (int j = 0; j < k; j++) {
        float v = fabsf(wr[j] * (smooth ? smooth[j] : 1.f));
        amax = v > amax ? v : amax;
    }
    float ws = amax > 0.f ? amax / (float)qmax : 1.f, fine = 2.f * (float)qmax;
    int32_t sum0 = 0, sum1 = 0;
    for (int j = 0; j < kp; j++) {
        float t = j < k ? wr[j] * (smooth ? smooth[j] : 1.f) / ws : 0.f;
        long v = lrintf(t);
        v = v > qmax ? qmax : v < -qmax ? -qmax : v;
        q[j] = (int8_t)v;
        sum0 += (int32_t)v;
        if (planes > 1) {
            long r = lrintf((t - (float)v) * fine);
            r = r > qmax ? qmax : r < -qmax ? -qmax : r;
            q[plane_stride + (size_t)j] = (int8_t)r;
            sum1 += (int32_t)r;
        }
    }
    ws_out[0] = ws;
    nsum[0] = -(float)sum0;
    if (planes > 1) {
        ws_out[1] = ws / fine;
        nsum[1] = -(float)sum1;
    }
}

void kc_qweights_pack(int m, int k, const float *w, const float *bias, const float *smooth,
                      int qmax, int planes, void *mem, kc_qweights *out) {
    int kp = (k + 3) / 4 * 4;
    size_t pm = (size_t)planes * m, wb = (pm * kp + 63) / 64 * 64;
    out->m = m;
    out->k = k;
    out->kp = kp;
    out->planes = planes;
    out->w = mem;
    out->ws = (float *)((char *)mem + wb);
    out->nsum = out->ws + pm;
    out->bias = out->nsum + pm;
    out->sinv = smooth ? out->bias + pm : NULL;
    for (int j = 0; smooth && j < k; j++)
        out->sinv[j] = 1.f / smooth[j];
    for (int i = 0; i < m; i++) {
        float ws[2], ns[2];
        quantize_row(w + (size_t)i * k, k, kp, smooth, qmax, planes, (size_t)m * kp,
                     out->w + (size_t)i * kp, ws, ns);
        for (int p = 0; p < planes; p++) {
            out->ws[(size_t)p * m + i] = ws[p];
            out->nsum[(size_t)p * m + i] = ns[p];
            out->bias[(size_t)p * m + i] = p == 0 && bias ? bias[i] : 0.f;
        }
    }
}
