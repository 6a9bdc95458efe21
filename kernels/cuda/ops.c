/* The host side of the .cu kernels: checks, index arithmetic done once per
 * call (axis merging for broadcasts, strides for transposes and slices), the
 * launch on the context's stream and the conversion of its status. */
#include <string.h>

#include "kernels/cuda/kcu_private.h"

static q_status launched(cudaError_t e, const char *what) {
    return e == cudaSuccess ? Q_OK : kcu_fail_cuda(e, what, __FILE__, __LINE__);
}

q_status kcu_unary(kcu_ctx *c, kc_un_op op, kc_act act, const float *x, float *y, size_t n) {
    return launched(kcu_launch_unary(c->stream, op, act, x, y, (int64_t)n), "unary");
}

q_status kcu_epilogue(kcu_ctx *c, const kc_epilogue *ep, float *y, int64_t n, int channels,
                      int64_t inner) {
    return launched(kcu_launch_epilogue(c->stream, ep, y, n, channels, inner), "epilogue");
}

q_status kcu_batch_norm(kcu_ctx *c, const float *x, const float *g, const float *b,
                        const float *mean, const float *var, float eps, float *y, int64_t n,
                        int channels, int64_t inner) {
    return launched(
        kcu_launch_batch_norm(c->stream, x, g, b, mean, var, eps, y, n, channels, inner),
        "batch_norm");
}

/* Element strides of a NumPy-broadcast operand, 0 along broadcast axes. */
static void bcast_strides(int ndim, const int64_t *dims, int64_t *st) {
    int64_t m = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        st[d] = dims[d] == 1 ? 0 : m;
        m *= dims[d];
    }
}

q_status kcu_binary(kcu_ctx *c, kc_bin_op op, int ndim, const int64_t *out_dims, const float *a,
                    const int64_t *a_dims, const float *b, const int64_t *b_dims, float *y) {
    if (ndim > KC_MAX_DIMS) return Q_FAIL(Q_ERR_UNSUPPORTED, "binary op of %d dims", ndim);
    int64_t sa[KC_MAX_DIMS], sb[KC_MAX_DIMS];
    bcast_strides(ndim, a_dims, sa);
    bcast_strides(ndim, b_dims, sb);
    /* Drop axes of size 1, then merge neighbours that are contiguous (or
     * broadcast) on both sides, so most calls index one or two axes. */
    kcu_nd nd;
    memset(&nd, 0, sizeof(nd));
    for (int d = 0; d < ndim; d++) {
        if (out_dims[d] == 1) continue;
        int k = nd.ndim;
        if (k > 0 && nd.sa[k - 1] == sa[d] * out_dims[d] && nd.sb[k - 1] == sb[d] * out_dims[d]) {
            nd.dims[k - 1] *= out_dims[d];
            nd.sa[k - 1] = sa[d];
            nd.sb[k - 1] = sb[d];
            continue;
        }
        nd.dims[k] = out_dims[d];
        nd.sa[k] = sa[d];
        nd.sb[k] = sb[d];
        nd.ndim++;
    }
    return launched(kcu_launch_binary(c->stream, op, &nd, a, b, y), "binary");
}

q_status kcu_softmax(kcu_ctx *c, const float *x, float *y, int64_t rows, int64_t cols) {
    return launched(kcu_launch_softmax(c->stream, x, y, rows, cols), "softmax");
}

q_status kcu_reduce_mean(kcu_ctx *c, const float *x, float *y, int64_t outer, int64_t red,
                         int64_t inner) {
    return launched(kcu_launch_reduce_mean(c->stream, x, y, outer, red, inner), "reduce_mean");
}

q_status kcu_global_avg_pool(kcu_ctx *c, const float *x, float *y, int64_t planes, int64_t hw) {
    return launched(kcu_launch_global_avg_pool(c->stream, x, y, planes, hw), "global_avg_pool");
}

q_status kcu_avg_pool(kcu_ctx *c, const kc_pool_shape *s, const float *x, float *y) {
    return launched(kcu_launch_pool(c->stream, s, 0, x, y), "avg_pool");
}

q_status kcu_max_pool(kcu_ctx *c, const kc_pool_shape *s, const float *x, float *y) {
    return launched(kcu_launch_pool(c->stream, s, 1, x, y), "max_pool");
}

q_status kcu_resize_nearest(kcu_ctx *c, const kc_resize_shape *s, const float *x, float *y) {
    return launched(kcu_launch_resize_nearest(c->stream, s, x, y), "resize");
}

static void dense_strides(int ndim, const int64_t *dims, int64_t *st) {
    int64_t m = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        st[d] = m;
        m *= dims[d];
    }
}

q_status kcu_transpose(kcu_ctx *c, const float *x, float *y, int ndim, const int64_t *in_dims,
                       const int *perm) {
    if (ndim > KC_MAX_DIMS) return Q_FAIL(Q_ERR_UNSUPPORTED, "transpose of %d dims", ndim);
    int64_t in_st[KC_MAX_DIMS];
    dense_strides(ndim, in_dims, in_st);
    kcu_nd nd;
    memset(&nd, 0, sizeof(nd));
    nd.ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        nd.dims[d] = in_dims[perm[d]];
        nd.sa[d] = in_st[perm[d]];
    }
    return launched(kcu_launch_gather_nd(c->stream, &nd, 0, x, y), "transpose");
}

q_status kcu_slice(kcu_ctx *c, const float *x, float *y, int ndim, const int64_t *in_dims,
                   const int64_t *out_dims, const int64_t *starts, const int64_t *steps) {
    if (ndim > KC_MAX_DIMS) return Q_FAIL(Q_ERR_UNSUPPORTED, "slice of %d dims", ndim);
    int64_t in_st[KC_MAX_DIMS], base = 0;
    dense_strides(ndim, in_dims, in_st);
    kcu_nd nd;
    memset(&nd, 0, sizeof(nd));
    nd.ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        nd.dims[d] = out_dims[d];
        nd.sa[d] = in_st[d] * steps[d];
        base += starts[d] * in_st[d];
    }
    return launched(kcu_launch_gather_nd(c->stream, &nd, base, x, y), "slice");
}

q_status kcu_concat_part(kcu_ctx *c, const float *x, float *y, int64_t outer, int64_t x_axis,
                         int64_t y_axis, int64_t at, int64_t inner) {
    return launched(kcu_launch_concat_part(c->stream, x, y, outer, x_axis, y_axis, at, inner),
                    "concat");
}
