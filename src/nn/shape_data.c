/* Shape inference (and host evaluation) of the data-movement and shape-
 * arithmetic ops of ops.def: Concat, Transpose, Slice, the views (Reshape,
 * Flatten, Squeeze, Unsqueeze, Identity, same-type Cast) and the host-only
 * Shape, Gather and Cast between types. */
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/kc.h"
#include "nn/shape.h"

q_status nn_shape_concat(nn_shape_ctx *c) {
    const nn_pval *x = c->x;
    nn_pval *o = c->o;
    int64_t d[NN_MAX_DIMS];
    int ax = nn_axis(nn_attr_int(c->n, "axis", 0), x->ndim);
    if (ax < 0) return SHAPE_FAIL(Q_ERR_FORMAT, "axis out of range");
    memcpy(d, x->dims, sizeof(d));
    d[ax] = 0;
    for (int k = 0; k < c->n->nin; k++) {
        const nn_pval *p = nn_shape_in(c, k);
        if (!p || p->ndim != x->ndim || p->dtype != x->dtype)
            return SHAPE_FAIL(Q_ERR_USAGE, "inputs differ in rank or type");
        for (int i = 0; i < x->ndim; i++)
            if (i != ax && p->dims[i] != x->dims[i])
                return SHAPE_FAIL(Q_ERR_USAGE, "inputs differ outside the concat axis");
        d[ax] += p->dims[ax];
    }
    nn_shape_set_out(o, x->dtype, x->ndim, d);
    if (c->host) {
        char *y = nn_shape_out_alloc(o);
        if (!y) return Q_ERR_NOMEM;
        int64_t outer = nn_numel(ax, x->dims), inner = nn_numel(x->ndim - ax - 1, x->dims + ax + 1);
        int64_t at = 0;
        for (int k = 0; k < c->n->nin; k++) {
            const nn_pval *p = nn_shape_in(c, k);
            kc_concat_part(p->host, y, nn_dtype_size(o->dtype), outer, p->dims[ax], d[ax], at,
                           inner);
            at += p->dims[ax];
        }
    }
    return nn_shape_done(c);
}

int nn_transpose_perm(const nn_node *n, int ndim, int *perm) {
    const int64_t *pm;
    int np = nn_attr_ints(n, "perm", &pm), seen[NN_MAX_DIMS] = {0};
    if (np && np != ndim) return -1;
    for (int i = 0; i < ndim; i++) {
        perm[i] = np ? (int)pm[i] : ndim - 1 - i;
        if (perm[i] < 0 || perm[i] >= ndim || seen[perm[i]]++) return -1;
    }
    return 0;
}

q_status nn_shape_transpose(nn_shape_ctx *c) {
    const nn_pval *x = c->x;
    int perm[NN_MAX_DIMS];
    int64_t d[NN_MAX_DIMS];
    if (nn_transpose_perm(c->n, x->ndim, perm))
        return SHAPE_FAIL(Q_ERR_FORMAT, "perm is not a permutation of %d dimensions", x->ndim);
    for (int i = 0; i < x->ndim; i++)
        d[i] = x->dims[perm[i]];
    nn_shape_set_out(c->o, x->dtype, x->ndim, d);
    if (c->host) {
        void *y = nn_shape_out_alloc(c->o);
        if (!y) return Q_ERR_NOMEM;
        kc_transpose(NULL, x->host, y, nn_dtype_size(x->dtype), x->ndim, x->dims, perm);
    }
    return nn_shape_done(c);
}

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
            return nn_shape_fail(m, n, Q_ERR_UNSUPPORTED,
                                 "starts and ends must be known before the run");
    }
    if (ns != ne || (ax && na != ns) || (sp && nsp != ns) || ns > ndim)
        return nn_shape_fail(m, n, Q_ERR_FORMAT, "starts/ends/axes/steps disagree");
    for (int d = 0; d < ndim; d++) {
        starts[d] = 0;
        steps[d] = 1;
        od[d] = dims[d];
    }
    for (int64_t i = 0; i < ns; i++) {
        int d = nn_axis(ax ? ax[i] : i, ndim);
        int64_t dim = dims[d < 0 ? 0 : d], step = sp ? sp[i] : 1;
        if (d < 0 || step == 0) return nn_shape_fail(m, n, Q_ERR_FORMAT, "bad slice axis or step");
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

q_status nn_shape_slice(nn_shape_ctx *c) {
    const nn_pval *x = c->x;
    const int64_t *hosts[4] = {NULL, NULL, NULL, NULL};
    int64_t counts[4] = {0, 0, 0, 0}, starts[NN_MAX_DIMS], steps[NN_MAX_DIMS], d[NN_MAX_DIMS];
    for (int k = 1; k <= 4 && c->m->opset >= 10; k++) {
        const nn_pval *p = nn_shape_in(c, k);
        if (!p) continue;
        q_status s =
            nn_shape_host_ints(c, p, "starts/ends/axes/steps", &hosts[k - 1], &counts[k - 1]);
        if (s) return s;
    }
    q_status s = nn_slice_resolve(c->m, c->n, x->ndim, x->dims, hosts, counts, starts, steps, d);
    if (s) return s;
    nn_shape_set_out(c->o, x->dtype, x->ndim, d);
    if (c->host) {
        void *y = nn_shape_out_alloc(c->o);
        if (!y) return Q_ERR_NOMEM;
        kc_slice(x->host, y, nn_dtype_size(x->dtype), x->ndim, x->dims, d, starts, steps);
    }
    return nn_shape_done(c);
}

q_status nn_shape_reshape(nn_shape_ctx *c) {
    const nn_pval *x = c->x, *sp = nn_shape_in(c, 1);
    const int64_t *v;
    int64_t cnt, d[NN_MAX_DIMS];
    if (!sp) return SHAPE_FAIL(Q_ERR_FORMAT, "needs a shape input");
    q_status s = nn_shape_host_ints(c, sp, "shape", &v, &cnt);
    if (s) return s;
    if (cnt > NN_MAX_DIMS) return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "too many dimensions");
    int64_t known = 1, total = nn_numel(x->ndim, x->dims);
    int infer = -1, allowzero = (int)nn_attr_int(c->n, "allowzero", 0);
    for (int i = 0; i < cnt; i++) {
        d[i] = v[i] == 0 && i < x->ndim && !allowzero ? x->dims[i] : v[i];
        if (d[i] == -1) {
            if (infer >= 0) return SHAPE_FAIL(Q_ERR_FORMAT, "more than one -1 in the shape");
            infer = i;
        } else if (d[i] < 0)
            return SHAPE_FAIL(Q_ERR_FORMAT, "negative dimension");
        else
            known *= d[i];
    }
    if (infer >= 0) d[infer] = known ? total / known : 0;
    if (nn_numel((int)cnt, d) != total) {
        char sa[96];
        nn_shape_str(sa, sizeof(sa), x->ndim, x->dims);
        return SHAPE_FAIL(Q_ERR_USAGE, "cannot reshape %s to %lld dimensions", sa, (long long)cnt);
    }
    return nn_shape_alias(c, (int)cnt, d);
}

q_status nn_shape_flatten(nn_shape_ctx *c) {
    const nn_pval *x = c->x;
    int64_t d[2];
    int ax = (int)nn_attr_int(c->n, "axis", 1);
    if (ax < 0) ax += x->ndim;
    if (ax < 0 || ax > x->ndim) return SHAPE_FAIL(Q_ERR_FORMAT, "axis out of range");
    d[0] = nn_numel(ax, x->dims);
    d[1] = nn_numel(x->ndim - ax, x->dims + ax);
    return nn_shape_alias(c, 2, d);
}

/* Squeeze and Unsqueeze. */
q_status nn_shape_squeeze(nn_shape_ctx *c) {
    const nn_pval *x = c->x;
    const int64_t *ax;
    int64_t na, d[NN_MAX_DIMS];
    int nd = 0;
    q_status s = nn_shape_axes(c, &ax, &na);
    if (s) return s;
    if (c->n->op == NN_OP_SQUEEZE) {
        int drop[NN_MAX_DIMS] = {0};
        for (int64_t i = 0; i < na; i++) {
            int a = nn_axis(ax[i], x->ndim);
            if (a < 0 || x->dims[a] != 1)
                return SHAPE_FAIL(Q_ERR_USAGE, "cannot squeeze axis %lld", (long long)ax[i]);
            drop[a] = 1;
        }
        for (int i = 0; i < x->ndim; i++)
            if (!(na ? drop[i] : x->dims[i] == 1)) d[nd++] = x->dims[i];
        return nn_shape_alias(c, nd, d);
    }
    int outn = x->ndim + (int)na, add[NN_MAX_DIMS] = {0};
    if (na > NN_MAX_DIMS || outn > NN_MAX_DIMS)
        return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "too many dimensions");
    for (int64_t i = 0; i < na; i++) {
        int a = nn_axis(ax[i], outn);
        if (a < 0 || add[a]) return SHAPE_FAIL(Q_ERR_FORMAT, "bad axes");
        add[a] = 1;
    }
    for (int i = 0, k = 0; i < outn; i++)
        d[nd++] = add[i] ? 1 : x->dims[k++];
    return nn_shape_alias(c, nd, d);
}

q_status nn_shape_identity(nn_shape_ctx *c) {
    return nn_shape_alias(c, c->x->ndim, c->x->dims);
}

q_status nn_shape_cast(nn_shape_ctx *c) {
    const nn_pval *x = c->x;
    int64_t to = nn_attr_int(c->n, "to", 1);
    nn_dtype dt = to == 1 || to == 11 || to == 10                           ? NN_DT_F32
                  : (to >= 2 && to <= 7) || to == 9 || to == 12 || to == 13 ? NN_DT_I64
                                                                            : 0;
    if (!dt) return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "cast to type %lld", (long long)to);
    if (dt == x->dtype) return nn_shape_alias(c, x->ndim, x->dims);
    nn_shape_set_out(c->o, dt, x->ndim, x->dims);
    if (!c->all_host)
        return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "casts between float and integer at run time");
    void *y = nn_shape_out_alloc(c->o);
    if (!y) return Q_ERR_NOMEM;
    int64_t cnt = nn_numel(x->ndim, x->dims);
    for (int64_t i = 0; i < cnt; i++) {
        if (dt == NN_DT_F32)
            ((float *)y)[i] = (float)((const int64_t *)x->host)[i];
        else
            ((int64_t *)y)[i] = (int64_t)((const float *)x->host)[i];
    }
    *c->host_done = 1;
    return Q_OK;
}

q_status nn_shape_shape(nn_shape_ctx *c) {
    const nn_pval *x = c->x;
    int64_t st = nn_attr_int(c->n, "start", 0), en = nn_attr_int(c->n, "end", x->ndim), d[1];
    st = st < 0 ? st + x->ndim : st;
    en = en < 0 ? en + x->ndim : en;
    st = st < 0 ? 0 : (st > x->ndim ? x->ndim : st);
    en = en < st ? st : (en > x->ndim ? x->ndim : en);
    d[0] = en - st;
    nn_shape_set_out(c->o, NN_DT_I64, 1, d);
    int64_t *y = nn_shape_out_alloc(c->o);
    if (!y) return Q_ERR_NOMEM;
    for (int64_t i = st; i < en; i++)
        y[i - st] = x->dims[i];
    *c->host_done = 1; /* only the dims are needed: always known */
    return Q_OK;
}

q_status nn_shape_gather(nn_shape_ctx *c) {
    const nn_pval *x = c->x, *ix = nn_shape_in(c, 1);
    int64_t d[NN_MAX_DIMS];
    int nd = 0, ax = nn_axis(nn_attr_int(c->n, "axis", 0), x->ndim);
    if (!ix || ax < 0 || !ix->host || ix->dtype != NN_DT_I64 || !x->host)
        return SHAPE_FAIL(Q_ERR_UNSUPPORTED,
                          "only Gather on constants (shape arithmetic) is supported");
    if (x->ndim + ix->ndim - 1 > NN_MAX_DIMS)
        return SHAPE_FAIL(Q_ERR_UNSUPPORTED, "too many dimensions");
    for (int i = 0; i < ax; i++)
        d[nd++] = x->dims[i];
    for (int i = 0; i < ix->ndim; i++)
        d[nd++] = ix->dims[i];
    for (int i = ax + 1; i < x->ndim; i++)
        d[nd++] = x->dims[i];
    nn_shape_set_out(c->o, x->dtype, nd, d);
    char *y = nn_shape_out_alloc(c->o);
    if (!y) return Q_ERR_NOMEM;
    int64_t outer = nn_numel(ax, x->dims), inner = nn_numel(x->ndim - ax - 1, x->dims + ax + 1);
    int64_t ni = nn_numel(ix->ndim, ix->dims), esz = (int64_t)nn_dtype_size(x->dtype);
    for (int64_t oo = 0; oo < outer; oo++)
        for (int64_t j = 0; j < ni; j++) {
            int64_t k = ((const int64_t *)ix->host)[j];
            if (k < 0) k += x->dims[ax];
            if (k < 0 || k >= x->dims[ax])
                return SHAPE_FAIL(Q_ERR_FORMAT, "index %lld out of range", (long long)k);
            memcpy(y + ((oo * ni + j) * inner) * esz,
                   (const char *)x->host + ((oo * x->dims[ax] + k) * inner) * esz,
                   (size_t)(inner * esz));
        }
    *c->host_done = 1;
    return Q_OK;
}
