/* ONNX reader: ModelProto -> GraphProto -> NodeProto / TensorProto /
 * AttributeProto / ValueInfoProto, straight from the protobuf wire format into
 * the engine's graph (nn_private.h). Constant nodes and initializers both
 * become constant values. Bad bytes are errors that name the byte offset. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_private.h"
#include "nn/onnx_wire.h"

enum { NN_MAX_NUMEL = 1 << 28 }; /* 1 GiB of floats: anything larger is corrupt */

static char *dup_bytes(const pb_reader *s) {
    size_t n = s->end - s->pos;
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s->base + s->pos, n);
    p[n] = 0;
    return p;
}

/* Appends one int64 to a growing array. */
static q_status push_i64(int64_t **a, int *n, int64_t v) {
    if ((*n & (*n - 1)) == 0) {
        size_t cap = *n ? (size_t)*n * 2 : 1;
        if (cap > (1u << 24)) return Q_FAIL(Q_ERR_FORMAT, "too many integers in one field");
        int64_t *p = realloc(*a, cap * sizeof(int64_t));
        if (!p) return Q_FAIL(Q_ERR_NOMEM, "out of memory reading the model");
        *a = p;
    }
    (*a)[(*n)++] = v;
    return Q_OK;
}

/* Reads a repeated int64 field entry, packed or not. */
static q_status read_ints(pb_reader *r, int wire, int64_t **a, int *n) {
    q_status st;
    if (wire == PB_LEN) {
        pb_reader sub;
        if ((st = pb_sub(r, &sub))) return st;
        while (pb_more(&sub)) {
            uint64_t v;
            if ((st = pb_varint(&sub, &v)) || (st = push_i64(a, n, (int64_t)v))) return st;
        }
        return Q_OK;
    }
    int64_t v;
    if ((st = pb_int(r, wire, &v))) return st;
    return push_i64(a, n, v);
}

/* ---- TensorProto ---------------------------------------------------------- */
typedef struct {
    int64_t dims[NN_MAX_DIMS];
    int ndim;
    int dtype; /* ONNX data type */
    nn_dtype dt;
    void *data;
    char *name;
} tensor_in;

enum { ONNX_FLOAT = 1, ONNX_INT32 = 6, ONNX_INT64 = 7, ONNX_BOOL = 9, ONNX_DOUBLE = 11 };

/* Value k of t from a float or double of the file. A value an integer tensor
 * cannot hold (NaN, infinite, beyond int64) is a format error: converting it
 * is undefined behaviour (found by fuzz_onnx); a double beyond float's range
 * becomes an infinity, as the float the file could have held. */
static q_status store_real(tensor_in *t, size_t k, double d, size_t at) {
    if (t->dt == NN_DT_F32) {
        ((float *)t->data)[k] = d > FLT_MAX ? INFINITY : d < -FLT_MAX ? -INFINITY : (float)d;
        return Q_OK;
    }
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return Q_FAIL(Q_ERR_FORMAT, "integer tensor value %g out of range at byte %zu", d, at);
    ((int64_t *)t->data)[k] = (int64_t)d;
    return Q_OK;
}

static q_status parse_tensor(pb_reader *r, size_t at, tensor_in *t) {
    q_status st;
    pb_reader raw = {0};
    int have_raw = 0;
    size_t ntyped = 0;
    int64_t *dims = NULL;
    int ndims = 0;
    memset(t, 0, sizeof(*t));
    t->dtype = ONNX_FLOAT;
    /* Pass 1: metadata, and where the data sits. Typed data may come packed
     * (one LEN field) or as single entries; pass 2 below reads either. */
    pb_reader scan = *r;
    while (pb_more(&scan)) {
        uint32_t f;
        int w;
        if ((st = pb_key(&scan, &f, &w))) goto fail;
        size_t fat = scan.pos;
        if (f == 1) {
            if ((st = read_ints(&scan, w, &dims, &ndims))) goto fail;
        } else if (f == 2) {
            int64_t v;
            if ((st = pb_int(&scan, w, &v))) goto fail;
            t->dtype = (int)v;
        } else if (f == 8 && w == PB_LEN) {
            pb_reader s;
            if ((st = pb_sub(&scan, &s))) goto fail;
            free(t->name);
            if (!(t->name = dup_bytes(&s))) {
                st = Q_FAIL(Q_ERR_NOMEM, "out of memory reading the model");
                goto fail;
            }
        } else if (f == 9 && w == PB_LEN) {
            if ((st = pb_sub(&scan, &raw))) goto fail;
            have_raw = 1;
        } else if (f == 13 || (f == 14)) {
            st = Q_FAIL(Q_ERR_UNSUPPORTED, "tensor at byte %zu keeps its data in an external file",
                        fat);
            goto fail;
        } else if (f == 4 || f == 5 || f == 7 || f == 10) {
            int ew = (f == 4) ? PB_I32 : (f == 10 ? PB_I64 : PB_VARINT);
            size_t c = 1;
            if (w == PB_LEN) {
                pb_reader s;
                if ((st = pb_sub(&scan, &s)) || (st = pb_packed_count(&s, ew, &c))) goto fail;
            } else if (w != ew) {
                st = Q_FAIL(Q_ERR_FORMAT, "tensor data field %u has wire type %d at byte %zu", f, w,
                            fat);
                goto fail;
            } else if ((st = pb_skip(&scan, w)))
                goto fail;
            ntyped += c;
        } else if ((st = pb_skip(&scan, w)))
            goto fail;
    }
    if (ndims > NN_MAX_DIMS) {
        st = Q_FAIL(Q_ERR_UNSUPPORTED, "tensor at byte %zu has %d dimensions (at most %d)", at,
                    ndims, NN_MAX_DIMS);
        goto fail;
    }
    int64_t numel = 1;
    for (int i = 0; i < ndims; i++) {
        if (dims[i] < 0 || dims[i] > NN_MAX_NUMEL || (numel *= dims[i]) > NN_MAX_NUMEL) {
            st = Q_FAIL(Q_ERR_FORMAT, "tensor at byte %zu has an invalid or too large shape", at);
            goto fail;
        }
        t->dims[i] = dims[i];
    }
    t->ndim = ndims;
    size_t esz;
    switch (t->dtype) {
    case ONNX_FLOAT:
        t->dt = NN_DT_F32;
        esz = 4;
        break;
    case ONNX_DOUBLE:
        t->dt = NN_DT_F32;
        esz = 8;
        break;
    case ONNX_INT32:
        t->dt = NN_DT_I64;
        esz = 4;
        break;
    case ONNX_INT64:
        t->dt = NN_DT_I64;
        esz = 8;
        break;
    case ONNX_BOOL:
        t->dt = NN_DT_I64;
        esz = 1;
        break;
    default:
        st = Q_FAIL(Q_ERR_UNSUPPORTED, "tensor at byte %zu has unsupported data type %d", at,
                    t->dtype);
        goto fail;
    }
    size_t out_esz = nn_dtype_size(t->dt);
    t->data = calloc((size_t)numel ? (size_t)numel : 1, out_esz);
    if (!t->data) {
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory reading the model");
        goto fail;
    }
    if (have_raw) {
        size_t len = raw.end - raw.pos;
        if (len != (size_t)numel * esz) {
            st = Q_FAIL(Q_ERR_FORMAT, "tensor at byte %zu: raw_data has %zu bytes, shape needs %zu",
                        at, len, (size_t)numel * esz);
            goto fail;
        }
        const uint8_t *p = raw.base + raw.pos;
        for (int64_t i = 0; i < numel; i++, p += esz) {
            /* Little-endian by the ONNX spec; memcpy assumes a little-endian host. */
            if (t->dtype == ONNX_FLOAT)
                memcpy((float *)t->data + i, p, 4);
            else if (t->dtype == ONNX_DOUBLE) {
                double d;
                memcpy(&d, p, 8);
                ((float *)t->data)[i] = (float)d;
            } else if (t->dtype == ONNX_INT64)
                memcpy((int64_t *)t->data + i, p, 8);
            else if (t->dtype == ONNX_INT32) {
                int32_t v;
                memcpy(&v, p, 4);
                ((int64_t *)t->data)[i] = v;
            } else
                ((int64_t *)t->data)[i] = p[0] != 0;
        }
    } else {
        if (ntyped != (size_t)numel) {
            st = Q_FAIL(Q_ERR_FORMAT, "tensor at byte %zu has %zu values, its shape needs %lld", at,
                        ntyped, (long long)numel);
            goto fail;
        }
        /* Pass 2: decode the typed values in order. */
        size_t k = 0;
        scan = *r;
        while (pb_more(&scan)) {
            uint32_t f;
            int w;
            if ((st = pb_key(&scan, &f, &w))) goto fail;
            if (f != 4 && f != 5 && f != 7 && f != 10) {
                if ((st = pb_skip(&scan, w))) goto fail;
                continue;
            }
            pb_reader s = scan;
            int packed = w == PB_LEN;
            if (packed && (st = pb_sub(&scan, &s))) goto fail;
            do {
                uint64_t u = 0;
                uint32_t u32 = 0;
                pb_reader *src = packed ? &s : &scan;
                if (f == 4) {
                    if ((st = pb_fixed32(src, &u32))) goto fail;
                    union {
                        uint32_t u;
                        float f;
                    } c = {.u = u32};
                    if ((st = store_real(t, k, c.f, src->pos))) goto fail;
                } else if (f == 10) {
                    if (src->end - src->pos < 8) {
                        st = Q_FAIL(Q_ERR_FORMAT, "truncated double at byte %zu", src->pos);
                        goto fail;
                    }
                    double d;
                    memcpy(&d, src->base + src->pos, 8);
                    src->pos += 8;
                    if ((st = store_real(t, k, d, src->pos))) goto fail;
                } else {
                    if ((st = pb_varint(src, &u))) goto fail;
                    int64_t v = f == 5 ? (int64_t)(int32_t)u : (int64_t)u;
                    if (t->dt == NN_DT_F32)
                        ((float *)t->data)[k] = (float)v;
                    else
                        ((int64_t *)t->data)[k] = v;
                }
                k++;
            } while (packed && pb_more(&s) && k < ntyped);
        }
    }
    free(dims);
    return Q_OK;
fail:
    free(dims);
    free(t->data);
    free(t->name);
    t->data = NULL;
    t->name = NULL;
    return st;
}

/* Gives value `vid` the tensor's contents (and shape). */
static q_status set_const(nn_model *m, int vid, tensor_in *t, size_t at) {
    nn_value *v = &m->vals[vid];
    if (v->cdata || v->producer >= 0) {
        free(t->data);
        t->data = NULL;
        return Q_FAIL(Q_ERR_FORMAT, "value '%s' defined twice (byte %zu)", v->name, at);
    }
    v->cdata = t->data;
    t->data = NULL;
    v->dtype = t->dt;
    v->ndim = t->ndim;
    memcpy(v->dims, t->dims, sizeof(v->dims));
    return Q_OK;
}

/* ---- AttributeProto ------------------------------------------------------- */
static q_status parse_attr(nn_model *m, pb_reader *r, nn_attr *a, tensor_in *tensor,
                           int *has_tensor) {
    q_status st;
    memset(a, 0, sizeof(*a));
    while (pb_more(r)) {
        uint32_t f;
        int w;
        if ((st = pb_key(r, &f, &w))) return st;
        size_t at = r->pos;
        pb_reader s;
        switch (f) {
        case 1:
        case 4:
            if (w != PB_LEN)
                return Q_FAIL(Q_ERR_FORMAT, "attribute string has wire type %d at byte %zu", w, at);
            if ((st = pb_sub(r, &s))) return st;
            char **dst = f == 1 ? &a->name : &a->s;
            free(*dst);
            if (!(*dst = dup_bytes(&s)))
                return Q_FAIL(Q_ERR_NOMEM, "out of memory reading the model");
            break;
        case 2:
            if ((st = pb_float(r, w, &a->f))) return st;
            break;
        case 3:
            if ((st = pb_int(r, w, &a->i))) return st;
            break;
        case 20: {
            int64_t v;
            if ((st = pb_int(r, w, &v))) return st;
            a->type = (nn_attr_type)v;
            break;
        }
        case 8:
            if ((st = read_ints(r, w, &a->ints, &a->n))) return st;
            break;
        case 7: {
            /* floats: only packed or single; kept as a small array */
            float v;
            if (w == PB_LEN) {
                if ((st = pb_sub(r, &s))) return st;
                while (pb_more(&s)) {
                    if ((st = pb_float(&s, PB_I32, &v))) return st;
                    float *p = realloc(a->floats, sizeof(float) * ((size_t)a->n + 1));
                    if (!p) return Q_FAIL(Q_ERR_NOMEM, "out of memory reading the model");
                    a->floats = p;
                    a->floats[a->n++] = v;
                }
            } else {
                if ((st = pb_float(r, w, &v))) return st;
                float *p = realloc(a->floats, sizeof(float) * ((size_t)a->n + 1));
                if (!p) return Q_FAIL(Q_ERR_NOMEM, "out of memory reading the model");
                a->floats = p;
                a->floats[a->n++] = v;
            }
            break;
        }
        case 5:
            if (w != PB_LEN)
                return Q_FAIL(Q_ERR_FORMAT, "attribute tensor has wire type %d at byte %zu", w, at);
            if ((st = pb_sub(r, &s))) return st;
            if (*has_tensor) {
                free(tensor->data);
                free(tensor->name);
                *has_tensor = 0;
            }
            if ((st = parse_tensor(&s, at, tensor))) return st;
            *has_tensor = 1;
            break;
        default:
            if ((st = pb_skip(r, w))) return st;
        }
    }
    (void)m;
    if (!a->name)
        return Q_FAIL(Q_ERR_FORMAT, "attribute without a name ending at byte %zu", r->pos);
    return Q_OK;
}

/* ---- NodeProto ------------------------------------------------------------ */
static q_status parse_node(nn_model *m, pb_reader *r, size_t at) {
    q_status st = Q_OK;
    char *op_type = NULL, *domain = NULL, *name = NULL;
    pb_reader ins[NN_MAX_IN + 1], outs[2];
    int nin = 0, nout = 0;
    tensor_in tensor = {0};
    int has_tensor = 0;
    nn_attr *attrs = NULL;
    int nattrs = 0;
    while (pb_more(r)) {
        uint32_t f;
        int w;
        if ((st = pb_key(r, &f, &w))) goto fail;
        size_t fat = r->pos;
        pb_reader s;
        if ((f >= 1 && f <= 5) || f == 7) {
            if (w != PB_LEN) {
                st = Q_FAIL(Q_ERR_FORMAT, "node field %u has wire type %d at byte %zu", f, w, fat);
                goto fail;
            }
            if ((st = pb_sub(r, &s))) goto fail;
        } else {
            if ((st = pb_skip(r, w))) goto fail;
            continue;
        }
        if (f == 1) {
            if (nin > NN_MAX_IN) {
                st = Q_FAIL(Q_ERR_UNSUPPORTED, "node at byte %zu has more than %d inputs", at,
                            NN_MAX_IN);
                goto fail;
            }
            ins[nin++] = s;
        } else if (f == 2) {
            if (nout >= 2) {
                st = Q_FAIL(Q_ERR_UNSUPPORTED, "node at byte %zu has more than one output", at);
                goto fail;
            }
            outs[nout++] = s;
        } else if (f == 3 || f == 4 || f == 7) {
            char **dst = f == 3 ? &name : (f == 4 ? &op_type : &domain);
            free(*dst);
            if (!(*dst = dup_bytes(&s))) {
                st = Q_FAIL(Q_ERR_NOMEM, "out of memory reading the model");
                goto fail;
            }
        } else if (f == 5) {
            nn_attr *p = realloc(attrs, sizeof(nn_attr) * ((size_t)nattrs + 1));
            if (!p) {
                st = Q_FAIL(Q_ERR_NOMEM, "out of memory reading the model");
                goto fail;
            }
            attrs = p;
            st = parse_attr(m, &s, &attrs[nattrs++], &tensor, &has_tensor);
            if (st) goto fail;
        }
    }
    if (!op_type) {
        st = Q_FAIL(Q_ERR_FORMAT, "node at byte %zu has no op_type", at);
        goto fail;
    }
    int op = nn_op_from_name(op_type);
    if ((domain && *domain && strcmp(domain, "ai.onnx")) || op < 0) {
        st = Q_FAIL(Q_ERR_UNSUPPORTED, "unsupported operator %s%s%s (node '%s')",
                    domain && *domain ? domain : "", domain && *domain ? "::" : "", op_type,
                    name ? name : "?");
        goto fail;
    }
    if (nin > NN_MAX_IN) {
        st = Q_FAIL(Q_ERR_UNSUPPORTED, "%s node '%s' has more than %d inputs", op_type,
                    name ? name : "?", NN_MAX_IN);
        goto fail;
    }
    if (nout < 1 || outs[0].end == outs[0].pos) {
        st = Q_FAIL(Q_ERR_FORMAT, "%s node at byte %zu has no output", op_type, at);
        goto fail;
    }
    if (nout > 1 && outs[1].end > outs[1].pos) {
        st = Q_FAIL(Q_ERR_UNSUPPORTED, "%s node '%s' with more than one output", op_type,
                    name ? name : "?");
        goto fail;
    }
    int out =
        nn_graph_value(m, (const char *)outs[0].base + outs[0].pos, outs[0].end - outs[0].pos);
    if (out < 0) {
        st = q_errcode();
        goto fail;
    }
    if (op == NN_OP_CONSTANT) {
        if (!has_tensor) {
            st = Q_FAIL(Q_ERR_UNSUPPORTED, "Constant node '%s' without a 'value' tensor",
                        name ? name : "?");
            goto fail;
        }
        if ((st = set_const(m, out, &tensor, at))) goto fail;
        goto done;
    }
    if (m->vals[out].cdata || m->vals[out].producer >= 0) {
        st = Q_FAIL(Q_ERR_FORMAT, "value '%s' defined twice (node at byte %zu)", m->vals[out].name,
                    at);
        goto fail;
    }
    nn_node *n = nn_graph_add_node(m);
    if (!n) {
        st = q_errcode();
        goto fail;
    }
    n->op = (nn_op)op;
    n->name = name;
    name = NULL;
    n->attrs = attrs;
    n->nattrs = nattrs;
    attrs = NULL;
    nattrs = 0;
    n->nin = nin;
    for (int i = 0; i < nin; i++) {
        if (ins[i].end == ins[i].pos) {
            n->in[i] = -1;
            continue;
        }
        n->in[i] =
            nn_graph_value(m, (const char *)ins[i].base + ins[i].pos, ins[i].end - ins[i].pos);
        if (n->in[i] < 0) {
            st = q_errcode();
            goto fail;
        }
    }
    n->out = out;
    m->vals[out].producer = (int)(n - m->nodes);
done:
fail:
    for (int i = 0; i < nattrs; i++) {
        free(attrs[i].name);
        free(attrs[i].s);
        free(attrs[i].ints);
        free(attrs[i].floats);
    }
    free(attrs);
    if (has_tensor) {
        free(tensor.data);
        free(tensor.name);
    }
    free(op_type);
    free(domain);
    free(name);
    return st;
}

/* ---- ValueInfoProto (graph inputs) ---------------------------------------- */
static q_status parse_value_info(pb_reader *r, pb_reader *name, nn_shape *shape) {
    q_status st;
    shape->ndim = 0;
    name->pos = name->end = 0;
    name->base = r->base;
    while (pb_more(r)) {
        uint32_t f;
        int w;
        if ((st = pb_key(r, &f, &w))) return st;
        if (w != PB_LEN) {
            if ((st = pb_skip(r, w))) return st;
            continue;
        }
        pb_reader s;
        if ((st = pb_sub(r, &s))) return st;
        if (f == 1) *name = s;
        if (f != 2) continue;
        /* TypeProto.tensor_type(1).shape(2).dim(1).{dim_value(1)|dim_param(2)} */
        while (pb_more(&s)) {
            pb_reader tt, sh;
            if ((st = pb_key(&s, &f, &w))) return st;
            if (f != 1 || w != PB_LEN) {
                if ((st = pb_skip(&s, w))) return st;
                continue;
            }
            if ((st = pb_sub(&s, &tt))) return st;
            while (pb_more(&tt)) {
                if ((st = pb_key(&tt, &f, &w))) return st;
                if (f != 2 || w != PB_LEN) {
                    if ((st = pb_skip(&tt, w))) return st;
                    continue;
                }
                if ((st = pb_sub(&tt, &sh))) return st;
                shape->ndim = 0;
                while (pb_more(&sh)) {
                    pb_reader d;
                    if ((st = pb_key(&sh, &f, &w))) return st;
                    if (f != 1 || w != PB_LEN) {
                        if ((st = pb_skip(&sh, w))) return st;
                        continue;
                    }
                    if ((st = pb_sub(&sh, &d))) return st;
                    if (shape->ndim >= NN_MAX_DIMS)
                        return Q_FAIL(Q_ERR_UNSUPPORTED, "graph input with more than %d dimensions",
                                      NN_MAX_DIMS);
                    int64_t v = -1;
                    while (pb_more(&d)) {
                        if ((st = pb_key(&d, &f, &w))) return st;
                        if (f == 1 && w == PB_VARINT) {
                            if ((st = pb_int(&d, w, &v))) return st;
                        } else if ((st = pb_skip(&d, w)))
                            return st;
                    }
                    shape->dims[shape->ndim++] = v > 0 ? v : -1;
                }
            }
        }
    }
    return Q_OK;
}

static q_status parse_graph(nn_model *m, pb_reader *r) {
    q_status st;
    pb_reader in_names[16], out_names[16];
    nn_shape in_shapes[16];
    int nin = 0, nout = 0;
    while (pb_more(r)) {
        uint32_t f;
        int w;
        if ((st = pb_key(r, &f, &w))) return st;
        size_t at = r->pos;
        if ((f != 1 && f != 5 && f != 11 && f != 12) || w != PB_LEN) {
            if ((st = pb_skip(r, w))) return st;
            continue;
        }
        pb_reader s;
        if ((st = pb_sub(r, &s))) return st;
        if (f == 1) {
            if ((st = parse_node(m, &s, at))) return st;
        } else if (f == 5) {
            tensor_in t;
            if ((st = parse_tensor(&s, at, &t))) return st;
            if (!t.name) {
                free(t.data);
                return Q_FAIL(Q_ERR_FORMAT, "initializer without a name at byte %zu", at);
            }
            int vid = nn_graph_value(m, t.name, strlen(t.name));
            free(t.name);
            if (vid < 0) {
                free(t.data);
                return q_errcode();
            }
            if ((st = set_const(m, vid, &t, at))) return st;
        } else {
            pb_reader name;
            nn_shape shape;
            if ((st = parse_value_info(&s, &name, &shape))) return st;
            if (f == 11 && nin < 16) {
                in_names[nin] = name;
                in_shapes[nin++] = shape;
            } else if (f == 12 && nout < 16)
                out_names[nout++] = name;
        }
    }
    /* Graph inputs that are also initializers are not real inputs. */
    m->input = m->output = -1;
    for (int i = 0; i < nin; i++) {
        int vid = nn_graph_value(m, (const char *)in_names[i].base + in_names[i].pos,
                                 in_names[i].end - in_names[i].pos);
        if (vid < 0) return q_errcode();
        if (m->vals[vid].cdata) continue;
        if (m->input >= 0)
            return Q_FAIL(Q_ERR_UNSUPPORTED, "models with more than one input are not supported");
        m->input = vid;
        m->in_decl = in_shapes[i];
    }
    if (m->input < 0) return Q_FAIL(Q_ERR_FORMAT, "the graph has no input");
    if (nout != 1)
        return Q_FAIL(nout ? Q_ERR_UNSUPPORTED : Q_ERR_FORMAT,
                      "the graph has %d outputs (one is supported)", nout);
    m->output = nn_graph_value(m, (const char *)out_names[0].base + out_names[0].pos,
                               out_names[0].end - out_names[0].pos);
    if (m->output < 0) return q_errcode();
    if (m->vals[m->input].producer >= 0)
        return Q_FAIL(Q_ERR_FORMAT, "graph input '%s' is also produced by a node",
                      m->vals[m->input].name);
    m->vals[m->input].dtype = NN_DT_F32;
    return Q_OK;
}

q_status nn_onnx_parse(nn_model *m, const uint8_t *data, size_t size) {
    pb_reader r = {data, 0, size}, graph = {0};
    int have_graph = 0;
    q_status st;
    m->opset = 0;
    while (pb_more(&r)) {
        uint32_t f;
        int w;
        if ((st = pb_key(&r, &f, &w))) return st;
        if (f == 7 && w == PB_LEN) {
            if ((st = pb_sub(&r, &graph))) return st;
            have_graph = 1;
        } else if (f == 8 && w == PB_LEN) {
            pb_reader s;
            if ((st = pb_sub(&r, &s))) return st;
            int64_t ver = 0;
            size_t dlen = 0;
            while (pb_more(&s)) {
                if ((st = pb_key(&s, &f, &w))) return st;
                if (f == 1 && w == PB_LEN) {
                    pb_reader d;
                    if ((st = pb_sub(&s, &d))) return st;
                    dlen = d.end - d.pos;
                    if (dlen == 7 && !memcmp(d.base + d.pos, "ai.onnx", 7)) dlen = 0;
                } else if (f == 2) {
                    if ((st = pb_int(&s, w, &ver))) return st;
                } else if ((st = pb_skip(&s, w)))
                    return st;
            }
            if (dlen == 0) m->opset = (int)(ver > 0 && ver < 1000 ? ver : 0);
        } else if ((st = pb_skip(&r, w)))
            return st;
    }
    if (!have_graph) return Q_FAIL(Q_ERR_FORMAT, "not an ONNX model: no graph in %zu bytes", size);
    if (m->opset < 1 || m->opset > 21)
        return Q_FAIL(Q_ERR_UNSUPPORTED, "ONNX opset %d is not supported (1..21)", m->opset);
    return parse_graph(m, &graph);
}
