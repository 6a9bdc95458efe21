/* The engine's own view of a model: values, nodes, attributes, the per-shape
 * plan and the backend interface. Shared by the files of src/nn only. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"

#define NN_MAX_IN 5
/* Plans kept per model (nn.h says how many). A document's recognition
 * batches take a few width buckets (ocr/rec.c) at a few batch sizes, and a
 * shape whose plan was evicted is planned again (shape inference, memory
 * plan, the backend's per-node queries). A cached plan is its value table (shapes and arena
 * offsets, about 0.1 MB for the recognizer's 890 values), its node order and each planned node's
 * kernel parameters (params.h, 272 bytes a node: ~40 KB for the recognizer): activations live in
 * the model's one arena, sized to the largest plan run so far, and model constants are shared by
 * all plans. */
#define NN_PLAN_CACHE 32

typedef enum {
#define NN_OP(id, onnx, kernel, shape) NN_OP_##id,
#include "nn/ops.def"
#undef NN_OP
    NN_OP_COUNT
} nn_op;

typedef enum { NN_DT_F32 = 1, NN_DT_I64 = 7 } nn_dtype;

/* Fused activation of a node (Conv), applied after the bias. */
typedef enum {
    NN_ACT_NONE,
    NN_ACT_RELU,
    NN_ACT_CLIP,         /* clamp(x, a, b) */
    NN_ACT_HARD_SIGMOID, /* clamp(a*x + b, 0, 1) */
    NN_ACT_HARD_SWISH,   /* x * clamp(a*x + b, 0, 1) */
    NN_ACT_SIGMOID,
} nn_act_kind;

typedef enum {
    NN_AT_FLOAT = 1,
    NN_AT_INT = 2,
    NN_AT_STRING = 3,
    NN_AT_FLOATS = 6,
    NN_AT_INTS = 7
} nn_attr_type;

typedef struct {
    char *name;
    nn_attr_type type;
    int64_t i;
    float f;
    char *s;
    int64_t *ints;
    float *floats;
    int n; /* elements of ints/floats */
} nn_attr;

/* A tensor name in the graph. Constants carry their contents (`cdata`). */
typedef struct {
    char *name;
    nn_dtype dtype;
    int ndim;
    int64_t dims[NN_MAX_DIMS];
    void *cdata;  /* owned; NULL when computed at run time */
    int producer; /* node index or -1 */
    int uses;     /* live consumers (recounted by nn_graph_count_uses) */
} nn_value;

typedef struct {
    nn_op op;
    char *name;
    int nin;
    int in[NN_MAX_IN]; /* value ids; -1 = absent optional input */
    int out;
    nn_attr *attrs;
    int nattrs;
    /* Set by the fusion passes (Conv, ConvTranspose): */
    nn_act_kind act;
    float act_a, act_b;
    int post_scale, post_shift; /* const value ids or -1: y = act(.)*s + t */
    /* An int8 MatMul (nn_pass_fuse_int8): post_shift is the bias added to
     * each row, then a softmax over the row when `softmax`. */
    int softmax;
    int dead;
} nn_node;

typedef struct nn_backend nn_backend;
typedef struct nn_plan nn_plan;

/* A conv's int8 state (int8.c): from the table (on, lo, hi, and the input
 * channels' smoothing factors) or from calibration runs (lo, hi, seen, and
 * each input channel's range clo/chi). */
typedef struct {
    int on; /* 0 fp32, else int8 with this many weight planes (kc_qweights) */
    int seen;
    float lo, hi;
    int nch;
    float *clo, *chi; /* [nch] */
    float *smooth;    /* [nch] or NULL */
} nn_q8;
typedef struct nn_params nn_params; /* params.h */

struct nn_model {
    nn_value *vals;
    int nvals, cap_vals;
    nn_node *nodes;
    int nnodes, cap_nodes;
    int *hash; /* open addressing: value ids, -1 empty */
    size_t hash_cap;
    int opset;
    int input, output;
    nn_shape in_decl;
    nn_options opt;
    nn_backend *be;
    nn_plan *plans[NN_PLAN_CACHE];
    int nplans, last_plan;
    /* One activation arena for all plans (one run at a time per model), sized
     * to the largest plan run so far: cached plans cost offsets, not memory. */
    void *arena;
    size_t arena_cap;
    double *prof;    /* QUIRE_NN_PROFILE: seconds per node, printed at free */
    float *out_host; /* download buffer for backends without host memory */
    size_t out_host_cap;
    /* int8.c: per node, NULL unless int8 or calibrating; the model's hash */
    nn_q8 *q8;
    char sha256[65];
    char *calib_path; /* QUIRE_NN_CALIBRATE */
    char *name;       /* the file's stem, for saved inputs (NULL from memory) */
    long nsaved;
};

/* ---- graph.c ---- */
const char *nn_op_name(nn_op op);
int nn_op_from_name(const char *name); /* -1 when unknown */
/* Returns the id of value `name`, creating it (no contents) when new; -1 on
 * allocation failure (error recorded). */
int nn_graph_value(nn_model *m, const char *name, size_t len);
int nn_graph_find(const nn_model *m, const char *name);
/* Adds an unnamed value (passes); -1 on failure. */
int nn_graph_new_const(nn_model *m, const char *hint, nn_dtype dt, int ndim, const int64_t *dims,
                       void *owned_data);
/* The output channel that element `e` of a Conv weight [Cout, Cin/g, kh, kw] or a
 * ConvTranspose weight [Cin, Cout/g, kh, kw] belongs to (what per-channel folds scale). */
int64_t nn_conv_weight_channel(const nn_node *cv, const nn_value *w, int64_t group, int64_t e);
/* Gives conv `cv` new constant weights `nw` (the old weight's dims) and bias `nb`
 * (`cout` values); takes ownership of both, also on failure. */
q_status nn_conv_set_params(nn_model *m, nn_node *cv, float *nw, float *nb, int64_t cout);
nn_node *nn_graph_add_node(nn_model *m);
void nn_graph_count_uses(nn_model *m);
void nn_graph_free(nn_model *m);
int64_t nn_numel(int ndim, const int64_t *dims);
size_t nn_dtype_size(nn_dtype dt);
const nn_attr *nn_attr_find(const nn_node *n, const char *name);
int64_t nn_attr_int(const nn_node *n, const char *name, int64_t def);
float nn_attr_float(const nn_node *n, const char *name, float def);
const char *nn_attr_str(const nn_node *n, const char *name, const char *def);
/* ints attribute: returns count (0 when absent) and the array. */
int nn_attr_ints(const nn_node *n, const char *name, const int64_t **v);
/* "Conv 'name'" for error messages (static buffer per thread). */
const char *nn_node_desc(const nn_model *m, const nn_node *n);

/* ---- int8.c ---- */
/* After the passes: hashes the model and reads its int8 table when the
 * options ask for int8; prepares calibration under QUIRE_NN_CALIBRATE. */
q_status nn_int8_setup(nn_model *m, const void *data, size_t size);
/* Calibration: widens node ni's recorded input ranges (overall and per
 * channel) by x, a conv's [N, C, H, W] input or a MatMul's A (channels on
 * its last axis); nd dims. */
void nn_int8_observe(nn_model *m, int ni, const float *x, int nd, const int64_t *dims);
void nn_int8_free(nn_model *m);
void nn_int8_calib_write(const nn_model *m);
/* QUIRE_NN_SAVE_INPUTS=DIR: writes the run's input to DIR as .npy. */
void nn_int8_save_input(nn_model *m, const float *x, const nn_shape *shape);

/* ---- onnx_load.c ---- */
q_status nn_onnx_parse(nn_model *m, const uint8_t *data, size_t size);

/* ---- fold.c / fuse.c: load-time passes ---- */
q_status nn_pass_fold_constants(nn_model *m);
q_status nn_pass_fold_batchnorm(nn_model *m);
q_status nn_pass_fuse(nn_model *m);
/* After nn_int8_setup: an int8 MatMul takes the Add of a bias per column
 * and the Softmax over the last axis that follow it (kc_qmatmul's post). */
void nn_pass_fuse_int8(nn_model *m);
void nn_pass_remove_dead(nn_model *m);

/* ---- shape.c: per-shape values ---- */
typedef struct {
    nn_dtype dtype;
    int ndim;
    int64_t dims[NN_MAX_DIMS];
    void *host;      /* contents known at plan time (constant or folded), else NULL */
    int owns_host;   /* host was allocated by the plan */
    int alias;       /* value id whose buffer this value shares, or -1 */
    int64_t offset;  /* arena offset in bytes (root values only), -1 none */
    int first, last; /* node positions of definition and last use */
    void *dev;       /* device pointer of constants used at run time */
    int dev_shared;  /* dev belongs to the backend (its `constant` hook), not the plan */
} nn_pval;

/* Infers node `ni`'s output from its inputs in `pv`; evaluates it on the host
 * when every input is known and the op is cheap shape arithmetic or `force`.
 * Sets *host_done when it did. One function per ops.def `shape` stem
 * (shape.c, shape_data.c). */
q_status nn_shape_node(nn_model *m, int ni, nn_pval *pv, int force, int *host_done);

/* Conv/ConvTranspose/pool geometry from a node's attributes and its weight
 * dims (w, NULL for pools). */
typedef struct {
    int kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, group, oph, opw, ceil_mode;
} nn_geom;
q_status nn_geom_get(const nn_model *m, const nn_node *n, const int64_t *w, nn_geom *g);
q_status nn_slice_resolve(const nn_model *m, const nn_node *n, int ndim, const int64_t *dims,
                          const int64_t *const *hosts, const int64_t *counts, int64_t *starts,
                          int64_t *steps, int64_t *od);
/* Transpose's permutation for `ndim` dimensions (reversed without `perm`);
 * -1 when the attribute is not a permutation. */
int nn_transpose_perm(const nn_node *n, int ndim, int *perm);
/* `src` (n dims) right-aligned to nd dims, 1 where it has none (broadcast). */
void nn_align_dims(int nd, int n, const int64_t *src, int64_t *dst);
/* Normalised axis in [0, ndim) or -1 when out of range. */
int nn_axis(int64_t axis, int ndim);

/* ---- plan.c ---- */
struct nn_plan {
    nn_shape in_shape;
    nn_pval *pv;       /* one per value */
    int *order;        /* node ids to run, in order */
    nn_params *params; /* kernel parameters of order[k] (params.h) */
    int norder;
    size_t arena_bytes; /* of the model's arena, which every plan shares */
    size_t workspace_bytes;
    long runs; /* completed runs (profiling skips the first, which pays page faults) */
};
q_status nn_plan_build(nn_model *m, const nn_shape *in, nn_plan **out);
void nn_plan_free(nn_model *m, nn_plan *p);

/* ---- backend interface ----------------------------------------------------
 * A backend is this table plus its private context. `supports_op` is asked
 * at load (p NULL) and at plan time (p built), separately from `run`; a node
 * no backend supports is a clear error. Each node's kernel parameters are
 * built once per plan (params.h); the backend unpacks them and launches its
 * kernels. Device pointers are opaque to the engine; when `host_memory` is
 * set they are host pointers and constants are used in place without upload. */
typedef struct {
    nn_dtype dtype;
    int ndim;
    const int64_t *dims;
    void *data;       /* device pointer */
    const void *host; /* host copy when the value is a constant, else NULL */
} nn_tensor;

typedef struct {
    const char *name;
    int host_memory;
    void (*free)(nn_backend *be);
    void *(*alloc)(nn_backend *be, size_t bytes); /* NULL on failure (error recorded) */
    void (*free_buf)(nn_backend *be, void *buf);
    q_status (*upload)(nn_backend *be, void *dst, const void *src, size_t bytes);
    q_status (*download)(nn_backend *be, void *dst, const void *src, size_t bytes);
    int (*supports_op)(nn_backend *be, const nn_node *n, const nn_params *p);
    /* Scratch bytes the node needs; the engine reserves the maximum once per plan. */
    size_t (*workspace)(nn_backend *be, const nn_node *n, const nn_params *p);
    q_status (*reserve)(nn_backend *be, size_t workspace_bytes);
    /* Runs node `n` of model `m` with its parameters `p` on `in` (one per
     * input; absent ones zeroed) into `out`. */
    q_status (*run)(nn_backend *be, const nn_model *m, const nn_node *n, const nn_params *p,
                    const nn_tensor *in, const nn_tensor *out);
    q_status (*sync)(nn_backend *be);
    /* Optional (NULL: constants are uploaded per plan). The device copy of a
     * model constant, uploaded on first use and owned by the backend, so that
     * weights are uploaded once whatever the number of plans. NULL on failure
     * (error recorded). */
    void *(*constant)(nn_backend *be, const void *host, size_t bytes);
} nn_backend_i;

struct nn_backend {
    const nn_backend_i *iface;
    struct nn_backend_ctx *ctx;
};

q_status nn_backend_cpu_new(int threads, nn_backend **out);
/* backend_cuda.c: fails with one line (not built with CUDA, no usable GPU). */
q_status nn_backend_cuda_new(int device, nn_backend **out);
