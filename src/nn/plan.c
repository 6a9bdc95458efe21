/* The per-input-shape plan: shapes of every value, shape arithmetic folded on
 * the host, the list of nodes to run, and the memory plan -- one arena whose
 * offsets reuse the bytes of values that are dead (best-fit over the gaps
 * between live blocks). Built once per input shape and cached by exec.c. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/params.h"

enum { PLAN_ALIGN = 64 };

static void shape_desc(char *buf, size_t cap, const nn_shape *s) {
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < s->ndim && o < cap; i++) {
        if (s->dims[i] < 0)
            o += (size_t)snprintf(buf + o, cap - o, "%s?", i ? "," : "");
        else
            o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? "," : "", (long long)s->dims[i]);
    }
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

static q_status check_input(const nn_model *m, const nn_shape *in) {
    const nn_shape *d = &m->in_decl;
    int ok = in->ndim == d->ndim || d->ndim == 0;
    for (int i = 0; ok && i < in->ndim; i++) {
        if (in->dims[i] < 1 || in->dims[i] > (1 << 20)) ok = 0;
        if (d->ndim && d->dims[i] > 0 && d->dims[i] != in->dims[i]) ok = 0;
    }
    if (ok) return Q_OK;
    char a[128], b[128];
    shape_desc(a, sizeof(a), in);
    shape_desc(b, sizeof(b), d);
    return Q_FAIL(Q_ERR_USAGE, "input '%s' has shape %s, the model expects %s",
                  m->vals[m->input].name, a, b);
}

static int root_of(const nn_pval *pv, int v) {
    while (pv[v].alias >= 0)
        v = pv[v].alias;
    return v;
}

typedef struct {
    int64_t off, size;
    int v; /* the value that owns the block */
} block;

static int block_cmp(const void *a, const void *b) {
    int64_t x = ((const block *)a)->off, y = ((const block *)b)->off;
    return x < y ? -1 : x > y;
}

/* Assigns arena offsets to the root runtime values. */
static q_status plan_memory(nn_model *m, nn_plan *p) {
    nn_pval *pv = p->pv;
    int nv = m->nvals;
    block *live = malloc(sizeof(block) * (size_t)(nv + 1));
    if (!live) return Q_FAIL(Q_ERR_NOMEM, "out of memory planning");
    int nlive = 0;
    int64_t top = 0;
    /* Position -1 defines the input; position i the outputs of order[i]. */
    for (int pos = -1; pos < p->norder; pos++) {
        int v = pos < 0 ? m->input : m->nodes[p->order[pos]].out;
        if (pv[v].alias < 0 && !pv[v].host) {
            int64_t size =
                (int64_t)((size_t)nn_numel(pv[v].ndim, pv[v].dims) * nn_dtype_size(pv[v].dtype));
            size = (size + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN;
            if (size == 0) size = PLAN_ALIGN;
            qsort(live, (size_t)nlive, sizeof(block), block_cmp);
            int64_t best = -1, best_gap = INT64_MAX, prev_end = 0;
            for (int i = 0; i <= nlive; i++) {
                int64_t next = i < nlive ? live[i].off : INT64_MAX;
                int64_t gap = next - prev_end;
                if (gap >= size && (i < nlive ? gap : INT64_MAX - 1) < best_gap) {
                    best = prev_end;
                    best_gap = i < nlive ? gap : INT64_MAX - 1;
                }
                if (i < nlive && live[i].off + live[i].size > prev_end)
                    prev_end = live[i].off + live[i].size;
            }
            pv[v].offset = best;
            live[nlive].v = v;
            live[nlive].off = best;
            live[nlive].size = size;
            nlive++;
            if (best + size > top) top = best + size;
        }
        /* Free the blocks of values whose last use is this position. */
        for (int i = 0; i < nlive;) {
            if (pv[live[i].v].last <= pos) {
                live[i] = live[--nlive];
                continue;
            }
            i++;
        }
    }
    free(live);
    p->arena_bytes = (size_t)top;
    return Q_OK;
}

void nn_plan_free(nn_model *m, nn_plan *p) {
    if (!p) return;
    if (p->pv) {
        for (int v = 0; v < m->nvals; v++) {
            if (p->pv[v].dev && !m->be->iface->host_memory && !p->pv[v].dev_shared)
                m->be->iface->free_buf(m->be, p->pv[v].dev);
            if (p->pv[v].owns_host) free(p->pv[v].host);
        }
    }
    free(p->pv);
    free(p->order);
    free(p->params);
    free(p);
}

static void tensor_of(const nn_plan *p, int v, nn_tensor *t) {
    const nn_pval *x = &p->pv[v];
    t->dtype = x->dtype;
    t->ndim = x->ndim;
    t->dims = x->dims;
    t->host = x->host;
    t->data = NULL;
}

q_status nn_plan_build(nn_model *m, const nn_shape *in, nn_plan **out) {
    q_status st = check_input(m, in);
    *out = NULL;
    if (st) return st;
    nn_plan *p = calloc(1, sizeof(*p));
    if (!p || !(p->pv = calloc((size_t)m->nvals, sizeof(nn_pval))) ||
        !(p->order = malloc(sizeof(int) * (size_t)(m->nnodes + 1)))) {
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory planning");
        goto fail;
    }
    p->in_shape = *in;
    nn_pval *pv = p->pv;
    for (int v = 0; v < m->nvals; v++) {
        pv[v].alias = -1;
        pv[v].offset = -1;
        pv[v].first = INT_MAX;
        pv[v].last = -2;
        if (m->vals[v].cdata) {
            pv[v].dtype = m->vals[v].dtype;
            pv[v].ndim = m->vals[v].ndim;
            memcpy(pv[v].dims, m->vals[v].dims, sizeof(pv[v].dims));
            pv[v].host = m->vals[v].cdata;
        }
    }
    pv[m->input].dtype = NN_DT_F32;
    pv[m->input].ndim = in->ndim;
    memcpy(pv[m->input].dims, in->dims, sizeof(int64_t) * (size_t)in->ndim);
    pv[m->input].first = -1;
    for (int i = 0; i < m->nnodes; i++) {
        nn_node *n = &m->nodes[i];
        if (n->dead) continue;
        int done = 0;
        if ((st = nn_shape_node(m, i, pv, 0, &done))) goto fail;
        nn_pval *o = &pv[n->out];
        /* Kernels index with int products of dims: keep every tensor below
         * 2^30 elements (a corrupt model can ask for anything). */
        int64_t numel = 1;
        for (int d = 0; d < o->ndim; d++) {
            if (o->dims[d] < 0 || (o->dims[d] && numel > ((int64_t)1 << 30) / o->dims[d])) {
                st = Q_FAIL(Q_ERR_NOMEM, "%s: output of %s elements is too large",
                            nn_node_desc(m, n),
                            o->dims[d] < 0 ? "a negative number of" : "more than 2^30");
                goto fail;
            }
            numel *= o->dims[d];
        }
        if (done) continue;
        if (o->dtype != NN_DT_F32) {
            st = Q_FAIL(Q_ERR_UNSUPPORTED,
                        "%s: integer tensors computed at run time are not supported",
                        nn_node_desc(m, n));
            goto fail;
        }
        int pos = p->norder;
        o->first = pos;
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] >= 0 && !pv[n->in[k]].host) pv[n->in[k]].last = pos;
        nn_op op = n->op;
        if (op == NN_OP_RESHAPE || op == NN_OP_FLATTEN || op == NN_OP_SQUEEZE ||
            op == NN_OP_UNSQUEEZE || op == NN_OP_IDENTITY || op == NN_OP_CAST) {
            o->alias = n->in[0]; /* same bytes: nothing to run */
            continue;
        }
        p->order[p->norder++] = i;
    }
    if (!pv[m->output].dtype) {
        st = Q_FAIL(Q_ERR_FORMAT, "graph output '%s' is not computed by any node",
                    m->vals[m->output].name);
        goto fail;
    }
    pv[m->output].last = INT_MAX;
    /* An alias keeps its root alive as long as itself. */
    for (int v = 0; v < m->nvals; v++)
        if (pv[v].alias >= 0) {
            int r = root_of(pv, v);
            if (pv[v].last > pv[r].last) pv[r].last = pv[v].last;
        }
    for (int v = 0; v < m->nvals; v++)
        if (pv[v].alias >= 0) {
            int r = root_of(pv, v);
            if (pv[r].last > pv[v].last) pv[v].last = pv[r].last;
        }
    if ((st = plan_memory(m, p))) goto fail;
    if (!(p->params = calloc((size_t)p->norder + 1, sizeof(nn_params)))) {
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory planning");
        goto fail;
    }
    /* Backend: capability, scratch, arena, constants. */
    const nn_backend_i *bi = m->be->iface;
    size_t ws = 0;
    for (int k = 0; k < p->norder; k++) {
        const nn_node *n = &m->nodes[p->order[k]];
        nn_tensor ti[NN_MAX_IN], to;
        memset(ti, 0, sizeof(ti));
        for (int j = 0; j < n->nin; j++)
            if (n->in[j] >= 0) tensor_of(p, n->in[j], &ti[j]);
        tensor_of(p, n->out, &to);
        if ((st = nn_params_build(m, n, ti, &to, &p->params[k]))) goto fail;
        if (!bi->supports_op(m->be, n, &p->params[k])) {
            st = Q_FAIL(Q_ERR_UNSUPPORTED, "%s is not supported by the %s backend for these shapes",
                        nn_node_desc(m, n), bi->name);
            goto fail;
        }
        size_t w = bi->workspace(m->be, n, &p->params[k]);
        ws = w > ws ? w : ws;
        for (int j = 0; j < n->nin; j++) {
            nn_pval *x = n->in[j] >= 0 ? &pv[n->in[j]] : NULL;
            if (!x || !x->host || x->dev) continue;
            if (bi->host_memory) {
                x->dev = x->host;
                continue;
            }
            size_t bytes = (size_t)nn_numel(x->ndim, x->dims) * nn_dtype_size(x->dtype);
            /* Model constants (not values folded by this plan, whose host
             * memory dies with it) are shared by every plan. */
            if (bi->constant && x->host == m->vals[n->in[j]].cdata) {
                if (!(x->dev = bi->constant(m->be, x->host, bytes))) {
                    st = q_errcode();
                    goto fail;
                }
                x->dev_shared = 1;
                continue;
            }
            if (!(x->dev = bi->alloc(m->be, bytes ? bytes : 1)) ||
                (st = bi->upload(m->be, x->dev, x->host, bytes))) {
                st = st ? st : q_errcode();
                goto fail;
            }
        }
    }
    p->workspace_bytes = ws;
    if ((st = bi->reserve(m->be, ws))) goto fail;
    *out = p;
    return Q_OK;
fail:
    nn_plan_free(m, p);
    return st;
}
