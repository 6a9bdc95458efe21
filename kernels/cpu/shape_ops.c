/* Data movement without arithmetic: transpose, slice, concat. Element size is
 * a parameter so that the int64 shape arithmetic folded at plan time shares
 * this code with the float tensors. */
#include <string.h>

#include "kernels/cpu/kc_private.h"

void kc_transpose(const kc_ctx *ctx, const void *x, void *y, size_t elem, int ndim,
                  const int64_t *in_dims, const int *perm) {
    int64_t in_stride[KC_MAX_DIMS] = {0}, out_dims[KC_MAX_DIMS] = {0}, st[KC_MAX_DIMS] = {0};
    int64_t m = 1, total = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        in_stride[d] = m;
        m *= in_dims[d];
    }
    for (int d = 0; d < ndim; d++) {
        out_dims[d] = in_dims[perm[d]];
        st[d] = in_stride[perm[d]];
        total *= out_dims[d];
    }
    if (ndim == 0 || total == 0) {
        if (total) memcpy(y, x, elem);
        return;
    }
    /* Rows of the output's last axis; each row gathers with one stride. */
    int64_t n = out_dims[ndim - 1], rows = total / n, sl = st[ndim - 1];
    const char *xb = x;
    char *yb = y;
    int nt = ctx ? ctx->nthreads : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (total > 65536)
    for (int64_t r = 0; r < rows; r++) {
        int64_t rem = r, off = 0;
        for (int d = ndim - 2; d >= 0; d--) {
            off += rem % out_dims[d] * st[d];
            rem /= out_dims[d];
        }
        if (elem == 4) {
            const float *xs = (const float *)xb + off;
            float *ys = (float *)yb + r * n;
            if (sl == 1)
                memcpy(ys, xs, 4 * (size_t)n);
            else
                for (int64_t i = 0; i < n; i++)
                    ys[i] = xs[i * sl];
        } else {
            for (int64_t i = 0; i < n; i++)
                memcpy(yb + (r * n + i) * elem, xb + (off + i * sl) * elem, elem);
        }
    }
}

/* Copied in runs: the trailing axes the slice keeps whole, and the axis
 * before them if its step is 1, are contiguous in x and in y (one element
 * at a time, the recognizer's attention slices took 4 % of its time). */
void kc_slice(const void *x, void *y, size_t elem, int ndim, const int64_t *in_dims,
              const int64_t *out_dims, const int64_t *starts, const int64_t *steps) {
    int64_t in_stride[KC_MAX_DIMS], total = 1, m = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        in_stride[d] = m;
        m *= in_dims[d];
    }
    for (int d = 0; d < ndim; d++)
        total *= out_dims[d];
    int d = ndim - 1;
    int64_t run = 1, base = 0;
    while (d >= 0 && steps[d] == 1 && starts[d] == 0 && out_dims[d] == in_dims[d])
        run *= out_dims[d--];
    if (d >= 0 && steps[d] == 1) {
        run *= out_dims[d];
        base = starts[d] * in_stride[d];
        d--;
    }
    if (total == 0) return;
    const char *xb = x;
    char *yb = y;
    size_t bytes = (size_t)run * elem;
    for (int64_t o = 0; o < total / run; o++) {
        int64_t rem = o, off = base;
        for (int e = d; e >= 0; e--) {
            int64_t idx = rem % out_dims[e];
            rem /= out_dims[e];
            off += (starts[e] + idx * steps[e]) * in_stride[e];
        }
        memcpy(yb + (size_t)o * bytes, xb + (size_t)off * elem, bytes);
    }
}

void kc_concat_part(const void *x, void *y, size_t elem, int64_t outer, int64_t x_axis,
                    int64_t y_axis, int64_t at, int64_t inner) {
    size_t row = (size_t)(x_axis * inner) * elem;
    for (int64_t o = 0; o < outer; o++)
        memcpy((char *)y + ((size_t)(o * y_axis + at) * inner) * elem, (const char *)x + o * row,
               row);
}
