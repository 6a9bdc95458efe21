/* Convolution and transposed convolution through cuDNN's legacy API.
 * Each shape gets one cache entry: its descriptors and the algorithm chosen
 * once (cudnnFind or the heuristics) within the workspace limit. ReLU (and
 * identity, where cuDNN allows it) is fused into the conv call with the bias;
 * hard-swish, hard-sigmoid, clip, sigmoid and the post-affine run in one .cu
 * epilogue pass. Asymmetric pads, which a cuDNN descriptor cannot express, go
 * through a padded copy of the input (conv) or a crop of the output (deconv). */
#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/kcu_private.h"

enum { ALGO_CACHE_MAX = 4096, WS_ALIGN = 256 };

struct kcu_conv_algo {
    kc_conv_shape s;
    int deconv;
    cudnnTensorDescriptor_t xd, yd, bd; /* x: the conv's input (dy for deconv) */
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    cudnnActivationDescriptor_t relu, ident;
    int algo;       /* cudnnConvolutionFwdAlgo_t or cudnnConvolutionBwdDataAlgo_t */
    size_t algo_ws; /* cuDNN's workspace bytes */
    size_t extra;   /* padded input (conv) or full output (deconv) bytes */
    int reshape;    /* asymmetric pads: pad copy / crop */
    int hf, wf;     /* padded input (conv) or full output (deconv) plane */
};

static size_t align_up(size_t n) {
    return (n + WS_ALIGN - 1) / WS_ALIGN * WS_ALIGN;
}

static void algo_destroy(kcu_conv_algo *a) {
    if (a->xd) cudnnDestroyTensorDescriptor(a->xd);
    if (a->yd) cudnnDestroyTensorDescriptor(a->yd);
    if (a->bd) cudnnDestroyTensorDescriptor(a->bd);
    if (a->wd) cudnnDestroyFilterDescriptor(a->wd);
    if (a->cd) cudnnDestroyConvolutionDescriptor(a->cd);
    if (a->relu) cudnnDestroyActivationDescriptor(a->relu);
    if (a->ident) cudnnDestroyActivationDescriptor(a->ident);
    memset(a, 0, sizeof(*a));
}

void kcu_conv_cache_free(kcu_ctx *c) {
    for (int i = 0; i < c->nalgos; i++)
        algo_destroy(&c->algos[i]);
    free(c->algos);
    c->algos = NULL;
    c->nalgos = c->cap_algos = 0;
}

static kcu_conv_algo *algo_find(kcu_ctx *c, const kc_conv_shape *s, int deconv) {
    for (int i = 0; i < c->nalgos; i++)
        if (c->algos[i].deconv == deconv && !memcmp(&c->algos[i].s, s, sizeof(*s)))
            return &c->algos[i];
    return NULL;
}

/* The math type to run a cudnnFind/heuristics result under; 0 to skip it.
 * CUDNN_DEFAULT_MATH lets cuDNN use TF32 tensor cores for float32 data on
 * Ampere and newer, so with TF32 off the descriptor says CUDNN_FMA_MATH for
 * the search (algo_setup) and for the run, whatever a result reports. Under
 * an FMA descriptor the results report FMA (PyTorch asserts as much when its
 * TF32 is off); one that reports DEFAULT anyway (an older cuDNN, the
 * heuristics) is kept and runs under FMA, and the workspace query
 * under FMA (the caller's) drops it if cuDNN cannot run it that way. Results
 * that report tensor-op math were timed as tensor-core kernels: skipped, as
 * the FMA kernel of the same algorithm, where there is one, is a result of
 * its own. With TF32 on, a result runs under the math type it was timed
 * with, except TENSOR_OP_MATH_ALLOW_CONVERSION (float32 converted to FP16). */
static int math_use(const kcu_ctx *c, cudnnMathType_t reported, cudnnMathType_t *use) {
    if (reported == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) return 0;
    if (c->tf32) {
        *use = reported;
        return 1;
    }
    if (reported != CUDNN_FMA_MATH && reported != CUDNN_DEFAULT_MATH) return 0;
    *use = CUDNN_FMA_MATH;
    return 1;
}

static q_status pick_fwd(kcu_ctx *c, kcu_conv_algo *a) {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int got = 0;
    if (c->conv_find)
        KCU_DNN(cudnnFindConvolutionForwardAlgorithm(c->dnn, a->xd, a->wd, a->cd, a->yd,
                                                     CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got, perf));
    else
        KCU_DNN(cudnnGetConvolutionForwardAlgorithm_v7(
            c->dnn, a->xd, a->wd, a->cd, a->yd, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got, perf));
    /* Results come fastest first. */
    for (int i = 0; i < got; i++) {
        size_t ws = 0;
        cudnnMathType_t math;
        if (perf[i].status != CUDNN_STATUS_SUCCESS || !math_use(c, perf[i].mathType, &math))
            continue;
        if (cudnnSetConvolutionMathType(a->cd, math) != CUDNN_STATUS_SUCCESS ||
            cudnnGetConvolutionForwardWorkspaceSize(c->dnn, a->xd, a->wd, a->cd, a->yd,
                                                    perf[i].algo, &ws) != CUDNN_STATUS_SUCCESS ||
            ws > c->ws_limit)
            continue;
        a->algo = (int)perf[i].algo;
        a->algo_ws = ws;
        return Q_OK;
    }
    return Q_FAIL_LIB(Q_ERR_UNSUPPORTED, "cudnn",
                      "no cuDNN convolution algorithm for this shape%s within %zu MiB of "
                      "workspace (QUIRE_CUDA_WORKSPACE_MB)",
                      c->tf32 ? "" : " in FP32 math", c->ws_limit >> 20);
}

static q_status pick_bwd_data(kcu_ctx *c, kcu_conv_algo *a) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int got = 0;
    /* Backward data: w, dy = our input (xd), dx = our output (yd). */
    if (c->conv_find)
        KCU_DNN(cudnnFindConvolutionBackwardDataAlgorithm(
            c->dnn, a->wd, a->xd, a->cd, a->yd, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, perf));
    else
        KCU_DNN(cudnnGetConvolutionBackwardDataAlgorithm_v7(
            c->dnn, a->wd, a->xd, a->cd, a->yd, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, perf));
    for (int i = 0; i < got; i++) {
        size_t ws = 0;
        cudnnMathType_t math;
        if (perf[i].status != CUDNN_STATUS_SUCCESS || !math_use(c, perf[i].mathType, &math))
            continue;
        if (cudnnSetConvolutionMathType(a->cd, math) != CUDNN_STATUS_SUCCESS ||
            cudnnGetConvolutionBackwardDataWorkspaceSize(
                c->dnn, a->wd, a->xd, a->cd, a->yd, perf[i].algo, &ws) != CUDNN_STATUS_SUCCESS ||
            ws > c->ws_limit)
            continue;
        a->algo = (int)perf[i].algo;
        a->algo_ws = ws;
        return Q_OK;
    }
    return Q_FAIL_LIB(Q_ERR_UNSUPPORTED, "cudnn",
                      "no cuDNN transposed-convolution algorithm for this shape%s within %zu "
                      "MiB of workspace (QUIRE_CUDA_WORKSPACE_MB)",
                      c->tf32 ? "" : " in FP32 math", c->ws_limit >> 20);
}

static q_status algo_setup(kcu_ctx *c, kcu_conv_algo *a) {
    const kc_conv_shape *s = &a->s;
    int g = s->group > 0 ? s->group : 1;
    a->reshape = s->pad_t != s->pad_b || s->pad_l != s->pad_r;
    int ph = a->reshape ? 0 : s->pad_t, pw = a->reshape ? 0 : s->pad_l;
    KCU_DNN(cudnnCreateTensorDescriptor(&a->xd));
    KCU_DNN(cudnnCreateTensorDescriptor(&a->yd));
    KCU_DNN(cudnnCreateTensorDescriptor(&a->bd));
    KCU_DNN(cudnnCreateFilterDescriptor(&a->wd));
    KCU_DNN(cudnnCreateConvolutionDescriptor(&a->cd));
    KCU_DNN(cudnnCreateActivationDescriptor(&a->relu));
    KCU_DNN(cudnnCreateActivationDescriptor(&a->ident));
    if (!a->deconv) {
        a->hf = s->h_in + (a->reshape ? s->pad_t + s->pad_b : 0);
        a->wf = s->w_in + (a->reshape ? s->pad_l + s->pad_r : 0);
        KCU_DNN(cudnnSetTensor4dDescriptor(a->xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s->n,
                                           s->c_in, a->hf, a->wf));
        KCU_DNN(cudnnSetTensor4dDescriptor(a->yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s->n,
                                           s->c_out, s->h_out, s->w_out));
        KCU_DNN(cudnnSetFilter4dDescriptor(a->wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, s->c_out,
                                           s->c_in / g, s->kh, s->kw));
        a->extra = a->reshape ? (size_t)s->n * s->c_in * a->hf * a->wf * sizeof(float) : 0;
    } else {
        /* The transposed conv of x is the backward data pass of the conv whose
         * output has x's shape; its weight [Cin, Cout/g, kh, kw] is that
         * conv's filter [K = Cin, C/g = Cout/g, kh, kw]. */
        a->hf = a->reshape ? (s->h_in - 1) * s->sh + s->dh * (s->kh - 1) + 1 : s->h_out;
        a->wf = a->reshape ? (s->w_in - 1) * s->sw + s->dw * (s->kw - 1) + 1 : s->w_out;
        KCU_DNN(cudnnSetTensor4dDescriptor(a->xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s->n,
                                           s->c_in, s->h_in, s->w_in));
        KCU_DNN(cudnnSetTensor4dDescriptor(a->yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s->n,
                                           s->c_out, a->hf, a->wf));
        KCU_DNN(cudnnSetFilter4dDescriptor(a->wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, s->c_in,
                                           s->c_out / g, s->kh, s->kw));
        a->extra = a->reshape ? (size_t)s->n * s->c_out * a->hf * a->wf * sizeof(float) : 0;
    }
    KCU_DNN(
        cudnnSetTensor4dDescriptor(a->bd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, s->c_out, 1, 1));
    KCU_DNN(cudnnSetConvolution2dDescriptor(a->cd, ph, pw, s->sh, s->sw, s->dh, s->dw,
                                            CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    KCU_DNN(cudnnSetConvolutionGroupCount(a->cd, g));
    /* The search sees the math type set here: FMA only, unless TF32 is on
     * (math_use). The one chosen is set again by pick_fwd/pick_bwd_data. */
    KCU_DNN(cudnnSetConvolutionMathType(a->cd, c->tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
    KCU_DNN(
        cudnnSetActivationDescriptor(a->relu, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0));
    KCU_DNN(cudnnSetActivationDescriptor(a->ident, CUDNN_ACTIVATION_IDENTITY,
                                         CUDNN_NOT_PROPAGATE_NAN, 0.0));
    if (!a->deconv) {
        /* Our shape inference and cuDNN's must agree on the output. */
        int dims[4];
        KCU_DNN(cudnnGetConvolution2dForwardOutputDim(a->cd, a->xd, a->wd, &dims[0], &dims[1],
                                                      &dims[2], &dims[3]));
        if (dims[0] != s->n || dims[1] != s->c_out || dims[2] != s->h_out || dims[3] != s->w_out)
            return Q_FAIL(Q_ERR_INTERNAL,
                          "cuDNN computes a conv output of [%d,%d,%d,%d], quire [%d,%d,%d,%d]",
                          dims[0], dims[1], dims[2], dims[3], s->n, s->c_out, s->h_out, s->w_out);
        return pick_fwd(c, a);
    }
    return pick_bwd_data(c, a);
}

static q_status algo_get(kcu_ctx *c, const kc_conv_shape *s, int deconv, kcu_conv_algo **out) {
    kcu_conv_algo *a = algo_find(c, s, deconv);
    if (a) {
        *out = a;
        return Q_OK;
    }
    if (c->nalgos == ALGO_CACHE_MAX) kcu_conv_cache_free(c); /* many page sizes: start over */
    if (c->nalgos == c->cap_algos) {
        int cap = c->cap_algos ? 2 * c->cap_algos : 64;
        kcu_conv_algo *p = realloc(c->algos, sizeof(*p) * (size_t)cap);
        if (!p) return Q_FAIL(Q_ERR_NOMEM, "out of memory caching conv algorithms");
        c->algos = p;
        c->cap_algos = cap;
    }
    a = &c->algos[c->nalgos];
    memset(a, 0, sizeof(*a));
    a->s = *s;
    a->deconv = deconv;
    q_status st = algo_setup(c, a);
    if (st) {
        algo_destroy(a);
        return q_fail_context("%s %dx%d (group %d) on [%d,%d,%d,%d]",
                              deconv ? "ConvTranspose" : "Conv", s->kh, s->kw, s->group, s->n,
                              s->c_in, s->h_in, s->w_in);
    }
    c->nalgos++;
    *out = a;
    return Q_OK;
}

static size_t algo_bytes(const kcu_conv_algo *a) {
    return align_up(a->algo_ws) + a->extra;
}

q_status kcu_conv2d_workspace(kcu_ctx *c, const kc_conv_shape *s, size_t *bytes) {
    kcu_conv_algo *a;
    q_status st = algo_get(c, s, 0, &a);
    *bytes = st ? 0 : algo_bytes(a);
    return st;
}

q_status kcu_deconv2d_workspace(kcu_ctx *c, const kc_conv_shape *s, size_t *bytes) {
    kcu_conv_algo *a;
    q_status st = algo_get(c, s, 1, &a);
    *bytes = st ? 0 : algo_bytes(a);
    return st;
}

static q_status scratch_check(const kcu_ctx *c, const kcu_conv_algo *a) {
    if (algo_bytes(a) <= c->scratch_bytes) return Q_OK;
    return Q_FAIL(Q_ERR_INTERNAL,
                  "conv needs %zu bytes of scratch, %zu reserved (kcu_conv2d_workspace and "
                  "kcu_reserve come first)",
                  algo_bytes(a), c->scratch_bytes);
}

static int epilogue_needed(const kc_epilogue *ep) {
    return ep && (ep->bias || ep->act.kind != KC_ACT_NONE || ep->post_scale || ep->post_shift);
}

q_status kcu_conv2d(kcu_ctx *c, const kc_conv_shape *s, const float *x, const float *w,
                    const kc_epilogue *ep, float *y) {
    kcu_conv_algo *a;
    q_status st = algo_get(c, s, 0, &a);
    if (st || (st = scratch_check(c, a))) return st;
    void *ws = c->scratch;
    const float *xin = x;
    if (a->reshape) {
        float *xp = (float *)((char *)c->scratch + align_up(a->algo_ws));
        cudaError_t e = kcu_launch_pad(c->stream, x, xp, (int64_t)s->n * s->c_in, s->h_in, s->w_in,
                                       a->hf, a->wf, s->pad_t, s->pad_l);
        if (e != cudaSuccess) return kcu_fail_cuda(e, "pad", __FILE__, __LINE__);
        xin = xp;
    }
    const float one = 1.f, zero = 0.f;
    int plain = ep && ep->bias && !ep->post_scale && !ep->post_shift;
    int fuse_relu = plain && ep->act.kind == KC_ACT_RELU;
    /* cuDNN runs the identity activation only with IMPLICIT_PRECOMP_GEMM. */
    int fuse_ident = plain && ep->act.kind == KC_ACT_NONE &&
                     a->algo == (int)CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
    if (fuse_relu || fuse_ident) {
        KCU_DNN(cudnnConvolutionBiasActivationForward(c->dnn, &one, a->xd, xin, a->wd, w, a->cd,
                                                      (cudnnConvolutionFwdAlgo_t)a->algo, ws,
                                                      a->algo_ws, &zero, a->yd, y, a->bd, ep->bias,
                                                      fuse_relu ? a->relu : a->ident, a->yd, y));
        return Q_OK;
    }
    KCU_DNN(cudnnConvolutionForward(c->dnn, &one, a->xd, xin, a->wd, w, a->cd,
                                    (cudnnConvolutionFwdAlgo_t)a->algo, ws, a->algo_ws, &zero,
                                    a->yd, y));
    if (!epilogue_needed(ep)) return Q_OK;
    KCU_LAUNCH(kcu_launch_epilogue(c->stream, ep, y, s->n, s->c_out, (int64_t)s->h_out * s->w_out));
}

q_status kcu_deconv2d(kcu_ctx *c, const kc_conv_shape *s, const float *x, const float *w,
                      const kc_epilogue *ep, float *y) {
    kcu_conv_algo *a;
    q_status st = algo_get(c, s, 1, &a);
    if (st || (st = scratch_check(c, a))) return st;
    const float one = 1.f, zero = 0.f;
    float *full = a->reshape ? (float *)((char *)c->scratch + align_up(a->algo_ws)) : y;
    KCU_DNN(cudnnConvolutionBackwardData(c->dnn, &one, a->wd, w, a->xd, x, a->cd,
                                         (cudnnConvolutionBwdDataAlgo_t)a->algo, c->scratch,
                                         a->algo_ws, &zero, a->yd, full));
    if (a->reshape) {
        cudaError_t e = kcu_launch_crop(c->stream, full, y, (int64_t)s->n * s->c_out, a->hf, a->wf,
                                        s->h_out, s->w_out, s->pad_t, s->pad_l);
        if (e != cudaSuccess) return kcu_fail_cuda(e, "crop", __FILE__, __LINE__);
    }
    if (!epilogue_needed(ep)) return Q_OK;
    KCU_LAUNCH(kcu_launch_epilogue(c->stream, ep, y, s->n, s->c_out, (int64_t)s->h_out * s->w_out));
}
