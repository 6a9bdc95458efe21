/* An engine whose networks run elsewhere (ocr.h's remote, as a CPU rank's
 * engine sends them to its GPU rank) reads pages as the local engine does.
 * The transport here is in-process and deliberately awkward: it holds the
 * requests until a reply is asked for, joins those of one network and shape
 * into one batch (as the GPU rank does), and hands the replies back newest
 * first, so that tickets and the top-k replies are exercised; joined
 * batches (orientation, detection) are checked against their requests
 * served alone.
 * Pages: the images named on the command line (tests/ocr/remote.sh makes them).
 * Also the wire's refusals of bad bytes. Skipped (77) without the models. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "doc/doc.h"
#include "ocr/ocr_private.h"
#include "tests/ocr/ocr_test.h"
#include "tests/ocr/page_load.h"

enum { MAXQ = 16 };

typedef struct {
    ocr_engine *server;
    q_buf req[MAXQ], rep[MAXQ];
    int nreq, nrep, joins, served;
} fake_wire;

static q_status wire_send(void *user, q_buf *msg) {
    fake_wire *w = user;
    if (w->nreq == MAXQ) return Q_FAIL(Q_ERR_INTERNAL, "too many requests in flight");
    q_buf_clear(&w->req[w->nreq]);
    q_status st = q_buf_append(&w->req[w->nreq], msg->data, msg->len);
    w->nreq++;
    return st;
}

/* Serves every held request, joining neighbours that can run together. */
static q_status serve_all(fake_wire *w) {
    ocr_net_req r[MAXQ];
    q_status st = Q_OK;
    for (int i = 0; !st && i < w->nreq; i++)
        st = ocr_net_req_parse(w->req[i].data, w->req[i].len, &r[i]);
    for (int i = 0; !st && i < w->nreq;) {
        int n = 1;
        while (i + n < w->nreq && ocr_net_req_joinable(&r[i], &r[i + n]))
            n++;
        st = ocr_net_serve(w->server, r + i, (size_t)n, w->rep + w->nrep);
        w->joins += n > 1;
        w->served += n;
        w->nrep += n;
        i += n;
    }
    w->nreq = 0;
    return st;
}

static q_status wire_recv(void *user, q_buf *msg) {
    fake_wire *w = user;
    if (!w->nrep) {
        q_status st = serve_all(w);
        if (st) return st;
    }
    if (!w->nrep) return Q_FAIL(Q_ERR_INTERNAL, "a reply asked for with no request");
    w->nrep--; /* the newest first */
    q_buf_clear(msg);
    return q_buf_append(msg, w->rep[w->nrep].data, w->rep[w->nrep].len);
}

static q_image page;

/* Words of the page's text, and how many differ position by position
 * (the two readings have the same lines: a word read otherwise shows). */
/* Equal but for spaces at the ends: the recognizer reads a space or none off
 * the white beside a line, which depends on the batch's padding (a local CPU
 * engine makes shorter batches than a remote one), and the record trims them. */
static int same_text(const char *s, const char *t) {
    while (*s == ' ')
        s++;
    while (*t == ' ')
        t++;
    size_t m = strlen(s), n = strlen(t);
    while (m && s[m - 1] == ' ')
        m--;
    while (n && t[n - 1] == ' ')
        n--;
    return m == n && !memcmp(s, t, m);
}

static void compare(const ocr_result *a, const ocr_result *b, int *words, int *diff) {
    CHECK(a->n == b->n);
    for (size_t i = 0; i < a->n && i < b->n; i++) {
        const char *s = a->lines[i].text, *t = b->lines[i].text;
        *words += 1;
        for (const char *p = s; *p; p++)
            *words += *p == ' ';
        if (!same_text(s, t)) {
            fprintf(stderr, "line %zu: \"%s\" / \"%s\"\n", i, s, t);
            *diff += 1;
        }
        CHECK(!memcmp(a->lines[i].quad, b->lines[i].quad, sizeof a->lines[i].quad));
    }
}

static void wire_refuses_bad_bytes(void) {
    ocr_net_req r;
    static const char junk[64] = "not a request";
    CHECK(ocr_net_req_parse(junk, sizeof junk, &r) == Q_ERR_FORMAT);
    q_buf m = {0};
    float x[2 * 3 * 4 * 5] = {0};
    nn_shape s = {.ndim = 4, .dims = {2, 3, 4, 5}};
    CHECK(ocr_net_req_pack(OCR_NET_CLS, 9, 0, x, &s, &m) == Q_OK);
    CHECK(ocr_net_req_parse(m.data, m.len, &r) == Q_OK && r.ticket == 9 && r.shape.dims[3] == 5);
    CHECK(ocr_net_req_parse(m.data, m.len - 4, &r) == Q_ERR_FORMAT); /* short */
    CHECK(ocr_net_reply_fail(9, Q_ERR_TIMEOUT, "too late", &m) == Q_OK);
    uint64_t t = 0;
    CHECK(ocr_net_reply_ticket(&m, &t) == Q_OK && t == 9);
    q_buf_free(&m);
}

/* Two requests of `net` (input shape 1 x 3 x h x w) served as one batch
 * answer as each served alone does: the detector's whole map, the
 * classifier's two scores. */
static void joined_batch_answers_each(ocr_engine *server, ocr_net net, int h, int w) {
    size_t per = (size_t)3 * h * w, outn = net == OCR_NET_DET ? (size_t)h * w : 2;
    float *x = malloc(2 * per * sizeof *x), *keep = malloc(outn * sizeof *keep);
    for (size_t i = 0; i < 2 * per; i++)
        x[i] = (float)((i * (i / per + 3)) % 17) / 8.0f - 1.0f;
    nn_shape s = {.ndim = 4, .dims = {1, 3, h, w}};
    q_buf m[2] = {0}, rep[2] = {0}, alone = {0};
    ocr_net_req r[2];
    for (int k = 0; k < 2; k++) {
        CHECK(ocr_net_req_pack(net, (uint64_t)k + 1, 0, x + k * per, &s, &m[k]) == Q_OK);
        CHECK(ocr_net_req_parse(m[k].data, m[k].len, &r[k]) == Q_OK);
    }
    CHECK(ocr_net_req_joinable(&r[0], &r[1]));
    CHECK(ocr_net_serve(server, r, 2, rep) == Q_OK);
    for (int k = 0; k < 2; k++) {
        const float *a, *b;
        nn_shape sa, sb;
        CHECK(ocr_net_reply_read(server, &rep[k], &a, &sa) == Q_OK && sa.dims[0] == 1);
        memcpy(keep, a, outn * sizeof *keep);
        CHECK(ocr_net_serve(server, &r[k], 1, &alone) == Q_OK);
        CHECK(ocr_net_reply_read(server, &alone, &b, &sb) == Q_OK && sb.dims[0] == 1);
        float worst = 0;
        for (size_t j = 0; j < outn; j++)
            worst = fmaxf(worst, fabsf(keep[j] - b[j]));
        CHECK(worst < 1e-4f);
    }
    for (int k = 0; k < 2; k++)
        q_buf_free(&m[k]), q_buf_free(&rep[k]);
    q_buf_free(&alone);
    free(x);
    free(keep);
}

int main(int argc, char **argv) {
    if (access(QUIRE_MODELS_DIR "/ch_PP-OCRv4_det_infer.onnx", R_OK)) {
        printf("models not fetched: skipped\n");
        return 77;
    }
    wire_refuses_bad_bytes();
    ocr_options o;
    ocr_options_default(&o);
    o.models_dir = QUIRE_MODELS_DIR;
    if (access("/usr/share/dict/american-english", R_OK)) o.decode = OCR_DECODE_GREEDY;
    ocr_engine *local = NULL, *server = NULL, *remote = NULL;
    fake_wire w = {0};
    ocr_remote wire = {.send = wire_send, .recv = wire_recv, .user = &w, .depth = 2};
    ocr_options so = o, ro = o;
    so.decode = OCR_DECODE_GREEDY;
    ro.remote = &wire;
    if (ocr_engine_new(&o, &local) || ocr_engine_new(&so, &server) ||
        ocr_engine_new(&ro, &remote)) {
        fprintf(stderr, "engines: %s\n", q_errmsg());
        return 1;
    }
    w.server = server;
    joined_batch_answers_each(server, OCR_NET_CLS, 48, 192);
    joined_batch_answers_each(server, OCR_NET_DET, 96, 128);
    CHECK(!strcmp(ocr_engine_backend(remote), "remote"));
    int words = 0, diff = 0;
    for (int i = 1; i < argc; i++) {
        if (!page_load(argv[i], &page)) {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 1;
        }
        ocr_result a, b;
        CHECK(ocr_image(local, &page, 0, &a) == Q_OK);
        CHECK(ocr_image(remote, &page, 0, &b) == Q_OK);
        compare(&a, &b, &words, &diff);
        ocr_result_free(&a);
        ocr_result_free(&b);
    }
    printf("%d pages, %d words, %d lines differ; %d requests served, %d joined batches; remote "
           "engine ran no network itself (%.3f s)\n",
           argc - 1, words, diff, w.served, w.joins, ocr_engine_nn_seconds(remote));
    CHECK(words > 200);
    CHECK(diff * 1000 <= words); /* at most 0.1 % */
    CHECK(ocr_engine_nn_seconds(remote) == 0 && ocr_engine_nn_seconds(server) > 0);
    /* a request failed on the server fails the page, and the next page reads */
    ocr_engine_free(local);
    ocr_engine_free(remote);
    ocr_engine_free(server);
    for (int i = 0; i < MAXQ; i++)
        q_buf_free(&w.req[i]), q_buf_free(&w.rep[i]);
    q_image_free(&page);
    if (failures) fprintf(stderr, "%d checks failed\n", failures);
    return failures ? 1 : 0;
}
