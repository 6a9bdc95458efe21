/* Fusion passes on Conv/ConvTranspose outputs:
 *  - a following Mul/Add by a per-channel constant is folded into the weights
 *    and bias (PP-OCRv4's "learnable affine" blocks, BN-like scales);
 *  - the activation after it becomes the conv's epilogue: Relu, Clip,
 *    HardSigmoid, Sigmoid, HardSwish and the exported HardSwish patterns
 *    x*Clip(x+3,0,6)/6 and x*HardSigmoid(x);
 *  - a per-channel Mul/Add after the activation becomes the post-affine;
 * and on int8 MatMuls (after the int8 table is read), the bias Add and the
 * Softmax after the recognizer's classifier. */
#include <stdlib.h>
#include <string.h>

#include "nn/nn_private.h"

static int consumers(const nn_model *m, int v, int *out, int max) {
    int c = 0;
    for (int i = 0; i < m->nnodes; i++) {
        const nn_node *n = &m->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] == v) {
                if (c < max) out[c] = i;
                c++;
                break;
            }
    }
    return c;
}

/* The sole consumer of v, or -1 (graph outputs have no sole consumer). */
static int sole_consumer(const nn_model *m, int v) {
    int c;
    if (v == m->output || consumers(m, v, &c, 1) != 1) return -1;
    return c;
}

static int is_conv(const nn_node *n) {
    return !n->dead && (n->op == NN_OP_CONV || n->op == NN_OP_CONV_TRANSPOSE);
}

static int64_t conv_cout(const nn_model *m, const nn_node *cv) {
    const nn_value *w = &m->vals[cv->in[1]];
    if (w->ndim != 4) return -1;
    return cv->op == NN_OP_CONV ? w->dims[0] : w->dims[1] * nn_attr_int(cv, "group", 1);
}

/* For a binary node with `v` as one input: the other input when it is a float
 * constant that is a scalar or broadcasts along the channel axis only. */
static int channel_const(const nn_model *m, const nn_node *n, int v, int64_t cout) {
    if (n->nin != 2) return -1;
    int other = n->in[0] == v ? n->in[1] : n->in[0];
    if (other < 0 || other == v || !m->vals[other].cdata || m->vals[other].dtype != NN_DT_F32)
        return -1;
    /* Div/Sub only with the conv output on the left. */
    if ((n->op == NN_OP_DIV || n->op == NN_OP_SUB) && n->in[0] != v) return -1;
    const nn_value *c = &m->vals[other];
    int64_t cnt = nn_numel(c->ndim, c->dims);
    if (cnt == 1) return c->ndim <= 4 ? other : -1;
    if (cnt != cout || c->ndim < 3 || c->ndim > 4) return -1;
    /* Aligned to NCHW from the right, the non-1 axis must be C. */
    return c->dims[c->ndim - 3] == cout ? other : -1;
}

static float cval(const nn_model *m, int c, int64_t i) {
    const float *p = m->vals[c].cdata;
    return nn_numel(m->vals[c].ndim, m->vals[c].dims) == 1 ? p[0] : p[i];
}

/* Bypasses node `n` (single input v -> output): the conv writes n's output. */
static void take_output(nn_model *m, nn_node *cv, nn_node *n) {
    int ci = (int)(cv - m->nodes);
    m->vals[cv->out].producer = -1;
    cv->out = n->out;
    m->vals[n->out].producer = ci;
    n->dead = 1;
}

static q_status fold_affine(nn_model *m, nn_node *cv, int *changed) {
    int c = sole_consumer(m, cv->out);
    if (c < 0 || cv->act != NN_ACT_NONE || cv->post_scale >= 0 || cv->post_shift >= 0) return Q_OK;
    nn_node *n = &m->nodes[c];
    if (n->op != NN_OP_MUL && n->op != NN_OP_ADD && n->op != NN_OP_SUB && n->op != NN_OP_DIV)
        return Q_OK;
    int64_t cout = conv_cout(m, cv);
    int k = channel_const(m, n, cv->out, cout);
    if (k < 0 || !m->vals[cv->in[1]].cdata ||
        (cv->nin > 2 && cv->in[2] >= 0 && !m->vals[cv->in[2]].cdata))
        return Q_OK;
    const nn_value *w = &m->vals[cv->in[1]];
    int64_t wn = nn_numel(4, w->dims);
    float *nw = malloc(sizeof(float) * (size_t)wn), *nb = malloc(sizeof(float) * (size_t)cout);
    if (!nw || !nb) {
        free(nw);
        free(nb);
        return Q_FAIL(Q_ERR_NOMEM, "out of memory fusing");
    }
    const float *ob = cv->nin > 2 && cv->in[2] >= 0 ? m->vals[cv->in[2]].cdata : NULL;
    memcpy(nw, w->cdata, sizeof(float) * (size_t)wn);
    int64_t group = nn_attr_int(cv, "group", 1);
    for (int64_t ch = 0; ch < cout; ch++) {
        float b = ob ? ob[ch] : 0.f, s = cval(m, k, ch);
        nb[ch] = n->op == NN_OP_MUL   ? b * s
                 : n->op == NN_OP_DIV ? b / s
                 : n->op == NN_OP_ADD ? b + s
                                      : b - s;
    }
    if (n->op == NN_OP_MUL || n->op == NN_OP_DIV)
        for (int64_t e = 0; e < wn; e++) {
            int64_t ch = nn_conv_weight_channel(cv, w, group, e);
            nw[e] = n->op == NN_OP_MUL ? nw[e] * cval(m, k, ch) : nw[e] / cval(m, k, ch);
        }
    q_status st = nn_conv_set_params(m, cv, nw, nb, cout);
    if (st) return st;
    take_output(m, cv, n);
    *changed = 1;
    return Q_OK;
}

static int const_scalar_is(const nn_model *m, int v, float want) {
    if (v < 0 || !m->vals[v].cdata || m->vals[v].dtype != NN_DT_F32 ||
        nn_numel(m->vals[v].ndim, m->vals[v].dims) != 1)
        return 0;
    float f = *(const float *)m->vals[v].cdata;
    return f == want || (f > want * 0.999999f && f < want * 1.000001f);
}

/* x*Clip(x+3, 0, 6)/6 or x*HardSigmoid(x) on the conv output. */
static void fuse_hardswish(nn_model *m, nn_node *cv, int *changed) {
    int x = cv->out, cs[3];
    if (x == m->output || consumers(m, x, cs, 3) != 2) return;
    for (int t = 0; t < 2; t++) {
        nn_node *a = &m->nodes[cs[t]], *mul = &m->nodes[cs[1 - t]];
        if (mul->op != NN_OP_MUL || mul->nin != 2) continue;
        if (a->op == NN_OP_HARD_SIGMOID) {
            int other = mul->in[0] == x ? mul->in[1] : mul->in[0];
            if (other != a->out || sole_consumer(m, a->out) != cs[1 - t]) continue;
            cv->act = NN_ACT_HARD_SWISH;
            cv->act_a = a->act_a;
            cv->act_b = a->act_b;
            a->dead = 1;
            take_output(m, cv, mul);
            *changed = 1;
            return;
        }
        if (a->op != NN_OP_ADD || a->nin != 2) continue;
        int k3 = a->in[0] == x ? a->in[1] : a->in[0];
        if (!const_scalar_is(m, k3, 3.f)) continue;
        int ci = sole_consumer(m, a->out);
        if (ci < 0) continue;
        nn_node *clip = &m->nodes[ci];
        if (clip->op != NN_OP_CLIP || clip->act_a != 0.f || clip->act_b != 6.f) continue;
        int other = mul->in[0] == x ? mul->in[1] : mul->in[0];
        int di = sole_consumer(m, mul->out);
        if (other != clip->out || sole_consumer(m, clip->out) != cs[1 - t] || di < 0) continue;
        nn_node *div = &m->nodes[di];
        if (!((div->op == NN_OP_DIV && div->in[0] == mul->out &&
               const_scalar_is(m, div->in[1], 6.f)) ||
              (div->op == NN_OP_MUL &&
               const_scalar_is(m, div->in[0] == mul->out ? div->in[1] : div->in[0], 1.f / 6.f))))
            continue;
        cv->act = NN_ACT_HARD_SWISH;
        cv->act_a = 1.f / 6.f;
        cv->act_b = 0.5f;
        a->dead = clip->dead = mul->dead = 1;
        take_output(m, cv, div);
        *changed = 1;
        return;
    }
}

static void fuse_act(nn_model *m, nn_node *cv, int *changed) {
    if (cv->act != NN_ACT_NONE || cv->post_scale >= 0 || cv->post_shift >= 0) return;
    int c = sole_consumer(m, cv->out);
    if (c >= 0) {
        nn_node *a = &m->nodes[c];
        int is_act = a->op == NN_OP_RELU || a->op == NN_OP_CLIP || a->op == NN_OP_HARD_SIGMOID ||
                     a->op == NN_OP_HARD_SWISH || a->op == NN_OP_SIGMOID;
        if (is_act && a->act != NN_ACT_NONE && a->nin >= 1 && a->in[0] == cv->out) {
            cv->act = a->act;
            cv->act_a = a->act_a;
            cv->act_b = a->act_b;
            take_output(m, cv, a);
            *changed = 1;
            return;
        }
    }
    fuse_hardswish(m, cv, changed);
}

/* After the activation: y*s (+t) per channel. */
static void fuse_post(nn_model *m, nn_node *cv, int *changed) {
    if (cv->act == NN_ACT_NONE || cv->post_shift >= 0) return;
    int c = sole_consumer(m, cv->out);
    if (c < 0) return;
    nn_node *n = &m->nodes[c];
    int64_t cout = conv_cout(m, cv);
    int k = channel_const(m, n, cv->out, cout);
    if (k < 0) return;
    if (n->op == NN_OP_MUL && cv->post_scale < 0) {
        cv->post_scale = k;
    } else if (n->op == NN_OP_ADD) {
        cv->post_shift = k;
    } else
        return;
    take_output(m, cv, n);
    *changed = 1;
}

q_status nn_pass_fuse(nn_model *m) {
    int changed = 1;
    while (changed) {
        changed = 0;
        for (int i = 0; i < m->nnodes; i++) {
            if (!is_conv(&m->nodes[i]) || m->nodes[i].nin < 2 || m->nodes[i].in[1] < 0) continue;
            q_status st = fold_affine(m, &m->nodes[i], &changed);
            if (st) return st;
            fuse_act(m, &m->nodes[i], &changed);
            fuse_post(m, &m->nodes[i], &changed);
        }
    }
    return Q_OK;
}

/* The constant other input of Add node `n` (one input v) when it is a bias
 * per column of an n-column output: `cols` floats, every axis but the last 1. */
static int column_bias(const nn_model *m, const nn_node *n, int v, int64_t cols) {
    if (n->op != NN_OP_ADD || n->nin != 2) return -1;
    int other = n->in[0] == v ? n->in[1] : n->in[0];
    if (other < 0 || other == v || !m->vals[other].cdata || m->vals[other].dtype != NN_DT_F32)
        return -1;
    const nn_value *c = &m->vals[other];
    if (c->ndim < 1 || c->dims[c->ndim - 1] != cols || nn_numel(c->ndim, c->dims) != cols)
        return -1;
    return other;
}

/* The rank of value v where the graph says it without shapes: a
 * Transpose's output has as many axes as its perm; else -1. */
static int known_rank(const nn_model *m, int v) {
    int p = m->vals[v].producer;
    const int64_t *perm;
    if (p < 0 || m->nodes[p].op != NN_OP_TRANSPOSE) return -1;
    int n = nn_attr_ints(&m->nodes[p], "perm", &perm);
    return n > 0 ? n : -1;
}

/* Softmax node s over the last axis of the output of MatMul mm (B 2-D):
 * axis -1, or axis rank - 1 where the rank is known. Before opset 13 an
 * axis flattens the axes from it on, so it is the last one only then too. */
static int softmax_last(const nn_model *m, const nn_node *mm, const nn_node *s) {
    int64_t ax = nn_attr_int(s, "axis", m->opset < 13 ? 1 : -1);
    if (ax == -1) return 1;
    int r = known_rank(m, mm->in[0]);
    return r >= 2 && ax == r - 1;
}

void nn_pass_fuse_int8(nn_model *m) {
    for (int i = 0; m->q8 && i < m->nnodes; i++) {
        nn_node *mm = &m->nodes[i];
        if (mm->dead || mm->op != NN_OP_MATMUL || !m->q8[i].on || mm->post_shift >= 0) continue;
        const nn_value *b = &m->vals[mm->in[1]];
        int c = sole_consumer(m, mm->out);
        int bias = c < 0 ? -1 : column_bias(m, &m->nodes[c], mm->out, b->dims[b->ndim - 1]);
        if (bias < 0) continue;
        mm->post_shift = bias;
        take_output(m, mm, &m->nodes[c]);
        int s = sole_consumer(m, mm->out);
        if (s >= 0 && m->nodes[s].op == NN_OP_SOFTMAX && m->nodes[s].in[0] == mm->out &&
            softmax_last(m, mm, &m->nodes[s])) {
            mm->softmax = 1;
            take_output(m, mm, &m->nodes[s]);
        }
    }
}
