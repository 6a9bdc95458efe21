/* The CPU backend: the nn backend interface over kernels/cpu. Host memory is
 * device memory here, so upload/download are memcpy and constants are used in
 * place. Each op unpacks the parameters the plan built for it (params.h) and
 * launches its kernel (ops.def dispatch). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/kc.h"
#include "kernels/cpu/kc_int8.h"
#include "nn/params.h"

struct nn_backend_ctx {
    int threads;
    float *scratch;
    size_t scratch_bytes;
    /* Conv weights repacked on a node's first run, by node index; the
     * weights are constants, so one packing serves every plan. */
    float **packed;
    kc_qweights *qw; /* int8 convs: packed[i] holds the block qw[i] points into */
    kc_qmatb *qb;    /* int8 MatMuls: likewise, B */
    int npacked;
    kc_qgemm_path qpath;
};

typedef q_status (*cpu_op_fn)(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                              const nn_params *p, const nn_tensor *in, const nn_tensor *out);

static kc_ctx cpu_kc(const struct nn_backend_ctx *c, size_t per_thread_floats) {
    kc_ctx k = {c->threads, c->scratch, per_thread_floats};
    return k;
}

/* Conv weights packed for the kernel on the node's first run (by node index:
 * the weights are model constants, so one packing serves every plan); NULL
 * when the kernel takes them as they are. */
/* One slot per node in the packed-weights tables. */
static q_status packed_slots(struct nn_backend_ctx *c, const nn_model *m) {
    if (c->npacked >= m->nnodes) return Q_OK;
    float **p = realloc(c->packed, sizeof(float *) * (size_t)m->nnodes);
    if (p) c->packed = p;
    kc_qweights *q = p ? realloc(c->qw, sizeof(kc_qweights) * (size_t)m->nnodes) : NULL;
    if (q) c->qw = q;
    kc_qmatb *b = q ? realloc(c->qb, sizeof(kc_qmatb) * (size_t)m->nnodes) : NULL;
    if (!b) return Q_FAIL(Q_ERR_NOMEM, "out of memory packing weights");
    c->qb = b;
    memset(p + c->npacked, 0, sizeof(float *) * (size_t)(m->nnodes - c->npacked));
    memset(q + c->npacked, 0, sizeof(kc_qweights) * (size_t)(m->nnodes - c->npacked));
    memset(b + c->npacked, 0, sizeof(kc_qmatb) * (size_t)(m->nnodes - c->npacked));
    c->npacked = m->nnodes;
    return Q_OK;
}

static q_status packed_weights(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                               const kc_conv_shape *s, const nn_tensor *w, const float **out) {
    size_t psize = kc_conv2d_packed_size(s);
    int ni = (int)(n - m->nodes);
    *out = NULL;
    if (!psize || !w->host) return Q_OK;
    q_status st = packed_slots(c, m);
    if (st) return st;
    if (!c->packed[ni]) {
        if (!(c->packed[ni] = malloc(sizeof(float) * psize)))
            return Q_FAIL(Q_ERR_NOMEM, "out of memory packing weights");
        kc_conv2d_pack(s, w->data, c->packed[ni]);
    }
    *out = c->packed[ni];
    return Q_OK;
}

/* Node ni's int8 block of `bytes`, 64-byte aligned, allocated on the node's
 * first run; *fresh is 1 then, when the caller fills it. */
static q_status int8_block(struct nn_backend_ctx *c, const nn_model *m, int ni, size_t bytes,
                           int *fresh) {
    q_status st = packed_slots(c, m);
    if (st) return st;
    *fresh = !c->packed[ni];
    if (*fresh && !(c->packed[ni] = aligned_alloc(64, (bytes + 63) / 64 * 64)))
        return Q_FAIL(Q_ERR_NOMEM, "out of memory packing int8 weights");
    return Q_OK;
}

/* An int8 conv's weights, quantized per output channel on the node's first
 * run, with the bias. */
static q_status int8_weights(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                             const nn_conv_params *cp, const nn_tensor *in,
                             const kc_qweights **out) {
    int ni = (int)(n - m->nodes), co = cp->s.c_out, ci = cp->s.c_in, fresh;
    q_status st = int8_block(c, m, ni, kc_qweights_size(co, ci, cp->int8), &fresh);
    if (st) return st;
    if (fresh)
        kc_qweights_pack(co, ci, in[1].data, cp->bias ? in[2].data : NULL, cp->smooth,
                         kc_qgemm_weight_max(c->qpath), cp->int8, c->packed[ni], &c->qw[ni]);
    *out = &c->qw[ni];
    return Q_OK;
}

static q_status cpu_conv_int8(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                              const nn_conv_params *cp, const nn_tensor *in, const nn_tensor *out) {
    kc_epilogue ep = nn_conv_epilogue(cp, NULL, cp->post_scale, cp->post_shift);
    kc_ctx k = cpu_kc(c, kc_qconv1x1_workspace(&cp->s, cp->int8));
    const kc_qweights *qw = NULL;
    q_status st = int8_weights(c, m, n, cp, in, &qw);
    if (st) return st;
    kc_qconv1x1(&k, c->qpath, &cp->s, in[0].data, qw, &ep, out->data);
    return Q_OK;
}

static q_status cpu_conv(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                         const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    const nn_conv_params *cp = &p->u.conv;
    if (cp->int8 && in[1].host) return cpu_conv_int8(c, m, n, cp, in, out);
    kc_epilogue ep = nn_conv_epilogue(cp, in[2].data, cp->post_scale, cp->post_shift);
    kc_ctx k = cpu_kc(c, kc_conv2d_workspace(&cp->s));
    const float *packed;
    q_status st = packed_weights(c, m, n, &cp->s, &in[1], &packed);
    if (st) return st;
    kc_conv2d(&k, &cp->s, in[0].data, in[1].data, packed, &ep, out->data);
    return Q_OK;
}

static q_status cpu_conv_transpose(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                                   const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)n;
    const nn_conv_params *cp = &p->u.conv;
    kc_epilogue ep = nn_conv_epilogue(cp, in[2].data, cp->post_scale, cp->post_shift);
    kc_ctx k = cpu_kc(c, kc_deconv2d_workspace(&cp->s));
    kc_deconv2d(&k, &cp->s, in[0].data, in[1].data, &ep, out->data);
    return Q_OK;
}

static q_status cpu_batch_norm(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                               const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    (void)c;
    (void)m;
    (void)n;
    const float *x = in[0].data, *g = in[1].data, *b = in[2].data, *mu = in[3].data,
                *var = in[4].data;
    float *y = out->data;
    int64_t ch = p->u.bn.ch, inner = p->u.bn.inner;
    for (int64_t i = 0; i < p->u.bn.n; i++)
        for (int64_t k = 0; k < ch; k++) {
            float sc = g[k] / sqrtf(var[k] + p->u.bn.eps), sh = b[k] - mu[k] * sc;
            const float *xp = x + (i * ch + k) * inner;
            float *yp = y + (i * ch + k) * inner;
            for (int64_t j = 0; j < inner; j++)
                yp[j] = xp[j] * sc + sh;
        }
    return Q_OK;
}

/* Activations and Sqrt. */
static q_status cpu_act(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                        const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)n;
    kc_ctx k = cpu_kc(c, 0);
    kc_unary(&k, p->u.unary.op, p->u.unary.act, in[0].data, out->data, p->u.unary.n);
    return Q_OK;
}
#define cpu_sqrt cpu_act

static q_status cpu_binary(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                           const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)n;
    kc_ctx k = cpu_kc(c, 0);
    kc_binary(&k, p->u.bin.op, p->u.bin.ndim, p->u.bin.od, in[0].data, p->u.bin.ad, in[1].data,
              p->u.bin.bd, out->data);
    return Q_OK;
}

/* An int8 MatMul (its B constant): B packed on the node's first run. */
static q_status cpu_matmul_int8(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                                const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    const kc_matmul_shape *s = &p->u.mm.s;
    int ni = (int)(n - m->nodes), k = (int)s->k, cols = (int)s->n, fresh;
    q_status st = int8_block(c, m, ni, kc_qmatb_size(k, cols), &fresh);
    if (st) return st;
    if (fresh) kc_qmatb_pack(c->qpath, k, cols, in[1].data, c->packed[ni], &c->qb[ni]);
    kc_ctx kc = cpu_kc(c, 0);
    kc_qmatmul(&kc, c->qpath, (int)(s->batch * s->m), in[0].data, &c->qb[ni], &p->u.mm.post,
               c->scratch, out->data);
    return Q_OK;
}

static q_status cpu_matmul(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                           const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    const kc_matmul_shape *s = &p->u.mm.s;
    if (p->u.mm.int8 && in[1].host) return cpu_matmul_int8(c, m, n, p, in, out);
    if (p->u.mm.post.bias || p->u.mm.post.softmax)
        return Q_FAIL(Q_ERR_UNSUPPORTED, "MatMul %s: a fused bias or softmax needs B on the host",
                      n->name ? n->name : "?");
    kc_ctx k = cpu_kc(c, 0);
    if (s->a_stride == 0 && s->batch > 1) {
        /* One A for many Bs: per batch (rare; kept simple). */
        for (int64_t i = 0; i < s->batch; i++) {
            kc_matmul_shape one = {1, s->m, s->n, s->k, 0, 0};
            kc_matmul(&k, &one, in[0].data, (const float *)in[1].data + i * s->b_stride,
                      (float *)out->data + i * s->m * s->n);
        }
        return Q_OK;
    }
    kc_matmul(&k, s, in[0].data, in[1].data, out->data);
    return Q_OK;
}

static q_status cpu_softmax(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                            const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)n;
    kc_ctx k = cpu_kc(c, 0);
    kc_softmax(&k, in[0].data, out->data, p->u.softmax.rows, p->u.softmax.cols);
    return Q_OK;
}

static q_status cpu_reduce_mean(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                                const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)n;
    kc_ctx k = cpu_kc(c, 0);
    kc_reduce_mean(&k, in[0].data, out->data, p->u.reduce.outer, p->u.reduce.red,
                   p->u.reduce.inner);
    return Q_OK;
}

static q_status cpu_global_avg_pool(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                                    const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)n;
    kc_ctx k = cpu_kc(c, 0);
    kc_global_avg_pool(&k, in[0].data, out->data, p->u.gap.planes, p->u.gap.hw);
    return Q_OK;
}

static q_status cpu_pool(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                         const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    kc_ctx k = cpu_kc(c, 0);
    if (n->op == NN_OP_MAX_POOL)
        kc_max_pool(&k, &p->u.pool, in[0].data, out->data);
    else
        kc_avg_pool(&k, &p->u.pool, in[0].data, out->data);
    return Q_OK;
}

static q_status cpu_resize(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                           const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)n;
    kc_ctx k = cpu_kc(c, 0);
    kc_resize_nearest(&k, &p->u.resize, in[0].data, out->data);
    return Q_OK;
}

static q_status cpu_concat(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                           const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    (void)c;
    (void)m;
    (void)n;
    int64_t at = 0;
    for (int k = 0; k < p->u.concat.nparts; k++) {
        kc_concat_part(in[k].data, out->data, 4, p->u.concat.outer, p->u.concat.part[k],
                       p->u.concat.out_axis, at, p->u.concat.inner);
        at += p->u.concat.part[k];
    }
    return Q_OK;
}

static q_status cpu_transpose(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                              const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    (void)m;
    (void)n;
    kc_ctx k = cpu_kc(c, 0);
    kc_transpose(&k, in[0].data, out->data, 4, p->u.transpose.ndim, p->u.transpose.dims,
                 p->u.transpose.perm);
    return Q_OK;
}

static q_status cpu_slice(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                          const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    (void)c;
    (void)m;
    (void)n;
    kc_slice(in[0].data, out->data, 4, p->u.slice.ndim, p->u.slice.in_dims, p->u.slice.out_dims,
             p->u.slice.starts, p->u.slice.steps);
    return Q_OK;
}

/* Reshape and friends share their input's bytes: the plan never runs them. */
static q_status cpu_alias(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                          const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    (void)c;
    (void)m;
    (void)n;
    if (in[0].data != out->data) memcpy(out->data, in[0].data, p->u.alias.bytes);
    return Q_OK;
}

static q_status cpu_host_only(struct nn_backend_ctx *c, const nn_model *m, const nn_node *n,
                              const nn_params *p, const nn_tensor *in, const nn_tensor *out) {
    (void)c;
    (void)p;
    (void)in;
    (void)out;
    return Q_FAIL(Q_ERR_UNSUPPORTED, "%s must be folded before the run", nn_node_desc(m, n));
}

static const cpu_op_fn cpu_ops[NN_OP_COUNT] = {
#define NN_OP(id, onnx, kernel, shape) [NN_OP_##id] = cpu_##kernel,
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
        free(be->ctx->qw);
        free(be->ctx->qb);
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

/* Every kernel of kernels/cpu: what params.c accepts, the CPU runs. */
static int cpu_supports_op(nn_backend *be, const nn_node *n, const nn_params *p) {
    (void)be;
    (void)p;
    return n->op != NN_OP_SHAPE && n->op != NN_OP_GATHER && n->op != NN_OP_CONSTANT;
}

static size_t cpu_workspace(nn_backend *be, const nn_node *n, const nn_params *p) {
    if (n->op == NN_OP_MATMUL && p->u.mm.int8)
        return kc_qmatmul_workspace((int)(p->u.mm.s.batch * p->u.mm.s.m), (int)p->u.mm.s.k,
                                    (int)p->u.mm.s.n, be->ctx->threads);
    if (n->op != NN_OP_CONV && n->op != NN_OP_CONV_TRANSPOSE) return 0;
    size_t per = n->op == NN_OP_CONV_TRANSPOSE ? kc_deconv2d_workspace(&p->u.conv.s)
                 : p->u.conv.int8              ? kc_qconv1x1_workspace(&p->u.conv.s, p->u.conv.int8)
                                               : kc_conv2d_workspace(&p->u.conv.s);
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

static q_status cpu_run(nn_backend *be, const nn_model *m, const nn_node *n, const nn_params *p,
                        const nn_tensor *in, const nn_tensor *out) {
    return cpu_ops[n->op](be->ctx, m, n, p, in, out);
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
    c->qpath = kc_qgemm_best();
    be->iface = &cpu_iface;
    be->ctx = c;
    kc_init_threads();
    *out = be;
    return Q_OK;
}

const char *nn_int8_kernel(void) {
    return kc_qgemm_name(kc_qgemm_best());
}

int nn_int8_preferred(void) {
    return kc_qgemm_best() != KC_QGEMM_REF;
}
