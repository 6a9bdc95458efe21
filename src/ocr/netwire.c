/* The bytes between a remote engine and the process that runs its networks:
 * a request is a header and the input tensor; a reply a header, an error
 * text and the output. Recognition's output is each step's few most probable
 * classes, not the whole softmax (6625 classes per step): the decoders read
 * nothing else, and the reply is ~400 times smaller. Both ends are the same
 * build on one node, so the structs travel as they are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/ocr_private.h"

/* A tensor of at most this many floats travels (an 8-line batch of a line
 * 20,000 px wide is 23 M): a header that claims more is not believed. */
#define NET_MAX_FLOATS ((int64_t)1 << 28)

static int64_t count(const int64_t *dims, int ndim) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] <= 0 || dims[i] > NET_MAX_FLOATS) return -1;
        n *= dims[i];
        if (n > NET_MAX_FLOATS) return -1;
    }
    return n;
}

q_status ocr_net_req_pack(ocr_net net, uint64_t ticket, double deadline, const float *in,
                          const nn_shape *shape, q_buf *msg) {
    if (shape->ndim != 4)
        return Q_FAIL(Q_ERR_INTERNAL, "a network input of %d dimensions", shape->ndim);
    ocr_net_req_head h = {
        .magic = OCR_NET_REQ_MAGIC, .net = (uint32_t)net, .ticket = ticket, .deadline = deadline};
    memcpy(h.dims, shape->dims, sizeof h.dims);
    int64_t n = count(h.dims, 4);
    if (n < 0) return Q_FAIL(Q_ERR_NOMEM, "a network input too large to send");
    q_buf_clear(msg);
    q_status st = q_buf_reserve(msg, sizeof h + (size_t)n * sizeof(float));
    if (!st) st = q_buf_append(msg, &h, sizeof h);
    if (!st) st = q_buf_append(msg, in, (size_t)n * sizeof(float));
    return st;
}

q_status ocr_net_req_parse(const void *msg, size_t len, ocr_net_req *r) {
    ocr_net_req_head h;
    if (len < sizeof h) return Q_FAIL(Q_ERR_FORMAT, "a network request of %zu bytes", len);
    memcpy(&h, msg, sizeof h);
    int64_t n = count(h.dims, 4);
    if (h.magic != OCR_NET_REQ_MAGIC || h.net >= OCR_NETS)
        return Q_FAIL(Q_ERR_FORMAT, "not a network request");
    if (n < 0 || (size_t)n * sizeof(float) != len - sizeof h)
        return Q_FAIL(Q_ERR_FORMAT, "a network request of %zu bytes does not match its shape", len);
    r->net = (ocr_net)h.net;
    r->shape.ndim = 4;
    memcpy(r->shape.dims, h.dims, sizeof h.dims);
    r->data = (const float *)((const char *)msg + sizeof h);
    r->ticket = h.ticket;
    r->deadline = h.deadline;
    return Q_OK;
}

int ocr_net_req_joinable(const ocr_net_req *a, const ocr_net_req *b) {
    return a->net == b->net && !memcmp(a->shape.dims + 1, b->shape.dims + 1, 3 * sizeof(int64_t));
}

int ocr_net_batch_max(ocr_net net) {
    /* a detector input is a whole page; lines are small */
    return net == OCR_NET_DET ? 4 : 64;
}

static q_status reply_head(q_buf *reply, const ocr_net_rep_head *h, const char *err) {
    static const char zeros[8];
    q_buf_clear(reply);
    q_status st = q_buf_append(reply, h, sizeof *h);
    if (!st && h->errlen) st = q_buf_append(reply, err, h->errlen);
    if (!st) st = q_buf_append(reply, zeros, (8 - h->errlen % 8) % 8);
    return st;
}

q_status ocr_net_reply_fail(uint64_t ticket, q_status st, const char *why, q_buf *reply) {
    ocr_net_rep_head h = {.magic = OCR_NET_REP_MAGIC,
                          .status = st ? (int32_t)st : Q_ERR_INTERNAL,
                          .ticket = ticket,
                          .errlen = (uint32_t)strlen(why)};
    return reply_head(reply, &h, why);
}

/* Each row's OCR_NET_TOPK largest values, in descending order. */
static void topk_row(const float *row, int n, int32_t *cls, float *p) {
    int k = 0;
    for (int c = 0; c < n; c++) {
        float v = row[c];
        if (k == OCR_NET_TOPK && !(v > p[k - 1])) continue;
        int i = k < OCR_NET_TOPK ? k++ : k - 1;
        while (i > 0 && p[i - 1] < v) {
            p[i] = p[i - 1];
            cls[i] = cls[i - 1];
            i--;
        }
        p[i] = v;
        cls[i] = c;
    }
    for (; k < OCR_NET_TOPK; k++)
        cls[k] = 0, p[k] = 0; /* fewer classes than kept: class 0 at 0 adds nothing */
}

/* Request i's share of the batch's output: `rows` leading rows of `per` floats. */
static q_status reply_ok(const ocr_net_req *r, const float *out, const nn_shape *os, int topk,
                         q_buf *reply) {
    ocr_net_rep_head h = {.magic = OCR_NET_REP_MAGIC,
                          .ticket = r->ticket,
                          .kind = topk ? OCR_NET_TOPK_KIND : OCR_NET_DENSE,
                          .ndim = os->ndim};
    memcpy(h.dims, os->dims, sizeof h.dims);
    h.dims[0] = r->shape.dims[0];
    size_t per = 1;
    for (int i = 1; i < os->ndim; i++)
        per *= (size_t)os->dims[i];
    size_t n = (size_t)h.dims[0] * per;
    q_status st = reply_head(reply, &h, "");
    if (st || !topk) return st ? st : q_buf_append(reply, out, n * sizeof *out);
    size_t classes = (size_t)os->dims[os->ndim - 1], rows = n / classes;
    st = q_buf_reserve(reply, rows * OCR_NET_TOPK * 8);
    for (size_t i = 0; !st && i < rows; i++) {
        int32_t c[OCR_NET_TOPK];
        float p[OCR_NET_TOPK];
        topk_row(out + i * classes, (int)classes, c, p);
        for (int j = 0; !st && j < OCR_NET_TOPK; j++) {
            st = q_buf_append(reply, &c[j], 4);
            if (!st) st = q_buf_append(reply, &p[j], 4);
        }
    }
    return st;
}

static q_status fail_all(const ocr_net_req *reqs, size_t n, q_buf *replies) {
    q_status code = q_errcode();
    char why[512];
    snprintf(why, sizeof why, "%s", q_errmsg());
    q_status st = Q_OK;
    for (size_t i = 0; !st && i < n; i++)
        st = ocr_net_reply_fail(reqs[i].ticket, code, why, &replies[i]);
    return st;
}

q_status ocr_net_serve(ocr_engine *e, const ocr_net_req *reqs, size_t n, q_buf *replies) {
    if (!n) return Q_OK;
    nn_shape in = reqs[0].shape;
    size_t per = (size_t)in.dims[1] * (size_t)in.dims[2] * (size_t)in.dims[3];
    const float *x = reqs[0].data;
    q_status st = Q_OK;
    for (size_t i = 1; i < n; i++)
        in.dims[0] += reqs[i].shape.dims[0];
    if (n > 1) { /* one tensor: the requests one after the other */
        st = ocr_tensor_reserve(e, (size_t)in.dims[0] * per);
        for (size_t i = 0, at = 0; !st && i < n; at += (size_t)reqs[i].shape.dims[0] * per, i++)
            memcpy(e->tensor + at, reqs[i].data, (size_t)reqs[i].shape.dims[0] * per * 4);
        x = e->tensor;
    }
    const float *out = NULL;
    nn_shape os;
    if (!st) st = ocr_net_run(e, reqs[0].net, x, &in, &out, &os);
    if (!st && (os.ndim < 2 || os.ndim > 4 || os.dims[0] != in.dims[0]))
        st = Q_FAIL(Q_ERR_FORMAT, "a network gave an output of an unexpected shape");
    if (st) return fail_all(reqs, n, replies);
    size_t out_per = 1;
    for (int i = 1; i < os.ndim; i++)
        out_per *= (size_t)os.dims[i];
    int topk = reqs[0].net == OCR_NET_REC;
    for (size_t i = 0, at = 0; !st && i < n; at += (size_t)reqs[i].shape.dims[0], i++)
        st = reply_ok(&reqs[i], out + at * out_per, &os, topk, &replies[i]);
    return st;
}

q_status ocr_net_reply_ticket(const q_buf *msg, uint64_t *ticket) {
    ocr_net_rep_head h;
    if (msg->len < sizeof h) return Q_FAIL(Q_ERR_FORMAT, "a network reply of %zu bytes", msg->len);
    memcpy(&h, msg->data, sizeof h);
    if (h.magic != OCR_NET_REP_MAGIC) return Q_FAIL(Q_ERR_FORMAT, "not a network reply");
    *ticket = h.ticket;
    return Q_OK;
}

/* Expands top-k pairs into dense rows of `classes` (the rest 0). */
static q_status expand(ocr_engine *e, const char *p, size_t rows, size_t classes,
                       const float **out) {
    size_t n = rows * classes;
    if (n > e->dense_cap) {
        float *d = realloc(e->dense, n * sizeof *d);
        if (!d) return Q_FAIL(Q_ERR_NOMEM, "out of memory for a recognition output");
        e->dense = d;
        e->dense_cap = n;
    }
    memset(e->dense, 0, n * sizeof *e->dense);
    for (size_t i = 0; i < rows; i++)
        for (int j = 0; j < OCR_NET_TOPK; j++, p += 8) {
            int32_t c;
            float v;
            memcpy(&c, p, 4);
            memcpy(&v, p + 4, 4);
            if (c >= 0 && (size_t)c < classes) e->dense[i * classes + (size_t)c] = v;
        }
    *out = e->dense;
    return Q_OK;
}

q_status ocr_net_reply_read(ocr_engine *e, const q_buf *msg, const float **out, nn_shape *shape) {
    ocr_net_rep_head h;
    if (msg->len < sizeof h) return Q_FAIL(Q_ERR_FORMAT, "a network reply of %zu bytes", msg->len);
    memcpy(&h, msg->data, sizeof h);
    size_t pad = h.errlen + (8 - h.errlen % 8) % 8;
    if (h.magic != OCR_NET_REP_MAGIC || pad > msg->len - sizeof h)
        return Q_FAIL(Q_ERR_FORMAT, "not a network reply");
    const char *p = msg->data + sizeof h;
    if (h.status) return Q_FAIL((q_status)h.status, "%.*s", (int)h.errlen, h.errlen ? p : "failed");
    int64_t n = h.ndim >= 2 && h.ndim <= 4 ? count(h.dims, h.ndim) : -1;
    size_t classes = n > 0 ? (size_t)h.dims[h.ndim - 1] : 0;
    size_t body = msg->len - sizeof h - pad;
    size_t want = h.kind == OCR_NET_TOPK_KIND && classes ? (size_t)n / classes * OCR_NET_TOPK * 8
                                                         : (size_t)(n > 0 ? n : 0) * 4;
    if (n < 0 || body != want) return Q_FAIL(Q_ERR_FORMAT, "a network reply that does not add up");
    shape->ndim = h.ndim;
    memcpy(shape->dims, h.dims, sizeof h.dims);
    if (h.kind == OCR_NET_TOPK_KIND) return expand(e, p + pad, (size_t)n / classes, classes, out);
    *out = (const float *)(p + pad);
    return Q_OK;
}
