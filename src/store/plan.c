/* plan.c: the consolidation plan. Ranks share the /index tables of all closed
 * shards, sort them into one global document order (one entry per doc id: the
 * record store_record_cmp picks, the one the resume index counts), and cut it
 * into contiguous rank slices balanced by output bytes and into bounded
 * batches. */
#define _POSIX_C_SOURCE 200809L
#include "store_private.h"

#include <stdio.h>
#include <stdlib.h>

/* A batch is at most this many bytes of output rows (one document may exceed
 * it alone), which bounds each rank's memory whatever the campaign's size.
 * QUIRE_STORE_BATCH_BYTES overrides it (tests use tiny batches to exercise
 * many uneven collective rounds). */
enum { PLAN_BATCH_BYTES = 128 << 20 };

static uint64_t plan_batch_bytes(void) {
    const char *e = getenv("QUIRE_STORE_BATCH_BYTES");
    long long v = e ? atoll(e) : 0;
    return v > 0 ? (uint64_t)v : (uint64_t)PLAN_BATCH_BYTES;
}

/* ---- 1. the global index ---- */

/* Rank 0 lists the journal and broadcasts the names, so every rank works on
 * the same shard list even if the directory changes meanwhile. */
static q_status plan_share_names(store_plan *c) {
    q_status st = Q_OK;
    q_buf packed = {0};
    uint64_t len = 0;
    if (c->rank == 0) {
        st = store_list_shards(c->jdir, &c->names);
        for (size_t i = 0; !st && i < c->names.n; i++)
            st = q_buf_append(&packed, c->names.name[i], strlen(c->names.name[i]) + 1);
        len = packed.len;
    }
    if ((st = store_coll_agree(c->comm, st))) goto fail;
    STORE_MPI(MPI_Bcast(&len, 1, MPI_UINT64_T, 0, c->comm));
    if (c->rank != 0) {
        if ((st = q_buf_reserve(&packed, len))) goto fail;
        packed.len = len;
    }
    if (len > INT32_MAX) {
        st = Q_FAIL(Q_ERR_UNSUPPORTED, "journal has too many shards (%llu bytes of names)",
                    (unsigned long long)len);
        goto fail;
    }
    if (len) STORE_MPI(MPI_Bcast(packed.data, (int)len, MPI_CHAR, 0, c->comm));
    if (c->rank != 0) {
        for (size_t off = 0; !st && off < len;) {
            size_t n = strlen(packed.data + off);
            char **p = realloc(c->names.name, (c->names.n + 1) * sizeof *p);
            char *s = malloc(n + 1);
            if (p) c->names.name = p;
            if (!p || !s) {
                free(s);
                st = Q_FAIL(Q_ERR_NOMEM, "out of memory for shard names");
                break;
            }
            memcpy(s, packed.data + off, n + 1);
            c->names.name[c->names.n++] = s;
            off += n + 1;
        }
    }
fail:
    q_buf_free(&packed);
    return store_coll_agree(c->comm, st);
}

/* By doc, the winning record of each document first. */
static int plan_entry_cmp(const void *a, const void *b) {
    const store_plan_entry *x = a, *y = b;
    if (x->r.doc != y->r.doc) return x->r.doc < y->r.doc ? -1 : 1;
    store_record_key kx = {.status = x->status, .created = x->created, .seq = x->shard};
    store_record_key ky = {.status = y->status, .created = y->created, .seq = y->shard};
    return store_record_cmp(&kx, &ky);
}

/* This rank's share of the shards: every size-th one, read into `mine`. */
static q_status plan_read_mine(store_plan *c, q_vec *mine) {
    q_status st = Q_OK;
    char path[8192];
    for (size_t s = (size_t)c->rank; !st && s < c->names.n; s += (size_t)c->size) {
        store_shard_head h;
        snprintf(path, sizeof path, "%s/%s", c->jdir, c->names.name[s]);
        if ((st = store_shard_read_head(path, &h))) break;
        for (size_t i = 0; !st && i < h.n; i++) {
            store_plan_entry e;
            memset(&e, 0, sizeof e); /* padding too: the entries travel as bytes */
            e.r = h.rows[i], e.row = i, e.shard = s, e.created = h.created;
            e.status = h.status[i];
            st = q_vec_push(mine, &e);
        }
        store_shard_head_free(&h);
    }
    return st;
}

/* Each rank reads the /index of every size-th shard; the entries are then
 * gathered everywhere, sorted, and de-duplicated (store_record_cmp). */
static q_status plan_gather_index(store_plan *c) {
    q_status st = Q_OK;
    q_vec mine;
    q_vec_init(&mine, sizeof(store_plan_entry));
    int *counts = NULL, *displs = NULL;
    st = plan_read_mine(c, &mine);
    if ((st = store_coll_agree(c->comm, st))) goto fail;
    uint64_t bytes = mine.len * sizeof(store_plan_entry), total = 0;
    STORE_MPI(MPI_Allreduce(&bytes, &total, 1, MPI_UINT64_T, MPI_SUM, c->comm));
    if (total > INT32_MAX) { /* ~24 million documents; same answer on every rank */
        st = Q_FAIL(Q_ERR_UNSUPPORTED, "journal index of %llu bytes is too large to share",
                    (unsigned long long)total);
        goto fail;
    }
    counts = malloc((size_t)c->size * sizeof *counts);
    displs = malloc((size_t)c->size * sizeof *displs);
    c->e = malloc(total ? total : 1);
    if (!counts || !displs || !c->e)
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory for the journal index");
    if ((st = store_coll_agree(c->comm, st))) goto fail;
    int mycount = (int)bytes;
    STORE_MPI(MPI_Allgather(&mycount, 1, MPI_INT, counts, 1, MPI_INT, c->comm));
    for (int r = 0, off = 0; r < c->size; r++)
        displs[r] = off, off += counts[r];
    STORE_MPI(MPI_Allgatherv(mine.data ? mine.data : (void *)c->e, mycount, MPI_BYTE, c->e, counts,
                             displs, MPI_BYTE, c->comm));
    size_t n = (size_t)(total / sizeof(store_plan_entry)), k = 0;
    if (n) qsort(c->e, n, sizeof *c->e, plan_entry_cmp);
    size_t pmax = 1, emax = 1, wmax = 1;
    for (size_t i = 0; i < n; i++) {
        if (k && c->e[k - 1].r.doc == c->e[i].r.doc)
            continue; /* a record of the same document that lost */
        c->e[k++] = c->e[i];
        pmax = Q_MAX(pmax, c->e[i].r.path_len);
        emax = Q_MAX(emax, c->e[i].r.error_len);
        wmax = Q_MAX(wmax, c->e[i].r.warning_len);
    }
    c->n = k;
    store_doc_layout_init(&c->dl, pmax, emax, wmax);
fail:
    q_vec_free(&mine);
    free(counts);
    free(displs);
    return st;
}

q_status store_plan_build(store_plan *c, MPI_Comm comm, const char *jdir) {
    memset(c, 0, sizeof *c);
    c->comm = comm;
    c->tdoc = c->tpage = c->tline = -1;
    c->batch = plan_batch_bytes();
    q_status st = Q_OK;
    STORE_MPI(MPI_Comm_rank(comm, &c->rank));
    STORE_MPI(MPI_Comm_size(comm, &c->size));
    if (strlen(jdir) >= sizeof c->jdir)
        st = Q_FAIL(Q_ERR_USAGE, "journal path too long: %s", jdir);
    else
        memcpy(c->jdir, jdir, strlen(jdir) + 1);
    if ((st = store_coll_agree(comm, st)) || (st = plan_share_names(c)) ||
        (st = plan_gather_index(c)))
        goto fail;
    c->tdoc = store_type_doc(&c->dl);
    c->tpage = store_type_page();
    c->tline = store_type_line();
    st = (c->tdoc < 0 || c->tpage < 0 || c->tline < 0) ? q_errcode() : Q_OK;
    st = store_coll_agree(comm, st);
fail:
    return st;
}

void store_plan_free(store_plan *c) {
    store_h5_close(&c->tdoc), store_h5_close(&c->tpage), store_h5_close(&c->tline);
    store_names_free(&c->names);
    free(c->e);
    c->e = NULL;
    c->n = 0;
}

/* ---- 2. the work split ---- */

static uint64_t plan_weight(const store_plan *c, const store_plan_entry *e) {
    return c->dl.size + e->r.npages * STORE_PAGE_SIZE + e->r.nlines * STORE_LINE_SIZE + e->r.ntext;
}

void store_plan_count(const store_plan *c, size_t lo, size_t hi, store_rows *n) {
    memset(n, 0, sizeof *n);
    for (size_t i = lo; i < hi; i++) {
        n->docs++;
        n->pages += c->e[i].r.npages;
        n->lines += c->e[i].r.nlines;
        n->text += c->e[i].r.ntext;
    }
}

/* Contiguous document ranges balanced by output bytes: entry i goes to the
 * rank whose share of the total its middle byte falls in. Every rank computes
 * the same answer from the same index, so no communication is needed. */
void store_plan_split(const store_plan *c, size_t *lo, size_t *hi) {
    uint64_t total = 0, before = 0;
    for (size_t i = 0; i < c->n; i++)
        total += plan_weight(c, &c->e[i]);
    *lo = *hi = 0;
    int found = 0;
    for (size_t i = 0; i < c->n; i++) {
        /* by the middle of the document, so one huge document lands on the
         * rank whose share it mostly covers */
        uint64_t w = plan_weight(c, &c->e[i]);
        int owner =
            (int)(((long double)before + (long double)w / 2) * c->size / (total ? total : 1));
        if (owner >= c->size) owner = c->size - 1;
        if (owner == c->rank && !found) *lo = i, found = 1;
        if (owner <= c->rank) *hi = i + 1;
        before += w;
    }
    if (!found) *lo = *hi = (*hi > 0 ? *hi : 0);
}

/* This rank's batches: consecutive entries up to c->batch bytes each. */
size_t store_plan_next_batch(const store_plan *c, size_t lo, size_t hi) {
    uint64_t w = 0;
    size_t i = lo;
    while (i < hi && (i == lo || w + plan_weight(c, &c->e[i]) <= c->batch))
        w += plan_weight(c, &c->e[i++]);
    return i;
}
