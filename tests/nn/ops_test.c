/* The CPU kernels' internal paths on random shapes, beyond what one-node
 * models reach (backend_ops_test.c tests every op through the backend):
 * each conv algorithm (pointwise, im2col, shifted GEMM, Winograd, depthwise
 * rows; packed and unpacked weights), deconv, MatMul and the blocked GEMM
 * against kernels/cpu's naive references, with canaries around each output.
 * Seeded by QUIRE_TEST_SEED. Run with a test name to run one only. */
#include "kernels/cpu/kc.h"
#include "tests/nn/test_util.h"

static int failures, checks;
static const int nthreads = 2;

static void check(const char *op, const char *desc, const float *got, const float *want, size_t n,
                  double tol) {
    double e = tu_nmse(got, want, n);
    int canary = tu_canaries_ok(got, n);
    checks++;
    if (e > tol || !canary) {
        failures++;
        printf("FAIL %s %s: nmse %.3g (tol %.1g)%s\n", op, desc, e, tol,
               canary ? "" : ", canary overwritten");
    }
}

static kc_ctx make_ctx(size_t per_thread) {
    kc_ctx c = {nthreads, NULL, per_thread};
    c.scratch = malloc(sizeof(float) * (per_thread * nthreads + 1));
    return c;
}

static kc_epilogue random_epilogue(int c, float *bias, float *ps, float *pt) {
    kc_epilogue ep = {0};
    tu_fill(bias, (size_t)c, -1, 1);
    tu_fill(ps, (size_t)c, 0.5f, 1.5f);
    tu_fill(pt, (size_t)c, -0.5f, 0.5f);
    ep.bias = tu_int(0, 3) ? bias : NULL;
    ep.act.kind = (kc_act_kind)tu_int(0, KC_ACT_SIGMOID);
    ep.act.a = ep.act.kind == KC_ACT_CLIP ? 0.f : 1.f / 6.f;
    ep.act.b = ep.act.kind == KC_ACT_CLIP ? 6.f : 0.5f;
    if (tu_int(0, 2) == 0) {
        ep.post_scale = ps;
        ep.post_shift = pt;
        ep.post_n = tu_int(0, 1) ? c : 1;
    }
    return ep;
}

/* kind: 0 any, 1 depthwise, 2 pointwise, 3 many input channels, 4 enough
 * channels for Winograd (3x3 stride 1) */
static void test_conv_one(int kind, int k, int stride_h, int stride_w, int deconv) {
    kc_conv_shape s = {0};
    s.n = tu_int(1, 2);
    s.kh = k;
    s.kw = kind == 0 && tu_int(0, 3) == 0 ? tu_int(1, 3) : k;
    s.sh = stride_h;
    s.sw = stride_w;
    s.dh = s.dw = kind == 0 && !deconv && tu_int(0, 4) == 0 ? 2 : 1;
    s.h_in = tu_int(k, 23);
    /* depthwise rows wide enough for the 4-vector blocks of 16 lanes */
    s.w_in = tu_int(k, kind == 1 ? 150 : 37);
    if (kind == 1) {
        s.group = s.c_in = s.c_out = tu_int(2, 24);
    } else if (kind == 4) {
        s.group = 1;
        s.c_in = tu_int(16, 40);
        s.c_out = tu_int(8, 30);
    } else if (kind == 3) {
        s.group = tu_int(1, 2);
        s.c_in = s.group * tu_int(8, 40);
        s.c_out = s.group * tu_int(1, 30);
    } else {
        s.group = kind == 0 && tu_int(0, 3) == 0 ? 2 : 1;
        s.c_in = s.group * tu_int(1, 12);
        s.c_out = s.group * tu_int(1, 12);
    }
    if (kind != 2) {
        s.pad_t = tu_int(0, k / 2);
        s.pad_l = tu_int(0, k / 2);
        s.pad_b = tu_int(0, k / 2);
        s.pad_r = tu_int(0, k / 2);
    }
    if (deconv) {
        s.h_out = (s.h_in - 1) * s.sh - s.pad_t - s.pad_b + s.dh * (s.kh - 1) + 1;
        s.w_out = (s.w_in - 1) * s.sw - s.pad_l - s.pad_r + s.dw * (s.kw - 1) + 1;
    } else {
        s.h_out = (s.h_in + s.pad_t + s.pad_b - s.dh * (s.kh - 1) - 1) / s.sh + 1;
        s.w_out = (s.w_in + s.pad_l + s.pad_r - s.dw * (s.kw - 1) - 1) / s.sw + 1;
    }
    if (s.h_out < 1 || s.w_out < 1) return;
    size_t nx = (size_t)s.n * s.c_in * s.h_in * s.w_in,
           ny = (size_t)s.n * s.c_out * s.h_out * s.w_out;
    size_t nw = (size_t)s.c_out * (s.c_in / s.group) * s.kh * s.kw;
    float *x = tu_alloc(nx), *w = tu_alloc(nw), *y = tu_alloc(ny), *r = tu_alloc(ny);
    float bias[128], ps[128], pt[128];
    tu_fill(x, nx, -1, 1);
    tu_fill(w, nw, -1, 1);
    kc_epilogue ep = random_epilogue(s.c_out, bias, ps, pt);
    kc_ctx c = make_ctx(deconv ? kc_deconv2d_workspace(&s) : kc_conv2d_workspace(&s));
    char desc[200];
    snprintf(desc, sizeof(desc), "n%d c%d->%d %dx%d k%dx%d s%d,%d d%d p%d,%d,%d,%d g%d act%d", s.n,
             s.c_in, s.c_out, s.h_in, s.w_in, s.kh, s.kw, s.sh, s.sw, s.dh, s.pad_t, s.pad_l,
             s.pad_b, s.pad_r, s.group, ep.act.kind);
    if (deconv) {
        kc_deconv2d_ref(&s, x, w, &ep, r);
        kc_deconv2d(&c, &s, x, w, &ep, y);
    } else {
        kc_conv2d_ref(&s, x, w, &ep, r);
        float *packed = malloc(sizeof(float) * (kc_conv2d_packed_size(&s) + 1));
        if (kc_conv2d_packed_size(&s)) kc_conv2d_pack(&s, w, packed);
        kc_conv2d(&c, &s, x, w, kc_conv2d_packed_size(&s) ? packed : NULL, &ep, y);
        check("conv", desc, y, r, ny, 1e-9);
        kc_conv2d(&c, &s, x, w, NULL, &ep, y); /* the unpacked path too */
        free(packed);
    }
    check(deconv ? "deconv" : "conv", desc, y, r, ny, 1e-9);
    free(c.scratch);
    tu_free(x);
    tu_free(w);
    tu_free(y);
    tu_free(r);
}

static void test_conv(void) {
    for (int i = 0; i < 20; i++) {
        test_conv_one(2, 1, 1, 1, 0); /* pointwise, no im2col */
        test_conv_one(0, 3, tu_int(1, 2), tu_int(1, 2), 0);
        test_conv_one(0, tu_int(1, 5), 1, 1, 0);
        test_conv_one(3, tu_int(2, 5), 1, 1, 0); /* many input channels: shifted GEMM */
        test_conv_one(4, 3, 1, 1, 0);            /* Winograd F(2x2, 3x3) */
        test_conv_one(1, 3, 1, 1, 0);            /* depthwise 3x3 s1 */
        test_conv_one(1, 3, 2, 2, 0);
        test_conv_one(1, 5, 1, 1, 0);
        test_conv_one(1, 5, 2, 2, 0);
        test_conv_one(1, tu_int(3, 5), 2, 1, 0); /* PP-OCR's (2,1) strides */
        test_conv_one(1, 3, 1, 2, 0);
        test_conv_one(1, 2 * tu_int(1, 2), 2, 2, 0); /* even kernels: the generic row */
    }
}

static void test_deconv(void) {
    for (int i = 0; i < 20; i++) {
        test_conv_one(2, 2, 2, 2, 1); /* PP-OCR det: k2 s2, windows tile the output */
        test_conv_one(0, 2, 2, 2, 1); /* the same with groups, or cut by padding */
        test_conv_one(0, 3, 2, 2, 1); /* overlapping windows */
        test_conv_one(0, 4, 2, 2, 1);
    }
}

static void test_matmul(void) {
    for (int i = 0; i < 30; i++) {
        kc_matmul_shape s = {tu_int(1, 6), tu_int(1, 70), tu_int(1, 70), tu_int(1, 130), 0, 0};
        int shared_b = tu_int(0, 1);
        s.a_stride = s.m * s.k;
        s.b_stride = shared_b ? 0 : s.k * s.n;
        size_t na = (size_t)(s.batch * s.m * s.k),
               nb = (size_t)((shared_b ? 1 : s.batch) * s.k * s.n);
        size_t nc = (size_t)(s.batch * s.m * s.n);
        float *a = tu_alloc(na), *b = tu_alloc(nb), *c = tu_alloc(nc), *r = tu_alloc(nc);
        tu_fill(a, na, -1, 1);
        tu_fill(b, nb, -1, 1);
        kc_ctx ctx = {nthreads, NULL, 0};
        kc_matmul_ref(&s, a, b, r);
        kc_matmul(&ctx, &s, a, b, c);
        char desc[128];
        snprintf(desc, sizeof(desc), "b%lld %lldx%lldx%lld shared_b=%d", (long long)s.batch,
                 (long long)s.m, (long long)s.k, (long long)s.n, shared_b);
        check("matmul", desc, c, r, nc, 1e-10);
        tu_free(a);
        tu_free(b);
        tu_free(c);
        tu_free(r);
    }
}

/* kc_gemm directly: odd sizes around the 6x16 blocks and the 256-deep and
 * 128-wide cache blocks, strided operands, accumulation and every epilogue. */
static void test_gemm(void) {
    for (int i = 0; i < 40; i++) {
        int m = tu_int(1, 40), n = tu_int(1, 300), k = tu_int(0, 300);
        if (i % 8 == 0) m = tu_int(97, 130); /* more than one row block */
        int lda = k + tu_int(0, 3), ldb = n + tu_int(0, 5), ldc = n + tu_int(0, 5);
        int acc = tu_int(0, 1);
        size_t na = (size_t)m * lda + 1, nb = (size_t)k * ldb + 1, nc = (size_t)m * ldc;
        float *a = tu_alloc(na), *b = tu_alloc(nb), *c = tu_alloc(nc), *r = tu_alloc(nc);
        tu_fill(a, na, -1, 1);
        tu_fill(b, nb, -1, 1);
        tu_fill(c, nc, -1, 1);
        memcpy(r, c, sizeof(float) * nc);
        float bias[130], ps[130], pt[130];
        kc_epilogue ep = random_epilogue(m, bias, ps, pt);
        int use_ep = tu_int(0, 2) > 0;
        for (int row = 0; row < m; row++) {
            for (int col = 0; col < n; col++) {
                double s = acc ? r[(size_t)row * ldc + col] : 0.;
                for (int p = 0; p < k; p++)
                    s += (double)a[(size_t)row * lda + p] * b[(size_t)p * ldb + col];
                r[(size_t)row * ldc + col] = (float)s;
            }
            if (use_ep) kc_epilogue_row(&ep, row, r + (size_t)row * ldc, (size_t)n);
        }
        kc_gemm(m, n, k, a, lda, b, ldb, acc, c, ldc, use_ep ? &ep : NULL, 0);
        char desc[128];
        snprintf(desc, sizeof(desc), "%dx%dx%d ld %d,%d,%d acc %d act %d", m, n, k, lda, ldb, ldc,
                 acc, use_ep ? (int)ep.act.kind : -1);
        check("gemm", desc, c, r, nc, 1e-10);
        tu_free(a);
        tu_free(b);
        tu_free(c);
        tu_free(r);
    }
}

int main(int argc, char **argv) {
    tu_seed_init();
    kc_init_threads();
    const char *only = argc > 1 ? argv[1] : NULL;
    struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"conv", test_conv},
        {"deconv", test_deconv},
        {"matmul", test_matmul},
        {"gemm", test_gemm},
    };
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
        if (!only || !strcmp(only, tests[i].name)) tests[i].fn();
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
