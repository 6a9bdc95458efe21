/* Shape inference split per operator (ops.def's `shape` column): shape.c holds
 * the dispatch, the helpers and the compute ops, shape_data.c the data-movement
 * and shape-arithmetic ops. Private to those two files. */
#pragma once

#include "nn/nn_private.h"

/* One node being shaped: its inputs' plan values and where its output goes. */
typedef struct {
    nn_model *m;
    nn_node *n;
    nn_pval *pv;      /* every value of the plan (or of the folding pass) */
    nn_pval *o;       /* the node's output */
    const nn_pval *x; /* its first input */
    int all_host;     /* every input's contents are known on the host */
    int host;         /* evaluate the node on the host now */
    int *host_done;   /* set to 1 when the output's contents were computed */
} nn_shape_ctx;

/* Fills c->o; computes its contents on the host when c->host asks for it.
 * Errors name the node. */
typedef q_status (*nn_shape_fn)(nn_shape_ctx *c);
#define NN_OP(id, onnx, kernel, shape) q_status nn_shape_##shape(nn_shape_ctx *c);
#include "nn/ops.def"
#undef NN_OP

/* "Conv 'name': <message>" with `code`. */
q_status nn_shape_fail(const nn_model *m, const nn_node *n, q_status code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define SHAPE_FAIL(code, ...) nn_shape_fail(c->m, c->n, code, __VA_ARGS__)
/* "[2,3,4]" into buf. */
void nn_shape_str(char *buf, size_t cap, int ndim, const int64_t *d);
/* Input k's plan value, or NULL when the node has no such input. */
const nn_pval *nn_shape_in(const nn_shape_ctx *c, int k);
/* Reads a host-known integer tensor (shape arithmetic) as int64 values. */
q_status nn_shape_host_ints(const nn_shape_ctx *c, const nn_pval *p, const char *what,
                            const int64_t **v, int64_t *count);
/* Axes of Squeeze/Unsqueeze/ReduceMean: attribute (older opsets) or input 1. */
q_status nn_shape_axes(const nn_shape_ctx *c, const int64_t **ax, int64_t *na);
void nn_shape_set_out(nn_pval *o, nn_dtype dt, int ndim, const int64_t *dims);
/* Host storage for the output of a host-evaluated node; NULL on failure
 * (error recorded). */
void *nn_shape_out_alloc(nn_pval *o);
/* The end of a computing op: the output is known when it was evaluated. */
q_status nn_shape_done(nn_shape_ctx *c);
/* The end of a view op (Reshape and friends): dims `d`, the input's bytes. */
q_status nn_shape_alias(nn_shape_ctx *c, int nd, const int64_t *d);
