/* The model's life cycle and the executor: load (parse, passes, backend),
 * find or build the plan for an input shape (small LRU cache), upload the
 * input, run the planned nodes on the backend, hand back the output. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/params.h"

static q_status model_check(nn_model *m) {
    for (int i = 0; i < m->nnodes; i++) {
        const nn_node *n = &m->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->nin; k++) {
            int v = n->in[k];
            if (v >= 0 && v != m->input && !m->vals[v].cdata && m->vals[v].producer < 0)
                return Q_FAIL(Q_ERR_FORMAT, "%s reads '%s', which no node produces",
                              nn_node_desc(m, n), m->vals[v].name);
            if (v >= 0 && m->vals[v].producer >= i)
                return Q_FAIL(Q_ERR_FORMAT,
                              "%s reads '%s' before it is computed (nodes out of order)",
                              nn_node_desc(m, n), m->vals[v].name);
        }
        q_status st = nn_params_check(m, n);
        if (st) return st;
        if (n->op != NN_OP_SHAPE && n->op != NN_OP_GATHER &&
            !m->be->iface->supports_op(m->be, n, NULL))
            return Q_FAIL(Q_ERR_UNSUPPORTED, "%s is not supported by the %s backend",
                          nn_node_desc(m, n), m->be->iface->name);
    }
    if (m->output == m->input) return Q_FAIL(Q_ERR_UNSUPPORTED, "the model's output is its input");
    if (!m->vals[m->output].cdata && m->vals[m->output].producer < 0)
        return Q_FAIL(Q_ERR_FORMAT, "graph output '%s' is not computed by any node",
                      m->vals[m->output].name);
    return Q_OK;
}

/* The optimised graph on stderr, one node a line (QUIRE_NN_DUMP=1). */
static void model_dump(const nn_model *m) {
    for (int i = 0; i < m->nnodes; i++) {
        const nn_node *n = &m->nodes[i];
        if (n->dead) continue;
        fprintf(stderr, "%4d %-18s", i, nn_op_name(n->op));
        for (int k = 0; k < n->nin; k++)
            fprintf(stderr, " %s", n->in[k] >= 0 ? m->vals[n->in[k]].name : "-");
        fprintf(stderr, " -> %s act=%d(%g,%g) post=%d,%d%s\n", m->vals[n->out].name, n->act,
                n->act_a, n->act_b, n->post_scale, n->post_shift, n->softmax ? " softmax" : "");
    }
}

static int cuda_device(void) {
    const char *names[] = {"QUIRE_CUDA_DEVICE", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"};
    for (size_t i = 0; i < Q_ARRAY_LEN(names); i++) {
        const char *s = getenv(names[i]);
        if (s && *s) return atoi(s);
    }
    return 0;
}

/* The backend the options ask for. AUTO takes CUDA when it opens and else the
 * CPU, saying why once per process. */
static q_status backend_open(nn_options *opt, nn_backend **be) {
    static atomic_int auto_said;
    if (opt->backend == NN_BACKEND_CUDA || opt->backend == NN_BACKEND_AUTO) {
        q_status st = nn_backend_cuda_new(cuda_device(), be);
        if (st == Q_OK || opt->backend == NN_BACKEND_CUDA) return st;
        if (!atomic_exchange(&auto_said, 1))
            q_log(Q_LOG_WARN, "nn: %s; running on the CPU", q_errmsg());
        q_errclear();
        opt->backend = NN_BACKEND_CPU;
    }
    return nn_backend_cpu_new(opt->threads, be);
}

q_status nn_model_load_mem(const void *data, size_t size, const nn_options *opt, nn_model **out) {
    q_status st;
    *out = NULL;
    nn_model *m = calloc(1, sizeof(*m));
    if (!m) return Q_FAIL(Q_ERR_NOMEM, "out of memory loading a model");
    if (opt) m->opt = *opt;
    if (m->opt.threads < 1) m->opt.threads = 1;
    if ((st = backend_open(&m->opt, &m->be))) goto fail;
    if ((st = nn_onnx_parse(m, data, size)) || (st = nn_pass_fold_constants(m))) goto fail;
    /* Twice: fusing a bias Add into a conv can put a BatchNormalization right
     * after it (PP-OCRv4 det's ConvTranspose + Add + BN + Relu). */
    for (int round = 0; round < 2 && !m->opt.no_fuse; round++)
        if ((st = nn_pass_fold_batchnorm(m)) || (st = nn_pass_fuse(m))) goto fail;
    nn_pass_remove_dead(m);
    if ((st = nn_int8_setup(m, data, size))) goto fail;
    if (!m->opt.no_fuse) nn_pass_fuse_int8(m);
    if (getenv("QUIRE_NN_DUMP")) model_dump(m);
    if (getenv("QUIRE_NN_PROFILE") && !(m->prof = calloc((size_t)m->nnodes, sizeof(double)))) {
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((st = model_check(m))) goto fail;
    *out = m;
    return Q_OK;
fail:
    nn_model_free(m);
    return st;
}

q_status nn_model_load(const char *path, const nn_options *opt, nn_model **out) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return Q_FAIL(Q_ERR_IO, "cannot open model %s", path);
    q_status st = Q_OK;
    uint8_t *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        st = Q_FAIL(Q_ERR_IO, "cannot read model %s", path);
        goto done;
    }
    if (!(buf = malloc((size_t)size + 1))) {
        st = Q_FAIL(Q_ERR_NOMEM, "model %s is too large (%ld bytes)", path, size);
        goto done;
    }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        st = Q_FAIL(Q_ERR_IO, "cannot read model %s", path);
        goto done;
    }
    if ((st = nn_model_load_mem(buf, (size_t)size, opt, out))) q_fail_context("%s", path);
    if (!st) {
        /* the file's stem names the inputs QUIRE_NN_SAVE_INPUTS saves */
        const char *b = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        size_t n = strlen(b) > 5 && !strcmp(b + strlen(b) - 5, ".onnx") ? strlen(b) - 5 : strlen(b);
        if (((*out)->name = malloc(n + 1))) {
            memcpy((*out)->name, b, n);
            (*out)->name[n] = 0;
        }
    }
done:
    free(buf);
    fclose(f);
    return st;
}

/* Time per op type and the slowest nodes, on stderr. */
static void profile_print(const nn_model *m) {
    double per_op[NN_OP_COUNT] = {0}, total = 0;
    for (int i = 0; i < m->nnodes; i++) {
        per_op[m->nodes[i].op] += m->prof[i];
        total += m->prof[i];
    }
    fprintf(stderr, "profile: %.1f ms in all\n", total * 1e3);
    for (int o = 0; o < NN_OP_COUNT; o++)
        if (per_op[o] > 0)
            fprintf(stderr, "  %-18s %8.1f ms %5.1f%%\n", nn_op_name((nn_op)o), per_op[o] * 1e3,
                    100 * per_op[o] / total);
    /* QUIRE_NN_PROFILE=N (N > 1) lists the N slowest nodes, else 25 */
    int top = atoi(getenv("QUIRE_NN_PROFILE"));
    for (int k = 0; k < (top > 1 ? top : 25); k++) {
        int best = -1;
        for (int i = 0; i < m->nnodes; i++)
            if (m->prof[i] > 0 && (best < 0 || m->prof[i] > m->prof[best])) best = i;
        if (best < 0) break;
        const nn_node *n = &m->nodes[best];
        const nn_pval *x = &m->plans[0]->pv[n->in[0]], *y = &m->plans[0]->pv[n->out];
        /* Weights' spatial size for convs (MACs = output x c_in/group x kh x kw). */
        long long kh = 0, kw = 0;
        if (n->nin > 1 && m->plans[0]->pv[n->in[1]].ndim == 4) {
            kh = (long long)m->plans[0]->pv[n->in[1]].dims[2];
            kw = (long long)m->plans[0]->pv[n->in[1]].dims[3];
        }
        fprintf(
            stderr,
            "  %8.2f ms %s [%lld,%lld,%lld,%lld] -> [%lld,%lld,%lld,%lld] group %lld k %lldx%lld\n",
            m->prof[best] * 1e3, nn_node_desc(m, n), (long long)x->dims[0], (long long)x->dims[1],
            (long long)x->dims[2], (long long)x->dims[3], (long long)y->dims[0],
            (long long)y->dims[1], (long long)y->dims[2], (long long)y->dims[3],
            (long long)nn_attr_int(n, "group", 1), kh, kw);
        m->prof[best] = -m->prof[best];
    }
}

void nn_model_free(nn_model *m) {
    if (!m) return;
    if (m->prof) {
        profile_print(m);
        free(m->prof);
    }
    if (m->calib_path) nn_int8_calib_write(m);
    free(m->calib_path);
    nn_int8_free(m);
    free(m->name);
    for (int i = 0; i < m->nplans; i++)
        nn_plan_free(m, m->plans[i]);
    if (m->arena) m->be->iface->free_buf(m->be, m->arena);
    if (m->be) m->be->iface->free(m->be);
    nn_graph_free(m);
    free(m->out_host);
    free(m);
}

void nn_model_input_shape(const nn_model *m, nn_shape *shape) {
    *shape = m->in_decl;
}
const char *nn_model_input_name(const nn_model *m) {
    return m->vals[m->input].name;
}
const char *nn_model_output_name(const nn_model *m) {
    return m->vals[m->output].name;
}

int nn_model_node_count(const nn_model *m) {
    int c = 0;
    for (int i = 0; i < m->nnodes; i++)
        c += !m->nodes[i].dead;
    return c;
}

int nn_model_int8_layers(const nn_model *m) {
    int k = 0;
    for (int i = 0; m->q8 && i < m->nnodes; i++)
        k += m->q8[i].on && !m->nodes[i].dead;
    return k;
}

const char *nn_model_backend(const nn_model *m) {
    return m->be->iface->name;
}

size_t nn_model_arena_bytes(const nn_model *m) {
    return m->nplans ? m->plans[m->last_plan]->arena_bytes : 0;
}

static int same_shape(const nn_shape *a, const nn_shape *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

static q_status get_plan(nn_model *m, const nn_shape *in, nn_plan **out) {
    for (int i = 0; i < m->nplans; i++)
        if (same_shape(&m->plans[i]->in_shape, in)) {
            /* Move to the front: the cache evicts from the back. */
            nn_plan *p = m->plans[i];
            memmove(m->plans + 1, m->plans, sizeof(nn_plan *) * (size_t)i);
            m->plans[0] = p;
            *out = p;
            return Q_OK;
        }
    nn_plan *p;
    q_status st = nn_plan_build(m, in, &p);
    if (st) return st;
    if (m->nplans == NN_PLAN_CACHE) nn_plan_free(m, m->plans[--m->nplans]);
    memmove(m->plans + 1, m->plans, sizeof(nn_plan *) * (size_t)m->nplans);
    m->plans[0] = p;
    m->nplans++;
    *out = p;
    return Q_OK;
}

static void *value_ptr(const nn_model *m, const nn_plan *p, int v) {
    while (p->pv[v].alias >= 0)
        v = p->pv[v].alias;
    if (p->pv[v].dev) return p->pv[v].dev;
    return (char *)m->arena + p->pv[v].offset;
}

/* Grows the shared arena to the plan's size (contents need not survive). */
static q_status arena_fit(nn_model *m, const nn_plan *p) {
    size_t need = p->arena_bytes ? p->arena_bytes : 64;
    if (m->arena && need <= m->arena_cap) return Q_OK;
    if (m->arena) m->be->iface->free_buf(m->be, m->arena);
    m->arena_cap = 0;
    if (!(m->arena = m->be->iface->alloc(m->be, need))) return q_errcode();
    m->arena_cap = need;
    return Q_OK;
}

q_status nn_model_run(nn_model *m, const float *input, const nn_shape *in_shape,
                      const float **output, nn_shape *out_shape) {
    nn_plan *p;
    q_status st = get_plan(m, in_shape, &p);
    if (!st) st = arena_fit(m, p);
    if (st) return st;
    nn_int8_save_input(m, input, in_shape);
    m->last_plan = 0;
    const nn_backend_i *bi = m->be->iface;
    size_t in_bytes = (size_t)nn_numel(in_shape->ndim, in_shape->dims) * sizeof(float);
    if ((st = bi->upload(m->be, value_ptr(m, p, m->input), input, in_bytes))) return st;
    for (int k = 0; k < p->norder; k++) {
        const nn_node *n = &m->nodes[p->order[k]];
        nn_tensor ti[NN_MAX_IN], to;
        memset(ti, 0, sizeof(ti));
        for (int j = 0; j < n->nin; j++) {
            int v = n->in[j];
            if (v < 0) continue;
            ti[j] = (nn_tensor){p->pv[v].dtype, p->pv[v].ndim, p->pv[v].dims, value_ptr(m, p, v),
                                p->pv[v].host};
        }
        to = (nn_tensor){NN_DT_F32, p->pv[n->out].ndim, p->pv[n->out].dims, value_ptr(m, p, n->out),
                         NULL};
        if (m->calib_path && (n->op == NN_OP_CONV || n->op == NN_OP_MATMUL) && bi->host_memory)
            nn_int8_observe(m, p->order[k], ti[0].data, ti[0].ndim, ti[0].dims);
        double t0 = m->prof ? q_now() : 0;
        if ((st = bi->run(m->be, m, n, &p->params[k], ti, &to))) return st;
        if (m->prof && p->runs > 0) {
            bi->sync(m->be);
            m->prof[p->order[k]] += q_now() - t0;
        }
    }
    if ((st = bi->sync(m->be))) return st;
    p->runs++;
    const nn_pval *o = &p->pv[m->output];
    out_shape->ndim = o->ndim;
    memcpy(out_shape->dims, o->dims, sizeof(int64_t) * (size_t)o->ndim);
    if (o->dtype != NN_DT_F32)
        return Q_FAIL(Q_ERR_UNSUPPORTED, "the model's output is not float32");
    if (o->host) {
        *output = o->host;
        return Q_OK;
    }
    if (bi->host_memory) {
        *output = value_ptr(m, p, m->output);
        return Q_OK;
    }
    size_t bytes = (size_t)nn_numel(o->ndim, o->dims) * sizeof(float);
    if (bytes > m->out_host_cap) {
        float *b = realloc(m->out_host, bytes);
        if (!b) return Q_FAIL(Q_ERR_NOMEM, "out of memory for the output");
        m->out_host = b;
        m->out_host_cap = bytes;
    }
    if ((st = bi->download(m->be, m->out_host, value_ptr(m, p, m->output), bytes))) return st;
    *output = m->out_host;
    return Q_OK;
}
