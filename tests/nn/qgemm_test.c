/* The int8 kernels (kernels/cpu/kc_int8.h): every SIMD path of the int8
 * GEMM against the plain C twin, bit for bit (integer accumulators, the
 * same fused dequantization), over odd shapes -- M, N, K not multiples of
 * the vector widths, K = 1, N = 1 -- with canaries around and between the
 * output rows, with and without a fused activation and post-affine (each
 * kind), and at each path's extreme weights and activations (where
 * AVX2's saturating int16 sums would show); the packers' bytes and column
 * scales against the twin's at each path's activation maximum;
 * then the int8 1x1 conv against the fp32 reference conv within the
 * quantization bound of each output (columns of very different magnitudes,
 * which one scale per tensor would not meet). Paths this CPU lacks are said
 * and skipped. Seeded by QUIRE_TEST_SEED. */
#include "kernels/cpu/kc_int8.h"
#include "tests/nn/test_util.h"

static int failures, checks;
static double worst_nmse[2][KC_QGEMM_NPATHS]; /* by weight planes */

static void fail(const char *what, const char *path, int m, int n, int k, double v) {
    failures++;
    printf("FAIL %s m=%d n=%d k=%d: %s (%.3g)\n", path, m, n, k, what, v);
}

/* One GEMM of m x n x k on path p against the reference, with weights and
 * activations in the path's range. */
static void qgemm_case(kc_qgemm_path p, int m, int n, int k) {
    int kp = (k + 3) / 4 * 4, qmax = kc_qgemm_weight_max(p), amax = kc_qgemm_act_max(p);
    int ldc = n + tu_int(0, 3);
    int8_t *w = calloc((size_t)m * kp, 1);
    uint8_t *x = malloc((size_t)kp * n);
    float *ws = malloc(sizeof(float) * (size_t)m), *ns = malloc(sizeof(float) * (size_t)m);
    float *bias = malloc(sizeof(float) * (size_t)m);
    float *a = malloc(sizeof(float) * (size_t)n), *z = malloc(sizeof(float) * (size_t)n);
    size_t cn = (size_t)m * ldc;
    float *got = tu_alloc(cn), *want = tu_alloc(cn);
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < k; j++)
            w[(size_t)i * kp + j] = (int8_t)tu_int(-qmax, qmax);
        /* scale 1, no sum, no bias on some rows: with a column of scale 1
         * and zero point 0, the float is the accumulator */
        int raw = tu_int(0, 1);
        ws[i] = raw ? 1.f : tu_float(1e-4f, 1e-2f);
        ns[i] = raw ? 0.f : (float)-tu_int(0, 127 * k);
        bias[i] = raw ? 0.f : tu_float(-3, 3);
    }
    for (int j = 0; j < n; j++) {
        int raw = tu_int(0, 1);
        a[j] = raw ? 1.f : tu_float(1e-3f, 1e-1f);
        z[j] = raw ? 0.f : (float)tu_int(0, 255);
    }
    /* a post (kc_qdeq) on most cases: each activation, per-channel or
     * scalar or no post-affine; the reference applies kc_epilogue_row */
    float *psc = malloc(sizeof(float) * (size_t)m), *psh = malloc(sizeof(float) * (size_t)m);
    for (int i = 0; i < m; i++) {
        psc[i] = tu_float(-2, 2);
        psh[i] = tu_float(-1, 1);
    }
    int affine = tu_int(0, 2);
    kc_epilogue post = {NULL,
                        {(kc_act_kind)tu_int(KC_ACT_NONE, KC_ACT_SIGMOID), -0.5f, 0.75f},
                        affine ? psc : NULL,
                        affine == 2 ? NULL : psh,
                        affine == 1 ? 1 : m};
    if (post.act.kind == KC_ACT_HARD_SIGMOID || post.act.kind == KC_ACT_HARD_SWISH)
        post.act = (kc_act){post.act.kind, 1.f / 6, 0.5f};
    kc_qdeq dq = {ws, ns, bias, a, z, tu_int(0, 3) ? &post : NULL};
    for (size_t i = 0; i < (size_t)kp * n; i++)
        x[i] = (uint8_t)tu_int(0, amax);
    /* extreme rows: all amax x all qmax / -qmax, the largest sums */
    if (m > 1)
        for (int j = 0; j < k; j++) {
            w[j] = (int8_t)qmax;
            w[(size_t)kp + j] = (int8_t)-qmax;
        }
    for (int j = 0; j < n && tu_int(0, 1); j++)
        for (int q = 0; q < kp; q++)
            x[(size_t)(q / 4) * n * 4 + (size_t)j * 4 + q % 4] = (uint8_t)amax;
    kc_qgemm(KC_QGEMM_REF, m, n, kp / 4, w, kp, x, &dq, want, ldc);
    kc_qgemm(p, m, n, kp / 4, w, kp, x, &dq, got, ldc);
    checks++;
    size_t bad = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            /* bits, but a zero's sign may differ after a post (as in
             * kc_epilogue_row's builds) */
            bad += memcmp(&got[(size_t)i * ldc + j], &want[(size_t)i * ldc + j], 4) != 0 &&
                   got[(size_t)i * ldc + j] != want[(size_t)i * ldc + j];
    if (bad)
        fail(dq.post ? "values (with a post) differ from the reference"
                     : "values differ from the reference",
             kc_qgemm_name(p), m, n, k, (double)bad);
    /* the gaps between rows (ldc > n) and the canaries are untouched */
    int gaps = tu_canaries_ok(got, cn);
    for (int i = 0; i < m; i++)
        for (int j = n; j < ldc; j++)
            gaps &= got[(size_t)i * ldc + j] == tu_canary_value;
    if (!gaps) fail("wrote outside C", kc_qgemm_name(p), m, n, k, 0);
    free(w);
    free(x);
    free(ws);
    free(ns);
    free(bias);
    free(a);
    free(z);
    free(psc);
    free(psh);
    tu_free(got);
    tu_free(want);
}

/* Every activation at the path's maximum and every weight at +-qmax (rows
 * all +, all -, alternating, and + - pairs in each quad), scale 1 and no
 * zero point, so that each output is its exact integer sum: any saturation
 * of vpmaddubsw's int16 pair sums (which 255 x 127 would cause) shows as a
 * wrong value, not only as a difference from the twin. */
static void qgemm_extreme_case(kc_qgemm_path p, int n, int k) {
    enum { M = 4 };
    int kp = (k + 3) / 4 * 4, qmax = kc_qgemm_weight_max(p), amax = kc_qgemm_act_max(p);
    int8_t *w = calloc((size_t)M * kp, 1);
    uint8_t *x = malloc((size_t)kp * n);
    float ws[M], ns[M], bias[M], *a = malloc(sizeof(float) * 2 * (size_t)n), *z = a + n;
    float *got = tu_alloc((size_t)M * n);
    long want[M] = {0};
    for (int i = 0; i < M; i++) {
        ws[i] = 1.f;
        ns[i] = bias[i] = 0.f;
        for (int j = 0; j < k; j++) {
            int sign = i == 0 ? 1 : i == 1 ? -1 : i == 2 ? (j % 2 ? -1 : 1) : (j / 2 % 2 ? -1 : 1);
            w[(size_t)i * kp + j] = (int8_t)(sign * qmax);
            want[i] += (long)sign * qmax * amax;
        }
    }
    for (int j = 0; j < n; j++) {
        a[j] = 1.f;
        z[j] = 0.f;
    }
    memset(x, amax, (size_t)kp * n); /* rows past k meet zero weights */
    kc_qdeq dq = {ws, ns, bias, a, z, NULL};
    kc_qgemm(p, M, n, kp / 4, w, kp, x, &dq, got, n);
    checks++;
    size_t bad = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < n; j++)
            bad += got[(size_t)i * n + j] != (float)want[i];
    if (bad) fail("extreme sums are wrong (saturation?)", kc_qgemm_name(p), M, n, k, (double)bad);
    free(w);
    free(x);
    free(a);
    tu_free(got);
}

static void test_qgemm(void) {
    static const int fixed[][3] = {{1, 1, 1},   {1, 17, 1},  {8, 32, 4},    {9, 33, 5},
                                   {6, 16, 3},  {7, 15, 2},  {13, 1, 480},  {5, 47, 127},
                                   {16, 64, 8}, {3, 200, 9}, {480, 37, 480}};
    for (int p = KC_QGEMM_AVX2; p < KC_QGEMM_NPATHS; p++) {
        if (!kc_qgemm_available((kc_qgemm_path)p)) {
            printf("skip %s: not on this CPU\n", kc_qgemm_name((kc_qgemm_path)p));
            continue;
        }
        for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
            qgemm_case((kc_qgemm_path)p, fixed[i][0], fixed[i][1], fixed[i][2]);
            qgemm_extreme_case((kc_qgemm_path)p, fixed[i][1], fixed[i][2]);
        }
        for (int r = 0; r < 60; r++)
            qgemm_case((kc_qgemm_path)p, tu_int(1, 40), tu_int(1, 100), tu_int(1, 70));
    }
}

/* The SIMD packers write the reference's bytes and column scales at the
 * path's activation maximum, NaN and infinities included, for odd K (zero
 * rows past it) and N (masked tails; past 256 columns, the packer's second
 * chunk), with and without smoothing; each column's range holds 0, no byte
 * exceeds the maximum, and its values come back within half a step. */
static void pack_case(kc_qgemm_path p) {
    int amax = kc_qgemm_act_max(p);
    int k = tu_int(1, 23), n = tu_int(0, 3) ? tu_int(1, 70) : tu_int(250, 300);
    int ldx = n + tu_int(0, 5), kp = (k + 3) / 4 * 4;
    float *x = tu_alloc((size_t)k * ldx);
    tu_fill(x, (size_t)k * ldx, -3, 5);
    for (int j = 0; j < n; j++) /* columns of very different magnitudes */
        for (int r = 0, e = tu_int(-3, 2); r < k; r++)
            x[(size_t)r * ldx + j] *= powf(10.f, (float)e);
    int special = tu_int(0, 1);
    if (special) {
        x[0] = NAN;
        if (k * ldx > 2) {
            x[1] = INFINITY;
            x[2] = -INFINITY;
        }
    }
    size_t nb = (size_t)kp * n + 64;
    uint8_t *got = malloc(nb), *want = malloc(nb);
    float *ag = malloc(sizeof(float) * 4 * (size_t)n), *zg = ag + n, *aw = zg + n, *zw = aw + n;
    memset(got, 0xa5, nb);
    memset(want, 0xa5, nb);
    float sinv[24];
    for (int r = 0; r < k; r++)
        sinv[r] = tu_float(0.5f, 2.f);
    const float *sv = tu_int(0, 1) ? sinv : NULL;
    kc_qpack_act(KC_QGEMM_REF, x, ldx, k, n, sv, amax, want, aw, zw);
    kc_qpack_act(p, x, ldx, k, n, sv, amax, got, ag, zg);
    checks++;
    if (memcmp(got, want, nb) || memcmp(ag, aw, sizeof(float) * n) ||
        memcmp(zg, zw, sizeof(float) * n))
        fail("packed activations differ from the reference", kc_qgemm_name(p), 0, n, k, 0);
    for (size_t i = 0; i < (size_t)kp * n; i++)
        if (want[i] > amax) {
            fail("a packed activation exceeds the path's maximum", kc_qgemm_name(p), 0, n, k,
                 want[i]);
            break;
        }
    for (int j = 0; j < n && !special; j++)
        for (int r = 0; r < k; r++) {
            float v = x[(size_t)r * ldx + j] * (sv ? sv[r] : 1.f);
            float back = ((float)want[((size_t)(r / 4) * n + j) * 4 + r % 4] - zw[j]) * aw[j];
            if (!(fabsf(back - v) <= 0.501f * aw[j] + 1e-6f * fabsf(v))) {
                fail("a value does not come back within half a step", kc_qgemm_name(p), j, n, k,
                     back - v);
                r = k;
                j = n;
            }
        }
    free(got);
    free(want);
    free(ag);
    tu_free(x);
}

static void test_pack(void) {
    for (int p = KC_QGEMM_AVX2; p < KC_QGEMM_NPATHS; p++)
        for (int r = 0; r < 40 && kc_qgemm_available((kc_qgemm_path)p); r++)
            pack_case((kc_qgemm_path)p);
}

/* The input of a pointwise conv in the recognizer: hard-swish outputs, a
 * little below zero and a long tail above. */
static void fill_hswish(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = tu_float(-4, 6);
        float t = v / 6.f + 0.5f;
        x[i] = v * (t < 0 ? 0 : t > 1 ? 1 : t);
    }
}

/* The activation step of one column (pixel i of image b): its smoothed
 * range, widened to hold 0, over the path's activation maximum. */
static double column_step(const kc_conv_shape *s, const float *x, const float *smooth, int amax,
                          int b, size_t i) {
    size_t hw = (size_t)s->h_in * s->w_in;
    double lo = 0, hi = 0;
    for (int k = 0; k < s->c_in; k++) {
        double v = x[((size_t)b * s->c_in + k) * hw + i] / (smooth ? smooth[k] : 1);
        lo = fmin(lo, v);
        hi = fmax(hi, v);
    }
    return (hi - lo) / amax;
}

/* 1 when every output of the int8 1x1 conv is within what quantization can
 * move it from the fp32 reference: per term, a step of the column's
 * activations (half for rounding, half for the clamp at amax when the zero
 * point rounds) times the weight, half a weight step times the activation,
 * and their product; times 1.5, hard-swish's steepest slope; plus float
 * rounding. A normalised error bound failed 3 % of random cases (an output
 * channel of a few inputs whose sum nearly cancels), this one cannot by
 * chance. */
static int within_quant_bound(const kc_conv_shape *s, const float *x, const float *w,
                              const float *smooth, int wmax, int amax, const float *got,
                              const float *want) {
    size_t hw = (size_t)s->h_in * s->w_in;
    for (int c = 0; c < s->c_out; c++) {
        double wm = 0;
        for (int k = 0; k < s->c_in; k++)
            wm = fmax(wm, fabs(w[(size_t)c * s->c_in + k] * (smooth ? smooth[k] : 1)));
        double ws = wm / wmax;
        for (int b = 0; b < s->n; b++)
            for (size_t i = 0; i < hw; i++) {
                double bound = 0, mag = 0, a_scale = column_step(s, x, smooth, amax, b, i);
                for (int k = 0; k < s->c_in; k++) {
                    double sk = smooth ? smooth[k] : 1;
                    double wk = fabs(w[(size_t)c * s->c_in + k] * sk);
                    double xk = fabs(x[((size_t)b * s->c_in + k) * hw + i] / sk);
                    bound += wk * a_scale + xk * ws / 2 + a_scale * ws / 2;
                    mag += wk * xk;
                }
                size_t o = ((size_t)b * s->c_out + c) * hw + i;
                if (!(fabs(got[o] - want[o]) <= 1.5 * bound + 1e-5 * (mag + 1))) return 0;
            }
    }
    return 1;
}

/* The int8 1x1 conv against the fp32 reference: within the quantization
 * bound at every output; the normalised error is reported (measured: worst
 * of 20 cases ~5e-5 to 1.4e-4 with u8 activations, 1.6e-4 to 3.4e-4 with
 * AVX2's 7-bit ones, up to 2.6e-3 in rare small cases). */
static void qconv_case(kc_qgemm_path p, int threads, int planes) {
    kc_conv_shape s = {0};
    s.n = tu_int(1, 3);
    s.c_in = tu_int(1, 70);
    s.c_out = tu_int(1, 50);
    s.h_in = s.h_out = tu_int(1, 9);
    s.w_in = s.w_out = tu_int(1, 90);
    s.kh = s.kw = s.sh = s.sw = s.dh = s.dw = s.group = 1;
    size_t xn = (size_t)s.n * s.c_in * s.h_in * s.w_in,
           yn = (size_t)s.n * s.c_out * s.h_out * s.w_out;
    float *x = tu_alloc(xn), *w = tu_alloc((size_t)s.c_out * s.c_in),
          *bias = tu_alloc((size_t)s.c_out);
    float *got = tu_alloc(yn), *want = tu_alloc(yn);
    fill_hswish(x, xn);
    size_t hw = (size_t)s.h_in * s.w_in;
    for (int b = 0; b < s.n; b++) /* pixels of very different magnitudes */
        for (size_t i = 0; i < hw; i++)
            for (int c = 0, e = tu_int(-3, 1); c < s.c_in; c++)
                x[((size_t)b * s.c_in + c) * hw + i] *= powf(10.f, (float)e);
    tu_fill(w, (size_t)s.c_out * s.c_in, -0.5f, 0.5f);
    tu_fill(bias, (size_t)s.c_out, -1, 1);
    /* half the cases smooth the channels (a random factor each; the
     * activation ranges are then those of the smoothed input) */
    float *smooth = tu_int(0, 1) ? tu_alloc((size_t)s.c_in) : NULL;
    if (smooth) tu_fill(smooth, (size_t)s.c_in, 0.5f, 2.f);
    kc_epilogue ep = {0};
    ep.bias = bias;
    ep.act.kind = tu_int(0, 1) ? KC_ACT_HARD_SWISH : KC_ACT_NONE;
    ep.act.a = 1.f / 6.f;
    ep.act.b = 0.5f;
    kc_conv2d_ref(&s, x, w, &ep, want);
    int qmax = kc_qgemm_weight_max(p);
    void *mem = aligned_alloc(64, (kc_qweights_size(s.c_out, s.c_in, planes) + 63) / 64 * 64);
    kc_qweights qw;
    kc_qweights_pack(s.c_out, s.c_in, w, bias, smooth, qmax, planes, mem, &qw);
    size_t per = kc_qconv1x1_workspace(&s, planes);
    kc_ctx ctx = {threads, malloc(sizeof(float) * per * (size_t)threads), per};
    kc_qconv1x1(&ctx, p, &s, x, &qw, &ep, got);
    double e = tu_nmse(got, want, yn);
    double *worst = &worst_nmse[planes - 1][p];
    *worst = e > *worst ? e : *worst;
    checks++;
    /* two planes: the weights' step is 2 * qmax times finer */
    int wsteps = planes > 1 ? qmax * 2 * qmax : qmax;
    if (!within_quant_bound(&s, x, w, smooth, wsteps, kc_qgemm_act_max(p), got, want) ||
        !tu_canaries_ok(got, yn))
        fail("conv outside the quantization bound or canary overwritten", kc_qgemm_name(p), s.c_out,
             s.n * s.h_out * s.w_out, s.c_in, e);
    free(ctx.scratch);
    free(mem);
    if (smooth) tu_free(smooth);
    tu_free(x);
    tu_free(w);
    tu_free(bias);
    tu_free(got);
    tu_free(want);
}

static void test_qconv(void) {
    for (int p = 0; p < KC_QGEMM_NPATHS; p++) {
        if (!kc_qgemm_available((kc_qgemm_path)p)) continue;
        for (int r = 0; r < 40; r++)
            qconv_case((kc_qgemm_path)p, 1 + r % 2, 1 + r / 2 % 2);
        printf("%s 1x1 conv: worst nmse %.3g (one weight plane), %.3g (two)\n",
               kc_qgemm_name((kc_qgemm_path)p), worst_nmse[0][p], worst_nmse[1][p]);
    }
}

/* kc_qmatmul's post (a bias, then a softmax, or either) against the plain
 * product `plain` put through the Add and Softmax kernels: the same bits. */
static void qmatmul_post_case(kc_qgemm_path p, const kc_ctx *ctx, int rows, int k, int n,
                              const float *a, const kc_qmatb *qb, void *ws, const float *plain) {
    size_t cn = (size_t)rows * n;
    float *bias = tu_alloc((size_t)n), *got = tu_alloc(cn), *want = tu_alloc(cn);
    tu_fill(bias, (size_t)n, -3, 3);
    int what = tu_int(1, 3); /* 1 bias, 2 softmax, 3 both */
    kc_qmat_post post = {what & 1 ? bias : NULL, what & 2};
    kc_qmatmul(ctx, p, rows, a, qb, &post, ws, got);
    int64_t od[2] = {rows, n}, bd[2] = {1, n};
    if (what & 1)
        kc_binary(ctx, KC_BIN_ADD, 2, od, plain, od, bias, bd, want);
    else
        memcpy(want, plain, sizeof(float) * cn);
    if (what & 2) {
        float *t = tu_alloc(cn);
        memcpy(t, want, sizeof(float) * cn);
        kc_softmax(ctx, t, want, rows, n);
        tu_free(t);
    }
    checks++;
    size_t bad = 0;
    for (size_t i = 0; i < cn; i++)
        bad += memcmp(&got[i], &want[i], sizeof(float)) != 0;
    if (bad || !tu_canaries_ok(got, cn))
        fail(what == 1   ? "matmul + bias differs from the Add kernel's"
             : what == 2 ? "matmul + softmax differs from the Softmax kernel's"
                         : "matmul + bias + softmax differs from the Add and Softmax kernels'",
             kc_qgemm_name(p), rows, n, k, (double)bad);
    tu_free(bias);
    tu_free(got);
    tu_free(want);
}

/* The int8 MatMul with a constant B (kc_qmatmul) against a double
 * reference, within its quantization bound at every output: B's columns
 * are the activations here (a step of column j's range, as for the conv),
 * A's rows the weights (half a step of row r's largest magnitude). Columns
 * past 256 cross B's packing chunks. */
static void qmatmul_case(kc_qgemm_path p, int threads) {
    int rows = tu_int(1, 50), k = tu_int(1, 70),
        n = tu_int(0, 1) ? tu_int(1, 80) : tu_int(250, 600);
    float *a = tu_alloc((size_t)rows * k), *b = tu_alloc((size_t)k * n);
    float *got = tu_alloc((size_t)rows * n);
    tu_fill(a, (size_t)rows * k, -2, 2);
    tu_fill(b, (size_t)k * n, -0.5f, 0.5f);
    for (int r = 0; r < rows; r++) /* rows of very different magnitudes */
        for (int c = 0, e = tu_int(-3, 1); c < k; c++)
            a[(size_t)r * k + c] *= powf(10.f, (float)e);
    void *mb = aligned_alloc(64, (kc_qmatb_size(k, n) + 63) / 64 * 64);
    void *ws = aligned_alloc(64, kc_qmatmul_workspace(rows, k, n, threads));
    kc_qmatb qb;
    kc_qmatb_pack(p, k, n, b, mb, &qb);
    kc_ctx ctx = {threads, NULL, 0};
    kc_qmatmul(&ctx, p, rows, a, &qb, NULL, ws, got);
    int amax = kc_qgemm_act_max(p), wmax = kc_qgemm_weight_max(p), ok = 1;
    for (int j = 0; j < n && ok; j++) {
        double lo = 0, hi = 0;
        for (int c = 0; c < k; c++) {
            lo = fmin(lo, b[(size_t)c * n + j]);
            hi = fmax(hi, b[(size_t)c * n + j]);
        }
        double bstep = (hi - lo) / amax;
        for (int r = 0; r < rows && ok; r++) {
            double am = 0, want = 0, bound = 0, mag = 0;
            for (int c = 0; c < k; c++)
                am = fmax(am, fabs(a[(size_t)r * k + c]));
            double astep = am / wmax;
            for (int c = 0; c < k; c++) {
                double x = a[(size_t)r * k + c], y = b[(size_t)c * n + j];
                want += x * y;
                bound += fabs(x) * bstep + fabs(y) * astep / 2 + bstep * astep / 2;
                mag += fabs(x * y);
            }
            ok = fabs(got[(size_t)r * n + j] - want) <= bound + 1e-5 * (mag + 1);
        }
    }
    checks++;
    if (!ok || !tu_canaries_ok(got, (size_t)rows * n))
        fail("matmul outside the quantization bound or canary overwritten", kc_qgemm_name(p), rows,
             n, k, 0);
    qmatmul_post_case(p, &ctx, rows, k, n, a, &qb, ws, got);
    free(mb);
    free(ws);
    tu_free(a);
    tu_free(b);
    tu_free(got);
}

static void test_qmatmul(void) {
    for (int p = 0; p < KC_QGEMM_NPATHS; p++) {
        if (!kc_qgemm_available((kc_qgemm_path)p)) continue;
        for (int r = 0; r < 30; r++)
            qmatmul_case((kc_qgemm_path)p, 1 + r % 2);
    }
}

int main(int argc, char **argv) {
    tu_seed_init();
    kc_init_threads();
    const char *only = argc > 1 ? argv[1] : NULL;
    printf("best path here: %s\n", kc_qgemm_name(kc_qgemm_best()));
    if (!only || !strcmp(only, "qgemm")) test_qgemm();
    if (!only || !strcmp(only, "pack")) test_pack();
    if (!only || !strcmp(only, "qconv")) test_qconv();
    if (!only || !strcmp(only, "qmatmul")) test_qmatmul();
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
