/* Naive references for the backend-ops test (backend_ops_ref.h): the ONNX
 * operator definitions as loops over output elements. Slow and plain on
 * purpose. */
#include "tests/nn/backend_ops_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int64_t numel(int nd, const int64_t *d) {
    int64_t c = 1;
    for (int i = 0; i < nd; i++)
        c *= d[i];
    return c;
}

static int axis_of(int64_t a, int nd) {
    return (int)(a < 0 ? a + nd : a);
}

static float *alloc_out(int nd, const int64_t *d) {
    int64_t c = numel(nd, d);
    return malloc(sizeof(float) * (size_t)(c > 0 ? c : 1));
}

/* The fused activation of a node (nn_act_kind), as fuse.c records it. */
static double act(const nn_node *n, double v) {
    double a = n->act_a, b = n->act_b, h;
    switch (n->act) {
    case NN_ACT_RELU:
        return v > 0 ? v : 0;
    case NN_ACT_CLIP:
        return v < a ? a : (v > b ? b : v);
    case NN_ACT_HARD_SIGMOID:
        h = a * v + b;
        return h < 0 ? 0 : (h > 1 ? 1 : h);
    case NN_ACT_HARD_SWISH:
        h = a * v + b;
        return v * (h < 0 ? 0 : (h > 1 ? 1 : h));
    case NN_ACT_SIGMOID:
        return 1 / (1 + exp(-v));
    default:
        return v;
    }
}

static double post(const nn_model *m, int v, int c, double dflt) {
    if (v < 0) return dflt;
    const nn_value *x = &m->vals[v];
    const float *f = x->cdata;
    return numel(x->ndim, x->dims) == 1 ? f[0] : f[c];
}

typedef struct {
    int64_t kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, group, oph, opw;
} geom;

static void geom_of(const nn_node *n, const int64_t *w, geom *g) {
    const int64_t *v;
    memset(g, 0, sizeof(*g));
    g->sh = g->sw = g->dh = g->dw = g->group = 1;
    if (w) g->kh = w[2], g->kw = w[3];
    if (nn_attr_ints(n, "kernel_shape", &v) == 2) g->kh = v[0], g->kw = v[1];
    if (nn_attr_ints(n, "strides", &v) == 2) g->sh = v[0], g->sw = v[1];
    if (nn_attr_ints(n, "dilations", &v) == 2) g->dh = v[0], g->dw = v[1];
    if (nn_attr_ints(n, "pads", &v) == 4) g->pt = v[0], g->pl = v[1], g->pb = v[2], g->pr = v[3];
    if (nn_attr_ints(n, "output_padding", &v) == 2) g->oph = v[0], g->opw = v[1];
    g->group = nn_attr_int(n, "group", 1);
}

static float *conv(const nn_model *m, const nn_node *n, const ref_in *in, int64_t *od) {
    const int64_t *xd = in[0].dims, *wd = in[1].dims;
    geom g;
    geom_of(n, wd, &g);
    int64_t N = xd[0], C = xd[1], H = xd[2], W = xd[3], CO = wd[0], cg = C / g.group,
            og = CO / g.group;
    int64_t OH = (H + g.pt + g.pb - g.dh * (g.kh - 1) - 1) / g.sh + 1,
            OW = (W + g.pl + g.pr - g.dw * (g.kw - 1) - 1) / g.sw + 1;
    od[0] = N, od[1] = CO, od[2] = OH, od[3] = OW;
    float *y = alloc_out(4, od);
    for (int64_t b = 0; b < N; b++)
        for (int64_t co = 0; co < CO; co++)
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    double s = in[2].present ? in[2].f[co] : 0;
                    int64_t gi = co / og;
                    for (int64_t ci = 0; ci < cg; ci++)
                        for (int64_t i = 0; i < g.kh; i++)
                            for (int64_t j = 0; j < g.kw; j++) {
                                int64_t ih = oh * g.sh - g.pt + i * g.dh,
                                        iw = ow * g.sw - g.pl + j * g.dw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                s += (double)in[0].f[((b * C + gi * cg + ci) * H + ih) * W + iw] *
                                     in[1].f[((co * cg + ci) * g.kh + i) * g.kw + j];
                            }
                    s = act(n, s) * post(m, n->post_scale, (int)co, 1) +
                        post(m, n->post_shift, (int)co, 0);
                    y[((b * CO + co) * OH + oh) * OW + ow] = (float)s;
                }
    return y;
}

static float *conv_transpose(const nn_model *m, const nn_node *n, const ref_in *in, int64_t *od) {
    const int64_t *xd = in[0].dims, *wd = in[1].dims;
    geom g;
    geom_of(n, wd, &g);
    int64_t N = xd[0], C = xd[1], H = xd[2], W = xd[3], og = wd[1], CO = og * g.group,
            cg = C / g.group;
    int64_t OH = (H - 1) * g.sh - g.pt - g.pb + g.dh * (g.kh - 1) + 1 + g.oph,
            OW = (W - 1) * g.sw - g.pl - g.pr + g.dw * (g.kw - 1) + 1 + g.opw;
    od[0] = N, od[1] = CO, od[2] = OH, od[3] = OW;
    int64_t total = numel(4, od);
    double *acc = calloc((size_t)total, sizeof(double));
    float *y = alloc_out(4, od);
    for (int64_t b = 0; b < N; b++)
        for (int64_t ci = 0; ci < C; ci++)
            for (int64_t ih = 0; ih < H; ih++)
                for (int64_t iw = 0; iw < W; iw++)
                    for (int64_t co = 0; co < og; co++)
                        for (int64_t i = 0; i < g.kh; i++)
                            for (int64_t j = 0; j < g.kw; j++) {
                                int64_t oh = ih * g.sh - g.pt + i * g.dh,
                                        ow = iw * g.sw - g.pl + j * g.dw, oc = ci / cg * og + co;
                                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                                acc[((b * CO + oc) * OH + oh) * OW + ow] +=
                                    (double)in[0].f[((b * C + ci) * H + ih) * W + iw] *
                                    in[1].f[((ci * og + co) * g.kh + i) * g.kw + j];
                            }
    for (int64_t e = 0; e < total; e++) {
        int64_t co = e / (OH * OW) % CO;
        double s = acc[e] + (in[2].present ? in[2].f[co] : 0);
        y[e] = (float)(act(n, s) * post(m, n->post_scale, (int)co, 1) +
                       post(m, n->post_shift, (int)co, 0));
    }
    free(acc);
    return y;
}

static double unary(const nn_model *m, const nn_node *n, const ref_in *in, double v) {
    double lo = -INFINITY, hi = INFINITY, a, b, h;
    switch (n->op) {
    case NN_OP_RELU:
        return v > 0 ? v : 0;
    case NN_OP_SIGMOID:
        return 1 / (1 + exp(-v));
    case NN_OP_SQRT:
        return sqrt(v);
    case NN_OP_CLIP:
        if (m->opset < 11) {
            lo = nn_attr_float(n, "min", -INFINITY);
            hi = nn_attr_float(n, "max", INFINITY);
        } else if (n->nin == 1) {
            /* the loader moved constant min/max inputs into the node */
            lo = n->act_a;
            hi = n->act_b;
        } else {
            if (in[1].present) lo = in[1].f[0];
            if (in[2].present) hi = in[2].f[0];
        }
        return v < lo ? lo : (v > hi ? hi : v);
    case NN_OP_HARD_SIGMOID:
        a = nn_attr_float(n, "alpha", 0.2f), b = nn_attr_float(n, "beta", 0.5f);
        h = a * v + b;
        return h < 0 ? 0 : (h > 1 ? 1 : h);
    default: /* HardSwish */
        h = v / 6 + 0.5;
        return v * (h < 0 ? 0 : (h > 1 ? 1 : h));
    }
}

/* Index into a right-aligned broadcast input for output element e. */
static int64_t bcast_index(int ond, const int64_t *od, const ref_in *x, int64_t e) {
    int64_t idx = 0, mul = 1;
    for (int d = ond - 1; d >= 0; d--) {
        int64_t coord = e % od[d];
        e /= od[d];
        int xd = d - (ond - x->ndim);
        if (xd < 0) continue;
        idx += (x->dims[xd] == 1 ? 0 : coord) * mul;
        mul *= x->dims[xd];
    }
    return idx;
}

static float *binary(const nn_node *n, const ref_in *in, int *ond, int64_t *od) {
    *ond = in[0].ndim > in[1].ndim ? in[0].ndim : in[1].ndim;
    for (int d = 0; d < *ond; d++) {
        int a = d - (*ond - in[0].ndim), b = d - (*ond - in[1].ndim);
        int64_t x = a >= 0 ? in[0].dims[a] : 1, z = b >= 0 ? in[1].dims[b] : 1;
        od[d] = x == 1 ? z : x;
    }
    float *y = alloc_out(*ond, od);
    for (int64_t e = 0; e < numel(*ond, od); e++) {
        double a = in[0].f[bcast_index(*ond, od, &in[0], e)],
               b = in[1].f[bcast_index(*ond, od, &in[1], e)];
        y[e] = (float)(n->op == NN_OP_ADD   ? a + b
                       : n->op == NN_OP_SUB ? a - b
                       : n->op == NN_OP_MUL ? a * b
                       : n->op == NN_OP_DIV ? a / b
                                            : pow(a, b));
    }
    return y;
}

static float *matmul(const ref_in *in, int *ond, int64_t *od) {
    const ref_in *a = &in[0], *b = &in[1];
    int64_t M = a->dims[a->ndim - 2], K = a->dims[a->ndim - 1], N = b->dims[b->ndim - 1];
    ref_in ab = *a, bb = *b; /* the batch dims only */
    ab.ndim -= 2;
    bb.ndim -= 2;
    int nb = ab.ndim > bb.ndim ? ab.ndim : bb.ndim;
    for (int d = 0; d < nb; d++) {
        int i = d - (nb - ab.ndim), j = d - (nb - bb.ndim);
        int64_t x = i >= 0 ? ab.dims[i] : 1, z = j >= 0 ? bb.dims[j] : 1;
        od[d] = x == 1 ? z : x;
    }
    od[nb] = M, od[nb + 1] = N;
    *ond = nb + 2;
    float *y = alloc_out(*ond, od);
    for (int64_t bt = 0; bt < numel(nb, od); bt++) {
        const float *pa = a->f + bcast_index(nb, od, &ab, bt) * M * K,
                    *pb = b->f + bcast_index(nb, od, &bb, bt) * K * N;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = 0;
                for (int64_t k = 0; k < K; k++)
                    s += (double)pa[i * K + k] * pb[k * N + j];
                y[(bt * M + i) * N + j] = (float)s;
            }
    }
    return y;
}

/* Softmax over axis `ax` (opset 13) or over the flattened [ax:] (older). */
static float *softmax(const nn_model *m, const nn_node *n, const ref_in *x) {
    int ax = axis_of(nn_attr_int(n, "axis", m->opset < 13 ? 1 : -1), x->ndim);
    int64_t outer = numel(ax, x->dims), len = x->dims[ax],
            inner = numel(x->ndim - ax - 1, x->dims + ax + 1);
    if (m->opset < 13) len *= inner, inner = 1;
    float *y = alloc_out(x->ndim, x->dims);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double mx = -INFINITY, s = 0;
            for (int64_t k = 0; k < len; k++)
                mx = fmax(mx, x->f[(o * len + k) * inner + i]);
            for (int64_t k = 0; k < len; k++)
                s += exp(x->f[(o * len + k) * inner + i] - mx);
            for (int64_t k = 0; k < len; k++)
                y[(o * len + k) * inner + i] =
                    (float)(exp(x->f[(o * len + k) * inner + i] - mx) / s);
        }
    return y;
}

static float *reduce_mean(const nn_node *n, const ref_in *in, int *ond, int64_t *od) {
    const ref_in *x = &in[0];
    const int64_t *ax = NULL;
    int64_t na = in[1].present ? numel(in[1].ndim, in[1].dims) : nn_attr_ints(n, "axes", &ax);
    if (in[1].present) ax = in[1].i;
    int red[NN_MAX_DIMS] = {0}, keep = (int)nn_attr_int(n, "keepdims", 1);
    for (int64_t i = 0; i < na; i++)
        red[axis_of(ax[i], x->ndim)] = 1;
    int64_t kd[NN_MAX_DIMS], cnt = 1;
    *ond = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (!na) red[d] = 1;
        kd[d] = red[d] ? 1 : x->dims[d];
        cnt *= red[d] ? x->dims[d] : 1;
        if (!red[d] || keep) od[(*ond)++] = kd[d];
    }
    int64_t total = numel(x->ndim, kd);
    double *acc = calloc((size_t)total, sizeof(double));
    for (int64_t e = 0; e < numel(x->ndim, x->dims); e++) {
        int64_t rem = e, o = 0, mul = 1;
        for (int d = x->ndim - 1; d >= 0; d--) {
            int64_t c = rem % x->dims[d];
            rem /= x->dims[d];
            o += (red[d] ? 0 : c) * mul;
            mul *= kd[d];
        }
        acc[o] += x->f[e];
    }
    float *y = alloc_out(x->ndim, kd);
    for (int64_t i = 0; i < total; i++)
        y[i] = (float)(acc[i] / (double)cnt);
    free(acc);
    return y;
}

static float *pool(const nn_node *n, const ref_in *x, int64_t *od) {
    geom g;
    geom_of(n, NULL, &g);
    int ceil_mode = (int)nn_attr_int(n, "ceil_mode", 0),
        incl = (int)nn_attr_int(n, "count_include_pad", 0);
    int64_t P = x->dims[0] * x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t sh = H + g.pt + g.pb - g.kh, sw = W + g.pl + g.pr - g.kw;
    int64_t OH = (ceil_mode ? (sh + g.sh - 1) / g.sh : sh / g.sh) + 1,
            OW = (ceil_mode ? (sw + g.sw - 1) / g.sw : sw / g.sw) + 1;
    od[0] = x->dims[0], od[1] = x->dims[1], od[2] = OH, od[3] = OW;
    float *y = alloc_out(4, od);
    for (int64_t p = 0; p < P; p++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                double s = 0, mx = -INFINITY;
                int64_t cnt = 0, padded = 0;
                for (int64_t i = 0; i < g.kh; i++)
                    for (int64_t j = 0; j < g.kw; j++) {
                        int64_t ih = oh * g.sh - g.pt + i, iw = ow * g.sw - g.pl + j;
                        if (ih < H + g.pb && iw < W + g.pr) padded++;
                        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                        double v = x->f[(p * H + ih) * W + iw];
                        s += v;
                        mx = fmax(mx, v);
                        cnt++;
                    }
                y[(p * OH + oh) * OW + ow] =
                    (float)(n->op == NN_OP_MAX_POOL ? mx : s / (double)(incl ? padded : cnt));
            }
    return y;
}

/* Nearest-neighbour source index of output coordinate o (ONNX Resize). */
static int64_t nearest_src(const nn_node *n, int64_t o, int64_t in_len, int64_t out_len,
                           double scale) {
    const char *ct = nn_attr_str(n, "coordinate_transformation_mode", "half_pixel");
    const char *nm = nn_attr_str(n, "nearest_mode", "round_prefer_floor");
    double x;
    if (!strcmp(ct, "asymmetric"))
        x = (double)o / scale;
    else if (!strcmp(ct, "align_corners"))
        x = out_len == 1 ? 0 : (double)o * (double)(in_len - 1) / (double)(out_len - 1);
    else if (!strcmp(ct, "pytorch_half_pixel"))
        x = out_len > 1 ? ((double)o + 0.5) / scale - 0.5 : 0;
    else
        x = ((double)o + 0.5) / scale - 0.5;
    double r;
    if (!strcmp(nm, "floor"))
        r = floor(x);
    else if (!strcmp(nm, "ceil"))
        r = ceil(x);
    else if (x - floor(x) == 0.5)
        r = !strcmp(nm, "round_prefer_ceil") ? ceil(x) : floor(x);
    else
        r = floor(x + 0.5);
    return r < 0 ? 0 : (r > (double)(in_len - 1) ? in_len - 1 : (int64_t)r);
}

static float *resize(const nn_node *n, const ref_in *in, int64_t *od) {
    const ref_in *x = &in[0], *sc = n->nin == 2 ? &in[1] : &in[2], *sz = &in[3];
    double s[4] = {1, 1, 1, 1};
    if (n->nin >= 4 && sz->present && numel(sz->ndim, sz->dims) == 4) {
        for (int d = 0; d < 4; d++) {
            od[d] = sz->i[d];
            s[d] = (double)od[d] / (double)x->dims[d];
        }
    } else {
        for (int d = 0; d < 4; d++) {
            s[d] = sc->f[d];
            od[d] = (int64_t)floor((double)x->dims[d] * sc->f[d]);
        }
    }
    float *y = alloc_out(4, od);
    int64_t P = od[0] * od[1], H = x->dims[2], W = x->dims[3];
    for (int64_t p = 0; p < P; p++)
        for (int64_t i = 0; i < od[2]; i++)
            for (int64_t j = 0; j < od[3]; j++)
                y[(p * od[2] + i) * od[3] + j] =
                    x->f[(p * H + nearest_src(n, i, H, od[2], s[2])) * W +
                         nearest_src(n, j, W, od[3], s[3])];
    return y;
}

static float *concat(const nn_node *n, const ref_in *in, int *ond, int64_t *od) {
    int ax = axis_of(nn_attr_int(n, "axis", 0), in[0].ndim);
    *ond = in[0].ndim;
    memcpy(od, in[0].dims, sizeof(int64_t) * (size_t)*ond);
    od[ax] = 0;
    for (int k = 0; k < n->nin; k++)
        od[ax] += in[k].dims[ax];
    float *y = alloc_out(*ond, od);
    int64_t outer = numel(ax, od), inner = numel(*ond - ax - 1, od + ax + 1), at = 0;
    for (int k = 0; k < n->nin; k++) {
        for (int64_t o = 0; o < outer; o++)
            for (int64_t a = 0; a < in[k].dims[ax]; a++)
                for (int64_t i = 0; i < inner; i++)
                    y[(o * od[ax] + at + a) * inner + i] =
                        in[k].f[(o * in[k].dims[ax] + a) * inner + i];
        at += in[k].dims[ax];
    }
    return y;
}

static float *transpose(const nn_node *n, const ref_in *x, int64_t *od) {
    const int64_t *pm;
    int np = nn_attr_ints(n, "perm", &pm), nd = x->ndim;
    int64_t perm[NN_MAX_DIMS], st[NN_MAX_DIMS];
    for (int i = 0; i < nd; i++) {
        perm[i] = np ? pm[i] : nd - 1 - i;
        od[i] = x->dims[perm[i]];
    }
    st[nd - 1] = 1;
    for (int i = nd - 2; i >= 0; i--)
        st[i] = st[i + 1] * x->dims[i + 1];
    float *y = alloc_out(nd, od);
    for (int64_t e = 0; e < numel(nd, od); e++) {
        int64_t rem = e, src = 0;
        for (int d = nd - 1; d >= 0; d--) {
            src += rem % od[d] * st[perm[d]];
            rem /= od[d];
        }
        y[e] = x->f[src];
    }
    return y;
}

/* Slice: starts, ends, axes, steps from inputs 1-4 (opset 10 on) or the
 * attributes (before). */
static float *slice(const nn_model *m, const nn_node *n, const ref_in *in, int64_t *od) {
    const ref_in *x = &in[0];
    const int64_t *sv, *ev, *av = NULL, *pv = NULL;
    int64_t ns;
    if (m->opset < 10) {
        ns = nn_attr_ints(n, "starts", &sv);
        nn_attr_ints(n, "ends", &ev);
        if (!nn_attr_ints(n, "axes", &av)) av = NULL;
    } else {
        ns = numel(in[1].ndim, in[1].dims);
        sv = in[1].i, ev = in[2].i;
        av = in[3].present ? in[3].i : NULL;
        pv = in[4].present ? in[4].i : NULL;
    }
    int nd = x->ndim;
    int64_t b[NN_MAX_DIMS], step[NN_MAX_DIMS];
    for (int d = 0; d < nd; d++)
        b[d] = 0, step[d] = 1, od[d] = x->dims[d];
    for (int64_t i = 0; i < ns; i++) {
        int d = av ? axis_of(av[i], nd) : (int)i;
        int64_t dim = x->dims[d], s = pv ? pv[i] : 1, st = sv[i], en = ev[i];
        st = st < 0 ? st + dim : st;
        en = en < 0 ? en + dim : en;
        if (s > 0) {
            st = st < 0 ? 0 : (st > dim ? dim : st);
            en = en < 0 ? 0 : (en > dim ? dim : en);
            od[d] = en > st ? (en - st + s - 1) / s : 0;
        } else {
            /* numpy's (and ONNX Runtime's) clamp: a start before the
             * first element selects nothing */
            st = st < 0 ? -1 : (st > dim - 1 ? dim - 1 : st);
            en = en < -1 ? -1 : (en > dim - 1 ? dim - 1 : en);
            od[d] = st > en ? (st - en - s - 1) / -s : 0;
        }
        b[d] = st, step[d] = s;
    }
    float *y = alloc_out(nd, od);
    for (int64_t e = 0; e < numel(nd, od); e++) {
        int64_t rem = e, src = 0, mul = 1;
        for (int d = nd - 1; d >= 0; d--) {
            src += (b[d] + rem % od[d] * step[d]) * mul;
            rem /= od[d];
            mul *= x->dims[d];
        }
        y[e] = x->f[src];
    }
    return y;
}

float *ref_node(const nn_model *m, const nn_node *n, const ref_in *in, int *ndim, int64_t *od,
                const char **why) {
    const ref_in *x = &in[0];
    *ndim = 4;
    *why = NULL;
    switch (n->op) {
    case NN_OP_CONV:
        return conv(m, n, in, od);
    case NN_OP_CONV_TRANSPOSE:
        return conv_transpose(m, n, in, od);
    case NN_OP_BATCH_NORM: {
        float eps = nn_attr_float(n, "epsilon", 1e-5f), *y = alloc_out(x->ndim, x->dims);
        int64_t C = x->dims[1], inner = numel(x->ndim - 2, x->dims + 2);
        for (int64_t e = 0; e < numel(x->ndim, x->dims); e++) {
            int64_t c = e / inner % C;
            y[e] = (float)(((double)x->f[e] - in[3].f[c]) / sqrt((double)in[4].f[c] + eps) *
                               in[1].f[c] +
                           in[2].f[c]);
        }
        *ndim = x->ndim;
        memcpy(od, x->dims, sizeof(int64_t) * (size_t)x->ndim);
        return y;
    }
    case NN_OP_RELU:
    case NN_OP_CLIP:
    case NN_OP_HARD_SIGMOID:
    case NN_OP_HARD_SWISH:
    case NN_OP_SIGMOID:
    case NN_OP_SQRT: {
        float *y = alloc_out(x->ndim, x->dims);
        for (int64_t e = 0; e < numel(x->ndim, x->dims); e++)
            y[e] = (float)unary(m, n, in, x->f[e]);
        *ndim = x->ndim;
        memcpy(od, x->dims, sizeof(int64_t) * (size_t)x->ndim);
        return y;
    }
    case NN_OP_ADD:
    case NN_OP_SUB:
    case NN_OP_MUL:
    case NN_OP_DIV:
    case NN_OP_POW:
        return binary(n, in, ndim, od);
    case NN_OP_MATMUL:
        return matmul(in, ndim, od);
    case NN_OP_SOFTMAX:
        *ndim = x->ndim;
        memcpy(od, x->dims, sizeof(int64_t) * (size_t)x->ndim);
        return softmax(m, n, x);
    case NN_OP_REDUCE_MEAN:
        return reduce_mean(n, in, ndim, od);
    case NN_OP_GLOBAL_AVG_POOL: {
        *ndim = x->ndim;
        for (int d = 0; d < x->ndim; d++)
            od[d] = d < 2 ? x->dims[d] : 1;
        int64_t planes = x->dims[0] * x->dims[1], hw = numel(x->ndim - 2, x->dims + 2);
        float *y = alloc_out(*ndim, od);
        for (int64_t p = 0; p < planes; p++) {
            double s = 0;
            for (int64_t i = 0; i < hw; i++)
                s += x->f[p * hw + i];
            y[p] = (float)(s / (double)hw);
        }
        return y;
    }
    case NN_OP_AVG_POOL:
    case NN_OP_MAX_POOL:
        return pool(n, x, od);
    case NN_OP_RESIZE:
        return resize(n, in, od);
    case NN_OP_CONCAT:
        return concat(n, in, ndim, od);
    case NN_OP_TRANSPOSE:
        *ndim = x->ndim;
        return transpose(n, x, od);
    case NN_OP_SLICE:
        *ndim = x->ndim;
        return slice(m, n, in, od);
    default:
        break;
    }
    *why = "no reference for this op";
    return NULL;
}
