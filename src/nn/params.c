/* Kernel parameters built once per plan, one builder per ops.def `kernel`
 * stem: what every backend used to re-read from the node's attributes and
 * shapes at each run (conv geometry and epilogue, broadcast strides, Resize
 * modes, ReduceMean axes, Slice starts). Capability rules that hold for
 * every kernel are here too, so both backends refuse the same things. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nn/params.h"
#include "nn/shape.h"

typedef q_status (*params_fn)(const nn_model *m, const nn_node *n, const nn_tensor *in,
                              const nn_tensor *out, nn_params *p);

/* A node this build cannot run: its description and why, as shape inference
 * words its own failures. */
#define UNSUPPORTED(...) nn_shape_fail(m, n, Q_ERR_UNSUPPORTED, __VA_ARGS__)

static kc_act node_act(const nn_node *n) {
    return (kc_act){(kc_act_kind)n->act, n->act_a, n->act_b};
}

static int64_t numel_of(const nn_tensor *t) {
    return nn_numel(t->ndim, t->dims);
}

static q_status params_conv(const nn_model *m, const nn_node *n, const nn_tensor *in,
                            const nn_tensor *out, nn_params *p) {
    nn_geom g;
    q_status st = nn_geom_get(m, n, in[1].dims, &g);
    if (st) return st;
    nn_conv_params *c = &p->u.conv;
    c->s = (kc_conv_shape){(int)in[0].dims[0],
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
    c->act = node_act(n);
    c->bias = n->nin > 2 && n->in[2] >= 0;
    if (n->post_scale >= 0) {
        const nn_value *v = &m->vals[n->post_scale];
        c->post_scale = v->cdata;
        c->scale_n = (int)nn_numel(v->ndim, v->dims);
        c->post_n = c->scale_n;
    }
    if (n->post_shift >= 0) {
        const nn_value *v = &m->vals[n->post_shift];
        c->post_shift = v->cdata;
        c->shift_n = (int)nn_numel(v->ndim, v->dims);
        /* One scalar for both, or both per channel: keep them consistent. */
        c->post_n = c->post_scale && c->shift_n != c->scale_n ? -1 : c->shift_n;
    }
    if ((c->post_scale || c->post_shift) && c->post_n != 1 && c->post_n != c->s.c_out)
        return UNSUPPORTED("the fused scale and shift are neither scalars nor per channel");
    const nn_q8 *q = m->q8 ? &m->q8[n - m->nodes] : NULL;
    if (q && q->on && n->op == NN_OP_CONV) {
        c->int8 = q->on;
        c->smooth = q->smooth;
    }
    return Q_OK;
}

static q_status params_conv_transpose(const nn_model *m, const nn_node *n, const nn_tensor *in,
                                      const nn_tensor *out, nn_params *p) {
    return params_conv(m, n, in, out, p);
}

static q_status params_batch_norm(const nn_model *m, const nn_node *n, const nn_tensor *in,
                                  const nn_tensor *out, nn_params *p) {
    (void)m;
    (void)out;
    p->u.bn.eps = nn_attr_float(n, "epsilon", 1e-5f);
    p->u.bn.n = in[0].dims[0];
    p->u.bn.ch = in[0].dims[1];
    p->u.bn.inner = nn_numel(in[0].ndim - 2, in[0].dims + 2);
    return Q_OK;
}

static q_status params_act(const nn_model *m, const nn_node *n, const nn_tensor *in,
                           const nn_tensor *out, nn_params *p) {
    (void)m;
    (void)in;
    p->u.unary.op = n->op == NN_OP_SQRT ? KC_UN_SQRT : KC_UN_ACT;
    p->u.unary.act = n->op == NN_OP_SQRT ? (kc_act){KC_ACT_NONE, 0, 0} : node_act(n);
    p->u.unary.n = (size_t)numel_of(out);
    return Q_OK;
}

static q_status params_sqrt(const nn_model *m, const nn_node *n, const nn_tensor *in,
                            const nn_tensor *out, nn_params *p) {
    return params_act(m, n, in, out, p);
}

static q_status params_binary(const nn_model *m, const nn_node *n, const nn_tensor *in,
                              const nn_tensor *out, nn_params *p) {
    (void)m;
    p->u.bin.op = (kc_bin_op)(n->op - NN_OP_ADD);
    p->u.bin.ndim = out->ndim;
    memcpy(p->u.bin.od, out->dims, sizeof(int64_t) * (size_t)out->ndim);
    nn_align_dims(out->ndim, in[0].ndim, in[0].dims, p->u.bin.ad);
    nn_align_dims(out->ndim, in[1].ndim, in[1].dims, p->u.bin.bd);
    return Q_OK;
}

static q_status params_matmul(const nn_model *m, const nn_node *n, const nn_tensor *in,
                              const nn_tensor *out, nn_params *p) {
    const nn_tensor *a = &in[0], *b = &in[1];
    kc_matmul_shape *s = &p->u.mm.s;
    s->m = a->dims[a->ndim - 2];
    s->k = a->dims[a->ndim - 1];
    s->n = b->dims[b->ndim - 1];
    s->batch = nn_numel(out->ndim - 2, out->dims);
    int64_t ab = nn_numel(a->ndim - 2, a->dims), bb = nn_numel(b->ndim - 2, b->dims);
    /* Batches: each side either one matrix or all of them (no partial
     * broadcasting such as [2,1,..] x [1,3,..]). */
    if ((ab != 1 && ab != s->batch) || (bb != 1 && bb != s->batch))
        return UNSUPPORTED("batch dimensions broadcast only partly");
    s->a_stride = ab == 1 ? 0 : s->m * s->k;
    s->b_stride = bb == 1 ? 0 : s->k * s->n;
    const nn_q8 *q = m->q8 ? &m->q8[n - m->nodes] : NULL;
    /* int8.c marks only MatMuls whose B is one constant matrix; A's rows
     * are consecutive (one batch, whose stride is 0, or A per batch) */
    p->u.mm.int8 = q && q->on && s->b_stride == 0 && (s->batch == 1 || s->a_stride == s->m * s->k);
    p->u.mm.post =
        (kc_qmat_post){n->post_shift >= 0 ? m->vals[n->post_shift].cdata : NULL, n->softmax};
    if ((p->u.mm.post.bias || p->u.mm.post.softmax) && !p->u.mm.int8)
        return UNSUPPORTED("a fused bias or softmax on a MatMul that is not int8");
    return Q_OK;
}

static q_status params_softmax(const nn_model *m, const nn_node *n, const nn_tensor *in,
                               const nn_tensor *out, nn_params *p) {
    (void)out;
    int ax = nn_axis(nn_attr_int(n, "axis", m->opset < 13 ? 1 : -1), in[0].ndim);
    /* Before opset 13 Softmax flattens to [rows, cols] at the axis; from 13
     * on it is per axis, which the kernels do for the last one only. */
    if (ax < 0 || (m->opset >= 13 && ax != in[0].ndim - 1))
        return UNSUPPORTED("softmax over an axis other than the last");
    p->u.softmax.rows = nn_numel(ax, in[0].dims);
    p->u.softmax.cols = nn_numel(in[0].ndim - ax, in[0].dims + ax);
    return Q_OK;
}

/* ReduceMean's axes as one contiguous run [lo, hi]; -1 when not contiguous. */
static int reduce_run(const nn_node *n, const nn_tensor *in, int *lo, int *hi) {
    const int64_t *ax = NULL;
    int64_t na = 0;
    if (n->nin > 1 && n->in[1] >= 0) {
        if (!in[1].host) return -1;
        ax = in[1].host;
        na = numel_of(&in[1]);
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

static q_status params_reduce_mean(const nn_model *m, const nn_node *n, const nn_tensor *in,
                                   const nn_tensor *out, nn_params *p) {
    (void)out;
    int lo = 0, hi = 0;
    if (reduce_run(n, in, &lo, &hi)) return UNSUPPORTED("axes must be contiguous");
    const int64_t *d = in[0].dims;
    p->u.reduce.outer = nn_numel(lo, d);
    p->u.reduce.red = nn_numel(hi - lo + 1, d + lo);
    p->u.reduce.inner = nn_numel(in[0].ndim - hi - 1, d + hi + 1);
    return Q_OK;
}

static q_status params_global_avg_pool(const nn_model *m, const nn_node *n, const nn_tensor *in,
                                       const nn_tensor *out, nn_params *p) {
    (void)m;
    (void)n;
    (void)out;
    p->u.gap.planes = in[0].dims[0] * in[0].dims[1];
    p->u.gap.hw = nn_numel(in[0].ndim - 2, in[0].dims + 2);
    return Q_OK;
}

static q_status params_pool(const nn_model *m, const nn_node *n, const nn_tensor *in,
                            const nn_tensor *out, nn_params *p) {
    nn_geom g;
    q_status st = nn_geom_get(m, n, NULL, &g);
    if (st) return st;
    p->u.pool = (kc_pool_shape){in[0].dims[0] * in[0].dims[1],
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
    return Q_OK;
}

static int resize_modes(const nn_node *n, kc_coord_mode *cm, kc_nearest_mode *nm) {
    static const struct {
        const char *name;
        int mode;
    } coords[] = {{"half_pixel", KC_COORD_HALF_PIXEL},
                  {"asymmetric", KC_COORD_ASYMMETRIC},
                  {"align_corners", KC_COORD_ALIGN_CORNERS},
                  {"pytorch_half_pixel", KC_COORD_PYTORCH_HALF_PIXEL}},
      nearest[] = {{"round_prefer_floor", KC_NEAREST_ROUND_PREFER_FLOOR},
                   {"round_prefer_ceil", KC_NEAREST_ROUND_PREFER_CEIL},
                   {"floor", KC_NEAREST_FLOOR},
                   {"ceil", KC_NEAREST_CEIL}};
    const char *ct = nn_attr_str(n, "coordinate_transformation_mode", "half_pixel");
    const char *nr = nn_attr_str(n, "nearest_mode", "round_prefer_floor");
    if (strcmp(nn_attr_str(n, "mode", "nearest"), "nearest")) return -1;
    int c = -1, r = -1;
    for (size_t i = 0; i < Q_ARRAY_LEN(coords); i++)
        if (!strcmp(ct, coords[i].name)) c = coords[i].mode;
    for (size_t i = 0; i < Q_ARRAY_LEN(nearest); i++)
        if (!strcmp(nr, nearest[i].name)) r = nearest[i].mode;
    if (c < 0 || r < 0) return -1;
    *cm = (kc_coord_mode)c;
    *nm = (kc_nearest_mode)r;
    return 0;
}

static q_status params_resize(const nn_model *m, const nn_node *n, const nn_tensor *in,
                              const nn_tensor *out, nn_params *p) {
    kc_resize_shape *s = &p->u.resize;
    *s = (kc_resize_shape){in[0].dims[0] * in[0].dims[1],
                           (int)in[0].dims[2],
                           (int)in[0].dims[3],
                           (int)out->dims[2],
                           (int)out->dims[3],
                           0,
                           0,
                           0,
                           0};
    if (resize_modes(n, &s->coord, &s->nearest)) return UNSUPPORTED("mode not supported");
    s->scale_h = (float)s->h_out / (float)s->h_in;
    s->scale_w = (float)s->w_out / (float)s->w_in;
    /* The given scales, not out/in, define the coordinate transform. */
    const nn_tensor *sc = n->nin == 2 ? &in[1] : (n->nin >= 3 ? &in[2] : NULL);
    if (sc && sc->host && sc->dtype == NN_DT_F32 && numel_of(sc) == 4) {
        s->scale_h = ((const float *)sc->host)[2];
        s->scale_w = ((const float *)sc->host)[3];
    }
    return Q_OK;
}

static q_status params_concat(const nn_model *m, const nn_node *n, const nn_tensor *in,
                              const nn_tensor *out, nn_params *p) {
    (void)m;
    int ax = nn_axis(nn_attr_int(n, "axis", 0), out->ndim);
    p->u.concat.outer = nn_numel(ax, out->dims);
    p->u.concat.inner = nn_numel(out->ndim - ax - 1, out->dims + ax + 1);
    p->u.concat.out_axis = out->dims[ax];
    p->u.concat.nparts = n->nin;
    for (int k = 0; k < n->nin; k++)
        p->u.concat.part[k] = in[k].dims[ax];
    return Q_OK;
}

static q_status params_transpose(const nn_model *m, const nn_node *n, const nn_tensor *in,
                                 const nn_tensor *out, nn_params *p) {
    (void)out;
    if (nn_transpose_perm(n, in[0].ndim, p->u.transpose.perm))
        return UNSUPPORTED("perm is not a permutation");
    p->u.transpose.ndim = in[0].ndim;
    memcpy(p->u.transpose.dims, in[0].dims, sizeof(int64_t) * (size_t)in[0].ndim);
    return Q_OK;
}

static q_status params_slice(const nn_model *m, const nn_node *n, const nn_tensor *in,
                             const nn_tensor *out, nn_params *p) {
    const int64_t *hosts[4] = {NULL, NULL, NULL, NULL};
    int64_t counts[4] = {0, 0, 0, 0}, od[NN_MAX_DIMS];
    for (int k = 1; k < n->nin && k <= 4; k++)
        if (n->in[k] >= 0) {
            hosts[k - 1] = in[k].host;
            counts[k - 1] = numel_of(&in[k]);
        }
    p->u.slice.ndim = in[0].ndim;
    memcpy(p->u.slice.in_dims, in[0].dims, sizeof(int64_t) * (size_t)in[0].ndim);
    memcpy(p->u.slice.out_dims, out->dims, sizeof(int64_t) * (size_t)out->ndim);
    return nn_slice_resolve(m, n, in[0].ndim, in[0].dims, hosts, counts, p->u.slice.starts,
                            p->u.slice.steps, od);
}

/* Reshape and friends share their input's bytes: the plan never runs them;
 * a backend asked to anyway copies. */
static q_status params_alias(const nn_model *m, const nn_node *n, const nn_tensor *in,
                             const nn_tensor *out, nn_params *p) {
    (void)m;
    (void)n;
    (void)in;
    p->u.alias.bytes = (size_t)numel_of(out) * sizeof(float);
    return Q_OK;
}

static q_status params_host_only(const nn_model *m, const nn_node *n, const nn_tensor *in,
                                 const nn_tensor *out, nn_params *p) {
    (void)in;
    (void)out;
    (void)p;
    return UNSUPPORTED("must be folded before the run");
}

static const params_fn params_fns[NN_OP_COUNT] = {
#define NN_OP(id, onnx, kernel, shape) [NN_OP_##id] = params_##kernel,
#include "nn/ops.def"
#undef NN_OP
};

q_status nn_params_build(const nn_model *m, const nn_node *n, const nn_tensor *in,
                         const nn_tensor *out, nn_params *p) {
    memset(p, 0, sizeof(*p));
    p->op = n->op;
    for (int k = 0; k < n->nin; k++)
        if (n->in[k] >= 0 && in[k].dtype != NN_DT_F32 && !in[k].host)
            return UNSUPPORTED("integer input '%s' at run time", m->vals[n->in[k]].name);
    return params_fns[n->op](m, n, in, out, p);
}

q_status nn_params_check(const nn_model *m, const nn_node *n) {
    kc_coord_mode cm;
    kc_nearest_mode nm;
    if (n->op == NN_OP_RESIZE && resize_modes(n, &cm, &nm))
        return UNSUPPORTED("mode '%s' (coordinates '%s', nearest '%s') is not supported",
                           nn_attr_str(n, "mode", "nearest"),
                           nn_attr_str(n, "coordinate_transformation_mode", "half_pixel"),
                           nn_attr_str(n, "nearest_mode", "round_prefer_floor"));
    return Q_OK;
}
