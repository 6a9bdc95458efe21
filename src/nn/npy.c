/* NumPy .npy files, version 1.0-3.0, float32 little-endian C order only.
 * The header is validated field by field (magic, version, length, dict keys,
 * dtype, order, shape) and the data size must match the shape exactly. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

/* Finds `'key':` in the header dict and returns the text after it. */
static const char *npy_key(const char *h, const char *key) {
    char pat[32];
    snprintf(pat, sizeof(pat), "'%s':", key);
    const char *p = strstr(h, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    return p;
}

q_status nn_npy_parse(const void *bytes, size_t size, float **data, nn_shape *shape) {
    const uint8_t *b = bytes;
    *data = NULL;
    if (size < 10 || memcmp(b, "\x93NUMPY", 6))
        return Q_FAIL(Q_ERR_FORMAT, "not a .npy file (bad magic)");
    int major = b[6];
    size_t hlen, off;
    if (major == 1) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        off = 10;
    } else if (major == 2 || major == 3) {
        if (size < 12) return Q_FAIL(Q_ERR_FORMAT, "truncated .npy header");
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        off = 12;
    } else
        return Q_FAIL(Q_ERR_FORMAT, ".npy version %d is not supported", major);
    if (hlen > size - off || hlen > 65536)
        return Q_FAIL(Q_ERR_FORMAT, ".npy header length %zu exceeds the file", hlen);
    char *h = malloc(hlen + 1);
    if (!h) return Q_FAIL(Q_ERR_NOMEM, "out of memory");
    memcpy(h, b + off, hlen);
    h[hlen] = 0;
    q_status st = Q_OK;
    const char *d = npy_key(h, "descr"), *fo = npy_key(h, "fortran_order"),
               *sh = npy_key(h, "shape");
    if (!d || !fo || !sh || h[0] != '{') {
        st = Q_FAIL(Q_ERR_FORMAT, ".npy header lacks descr, fortran_order or shape");
        goto done;
    }
    if (strncmp(d, "'<f4'", 5) && strncmp(d, "'|f4'", 5)) {
        st = Q_FAIL(Q_ERR_UNSUPPORTED, ".npy dtype %.8s is not supported (need float32 '<f4')", d);
        goto done;
    }
    if (strncmp(fo, "False", 5)) {
        st = Q_FAIL(Q_ERR_UNSUPPORTED, ".npy array in Fortran order is not supported");
        goto done;
    }
    if (*sh != '(') {
        st = Q_FAIL(Q_ERR_FORMAT, ".npy shape is not a tuple");
        goto done;
    }
    shape->ndim = 0;
    const char *p = sh + 1;
    uint64_t numel = 1;
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == ')') break;
        if (!isdigit((unsigned char)*p) || shape->ndim == NN_MAX_DIMS) {
            st = Q_FAIL(Q_ERR_FORMAT, ".npy shape is malformed or has more than %d dimensions",
                        NN_MAX_DIMS);
            goto done;
        }
        errno = 0;
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno || v > (1ull << 31) || (numel *= v) > (1ull << 32)) {
            st = Q_FAIL(Q_ERR_FORMAT, ".npy shape is too large");
            goto done;
        }
        shape->dims[shape->ndim++] = (int64_t)v;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
        else if (*p != ')') {
            st = Q_FAIL(Q_ERR_FORMAT, ".npy shape is malformed");
            goto done;
        }
    }
    size_t need = (size_t)numel * 4, have = size - off - hlen;
    if (have != need) {
        st = Q_FAIL(Q_ERR_FORMAT, ".npy data has %zu bytes, its shape needs %zu", have, need);
        goto done;
    }
    *data = malloc(need ? need : 4);
    if (!*data) {
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory reading .npy data");
        goto done;
    }
    memcpy(*data, b + off + hlen, need);
done:
    free(h);
    return st;
}

q_status nn_npy_read(const char *path, float **data, nn_shape *shape) {
    *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return Q_FAIL(Q_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    q_status st = Q_OK;
    uint8_t *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET)) {
        st = Q_FAIL(Q_ERR_IO, "cannot read %s", path);
        goto done;
    }
    if (!(buf = malloc((size_t)size + 1))) {
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory reading %s", path);
        goto done;
    }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        st = Q_FAIL(Q_ERR_IO, "cannot read %s", path);
        goto done;
    }
    if ((st = nn_npy_parse(buf, (size_t)size, data, shape))) q_fail_context("%s", path);
done:
    free(buf);
    fclose(f);
    return st;
}

q_status nn_npy_write(const char *path, const float *data, const nn_shape *shape) {
    char h[256];
    int n = snprintf(h, sizeof(h), "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    uint64_t numel = 1;
    for (int i = 0; i < shape->ndim; i++) {
        n += snprintf(h + n, sizeof(h) - (size_t)n, "%lld,%s", (long long)shape->dims[i],
                      i + 1 < shape->ndim ? " " : "");
        numel *= (uint64_t)shape->dims[i];
    }
    if (shape->ndim > 1) n--; /* NumPy writes (3,) for one dimension and (2, 3) for more */
    n += snprintf(h + n, sizeof(h) - (size_t)n, "), }");
    /* Pad with spaces so that the data starts on a 64-byte boundary. */
    int total = 10 + n + 1;
    int pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) return Q_FAIL(Q_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    uint16_t hl = (uint16_t)(n + pad + 1);
    uint8_t pre[10] = {
        0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)(hl & 0xff), (uint8_t)(hl >> 8)};
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(h, 1, (size_t)n, f) == (size_t)n;
    for (int i = 0; i < pad && ok; i++)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    ok = ok && fwrite(data, 4, (size_t)numel, f) == (size_t)numel;
    if (fclose(f) || !ok) return Q_FAIL(Q_ERR_IO, "cannot write %s", path);
    return Q_OK;
}
