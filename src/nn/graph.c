/* The graph container: values (named tensors, some constant), nodes, their
 * attributes, the op-name map from ops.def and use counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_private.h"

static const char *const op_names[] = {
#define NN_OP(id, onnx, kernel, shape) [NN_OP_##id] = onnx,
#include "nn/ops.def"
#undef NN_OP
};

const char *nn_op_name(nn_op op) {
    return op < NN_OP_COUNT ? op_names[op] : "?";
}

int nn_op_from_name(const char *name) {
    for (int i = 0; i < NN_OP_COUNT; i++)
        if (!strcmp(op_names[i], name)) return i;
    return -1;
}

int64_t nn_numel(int ndim, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= dims[i];
    return n;
}

size_t nn_dtype_size(nn_dtype dt) {
    return dt == NN_DT_I64 ? 8 : 4;
}

static uint64_t name_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static int hash_lookup(const nn_model *m, const char *s, size_t n, size_t *slot) {
    if (!m->hash_cap) return -1;
    size_t i = name_hash(s, n) & (m->hash_cap - 1);
    while (m->hash[i] >= 0) {
        const char *vn = m->vals[m->hash[i]].name;
        if (vn && strlen(vn) == n && !memcmp(vn, s, n)) return m->hash[i];
        i = (i + 1) & (m->hash_cap - 1);
    }
    if (slot) *slot = i;
    return -1;
}

static q_status hash_grow(nn_model *m) {
    size_t cap = m->hash_cap ? m->hash_cap * 2 : 1024;
    int *h = malloc(cap * sizeof(int));
    if (!h) return Q_FAIL(Q_ERR_NOMEM, "out of memory building the graph");
    memset(h, 0xff, cap * sizeof(int));
    free(m->hash);
    m->hash = h;
    m->hash_cap = cap;
    for (int v = 0; v < m->nvals; v++) {
        const char *vn = m->vals[v].name;
        size_t i = name_hash(vn, strlen(vn)) & (cap - 1);
        while (h[i] >= 0)
            i = (i + 1) & (cap - 1);
        h[i] = v;
    }
    return Q_OK;
}

static int add_value(nn_model *m, char *name) {
    if (m->nvals == m->cap_vals) {
        int cap = m->cap_vals ? m->cap_vals * 2 : 256;
        nn_value *p = realloc(m->vals, sizeof(nn_value) * (size_t)cap);
        if (!p) {
            free(name);
            Q_FAIL(Q_ERR_NOMEM, "out of memory building the graph");
            return -1;
        }
        m->vals = p;
        m->cap_vals = cap;
    }
    if ((size_t)(m->nvals + 1) * 2 > m->hash_cap && hash_grow(m)) {
        free(name);
        return -1;
    }
    nn_value *v = &m->vals[m->nvals];
    memset(v, 0, sizeof(*v));
    v->name = name;
    v->dtype = NN_DT_F32;
    v->producer = -1;
    size_t slot;
    hash_lookup(m, name, strlen(name), &slot);
    m->hash[slot] = m->nvals;
    return m->nvals++;
}

int nn_graph_value(nn_model *m, const char *name, size_t len) {
    if (len == 0 || memchr(name, 0, len)) {
        Q_FAIL(Q_ERR_FORMAT, "empty or invalid tensor name");
        return -1;
    }
    int id = hash_lookup(m, name, len, NULL);
    if (id >= 0) return id;
    char *s = malloc(len + 1);
    if (!s) {
        Q_FAIL(Q_ERR_NOMEM, "out of memory building the graph");
        return -1;
    }
    memcpy(s, name, len);
    s[len] = 0;
    return add_value(m, s);
}

int nn_graph_find(const nn_model *m, const char *name) {
    return hash_lookup(m, name, strlen(name), NULL);
}

int nn_graph_new_const(nn_model *m, const char *hint, nn_dtype dt, int ndim, const int64_t *dims,
                       void *owned_data) {
    char buf[96];
    snprintf(buf, sizeof(buf), "%.60s/folded.%d", hint, m->nvals);
    int id = nn_graph_value(m, buf, strlen(buf));
    if (id < 0) {
        free(owned_data);
        return -1;
    }
    nn_value *v = &m->vals[id];
    v->dtype = dt;
    v->ndim = ndim;
    memcpy(v->dims, dims, sizeof(int64_t) * (size_t)ndim);
    v->cdata = owned_data;
    return id;
}

int64_t nn_conv_weight_channel(const nn_node *cv, const nn_value *w, int64_t group, int64_t e) {
    int64_t kk = w->dims[2] * w->dims[3];
    if (cv->op == NN_OP_CONV) return e / (w->dims[1] * kk);
    int64_t ci = e / (w->dims[1] * kk), co = e / kk % w->dims[1];
    return ci / (w->dims[0] / group) * w->dims[1] + co;
}

q_status nn_conv_set_params(nn_model *m, nn_node *cv, float *nw, float *nb, int64_t cout) {
    int64_t wd[4];
    /* copied first: adding values may move m->vals */
    memcpy(wd, m->vals[cv->in[1]].dims, sizeof(wd));
    int wid = nn_graph_new_const(m, m->vals[cv->out].name, NN_DT_F32, 4, wd, nw);
    if (wid < 0) {
        free(nb);
        return q_errcode();
    }
    int bid = nn_graph_new_const(m, m->vals[cv->out].name, NN_DT_F32, 1, &cout, nb);
    if (bid < 0) return q_errcode();
    cv->in[1] = wid;
    cv->in[2] = bid;
    if (cv->nin < 3) cv->nin = 3;
    return Q_OK;
}

nn_node *nn_graph_add_node(nn_model *m) {
    if (m->nnodes == m->cap_nodes) {
        int cap = m->cap_nodes ? m->cap_nodes * 2 : 256;
        nn_node *p = realloc(m->nodes, sizeof(nn_node) * (size_t)cap);
        if (!p) {
            Q_FAIL(Q_ERR_NOMEM, "out of memory building the graph");
            return NULL;
        }
        m->nodes = p;
        m->cap_nodes = cap;
    }
    nn_node *n = &m->nodes[m->nnodes++];
    memset(n, 0, sizeof(*n));
    n->out = -1;
    n->post_scale = n->post_shift = -1;
    return n;
}

void nn_graph_count_uses(nn_model *m) {
    for (int v = 0; v < m->nvals; v++)
        m->vals[v].uses = 0;
    for (int i = 0; i < m->nnodes; i++) {
        nn_node *n = &m->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] >= 0) m->vals[n->in[k]].uses++;
        if (n->post_scale >= 0) m->vals[n->post_scale].uses++;
        if (n->post_shift >= 0) m->vals[n->post_shift].uses++;
    }
    if (m->output >= 0) m->vals[m->output].uses++;
}

void nn_graph_free(nn_model *m) {
    for (int v = 0; v < m->nvals; v++) {
        free(m->vals[v].name);
        free(m->vals[v].cdata);
    }
    for (int i = 0; i < m->nnodes; i++) {
        nn_node *n = &m->nodes[i];
        for (int a = 0; a < n->nattrs; a++) {
            free(n->attrs[a].name);
            free(n->attrs[a].s);
            free(n->attrs[a].ints);
            free(n->attrs[a].floats);
        }
        free(n->attrs);
        free(n->name);
    }
    free(m->vals);
    free(m->nodes);
    free(m->hash);
    m->vals = NULL;
    m->nodes = NULL;
    m->hash = NULL;
    m->nvals = m->nnodes = 0;
}

const nn_attr *nn_attr_find(const nn_node *n, const char *name) {
    for (int i = 0; i < n->nattrs; i++)
        if (!strcmp(n->attrs[i].name, name)) return &n->attrs[i];
    return NULL;
}

int64_t nn_attr_int(const nn_node *n, const char *name, int64_t def) {
    const nn_attr *a = nn_attr_find(n, name);
    return a ? a->i : def;
}

float nn_attr_float(const nn_node *n, const char *name, float def) {
    const nn_attr *a = nn_attr_find(n, name);
    return a ? a->f : def;
}

const char *nn_attr_str(const nn_node *n, const char *name, const char *def) {
    const nn_attr *a = nn_attr_find(n, name);
    return a && a->s ? a->s : def;
}

int nn_attr_ints(const nn_node *n, const char *name, const int64_t **v) {
    const nn_attr *a = nn_attr_find(n, name);
    if (!a || !a->ints) {
        *v = NULL;
        return 0;
    }
    *v = a->ints;
    return a->n;
}

const char *nn_node_desc(const nn_model *m, const nn_node *n) {
    static _Thread_local char buf[160];
    snprintf(buf, sizeof(buf), "%s node '%.100s'", nn_op_name(n->op),
             n->name ? n->name : m->vals[n->out].name);
    return buf;
}
