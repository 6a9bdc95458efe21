/* The CPU backend: the nn backend interface over kernels/cpu. Host memory is
 * device memory here, so upload/download are memcpy and constants are used in
 * place. Each op reads its parameters from its node (ops.def dispatch). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/kc.h"
#include "nn/nn_private.h"

struct nn_backend_ctx {
    int threads;
    float *scratch;
    size_t scratch_bytes;
    /* Conv weights repacked on a node's first run, by node index; the
     * weights are constants, so one packing serves every plan. */
    float **packed;
    int npacked;
};

typedef q_status (*cpu_op_fn)(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                              const nn_tensor *in, const nn_tensor *out);

static kc_ctx cpu_kc(const struct nn_backend_ctx *c, size_t per_thread_floats) {
    kc_ctx k = {c->threads, c->scratch, per_thread_floats};
    return k;
}

static kc_act node_act(const nn_node *n) {
    return (kc_act){(kc_act_kind)n->act, n->act_a, n->act_b};
}

static q_status conv_shape(const nn_model *m, const nn_node *n, const nn_tensor *in,
                           const nn_tensor *out, kc_conv_shape *s) {
    nn_geom g;
    q_status st = nn_geom_get(m, n, in[0].dims, in[1].dims, &g);
    if (st) return st;
    *s = (kc_conv_shape){(int)in[0].dims[0],
                         (int)in[0].dims[1],
                         (int)in[0].dims[2],
                         (int)in[0].dims[3],
                         (int)out->dims[1],
                         (int)out->dims[2],
                         (int)out->dims[3],
                         g.kh,
                         g.kw,
                         g.sh,
                         g.sw,
                         g.dh,
                         g.dw,
                         g.pt,
                         g.pl,
                         g.pb,
                         g.pr,
                         g.group};
    return Q_OK;
}

static kc_epilogue conv_epilogue(const nn_model *m, const nn_node *n, const nn_tensor *in) {
    kc_epilogue ep = {0};
    ep.bias = n->nin > 2 && n->in[2] >= 0 ? in[2].data : NULL;
    ep.act = node_act(n);
    if (n->post_scale >= 0) {
        ep.post_scale = m->vals[n->post_scale].cdata;
        ep.post_n = (int)nn_numel(m->vals[n->post_scale].ndim, m->vals[n->post_scale].dims);
    }
    if (n->post_shift >= 0) {
        ep.post_shift = m->vals[n->post_shift].cdata;
        int pn = (int)nn_numel(m->vals[n->post_shift].ndim, m->vals[n->post_shift].dims);
        /* One scalar for both, or both per channel: keep them consistent. */
        if (ep.post_scale && pn != ep.post_n)
            ep.post_n = -1;
        else
            ep.post_n = pn;
    }
    return ep;
}

static q_status cpu_conv(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                         const nn_tensor *in, const nn_tensor *out) {
    kc_conv_shape s;
    q_status st = conv_shape(m, n, in, out, &s);
    if (st) return st;
    kc_epilogue ep = conv_epilogue(m, n, in);
    kc_ctx k = cpu_kc(c, kc_conv2d_workspace(&s));
    const float *packed = NULL;
    size_t psize = kc_conv2d_packed_size(&s);
    int ni = (int)(n - m->nodes);
    if (psize && in[1].host) {
        if (c->npacked < m->nnodes) {
            float **p = realloc(c->packed, sizeof(float *) * (size_t)m->nnodes);
            if (!p) return Q_FAIL(Q_ERR_NOMEM, "out of memory packing weights");
            memset(p + c->npacked, 0, sizeof(float *) * (size_t)(m->nnodes - c->npacked));
            c->packed = p;
            c->npacked = m->nnodes;
        }
        if (!c->packed[ni]) {
            if (!(c->packed[ni] = malloc(sizeof(float) * psize)))
                return Q_FAIL(Q_ERR_NOMEM, "out of memory packing weights");
            kc_conv2d_pack(&s, in[1].data, c->packed[ni]);
        }
        packed = c->packed[ni];
    }
    kc_conv2d(&k, &s, in[0].data, in[1].data, packed, &ep, out->data);
    return Q_OK;
}

static q_status cpu_conv_transpose(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                                   const nn_tensor *in, const nn_tensor *out) {
    kc_conv_shape s;
    q_status st = conv_shape(m, n, in, out, &s);
    if (st) return st;
    kc_epilogue ep = conv_epilogue(m, n, in);
    kc_ctx k = cpu_kc(c, kc_deconv2d_workspace(&s));
    kc_deconv2d(&k, &s, in[0].data, in[1].data, &ep, out->data);
    return Q_OK;
}

static q_status cpu_batch_norm(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                               const nn_tensor *in, const nn_tensor *out) {
    (void)c;
    (void)m;
    const float *x = in[0].data, *g = in[1].data, *b = in[2].data, *mu = in[3].data,
                *var = in[4].data;
    float *y = out->data;
    float eps = nn_attr_float(n, "epsilon", 1e-5f);
    int64_t nb = in[0].dims[0], ch = in[0].dims[1],
            inner = nn_numel(in[0].ndim - 2, in[0].dims + 2);
    for (int64_t i = 0; i < nb; i++)
        for (int64_t k = 0; k < ch; k++) {
            float sc = g[k] / sqrtf(var[k] + eps), sh = b[k] - mu[k] * sc;
            const float *xp = x + (i * ch + k) * inner;
            float *yp = y + (i * ch + k) * inner;
            for (int64_t j = 0; j < inner; j++)
                yp[j] = xp[j] * sc + sh;
        }
    return Q_OK;
}

static q_status cpu_act(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                        const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    kc_ctx k = cpu_kc(c, 0);
    kc_unary(&k, KC_UN_ACT, node_act(n), in[0].data, out->data,
             (size_t)nn_numel(out->ndim, out->dims));
    return Q_OK;
}

static q_status cpu_sqrt(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                         const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)n;
    kc_ctx k = cpu_kc(c, 0);
    kc_unary(&k, KC_UN_SQRT, (kc_act){KC_ACT_NONE, 0, 0}, in[0].data, out->data,
             (size_t)nn_numel(out->ndim, out->dims));
    return Q_OK;
}

static void align(int nd, const nn_tensor *t, int64_t *d) {
    for (int i = 0; i < nd; i++)
        d[i] = i - (nd - t->ndim) >= 0 ? t->dims[i - (nd - t->ndim)] : 1;
}

static q_status cpu_binary(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                           const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    int64_t ad[NN_MAX_DIMS], bd[NN_MAX_DIMS];
    align(out->ndim, &in[0], ad);
    align(out->ndim, &in[1], bd);
    kc_ctx k = cpu_kc(c, 0);
    kc_binary(&k, (kc_bin_op)(n->op - NN_OP_ADD), out->ndim, out->dims, in[0].data, ad, in[1].data,
              bd, out->data);
    return Q_OK;
}

static q_status cpu_matmul(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                           const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)n;
    const nn_tensor *a = &in[0], *b = &in[1];
    kc_matmul_shape s;
    s.m = a->dims[a->ndim - 2];
    s.k = a->dims[a->ndim - 1];
    s.n = b->dims[b->ndim - 1];
    s.batch = nn_numel(out->ndim - 2, out->dims);
    int64_t abatch = nn_numel(a->ndim - 2, a->dims), bbatch = nn_numel(b->ndim - 2, b->dims);
    s.a_stride = abatch == 1 ? 0 : s.m * s.k;
    s.b_stride = bbatch == 1 ? 0 : s.k * s.n;
    kc_ctx k = cpu_kc(c, 0);
    if (s.a_stride == 0 && s.batch > 1) {
        /* One A for many Bs: per batch (rare; kept simple). */
        for (int64_t i = 0; i < s.batch; i++) {
            kc_matmul_shape one = {1, s.m, s.n, s.k, 0, 0};
            kc_matmul(&k, &one, a->data, (const float *)b->data + i * s.b_stride,
                      (float *)out->data + i * s.m * s.n);
        }
        return Q_OK;
    }
    kc_matmul(&k, &s, a->data, b->data, out->data);
    return Q_OK;
}

static int softmax_axis(const nn_model *m, const nn_node *n, int ndim) {
    return nn_axis(nn_attr_int(n, "axis", m->opset < 13 ? 1 : -1), ndim);
}

static q_status cpu_softmax(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                            const nn_tensor *in, const nn_tensor *out) {
    int ax = softmax_axis(m, n, in[0].ndim);
    int64_t rows = nn_numel(ax, in[0].dims), cols = nn_numel(in[0].ndim - ax, in[0].dims + ax);
    kc_ctx k = cpu_kc(c, 0);
    kc_softmax(&k, in[0].data, out->data, rows, cols);
    return Q_OK;
}

/* ReduceMean axes as one contiguous run [lo, hi]; -1 when not contiguous. */
static int reduce_run(const nn_model *m, const nn_node *n, const nn_tensor *in, int *lo, int *hi) {
    const int64_t *ax = NULL;
    int64_t na = 0;
    if (n->nin > 1 && n->in[1] >= 0) {
        if (!in[1].host) return -1;
        ax = in[1].host;
        na = nn_numel(in[1].ndim, in[1].dims);
    } else
        na = nn_attr_ints(n, "axes", &ax);
    int nd = in[0].ndim, mark[NN_MAX_DIMS] = {0};
    (void)m;
    if (na == 0) {
        *lo = 0;
        *hi = nd - 1;
        return 0;
    }
    for (int64_t i = 0; i < na; i++) {
        int a = nn_axis(ax[i], nd);
        if (a < 0) return -1;
        mark[a] = 1;
    }
    *lo = -1;
    for (int i = 0; i < nd; i++)
        if (mark[i]) {
            if (*lo < 0)
                *lo = i;
            else if (!mark[i - 1])
                return -1;
            *hi = i;
        }
    return 0;
}

static q_status cpu_reduce_mean(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                                const nn_tensor *in, const nn_tensor *out) {
    int lo, hi;
    if (reduce_run(m, n, in, &lo, &hi))
        return Q_FAIL(Q_ERR_UNSUPPORTED, "%s: axes must be contiguous", nn_node_desc(m, n));
    const int64_t *d = in[0].dims;
    kc_ctx k = cpu_kc(c, 0);
    kc_reduce_mean(&k, in[0].data, out->data, nn_numel(lo, d), nn_numel(hi - lo + 1, d + lo),
                   nn_numel(in[0].ndim - hi - 1, d + hi + 1));
    return Q_OK;
}

static q_status cpu_global_avg_pool(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                                    const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)n;
    kc_ctx k = cpu_kc(c, 0);
    kc_global_avg_pool(&k, in[0].data, out->data, in[0].dims[0] * in[0].dims[1],
                       nn_numel(in[0].ndim - 2, in[0].dims + 2));
    return Q_OK;
}

static q_status cpu_pool(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                         const nn_tensor *in, const nn_tensor *out) {
    nn_geom g;
    q_status st = nn_geom_get(m, n, in[0].dims, NULL, &g);
    if (st) return st;
    kc_pool_shape s = {in[0].dims[0] * in[0].dims[1],
                       (int)in[0].dims[2],
                       (int)in[0].dims[3],
                       (int)out->dims[2],
                       (int)out->dims[3],
                       g.kh,
                       g.kw,
                       g.sh,
                       g.sw,
                       g.pt,
                       g.pl,
                       (int)nn_attr_int(n, "count_include_pad", 0)};
    kc_ctx k = cpu_kc(c, 0);
    if (n->op == NN_OP_MAX_POOL)
        kc_max_pool(&k, &s, in[0].data, out->data);
    else
        kc_avg_pool(&k, &s, in[0].data, out->data);
    return Q_OK;
}

static int resize_modes(const nn_node *n, kc_coord_mode *cm, kc_nearest_mode *nm) {
    const char *mode = nn_attr_str(n, "mode", "nearest");
    const char *ct = nn_attr_str(n, "coordinate_transformation_mode", "half_pixel");
    const char *nr = nn_attr_str(n, "nearest_mode", "round_prefer_floor");
    if (strcmp(mode, "nearest")) return -1;
    if (!strcmp(ct, "half_pixel"))
        *cm = KC_COORD_HALF_PIXEL;
    else if (!strcmp(ct, "asymmetric"))
        *cm = KC_COORD_ASYMMETRIC;
    else if (!strcmp(ct, "align_corners"))
        *cm = KC_COORD_ALIGN_CORNERS;
    else if (!strcmp(ct, "pytorch_half_pixel"))
        *cm = KC_COORD_PYTORCH_HALF_PIXEL;
    else
        return -1;
    if (!strcmp(nr, "round_prefer_floor"))
        *nm = KC_NEAREST_ROUND_PREFER_FLOOR;
    else if (!strcmp(nr, "round_prefer_ceil"))
        *nm = KC_NEAREST_ROUND_PREFER_CEIL;
    else if (!strcmp(nr, "floor"))
        *nm = KC_NEAREST_FLOOR;
    else if (!strcmp(nr, "ceil"))
        *nm = KC_NEAREST_CEIL;
    else
        return -1;
    return 0;
}

static q_status cpu_resize(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                           const nn_tensor *in, const nn_tensor *out) {
    kc_resize_shape s = {in[0].dims[0] * in[0].dims[1],
                         (int)in[0].dims[2],
                         (int)in[0].dims[3],
                         (int)out->dims[2],
                         (int)out->dims[3],
                         0,
                         0,
                         0,
                         0};
    if (resize_modes(n, &s.coord, &s.nearest))
        return Q_FAIL(Q_ERR_UNSUPPORTED, "%s: mode not supported", nn_node_desc(m, n));
    s.scale_h = (float)s.h_out / (float)s.h_in;
    s.scale_w = (float)s.w_out / (float)s.w_in;
    /* The given scales, not out/in, define the coordinate transform. */
    const nn_tensor *sc = n->nin == 2 ? &in[1] : (n->nin >= 3 ? &in[2] : NULL);
    if (sc && sc->host && sc->dtype == NN_DT_F32 && nn_numel(sc->ndim, sc->dims) == 4) {
        s.scale_h = ((const float *)sc->host)[2];
        s.scale_w = ((const float *)sc->host)[3];
    }
    kc_ctx k = cpu_kc(c, 0);
    kc_resize_nearest(&k, &s, in[0].data, out->data);
    return Q_OK;
}

static q_status cpu_concat(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                           const nn_tensor *in, const nn_tensor *out) {
    (void)c;
    (void)m;
    int ax = nn_axis(nn_attr_int(n, "axis", 0), out->ndim);
    int64_t outer = nn_numel(ax, out->dims),
            inner = nn_numel(out->ndim - ax - 1, out->dims + ax + 1);
    int64_t at = 0;
    for (int k = 0; k < n->nin; k++) {
        kc_concat_part(in[k].data, out->data, 4, outer, in[k].dims[ax], out->dims[ax], at, inner);
        at += in[k].dims[ax];
    }
    return Q_OK;
}

static q_status cpu_transpose(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                              const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)out;
    const int64_t *pm;
    int np = nn_attr_ints(n, "perm", &pm), perm[NN_MAX_DIMS];
    for (int i = 0; i < in[0].ndim; i++)
        perm[i] = np ? (int)pm[i] : in[0].ndim - 1 - i;
    kc_ctx k = cpu_kc(c, 0);
    kc_transpose(&k, in[0].data, out->data, 4, in[0].ndim, in[0].dims, perm);
    return Q_OK;
}

static q_status cpu_slice(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                          const nn_tensor *in, const nn_tensor *out) {
    (void)c;
    const int64_t *hosts[4] = {NULL, NULL, NULL, NULL};
    int64_t counts[4] = {0, 0, 0, 0}, starts[NN_MAX_DIMS], steps[NN_MAX_DIMS], od[NN_MAX_DIMS];
    for (int k = 1; k < n->nin && k <= 4; k++)
        if (n->in[k] >= 0) {
            hosts[k - 1] = in[k].host;
            counts[k - 1] = nn_numel(in[k].ndim, in[k].dims);
        }
    q_status st = nn_slice_resolve(m, n, in[0].ndim, in[0].dims, hosts, counts, starts, steps, od);
    if (st) return st;
    kc_slice(in[0].data, out->data, 4, in[0].ndim, in[0].dims, out->dims, starts, steps);
    return Q_OK;
}

/* Reshape and friends share their input's bytes: the plan never runs them. */
static q_status cpu_alias(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                          const nn_tensor *in, const nn_tensor *out) {
    (void)c;
    if (in[0].data != out->data)
        memcpy(out->data, in[0].data, (size_t)nn_numel(out->ndim, out->dims) * 4);
    (void)m;
    (void)n;
    return Q_OK;
}

static q_status cpu_host_only(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                              const nn_tensor *in, const nn_tensor *out) {
    (void)c;
    (void)in;
    (void)out;
    return Q_FAIL(Q_ERR_UNSUPPORTED, "%s must be folded before the run", nn_node_desc(m, n));
}

static const cpu_op_fn cpu_ops[NN_OP_COUNT] = {
#define NN_OP(id, onnx, stem) [NN_OP_##id] = cpu_##stem,
#include "nn/ops.def"
#undef NN_OP
};

/* ---- the interface ---------------------------------------------------------- */
static void cpu_free(nn_backend *be) {
    if (!be) return;
    if (be->ctx) {
        free(be->ctx->scratch);
        for (int i = 0; i < be->ctx->npacked; i++)
            free(be->ctx->packed[i]);
        free(be->ctx->packed);
    }
    free(be->ctx);
    free(be);
}

static void *cpu_alloc(nn_backend *be, size_t bytes) {
    (void)be;
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) Q_FAIL(Q_ERR_NOMEM, "cannot allocate %zu bytes", bytes);
    return p;
}

static void cpu_free_buf(nn_backend *be, void *buf) {
    (void)be;
    free(buf);
}

static q_status cpu_copy(nn_backend *be, void *dst, const void *src, size_t bytes) {
    (void)be;
    if (dst != src) memcpy(dst, src, bytes);
    return Q_OK;
}

static int cpu_supports_op(nn_backend *be, const nn_model *m, const nn_node *n, const nn_tensor *in,
                           const nn_tensor *out) {
    (void)be;
    (void)out;
    if (n->op == NN_OP_SHAPE || n->op == NN_OP_GATHER || n->op == NN_OP_CONSTANT) return 0;
    if (n->op == NN_OP_RESIZE) {
        kc_coord_mode cm;
        kc_nearest_mode nm;
        if (resize_modes(n, &cm, &nm)) return 0;
    }
    if (!in) return 1;
    for (int k = 0; k < n->nin; k++)
        if (n->in[k] >= 0 && in[k].dtype != NN_DT_F32 && !in[k].host) return 0;
    switch (n->op) {
    case NN_OP_SOFTMAX:
        return m->opset < 13 || softmax_axis(m, n, in[0].ndim) == in[0].ndim - 1;
    case NN_OP_MATMUL: {
        /* Batches: each side either one matrix or all of them (no partial
         * broadcasting such as [2,1,..] x [1,3,..]). */
        int64_t batch = nn_numel(out->ndim - 2, out->dims);
        int64_t ab = nn_numel(in[0].ndim - 2, in[0].dims),
                bb = nn_numel(in[1].ndim - 2, in[1].dims);
        return (ab == 1 || ab == batch) && (bb == 1 || bb == batch);
    }
    case NN_OP_REDUCE_MEAN: {
        int lo, hi;
        return reduce_run(m, n, in, &lo, &hi) == 0;
    }
    case NN_OP_CONV:
    case NN_OP_CONV_TRANSPOSE:
        if (n->post_scale >= 0 || n->post_shift >= 0) {
            kc_epilogue ep = conv_epilogue(m, n, in);
            return ep.post_n == 1 || ep.post_n == (int)out->dims[1];
        }
        return 1;
    default:
        return 1;
    }
}

static size_t cpu_workspace(nn_backend *be, const nn_model *m, const nn_node *n,
                            const nn_tensor *in, const nn_tensor *out) {
    kc_conv_shape s;
    if ((n->op != NN_OP_CONV && n->op != NN_OP_CONV_TRANSPOSE) || conv_shape(m, n, in, out, &s))
        return 0;
    size_t per = n->op == NN_OP_CONV ? kc_conv2d_workspace(&s) : kc_deconv2d_workspace(&s);
    return per * sizeof(float) * (size_t)be->ctx->threads;
}

static q_status cpu_reserve(nn_backend *be, size_t bytes) {
    struct nn_backend_ctx *c = be->ctx;
    if (bytes <= c->scratch_bytes) return Q_OK;
    float *p = cpu_alloc(be, bytes);
    if (!p) return q_errcode();
    free(c->scratch);
    c->scratch = p;
    c->scratch_bytes = bytes;
    return Q_OK;
}

static q_status cpu_run(nn_backend *be, const nn_model *m, const nn_node *n, const nn_tensor *in,
                        const nn_tensor *out) {
    return cpu_ops[n->op](be->ctx, m, n, in, out);
}

static q_status cpu_sync(nn_backend *be) {
    (void)be;
    return Q_OK;
}

static const nn_backend_i cpu_iface = {
    .name = "cpu",
    .host_memory = 1,
    .free = cpu_free,
    .alloc = cpu_alloc,
    .free_buf = cpu_free_buf,
    .upload = cpu_copy,
    .download = cpu_copy,
    .supports_op = cpu_supports_op,
    .workspace = cpu_workspace,
    .reserve = cpu_reserve,
    .run = cpu_run,
    .sync = cpu_sync,
};

q_status nn_backend_cpu_new(int threads, nn_backend **out) {
    nn_backend *be = calloc(1, sizeof(*be));
    struct nn_backend_ctx *c = calloc(1, sizeof(*c));
    if (!be || !c) {
        free(be);
        free(c);
        return Q_FAIL(Q_ERR_NOMEM, "out of memory creating the CPU backend");
    }
    c->threads = threads < 1 ? 1 : threads;
    be->iface = &cpu_iface;
    be->ctx = c;
    kc_init_threads();
    *out = be;
    return Q_OK;
}
