/* Every CUDA op against the CPU kernels on random shapes, with canaries around
 * each device output (the idea of ggml's test-backend-ops). Seeded by
 * QUIRE_TEST_SEED (printed). Exits 77 without a usable GPU (1 under
 * QUIRE_TEST_REQUIRE_GPU=1). With QUIRE_CUDA_TF32=1 the conv and MatMul
 * tolerances are those of TF32. */
#include "kernels/cpu/kc.h"
#include "kernels/cuda/kcu.h"
#include "tests/cuda/gpu_required.h"
#include "tests/nn/test_util.h"

static int failures, checks;
static kcu_ctx *K;
/* Normalized MSE against the double-accumulating references.
 * MatMul: cuBLAS's FP32 GEMM sums the same products in another order, a few
 * float32 roundings per output (NMSE ~1e-12 or less at these sizes).
 * Conv and deconv: cudnnFind may pick FFT or Winograd, which transform the
 * inputs and filters in float32; the transforms' coefficients amplify each
 * rounding (more for larger tiles: Lavin & Gray, "Fast Algorithms for
 * Convolutional Neural Networks", 2016), to errors of about 1e-6..1e-5 of the
 * outputs' scale, NMSE up to ~1e-10..1e-9: MatMul's 1e-10 would fail
 * them. 1e-7 is what ggml's test-backend-ops allows by default; a real
 * bug costs far more: one wrong output in 10^5 is ~1e-5, a dropped input
 * channel of 40 about 2.5e-2, a one-pixel shift O(1). */
static double tol_mm = 1e-10, tol_conv = 1e-7;

static void die(const char *what) {
    printf("FATAL %s: %s\n", what, q_errmsg());
    exit(1);
}

/* A device buffer of n floats with canaries on both sides. */
typedef struct {
    float *base; /* device, n + 2 * TU_CANARY floats */
    size_t n;
} dbuf;

static dbuf dnew(const float *host, size_t n) {
    dbuf d = {kcu_alloc(K, sizeof(float) * (n + 2 * TU_CANARY)), n};
    if (!d.base) die("kcu_alloc");
    float *h = tu_alloc(n); /* canaries around, contents below */
    if (host)
        memcpy(h, host, sizeof(float) * n);
    else
        tu_fill(h, n, -100, 100); /* garbage the op must overwrite */
    if (kcu_upload(K, d.base, h - TU_CANARY, sizeof(float) * (n + 2 * TU_CANARY)))
        die("kcu_upload");
    tu_free(h);
    return d;
}

static float *dptr(dbuf d) {
    return d.base + TU_CANARY;
}

/* Downloads into a tu_alloc buffer (canaries included) and frees the device side. */
static float *dget(dbuf d) {
    float *h = tu_alloc(d.n);
    if (kcu_sync(K)) die("kernel");
    if (kcu_download(K, h - TU_CANARY, d.base, sizeof(float) * (d.n + 2 * TU_CANARY)))
        die("kcu_download");
    kcu_free(K, d.base);
    return h;
}

static void check(const char *op, const char *desc, float *got, const float *want, size_t n,
                  double tol) {
    double e = tu_nmse(got, want, n), mx = 0;
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, fabs((double)got[i] - want[i]));
    int canary = tu_canaries_ok(got, n);
    checks++;
    if (e > tol || !canary) {
        failures++;
        printf("FAIL %s %s: nmse %.3g (tol %.1g), max abs %.3g%s\n", op, desc, e, tol, mx,
               canary ? "" : ", canary overwritten");
    }
    tu_free(got);
}

/* ---- conv and deconv ------------------------------------------------------ */
static void test_conv_one(int depthwise, int k, int sh, int sw, int asym, int deconv) {
    kc_conv_shape s = {0};
    s.n = tu_int(1, 3);
    s.kh = k;
    s.kw = tu_int(0, 3) ? k : tu_int(1, 3);
    s.sh = sh;
    s.sw = sw;
    s.dh = s.dw = !deconv && tu_int(0, 4) == 0 ? 2 : 1;
    s.h_in = tu_int(k, 23);
    s.w_in = tu_int(k, 37);
    if (depthwise) {
        s.group = s.c_in = s.c_out = tu_int(2, 48);
    } else {
        s.group = tu_int(0, 3) ? 1 : 2;
        s.c_in = s.group * tu_int(1, 40);
        s.c_out = s.group * tu_int(1, 40);
    }
    s.pad_t = s.pad_b = tu_int(0, k / 2);
    s.pad_l = s.pad_r = tu_int(0, k / 2);
    if (asym) {
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
    size_t nw = deconv ? (size_t)s.c_in * (s.c_out / s.group) * s.kh * s.kw
                       : (size_t)s.c_out * (s.c_in / s.group) * s.kh * s.kw;
    float *x = malloc(sizeof(float) * nx), *w = malloc(sizeof(float) * nw),
          *r = malloc(sizeof(float) * ny), bias[128], ps[128], pt[128];
    tu_fill(x, nx, -1, 1);
    tu_fill(w, nw, -1, 1);
    tu_fill(bias, 128, -1, 1);
    tu_fill(ps, 128, 0.5f, 1.5f);
    tu_fill(pt, 128, -0.5f, 0.5f);
    /* Epilogues: the fused cuDNN paths (bias + ReLU, bias alone) half the time. */
    kc_epilogue ep = {0};
    int kind = tu_int(0, 3);
    ep.bias = kind != 3 ? bias : NULL;
    ep.act.kind = kind == 0   ? KC_ACT_RELU
                  : kind == 1 ? KC_ACT_NONE
                              : (kc_act_kind)tu_int(0, KC_ACT_SIGMOID);
    ep.act.a = ep.act.kind == KC_ACT_CLIP ? 0.f : 1.f / 6.f;
    ep.act.b = ep.act.kind == KC_ACT_CLIP ? 6.f : 0.5f;
    if (kind >= 2 && tu_int(0, 1)) {
        ep.post_scale = ps;
        ep.post_shift = pt;
        ep.post_n = tu_int(0, 1) ? s.c_out : 1;
    }
    if (deconv)
        kc_deconv2d_ref(&s, x, w, &ep, r);
    else
        kc_conv2d_ref(&s, x, w, &ep, r);
    dbuf dx = dnew(x, nx), dw = dnew(w, nw), db = dnew(bias, 128), dps = dnew(ps, 128),
         dpt = dnew(pt, 128), dy = dnew(NULL, ny);
    kc_epilogue dep = ep;
    dep.bias = ep.bias ? dptr(db) : NULL;
    dep.post_scale = ep.post_scale ? dptr(dps) : NULL;
    dep.post_shift = ep.post_shift ? dptr(dpt) : NULL;
    size_t ws = 0;
    q_status st = deconv ? kcu_deconv2d_workspace(K, &s, &ws) : kcu_conv2d_workspace(K, &s, &ws);
    if (!st) st = kcu_reserve(K, ws);
    if (!st)
        st = deconv ? kcu_deconv2d(K, &s, dptr(dx), dptr(dw), &dep, dptr(dy))
                    : kcu_conv2d(K, &s, dptr(dx), dptr(dw), &dep, dptr(dy));
    char desc[200];
    snprintf(desc, sizeof(desc), "n%d c%d->%d %dx%d k%dx%d s%d,%d d%d p%d,%d,%d,%d g%d act%d%s",
             s.n, s.c_in, s.c_out, s.h_in, s.w_in, s.kh, s.kw, s.sh, s.sw, s.dh, s.pad_t, s.pad_l,
             s.pad_b, s.pad_r, s.group, ep.act.kind, ep.post_scale ? " post" : "");
    if (st) {
        failures++;
        printf("FAIL %s %s: %s\n", deconv ? "deconv" : "conv", desc, q_errmsg());
    }
    check(deconv ? "deconv" : "conv", desc, dget(dy), r, ny, tol_conv);
    kcu_free(K, dx.base);
    kcu_free(K, dw.base);
    kcu_free(K, db.base);
    kcu_free(K, dps.base);
    kcu_free(K, dpt.base);
    free(x);
    free(w);
    free(r);
}

static void test_conv(void) {
    for (int i = 0; i < 15; i++) {
        test_conv_one(0, 1, 1, 1, 0, 0); /* pointwise */
        test_conv_one(0, 3, tu_int(1, 2), tu_int(1, 2), 0, 0);
        test_conv_one(0, tu_int(1, 5), 1, 1, 1, 0); /* asymmetric pads: the padded copy */
        test_conv_one(1, 3, 1, 1, 0, 0);            /* depthwise */
        test_conv_one(1, 5, 2, 2, 0, 0);
        test_conv_one(1, tu_int(3, 5), 2, 1, 0, 0); /* PP-OCR's (2,1) strides */
        test_conv_one(0, 2, 2, 2, 0, 1);            /* PP-OCR det's ConvTranspose k2 s2 */
        test_conv_one(0, 3, 2, 2, 0, 1);
        test_conv_one(0, 4, 2, 2, 1, 1); /* asymmetric pads: the crop */
    }
}

/* ---- MatMul ------------------------------------------------------------------ */
static void test_matmul(void) {
    for (int i = 0; i < 30; i++) {
        kc_matmul_shape s = {tu_int(1, 6), tu_int(1, 90), tu_int(1, 300), tu_int(1, 130), 0, 0};
        int shared = tu_int(0, 2); /* 0: none, 1: one B for all, 2: one A for all */
        s.a_stride = shared == 2 ? 0 : s.m * s.k;
        s.b_stride = shared == 1 ? 0 : s.k * s.n;
        size_t na = (size_t)(shared == 2 ? 1 : s.batch) * s.m * s.k,
               nb = (size_t)(shared == 1 ? 1 : s.batch) * s.k * s.n,
               ny = (size_t)s.batch * s.m * s.n;
        float *a = malloc(sizeof(float) * na), *b = malloc(sizeof(float) * nb),
              *r = malloc(sizeof(float) * ny);
        tu_fill(a, na, -1, 1);
        tu_fill(b, nb, -1, 1);
        kc_matmul_ref(&s, a, b, r);
        dbuf da = dnew(a, na), db = dnew(b, nb), dy = dnew(NULL, ny);
        if (kcu_matmul(K, &s, dptr(da), dptr(db), dptr(dy))) die("kcu_matmul");
        char desc[100];
        snprintf(desc, sizeof(desc), "b%lld %lldx%lldx%lld shared %d", (long long)s.batch,
                 (long long)s.m, (long long)s.k, (long long)s.n, shared);
        check("matmul", desc, dget(dy), r, ny, tol_mm);
        kcu_free(K, da.base);
        kcu_free(K, db.base);
        free(a);
        free(b);
        free(r);
    }
}

/* ---- elementwise ---------------------------------------------------------- */
static void test_binary(void) {
    for (int i = 0; i < 60; i++) {
        int nd = tu_int(1, 5);
        int64_t od[8], ad[8], bd[8];
        size_t ny = 1, na = 1, nb = 1;
        for (int d = 0; d < nd; d++) {
            od[d] = tu_int(1, 9);
            ad[d] = tu_int(0, 2) ? od[d] : 1; /* NumPy broadcast: 1 or the output's */
            bd[d] = tu_int(0, 2) ? od[d] : 1;
            if (ad[d] == 1 && bd[d] == 1) od[d] = 1;
            ny *= (size_t)od[d];
            na *= (size_t)ad[d];
            nb *= (size_t)bd[d];
        }
        kc_bin_op op = (kc_bin_op)tu_int(0, KC_BIN_POW);
        float *a = malloc(sizeof(float) * na), *b = malloc(sizeof(float) * nb),
              *r = malloc(sizeof(float) * ny);
        tu_fill(a, na, op == KC_BIN_POW ? 0.1f : -2, 2);
        tu_fill(b, nb, op == KC_BIN_DIV ? 0.5f : -2, 2);
        kc_binary_ref(op, nd, od, a, ad, b, bd, r);
        dbuf da = dnew(a, na), db = dnew(b, nb), dy = dnew(NULL, ny);
        if (kcu_binary(K, op, nd, od, dptr(da), ad, dptr(db), bd, dptr(dy))) die("kcu_binary");
        char desc[100];
        snprintf(desc, sizeof(desc), "op %d ndim %d, %zu values", op, nd, ny);
        check("binary", desc, dget(dy), r, ny, 1e-12);
        kcu_free(K, da.base);
        kcu_free(K, db.base);
        free(a);
        free(b);
        free(r);
    }
}

static void test_unary(void) {
    for (int kind = 0; kind <= KC_ACT_SIGMOID + 1; kind++) {
        size_t n = (size_t)tu_int(1, 100000);
        kc_un_op op = kind > KC_ACT_SIGMOID ? KC_UN_SQRT : KC_UN_ACT;
        kc_act act = {(kc_act_kind)(kind > KC_ACT_SIGMOID ? 0 : kind), 0.f, 6.f};
        if (act.kind == KC_ACT_HARD_SIGMOID || act.kind == KC_ACT_HARD_SWISH) {
            act.a = 1.f / 6.f;
            act.b = 0.5f;
        }
        float *x = malloc(sizeof(float) * n), *r = malloc(sizeof(float) * n);
        tu_fill(x, n, op == KC_UN_SQRT ? 0.f : -8, 8);
        kc_unary_ref(op, act, x, r, n);
        dbuf dx = dnew(x, n), dy = dnew(NULL, n);
        if (kcu_unary(K, op, act, dptr(dx), dptr(dy), n)) die("kcu_unary");
        char desc[64];
        snprintf(desc, sizeof(desc), "%s kind %d, %zu values", op == KC_UN_SQRT ? "sqrt" : "act",
                 act.kind, n);
        check("unary", desc, dget(dy), r, n, 1e-12);
        kcu_free(K, dx.base);
        free(x);
        free(r);
    }
}

static void test_batch_norm(void) {
    for (int i = 0; i < 5; i++) {
        int64_t nb = tu_int(1, 3), ch = tu_int(1, 64), inner = tu_int(1, 500);
        size_t n = (size_t)(nb * ch * inner);
        float *x = malloc(sizeof(float) * n), *r = malloc(sizeof(float) * n), p[4][64];
        tu_fill(x, n, -3, 3);
        for (int k = 0; k < 4; k++)
            tu_fill(p[k], 64, k == 3 ? 0.1f : -1, 1);
        float eps = 1e-5f;
        for (int64_t b = 0; b < nb; b++) /* as backend_cpu.c's cpu_batch_norm */
            for (int64_t c = 0; c < ch; c++) {
                float sc = p[0][c] / sqrtf(p[3][c] + eps), sh = p[1][c] - p[2][c] * sc;
                for (int64_t j = 0; j < inner; j++)
                    r[(b * ch + c) * inner + j] = x[(b * ch + c) * inner + j] * sc + sh;
            }
        dbuf dx = dnew(x, n), dy = dnew(NULL, n), dp[4];
        for (int k = 0; k < 4; k++)
            dp[k] = dnew(p[k], 64);
        if (kcu_batch_norm(K, dptr(dx), dptr(dp[0]), dptr(dp[1]), dptr(dp[2]), dptr(dp[3]), eps,
                           dptr(dy), nb, (int)ch, inner))
            die("kcu_batch_norm");
        check("batch_norm", "", dget(dy), r, n, 1e-12);
        kcu_free(K, dx.base);
        for (int k = 0; k < 4; k++)
            kcu_free(K, dp[k].base);
        free(x);
        free(r);
    }
}

/* ---- softmax, reductions, pools, resize ------------------------------------- */
static void test_softmax_reduce(void) {
    for (int i = 0; i < 20; i++) {
        int64_t rows = tu_int(1, 200), cols = i % 5 == 0 ? 6625 : tu_int(1, 700);
        size_t n = (size_t)(rows * cols);
        float *x = malloc(sizeof(float) * n), *r = malloc(sizeof(float) * n);
        tu_fill(x, n, -20, 20);
        kc_softmax_ref(x, r, rows, cols);
        dbuf dx = dnew(x, n), dy = dnew(NULL, n);
        if (kcu_softmax(K, dptr(dx), dptr(dy), rows, cols)) die("kcu_softmax");
        char desc[64];
        snprintf(desc, sizeof(desc), "%lldx%lld", (long long)rows, (long long)cols);
        check("softmax", desc, dget(dy), r, n, 1e-11);
        /* ReduceMean over the middle of [outer, red, inner]; inner 1 half the time. */
        int64_t outer = tu_int(1, 20), red = tu_int(1, 300), inner = tu_int(0, 1) ? 1 : 37;
        size_t nr = (size_t)(outer * red * inner);
        float *xr = malloc(sizeof(float) * nr),
              *rr = malloc(sizeof(float) * (size_t)(outer * inner));
        tu_fill(xr, nr, -1, 1);
        kc_reduce_mean_ref(xr, rr, outer, red, inner);
        dbuf drx = dnew(xr, nr), dry = dnew(NULL, (size_t)(outer * inner));
        if (kcu_reduce_mean(K, dptr(drx), dptr(dry), outer, red, inner)) die("kcu_reduce_mean");
        snprintf(desc, sizeof(desc), "%lldx%lldx%lld", (long long)outer, (long long)red,
                 (long long)inner);
        check("reduce_mean", desc, dget(dry), rr, (size_t)(outer * inner), 1e-11);
        /* GlobalAveragePool: planes of hw values. */
        int64_t planes = outer * 3, hw = red * 7;
        float *xg = malloc(sizeof(float) * (size_t)(planes * hw)),
              *rg = malloc(sizeof(float) * (size_t)planes);
        tu_fill(xg, (size_t)(planes * hw), -1, 1);
        for (int64_t p = 0; p < planes; p++) {
            double acc = 0;
            for (int64_t j = 0; j < hw; j++)
                acc += xg[p * hw + j];
            rg[p] = (float)(acc / (double)hw);
        }
        dbuf dgx = dnew(xg, (size_t)(planes * hw)), dgy = dnew(NULL, (size_t)planes);
        if (kcu_global_avg_pool(K, dptr(dgx), dptr(dgy), planes, hw)) die("kcu_global_avg_pool");
        check("global_avg_pool", desc, dget(dgy), rg, (size_t)planes, 1e-12);
        kcu_free(K, dx.base);
        kcu_free(K, drx.base);
        kcu_free(K, dgx.base);
        free(x);
        free(r);
        free(xr);
        free(rr);
        free(xg);
        free(rg);
    }
}

static void test_pool(void) {
    for (int i = 0; i < 40; i++) {
        kc_pool_shape s = {0};
        s.planes = tu_int(1, 40);
        s.kh = tu_int(1, 4);
        s.kw = tu_int(1, 4);
        s.sh = tu_int(1, 3);
        s.sw = tu_int(1, 3);
        s.pad_t = tu_int(0, s.kh / 2);
        s.pad_l = tu_int(0, s.kw / 2);
        s.h_in = tu_int(s.kh, 30);
        s.w_in = tu_int(s.kw, 40);
        int ceil_mode = tu_int(0, 1);
        int eh = s.h_in + 2 * s.pad_t - s.kh, ew = s.w_in + 2 * s.pad_l - s.kw;
        s.h_out = (ceil_mode ? (eh + s.sh - 1) / s.sh : eh / s.sh) + 1;
        s.w_out = (ceil_mode ? (ew + s.sw - 1) / s.sw : ew / s.sw) + 1;
        s.count_include_pad = tu_int(0, 1);
        size_t nx = (size_t)(s.planes * s.h_in * s.w_in),
               ny = (size_t)(s.planes * s.h_out * s.w_out);
        float *x = malloc(sizeof(float) * nx), *r = malloc(sizeof(float) * ny);
        tu_fill(x, nx, -1, 1);
        int is_max = i & 1;
        if (is_max)
            kc_max_pool_ref(&s, x, r);
        else
            kc_avg_pool_ref(&s, x, r);
        dbuf dx = dnew(x, nx), dy = dnew(NULL, ny);
        if ((is_max ? kcu_max_pool : kcu_avg_pool)(K, &s, dptr(dx), dptr(dy))) die("kcu_pool");
        char desc[100];
        snprintf(desc, sizeof(desc), "%s %dx%d k%dx%d s%d,%d p%d,%d cip%d", is_max ? "max" : "avg",
                 s.h_in, s.w_in, s.kh, s.kw, s.sh, s.sw, s.pad_t, s.pad_l, s.count_include_pad);
        check("pool", desc, dget(dy), r, ny, 1e-12);
        kcu_free(K, dx.base);
        free(x);
        free(r);
    }
}

static void test_resize(void) {
    for (int i = 0; i < 40; i++) {
        kc_resize_shape s = {0};
        s.planes = tu_int(1, 10);
        s.h_in = tu_int(1, 20);
        s.w_in = tu_int(1, 20);
        float f = i % 3 == 0 ? 2.f : (i % 3 == 1 ? 0.5f : tu_float(0.3f, 3.f));
        s.h_out = (int)(s.h_in * f) > 0 ? (int)(s.h_in * f) : 1;
        s.w_out = (int)(s.w_in * f) > 0 ? (int)(s.w_in * f) : 1;
        s.scale_h = s.scale_w = f;
        s.coord = (kc_coord_mode)tu_int(0, KC_COORD_PYTORCH_HALF_PIXEL);
        s.nearest = (kc_nearest_mode)tu_int(0, KC_NEAREST_CEIL);
        size_t nx = (size_t)(s.planes * s.h_in * s.w_in),
               ny = (size_t)(s.planes * s.h_out * s.w_out);
        float *x = malloc(sizeof(float) * nx), *r = malloc(sizeof(float) * ny);
        tu_fill(x, nx, -1, 1);
        kc_resize_nearest_ref(&s, x, r);
        dbuf dx = dnew(x, nx), dy = dnew(NULL, ny);
        if (kcu_resize_nearest(K, &s, dptr(dx), dptr(dy))) die("kcu_resize_nearest");
        char desc[100];
        snprintf(desc, sizeof(desc), "%dx%d -> %dx%d coord %d nearest %d", s.h_in, s.w_in, s.h_out,
                 s.w_out, s.coord, s.nearest);
        check("resize", desc, dget(dy), r, ny, 0);
        kcu_free(K, dx.base);
        free(x);
        free(r);
    }
}

/* ---- data movement ---------------------------------------------------------- */
static void test_movement(void) {
    for (int i = 0; i < 40; i++) {
        int nd = tu_int(1, 5), perm[8];
        int64_t dims[8], od[8], starts[8], steps[8];
        size_t n = 1, ns = 1;
        for (int d = 0; d < nd; d++) {
            dims[d] = tu_int(1, 9);
            n *= (size_t)dims[d];
            perm[d] = d;
        }
        for (int d = nd - 1; d > 0; d--) { /* a random permutation */
            int j = tu_int(0, d), t = perm[d];
            perm[d] = perm[j];
            perm[j] = t;
        }
        float *x = malloc(sizeof(float) * n), *r = malloc(sizeof(float) * n);
        tu_fill(x, n, -1, 1);
        kc_transpose(NULL, x, r, 4, nd, dims, perm);
        dbuf dx = dnew(x, n), dy = dnew(NULL, n);
        if (kcu_transpose(K, dptr(dx), dptr(dy), nd, dims, perm)) die("kcu_transpose");
        check("transpose", "", dget(dy), r, n, 0);
        /* Slice: random start and step (negative too) per axis. */
        for (int d = 0; d < nd; d++) {
            steps[d] = tu_int(0, 3) ? tu_int(1, 2) : -tu_int(1, 2);
            starts[d] = tu_int(0, (int)dims[d] - 1);
            int64_t avail = steps[d] > 0 ? (dims[d] - starts[d] + steps[d] - 1) / steps[d]
                                         : starts[d] / -steps[d] + 1;
            od[d] = tu_int(1, (int)avail);
            ns *= (size_t)od[d];
        }
        float *rs = malloc(sizeof(float) * ns);
        kc_slice(x, rs, 4, nd, dims, od, starts, steps);
        dbuf dsy = dnew(NULL, ns);
        if (kcu_slice(K, dptr(dx), dptr(dsy), nd, dims, od, starts, steps)) die("kcu_slice");
        check("slice", "", dget(dsy), rs, ns, 0);
        /* Concat of two parts along a random axis. */
        int ax = tu_int(0, nd - 1);
        int64_t outer = 1, inner = 1, a1 = dims[ax], a2 = tu_int(1, 6);
        for (int d = 0; d < ax; d++)
            outer *= dims[d];
        for (int d = ax + 1; d < nd; d++)
            inner *= dims[d];
        size_t n2 = (size_t)(outer * a2 * inner), nc = n + n2;
        float *x2 = malloc(sizeof(float) * n2), *rc = malloc(sizeof(float) * nc);
        tu_fill(x2, n2, -1, 1);
        kc_concat_part(x, rc, 4, outer, a1, a1 + a2, 0, inner);
        kc_concat_part(x2, rc, 4, outer, a2, a1 + a2, a1, inner);
        dbuf dx2 = dnew(x2, n2), dc = dnew(NULL, nc);
        if (kcu_concat_part(K, dptr(dx), dptr(dc), outer, a1, a1 + a2, 0, inner) ||
            kcu_concat_part(K, dptr(dx2), dptr(dc), outer, a2, a1 + a2, a1, inner))
            die("kcu_concat_part");
        check("concat", "", dget(dc), rc, nc, 0);
        kcu_free(K, dx.base);
        kcu_free(K, dx2.base);
        free(x);
        free(r);
        free(rs);
        free(x2);
        free(rc);
    }
}

int main(int argc, char **argv) {
    q_status st = kcu_ctx_new(0, &K);
    if (st == Q_ERR_UNSUPPORTED) return cuda_test_no_gpu(q_errmsg()); /* no usable GPU */
    if (st) {
        printf("FAIL cannot open the GPU: %s\n", q_errmsg());
        return 1;
    }
    const kcu_device *d = kcu_ctx_device(K);
    printf("gpu: %s (compute capability %d.%d), TF32 %s\n", d->name, d->cc_major, d->cc_minor,
           kcu_ctx_tf32(K) ? "on" : "off");
    if (kcu_ctx_tf32(K)) tol_mm = tol_conv = 1e-5; /* inputs rounded to 10-bit mantissas */
    kc_init_threads();
    tu_seed_init();
    const char *only = argc > 1 ? argv[1] : NULL;
#define RUN(name)                                                                                  \
    if (!only || !strcmp(only, #name)) test_##name()
    RUN(conv);
    RUN(matmul);
    RUN(binary);
    RUN(unary);
    RUN(batch_norm);
    RUN(softmax_reduce);
    RUN(pool);
    RUN(resize);
    RUN(movement);
#undef RUN
    kcu_ctx_free(K);
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
