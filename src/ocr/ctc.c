/* CTC greedy decoding as PaddleOCR's CTCLabelDecode: one class per time step,
 * repeats merged, blanks dropped, the line's confidence the mean probability
 * of the steps that produced a character. */
#include <string.h>

#include "ocr/ocr_private.h"

q_status ocr_ctc_check(const ocr_dict *d, int classes) {
    if ((uint32_t)classes != d->n + 2)
        return Q_FAIL(Q_ERR_FORMAT,
                      "the recognizer has %d classes but the dictionary %u characters (+ blank "
                      "and space): model and dictionary do not belong together",
                      classes, d->n);
    return Q_OK;
}

q_status ocr_ctc_decode(const ocr_dict *d, const float *probs, int steps, int classes, float *conf,
                        q_buf *text, ocr_ctc_char *chars, size_t *nchars) {
    *conf = 0;
    if (nchars) *nchars = 0;
    q_status fit = ocr_ctc_check(d, classes);
    if (fit) return fit;
    double sum = 0;
    int kept = 0, prev = -1;
    for (int t = 0; t < steps; t++) {
        const float *p = probs + (size_t)t * classes;
        int best = 0;
        float bv = p[0]; /* in a register: re-reading p[best] made this 4 % of a page */
        for (int c = 1; c < classes; c++)
            if (p[c] > bv) bv = p[c], best = c;
        int repeat = best == prev;
        prev = best;
        if (repeat && best && chars) chars[*nchars - 1].t1 = t;
        if (repeat || best == 0) continue;
        const char *s = best == classes - 1 ? " " : d->chars.data + d->off[best - 1];
        if (chars) chars[(*nchars)++] = (ocr_ctc_char){.byte = text->len, .t0 = t, .t1 = t};
        q_status st = q_buf_puts(text, s);
        if (st) return st;
        sum += p[best];
        kept++;
    }
    *conf = kept ? (float)(sum / kept) : 0.0f;
    return Q_OK;
}
