/* Load-time folding: activation parameters read once into the node, nodes
 * whose inputs are all constants evaluated on the host, BatchNormalization
 * folded into the Conv/ConvTranspose before it, dead nodes removed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_private.h"

static int is_const(const nn_model *m, int v) {
    return v >= 0 && m->vals[v].cdata;
}

static float const_scalar(const nn_model *m, int v, float def) {
    if (v < 0 || !m->vals[v].cdata || nn_numel(m->vals[v].ndim, m->vals[v].dims) != 1) return def;
    if (m->vals[v].dtype == NN_DT_F32) return *(const float *)m->vals[v].cdata;
    return (float)*(const int64_t *)m->vals[v].cdata;
}

/* Reads each activation's parameters into n->act/act_a/act_b. */
static q_status normalize_acts(nn_model *m) {
    for (int i = 0; i < m->nnodes; i++) {
        nn_node *n = &m->nodes[i];
        switch (n->op) {
        case NN_OP_RELU:
            n->act = NN_ACT_RELU;
            break;
        case NN_OP_SIGMOID:
            n->act = NN_ACT_SIGMOID;
            break;
        case NN_OP_HARD_SIGMOID:
            n->act = NN_ACT_HARD_SIGMOID;
            n->act_a = nn_attr_float(n, "alpha", 0.2f);
            n->act_b = nn_attr_float(n, "beta", 0.5f);
            break;
        case NN_OP_HARD_SWISH:
            n->act = NN_ACT_HARD_SWISH;
            n->act_a = 1.f / 6.f;
            n->act_b = 0.5f;
            break;
        case NN_OP_CLIP:
            n->act = NN_ACT_CLIP;
            if (m->opset < 11) {
                n->act_a = nn_attr_float(n, "min", -INFINITY);
                n->act_b = nn_attr_float(n, "max", INFINITY);
            } else {
                for (int k = 1; k < n->nin && k < 3; k++)
                    if (n->in[k] >= 0 &&
                        (!is_const(m, n->in[k]) ||
                         nn_numel(m->vals[n->in[k]].ndim, m->vals[n->in[k]].dims) != 1))
                        return Q_FAIL(Q_ERR_UNSUPPORTED, "%s: min/max must be constant scalars",
                                      nn_node_desc(m, n));
                n->act_a = const_scalar(m, n->nin > 1 ? n->in[1] : -1, -INFINITY);
                n->act_b = const_scalar(m, n->nin > 2 ? n->in[2] : -1, INFINITY);
                n->nin = 1; /* min/max now live in the node */
            }
            break;
        default:
            break;
        }
    }
    return Q_OK;
}

q_status nn_pass_fold_constants(nn_model *m) {
    q_status st = normalize_acts(m);
    if (st) return st;
    nn_pval *pv = calloc((size_t)m->nvals, sizeof(nn_pval));
    if (!pv) return Q_FAIL(Q_ERR_NOMEM, "out of memory folding constants");
    for (int v = 0; v < m->nvals; v++) {
        if (!m->vals[v].cdata) continue;
        pv[v].dtype = m->vals[v].dtype;
        pv[v].ndim = m->vals[v].ndim;
        memcpy(pv[v].dims, m->vals[v].dims, sizeof(pv[v].dims));
        pv[v].host = m->vals[v].cdata;
    }
    for (int i = 0; i < m->nnodes; i++) {
        nn_node *n = &m->nodes[i];
        int all = !n->dead && n->nin > 0;
        for (int k = 0; k < n->nin && all; k++)
            if (n->in[k] >= 0 && !pv[n->in[k]].host) all = 0;
        if (!all) continue;
        int done = 0;
        if ((st = nn_shape_node(m, i, pv, 1, &done))) goto fail;
        if (!done) continue;
        nn_pval *o = &pv[n->out];
        nn_value *v = &m->vals[n->out];
        size_t bytes = (size_t)nn_numel(o->ndim, o->dims) * nn_dtype_size(o->dtype);
        if (!o->owns_host) {
            void *c = malloc(bytes ? bytes : 1);
            if (!c) {
                st = Q_FAIL(Q_ERR_NOMEM, "out of memory folding constants");
                goto fail;
            }
            memcpy(c, o->host, bytes);
            o->host = c;
        }
        o->owns_host = 0; /* the model value owns it now */
        v->cdata = o->host;
        v->dtype = o->dtype;
        v->ndim = o->ndim;
        memcpy(v->dims, o->dims, sizeof(v->dims));
        v->producer = -1;
        n->dead = 1;
    }
    st = Q_OK;
fail:
    for (int v = 0; v < m->nvals; v++)
        if (pv[v].owns_host) free(pv[v].host);
    free(pv);
    return st;
}

/* Conv (or ConvTranspose) followed by BatchNormalization, the conv's output
 * used by nothing else: scale the weights and bias per output channel. */
q_status nn_pass_fold_batchnorm(nn_model *m) {
    nn_graph_count_uses(m);
    for (int i = 0; i < m->nnodes; i++) {
        nn_node *bn = &m->nodes[i];
        if (bn->dead || bn->op != NN_OP_BATCH_NORM || bn->nin < 5 || bn->in[0] < 0) continue;
        int p = m->vals[bn->in[0]].producer;
        if (p < 0) continue;
        nn_node *cv = &m->nodes[p];
        if (cv->dead || (cv->op != NN_OP_CONV && cv->op != NN_OP_CONV_TRANSPOSE) || cv->act ||
            cv->post_scale >= 0 || cv->post_shift >= 0 || m->vals[cv->out].uses != 1 ||
            cv->nin < 2 || !is_const(m, cv->in[1]) ||
            (cv->nin > 2 && cv->in[2] >= 0 && !is_const(m, cv->in[2])))
            continue;
        const nn_value *w = &m->vals[cv->in[1]];
        if (w->ndim != 4 || w->dtype != NN_DT_F32) continue;
        int64_t group = nn_attr_int(cv, "group", 1);
        int64_t cout = cv->op == NN_OP_CONV ? w->dims[0] : w->dims[1] * group;
        int ok = 1;
        for (int k = 1; k < 5; k++)
            if (!is_const(m, bn->in[k]) || m->vals[bn->in[k]].dtype != NN_DT_F32 ||
                nn_numel(m->vals[bn->in[k]].ndim, m->vals[bn->in[k]].dims) != cout)
                ok = 0;
        if (!ok) continue;
        const float *gam = m->vals[bn->in[1]].cdata, *bet = m->vals[bn->in[2]].cdata;
        const float *mean = m->vals[bn->in[3]].cdata, *var = m->vals[bn->in[4]].cdata;
        float eps = nn_attr_float(bn, "epsilon", 1e-5f);
        int64_t wn = nn_numel(4, w->dims);
        float *nw = malloc(sizeof(float) * (size_t)wn), *nb = malloc(sizeof(float) * (size_t)cout);
        if (!nw || !nb) {
            free(nw);
            free(nb);
            return Q_FAIL(Q_ERR_NOMEM, "out of memory folding BatchNormalization");
        }
        const float *ow = w->cdata;
        const float *ob = cv->nin > 2 && cv->in[2] >= 0 ? m->vals[cv->in[2]].cdata : NULL;
        for (int64_t c = 0; c < cout; c++) {
            /* Computed in double so that the folded weights round once. */
            double sc = gam[c] / sqrt((double)var[c] + eps);
            nb[c] = (float)(((ob ? ob[c] : 0.0) - mean[c]) * sc + bet[c]);
        }
        for (int64_t e = 0; e < wn; e++) {
            int64_t c = nn_conv_weight_channel(cv, w, group, e);
            nw[e] = (float)(ow[e] * (gam[c] / sqrt((double)var[c] + eps)));
        }
        q_status st = nn_conv_set_params(m, cv, nw, nb, cout);
        if (st) return st;
        m->vals[cv->out].producer = -1;
        cv->out = bn->out;
        m->vals[bn->out].producer = p;
        bn->dead = 1;
    }
    return Q_OK;
}

/* Marks nodes whose output nobody reads, until nothing changes, and frees
 * constants nothing reads any more. */
void nn_pass_remove_dead(nn_model *m) {
    for (;;) {
        nn_graph_count_uses(m);
        int changed = 0;
        for (int i = 0; i < m->nnodes; i++) {
            nn_node *n = &m->nodes[i];
            if (!n->dead && m->vals[n->out].uses == 0) {
                n->dead = 1;
                m->vals[n->out].producer = -1;
                changed = 1;
            }
        }
        if (!changed) break;
    }
    for (int v = 0; v < m->nvals; v++)
        if (m->vals[v].uses == 0 && m->vals[v].cdata && v != m->output) {
            free(m->vals[v].cdata);
            m->vals[v].cdata = NULL;
        }
}
