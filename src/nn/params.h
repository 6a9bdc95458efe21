/* Each planned node's kernel parameters, built once per plan from its
 * attributes and its inputs' shapes (params.c, one builder per ops.def
 * `kernel` stem), the way ggml packs a node's op_params once for every
 * backend: a backend only unpacks them and launches its kernels. Private to
 * src/nn and the CUDA plugin. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernels/cpu/kc.h"
#include "kernels/cpu/kc_int8.h"
#include "nn/nn_private.h"

/* Conv and ConvTranspose: geometry, fused activation and post-affine. */
typedef struct {
    kc_conv_shape s;
    kc_act act;
    int bias; /* input 2 is the bias */
    /* The fused post-affine y = act(.)*scale + shift: model constants in host
     * memory (NULL when absent), their lengths, and kc_epilogue's post_n. */
    const float *post_scale, *post_shift;
    int scale_n, shift_n, post_n;
    /* int8 (CPU): the model's scales table (int8.c) marks this conv int8
     * with 1 or 2 weight planes (kc_qweights; its activations are quantized
     * per column as it runs); 0 runs fp32. */
    int int8;
    const float *smooth; /* the input channels' smoothing factors, or NULL */
} nn_conv_params;

struct nn_params {
    nn_op op;
    union {
        nn_conv_params conv; /* conv, conv_transpose */
        struct {
            kc_un_op op;
            kc_act act;
            size_t n;
        } unary; /* act, sqrt */
        struct {
            float eps;
            int64_t n, ch, inner;
        } bn;
        struct {
            kc_bin_op op;
            int ndim;
            int64_t od[NN_MAX_DIMS], ad[NN_MAX_DIMS], bd[NN_MAX_DIMS];
        } bin;
        struct {
            kc_matmul_shape s;
            int int8;          /* B constant, in int8 (CPU; the model's int8 table) */
            kc_qmat_post post; /* fused bias and softmax (int8 only) */
        } mm;
        struct {
            int64_t rows, cols;
        } softmax;
        struct {
            int64_t outer, red, inner;
        } reduce;
        struct {
            int64_t planes, hw;
        } gap;
        kc_pool_shape pool; /* avg_pool, max_pool */
        kc_resize_shape resize;
        struct {
            int64_t outer, inner, out_axis;
            int nparts;
            int64_t part[NN_MAX_IN]; /* each input's extent along the axis */
        } concat;
        struct {
            int ndim;
            int64_t dims[NN_MAX_DIMS];
            int perm[NN_MAX_DIMS];
        } transpose;
        struct {
            int ndim;
            int64_t in_dims[NN_MAX_DIMS], out_dims[NN_MAX_DIMS];
            int64_t starts[NN_MAX_DIMS], steps[NN_MAX_DIMS];
        } slice;
        struct {
            size_t bytes;
        } alias;
    } u;
};

/* Builds node `n`'s parameters from its attributes and the plan's tensors
 * (`in`: one per input, dims and host contents where known; `out`: the
 * output's dims). Q_ERR_UNSUPPORTED, naming the node, for what no kernel
 * does (non-contiguous ReduceMean axes, a Resize mode, ...). */
q_status nn_params_build(const nn_model *m, const nn_node *n, const nn_tensor *in,
                         const nn_tensor *out, nn_params *p);

/* The load-time part of the same checks, which needs no shapes (a Resize
 * mode no kernel has is an error when the model loads). */
q_status nn_params_check(const nn_model *m, const nn_node *n);

/* The epilogue of a conv as kc_epilogue wants it, with `bias` (input 2's
 * buffer) and the post-affine arrays given by the caller (the host ones for
 * the CPU, device copies for CUDA). */
static inline kc_epilogue nn_conv_epilogue(const nn_conv_params *p, const void *bias,
                                           const float *post_scale, const float *post_shift) {
    kc_epilogue ep = {0};
    ep.bias = p->bias ? bias : NULL;
    ep.act = p->act;
    ep.post_scale = post_scale;
    ep.post_shift = post_shift;
    ep.post_n = p->post_n;
    return ep;
}
