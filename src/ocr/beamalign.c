/* Where the characters the beam chose lie in time: the most probable CTC
 * alignment (Viterbi) of the label sequence to the recognizer's steps. The
 * fixes after decoding (case.c) read each character's steps; for the greedy
 * reading the greedy path is the most probable alignment, so both decoders
 * give the same steps where they read the same text. */
#include <math.h>
#include <stdlib.h>

#include "ocr/ocr_private.h"

static double lp(const float *row, int c) {
    float p = ocr_prob(row[c]);
    return p > 1e-30f ? log((double)p) : -69.0; /* log(1e-30): finite, so every path has a score */
}

q_status ocr_ctc_align(const float *probs, int steps, int classes, const int *labels, int nl,
                       int *t0, int *t1, float *p0) {
    if (nl <= 0) return Q_OK;
    if (steps < nl)
        return Q_FAIL(Q_ERR_INTERNAL, "%d characters do not fit in %d time steps", nl, steps);
    int S = 2 * nl + 1; /* blank, label 0, blank, label 1, ..., blank */
    double *cur = malloc(2 * (size_t)S * sizeof *cur);
    unsigned char *from = malloc((size_t)steps * (size_t)S);
    if (!cur || !from) {
        free(cur);
        free(from);
        return Q_FAIL(Q_ERR_NOMEM, "out of memory aligning a line of %d characters", nl);
    }
    double *prev = cur + S;
    for (int s = 0; s < S; s++)
        cur[s] = -INFINITY;
    cur[0] = lp(probs, 0);
    cur[1] = lp(probs, labels[0]);
    for (int t = 1; t < steps; t++) {
        double *tmp = prev;
        prev = cur;
        cur = tmp;
        const float *row = probs + (size_t)t * classes;
        for (int s = 0; s < S; s++) {
            /* from = how many states back the best predecessor is (0, 1, 2) */
            double best = prev[s];
            unsigned char k = 0;
            if (s >= 1 && prev[s - 1] > best) best = prev[s - 1], k = 1;
            if (s >= 2 && (s & 1) && labels[s / 2] != labels[s / 2 - 1] && prev[s - 2] > best)
                best = prev[s - 2], k = 2;
            from[(size_t)t * S + s] = k;
            cur[s] = best + lp(row, (s & 1) ? labels[s / 2] : 0);
        }
    }
    int s = S - 1;
    if (S >= 2 && cur[S - 2] > cur[S - 1]) s = S - 2;
    q_status st = Q_OK;
    if (!(cur[s] > -INFINITY)) {
        st = Q_FAIL(Q_ERR_INTERNAL, "%d characters do not fit in %d time steps", nl, steps);
    } else {
        for (int j = 0; j < nl; j++)
            t0[j] = -1;
        for (int t = steps - 1; t >= 0; t--) {
            if (s & 1) {
                int j = s / 2;
                if (t0[j] < 0) t1[j] = t;
                t0[j] = t;
            }
            if (t) s -= from[(size_t)t * S + s];
        }
        for (int j = 0; j < nl; j++)
            p0[j] = ocr_prob(probs[(size_t)t0[j] * classes + labels[j]]);
    }
    free(cur < prev ? cur : prev);
    free(from);
    return st;
}
