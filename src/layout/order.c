/* Reading order of one page's lines (lay_order_page): a recursive XY-cut that
 * finds columns by gutters shared by consecutive rows (so full-width headings
 * and footers stay above and below the columns they interrupt), then inside a
 * column sorts rows top to bottom, left to right, and starts a new block at a
 * paragraph gap or a change of font size. O(n log n) per level of nesting.
 * The boxes it works on may be given in another frame than the page's
 * (lay_order_page_in): OCR pages are ordered deskewed, so that the lines of a
 * page scanned at an angle form rows instead of overlapping their neighbours. */
#include "layout/layout.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

/* A gutter between columns is at least this many font sizes wide (and at least
 * LAY_GUTTER_MIN_PT): word spaces never reach here (lines are whole), tab stops
 * of tables do. */
#define LAY_GUTTER_EM     0.9f
#define LAY_GUTTER_MIN_PT 4.0f
/* Two lines are in the same row when they overlap vertically by more than this
 * fraction of the smaller height (ascenders and descenders overlap a little). */
#define LAY_ROW_OVERLAP 0.3f
/* A vertical gap this many font sizes larger than the usual gap between rows
 * of a column starts a new block (paragraph). */
#define LAY_PARA_GAP_EM 0.5f
/* Font sizes differing by more than this fraction start a new block. */
#define LAY_SIZE_CHANGE 0.15f
/* Nesting deeper than this is read as a plain column (bounds the recursion). */
#define LAY_MAX_DEPTH 24

typedef struct {
    float x0, y0, x1, y1, size;
    uint32_t idx; /* page-local line index */
} ol_item;

typedef struct {
    float a, b;
} ol_gap;

typedef struct {
    uint32_t *order; /* output: page-local indices in reading order */
    uint32_t *block; /* output: block of each output position */
    size_t n;
    uint32_t nblocks;
    float gutter_min;
} ol_state;

static int cmp_y(const void *pa, const void *pb) {
    const ol_item *a = pa, *b = pb;
    if (a->y0 != b->y0) return a->y0 < b->y0 ? -1 : 1;
    if (a->x0 != b->x0) return a->x0 < b->x0 ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int cmp_float(const void *pa, const void *pb) {
    float a = *(const float *)pa, b = *(const float *)pb;
    return a < b ? -1 : a > b;
}

static int cmp_x(const void *pa, const void *pb) {
    const ol_item *a = pa, *b = pb;
    if (a->x0 != b->x0) return a->x0 < b->x0 ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Splits y-sorted items into rows: returns the end of the row starting at s. */
static size_t row_end(const ol_item *it, size_t s, size_t n) {
    float ymax = it[s].y1, hmin = it[s].y1 - it[s].y0;
    size_t e = s + 1;
    while (e < n) {
        float h = fminf(hmin, it[e].y1 - it[e].y0);
        if (ymax - it[e].y0 <= LAY_ROW_OVERLAP * fmaxf(h, 0.0f)) break;
        ymax = fmaxf(ymax, it[e].y1);
        hmin = h;
        e++;
    }
    return e;
}

/* Horizontal whitespace of x-sorted items within [lo, hi], gaps >= min wide. */
static size_t row_gaps(const ol_item *it, size_t n, float lo, float hi, float min, ol_gap *out) {
    size_t k = 0;
    float x = lo;
    for (size_t i = 0; i <= n; i++) {
        float next = i < n ? it[i].x0 : hi;
        if (next - x >= min) out[k++] = (ol_gap){x, next};
        if (i < n) x = fmaxf(x, it[i].x1);
    }
    return k;
}

/* out = a ∩ b, keeping pieces at least min wide. */
static size_t gaps_intersect(const ol_gap *a, size_t na, const ol_gap *b, size_t nb, float min,
                             ol_gap *out) {
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        float lo = fmaxf(a[i].a, b[j].a), hi = fminf(a[i].b, b[j].b);
        if (hi - lo >= min) out[k++] = (ol_gap){lo, hi};
        if (a[i].b < b[j].b)
            i++;
        else
            j++;
    }
    return k;
}

static void emit(ol_state *S, const ol_item *it, int new_block) {
    if (new_block || S->nblocks == 0) S->nblocks++;
    S->order[S->n] = it->idx;
    S->block[S->n] = S->nblocks - 1;
    S->n++;
}

/* One column: rows top to bottom, left to right in a row; blocks at gaps. */
static void leaf(ol_state *S, ol_item *it, size_t n) {
    qsort(it, n, sizeof *it, cmp_y);
    /* The usual gap between rows: the median of the gaps (0 if no memory). */
    float usual = 0;
    float *g = malloc((n + 1) * sizeof *g);
    if (g) {
        size_t ng = 0;
        float prev = 0;
        for (size_t s = 0, e; s < n; s = e) {
            e = row_end(it, s, n);
            float y1 = it[s].y1;
            for (size_t i = s; i < e; i++)
                y1 = fmaxf(y1, it[i].y1);
            if (s > 0) g[ng++] = it[s].y0 - prev;
            prev = y1;
        }
        if (ng) {
            qsort(g, ng, sizeof *g, cmp_float);
            usual = g[ng / 2];
        }
        free(g);
    }
    float prev_y1 = 0;
    int first = 1;
    float last_size = 0;
    for (size_t s = 0, e; s < n; s = e) {
        e = row_end(it, s, n);
        qsort(it + s, e - s, sizeof *it, cmp_x);
        float y1 = it[s].y1, size = it[s].size;
        for (size_t i = s; i < e; i++)
            y1 = fmaxf(y1, it[i].y1);
        int nb = first;
        if (!first) {
            float gap = it[s].y0 - prev_y1;
            float em = fmaxf(size, last_size);
            if (gap > fmaxf(usual, 0.0f) + LAY_PARA_GAP_EM * em) nb = 1;
            if (fabsf(size - last_size) > LAY_SIZE_CHANGE * fmaxf(size, last_size)) nb = 1;
        }
        for (size_t i = s; i < e; i++)
            emit(S, &it[i], i == s && nb);
        first = 0;
        last_size = size;
        prev_y1 = y1;
    }
}

static void region(ol_state *S, ol_item *it, size_t n, int depth);

/* Splits a group of rows by its gutters into columns, read left to right. */
static void split_columns(ol_state *S, ol_item *it, size_t n, const ol_gap *gut, size_t ng,
                          int depth) {
    /* Interior gutters only (lines on both sides); each line goes to the column
     * its centre lies in. Sorting by x keeps columns contiguous. */
    qsort(it, n, sizeof *it, cmp_x);
    size_t s = 0;
    for (size_t k = 0; k <= ng && s < n; k++) {
        float limit = k < ng ? (gut[k].a + gut[k].b) / 2 : INFINITY;
        size_t e = s;
        while (e < n && (it[e].x0 + it[e].x1) / 2 < limit)
            e++;
        if (e > s) region(S, it + s, e - s, depth + 1);
        s = e;
    }
    if (s < n) region(S, it + s, n - s, depth + 1);
}

/* The rows of a region (items sorted by y, then each row by x): their starts
 * in rs[0..nr), rs[nr] = n. */
static size_t split_rows(ol_item *it, size_t n, size_t *rs) {
    size_t nr = 0;
    qsort(it, n, sizeof *it, cmp_y);
    for (size_t s = 0, e; s < n; s = e) {
        e = row_end(it, s, n);
        qsort(it + s, e - s, sizeof *it, cmp_x);
        rs[nr++] = s;
    }
    rs[nr] = n;
    return nr;
}

/* A region's rows, and scratch for four lists of gaps. */
typedef struct {
    ol_item *it;
    size_t *rs, nr;
    float lo, hi;
    ol_gap *gut, *alt, *tmp, *row;
} ol_rows;

static void row_extent(const ol_rows *R, size_t r, float *x0, float *x1) {
    for (size_t i = R->rs[r]; i < R->rs[r + 1]; i++) {
        *x0 = fminf(*x0, R->it[i].x0);
        *x1 = fmaxf(*x1, R->it[i].x1);
    }
}

/* Keeps the gaps with lines on both sides within [x0, x1]; returns how many. */
static size_t interior(ol_gap *g, size_t ng, float x0, float x1) {
    size_t k = 0;
    for (size_t i = 0; i < ng; i++)
        if (g[i].a > x0 && g[i].b < x1) g[k++] = g[i];
    return k;
}

/* A group's first row r: its gaps into g, its extent. */
static size_t start_group(const ol_state *S, const ol_rows *R, size_t r, ol_gap *g, float *x0,
                          float *x1) {
    *x0 = INFINITY, *x1 = -INFINITY;
    row_extent(R, r, x0, x1);
    return row_gaps(R->it + R->rs[r], R->rs[r + 1] - R->rs[r], R->lo, R->hi, S->gutter_min, g);
}

/* Row r joins a group with gutters g[0..ng) over [*x0, *x1]: the gaps both
 * share, with lines on both sides, replace g and the extent grows. Returns
 * how many (0: row r ends the group; g and the extent unchanged). */
static size_t join_row(const ol_state *S, ol_rows *R, size_t r, ol_gap *g, size_t ng, float *x0,
                       float *x1) {
    float e0 = *x0, e1 = *x1;
    size_t nrow = start_group(S, R, r, R->row, &e0, &e1);
    e0 = fminf(e0, *x0), e1 = fmaxf(e1, *x1);
    size_t ni = gaps_intersect(g, ng, R->row, nrow, S->gutter_min, R->tmp);
    ni = interior(R->tmp, ni, e0, e1);
    if (ni) {
        memcpy(g, R->tmp, ni * sizeof *g);
        *x0 = e0, *x1 = e1;
    }
    return ni;
}

/* The group of rows [a, b) as the rows join it one by one, into g; 0 when a
 * row would not join. */
static size_t group_of(const ol_state *S, ol_rows *R, size_t a, size_t b, ol_gap *g, float *x0,
                       float *x1) {
    size_t ng = start_group(S, R, a, g, x0, x1);
    for (size_t r = a + 1; r < b && ng; r++)
        ng = join_row(S, R, r, g, ng, x0, x1);
    return ng;
}

/* How many of rows [a, b) have lines on both sides of gap g. */
static size_t rows_across(const ol_rows *R, size_t a, size_t b, const ol_gap *g) {
    size_t k = 0;
    for (size_t r = a; r < b; r++) {
        int left = 0, right = 0;
        for (size_t i = R->rs[r]; i < R->rs[r + 1]; i++)
            left |= R->it[i].x1 <= g->a, right |= R->it[i].x0 >= g->b;
        k += left && right;
    }
    return k;
}

/* Row j does not join the group of rows [g, j): the earliest row r > g such
 * that rows [r, j] form a group, into R->alt, when they are more rows than
 * those above r and two of them have lines on both sides of its gutter (the
 * rows above r being a heading or the like, read above the columns: a
 * title's word spaces in line with the gutter below must not narrow it to
 * nothing); else j. Fewer rows below than above are the columns' last lines
 * with what ends them (a footer), and one row across a gutter is a number
 * beside an entry of a table of contents: they stay with the rows above. */
static size_t gutter_restart(const ol_state *S, ol_rows *R, size_t g, size_t j, size_t *ng) {
    size_t best = j;
    float x0 = INFINITY, x1 = -INFINITY;
    size_t n = start_group(S, R, j, R->alt, &x0, &x1);
    for (size_t r = j; r-- > g + 1 && n;) {
        float y0 = INFINITY, y1 = -INFINITY;
        size_t nrow = start_group(S, R, r, R->row, &y0, &y1);
        n = gaps_intersect(R->alt, n, R->row, nrow, S->gutter_min, R->tmp);
        memcpy(R->alt, R->tmp, n * sizeof *R->tmp);
        x0 = fminf(x0, y0), x1 = fmaxf(x1, y1);
        memcpy(R->row, R->alt, n * sizeof *R->alt);
        if (interior(R->row, n, x0, x1)) best = r;
    }
    if (best - g >= j + 1 - best) best = j;
    /* the incremental rule has the last word (it keeps only interior gaps) */
    *ng = best < j ? group_of(S, R, best, j + 1, R->alt, &x0, &x1) : 0;
    size_t k = 0;
    while (k < *ng && rows_across(R, best, j + 1, &R->alt[k]) < 2)
        k++;
    if (k == *ng) *ng = 0;
    return *ng ? best : j;
}

/* Rows [g, e) with gutters gut (ng) over [x0, x1] end a group: columnar when
 * a gutter has lines on both sides (the plain rows pending since *run are
 * read first), else they stay with the plain rows. */
static void end_group(ol_state *S, ol_rows *R, size_t g, size_t e, ol_gap *gut, size_t ng, float x0,
                      float x1, size_t *run, int depth) {
    size_t k = interior(gut, ng, x0, x1), s = R->rs[g], t = R->rs[e];
    if (!k || g >= e) return;
    if (*run < s) leaf(S, R->it + *run, s - *run);
    split_columns(S, R->it + s, t - s, gut, k, depth);
    *run = t;
}

/* A set of lines: rows are grouped while they share a gutter; groups with an
 * interior gutter are split into columns, the others are read as one column. */
static void region(ol_state *S, ol_item *it, size_t n, int depth) {
    if (n == 0) return;
    if (n == 1 || depth > LAY_MAX_DEPTH) {
        leaf(S, it, n);
        return;
    }
    /* Scratch per level: the recursion below must not overwrite it. */
    ol_gap *gaps = malloc(4 * (n + 2) * sizeof *gaps);
    size_t *rs = malloc((n + 1) * sizeof *rs);
    if (!gaps || !rs) {
        free(gaps);
        free(rs);
        leaf(S, it, n);
        return;
    }
    ol_rows R = {.it = it, .rs = rs, .lo = it[0].x0, .hi = it[0].x1, .gut = gaps};
    R.alt = gaps + (n + 2), R.tmp = gaps + 2 * (n + 2), R.row = gaps + 3 * (n + 2);
    for (size_t i = 1; i < n; i++) {
        R.lo = fminf(R.lo, it[i].x0);
        R.hi = fmaxf(R.hi, it[i].x1);
    }
    R.nr = split_rows(it, n, rs);
    size_t run = 0, g = 0; /* pending plain items from run; the group from row g */
    float x0, x1;
    size_t ng = start_group(S, &R, 0, R.gut, &x0, &x1);
    for (size_t j = 1; j < R.nr; j++) {
        size_t nj = join_row(S, &R, j, R.gut, ng, &x0, &x1);
        if (nj) {
            ng = nj;
            continue;
        }
        size_t nr, r = gutter_restart(S, &R, g, j, &nr);
        if (r < j) { /* rows [g, r) end a group; [r, j] go on as one */
            float h0, h1;
            size_t nh = group_of(S, &R, g, r, R.gut, &h0, &h1);
            end_group(S, &R, g, r, R.gut, nh, h0, h1, &run, depth);
            ng = group_of(S, &R, r, j + 1, R.gut, &x0, &x1);
        } else {
            end_group(S, &R, g, j, R.gut, ng, x0, x1, &run, depth);
            ng = start_group(S, &R, j, R.gut, &x0, &x1);
        }
        g = r;
    }
    end_group(S, &R, g, R.nr, R.gut, ng, x0, x1, &run, depth);
    if (run < n) leaf(S, it + run, n - run);
    free(gaps);
    free(rs);
}

/* Rewrites the page's lines and their text in the new order. */
static q_status apply_order(lay_doc *d, lay_page *p, const uint32_t *order, const uint32_t *block) {
    lay_line *lines = lay_doc_line(d, (size_t)p->first_line);
    size_t n = p->lines;
    uint64_t base = UINT64_MAX, end = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        base = Q_MIN(base, lines[i].text_start);
        end = Q_MAX(end, lines[i].text_start + lines[i].text_len);
        total += lines[i].text_len;
    }
    if (end - base != total || end > d->text.len)
        return Q_FAIL(Q_ERR_INTERNAL, "page %u: its lines' text is not contiguous", p->page);
    lay_line *old = malloc(n * sizeof *old);
    char *txt = malloc(total ? total : 1);
    if (!old || !txt) {
        free(old);
        free(txt);
        return Q_FAIL(Q_ERR_NOMEM, "out of memory ordering %zu lines", n);
    }
    memcpy(old, lines, n * sizeof *old);
    memcpy(txt, d->text.data + base, total);
    uint64_t pos = base;
    for (size_t i = 0; i < n; i++) {
        lay_line l = old[order[i]];
        memcpy(d->text.data + pos, txt + (l.text_start - base), l.text_len);
        l.text_start = pos;
        l.block = block[i];
        pos += l.text_len;
        lines[i] = l;
    }
    free(old);
    free(txt);
    return Q_OK;
}

q_status lay_order_page(lay_doc *d, size_t page_index) {
    return lay_order_page_in(d, page_index, NULL);
}

q_status lay_order_page_in(lay_doc *d, size_t page_index, const float *frame) {
    if (page_index >= lay_doc_npages(d))
        return Q_FAIL(Q_ERR_INTERNAL, "no page %zu to order", page_index);
    lay_page *p = lay_doc_page(d, page_index);
    size_t n = p->lines;
    if (n == 0) return Q_OK;
    q_status st = Q_OK;
    ol_item *it = malloc(n * sizeof *it);
    uint32_t *order = malloc(n * sizeof *order);
    uint32_t *block = malloc(n * sizeof *block);
    float *sizes = malloc(n * sizeof *sizes);
    if (!it || !order || !block || !sizes) {
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory ordering %zu lines", n);
        goto fail;
    }
    /* The median font size sets the gutter width. */
    lay_line *lines = lay_doc_line(d, (size_t)p->first_line);
    for (size_t i = 0; i < n; i++) {
        const lay_line *l = &lines[i];
        const float *b = frame ? frame + 4 * i : l->bbox;
        it[i] = (ol_item){fminf(b[0], b[2]),
                          fminf(b[1], b[3]),
                          fmaxf(b[0], b[2]),
                          fmaxf(b[1], b[3]),
                          l->size > 0 ? l->size : fabsf(b[3] - b[1]),
                          (uint32_t)i};
        sizes[i] = it[i].size;
    }
    qsort(sizes, n, sizeof *sizes, cmp_float);
    float med = sizes[n / 2];
    ol_state S = {.order = order,
                  .block = block,
                  .gutter_min = fmaxf(LAY_GUTTER_EM * med, LAY_GUTTER_MIN_PT)};
    region(&S, it, n, 0);
    if (S.n != n) {
        st = Q_FAIL(Q_ERR_INTERNAL, "ordering lost lines (%zu of %zu)", S.n, n);
        goto fail;
    }
    st = apply_order(d, p, order, block);
fail:
    free(it);
    free(order);
    free(block);
    free(sizes);
    return st;
}
