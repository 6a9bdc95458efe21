/* The CUDA backend: the nn backend interface over kernels/cuda, the twin of
 * backend_cpu.c (same dispatch from ops.def, the same parameters built once
 * per plan by params.c: this file only unpacks them and launches). Device
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
#include "nn/params.h"

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

typedef q_status (*cuda_op_fn)(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
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

/* The conv's epilogue with the post-affine constants' device copies (uploaded
 * on first use, at plan time by be_workspace). */
static q_status conv_epilogue(struct nn_backend_ctx *c, const nn_conv_params *cp, const void *bias,
                              kc_epilogue *ep) {
    const float *ps = NULL, *pt = NULL;
    if (cp->post_scale && !(ps = const_get(c, cp->post_scale, sizeof(float) * (size_t)cp->scale_n)))
        return q_errcode();
    if (cp->post_shift && !(pt = const_get(c, cp->post_shift, sizeof(float) * (size_t)cp->shift_n)))
        return q_errcode();
    *ep = nn_conv_epilogue(cp, bias, ps, pt);
    return Q_OK;
}

static q_status cuda_conv(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
                          const nn_tensor *in, const nn_tensor *out) {
    (void)n;
    kc_epilogue ep;
    q_status st = conv_epilogue(c, &p->u.conv, in[2].data, &ep);
    if (st) return st;
    return kcu_conv2d(c->k, &p->u.conv.s, in[0].data, in[1].data, &ep, out->data);
}

static q_status cuda_conv_transpose(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
                                    const nn_tensor *in, const nn_tensor *out) {
    (void)n;
    kc_epilogue ep;
    q_status st = conv_epilogue(c, &p->u.conv, in[2].data, &ep);
    if (st) return st;
    return kcu_deconv2d(c->k, &p->u.conv.s, in[0].data, in[1].data, &ep, out->data);
}

static q_status cuda_batch_norm(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
                                const nn_tensor *in, const nn_tensor *out) {
    (void)n;
    return kcu_batch_norm(c->k, in[0].data, in[1].data, in[2].data, in[3].data, in[4].data,
                          p->u.bn.eps, out->data, p->u.bn.n, (int)p->u.bn.ch, p->u.bn.inner);
}

/* Activations and Sqrt. */
static q_status cuda_act(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
                         const nn_tensor *in, const nn_tensor *out) {
    (void)n;
    return kcu_unary(c->k, p->u.unary.op, p->u.unary.act, in[0].data, out->data, p->u.unary.n);
}
#define cuda_sqrt cuda_act

static q_status cuda_binary(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
                            const nn_tensor *in, const nn_tensor *out) {
    (void)n;
    return kcu_binary(c->k, p->u.bin.op, p->u.bin.ndim, p->u.bin.od, in[0].data, p->u.bin.ad,
                      in[1].data, p->u.bin.bd, out->data);
}

static q_status cuda_matmul(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
                            const nn_tensor *in, const nn_tensor *out) {
    (void)n;
    return kcu_matmul(c->k, &p->u.mm.s, in[0].data, in[1].data, out->data);
}

static q_status cuda_softmax(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
                             const nn_tensor *in, const nn_tensor *out) {
    (void)n;
    return kcu_softmax(c->k, in[0].data, out->data, p->u.softmax.rows, p->u.softmax.cols);
}

static q_status cuda_reduce_mean(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
                                 const nn_tensor *in, const nn_tensor *out) {
    (void)n;
    return kcu_reduce_mean(c->k, in[0].data, out->data, p->u.reduce.outer, p->u.reduce.red,
                           p->u.reduce.inner);
}

static q_status cuda_global_avg_pool(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
                                     const nn_tensor *in, const nn_tensor *out) {
    (void)n;
    return kcu_global_avg_pool(c->k, in[0].data, out->data, p->u.gap.planes, p->u.gap.hw);
}

static q_status cuda_pool(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
                          const nn_tensor *in, const nn_tensor *out) {
    if (n->op == NN_OP_MAX_POOL) return kcu_max_pool(c->k, &p->u.pool, in[0].data, out->data);
    return kcu_avg_pool(c->k, &p->u.pool, in[0].data, out->data);
}

static q_status cuda_resize(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
                            const nn_tensor *in, const nn_tensor *out) {
    (void)n;
    return kcu_resize_nearest(c->k, &p->u.resize, in[0].data, out->data);
}

static q_status cuda_concat(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
                            const nn_tensor *in, const nn_tensor *out) {
    (void)n;
    int64_t at = 0;
    for (int k = 0; k < p->u.concat.nparts; k++) {
        q_status st =
            kcu_concat_part(c->k, in[k].data, out->data, p->u.concat.outer, p->u.concat.part[k],
                            p->u.concat.out_axis, at, p->u.concat.inner);
        if (st) return st;
        at += p->u.concat.part[k];
    }
    return Q_OK;
}

static q_status cuda_transpose(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
                               const nn_tensor *in, const nn_tensor *out) {
    (void)n;
    return kcu_transpose(c->k, in[0].data, out->data, p->u.transpose.ndim, p->u.transpose.dims,
                         p->u.transpose.perm);
}

static q_status cuda_slice(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
                           const nn_tensor *in, const nn_tensor *out) {
    (void)n;
    return kcu_slice(c->k, in[0].data, out->data, p->u.slice.ndim, p->u.slice.in_dims,
                     p->u.slice.out_dims, p->u.slice.starts, p->u.slice.steps);
}

/* Reshape and friends share their input's bytes: the plan never runs them. */
static q_status cuda_alias(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
                           const nn_tensor *in, const nn_tensor *out) {
    (void)n;
    return kcu_copy(c->k, out->data, in[0].data, p->u.alias.bytes);
}

static q_status cuda_host_only(struct nn_backend_ctx *c, const nn_node *n, const nn_params *p,
                               const nn_tensor *in, const nn_tensor *out) {
    (void)c;
    (void)p;
    (void)in;
    (void)out;
    return Q_FAIL(Q_ERR_UNSUPPORTED, "%s must be folded before the run", nn_op_name(n->op));
}

static const cuda_op_fn cuda_ops[NN_OP_COUNT] = {
#define NN_OP(id, onnx, kernel, shape) [NN_OP_##id] = cuda_##kernel,
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

/* Every kernel of kernels/cuda: what params.c accepts, CUDA runs too. */
static int be_supports_op(nn_backend *be, const nn_node *n, const nn_params *p) {
    (void)be;
    (void)p;
    return n->op != NN_OP_SHAPE && n->op != NN_OP_GATHER && n->op != NN_OP_CONSTANT;
}

/* Conv and ConvTranspose choose their cuDNN algorithm here, at plan time, and
 * upload their post-affine constants. A failure leaves 0: the run repeats
 * the choice and reports the error. */
static size_t be_workspace(nn_backend *be, const nn_node *n, const nn_params *p) {
    size_t bytes = 0;
    if (n->op != NN_OP_CONV && n->op != NN_OP_CONV_TRANSPOSE) return 0;
    kc_epilogue ep;
    if (conv_epilogue(be->ctx, &p->u.conv, NULL, &ep)) q_errclear();
    if (n->op == NN_OP_CONV)
        kcu_conv2d_workspace(be->ctx->k, &p->u.conv.s, &bytes);
    else
        kcu_deconv2d_workspace(be->ctx->k, &p->u.conv.s, &bytes);
    return bytes;
}

static q_status be_reserve(nn_backend *be, size_t bytes) {
    return kcu_reserve(be->ctx->k, bytes);
}

static q_status be_run(nn_backend *be, const nn_model *m, const nn_node *n, const nn_params *p,
                       const nn_tensor *in, const nn_tensor *out) {
    q_status st = cuda_ops[n->op](be->ctx, n, p, in, out);
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
