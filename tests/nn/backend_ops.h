/* The backend-ops test's harness (backend_ops_test.c) as its hand-made cases
 * (backend_ops_cases.c) use it: build a one-node ONNX model, then run it on
 * every backend under test. */
#pragma once

#include "tests/nn/onnx_build.h"

/* A one-node model being built: input "x" of the given dims, then constant
 * inputs (initializers) and attributes in the order the op takes them. */
typedef struct {
    const char *op;
    ob_buf graph, node;
    int xnd;
    int64_t xdims[8];
    int nconst;
} hcase;

void hc_begin(hcase *h, const char *op, int nd, const int64_t *dims);
void hc_x(hcase *h);      /* the runtime input "x" again as the next input */
void hc_absent(hcase *h); /* an absent optional input ("") */
/* A float constant of random values in [lo, hi]. */
void hc_const(hcase *h, int nd, const int64_t *dims, float lo, float hi);
/* A float constant with the given values. */
void hc_floats(hcase *h, int nd, const int64_t *dims, const float *v);
/* A 1-D int64 constant. */
void hc_ints(hcase *h, int n, const int64_t *v);

/* Runs the model on every backend under test and checks it: against the
 * naive reference on the CPU, against the CPU elsewhere. `expect_dims`
 * (rank `nd`) is checked for the view ops, which the plan never runs; pass
 * nd = -1 otherwise. */
void hc_run(hcase *h, int opset, const char *desc);
void hc_run_view(hcase *h, int opset, const char *desc, int nd, const int64_t *expect_dims);
/* The same through nn_model_run, the output compared with `want` exactly. */
void hc_run_values(hcase *h, int opset, const char *desc, int nd, const int64_t *expect_dims,
                   const float *want);
/* The model must fail to load or plan with a clear one-line error that
 * contains `needle`, on every backend. */
void hc_run_refused(hcase *h, int opset, const char *desc, const char *needle);

/* Every hand-made case (backend_ops_cases.c); `only` an op name or NULL. */
void hand_cases(const char *only);
