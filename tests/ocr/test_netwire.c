/* The wire between a remote engine and its GPU rank (netwire.c) on hand-made
 * and damaged bytes: requests and replies survive the round trip, every
 * truncation and every flipped byte of a message is refused or read within
 * its bounds (this test also runs under ASan + UBSan), and a top-k reply
 * expands to rows whose kept classes hold their probabilities. No models. */
#include <stdlib.h>
#include <string.h>

#include "ocr/ocr_private.h"
#include "tests/ocr/ocr_test.h"

/* An engine with no networks, enough for reading replies (its dense buffer). */
static ocr_engine *bare_engine(void) {
    ocr_engine *e = calloc(1, sizeof *e);
    if (!e) exit(1);
    return e;
}

static void request_round_trip(void) {
    float x[1 * 3 * 2 * 5];
    for (int i = 0; i < 30; i++)
        x[i] = (float)i - 7.5f;
    nn_shape s = {.ndim = 4, .dims = {1, 3, 2, 5}};
    q_buf m = {0};
    CHECK(ocr_net_req_pack(OCR_NET_DET, 42, 12.5, x, &s, &m) == Q_OK);
    ocr_net_req r;
    CHECK(ocr_net_req_parse(m.data, m.len, &r) == Q_OK);
    CHECK(r.net == OCR_NET_DET && r.ticket == 42 && r.deadline == 12.5 && r.shape.dims[3] == 5);
    CHECK(!memcmp(r.data, x, sizeof x));
    /* every truncation is refused; flipped bytes are refused or read in bounds */
    for (size_t n = 0; n < m.len; n++)
        CHECK(ocr_net_req_parse(m.data, n, &r) == Q_ERR_FORMAT);
    for (size_t i = 0; i < m.len; i++) {
        char *c = malloc(m.len);
        memcpy(c, m.data, m.len);
        c[i] ^= (char)0xA5;
        if (ocr_net_req_parse(c, m.len, &r) == Q_OK)
            CHECK(r.data == (const float *)(c + sizeof(ocr_net_req_head)));
        free(c);
    }
    nn_shape big = {.ndim = 4, .dims = {1 << 20, 1 << 20, 1, 1}};
    CHECK(ocr_net_req_pack(OCR_NET_REC, 1, 0, x, &big, &m) == Q_ERR_NOMEM);
    nn_shape three = {.ndim = 3, .dims = {1, 3, 10}};
    CHECK(ocr_net_req_pack(OCR_NET_REC, 1, 0, x, &three, &m) == Q_ERR_INTERNAL);
    q_buf_free(&m);
}

static void reply_hostile(ocr_engine *e, const q_buf *m) {
    for (size_t n = 0; n < m->len; n++) {
        q_buf t = {.data = m->data, .len = n};
        const float *out;
        nn_shape os;
        CHECK(ocr_net_reply_read(e, &t, &out, &os) != Q_OK);
    }
    for (size_t i = 0; i < m->len; i++) {
        q_buf t = {0};
        q_buf_append(&t, m->data, m->len);
        t.data[i] ^= (char)0x5A;
        const float *out = NULL;
        nn_shape os;
        if (ocr_net_reply_read(e, &t, &out, &os) == Q_OK) { /* read what it claims, no more */
            size_t n = 1;
            for (int d = 0; d < os.ndim; d++)
                n *= (size_t)os.dims[d];
            volatile float sum = 0;
            for (size_t k = 0; k < n; k++)
                sum += out[k];
            (void)sum;
        }
        q_buf_free(&t);
    }
}

/* A recognition output served by a one-request "batch": ocr_net_serve needs
 * a network, so the reply is built by hand as netwire.c lays it out. */
static void topk_reply(ocr_engine *e) {
    enum { ROWS = 3, CLASSES = 20 };
    ocr_net_rep_head h = {.magic = OCR_NET_REP_MAGIC,
                          .ticket = 7,
                          .kind = OCR_NET_TOPK_KIND,
                          .ndim = 3,
                          .dims = {1, ROWS, CLASSES}};
    q_buf m = {0};
    q_buf_append(&m, &h, sizeof h);
    for (int r = 0; r < ROWS; r++)
        for (int j = 0; j < OCR_NET_TOPK; j++) {
            int32_t c = (r * 3 + j) % CLASSES;
            float p = 0.5f / (float)(j + 1);
            q_buf_append(&m, &c, 4);
            q_buf_append(&m, &p, 4);
        }
    const float *out;
    nn_shape os;
    uint64_t t = 0;
    CHECK(ocr_net_reply_ticket(&m, &t) == Q_OK && t == 7);
    CHECK(ocr_net_reply_read(e, &m, &out, &os) == Q_OK);
    CHECK(os.ndim == 3 && os.dims[1] == ROWS && os.dims[2] == CLASSES);
    for (int r = 0; r < ROWS; r++) {
        CHECK(out[r * CLASSES + (r * 3) % CLASSES] == 0.5f);
        float sum = 0;
        for (int c = 0; c < CLASSES; c++)
            sum += out[r * CLASSES + c];
        CHECK(sum > 1.3f && sum < 1.4f); /* 0.5 (1 + 1/2 + ... + 1/8) */
    }
    reply_hostile(e, &m);
    q_buf_free(&m);
}

static void failed_reply(ocr_engine *e) {
    q_buf m = {0};
    CHECK(ocr_net_reply_fail(3, Q_ERR_TIMEOUT, "too late", &m) == Q_OK);
    const float *out;
    nn_shape os;
    CHECK(ocr_net_reply_read(e, &m, &out, &os) == Q_ERR_TIMEOUT);
    CHECK(strstr(q_errmsg(), "too late") != NULL);
    reply_hostile(e, &m);
    q_buf_free(&m);
}

int main(void) {
    ocr_engine *e = bare_engine();
    request_round_trip();
    topk_reply(e);
    failed_reply(e);
    free(e->dense);
    free(e);
    if (failures) fprintf(stderr, "%d checks failed\n", failures);
    return failures ? 1 : 0;
}
