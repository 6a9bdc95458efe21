/* The int8 1x1 convolution (kc_int8.h): per tile of output columns, the
 * float input is quantized into the packed u8 layout in per-thread scratch,
 * one kc_qgemm writes the dequantized output (bias included) with the conv's
 * activation and post-affine applied as it stores. */
#include "kernels/cpu/kc_int8.h"
#include "kernels/cpu/kc_private.h"

/* Columns per tile: the packed tile (Kp x QCOLS bytes, 120 KB at K = 480)
 * stays in L2 while the weights stream past it. */
enum { QCOLS = 256 };

size_t kc_qconv1x1_workspace(const kc_conv_shape *s, int planes) {
    size_t kp = (size_t)(s->c_in + 3) / 4 * 4;
    size_t fine = planes > 1 ? (size_t)s->c_out * QCOLS : 0; /* plane 1's products */
    return (kp * QCOLS + 3) / 4 + 2 * QCOLS + fine + 16;
}

void kc_qconv1x1(const kc_ctx *ctx, kc_qgemm_path p, const kc_conv_shape *s, const float *x,
                 const kc_qweights *qw, const kc_epilogue *ep, float *y) {
    int hw = s->h_out * s->w_out, k = s->c_in, m = s->c_out;
    int per = QCOLS;
    if (ctx->nthreads > 1) {
        /* Enough tiles that every thread gets work even on small maps. */
        int want = (hw + ctx->nthreads * 2 - 1) / (ctx->nthreads * 2);
        want = (want + 31) / 32 * 32;
        if (want < per) per = want < 64 ? 64 : want;
    }
    int ntiles = (hw + per - 1) / per;
    long total = (long)s->n * ntiles;
    kc_epilogue post = ep ? *ep : (kc_epilogue){0};
    post.bias = NULL; /* in qw */
    int need_post = post.act.kind != KC_ACT_NONE || post.post_scale || post.post_shift;
    /* One plane: the post runs in kc_qgemm's store. Two: after their sum. */
    const kc_epilogue *fused = need_post && qw->planes == 1 ? &post : NULL;
    int nt = kc_threads_for(ctx, (double)s->n * m * hw * k / 4);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (long t = 0; t < total; t++) {
        int tile = (int)(t % ntiles), n = (int)(t / ntiles);
        int p0 = tile * per, nc = hw - p0 < per ? hw - p0 : per;
        const float *xn = x + (size_t)n * k * hw + p0;
        float *yn = y + (size_t)n * m * hw + p0;
        float *ws = ctx->scratch + (size_t)kc_thread_id() * ctx->scratch_per_thread;
        float *a = ws, *z = ws + QCOLS, *fine = ws + 2 * QCOLS;
        uint8_t *xp = (uint8_t *)(fine + (qw->planes > 1 ? (size_t)m * QCOLS : 0));
        kc_qpack_act(p, xn, hw, k, nc, qw->sinv, kc_qgemm_act_max(p), xp, a, z);
        kc_qdeq dq = {qw->ws, qw->nsum, qw->bias, a, z, fused};
        kc_qgemm(p, m, nc, qw->kp / 4, qw->w, qw->kp, xp, &dq, yn, hw);
        if (qw->planes > 1) {
            kc_qdeq d1 = {qw->ws + m, qw->nsum + m, qw->bias + m, a, z, NULL};
            kc_qgemm(p, m, nc, qw->kp / 4, qw->w + (size_t)m * qw->kp, qw->kp, xp, &d1, fine, nc);
            for (int co = 0; co < m; co++)
                for (int j = 0; j < nc; j++)
                    yn[(size_t)co * hw + j] += fine[(size_t)co * nc + j];
        }
        if (need_post && !fused)
            for (int co = 0; co < m; co++)
                kc_epilogue_row(&post, co, yn + (size_t)co * hw, (size_t)nc);
    }
}
