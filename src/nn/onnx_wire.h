/* Protobuf wire-format reading for the ONNX loader: a cursor over a byte
 * range that checks every length against the bytes left. Offsets in error
 * messages are from the start of the file. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

typedef struct {
    const uint8_t *base; /* start of the file (for offsets in errors) */
    size_t pos, end;     /* the cursor's window [pos, end) */
} pb_reader;

enum { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_I32 = 5 };

static inline int pb_more(const pb_reader *r) {
    return r->pos < r->end;
}
/* Reads a field key; rejects field 0 and unknown wire types. */
q_status pb_key(pb_reader *r, uint32_t *field, int *wire);
/* The value readers (varint, fixed32, int, float) set *v to 0 on error. */
q_status pb_varint(pb_reader *r, uint64_t *v);
/* A length-delimited field as a sub-reader (the cursor moves past it). */
q_status pb_sub(pb_reader *r, pb_reader *sub);
q_status pb_fixed32(pb_reader *r, uint32_t *v);
q_status pb_skip(pb_reader *r, int wire);
/* The value of a field of wire type `wire` as an int64 (varint only). */
q_status pb_int(pb_reader *r, int wire, int64_t *v);
q_status pb_float(pb_reader *r, int wire, float *v);
/* Counts elements of a packed run (varints or 4/8-byte fixed) without consuming it. */
q_status pb_packed_count(const pb_reader *sub, int elem_wire, size_t *n);
