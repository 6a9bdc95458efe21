/* The engine's three networks run through here, so that where they run and
 * what they cost is decided in one place: here (nn), or through the engine's
 * remote (ocr.h), with up to its depth of requests in flight. */
#include <string.h>

#include "ocr/ocr_private.h"

int ocr_net_depth(const ocr_engine *e) {
    return e->remote.send ? e->remote.depth : 1;
}

q_status ocr_net_submit(ocr_engine *e, ocr_net net, const float *in, const nn_shape *shape,
                        uint64_t *ticket) {
    *ticket = ++e->ticket;
    if (e->remote.send) {
        q_status st = ocr_net_req_pack(net, *ticket, e->deadline, in, shape, &e->sendbuf);
        e->bytes_out += e->sendbuf.len;
        if (!st) st = e->remote.send(e->remote.user, &e->sendbuf);
        e->outstanding += !st;
        return st;
    }
    nn_model *m = net == OCR_NET_DET ? e->det : net == OCR_NET_CLS ? e->cls : e->rec;
    double t = q_now();
    e->last_st = nn_model_run(m, in, shape, &e->last_out, &e->last_shape);
    e->t_nn += q_now() - t;
    e->t_nn_net[net] += q_now() - t;
    return e->last_st;
}

/* Takes reply `ticket` into e->cur: from the stash, else from the transport
 * (stashing the others). */
static q_status take_reply(ocr_engine *e, uint64_t ticket) {
    for (int i = 0; i < OCR_NET_DEPTH_MAX; i++) {
        uint64_t t;
        if (e->stash[i].len && !ocr_net_reply_ticket(&e->stash[i], &t) && t == ticket) {
            q_buf swap = e->cur;
            e->cur = e->stash[i];
            e->stash[i] = swap;
            q_buf_clear(&e->stash[i]);
            return Q_OK;
        }
    }
    for (;;) {
        q_status st = e->remote.recv(e->remote.user, &e->cur);
        if (!st) e->outstanding--;
        uint64_t t = 0;
        if (!st) st = ocr_net_reply_ticket(&e->cur, &t);
        if (st || t == ticket || t == 0) return st; /* 0: a request the server could not read */
        int i = 0;
        while (i < OCR_NET_DEPTH_MAX && e->stash[i].len)
            i++;
        if (i == OCR_NET_DEPTH_MAX)
            return Q_FAIL(Q_ERR_INTERNAL, "more network replies than requests in flight");
        q_buf swap = e->stash[i];
        e->stash[i] = e->cur;
        e->cur = swap;
    }
}

q_status ocr_net_collect(ocr_engine *e, uint64_t ticket, const float **out, nn_shape *out_shape) {
    if (!e->remote.send) {
        if (ticket != e->ticket) return Q_FAIL(Q_ERR_INTERNAL, "a local run collected late");
        *out = e->last_out;
        *out_shape = e->last_shape;
        return e->last_st;
    }
    double t = q_now();
    q_status st = take_reply(e, ticket);
    e->t_wait += q_now() - t;
    e->bytes_in += e->cur.len;
    return st ? st : ocr_net_reply_read(e, &e->cur, out, out_shape);
}

void ocr_net_drain(ocr_engine *e) {
    for (int i = 0; i < OCR_NET_DEPTH_MAX; i++)
        q_buf_clear(&e->stash[i]);
    while (e->remote.send && e->outstanding > 0) {
        if (e->remote.recv(e->remote.user, &e->cur)) {
            e->outstanding = 0; /* the transport is gone: nothing more comes */
            break;
        }
        e->outstanding--;
    }
}

q_status ocr_net_run(ocr_engine *e, ocr_net net, const float *in, const nn_shape *shape,
                     const float **out, nn_shape *out_shape) {
    uint64_t ticket;
    q_status st = ocr_net_submit(e, net, in, shape, &ticket);
    return st ? st : ocr_net_collect(e, ticket, out, out_shape);
}

double ocr_engine_nn_seconds(const ocr_engine *e) {
    return e ? e->t_nn : 0;
}

double ocr_engine_wait_seconds(const ocr_engine *e) {
    return e ? e->t_wait : 0;
}
