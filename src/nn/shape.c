/* Shape inference for one node given its inputs' shapes, and evaluation on
 * the host of the nodes whose inputs are all known (shape arithmetic such as
 * Shape -> Cast -> Slice -> Concat -> Reshape). Used by the load-time constant
 * folding and by every plan. One function per ops.def `shape` stem: this file
 * the dispatch, the helpers and the compute ops; shape_data.c the rest. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/kc.h"
#include "nn/shape.h"

static const nn_shape_fn shape_fns[NN_OP_COUNT] = {
#define NN_OP(id, onnx, kernel, shape) [NN_OP_##id] = nn_shape_##shape,
#include "nn/ops.def"
#undef NN_OP
};

int nn_axis(int64_t axis, int ndim) {
    if (axis < 0) axis += ndim;
    return axis < 0 || axis >= ndim ? -1 : (int)axis;
}

q_status nn_shape_fail(const nn_model *m, const nn_node *n, q_status code, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return Q_FAIL(code, "%s: %s", nn_node_desc(m, n), msg);
}

void nn_shape_str(char *buf, size_t cap, int ndim, const int64_t *d) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, cap - o, "[");
    for (int i = 0; i < ndim && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? "," : "", (long long)d[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

const nn_pval *nn_shape_in(const nn_shape_ctx *c, int k) {
    return k < c->n->nin && c->n->in[k] >= 0 ? &c->pv[c->n->in[k]] : NULL;
}

q_status nn_shape_host_ints(const nn_shape_ctx *c, const nn_pval *p, const char *what,
                            const int64_t **v, int64_t *count) {
    *v = NULL; /* on error too: callers need not trust that an error status is nonzero */
    *count = 0;
    if (!p || !p->host)
        return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "%s must be known before the run", what);
    if (p->dtype != NN_DT_I64)
        return SHAPE_FAIL(Q_ERR_FORMAT, "%s must be an integer tensor", what);
    *v = p->host;
    *count = nn_numel(p->ndim, p->dims);
    return Q_OK;
}

q_status nn_shape_axes(const nn_shape_ctx *c, const int64_t **ax, int64_t *na) {
    *ax = NULL;
    *na = 0;
    const nn_pval *a = nn_shape_in(c, 1);
    if (a) return nn_shape_host_ints(c, a, "axes", ax, na);
    const int64_t *v;
    *na = nn_attr_ints(c->n, "axes", &v);
    *ax = v;
    return Q_OK;
}

void nn_shape_set_out(nn_pval *o, nn_dtype dt, int ndim, const int64_t *dims) {
    o->dtype = dt;
    o->ndim = ndim;
    if (ndim) memmove(o->dims, dims, sizeof(int64_t) * (size_t)ndim);
}

void *nn_shape_out_alloc(nn_pval *o) {
    size_t bytes = (size_t)nn_numel(o->ndim, o->dims) * nn_dtype_size(o->dtype);
    o->host = calloc(bytes ? bytes : 1, 1);
    o->owns_host = o->host != NULL;
    if (!o->host) Q_FAIL(Q_ERR_NOMEM, "out of memory folding constants");
    return o->host;
}

q_status nn_shape_done(nn_shape_ctx *c) {
    *c->host_done = c->host && c->o->host;
    return Q_OK;
}

q_status nn_shape_alias(nn_shape_ctx *c, int nd, const int64_t *d) {
    nn_shape_set_out(c->o, c->x->dtype, nd, d);
    if (c->x->host) {
        /* Same bytes, new shape: share the host copy. */
        c->o->host = c->x->host;
        c->o->owns_host = 0;
        *c->host_done = 1;
    }
    return Q_OK;
}

static int op_is_shape_arith(nn_op op) {
    switch (op) {
    case NN_OP_SHAPE:
    case NN_OP_GATHER:
    case NN_OP_CAST:
    case NN_OP_CONCAT:
    case NN_OP_SLICE:
    case NN_OP_SQUEEZE:
    case NN_OP_UNSQUEEZE:
    case NN_OP_RESHAPE:
    case NN_OP_FLATTEN:
    case NN_OP_IDENTITY:
    case NN_OP_CONSTANT:
        return 1;
    default:
        return 0;
    }
}

static int op_host_eval(nn_op op) {
    switch (op) {
    case NN_OP_ADD:
    case NN_OP_SUB:
    case NN_OP_MUL:
    case NN_OP_DIV:
    case NN_OP_POW:
    case NN_OP_SQRT:
    case NN_OP_RELU:
    case NN_OP_CLIP:
    case NN_OP_SIGMOID:
    case NN_OP_HARD_SIGMOID:
    case NN_OP_TRANSPOSE:
        return 1;
    default:
        return op_is_shape_arith(op);
    }
}

q_status nn_shape_node(nn_model *m, int ni, nn_pval *pv, int force, int *host_done) {
    nn_node *n = &m->nodes[ni];
    nn_shape_ctx ctx = {m, n, pv, &pv[n->out], NULL, 1, 0, host_done}, *c = &ctx;
    *host_done = 0;
    c->x = nn_shape_in(c, 0);
    if (n->nin < 1 || !c->x) return SHAPE_FAIL(Q_ERR_FORMAT, "missing input");
    for (int k = 0; k < n->nin; k++) {
        if (n->in[k] < 0) continue;
        if (!pv[n->in[k]].dtype)
            return SHAPE_FAIL(Q_ERR_FORMAT, "input '%s' is not computed before it is used",
                              m->vals[n->in[k]].name);
        if (!pv[n->in[k]].host) c->all_host = 0;
    }
    c->host = c->all_host && (force ? op_host_eval(n->op) : op_is_shape_arith(n->op));
    if ((unsigned)n->op >= NN_OP_COUNT) return SHAPE_FAIL(Q_ERR_INTERNAL, "unexpected node");
    return shape_fns[n->op](c);
}

#define GEOM_FAIL(code, ...) nn_shape_fail(m, n, code, __VA_ARGS__)
q_status nn_geom_get(const nn_model *m, const nn_node *n, const int64_t *w, nn_geom *g) {
    const int64_t *v;
    int c;
    memset(g, 0, sizeof(*g));
    g->sh = g->sw = g->dh = g->dw = 1;
    g->group = (int)nn_attr_int(n, "group", 1);
    if (w) {
        g->kh = (int)w[2];
        g->kw = (int)w[3];
    }
    if ((c = nn_attr_ints(n, "kernel_shape", &v)) == 2) {
        g->kh = (int)v[0];
        g->kw = (int)v[1];
    } else if (c)
        return GEOM_FAIL(Q_ERR_UNSUPPORTED, "only 2-D kernels are supported");
    if ((c = nn_attr_ints(n, "strides", &v)) == 2) {
        g->sh = (int)v[0];
        g->sw = (int)v[1];
    }
    if ((c = nn_attr_ints(n, "dilations", &v)) == 2) {
        g->dh = (int)v[0];
        g->dw = (int)v[1];
    }
    if ((c = nn_attr_ints(n, "pads", &v)) == 4) {
        g->pt = (int)v[0];
        g->pl = (int)v[1];
        g->pb = (int)v[2];
        g->pr = (int)v[3];
    } else if (c)
        return GEOM_FAIL(Q_ERR_FORMAT, "pads has %d values, expected 4", c);
    if ((c = nn_attr_ints(n, "output_padding", &v)) == 2) {
        g->oph = (int)v[0];
        g->opw = (int)v[1];
    }
    g->ceil_mode = (int)nn_attr_int(n, "ceil_mode", 0);
    const char *ap = nn_attr_str(n, "auto_pad", "NOTSET");
    if (strcmp(ap, "NOTSET") && strcmp(ap, "VALID"))
        return GEOM_FAIL(Q_ERR_UNSUPPORTED, "auto_pad=%s is not supported", ap);
    /* The kernels index the weights with these sizes: they must agree. */
    if (w && (g->kh != w[2] || g->kw != w[3]))
        return GEOM_FAIL(Q_ERR_FORMAT, "kernel_shape %dx%d disagrees with the %lldx%lld weights",
                         g->kh, g->kw, (long long)w[2], (long long)w[3]);
    if (nn_attr_find(n, "output_shape"))
        return GEOM_FAIL(Q_ERR_UNSUPPORTED, "output_shape is not supported");
    if (g->kh < 1 || g->kw < 1 || g->sh < 1 || g->sw < 1 || g->dh < 1 || g->dw < 1 || g->pt < 0 ||
        g->pl < 0 || g->pb < 0 || g->pr < 0 || g->group < 1 || g->kh > 1024 || g->kw > 1024 ||
        g->sh > 1024 || g->sw > 1024 || g->pt > 1024 || g->pb > 1024 || g->pl > 1024 ||
        g->pr > 1024 || g->dh > 1024 || g->dw > 1024 || g->oph < 0 || g->opw < 0)
        return GEOM_FAIL(Q_ERR_FORMAT, "invalid kernel, stride, dilation, pad or group");
    return Q_OK;
}

q_status nn_shape_conv(nn_shape_ctx *c) {
    const nn_pval *x = c->x, *w = nn_shape_in(c, 1), *b = nn_shape_in(c, 2);
    int64_t d[4];
    if (!w) return SHAPE_FAIL(Q_ERR_FORMAT, "needs a weight input");
    if (x->ndim != 4 || w->ndim != 4)
        return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "only 2-D convolutions (4-D tensors) are supported");
    nn_geom g;
    q_status s = nn_geom_get(c->m, c->n, w->dims, &g);
    if (s) return s;
    int64_t cin = x->dims[1], cout;
    if (c->n->op == NN_OP_CONV) {
        cout = w->dims[0];
        if (w->dims[1] * g.group != cin || cout % g.group)
            return SHAPE_FAIL(Q_ERR_USAGE, "input has %lld channels, weights expect %lld",
                              (long long)cin, (long long)(w->dims[1] * g.group));
        d[2] = (x->dims[2] + g.pt + g.pb - (int64_t)g.dh * (g.kh - 1) - 1) / g.sh + 1;
        d[3] = (x->dims[3] + g.pl + g.pr - (int64_t)g.dw * (g.kw - 1) - 1) / g.sw + 1;
    } else {
        cout = w->dims[1] * g.group;
        if (w->dims[0] != cin || cin % g.group)
            return SHAPE_FAIL(Q_ERR_USAGE, "input has %lld channels, weights expect %lld",
                              (long long)cin, (long long)w->dims[0]);
        d[2] = (x->dims[2] - 1) * g.sh - g.pt - g.pb + (int64_t)g.dh * (g.kh - 1) + 1 + g.oph;
        d[3] = (x->dims[3] - 1) * g.sw - g.pl - g.pr + (int64_t)g.dw * (g.kw - 1) + 1 + g.opw;
    }
    if (d[2] < 1 || d[3] < 1)
        return SHAPE_FAIL(Q_ERR_USAGE, "input %lldx%lld is too small for the kernel",
                          (long long)x->dims[2], (long long)x->dims[3]);
    if (b && nn_numel(b->ndim, b->dims) != cout)
        return SHAPE_FAIL(Q_ERR_FORMAT, "bias size differs from the output channels");
    d[0] = x->dims[0];
    d[1] = cout;
    nn_shape_set_out(c->o, NN_DT_F32, 4, d);
    return Q_OK;
}

q_status nn_shape_batch_norm(nn_shape_ctx *c) {
    const nn_pval *x = c->x;
    if (c->n->nin < 5 || x->ndim < 2)
        return SHAPE_FAIL(Q_ERR_FORMAT, "needs 5 inputs and a channel axis");
    for (int k = 1; k < 5; k++) {
        const nn_pval *p = nn_shape_in(c, k);
        if (!p || !p->host || nn_numel(p->ndim, p->dims) != x->dims[1])
            return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "parameters must be constants of size C");
    }
    nn_shape_set_out(c->o, NN_DT_F32, x->ndim, x->dims);
    return Q_OK;
}

/* Activations and Sqrt. */
q_status nn_shape_unary(nn_shape_ctx *c) {
    const nn_pval *x = c->x;
    nn_pval *o = c->o;
    if (x->dtype != NN_DT_F32) return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "integer input");
    nn_shape_set_out(o, NN_DT_F32, x->ndim, x->dims);
    if (c->host) {
        float *y = nn_shape_out_alloc(o);
        if (!y) return Q_ERR_NOMEM;
        kc_act act = {(kc_act_kind)c->n->act, c->n->act_a, c->n->act_b};
        kc_unary_ref(c->n->op == NN_OP_SQRT ? KC_UN_SQRT : KC_UN_ACT, act, x->host, y,
                     (size_t)nn_numel(o->ndim, o->dims));
    }
    return nn_shape_done(c);
}

static int bcast(int na, const int64_t *a, int nb, const int64_t *b, int *nd, int64_t *d) {
    *nd = na > nb ? na : nb;
    for (int i = 0; i < *nd; i++) {
        int64_t x = i - (*nd - na) >= 0 ? a[i - (*nd - na)] : 1;
        int64_t y = i - (*nd - nb) >= 0 ? b[i - (*nd - nb)] : 1;
        if (x != y && x != 1 && y != 1) return -1;
        d[i] = x == 1 ? y : x;
    }
    return 0;
}

void nn_align_dims(int nd, int n, const int64_t *src, int64_t *dst) {
    for (int i = 0; i < nd; i++)
        dst[i] = i - (nd - n) >= 0 ? src[i - (nd - n)] : 1;
}

static void binary_i64(nn_op op, int nd, const int64_t *od, const int64_t *a, const int64_t *ad,
                       const int64_t *b, const int64_t *bd, int64_t *y) {
    int64_t total = nn_numel(nd, od);
    for (int64_t i = 0; i < total; i++) {
        int64_t rem = i, ai = 0, bi = 0, am = 1, bm = 1;
        for (int d = nd - 1; d >= 0; d--) {
            int64_t idx = rem % od[d];
            rem /= od[d];
            ai += (ad[d] == 1 ? 0 : idx) * am;
            bi += (bd[d] == 1 ? 0 : idx) * bm;
            am *= ad[d];
            bm *= bd[d];
        }
        int64_t x = a[ai], z = b[bi];
        y[i] = op == NN_OP_ADD   ? x + z
               : op == NN_OP_SUB ? x - z
               : op == NN_OP_MUL ? x * z
               : z != 0          ? x / z
                                 : 0;
    }
}

q_status nn_shape_binary(nn_shape_ctx *c) {
    const nn_pval *x = c->x, *b = nn_shape_in(c, 1);
    nn_pval *o = c->o;
    int64_t d[NN_MAX_DIMS];
    int nd;
    if (!b) return SHAPE_FAIL(Q_ERR_FORMAT, "needs two inputs");
    if (bcast(x->ndim, x->dims, b->ndim, b->dims, &nd, d)) {
        char sa[96], sb[96];
        nn_shape_str(sa, sizeof(sa), x->ndim, x->dims);
        nn_shape_str(sb, sizeof(sb), b->ndim, b->dims);
        return SHAPE_FAIL(Q_ERR_USAGE, "shapes %s and %s do not broadcast", sa, sb);
    }
    if (x->dtype != b->dtype)
        return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "mixed integer and float inputs");
    nn_shape_set_out(o, x->dtype, nd, d);
    if (o->dtype == NN_DT_I64 && c->n->op != NN_OP_POW && c->all_host) c->host = 1;
    if (c->host) {
        int64_t ad[NN_MAX_DIMS], bd[NN_MAX_DIMS];
        nn_align_dims(nd, x->ndim, x->dims, ad);
        nn_align_dims(nd, b->ndim, b->dims, bd);
        void *y = nn_shape_out_alloc(o);
        if (!y) return Q_ERR_NOMEM;
        if (o->dtype == NN_DT_F32)
            kc_binary_ref((kc_bin_op)(c->n->op - NN_OP_ADD), nd, d, x->host, ad, b->host, bd, y);
        else
            binary_i64(c->n->op, nd, d, x->host, ad, b->host, bd, y);
    }
    return nn_shape_done(c);
}

q_status nn_shape_matmul(nn_shape_ctx *c) {
    const nn_pval *x = c->x, *b = nn_shape_in(c, 1);
    int64_t d[NN_MAX_DIMS + 2];
    int nd;
    if (!b || x->ndim < 2 || b->ndim < 2)
        return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "only matrices (2 or more dimensions) are supported");
    if (x->dims[x->ndim - 1] != b->dims[b->ndim - 2])
        return SHAPE_FAIL(Q_ERR_USAGE, "inner dimensions %lld and %lld differ",
                          (long long)x->dims[x->ndim - 1], (long long)b->dims[b->ndim - 2]);
    if (bcast(x->ndim - 2, x->dims, b->ndim - 2, b->dims, &nd, d))
        return SHAPE_FAIL(Q_ERR_USAGE, "batch dimensions do not broadcast");
    d[nd] = x->dims[x->ndim - 2];
    d[nd + 1] = b->dims[b->ndim - 1];
    if (nd + 2 > NN_MAX_DIMS) return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "too many dimensions");
    nn_shape_set_out(c->o, NN_DT_F32, nd + 2, d);
    return Q_OK;
}

q_status nn_shape_softmax(nn_shape_ctx *c) {
    int ax = nn_axis(nn_attr_int(c->n, "axis", c->m->opset < 13 ? 1 : -1), c->x->ndim);
    if (ax < 0) return SHAPE_FAIL(Q_ERR_FORMAT, "axis out of range");
    nn_shape_set_out(c->o, NN_DT_F32, c->x->ndim, c->x->dims);
    return Q_OK;
}

q_status nn_shape_reduce_mean(nn_shape_ctx *c) {
    const nn_pval *x = c->x;
    const int64_t *ax;
    int64_t na, d[NN_MAX_DIMS];
    int nd = 0;
    q_status s = nn_shape_axes(c, &ax, &na);
    if (s) return s;
    int keep = (int)nn_attr_int(c->n, "keepdims", 1), red[NN_MAX_DIMS] = {0};
    for (int64_t i = 0; i < na; i++) {
        int a = nn_axis(ax[i], x->ndim);
        if (a < 0) return SHAPE_FAIL(Q_ERR_FORMAT, "axis out of range");
        red[a] = 1;
    }
    for (int i = 0; i < x->ndim; i++) {
        if (na == 0 || red[i]) {
            if (keep) d[nd++] = 1;
        } else
            d[nd++] = x->dims[i];
    }
    nn_shape_set_out(c->o, NN_DT_F32, nd, d);
    return Q_OK;
}

q_status nn_shape_global_avg_pool(nn_shape_ctx *c) {
    const nn_pval *x = c->x;
    int64_t d[NN_MAX_DIMS];
    if (x->ndim < 3) return SHAPE_FAIL(Q_ERR_USAGE, "needs N, C and spatial axes");
    for (int i = 0; i < x->ndim; i++)
        d[i] = i < 2 ? x->dims[i] : 1;
    nn_shape_set_out(c->o, NN_DT_F32, x->ndim, d);
    return Q_OK;
}

q_status nn_shape_pool(nn_shape_ctx *c) {
    const nn_pval *x = c->x;
    int64_t d[4];
    if (x->ndim != 4) return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "only 2-D pooling is supported");
    nn_geom g;
    q_status s = nn_geom_get(c->m, c->n, NULL, &g);
    if (s) return s;
    for (int k = 0; k < 2; k++) {
        int64_t in = x->dims[2 + k], pad = k ? g.pl + g.pr : g.pt + g.pb;
        int kk = k ? g.kw : g.kh, st = k ? g.sw : g.sh, dil = k ? g.dw : g.dh;
        int64_t span = in + pad - (int64_t)dil * (kk - 1) - 1;
        d[2 + k] = (g.ceil_mode ? (span + st - 1) / st : span / st) + 1;
        if (span < 0) return SHAPE_FAIL(Q_ERR_USAGE, "input is smaller than the pooling window");
    }
    if (g.dh != 1 || g.dw != 1)
        return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "dilated pooling is not supported");
    d[0] = x->dims[0];
    d[1] = x->dims[1];
    nn_shape_set_out(c->o, NN_DT_F32, 4, d);
    return Q_OK;
}

/* Resize's scales input (1 or 2, when it holds values), else NULL. */
static const nn_pval *resize_scales(const nn_node *n, const nn_pval *pv) {
    if (n->nin == 2 && n->in[1] >= 0) return &pv[n->in[1]];
    if (n->nin >= 3 && n->in[2] >= 0 && nn_numel(pv[n->in[2]].ndim, pv[n->in[2]].dims) > 0)
        return &pv[n->in[2]];
    return NULL;
}

q_status nn_shape_resize(nn_shape_ctx *c) {
    const nn_pval *x = c->x, *sc = resize_scales(c->n, c->pv), *sz = nn_shape_in(c, 3);
    int64_t d[4];
    if (x->ndim != 4) return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "only 4-D Resize is supported");
    if (sz && nn_numel(sz->ndim, sz->dims) == 0) sz = NULL;
    if (sz) {
        const int64_t *v;
        int64_t cnt;
        q_status s = nn_shape_host_ints(c, sz, "sizes", &v, &cnt);
        if (s) return s;
        if (cnt != 4 || v[0] != x->dims[0] || v[1] != x->dims[1] || v[2] < 1 || v[3] < 1)
            return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "sizes must keep N and C");
        memcpy(d, v, sizeof(int64_t) * 4);
    } else if (sc && sc->host && sc->dtype == NN_DT_F32 && nn_numel(sc->ndim, sc->dims) == 4) {
        const float *f = sc->host;
        if (f[0] != 1.f || f[1] != 1.f || !(f[2] > 0.f) || !(f[3] > 0.f) || f[2] > 1024.f ||
            f[3] > 1024.f)
            return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "scales must keep N and C");
        d[0] = x->dims[0];
        d[1] = x->dims[1];
        d[2] = (int64_t)((float)x->dims[2] * f[2]);
        d[3] = (int64_t)((float)x->dims[3] * f[3]);
        if (d[2] < 1 || d[3] < 1) return SHAPE_FAIL(Q_ERR_USAGE, "empty output");
    } else
        return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "needs constant scales or sizes");
    nn_shape_set_out(c->o, NN_DT_F32, 4, d);
    return Q_OK;
}

q_status nn_shape_constant(nn_shape_ctx *c) {
    return SHAPE_FAIL(Q_ERR_INTERNAL, "unexpected node");
}
