/* One image through the whole pipeline: detect, crop, orient, recognise,
 * drop weak lines. The deadline is checked between stages (a model run is
 * not interruptible, and a stage takes at most a few seconds). */
#include <stdlib.h>
#include <string.h>

#include "ocr/ocr_private.h"

static q_status check_deadline(double deadline, const char *stage) {
    if (deadline > 0 && q_now() >= deadline)
        return Q_FAIL(Q_ERR_TIMEOUT, "timeout before %s", stage);
    return Q_OK;
}

static void free_crops(q_image *crops, size_t n) {
    for (size_t i = 0; crops && i < n; i++)
        q_image_free(&crops[i]);
    free(crops);
}

/* A line of nothing but spaces carries no text: the recognizer reads such
 * lines off noise and rules, and PaddleOCR would keep them. */
static int blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ') return 0;
    return 1;
}

/* Keeps the lines at or above the drop score, in box order. */
static q_status collect(ocr_engine *e, const ocr_box *boxes, const size_t *box_of,
                        const ocr_rec_line *rl, size_t n, const q_buf *text, ocr_result *out) {
    out->lines = calloc(n ? n : 1, sizeof *out->lines);
    if (!out->lines) return Q_FAIL(Q_ERR_NOMEM, "out of memory");
    q_status st = Q_OK;
    size_t k = 0;
    for (size_t i = 0; !st && i < n; i++) {
        if (rl[i].conf < e->o.drop_score || blank(text->data + rl[i].text_start, rl[i].text_len))
            continue;
        ocr_line *l = &out->lines[k++];
        memcpy(l->quad, boxes[box_of[i]].pt, sizeof l->quad);
        l->conf = rl[i].conf;
        l->len = rl[i].text_len;
        /* offset for now; turned into a pointer once the buffer stops moving */
        l->text = (const char *)(uintptr_t)out->text.len;
        st = q_buf_append(&out->text, text->data + rl[i].text_start, rl[i].text_len);
        if (!st) st = q_buf_append(&out->text, "", 1);
    }
    out->n = k;
    for (size_t i = 0; !st && i < k; i++)
        out->lines[i].text = out->text.data + (uintptr_t)out->lines[i].text;
    return st;
}

q_status ocr_image(ocr_engine *e, const q_image *img, double deadline, ocr_result *out) {
    memset(out, 0, sizeof *out);
    ocr_box *boxes = NULL;
    size_t nb = 0, nc = 0;
    q_image *crops = NULL;
    size_t *box_of = NULL;
    ocr_rec_line *rl = NULL;
    q_buf text = {0};
    double t = q_now();
    q_status st = ocr_detect(e, img, &boxes, &nb);
    out->t_det = q_now() - t;
    if (!st) st = check_deadline(deadline, "line crops");
    if (!st && nb) {
        crops = calloc(nb, sizeof *crops);
        box_of = calloc(nb, sizeof *box_of);
        rl = calloc(nb, sizeof *rl);
        if (!crops || !box_of || !rl) st = Q_FAIL(Q_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; !st && i < nb; i++) {
        q_status cs = ocr_crop(img, &boxes[i], &crops[nc]);
        if (cs == Q_ERR_NOMEM)
            st = cs;
        else if (!cs)
            box_of[nc++] = i; /* a degenerate box has no text to read */
    }
    t = q_now();
    if (!st && !e->o.no_cls && nc) {
        st = check_deadline(deadline, "line orientation");
        if (!st) st = ocr_classify(e, crops, nc);
    }
    out->t_cls = q_now() - t;
    t = q_now();
    if (!st && nc) {
        st = check_deadline(deadline, "text recognition");
        if (!st) st = ocr_recognize(e, crops, nc, rl, &text);
    }
    out->t_rec = q_now() - t;
    if (!st) st = collect(e, boxes, box_of, rl, nc, &text, out);
    free_crops(crops, nc);
    free(boxes);
    free(box_of);
    free(rl);
    q_buf_free(&text);
    if (st) ocr_result_free(out);
    return st;
}

void ocr_result_free(ocr_result *r) {
    if (!r) return;
    free(r->lines);
    q_buf_free(&r->text);
    memset(r, 0, sizeof *r);
}
