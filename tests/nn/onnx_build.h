/* Writes small ONNX models in memory for the nn tests: a protobuf wire-format
 * writer and a one-node graph builder (one float input, constant inputs as
 * initializers, attributes of the kinds the engine reads). Field numbers are
 * those of onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto). */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *b;
    size_t n, cap;
} ob_buf;

static inline void ob_put(ob_buf *w, const void *p, size_t n) {
    if (w->n + n > w->cap) {
        size_t cap = (w->n + n) * 2 + 64;
        uint8_t *b = realloc(w->b, cap);
        if (!b) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        w->b = b;
        w->cap = cap;
    }
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static inline void ob_varint(ob_buf *w, uint64_t v) {
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        c |= v ? 0x80 : 0;
        ob_put(w, &c, 1);
    } while (v);
}

static inline void ob_bytes(ob_buf *w, int field, const void *p, size_t n) {
    ob_varint(w, (uint64_t)field << 3 | 2);
    ob_varint(w, n);
    ob_put(w, p, n);
}

/* Appends sub-message `m` as field `field` and frees it. */
static inline void ob_msg(ob_buf *w, int field, ob_buf *m) {
    ob_bytes(w, field, m->b, m->n);
    free(m->b);
    *m = (ob_buf){0};
}

static inline void ob_str(ob_buf *w, int field, const char *s) {
    ob_bytes(w, field, s, strlen(s));
}

static inline void ob_int(ob_buf *w, int field, int64_t v) {
    ob_varint(w, (uint64_t)field << 3);
    ob_varint(w, (uint64_t)v);
}

/* ---- attributes (AttributeProto type: 1 float, 2 int, 3 string, 7 ints) ---- */
static inline void ob_attr_int(ob_buf *node, const char *name, int64_t v) {
    ob_buf a = {0};
    ob_str(&a, 1, name);
    ob_int(&a, 3, v);
    ob_int(&a, 20, 2);
    ob_msg(node, 5, &a);
}

static inline void ob_attr_float(ob_buf *node, const char *name, float v) {
    ob_buf a = {0};
    ob_str(&a, 1, name);
    ob_varint(&a, 2 << 3 | 5);
    ob_put(&a, &v, 4);
    ob_int(&a, 20, 1);
    ob_msg(node, 5, &a);
}

static inline void ob_attr_str(ob_buf *node, const char *name, const char *v) {
    ob_buf a = {0};
    ob_str(&a, 1, name);
    ob_str(&a, 4, v);
    ob_int(&a, 20, 3);
    ob_msg(node, 5, &a);
}

static inline void ob_attr_ints(ob_buf *node, const char *name, int n, const int64_t *v) {
    ob_buf a = {0};
    ob_str(&a, 1, name);
    for (int i = 0; i < n; i++)
        ob_int(&a, 8, v[i]);
    ob_int(&a, 20, 7);
    ob_msg(node, 5, &a);
}

/* ---- tensors ---- */
static inline void ob_tensor_msg(ob_buf *t, const char *name, int dtype, int ndim,
                                 const int64_t *dims, const void *data) {
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        ob_int(t, 1, dims[i]);
        count *= (size_t)dims[i];
    }
    ob_int(t, 2, dtype);
    ob_str(t, 8, name);
    ob_bytes(t, 9, data, count * (dtype == 7 ? 8 : 4));
}

/* A tensor attribute (AttributeProto type 4), as Constant's `value`. */
static inline void ob_attr_tensor(ob_buf *node, const char *name, int ndim, const int64_t *dims,
                                  const float *v) {
    ob_buf a = {0}, t = {0};
    ob_str(&a, 1, name);
    ob_tensor_msg(&t, "value", 1, ndim, dims, v);
    ob_msg(&a, 5, &t);
    ob_int(&a, 20, 4);
    ob_msg(node, 5, &a);
}

/* ---- an initializer of float (1) or int64 (7) values ---- */
static inline void ob_tensor(ob_buf *graph, const char *name, int dtype, int ndim,
                             const int64_t *dims, const void *data) {
    ob_buf t = {0};
    ob_tensor_msg(&t, name, dtype, ndim, dims, data);
    ob_msg(graph, 5, &t);
}

/* A ValueInfoProto for a float tensor; ndim < 0 leaves the shape out. */
static inline void ob_value_info(ob_buf *graph, int field, const char *name, int ndim,
                                 const int64_t *dims) {
    ob_buf vi = {0}, type = {0}, tt = {0}, shape = {0};
    ob_int(&tt, 1, 1);
    for (int i = 0; i < ndim; i++) {
        ob_buf dim = {0};
        ob_int(&dim, 1, dims[i]);
        ob_msg(&shape, 1, &dim);
    }
    if (ndim >= 0) ob_msg(&tt, 2, &shape);
    ob_msg(&type, 1, &tt);
    ob_str(&vi, 1, name);
    ob_msg(&vi, 2, &type);
    ob_msg(graph, field, &vi);
}

/* The model around `graph` (which it frees): IR 8, default domain `opset`. */
static inline ob_buf ob_model(ob_buf *graph, int opset) {
    ob_buf model = {0}, os = {0};
    ob_int(&os, 2, opset);
    ob_int(&model, 1, 8);
    ob_msg(&model, 8, &os);
    ob_msg(&model, 7, graph);
    return model;
}
