/* nn: quire's inference engine. Loads an ONNX model (its own protobuf reader),
 * optimises the graph once (constant folding, BatchNorm and activations fused
 * into convolutions, dead nodes removed) and runs it on a backend. Plans
 * (shapes, memory offsets) are made once per input shape and cached. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define NN_MAX_DIMS 8

typedef struct nn_model nn_model;

/* NN_BACKEND_AUTO: CUDA where a GPU is usable, else the CPU (said once per
 * process on the log). NN_BACKEND_CUDA without a usable GPU is a load error. */
typedef enum { NN_BACKEND_CPU, NN_BACKEND_CUDA, NN_BACKEND_AUTO } nn_backend_kind;

/* NN_PRECISION_INT8 runs the 1x1 convs and wide linear layers (MatMuls by a
 * constant matrix of 1,024+ columns) that the model's scales table marks
 * int8 with u8 x s8 kernels (CPU backend only; other backends run fp32 and
 * say so once). The table is `int8_table` when given, else the one built
 * into quire for the model's SHA-256 (models/int8/); a table made for
 * another model, or none for this one, is a load error. */
typedef enum { NN_PRECISION_FP32, NN_PRECISION_INT8 } nn_precision;

typedef struct {
    nn_backend_kind backend; /* NN_BACKEND_CPU unless asked */
    int threads;             /* CPU threads; 0 = 1 */
    int no_fuse;             /* skip the fusion passes (debugging, tests) */
    nn_precision precision;  /* NN_PRECISION_FP32 unless asked */
    const char *int8_table;  /* NULL: the built-in table; read at load, not kept */
} nn_options;
/* The CUDA backend's GPU: QUIRE_CUDA_DEVICE if set, else the node-local rank
 * (OMPI_COMM_WORLD_LOCAL_RANK, SLURM_LOCALID), else 0 -- modulo the number of
 * visible GPUs, so that ranks of one node spread over its GPUs. */

typedef struct {
    int ndim;
    int64_t dims[NN_MAX_DIMS];
} nn_shape;

/* Loads and optimises a model. `opt` may be NULL (CPU, 1 thread). On failure
 * returns the error (one line; byte offsets for corrupt files, the op's name for
 * unsupported ops) and sets *out to NULL. */
q_status nn_model_load(const char *path, const nn_options *opt, nn_model **out);
/* Same from bytes in memory; the bytes are not kept after the call. */
q_status nn_model_load_mem(const void *data, size_t size, const nn_options *opt, nn_model **out);
void nn_model_free(nn_model *m); /* NULL-safe */

/* The declared input shape; unknown dimensions (symbolic) are -1. */
void nn_model_input_shape(const nn_model *m, nn_shape *shape);
const char *nn_model_input_name(const nn_model *m);
const char *nn_model_output_name(const nn_model *m);
/* Number of nodes left after optimisation (for logs and tests). */
int nn_model_node_count(const nn_model *m);
/* Layers (1x1 convs, constant-weight MatMuls) that run in int8 (0 for fp32
 * models; for logs and tests). */
int nn_model_int8_layers(const nn_model *m);
/* The int8 kernel family this CPU uses ("int8-avx512vnni", ...). */
const char *nn_int8_kernel(void);
/* 1 when int8 is the better default on this CPU: it has the AVX2 int8
 * kernels or VNNI ones, each measured to read pages within 0.1 point of
 * fp32 and to run the recognizer faster (AVX2 only emulated on a VNNI CPU,
 * bench/RESULTS.md); plain C is slower than fp32. */
int nn_int8_preferred(void);

/* Runs the model on one float32 tensor. The result is written to *output, a
 * pointer owned by the model and valid until the next run or nn_model_free;
 * its shape goes to *out_shape. A shape the model cannot take is Q_ERR_USAGE
 * naming the expected shape. The first run of each input shape builds and
 * caches its plan (the last 32 shapes are kept). One call at a time per model:
 * threads that run concurrently each load their own model. */
q_status nn_model_run(nn_model *m, const float *input, const nn_shape *in_shape,
                      const float **output, nn_shape *out_shape);

/* "cpu" or "cuda": the backend the model runs on (after an AUTO fallback). */
const char *nn_model_backend(const nn_model *m);

/* Peak bytes of the activation arena of the last plan used (0 before a run). */
size_t nn_model_arena_bytes(const nn_model *m);

/* ---- GPUs ---------------------------------------------------------------- */
typedef struct {
    int index;
    char name[256];
    size_t memory_bytes;
    int cc_major, cc_minor; /* compute capability */
} nn_gpu_info;

/* The GPUs the CUDA backend can use (for `quire info`): fills up to `cap`
 * entries of `gpus` and sets *count to how many are visible. With none it
 * returns Q_ERR_UNSUPPORTED with *count = 0 and a one-line reason in
 * q_errmsg() (built without CUDA, no driver, no device). Never aborts. */
q_status nn_gpu_list(nn_gpu_info *gpus, int cap, int *count);

/* ---- .npy files (float32, C order) ---------------------------------------- */
/* Reads a float32 little-endian C-order .npy file; *data is malloc'ed. */
q_status nn_npy_read(const char *path, float **data, nn_shape *shape);
q_status nn_npy_write(const char *path, const float *data, const nn_shape *shape);
/* Parses .npy bytes in memory (the file format checks, for tests). */
q_status nn_npy_parse(const void *bytes, size_t size, float **data, nn_shape *shape);
