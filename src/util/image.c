/* Page pixel buffers: one allocation per page, sizes checked before malloc so
 * a hostile TIFF header cannot ask for an overflowing or absurd buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

q_status q_image_alloc(q_image *im, int w, int h, int channels, size_t max_bytes) {
    memset(im, 0, sizeof *im);
    if (w <= 0 || h <= 0 || (channels != 1 && channels != 3))
        return Q_FAIL(Q_ERR_USAGE, "bad image size %dx%dx%d", w, h, channels);
    size_t stride = (size_t)w * (size_t)channels;
    if ((size_t)h > SIZE_MAX / stride)
        return Q_FAIL(Q_ERR_NOMEM, "image of %dx%d pixels is too large", w, h);
    size_t bytes = stride * (size_t)h;
    if (max_bytes && bytes > max_bytes)
        return Q_FAIL(Q_ERR_NOMEM,
                      "image of %dx%d pixels needs %zu MiB, more than the %zu MiB allowed", w, h,
                      bytes >> 20, max_bytes >> 20);
    im->px = malloc(bytes);
    if (!im->px) return Q_FAIL(Q_ERR_NOMEM, "out of memory for a %dx%d image", w, h);
    im->w = w;
    im->h = h;
    im->channels = channels;
    im->stride = stride;
    return Q_OK;
}

void q_image_free(q_image *im) {
    if (!im) return;
    free(im->px);
    memset(im, 0, sizeof *im);
}
