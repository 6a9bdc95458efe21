/* Straightforward references for every op of ops.def, written from the ONNX
 * operator specification with naive loops and double accumulation, for the
 * backend-ops test. They read a node's ONNX attributes and its inputs, never
 * the engine's shape inference or kernel parameters, so that the CPU backend
 * is checked against something other than itself. */
#pragma once

#include <stdint.h>

#include "nn/nn_private.h"

/* One input of the node: dims and contents (float or int64); absent inputs
 * have present == 0. */
typedef struct {
    int present;
    int ndim;
    int64_t dims[NN_MAX_DIMS];
    const float *f;
    const int64_t *i;
} ref_in;

/* The output of node `n` of model `m` (its opset, and the fused activation
 * and scale/shift the passes put on a Conv) for inputs `in`: a malloc'd
 * float array, its rank and dims. NULL with *why set when the op or an
 * attribute has no reference here. */
float *ref_node(const nn_model *m, const nn_node *n, const ref_in *in, int *ndim, int64_t *dims,
                const char **why);
