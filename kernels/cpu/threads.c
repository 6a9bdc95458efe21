/* Thread policy and GEMM dispatch of the CPU kernels. OpenBLAS runs
 * single-threaded inside each call and quire's OpenMP loops split the work,
 * so the two pools never fight over the same cores (oversubscription costs
 * 2-10x on small machines). Plain (non-transposed) GEMMs go to quire's own
 * kernels: AVX-512 when the CPU has AVX-512F (it runs at that speed whatever
 * kernel family OpenBLAS was pinned to, OPENBLAS_CORETYPE), else AVX2+FMA
 * with the conv epilogue fused; OpenBLAS takes the transposed ones and CPUs
 * without AVX2. */
#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/kc_private.h"

static int use_avx512, use_avx2;
static kc_simd simd;

static void blas_setup(void) {
    openblas_set_num_threads(1);
#if defined(__x86_64__)
    /* For comparisons and debugging: QUIRE_NO_AVX512=1 leaves the AVX-512
     * kernel out, QUIRE_GEMM=openblas sends every GEMM to OpenBLAS. */
    const char *g = getenv("QUIRE_GEMM");
    int own = !(g && !strcmp(g, "openblas"));
    use_avx512 = own && __builtin_cpu_supports("avx512f") && !getenv("QUIRE_NO_AVX512");
    int avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    use_avx2 = own && !use_avx512 && avx2_fma;
    simd = use_avx512 ? KC_SIMD_AVX512 : avx2_fma ? KC_SIMD_AVX2 : KC_SIMD_BASE;
#endif
}

void kc_init_threads(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, blas_setup);
}

const char *kc_blas_core(void) {
    kc_init_threads();
    return use_avx512 ? "quire-avx512" : use_avx2 ? "quire-avx2" : openblas_get_corename();
}

kc_simd kc_simd_level(void) {
    kc_init_threads();
    return simd;
}

int kc_gemm_rows(int m, int n, int k, const float *a, int lda, const float *b, const int *rows,
                 float *c, int ldc, const kc_epilogue *ep, int c0) {
    if (!use_avx2) return 0;
    kc_sgemm_rows_avx2(m, n, k, a, lda, b, rows, c, ldc, ep, c0);
    return 1;
}

void kc_gemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, int accumulate,
             float *c, int ldc, const kc_epilogue *ep, int c0) {
    if (use_avx2) {
        kc_sgemm_avx2(m, n, k, a, lda, b, ldb, accumulate, c, ldc, ep, c0);
        return;
    }
    float beta = accumulate ? 1.f : 0.f;
    if (use_avx512) {
        kc_sgemm_avx512(m, n, k, a, lda, b, ldb, beta, c, ldc, ep, c0);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, a, lda, b, ldb, beta, c,
                ldc);
    if (ep)
        for (int i = 0; i < m; i++)
            kc_epilogue_row(ep, c0 + i, c + (size_t)i * ldc, (size_t)n);
}

void kc_sgemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc) {
    if (!trans_a && !trans_b && (beta == 0.f || beta == 1.f)) {
        kc_gemm(m, n, k, a, lda, b, ldb, beta != 0.f, c, ldc, NULL, 0);
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, 1.f, a, lda, b, ldb, beta, c, ldc);
}
