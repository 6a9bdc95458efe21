/* The CUDA backend's door: nn_backend_cuda_new and nn_gpu_list load
 * libquire_cuda.so (src/nn/cuda) on first use, so that a process that never
 * asks for CUDA never maps cuDNN and cuBLAS (about 200 MB of resident memory
 * at load). Looked for in $QUIRE_CUDA_PLUGIN, next to the quire executable,
 * then where the build put it; not at all without an NVIDIA driver. Built
 * without CUDA, both say so. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/nn_private.h"

#ifdef QUIRE_HAVE_CUDA

#include <dlfcn.h>
#include <pthread.h>

#include "nn/cuda/plugin.h"

static pthread_once_t plugin_once = PTHREAD_ONCE_INIT;
static quire_cuda_backend_new_fn plugin_new;
static quire_cuda_gpu_list_fn plugin_list;
static char plugin_why[768];

/* Tries one path; 1 when the plugin is loaded and sees a GPU. A file that
 * exists but does not load (a missing cuDNN, a symbol quire lacks) or sees no
 * GPU gives the reason to report. */
static int plugin_try(const char *path) {
    if (!path || !*path) return 0;
    if (access(path, F_OK) != 0) return 0;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(plugin_why, sizeof plugin_why, "cannot load %s: %s", path, dlerror());
        return 0;
    }
    plugin_new = (quire_cuda_backend_new_fn)(uintptr_t)dlsym(h, "quire_cuda_backend_new");
    plugin_list = (quire_cuda_gpu_list_fn)(uintptr_t)dlsym(h, "quire_cuda_gpu_list");
    int count = 0;
    if (!plugin_new || !plugin_list) {
        snprintf(plugin_why, sizeof plugin_why, "%s is not quire's CUDA plugin", path);
    } else if (plugin_list(NULL, 0, &count) != Q_OK) {
        /* no GPU here: unload, so that a rank falling back to the CPU does
         * not keep the CUDA libraries resident */
        snprintf(plugin_why, sizeof plugin_why, "%s", q_errmsg());
        q_errclear();
    } else {
        return 1;
    }
    plugin_new = NULL;
    plugin_list = NULL;
    dlclose(h);
    return 0;
}

static void plugin_load(void) {
    /* a plugin named in the environment is loaded in any case (tests of the
     * plugin itself on machines without a GPU) */
    const char *given = getenv("QUIRE_CUDA_PLUGIN");
    if (given && *given) {
        if (access(given, F_OK) != 0)
            snprintf(plugin_why, sizeof plugin_why, "QUIRE_CUDA_PLUGIN=%s: no such file", given);
        plugin_try(given);
        return;
    }
    if (access("/dev/nvidiactl", F_OK) != 0) {
        /* no NVIDIA driver: nothing to gain from mapping the CUDA libraries */
        snprintf(plugin_why, sizeof plugin_why,
                 "no usable GPU (no NVIDIA driver: /dev/nvidiactl "
                 "is missing)");
        return;
    }
    snprintf(plugin_why, sizeof plugin_why,
             "%s not found (next to the quire executable, or $QUIRE_CUDA_PLUGIN)",
             QUIRE_CUDA_PLUGIN_FILE);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash && (size_t)(slash - exe) + sizeof QUIRE_CUDA_PLUGIN_FILE + 1 < sizeof exe) {
            strcpy(slash + 1, QUIRE_CUDA_PLUGIN_FILE);
            if (plugin_try(exe)) return;
        }
    }
#ifdef QUIRE_CUDA_PLUGIN_BUILD
    plugin_try(QUIRE_CUDA_PLUGIN_BUILD);
#endif
}

q_status nn_backend_cuda_new(int device, nn_backend **out) {
    *out = NULL;
    pthread_once(&plugin_once, plugin_load);
    if (!plugin_new)
        return Q_FAIL(Q_ERR_UNSUPPORTED, "CUDA backend not built/available: %s", plugin_why);
    return plugin_new(device, out);
}

q_status nn_gpu_list(nn_gpu_info *gpus, int cap, int *count) {
    *count = 0;
    pthread_once(&plugin_once, plugin_load);
    if (!plugin_list) return Q_FAIL(Q_ERR_UNSUPPORTED, "%s", plugin_why);
    return plugin_list(gpus, cap, count);
}

#else /* !QUIRE_HAVE_CUDA */

q_status nn_backend_cuda_new(int device, nn_backend **out) {
    (void)device;
    *out = NULL;
    return Q_FAIL(Q_ERR_UNSUPPORTED, "CUDA backend not built/available: this quire was built "
                                     "without CUDA (nvcc and cuDNN were not found)");
}

q_status nn_gpu_list(nn_gpu_info *gpus, int cap, int *count) {
    (void)gpus;
    (void)cap;
    *count = 0;
    return Q_FAIL(Q_ERR_UNSUPPORTED,
                  "no GPU support: this quire was built without CUDA (nvcc and cuDNN were not "
                  "found)");
}

#endif
