/* Shape inference for one node given its inputs' shapes, and evaluation on
 * the host of the nodes whose inputs are all known (shape arithmetic such as
 * Shape -> Cast -> Slice -> Concat -> Reshape). Used by the load-time constant
 * folding and by every plan. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/kc.h"
#include "nn/nn_private.h"

int nn_axis(int64_t axis, int ndim) {
    if (axis < 0) axis += ndim;
    return axis < 0 || axis >= ndim ? -1 : (int)axis;
}

#define FAIL_NODE(code, ...) fail_node(m, n, code, __VA_ARGS__)
static q_status fail_node(const nn_model *m, const nn_node *n, q_status code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static q_status fail_node(const nn_model *m, const nn_node *n, q_status code, const char *fmt,
                          ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return Q_FAIL(code, "%s: %s", nn_node_desc(m, n), msg);
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *d) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, cap - o, "[");
    for (int i = 0; i < ndim && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? "," : "", (long long)d[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

q_status nn_geom_get(const nn_model *m, const nn_node *n, const int64_t *x, const int64_t *w,
                     nn_geom *g) {
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
        return FAIL_NODE(Q_ERR_UNSUPPORTED, "only 2-D kernels are supported");
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
        return FAIL_NODE(Q_ERR_FORMAT, "pads has %d values, expected 4", c);
    if ((c = nn_attr_ints(n, "output_padding", &v)) == 2) {
        g->oph = (int)v[0];
        g->opw = (int)v[1];
    }
    g->ceil_mode = (int)nn_attr_int(n, "ceil_mode", 0);
    const char *ap = nn_attr_str(n, "auto_pad", "NOTSET");
    if (strcmp(ap, "NOTSET") && strcmp(ap, "VALID"))
        return FAIL_NODE(Q_ERR_UNSUPPORTED, "auto_pad=%s is not supported", ap);
    /* The kernels index the weights with these sizes: they must agree. */
    if (w && (g->kh != w[2] || g->kw != w[3]))
        return FAIL_NODE(Q_ERR_FORMAT, "kernel_shape %dx%d disagrees with the %lldx%lld weights",
                         g->kh, g->kw, (long long)w[2], (long long)w[3]);
    if (nn_attr_find(n, "output_shape"))
        return FAIL_NODE(Q_ERR_UNSUPPORTED, "output_shape is not supported");
    if (g->kh < 1 || g->kw < 1 || g->sh < 1 || g->sw < 1 || g->dh < 1 || g->dw < 1 || g->pt < 0 ||
        g->pl < 0 || g->pb < 0 || g->pr < 0 || g->group < 1 || g->kh > 1024 || g->kw > 1024 ||
        g->sh > 1024 || g->sw > 1024 || g->pt > 1024 || g->pb > 1024 || g->pl > 1024 ||
        g->pr > 1024 || g->dh > 1024 || g->dw > 1024 || g->oph < 0 || g->opw < 0)
        return FAIL_NODE(Q_ERR_FORMAT, "invalid kernel, stride, dilation, pad or group");
    (void)x;
    return Q_OK;
}

/* Reads a host-known int tensor (shape arithmetic) as int64 values. */
static q_status host_ints(const nn_model *m, const nn_node *n, const nn_pval *p, const char *what,
                          const int64_t **v, int64_t *count) {
    *v = NULL; /* on error too: callers need not trust that an error status is nonzero */
    *count = 0;
    if (!p || !p->host)
        return FAIL_NODE(Q_ERR_UNSUPPORTED, "%s must be known before the run", what);
    if (p->dtype != NN_DT_I64) return FAIL_NODE(Q_ERR_FORMAT, "%s must be an integer tensor", what);
    *v = p->host;
    *count = nn_numel(p->ndim, p->dims);
    return Q_OK;
}

static q_status set_out(nn_pval *o, nn_dtype dt, int ndim, const int64_t *dims) {
    o->dtype = dt;
    o->ndim = ndim;
    if (ndim) memmove(o->dims, dims, sizeof(int64_t) * (size_t)ndim);
    return Q_OK;
}

/* Allocates host storage for the output of a host-evaluated node. */
static void *out_alloc(nn_pval *o) {
    size_t bytes = (size_t)nn_numel(o->ndim, o->dims) * nn_dtype_size(o->dtype);
    o->host = calloc(bytes ? bytes : 1, 1);
    o->owns_host = o->host != NULL;
    if (!o->host) Q_FAIL(Q_ERR_NOMEM, "out of memory folding constants");
    return o->host;
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

static void align_dims(int nd, int n, const int64_t *src, int64_t *dst) {
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

/* Slice parameters resolved against the input dims. `hosts`/`counts` are the
 * host contents of inputs 1..4 (starts, ends, axes, steps) for opset >= 10. */
q_status nn_slice_resolve(const nn_model *m, const nn_node *n, int ndim, const int64_t *dims,
                          const int64_t *const *hosts, const int64_t *counts, int64_t *starts,
                          int64_t *steps, int64_t *od) {
    const int64_t *st = NULL, *en = NULL, *ax = NULL, *sp = NULL;
    int64_t ns = 0, ne = 0, na = 0, nsp = 0;
    if (m->opset < 10) {
        ns = nn_attr_ints(n, "starts", &st);
        ne = nn_attr_ints(n, "ends", &en);
        na = nn_attr_ints(n, "axes", &ax);
    } else {
        st = hosts[0], ns = counts[0];
        en = hosts[1], ne = counts[1];
        ax = hosts[2], na = counts[2];
        sp = hosts[3], nsp = counts[3];
        if (!st || !en)
            return FAIL_NODE(Q_ERR_UNSUPPORTED, "starts and ends must be known before the run");
    }
    if (ns != ne || (ax && na != ns) || (sp && nsp != ns) || ns > ndim)
        return FAIL_NODE(Q_ERR_FORMAT, "starts/ends/axes/steps disagree");
    for (int d = 0; d < ndim; d++) {
        starts[d] = 0;
        steps[d] = 1;
        od[d] = dims[d];
    }
    for (int64_t i = 0; i < ns; i++) {
        int d = nn_axis(ax ? ax[i] : i, ndim);
        int64_t dim = dims[d < 0 ? 0 : d], step = sp ? sp[i] : 1;
        if (d < 0 || step == 0) return FAIL_NODE(Q_ERR_FORMAT, "bad slice axis or step");
        int64_t b = st[i], e = en[i];
        if (b < 0) b += dim;
        if (e < 0) e += dim;
        if (step > 0) {
            b = b < 0 ? 0 : (b > dim ? dim : b);
            e = e < 0 ? 0 : (e > dim ? dim : e);
            od[d] = e > b ? (e - b + step - 1) / step : 0;
        } else {
            b = b < 0 ? -1 : (b > dim - 1 ? dim - 1 : b);
            e = e < -1 ? -1 : (e > dim - 1 ? dim - 1 : e);
            od[d] = b > e ? (b - e + (-step) - 1) / (-step) : 0;
        }
        starts[d] = b;
        steps[d] = step;
    }
    return Q_OK;
}

static q_status slice_params(nn_model *m, nn_node *n, nn_pval *pv, const nn_pval *x,
                             int64_t *starts, int64_t *steps, int64_t *od) {
    const int64_t *hosts[4] = {NULL, NULL, NULL, NULL};
    int64_t counts[4] = {0, 0, 0, 0};
    for (int k = 1; k < n->nin && k <= 4 && m->opset >= 10; k++) {
        if (n->in[k] < 0) continue;
        q_status s =
            host_ints(m, n, &pv[n->in[k]], "starts/ends/axes/steps", &hosts[k - 1], &counts[k - 1]);
        if (s) return s;
    }
    return nn_slice_resolve(m, n, x->ndim, x->dims, hosts, counts, starts, steps, od);
}

/* Axes of Squeeze/Unsqueeze/ReduceMean: attribute (older opsets) or input 1. */
static q_status axes_of(nn_model *m, nn_node *n, nn_pval *pv, const int64_t **ax, int64_t *na) {
    *ax = NULL;
    *na = 0;
    if (n->nin > 1 && n->in[1] >= 0) return host_ints(m, n, &pv[n->in[1]], "axes", ax, na);
    const int64_t *v;
    *na = nn_attr_ints(n, "axes", &v);
    *ax = v;
    return Q_OK;
}

q_status nn_shape_node(nn_model *m, int ni, nn_pval *pv, int force, int *host_done) {
    nn_node *n = &m->nodes[ni];
    nn_pval *o = &pv[n->out];
    const nn_pval *x = n->in[0] >= 0 ? &pv[n->in[0]] : NULL;
    int64_t d[NN_MAX_DIMS];
    int nd = 0;
    q_status s;
    *host_done = 0;
    if (n->nin < 1 || !x) return FAIL_NODE(Q_ERR_FORMAT, "missing input");
    int all_host = 1;
    for (int k = 0; k < n->nin; k++) {
        if (n->in[k] < 0) continue;
        if (!pv[n->in[k]].dtype)
            return FAIL_NODE(Q_ERR_FORMAT, "input '%s' is not computed before it is used",
                             m->vals[n->in[k]].name);
        if (!pv[n->in[k]].host) all_host = 0;
    }
    int host = all_host && (force ? op_host_eval(n->op) : op_is_shape_arith(n->op));
    switch (n->op) {
    case NN_OP_CONV:
    case NN_OP_CONV_TRANSPOSE: {
        if (n->nin < 2 || n->in[1] < 0) return FAIL_NODE(Q_ERR_FORMAT, "needs a weight input");
        const nn_pval *w = &pv[n->in[1]];
        if (x->ndim != 4 || w->ndim != 4)
            return FAIL_NODE(Q_ERR_UNSUPPORTED,
                             "only 2-D convolutions (4-D tensors) are supported");
        nn_geom g;
        if ((s = nn_geom_get(m, n, x->dims, w->dims, &g))) return s;
        int64_t cin = x->dims[1], cout;
        if (n->op == NN_OP_CONV) {
            cout = w->dims[0];
            if (w->dims[1] * g.group != cin || cout % g.group)
                return FAIL_NODE(Q_ERR_USAGE, "input has %lld channels, weights expect %lld",
                                 (long long)cin, (long long)(w->dims[1] * g.group));
            d[2] = (x->dims[2] + g.pt + g.pb - (int64_t)g.dh * (g.kh - 1) - 1) / g.sh + 1;
            d[3] = (x->dims[3] + g.pl + g.pr - (int64_t)g.dw * (g.kw - 1) - 1) / g.sw + 1;
        } else {
            cout = w->dims[1] * g.group;
            if (w->dims[0] != cin || cin % g.group)
                return FAIL_NODE(Q_ERR_USAGE, "input has %lld channels, weights expect %lld",
                                 (long long)cin, (long long)w->dims[0]);
            d[2] = (x->dims[2] - 1) * g.sh - g.pt - g.pb + (int64_t)g.dh * (g.kh - 1) + 1 + g.oph;
            d[3] = (x->dims[3] - 1) * g.sw - g.pl - g.pr + (int64_t)g.dw * (g.kw - 1) + 1 + g.opw;
        }
        if (d[2] < 1 || d[3] < 1)
            return FAIL_NODE(Q_ERR_USAGE, "input %lldx%lld is too small for the kernel",
                             (long long)x->dims[2], (long long)x->dims[3]);
        if (n->nin > 2 && n->in[2] >= 0 && nn_numel(pv[n->in[2]].ndim, pv[n->in[2]].dims) != cout)
            return FAIL_NODE(Q_ERR_FORMAT, "bias size differs from the output channels");
        d[0] = x->dims[0];
        d[1] = cout;
        return set_out(o, NN_DT_F32, 4, d);
    }
    case NN_OP_BATCH_NORM:
        if (n->nin < 5 || x->ndim < 2)
            return FAIL_NODE(Q_ERR_FORMAT, "needs 5 inputs and a channel axis");
        for (int k = 1; k < 5; k++)
            if (n->in[k] < 0 || !pv[n->in[k]].host ||
                nn_numel(pv[n->in[k]].ndim, pv[n->in[k]].dims) != x->dims[1])
                return FAIL_NODE(Q_ERR_UNSUPPORTED, "parameters must be constants of size C");
        return set_out(o, NN_DT_F32, x->ndim, x->dims);
    case NN_OP_RELU:
    case NN_OP_CLIP:
    case NN_OP_HARD_SIGMOID:
    case NN_OP_HARD_SWISH:
    case NN_OP_SIGMOID:
    case NN_OP_SQRT:
        if (x->dtype != NN_DT_F32) return FAIL_NODE(Q_ERR_UNSUPPORTED, "integer input");
        set_out(o, NN_DT_F32, x->ndim, x->dims);
        if (host) {
            float *y = out_alloc(o);
            if (!y) return Q_ERR_NOMEM;
            kc_act act = {(kc_act_kind)n->act, n->act_a, n->act_b};
            kc_unary_ref(n->op == NN_OP_SQRT ? KC_UN_SQRT : KC_UN_ACT, act, x->host, y,
                         (size_t)nn_numel(o->ndim, o->dims));
        }
        break;
    case NN_OP_ADD:
    case NN_OP_SUB:
    case NN_OP_MUL:
    case NN_OP_DIV:
    case NN_OP_POW: {
        const nn_pval *b = n->nin > 1 && n->in[1] >= 0 ? &pv[n->in[1]] : NULL;
        if (!b) return FAIL_NODE(Q_ERR_FORMAT, "needs two inputs");
        if (bcast(x->ndim, x->dims, b->ndim, b->dims, &nd, d)) {
            char sa[96], sb[96];
            shape_str(sa, sizeof(sa), x->ndim, x->dims);
            shape_str(sb, sizeof(sb), b->ndim, b->dims);
            return FAIL_NODE(Q_ERR_USAGE, "shapes %s and %s do not broadcast", sa, sb);
        }
        if (x->dtype != b->dtype)
            return FAIL_NODE(Q_ERR_UNSUPPORTED, "mixed integer and float inputs");
        set_out(o, x->dtype, nd, d);
        if (o->dtype == NN_DT_I64 && n->op != NN_OP_POW && all_host) host = 1;
        if (host) {
            int64_t ad[NN_MAX_DIMS], bd[NN_MAX_DIMS];
            align_dims(nd, x->ndim, x->dims, ad);
            align_dims(nd, b->ndim, b->dims, bd);
            void *y = out_alloc(o);
            if (!y) return Q_ERR_NOMEM;
            if (o->dtype == NN_DT_F32)
                kc_binary_ref((kc_bin_op)(n->op - NN_OP_ADD), nd, d, x->host, ad, b->host, bd, y);
            else
                binary_i64(n->op, nd, d, x->host, ad, b->host, bd, y);
        }
        break;
    }
    case NN_OP_MATMUL: {
        const nn_pval *b = n->nin > 1 && n->in[1] >= 0 ? &pv[n->in[1]] : NULL;
        if (!b || x->ndim < 2 || b->ndim < 2)
            return FAIL_NODE(Q_ERR_UNSUPPORTED,
                             "only matrices (2 or more dimensions) are supported");
        if (x->dims[x->ndim - 1] != b->dims[b->ndim - 2])
            return FAIL_NODE(Q_ERR_USAGE, "inner dimensions %lld and %lld differ",
                             (long long)x->dims[x->ndim - 1], (long long)b->dims[b->ndim - 2]);
        if (bcast(x->ndim - 2, x->dims, b->ndim - 2, b->dims, &nd, d))
            return FAIL_NODE(Q_ERR_USAGE, "batch dimensions do not broadcast");
        d[nd] = x->dims[x->ndim - 2];
        d[nd + 1] = b->dims[b->ndim - 1];
        return set_out(o, NN_DT_F32, nd + 2, d);
    }
    case NN_OP_SOFTMAX: {
        int ax = nn_axis(nn_attr_int(n, "axis", m->opset < 13 ? 1 : -1), x->ndim);
        if (ax < 0) return FAIL_NODE(Q_ERR_FORMAT, "axis out of range");
        return set_out(o, NN_DT_F32, x->ndim, x->dims);
    }
    case NN_OP_REDUCE_MEAN: {
        const int64_t *ax;
        int64_t na;
        if ((s = axes_of(m, n, pv, &ax, &na))) return s;
        int keep = (int)nn_attr_int(n, "keepdims", 1), red[NN_MAX_DIMS] = {0};
        for (int64_t i = 0; i < na; i++) {
            int a = nn_axis(ax[i], x->ndim);
            if (a < 0) return FAIL_NODE(Q_ERR_FORMAT, "axis out of range");
            red[a] = 1;
        }
        for (int i = 0; i < x->ndim; i++) {
            if (na == 0 || red[i]) {
                if (keep) d[nd++] = 1;
            } else
                d[nd++] = x->dims[i];
        }
        return set_out(o, NN_DT_F32, nd, d);
    }
    case NN_OP_GLOBAL_AVG_POOL:
        if (x->ndim < 3) return FAIL_NODE(Q_ERR_USAGE, "needs N, C and spatial axes");
        for (int i = 0; i < x->ndim; i++)
            d[i] = i < 2 ? x->dims[i] : 1;
        return set_out(o, NN_DT_F32, x->ndim, d);
    case NN_OP_AVG_POOL:
    case NN_OP_MAX_POOL: {
        if (x->ndim != 4) return FAIL_NODE(Q_ERR_UNSUPPORTED, "only 2-D pooling is supported");
        nn_geom g;
        if ((s = nn_geom_get(m, n, x->dims, NULL, &g))) return s;
        for (int k = 0; k < 2; k++) {
            int64_t in = x->dims[2 + k], pad = k ? g.pl + g.pr : g.pt + g.pb;
            int kk = k ? g.kw : g.kh, st = k ? g.sw : g.sh, dil = k ? g.dw : g.dh;
            int64_t span = in + pad - (int64_t)dil * (kk - 1) - 1;
            d[2 + k] = (g.ceil_mode ? (span + st - 1) / st : span / st) + 1;
            if (span < 0) return FAIL_NODE(Q_ERR_USAGE, "input is smaller than the pooling window");
        }
        if (g.dh != 1 || g.dw != 1)
            return FAIL_NODE(Q_ERR_UNSUPPORTED, "dilated pooling is not supported");
        d[0] = x->dims[0];
        d[1] = x->dims[1];
        return set_out(o, NN_DT_F32, 4, d);
    }
    case NN_OP_RESIZE: {
        if (x->ndim != 4) return FAIL_NODE(Q_ERR_UNSUPPORTED, "only 4-D Resize is supported");
        const nn_pval *sc = NULL, *sz = NULL;
        if (n->nin == 2 && n->in[1] >= 0) sc = &pv[n->in[1]];
        if (n->nin >= 3 && n->in[2] >= 0 && nn_numel(pv[n->in[2]].ndim, pv[n->in[2]].dims) > 0)
            sc = &pv[n->in[2]];
        if (n->nin >= 4 && n->in[3] >= 0 && nn_numel(pv[n->in[3]].ndim, pv[n->in[3]].dims) > 0)
            sz = &pv[n->in[3]];
        if (sz) {
            const int64_t *v;
            int64_t c;
            if ((s = host_ints(m, n, sz, "sizes", &v, &c))) return s;
            if (c != 4 || v[0] != x->dims[0] || v[1] != x->dims[1] || v[2] < 1 || v[3] < 1)
                return FAIL_NODE(Q_ERR_UNSUPPORTED, "sizes must keep N and C");
            memcpy(d, v, sizeof(int64_t) * 4);
        } else if (sc && sc->host && sc->dtype == NN_DT_F32 && nn_numel(sc->ndim, sc->dims) == 4) {
            const float *f = sc->host;
            if (f[0] != 1.f || f[1] != 1.f || !(f[2] > 0.f) || !(f[3] > 0.f) || f[2] > 1024.f ||
                f[3] > 1024.f)
                return FAIL_NODE(Q_ERR_UNSUPPORTED, "scales must keep N and C");
            d[0] = x->dims[0];
            d[1] = x->dims[1];
            d[2] = (int64_t)((float)x->dims[2] * f[2]);
            d[3] = (int64_t)((float)x->dims[3] * f[3]);
            if (d[2] < 1 || d[3] < 1) return FAIL_NODE(Q_ERR_USAGE, "empty output");
        } else
            return FAIL_NODE(Q_ERR_UNSUPPORTED, "needs constant scales or sizes");
        return set_out(o, NN_DT_F32, 4, d);
    }
    case NN_OP_CONCAT: {
        int ax = nn_axis(nn_attr_int(n, "axis", 0), x->ndim);
        if (ax < 0) return FAIL_NODE(Q_ERR_FORMAT, "axis out of range");
        memcpy(d, x->dims, sizeof(d));
        d[ax] = 0;
        for (int k = 0; k < n->nin; k++) {
            const nn_pval *p = n->in[k] >= 0 ? &pv[n->in[k]] : NULL;
            if (!p || p->ndim != x->ndim || p->dtype != x->dtype)
                return FAIL_NODE(Q_ERR_USAGE, "inputs differ in rank or type");
            for (int i = 0; i < x->ndim; i++)
                if (i != ax && p->dims[i] != x->dims[i])
                    return FAIL_NODE(Q_ERR_USAGE, "inputs differ outside the concat axis");
            d[ax] += p->dims[ax];
        }
        set_out(o, x->dtype, x->ndim, d);
        if (host) {
            char *y = out_alloc(o);
            if (!y) return Q_ERR_NOMEM;
            int64_t outer = nn_numel(ax, x->dims),
                    inner = nn_numel(x->ndim - ax - 1, x->dims + ax + 1);
            int64_t at = 0;
            for (int k = 0; k < n->nin; k++) {
                const nn_pval *p = &pv[n->in[k]];
                kc_concat_part(p->host, y, nn_dtype_size(o->dtype), outer, p->dims[ax], d[ax], at,
                               inner);
                at += p->dims[ax];
            }
        }
        break;
    }
    case NN_OP_TRANSPOSE: {
        const int64_t *pm;
        int np = nn_attr_ints(n, "perm", &pm), perm[NN_MAX_DIMS], seen[NN_MAX_DIMS] = {0};
        if (np && np != x->ndim)
            return FAIL_NODE(Q_ERR_FORMAT, "perm has %d entries for %d dimensions", np, x->ndim);
        for (int i = 0; i < x->ndim; i++) {
            perm[i] = np ? (int)pm[i] : x->ndim - 1 - i;
            if (perm[i] < 0 || perm[i] >= x->ndim || seen[perm[i]]++)
                return FAIL_NODE(Q_ERR_FORMAT, "perm is not a permutation");
            d[i] = x->dims[perm[i]];
        }
        set_out(o, x->dtype, x->ndim, d);
        if (host) {
            void *y = out_alloc(o);
            if (!y) return Q_ERR_NOMEM;
            kc_transpose(NULL, x->host, y, nn_dtype_size(x->dtype), x->ndim, x->dims, perm);
        }
        break;
    }
    case NN_OP_SLICE: {
        int64_t starts[NN_MAX_DIMS], steps[NN_MAX_DIMS];
        if ((s = slice_params(m, n, pv, x, starts, steps, d))) return s;
        set_out(o, x->dtype, x->ndim, d);
        if (host) {
            void *y = out_alloc(o);
            if (!y) return Q_ERR_NOMEM;
            kc_slice(x->host, y, nn_dtype_size(x->dtype), x->ndim, x->dims, d, starts, steps);
        }
        break;
    }
    case NN_OP_RESHAPE: {
        const int64_t *v;
        int64_t c;
        if (n->nin < 2 || n->in[1] < 0) return FAIL_NODE(Q_ERR_FORMAT, "needs a shape input");
        if ((s = host_ints(m, n, &pv[n->in[1]], "shape", &v, &c))) return s;
        if (c > NN_MAX_DIMS) return FAIL_NODE(Q_ERR_UNSUPPORTED, "too many dimensions");
        int64_t known = 1, total = nn_numel(x->ndim, x->dims);
        int infer = -1;
        for (int i = 0; i < c; i++) {
            d[i] = v[i] == 0 && i < x->ndim && !nn_attr_int(n, "allowzero", 0) ? x->dims[i] : v[i];
            if (d[i] == -1) {
                if (infer >= 0) return FAIL_NODE(Q_ERR_FORMAT, "more than one -1 in the shape");
                infer = i;
            } else if (d[i] < 0)
                return FAIL_NODE(Q_ERR_FORMAT, "negative dimension");
            else
                known *= d[i];
        }
        if (infer >= 0) d[infer] = known ? total / known : 0;
        if (nn_numel((int)c, d) != total) {
            char sa[96];
            shape_str(sa, sizeof(sa), x->ndim, x->dims);
            return FAIL_NODE(Q_ERR_USAGE, "cannot reshape %s to %lld dimensions", sa, (long long)c);
        }
        nd = (int)c;
        goto alias;
    }
    case NN_OP_FLATTEN: {
        int ax = (int)nn_attr_int(n, "axis", 1);
        if (ax < 0) ax += x->ndim;
        if (ax < 0 || ax > x->ndim) return FAIL_NODE(Q_ERR_FORMAT, "axis out of range");
        d[0] = nn_numel(ax, x->dims);
        d[1] = nn_numel(x->ndim - ax, x->dims + ax);
        nd = 2;
        goto alias;
    }
    case NN_OP_SQUEEZE:
    case NN_OP_UNSQUEEZE: {
        const int64_t *ax;
        int64_t na;
        if ((s = axes_of(m, n, pv, &ax, &na))) return s;
        if (n->op == NN_OP_SQUEEZE) {
            int drop[NN_MAX_DIMS] = {0};
            for (int64_t i = 0; i < na; i++) {
                int a = nn_axis(ax[i], x->ndim);
                if (a < 0 || x->dims[a] != 1)
                    return FAIL_NODE(Q_ERR_USAGE, "cannot squeeze axis %lld", (long long)ax[i]);
                drop[a] = 1;
            }
            for (int i = 0; i < x->ndim; i++)
                if (!(na ? drop[i] : x->dims[i] == 1)) d[nd++] = x->dims[i];
        } else {
            int outn = x->ndim + (int)na, add[NN_MAX_DIMS] = {0};
            if (outn > NN_MAX_DIMS) return FAIL_NODE(Q_ERR_UNSUPPORTED, "too many dimensions");
            for (int64_t i = 0; i < na; i++) {
                int a = nn_axis(ax[i], outn);
                if (a < 0 || add[a]) return FAIL_NODE(Q_ERR_FORMAT, "bad axes");
                add[a] = 1;
            }
            for (int i = 0, k = 0; i < outn; i++)
                d[nd++] = add[i] ? 1 : x->dims[k++];
        }
        goto alias;
    }
    case NN_OP_IDENTITY:
        nd = x->ndim;
        memcpy(d, x->dims, sizeof(d));
        goto alias;
    case NN_OP_CAST: {
        int64_t to = nn_attr_int(n, "to", 1);
        nn_dtype dt = to == 1 || to == 11 || to == 10                           ? NN_DT_F32
                      : (to >= 2 && to <= 7) || to == 9 || to == 12 || to == 13 ? NN_DT_I64
                                                                                : 0;
        if (!dt) return FAIL_NODE(Q_ERR_UNSUPPORTED, "cast to type %lld", (long long)to);
        if (dt == x->dtype) {
            nd = x->ndim;
            memcpy(d, x->dims, sizeof(d));
            goto alias;
        }
        set_out(o, dt, x->ndim, x->dims);
        if (!all_host)
            return FAIL_NODE(Q_ERR_UNSUPPORTED, "casts between float and integer at run time");
        void *y = out_alloc(o);
        if (!y) return Q_ERR_NOMEM;
        int64_t c = nn_numel(x->ndim, x->dims);
        for (int64_t i = 0; i < c; i++) {
            if (dt == NN_DT_F32)
                ((float *)y)[i] = (float)((const int64_t *)x->host)[i];
            else
                ((int64_t *)y)[i] = (int64_t)((const float *)x->host)[i];
        }
        *host_done = 1;
        return Q_OK;
    }
    case NN_OP_SHAPE: {
        int64_t st = nn_attr_int(n, "start", 0), en = nn_attr_int(n, "end", x->ndim);
        st = st < 0 ? st + x->ndim : st;
        en = en < 0 ? en + x->ndim : en;
        st = st < 0 ? 0 : (st > x->ndim ? x->ndim : st);
        en = en < st ? st : (en > x->ndim ? x->ndim : en);
        d[0] = en - st;
        set_out(o, NN_DT_I64, 1, d);
        int64_t *y = out_alloc(o);
        if (!y) return Q_ERR_NOMEM;
        for (int64_t i = st; i < en; i++)
            y[i - st] = x->dims[i];
        *host_done = 1; /* only the dims are needed: always known */
        return Q_OK;
    }
    case NN_OP_GATHER: {
        const nn_pval *ix = n->nin > 1 && n->in[1] >= 0 ? &pv[n->in[1]] : NULL;
        int ax = nn_axis(nn_attr_int(n, "axis", 0), x->ndim);
        if (!ix || ax < 0 || !ix->host || ix->dtype != NN_DT_I64 || !x->host)
            return FAIL_NODE(Q_ERR_UNSUPPORTED,
                             "only Gather on constants (shape arithmetic) is supported");
        if (x->ndim + ix->ndim - 1 > NN_MAX_DIMS)
            return FAIL_NODE(Q_ERR_UNSUPPORTED, "too many dimensions");
        for (int i = 0; i < ax; i++)
            d[nd++] = x->dims[i];
        for (int i = 0; i < ix->ndim; i++)
            d[nd++] = ix->dims[i];
        for (int i = ax + 1; i < x->ndim; i++)
            d[nd++] = x->dims[i];
        set_out(o, x->dtype, nd, d);
        char *y = out_alloc(o);
        if (!y) return Q_ERR_NOMEM;
        int64_t outer = nn_numel(ax, x->dims), inner = nn_numel(x->ndim - ax - 1, x->dims + ax + 1);
        int64_t ni_ = nn_numel(ix->ndim, ix->dims), esz = (int64_t)nn_dtype_size(x->dtype);
        for (int64_t oo = 0; oo < outer; oo++)
            for (int64_t j = 0; j < ni_; j++) {
                int64_t k = ((const int64_t *)ix->host)[j];
                if (k < 0) k += x->dims[ax];
                if (k < 0 || k >= x->dims[ax])
                    return FAIL_NODE(Q_ERR_FORMAT, "index %lld out of range", (long long)k);
                memcpy(y + ((oo * ni_ + j) * inner) * esz,
                       (const char *)x->host + ((oo * x->dims[ax] + k) * inner) * esz,
                       (size_t)(inner * esz));
            }
        *host_done = 1;
        return Q_OK;
    }
    case NN_OP_CONSTANT:
    case NN_OP_COUNT:
        return FAIL_NODE(Q_ERR_INTERNAL, "unexpected node");
    }
    *host_done = host && o->host;
    return Q_OK;
alias:
    set_out(o, x->dtype, nd, d);
    if (x->host) {
        /* Same bytes, new shape: share the host copy. */
        o->host = x->host;
        o->owns_host = 0;
        *host_done = 1;
    }
    return Q_OK;
}
