/* Case by height. The recognizer reads a word's first c, o or s as a capital
 * whenever the font gives it no other clue (in a monospaced face "capital" and
 * "Capital" differ only in size), and a ring at a word's start as the digit 0.
 * On the benchmark's two-column pages that was 2 of every 3 wrong words. Size
 * is what the crop shows: a lowercase letter's ink starts at the line's
 * x-height, a capital's near the ascenders. Both heights are measured on the
 * same line, on letters whose height is not in doubt, so the test holds for
 * any font size and resolution. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/ocr_private.h"

typedef struct {
    const q_image *im;
    int thr;    /* darker than this is ink */
    double cps; /* crop columns per time step */
} ink_map;

static int lum(const q_image *im, int x, int y) {
    const uint8_t *p = im->px + (size_t)y * im->stride + (size_t)x * im->channels;
    return im->channels == 1 ? p[0] : (p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8;
}

static int ink(const ink_map *m, int x, int y) {
    return lum(m->im, x, y) < m->thr;
}

/* The first and last rows from y0 on with two ink pixels in columns
 * [x0, x1); 0 when there are none. */
static int ink_rows(const ink_map *m, int x0, int x1, int y0, int *top, int *bottom) {
    x0 = x0 < 0 ? 0 : x0;
    x1 = x1 > m->im->w ? m->im->w : x1;
    *top = *bottom = -1;
    for (int y = y0 < 0 ? 0 : y0; y < m->im->h; y++) {
        int n = 0;
        for (int x = x0; x < x1 && n < 2; x++)
            n += ink(m, x, y);
        if (n < 2) continue;
        if (*top < 0) *top = y;
        *bottom = y;
    }
    return *top >= 0;
}

/* The columns of character c's time steps, widened by `more` steps a side. */
static void step_cols(const ink_map *m, const ocr_ctc_char *c, int more, int *x0, int *x1) {
    *x0 = (int)((c->t0 - more) * m->cps);
    *x1 = (int)((c->t1 + 1 + more) * m->cps + 0.5);
}

/* Rows y0..y1 are where the x-height line and the tall letters' gap put the
 * word, which can reach above or below the crop: only its rows are read. */
static int column_inked(const ink_map *m, int x, int y0, int y1) {
    y0 = y0 < 0 ? 0 : y0;
    y1 = y1 >= m->im->h ? m->im->h - 1 : y1;
    for (int y = y0; y <= y1; y++)
        if (ink(m, x, y)) return 1;
    return 0;
}

/* The first column of the word around column x: left of x (or at it) the
 * nearest run of at least `space` empty columns between rows y0 and y1 ends
 * the space before the word. The time steps say roughly where a character
 * is, not where its ink begins (on a line's first word they are often a
 * letter off), and spaces are wider than the gaps between letters. */
static int word_start(const ink_map *m, int x, int y0, int y1, int space) {
    int w = m->im->w;
    x = x < 0 ? 0 : x >= w ? w - 1 : x;
    for (;;) {
        if (column_inked(m, x, y0, y1)) {
            if (x == 0) return 0;
            x--;
            continue;
        }
        int a = x, b = x; /* the empty run around x */
        while (a > 0 && !column_inked(m, a - 1, y0, y1))
            a--;
        while (b + 1 < w && !column_inked(m, b + 1, y0, y1))
            b++;
        if (b - a + 1 >= space || a == 0) return b + 1 < w ? b + 1 : -1;
        x = a - 1;
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The value num/den of the way up v[0..n), sorted in place. */
static double quantile(double *v, size_t n, size_t num, size_t den) {
    qsort(v, n, sizeof *v, cmp_double);
    return v[(n - 1) * num / den];
}

static int at_word_start(const char *line, size_t b) {
    return b == 0 || line[b - 1] == ' ';
}

/* A word's first letter whose case the height decides: one of C O S c o s 0,
 * followed by a lowercase letter; for 0 the word holds no other digit. */
static int candidate(const char *line, size_t len, size_t b) {
    if (!strchr("COScos0", line[b]) || !line[b] || b + 1 >= len || !at_word_start(line, b))
        return 0;
    if (!islower((unsigned char)line[b + 1])) return 0;
    if (line[b] == '0')
        for (size_t i = b + 1; i < len && line[i] != ' '; i++)
            if (isdigit((unsigned char)line[i])) return 0;
    return 1;
}

/* Letters whose height is not in doubt: x-height (no ascender, no dot) and
 * tall (ascenders and capitals). Digits are left out: old-style figures. */
static int height_class(char ch) {
    if (ch && strchr("acemnoruvwxz", ch)) return 1;
    if (ch && strchr("bdfhklABDEFGHIJKLMNPQRTUVWXYZ", ch)) return 2;
    return 0;
}

/* The line's heights, from the letters whose height is not in doubt. A
 * crop's text is often tilted by a few rows from end to end (the detector's
 * box is not the text's), as much as the x-height differs from a capital's
 * height, so the x-height is a line: its top row at column c is
 * x_top + slope * c (slope by Theil and Sen: robust to a misplaced letter). */
typedef struct {
    double x_top, slope, xh; /* x-height: top at column 0, rows per column, rows */
    double gap;              /* capitals and ascenders stand this far above */
} heights;

static double top_at(const heights *h, double c) {
    return h->x_top + h->slope * c;
}

/* Theil-Sen slope of (c[i], y[i]) over pairs at least `apart` columns apart;
 * of a very long line every step-th point only, so the pairs stay under
 * 32,640 (256 points). */
static int slope_of(const double *c, const double *y, size_t n, double apart, double *slope) {
    size_t step = n / 256 + 1, np = 0;
    double *s = malloc((size_t)32640 * sizeof *s);
    if (!s) return 0;
    for (size_t i = 0; i < n; i += step)
        for (size_t j = i + step; j < n && np < 32640; j += step)
            if (c[j] - c[i] >= apart || c[i] - c[j] >= apart)
                s[np++] = (y[j] - y[i]) / (c[j] - c[i]);
    *slope = np ? quantile(s, np, 1, 2) : 0;
    free(s);
    return 1;
}

static int measure(const ink_map *m, const ocr_ctc_char *chars, size_t n, const char *line,
                   size_t len, heights *h) {
    double *v = malloc(5 * n * sizeof *v);
    if (!v) return 0; /* the text stays as read */
    double *xc = v, *xt = v + n, *xb = v + 2 * n, *t0 = v + 3 * n, *t1 = v + 4 * n;
    size_t nx = 0, nt = 0;
    for (size_t k = 0; k < n; k++) {
        size_t b = chars[k].byte;
        int cls = b < len && !candidate(line, len, b) ? height_class(line[b]) : 0, x0, x1, top, bot;
        /* a tall letter's steps may fall on the bowl of a "b" or "h", so its
         * neighbours are taken in too: none of them is taller than tall */
        step_cols(m, &chars[k], cls == 2, &x0, &x1);
        if (cls == 2) t0[nt] = x0, t1[nt++] = x1;
        if (cls == 1 && ink_rows(m, x0, x1, 0, &top, &bot))
            xc[nx] = (x0 + x1) / 2.0, xt[nx] = top, xb[nx++] = bot;
    }
    int ok = nx >= 3 && slope_of(xc, xt, nx, 4 * m->cps, &h->slope);
    if (ok) {
        for (size_t i = 0; i < nx; i++) {
            xb[i] -= xt[i];            /* the x-height */
            xt[i] -= h->slope * xc[i]; /* the top, untilted */
        }
        h->x_top = quantile(xt, nx, 1, 2);
        h->xh = quantile(xb, nx, 1, 2);
        /* How far above the x-height each tall letter reaches. The line
         * above may reach into the crop with its descenders: nothing higher
         * than 0.9 x-heights above is this line's. */
        size_t ng = 0;
        for (size_t i = 0; i < nt; i++) {
            double c = (t0[i] + t1[i]) / 2, xt_c = top_at(h, c);
            int top, bot;
            if (ink_rows(m, (int)t0[i], (int)t1[i], (int)(xt_c - 0.9 * h->xh), &top, &bot))
                t0[ng++] = xt_c - top;
        }
        /* Of the tall letters, a quarter of the way down from the tallest:
         * the ones whose stem the steps missed read short. Without two of
         * them ("Camera private,") capitals are taken to stand a third of the
         * x-height above it, the least of common faces (Courier; Times half). */
        h->gap = ng >= 2 ? quantile(t0, ng, 3, 4) : h->xh / 3;
    }
    free(v);
    return ok;
}

void ocr_fix_case(const q_image *crop, double cols_per_step, const ocr_ctc_char *chars, size_t n,
                  char *line, size_t len) {
    if (n < 4 || cols_per_step <= 0 || crop->w < 1 || crop->h < 8) return;
    size_t cands = 0;
    for (size_t k = 0; k < n; k++)
        cands += chars[k].byte < len && candidate(line, len, chars[k].byte);
    if (!cands) return;
    int lo = 255, hi = 0;
    for (int y = 0; y < crop->h; y++)
        for (int x = 0; x < crop->w; x++) {
            int v = lum(crop, x, y);
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    if (hi - lo < 64) return; /* too faint to tell ink from paper */
    ink_map m = {crop, (lo + hi) / 2, cols_per_step};
    heights h;
    /* A gap of a few rows is noise, or a font with no ascenders to speak of. */
    if (!measure(&m, chars, n, line, len, &h) || h.xh < 6 || 5 * h.gap < h.xh) return;
    for (size_t k = 0; k < n; k++) {
        size_t b = chars[k].byte;
        if (b >= len || !candidate(line, len, b)) continue;
        int x0, x1, top, bot;
        step_cols(&m, &chars[k], 0, &x0, &x1);
        double xt = top_at(&h, (x0 + x1) / 2.0);
        x0 =
            word_start(&m, (x0 + x1) / 2, (int)(xt - h.gap), (int)(xt + h.xh), (int)(h.xh + 2) / 3);
        /* up to the middle of the letter: c and s are about an x-height wide,
         * O and C half as wide again, and their tops are round */
        int y0 = (int)(xt - h.gap - 0.15 * h.xh); /* no higher than the tall letters */
        if (x0 < 0 || !ink_rows(&m, x0, x0 + (int)(2 * h.xh / 3), y0, &top, &bot)) continue;
        /* how far above the x-height, decided with a margin of a quarter of
         * the gap either way */
        double above = top_at(&h, x0 + h.xh / 3) - top;
        char c = line[b] == '0' ? 'o' : line[b];
        if (4 * above <= h.gap) line[b] = (char)tolower((unsigned char)c);
        if (4 * above >= 3 * h.gap) line[b] = (char)toupper((unsigned char)c);
    }
}
