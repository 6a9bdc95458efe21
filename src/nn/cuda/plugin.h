/* The entry points of libquire_cuda.so, the CUDA backend as a plugin
 * (cuda/backend_cuda.c), which quire's src/nn/backend_cuda.c finds with
 * dlsym. They mean what nn_backend_cuda_new and nn_gpu_list mean. */
#pragma once

#include "nn/nn.h"
#include "nn/nn_private.h"

#define QUIRE_CUDA_PLUGIN_FILE "libquire_cuda.so"

q_status quire_cuda_backend_new(int device, nn_backend **out);
q_status quire_cuda_gpu_list(nn_gpu_info *gpus, int cap, int *count);

typedef q_status (*quire_cuda_backend_new_fn)(int device, nn_backend **out);
typedef q_status (*quire_cuda_gpu_list_fn)(nn_gpu_info *gpus, int cap, int *count);
