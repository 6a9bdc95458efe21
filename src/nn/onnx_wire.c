/* Protobuf wire-format primitives. Nothing here trusts the file: every length
 * is checked against the bytes left before it is used, and every error names
 * the byte offset where it happened. */
#include "nn/onnx_wire.h"

q_status pb_varint(pb_reader *r, uint64_t *v) {
    uint64_t x = 0;
    size_t start = r->pos;
    *v = 0; /* on error too: callers need not trust that an error status is nonzero */
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->pos >= r->end) return Q_FAIL(Q_ERR_FORMAT, "truncated varint at byte %zu", start);
        uint8_t b = r->base[r->pos++];
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return Q_OK;
        }
    }
    return Q_FAIL(Q_ERR_FORMAT, "varint longer than 10 bytes at byte %zu", start);
}

q_status pb_key(pb_reader *r, uint32_t *field, int *wire) {
    size_t at = r->pos;
    uint64_t k;
    q_status st = pb_varint(r, &k);
    if (st) return st;
    *wire = (int)(k & 7);
    uint64_t f = k >> 3;
    if (f == 0 || f > 536870911u)
        return Q_FAIL(Q_ERR_FORMAT, "invalid field number %llu at byte %zu", (unsigned long long)f,
                      at);
    if (*wire != PB_VARINT && *wire != PB_I64 && *wire != PB_LEN && *wire != PB_I32)
        return Q_FAIL(Q_ERR_FORMAT, "unsupported wire type %d at byte %zu", *wire, at);
    *field = (uint32_t)f;
    return Q_OK;
}

q_status pb_sub(pb_reader *r, pb_reader *sub) {
    size_t at = r->pos;
    uint64_t n;
    q_status st = pb_varint(r, &n);
    if (st) return st;
    if (n > r->end - r->pos)
        return Q_FAIL(Q_ERR_FORMAT, "length %llu at byte %zu exceeds the %zu bytes left",
                      (unsigned long long)n, at, r->end - r->pos);
    sub->base = r->base;
    sub->pos = r->pos;
    sub->end = r->pos + (size_t)n;
    r->pos += (size_t)n;
    return Q_OK;
}

q_status pb_fixed32(pb_reader *r, uint32_t *v) {
    *v = 0;
    if (r->end - r->pos < 4)
        return Q_FAIL(Q_ERR_FORMAT, "truncated 32-bit value at byte %zu", r->pos);
    const uint8_t *p = r->base + r->pos;
    *v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    r->pos += 4;
    return Q_OK;
}

q_status pb_skip(pb_reader *r, int wire) {
    uint64_t v;
    pb_reader sub;
    switch (wire) {
    case PB_VARINT:
        return pb_varint(r, &v);
    case PB_LEN:
        return pb_sub(r, &sub);
    case PB_I32:
    case PB_I64: {
        size_t n = wire == PB_I32 ? 4 : 8;
        if (r->end - r->pos < n)
            return Q_FAIL(Q_ERR_FORMAT, "truncated fixed value at byte %zu", r->pos);
        r->pos += n;
        return Q_OK;
    }
    }
    return Q_FAIL(Q_ERR_FORMAT, "unsupported wire type %d at byte %zu", wire, r->pos);
}

q_status pb_int(pb_reader *r, int wire, int64_t *v) {
    *v = 0;
    if (wire != PB_VARINT) return Q_FAIL(Q_ERR_FORMAT, "expected an integer at byte %zu", r->pos);
    uint64_t u;
    q_status st = pb_varint(r, &u);
    if (st) return st;
    *v = (int64_t)u;
    return Q_OK;
}

q_status pb_float(pb_reader *r, int wire, float *v) {
    *v = 0;
    if (wire != PB_I32) return Q_FAIL(Q_ERR_FORMAT, "expected a float at byte %zu", r->pos);
    uint32_t u;
    q_status st = pb_fixed32(r, &u);
    if (st) return st;
    union {
        uint32_t u;
        float f;
    } c = {.u = u};
    *v = c.f;
    return Q_OK;
}

q_status pb_packed_count(const pb_reader *sub, int elem_wire, size_t *n) {
    size_t len = sub->end - sub->pos;
    if (elem_wire == PB_I32 || elem_wire == PB_I64) {
        size_t w = elem_wire == PB_I32 ? 4 : 8;
        if (len % w)
            return Q_FAIL(Q_ERR_FORMAT,
                          "packed field of %zu bytes at byte %zu is not a multiple of %zu", len,
                          sub->pos, w);
        *n = len / w;
        return Q_OK;
    }
    size_t c = 0;
    for (size_t i = sub->pos; i < sub->end; i++)
        c += !(sub->base[i] & 0x80);
    if (len && (sub->base[sub->end - 1] & 0x80))
        return Q_FAIL(Q_ERR_FORMAT, "truncated packed varints at byte %zu", sub->end - 1);
    *n = c;
    return Q_OK;
}
