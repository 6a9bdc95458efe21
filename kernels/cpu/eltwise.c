/* Elementwise ops: NumPy-broadcast binary ops and unary ops. The fast binary
 * path merges dimensions until the innermost loop is contiguous (or a
 * broadcast scalar) on both sides, then runs one branch-free loop per op. */
#include <math.h>

#include "kernels/cpu/kc_private.h"

static inline float bin_one(kc_bin_op op, float a, float b) {
    switch (op) {
    case KC_BIN_ADD:
        return a + b;
    case KC_BIN_SUB:
        return a - b;
    case KC_BIN_MUL:
        return a * b;
    case KC_BIN_DIV:
        return a / b;
    case KC_BIN_POW:
        return powf(a, b);
    }
    return 0.f;
}

void kc_binary_ref(kc_bin_op op, int ndim, const int64_t *out_dims, const float *a,
                   const int64_t *a_dims, const float *b, const int64_t *b_dims, float *y) {
    int64_t total = 1;
    for (int d = 0; d < ndim; d++)
        total *= out_dims[d];
    for (int64_t i = 0; i < total; i++) {
        int64_t rem = i, ai = 0, bi = 0, am = 1, bm = 1;
        for (int d = ndim - 1; d >= 0; d--) {
            int64_t idx = rem % out_dims[d];
            rem /= out_dims[d];
            ai += (a_dims[d] == 1 ? 0 : idx) * am;
            bi += (b_dims[d] == 1 ? 0 : idx) * bm;
            am *= a_dims[d];
            bm *= b_dims[d];
        }
        y[i] = bin_one(op, a[ai], b[bi]);
    }
}

/* y[i] = a[i*sa] op b[i*sb] with sa, sb in {0, 1}. */
#define BIN_LOOP(EXPR)                                                                             \
    do {                                                                                           \
        if (sa && sb)                                                                              \
            for (int64_t i = 0; i < n; i++) {                                                      \
                float x0 = a[i], x1 = b[i];                                                        \
                y[i] = (EXPR);                                                                     \
            }                                                                                      \
        else if (sa) {                                                                             \
            float x1 = b[0];                                                                       \
            for (int64_t i = 0; i < n; i++) {                                                      \
                float x0 = a[i];                                                                   \
                y[i] = (EXPR);                                                                     \
            }                                                                                      \
        } else if (sb) {                                                                           \
            float x0 = a[0];                                                                       \
            for (int64_t i = 0; i < n; i++) {                                                      \
                float x1 = b[i];                                                                   \
                y[i] = (EXPR);                                                                     \
            }                                                                                      \
        } else {                                                                                   \
            float x0 = a[0], x1 = b[0], v = (EXPR);                                                \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = v;                                                                          \
        }                                                                                          \
    } while (0)

static void bin_inner(kc_bin_op op, const float *restrict a, int sa, const float *restrict b,
                      int sb, float *restrict y, int64_t n) {
    switch (op) {
    case KC_BIN_ADD:
        BIN_LOOP(x0 + x1);
        break;
    case KC_BIN_SUB:
        BIN_LOOP(x0 - x1);
        break;
    case KC_BIN_MUL:
        BIN_LOOP(x0 * x1);
        break;
    case KC_BIN_DIV:
        BIN_LOOP(x0 / x1);
        break;
    case KC_BIN_POW:
        if (!sb && b[0] == 2.f)
            BIN_LOOP(((void)x1, x0 * x0));
        else
            BIN_LOOP(powf(x0, x1));
        break;
    }
}

void kc_binary(const kc_ctx *ctx, kc_bin_op op, int ndim, const int64_t *out_dims, const float *a,
               const int64_t *a_dims, const float *b, const int64_t *b_dims, float *y) {
    int64_t d[KC_MAX_DIMS], sa[KC_MAX_DIMS], sb[KC_MAX_DIMS];
    int64_t am = 1, bm = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        d[i] = out_dims[i];
        sa[i] = a_dims[i] == 1 ? 0 : am;
        sb[i] = b_dims[i] == 1 ? 0 : bm;
        am *= a_dims[i];
        bm *= b_dims[i];
    }
    /* Merge dimension i into i+1 (from the right) when both strides allow. */
    int nd = 0;
    int64_t md[KC_MAX_DIMS], msa[KC_MAX_DIMS], msb[KC_MAX_DIMS];
    for (int i = 0; i < ndim; i++) {
        if (d[i] == 1) continue;
        if (nd > 0 && msa[nd - 1] == sa[i] * d[i] && msb[nd - 1] == sb[i] * d[i]) {
            md[nd - 1] *= d[i];
            msa[nd - 1] = sa[i];
            msb[nd - 1] = sb[i];
            continue;
        }
        md[nd] = d[i];
        msa[nd] = sa[i];
        msb[nd] = sb[i];
        nd++;
    }
    if (nd == 0) {
        y[0] = bin_one(op, a[0], b[0]);
        return;
    }
    int64_t n = md[nd - 1];
    int isa = msa[nd - 1] != 0, isb = msb[nd - 1] != 0;
    int64_t outer = 1;
    for (int i = 0; i < nd - 1; i++)
        outer *= md[i];
    if (outer == 1) {
        /* One long row: split it across threads. */
        int64_t chunk = 16384;
        int64_t nch = (n + chunk - 1) / chunk;
#pragma omp parallel for num_threads(ctx->nthreads) schedule(static) if (nch > 1)
        for (int64_t c = 0; c < nch; c++) {
            int64_t o = c * chunk, m = n - o < chunk ? n - o : chunk;
            bin_inner(op, a + (isa ? o : 0), isa, b + (isb ? o : 0), isb, y + o, m);
        }
        return;
    }
#pragma omp parallel for num_threads(ctx->nthreads) schedule(static) if (outer * n > 32768)
    for (int64_t o = 0; o < outer; o++) {
        int64_t rem = o, ao = 0, bo = 0;
        for (int i = nd - 2; i >= 0; i--) {
            int64_t idx = rem % md[i];
            rem /= md[i];
            ao += idx * msa[i];
            bo += idx * msb[i];
        }
        bin_inner(op, a + ao, isa, b + bo, isb, y + o * n, n);
    }
}

void kc_unary_ref(kc_un_op op, kc_act act, const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (op == KC_UN_SQRT) {
            y[i] = sqrtf(x[i]);
            continue;
        }
        float v = x[i], t;
        switch (act.kind) {
        case KC_ACT_NONE:
            break;
        case KC_ACT_RELU:
            v = v > 0 ? v : 0;
            break;
        case KC_ACT_CLIP:
            v = fminf(fmaxf(v, act.a), act.b);
            break;
        case KC_ACT_HARD_SIGMOID:
            v = fminf(fmaxf(act.a * v + act.b, 0.f), 1.f);
            break;
        case KC_ACT_HARD_SWISH:
            t = fminf(fmaxf(act.a * v + act.b, 0.f), 1.f);
            v = v * t;
            break;
        case KC_ACT_SIGMOID:
            v = 1.f / (1.f + expf(-v));
            break;
        }
        y[i] = v;
    }
}

void kc_unary(const kc_ctx *ctx, kc_un_op op, kc_act act, const float *x, float *y, size_t n) {
    size_t chunk = 16384;
    long nch = (long)((n + chunk - 1) / chunk);
#pragma omp parallel for num_threads(ctx->nthreads) schedule(static) if (nch > 1)
    for (long c = 0; c < nch; c++) {
        size_t o = (size_t)c * chunk, m = n - o < chunk ? n - o : chunk;
        const float *restrict xs = x + o;
        float *restrict ys = y + o;
        if (op == KC_UN_SQRT) {
            for (size_t i = 0; i < m; i++)
                ys[i] = sqrtf(xs[i]);
        } else {
            if (ys != xs)
                for (size_t i = 0; i < m; i++)
                    ys[i] = xs[i];
            kc_act_apply(act, ys, m);
        }
    }
}
