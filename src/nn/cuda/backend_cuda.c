/* The CUDA backend: the nn backend interface over kernels/cuda, the twin of
 * backend_cpu.c (same dispatch from ops.def, same parameter reading). Device
 * memory is opaque to the engine; weights are uploaded once per model (the
 * `constant` hook), activations live in the plan's one device arena, all work
 * goes to the model's one stream. Built into libquire_cuda.so, which quire
 * loads only when a model asks for CUDA (backend_cuda.c in src/nn): linking
 * cuDNN and cuBLAS into quire itself cost every process about 200 MB at start,
 * CPU-only ranks included. The plugin's calls into the engine and util resolve
 * to quire's own (the executable exports its symbols). */
#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/kcu.h"
#include "nn/cuda/plugin.h"
#include "nn/nn_private.h"

/* Model constants on the device, by host address (open addressing). */
typedef struct {
    const void *host;
    void *dev;
    size_t bytes;
} dev_const;

struct nn_backend_ctx {
    kcu_ctx *k;
    dev_const *consts;
    size_t cap, count;
};

typedef q_status (*cuda_op_fn)(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                               const nn_tensor *in, const nn_tensor *out);

static size_t const_slot(const struct nn_backend_ctx *c, const void *host) {
    uintptr_t h = (uintptr_t)host;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15u;
    size_t i = (size_t)(h >> 7) & (c->cap - 1);
    while (c->consts[i].host && c->consts[i].host != host)
        i = (i + 1) & (c->cap - 1);
    return i;
}

static q_status const_grow(struct nn_backend_ctx *c) {
    size_t cap = c->cap ? 2 * c->cap : 1024;
    dev_const *old = c->consts;
    size_t old_cap = c->cap;
    if (!(c->consts = calloc(cap, sizeof(dev_const)))) {
        c->consts = old;
        return Q_FAIL(Q_ERR_NOMEM, "out of memory for the device constants");
    }
    c->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].host) c->consts[const_slot(c, old[i].host)] = old[i];
    free(old);
    return Q_OK;
}

/* The device copy of model constant `host` (uploaded on first use). */
static void *const_get(struct nn_backend_ctx *c, const void *host, size_t bytes) {
    if (2 * (c->count + 1) > c->cap && const_grow(c)) return NULL;
    dev_const *e = &c->consts[const_slot(c, host)];
    if (e->host) {
        if (e->bytes >= bytes) return e->dev;
        Q_FAIL(Q_ERR_INTERNAL, "model constant seen with two sizes (%zu, %zu)", e->bytes, bytes);
        return NULL;
    }
    void *d = kcu_alloc(c->k, bytes);
    if (!d) return NULL;
    if (kcu_upload(c->k, d, host, bytes)) {
        kcu_free(c->k, d);
        return NULL;
    }
    e->host = host;
    e->dev = d;
    e->bytes = bytes;
    c->count++;
    return d;
}

static kc_act node_act(const nn_node *n) {
    return (kc_act){(kc_act_kind)n->act, n->act_a, n->act_b};
}

/* As backend_cpu.c's conv_shape. */
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

/* As backend_cpu.c's conv_epilogue, with every array on the device. */
static q_status conv_epilogue(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                              const nn_tensor *in, kc_epilogue *ep) {
    memset(ep, 0, sizeof(*ep));
    ep->bias = n->nin > 2 && n->in[2] >= 0 ? in[2].data : NULL;
    ep->act = node_act(n);
    int ps = 0, pt = 0;
    if (n->post_scale >= 0) {
        const nn_value *v = &m->vals[n->post_scale];
        ps = (int)nn_numel(v->ndim, v->dims);
        if (!(ep->post_scale = const_get(c, v->cdata, sizeof(float) * (size_t)ps)))
            return q_errcode();
        ep->post_n = ps;
    }
    if (n->post_shift >= 0) {
        const nn_value *v = &m->vals[n->post_shift];
        pt = (int)nn_numel(v->ndim, v->dims);
        if (!(ep->post_shift = const_get(c, v->cdata, sizeof(float) * (size_t)pt)))
            return q_errcode();
        ep->post_n = ep->post_scale && pt != ps ? -1 : pt;
    }
    return Q_OK;
}

static q_status cuda_conv(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                          const nn_tensor *in, const nn_tensor *out) {
    kc_conv_shape s;
    kc_epilogue ep;
    q_status st = conv_shape(m, n, in, out, &s);
    if (st || (st = conv_epilogue(c, m, n, in, &ep))) return st;
    return kcu_conv2d(c->k, &s, in[0].data, in[1].data, &ep, out->data);
}

static q_status cuda_conv_transpose(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                                    const nn_tensor *in, const nn_tensor *out) {
    kc_conv_shape s;
    kc_epilogue ep;
    q_status st = conv_shape(m, n, in, out, &s);
    if (st || (st = conv_epilogue(c, m, n, in, &ep))) return st;
    return kcu_deconv2d(c->k, &s, in[0].data, in[1].data, &ep, out->data);
}

static q_status cuda_batch_norm(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                                const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    int64_t nb = in[0].dims[0], ch = in[0].dims[1],
            inner = nn_numel(in[0].ndim - 2, in[0].dims + 2);
    return kcu_batch_norm(c->k, in[0].data, in[1].data, in[2].data, in[3].data, in[4].data,
                          nn_attr_float(n, "epsilon", 1e-5f), out->data, nb, (int)ch, inner);
}

static q_status cuda_act(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                         const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    return kcu_unary(c->k, KC_UN_ACT, node_act(n), in[0].data, out->data,
                     (size_t)nn_numel(out->ndim, out->dims));
}

static q_status cuda_sqrt(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                          const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)n;
    return kcu_unary(c->k, KC_UN_SQRT, (kc_act){KC_ACT_NONE, 0, 0}, in[0].data, out->data,
                     (size_t)nn_numel(out->ndim, out->dims));
}

static void align(int nd, const nn_tensor *t, int64_t *d) {
    for (int i = 0; i < nd; i++)
        d[i] = i - (nd - t->ndim) >= 0 ? t->dims[i - (nd - t->ndim)] : 1;
}

static q_status cuda_binary(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                            const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    int64_t ad[NN_MAX_DIMS], bd[NN_MAX_DIMS];
    align(out->ndim, &in[0], ad);
    align(out->ndim, &in[1], bd);
    return kcu_binary(c->k, (kc_bin_op)(n->op - NN_OP_ADD), out->ndim, out->dims, in[0].data, ad,
                      in[1].data, bd, out->data);
}

static q_status cuda_matmul(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                            const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)n;
    const nn_tensor *a = &in[0], *b = &in[1];
    kc_matmul_shape s;
    s.m = a->dims[a->ndim - 2];
    s.k = a->dims[a->ndim - 1];
    s.n = b->dims[b->ndim - 1];
    s.batch = nn_numel(out->ndim - 2, out->dims);
    s.a_stride = nn_numel(a->ndim - 2, a->dims) == 1 ? 0 : s.m * s.k;
    s.b_stride = nn_numel(b->ndim - 2, b->dims) == 1 ? 0 : s.k * s.n;
    return kcu_matmul(c->k, &s, a->data, b->data, out->data);
}

static int softmax_axis(const nn_model *m, const nn_node *n, int ndim) {
    return nn_axis(nn_attr_int(n, "axis", m->opset < 13 ? 1 : -1), ndim);
}

static q_status cuda_softmax(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                             const nn_tensor *in, const nn_tensor *out) {
    int ax = softmax_axis(m, n, in[0].ndim);
    int64_t rows = nn_numel(ax, in[0].dims), cols = nn_numel(in[0].ndim - ax, in[0].dims + ax);
    return kcu_softmax(c->k, in[0].data, out->data, rows, cols);
}

/* As backend_cpu.c's reduce_run: the axes as one contiguous run [lo, hi]. */
static int reduce_run(const nn_node *n, const nn_tensor *in, int *lo, int *hi) {
    const int64_t *ax = NULL;
    int64_t na = 0;
    if (n->nin > 1 && n->in[1] >= 0) {
        if (!in[1].host) return -1;
        ax = in[1].host;
        na = nn_numel(in[1].ndim, in[1].dims);
    } else
        na = nn_attr_ints(n, "axes", &ax);
    int nd = in[0].ndim, mark[NN_MAX_DIMS] = {0};
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

static q_status cuda_reduce_mean(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                                 const nn_tensor *in, const nn_tensor *out) {
    int lo, hi;
    if (reduce_run(n, in, &lo, &hi))
        return Q_FAIL(Q_ERR_UNSUPPORTED, "%s: axes must be contiguous", nn_node_desc(m, n));
    const int64_t *d = in[0].dims;
    return kcu_reduce_mean(c->k, in[0].data, out->data, nn_numel(lo, d),
                           nn_numel(hi - lo + 1, d + lo),
                           nn_numel(in[0].ndim - hi - 1, d + hi + 1));
}

static q_status cuda_global_avg_pool(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                                     const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)n;
    return kcu_global_avg_pool(c->k, in[0].data, out->data, in[0].dims[0] * in[0].dims[1],
                               nn_numel(in[0].ndim - 2, in[0].dims + 2));
}

static q_status cuda_pool(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
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
    if (n->op == NN_OP_MAX_POOL) return kcu_max_pool(c->k, &s, in[0].data, out->data);
    return kcu_avg_pool(c->k, &s, in[0].data, out->data);
}

/* As backend_cpu.c's resize_modes. */
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

static q_status cuda_resize(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
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
    const nn_tensor *sc = n->nin == 2 ? &in[1] : (n->nin >= 3 ? &in[2] : NULL);
    if (sc && sc->host && sc->dtype == NN_DT_F32 && nn_numel(sc->ndim, sc->dims) == 4) {
        s.scale_h = ((const float *)sc->host)[2];
        s.scale_w = ((const float *)sc->host)[3];
    }
    return kcu_resize_nearest(c->k, &s, in[0].data, out->data);
}

static q_status cuda_concat(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                            const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    int ax = nn_axis(nn_attr_int(n, "axis", 0), out->ndim);
    int64_t outer = nn_numel(ax, out->dims),
            inner = nn_numel(out->ndim - ax - 1, out->dims + ax + 1);
    int64_t at = 0;
    for (int k = 0; k < n->nin; k++) {
        q_status st = kcu_concat_part(c->k, in[k].data, out->data, outer, in[k].dims[ax],
                                      out->dims[ax], at, inner);
        if (st) return st;
        at += in[k].dims[ax];
    }
    return Q_OK;
}

static q_status cuda_transpose(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                               const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)out;
    const int64_t *pm;
    int np = nn_attr_ints(n, "perm", &pm), perm[NN_MAX_DIMS];
    for (int i = 0; i < in[0].ndim; i++)
        perm[i] = np ? (int)pm[i] : in[0].ndim - 1 - i;
    return kcu_transpose(c->k, in[0].data, out->data, in[0].ndim, in[0].dims, perm);
}

static q_status cuda_slice(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                           const nn_tensor *in, const nn_tensor *out) {
    const int64_t *hosts[4] = {NULL, NULL, NULL, NULL};
    int64_t counts[4] = {0, 0, 0, 0}, starts[NN_MAX_DIMS], steps[NN_MAX_DIMS], od[NN_MAX_DIMS];
    for (int k = 1; k < n->nin && k <= 4; k++)
        if (n->in[k] >= 0) {
            hosts[k - 1] = in[k].host;
            counts[k - 1] = nn_numel(in[k].ndim, in[k].dims);
        }
    q_status st = nn_slice_resolve(m, n, in[0].ndim, in[0].dims, hosts, counts, starts, steps, od);
    if (st) return st;
    return kcu_slice(c->k, in[0].data, out->data, in[0].ndim, in[0].dims, out->dims, starts, steps);
}

/* Reshape and friends share their input's bytes: the plan never runs them. */
static q_status cuda_alias(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                           const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)n;
    return kcu_copy(c->k, out->data, in[0].data, (size_t)nn_numel(out->ndim, out->dims) * 4);
}

static q_status cuda_host_only(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                               const nn_tensor *in, const nn_tensor *out) {
    (void)c;
    (void)in;
    (void)out;
    return Q_FAIL(Q_ERR_UNSUPPORTED, "%s must be folded before the run", nn_node_desc(m, n));
}

static const cuda_op_fn cuda_ops[NN_OP_COUNT] = {
#define NN_OP(id, onnx, stem, shape) [NN_OP_##id] = cuda_##stem,
#include "nn/ops.def"
#undef NN_OP
};

/* ---- the interface ---------------------------------------------------------- */
static void be_free(nn_backend *be) {
    if (!be) return;
    struct nn_backend_ctx *c = be->ctx;
    if (c) {
        for (size_t i = 0; i < c->cap; i++)
            if (c->consts[i].host) kcu_free(c->k, c->consts[i].dev);
        free(c->consts);
        kcu_ctx_free(c->k);
    }
    free(c);
    free(be);
}

static void *be_alloc(nn_backend *be, size_t bytes) {
    return kcu_alloc(be->ctx->k, bytes);
}

static void be_free_buf(nn_backend *be, void *buf) {
    kcu_free(be->ctx->k, buf);
}

static q_status be_upload(nn_backend *be, void *dst, const void *src, size_t bytes) {
    return kcu_upload(be->ctx->k, dst, src, bytes);
}

static q_status be_download(nn_backend *be, void *dst, const void *src, size_t bytes) {
    return kcu_download(be->ctx->k, dst, src, bytes);
}

static void *be_constant(nn_backend *be, const void *host, size_t bytes) {
    return const_get(be->ctx, host, bytes ? bytes : 1);
}

/* The same capability rules as the CPU backend: the kernels mirror it. */
static int be_supports_op(nn_backend *be, const nn_model *m, const nn_node *n, const nn_tensor *in,
                          const nn_tensor *out) {
    (void)be;
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
        int64_t batch = nn_numel(out->ndim - 2, out->dims);
        int64_t ab = nn_numel(in[0].ndim - 2, in[0].dims),
                bb = nn_numel(in[1].ndim - 2, in[1].dims);
        return (ab == 1 || ab == batch) && (bb == 1 || bb == batch);
    }
    case NN_OP_REDUCE_MEAN: {
        int lo, hi;
        return reduce_run(n, in, &lo, &hi) == 0;
    }
    case NN_OP_CONV:
    case NN_OP_CONV_TRANSPOSE: {
        if (in[0].ndim != 4) return 0;
        int ps = -2, pt = -2;
        if (n->post_scale >= 0)
            ps = (int)nn_numel(m->vals[n->post_scale].ndim, m->vals[n->post_scale].dims);
        if (n->post_shift >= 0)
            pt = (int)nn_numel(m->vals[n->post_shift].ndim, m->vals[n->post_shift].dims);
        if (ps != -2 && pt != -2 && ps != pt) return 0;
        int pn = ps != -2 ? ps : pt;
        return pn == -2 || pn == 1 || pn == (int)out->dims[1];
    }
    default:
        return 1;
    }
}

/* Conv and ConvTranspose choose their cuDNN algorithm here, at plan time. A
 * failure leaves 0: the run repeats the choice and reports the error. */
static size_t be_workspace(nn_backend *be, const nn_model *m, const nn_node *n, const nn_tensor *in,
                           const nn_tensor *out) {
    kc_conv_shape s;
    size_t bytes = 0;
    if ((n->op != NN_OP_CONV && n->op != NN_OP_CONV_TRANSPOSE) || conv_shape(m, n, in, out, &s))
        return 0;
    kc_epilogue ep;
    conv_epilogue(be->ctx, m, n, in, &ep); /* uploads the post-affine constants now */
    if (n->op == NN_OP_CONV)
        kcu_conv2d_workspace(be->ctx->k, &s, &bytes);
    else
        kcu_deconv2d_workspace(be->ctx->k, &s, &bytes);
    return bytes;
}

static q_status be_reserve(nn_backend *be, size_t bytes) {
    return kcu_reserve(be->ctx->k, bytes);
}

static q_status be_run(nn_backend *be, const nn_model *m, const nn_node *n, const nn_tensor *in,
                       const nn_tensor *out) {
    q_status st = cuda_ops[n->op](be->ctx, m, n, in, out);
    return st ? q_fail_context("%s", nn_node_desc(m, n)) : Q_OK;
}

static q_status be_sync(nn_backend *be) {
    return kcu_sync(be->ctx->k);
}

static const nn_backend_i cuda_iface = {
    .name = "cuda",
    .host_memory = 0,
    .free = be_free,
    .alloc = be_alloc,
    .free_buf = be_free_buf,
    .upload = be_upload,
    .download = be_download,
    .supports_op = be_supports_op,
    .workspace = be_workspace,
    .reserve = be_reserve,
    .run = be_run,
    .sync = be_sync,
    .constant = be_constant,
};

q_status quire_cuda_backend_new(int device, nn_backend **out) {
    *out = NULL;
    nn_backend *be = calloc(1, sizeof(*be));
    struct nn_backend_ctx *c = calloc(1, sizeof(*c));
    if (!be || !c) {
        free(be);
        free(c);
        return Q_FAIL(Q_ERR_NOMEM, "out of memory creating the CUDA backend");
    }
    q_status st = kcu_ctx_new(device, &c->k);
    if (st) {
        free(be);
        free(c);
        return q_fail_context("CUDA backend not built/available");
    }
    be->iface = &cuda_iface;
    be->ctx = c;
    *out = be;
    return Q_OK;
}

q_status quire_cuda_gpu_list(nn_gpu_info *gpus, int cap, int *count) {
    kcu_device d[64];
    int n = 0;
    q_status st = kcu_devices(d, (int)Q_ARRAY_LEN(d), &n);
    *count = n;
    if (st) return st;
    for (int i = 0; i < n && i < cap && i < (int)Q_ARRAY_LEN(d); i++) {
        memset(&gpus[i], 0, sizeof(gpus[i]));
        gpus[i].index = d[i].index;
        memcpy(gpus[i].name, d[i].name, sizeof(gpus[i].name));
        gpus[i].memory_bytes = d[i].memory_bytes;
        gpus[i].cc_major = d[i].cc_major;
        gpus[i].cc_minor = d[i].cc_minor;
    }
    return Q_OK;
}
