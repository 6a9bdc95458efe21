/* batch.c: one batch of a rank's slice, read from the journal shards into
 * output order. Rows of consecutive documents of one shard are read in one
 * call per table, then scattered to their places with first_line and
 * text_start rebased onto results.h5's global rows. */
#define _POSIX_C_SOURCE 200809L
#include "store_private.h"

#include <stdio.h>
#include <stdlib.h>

void store_batch_free(store_batch *b) {
    free(b->docs), free(b->pages), free(b->lines), free(b->text);
    b->docs = b->pages = b->lines = b->text = NULL;
}

typedef struct {
    uint64_t shard, row;
    size_t i; /* entry */
} batch_key;

static int batch_by_shard(const void *a, const void *b) {
    const batch_key *x = a, *y = b;
    if (x->shard != y->shard) return x->shard < y->shard ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Scratch space of n bytes; old contents are not kept (no realloc copy). */
static q_status batch_grow(q_buf *b, uint64_t n) {
    if (n + 1 > b->cap) q_buf_free(b);
    q_buf_clear(b);
    return q_buf_reserve(b, (size_t)n);
}

/* Reads the run ix[i0..i1) (consecutive rows of one shard) and scatters each
 * document's rows to its place in the batch, rebasing first_line/text_start. */
static q_status batch_read_run(const store_plan *c, hid_t f, store_batch *b, const size_t *ix,
                               size_t i0, size_t i1, const uint64_t *pp, const uint64_t *lp,
                               const uint64_t *tp, q_buf tmp[4]) {
    const store_plan_entry *first = &c->e[ix[i0]], *last = &c->e[ix[i1 - 1]];
    uint64_t nd = last->row + 1 - first->row;
    uint64_t p0 = first->r.page_row, np = last->r.page_row + last->r.npages - p0;
    uint64_t l0 = first->r.line_row, nl = last->r.line_row + last->r.nlines - l0;
    uint64_t t0 = first->r.text_off, nt = last->r.text_off + last->r.ntext - t0;
    static const char *const tab[4] = {"documents", "pages", "lines", "text"};
    const uint64_t start[4] = {first->row, p0, l0, t0}, cnt[4] = {nd, np, nl, nt};
    const size_t rsz[4] = {c->dl.size, STORE_PAGE_SIZE, STORE_LINE_SIZE, 1};
    const hid_t type[4] = {c->tdoc, c->tpage, c->tline, H5T_NATIVE_UINT8};
    q_status st = Q_OK;
    for (int k = 0; k < 4 && !st; k++) {
        hid_t d = H5Dopen2(f, tab[k], H5P_DEFAULT);
        if (d < 0)
            st = STORE_H5_FAIL("cannot open /%s", tab[k]);
        else if (!(st = batch_grow(&tmp[k], cnt[k] * rsz[k]))) {
            /* fields an older shard lacks (/documents retryable, warnings,
             * warning; /pages skew_deg) are left as they are in the buffer
             * by HDF5: 0 and "" */
            if (k < 2) memset(tmp[k].data, 0, cnt[k] * rsz[k]);
            st = store_h5_read_rows(d, type[k], start[k], cnt[k], tmp[k].data);
        }
        store_h5_close(&d);
    }
    if (st) return st;
    for (size_t i = i0; i < i1; i++) {
        size_t j = ix[i] - b->lo; /* position in the batch */
        const store_plan_entry *e = &c->e[ix[i]];
        memcpy(b->docs + j * c->dl.size, tmp[0].data + (e->row - first->row) * c->dl.size,
               c->dl.size);
        char *pr = b->pages + pp[j] * STORE_PAGE_SIZE;
        memcpy(pr, tmp[1].data + (e->r.page_row - p0) * STORE_PAGE_SIZE,
               e->r.npages * STORE_PAGE_SIZE);
        uint64_t line_to = b->off.lines + lp[j], text_to = b->off.text + tp[j];
        for (uint64_t k = 0; k < e->r.npages; k++) {
            char *row = pr + k * STORE_PAGE_SIZE;
            uint64_t v = store_get_u64(row, STORE_PAGE_FIRST_LINE);
            store_put_u64(row, STORE_PAGE_FIRST_LINE, v - e->r.line_row + line_to);
        }
        char *lr = b->lines + lp[j] * STORE_LINE_SIZE;
        memcpy(lr, tmp[2].data + (e->r.line_row - l0) * STORE_LINE_SIZE,
               e->r.nlines * STORE_LINE_SIZE);
        for (uint64_t k = 0; k < e->r.nlines; k++) {
            char *row = lr + k * STORE_LINE_SIZE;
            uint64_t v = store_get_u64(row, STORE_LINE_TEXT_START);
            store_put_u64(row, STORE_LINE_TEXT_START, v - e->r.text_off + text_to);
        }
        memcpy(b->text + tp[j], tmp[3].data + (e->r.text_off - t0), e->r.ntext);
    }
    return Q_OK;
}

q_status store_batch_fill(const store_plan *c, store_batch *b) {
    size_t m = b->hi - b->lo;
    uint64_t *pos = malloc((3 * m + 1) * sizeof *pos);
    size_t *ix = malloc((m + 1) * sizeof *ix);
    batch_key *key = malloc((m + 1) * sizeof *key);
    q_buf tmp[4] = {{0}};
    hid_t f = -1;
    uint64_t open_shard = UINT64_MAX;
    char path[8192];
    q_status st = Q_OK;
    b->docs = malloc(m * c->dl.size + 1);
    b->pages = malloc(b->n.pages * STORE_PAGE_SIZE + 1);
    b->lines = malloc(b->n.lines * STORE_LINE_SIZE + 1);
    b->text = malloc(b->n.text + 1);
    if (!pos || !ix || !key || !b->docs || !b->pages || !b->lines || !b->text) {
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory for a batch of %zu documents", m);
        goto fail;
    }
    uint64_t *pp = pos, *lp = pos + m, *tp = pos + 2 * m, p = 0, l = 0, t = 0;
    for (size_t j = 0; j < m; j++) {
        const store_plan_entry *e = &c->e[b->lo + j];
        pp[j] = p, lp[j] = l, tp[j] = t;
        p += e->r.npages, l += e->r.nlines, t += e->r.ntext;
        key[j] = (batch_key){e->shard, e->row, b->lo + j};
    }
    /* Shard by shard, rows ascending: consecutive rows become one read. */
    qsort(key, m, sizeof *key, batch_by_shard);
    for (size_t j = 0; j < m; j++)
        ix[j] = key[j].i;
    for (size_t i0 = 0, i1; i0 < m; i0 = i1) {
        const store_plan_entry *e0 = &c->e[ix[i0]];
        for (i1 = i0 + 1; i1 < m; i1++) {
            const store_plan_entry *x = &c->e[ix[i1]], *prev = &c->e[ix[i1 - 1]];
            if (x->shard != e0->shard || x->row != prev->row + 1) break;
        }
        snprintf(path, sizeof path, "%s/%s", c->jdir, c->names.name[e0->shard]);
        if (e0->shard != open_shard) {
            store_h5_close(&f);
            open_shard = e0->shard;
            if ((f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
                st = STORE_H5_FAIL("cannot open");
                q_fail_context("corrupt journal shard %s (delete it to redo its documents)", path);
                goto fail;
            }
        }
        if ((st = batch_read_run(c, f, b, ix, i0, i1, pp, lp, tp, tmp))) {
            q_fail_context("corrupt journal shard %s (delete it to redo its documents)", path);
            goto fail;
        }
    }
fail:
    store_h5_close(&f);
    for (int k = 0; k < 4; k++)
        q_buf_free(&tmp[k]);
    free(pos);
    free(ix);
    free(key);
    return st;
}
