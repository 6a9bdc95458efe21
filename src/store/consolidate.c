/* consolidate.c: all closed shards into OUT/results.h5 (schema 1), written by
 * every rank together with parallel HDF5: the file and its attributes, one
 * collective write per table per round of batches (plan.c decides who writes
 * which rows, batch.c reads them), and the rename when it is complete. */
#define _POSIX_C_SOURCE 200809L
#include "store_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/statvfs.h>
#include <unistd.h>

typedef struct {
    hid_t f, ddoc, dpage, dline, dtext, dxpl;
    hid_t dranks, tranks; /* /ranks and its type, when there are rows */
    store_ranks ranks;    /* rank 0's rows, on every rank */
} cons_out;

typedef struct {
    char tmp[4200], fin[4200], rsv[4200]; /* results.h5.tmp, results.h5, the reserve */
} cons_paths;

/* COLLECTIVE (the file's close). Returns H5Fclose's result. */
static herr_t cons_out_close(cons_out *o) {
    store_h5_close(&o->ddoc), store_h5_close(&o->dpage), store_h5_close(&o->dline);
    store_h5_close(&o->dtext), store_h5_close(&o->dxpl);
    store_h5_close(&o->dranks), store_h5_close(&o->tranks);
    herr_t e = o->f >= 0 ? H5Fclose(o->f) : 0;
    o->f = -1;
    return e;
}

/* COLLECTIVE: metadata strings from rank 0, so every rank writes identical
 * attributes (parallel HDF5 requires it). */
static q_status cons_share_meta(store_plan *c, const store_meta *meta, q_buf *out) {
    q_status st = Q_OK;
    uint64_t len = 0;
    if (c->rank == 0) {
        char created[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
        const char *v[4] = {meta && meta->quire_version ? meta->quire_version : q_version, created,
                            meta && meta->models_json ? meta->models_json : "{}",
                            meta && meta->config_json ? meta->config_json : "{}"};
        for (int i = 0; i < 4 && !st; i++)
            st = q_buf_append(out, v[i], strlen(v[i]) + 1);
        len = out->len;
    }
    if ((st = store_coll_agree(c->comm, st))) return st;
    STORE_MPI(MPI_Bcast(&len, 1, MPI_UINT64_T, 0, c->comm));
    if (len > INT32_MAX)
        return Q_FAIL(Q_ERR_USAGE, "metadata of %llu bytes is too large", (unsigned long long)len);
    if (c->rank != 0 && (st = q_buf_reserve(out, len))) goto fail;
    out->len = len;
    STORE_MPI(MPI_Bcast(out->data, (int)len, MPI_CHAR, 0, c->comm));
fail:
    return store_coll_agree(c->comm, st);
}

static q_status cons_create(store_plan *c, const char *tmp, const store_rows *tot,
                            const q_buf *meta, cons_out *o) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    q_status st = Q_OK;
    /* V18 lower bound: readable by HDF5 1.8 and later (h5py 3.7, h5dump 1.10),
     * while large JSON attributes may still use dense storage. */
    if (fapl < 0 || H5Pset_fapl_mpio(fapl, c->comm, MPI_INFO_NULL) < 0 ||
        H5Pset_all_coll_metadata_ops(fapl, 1) < 0 || H5Pset_coll_metadata_write(fapl, 1) < 0 ||
        H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0) {
        st = STORE_H5_FAIL("cannot set up parallel file access");
        goto fail;
    }
    if ((o->f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)) < 0) {
        st = STORE_H5_FAIL("cannot create %s", tmp);
        goto fail;
    }
    const char *m = meta->data;
    const char *ver = m, *created = ver + strlen(ver) + 1;
    const char *models = created + strlen(created) + 1, *config = models + strlen(models) + 1;
    if ((st = store_h5_attr_int(o->f, "schema", 1)) ||
        (st = store_h5_attr_str(o->f, "quire_version", ver)) ||
        (st = store_h5_attr_str(o->f, "created", created)) ||
        (st = store_h5_attr_str(o->f, "models", models)) ||
        (st = store_h5_attr_str(o->f, "config", config)))
        goto fail;
    if ((o->ddoc = store_h5_table(o->f, "documents", c->tdoc, tot->docs, c->dl.size)) < 0 ||
        (o->dpage = store_h5_table(o->f, "pages", c->tpage, tot->pages, STORE_PAGE_SIZE)) < 0 ||
        (o->dline = store_h5_table(o->f, "lines", c->tline, tot->lines, STORE_LINE_SIZE)) < 0 ||
        (o->dtext = store_h5_table(o->f, "text", H5T_NATIVE_UINT8, tot->text, 1)) < 0 ||
        (o->ranks.n && (o->dranks = store_ranks_create(o->f, &o->ranks, &o->tranks)) < 0)) {
        st = q_errcode();
        goto fail;
    }
    /* Filtered (deflated) parallel writes require collective transfers. */
    if ((o->dxpl = H5Pcreate(H5P_DATASET_XFER)) < 0 ||
        H5Pset_dxpl_mpio(o->dxpl, H5FD_MPIO_COLLECTIVE) < 0)
        st = STORE_H5_FAIL("cannot set up collective transfers");
fail:
    store_h5_close(&fapl);
    return st;
}

/* COLLECTIVE: one round writes every rank's current batch (possibly empty)
 * into all four tables. */
static q_status cons_write_batch(const store_plan *c, cons_out *o, const store_batch *b,
                                 const store_rows *tot) {
    q_status st = Q_OK;
    if (tot->docs)
        st = store_h5_write_rows(o->ddoc, c->tdoc, o->dxpl, b->off.docs, b->n.docs, b->docs);
    if (!st && tot->pages)
        st = store_h5_write_rows(o->dpage, c->tpage, o->dxpl, b->off.pages, b->n.pages, b->pages);
    if (!st && tot->lines)
        st = store_h5_write_rows(o->dline, c->tline, o->dxpl, b->off.lines, b->n.lines, b->lines);
    if (!st && tot->text)
        st = store_h5_write_rows(o->dtext, H5T_NATIVE_UINT8, o->dxpl, b->off.text, b->n.text,
                                 b->text);
    return st;
}

/* COLLECTIVE: the file made final. The reserve goes first, so that the
 * metadata HDF5 still holds fits on the disk: a flush that fails on one rank
 * only would leave the others in MPI_File_sync's barrier. Every step is
 * agreed on; the rename comes only after every rank read its rows back. */
static q_status cons_finish(const store_plan *c, cons_out *o, const cons_paths *p,
                            const char *outdir, const store_rows *off, const store_rows *mine,
                            const store_rows *tot) {
    q_status st = Q_OK;
    if (c->rank == 0 && unlink(p->rsv) != 0)
        st = Q_FAIL(Q_ERR_IO, "cannot remove %s: %s", p->rsv, strerror(errno));
    if ((st = store_coll_agree(c->comm, st))) return st;
    /* MPI_File_sync on every rank (the data is theirs) */
    if (H5Fflush(o->f, H5F_SCOPE_GLOBAL) < 0) st = STORE_H5_FAIL("cannot flush %s", p->tmp);
    if ((st = store_coll_agree(c->comm, st))) return st;
    if (cons_out_close(o) < 0) st = STORE_H5_FAIL("cannot close %s", p->tmp);
    if (!st) st = store_cons_verify(p->tmp, c, off, mine, tot);
    if (!st && c->rank == 0 && o->ranks.n) st = store_ranks_verify(p->tmp, &o->ranks);
    if ((st = store_coll_agree(c->comm, st))) return st;
    if (c->rank == 0) {
        /* Complete on disk before it gets its final name. */
        st = store_fsync_path(p->tmp, 0);
        if (!st && rename(p->tmp, p->fin) != 0)
            st = Q_FAIL(Q_ERR_IO, "cannot rename %s to %s: %s", p->tmp, p->fin, strerror(errno));
        if (!st) st = store_fsync_path(outdir, 1);
    }
    return store_coll_agree(c->comm, st);
}

/* COLLECTIVE: the rounds of batches, each rank writing its slice from *off. */
static q_status cons_write_all(store_plan *c, cons_out *o, size_t lo, size_t hi, store_rows off,
                               const store_rows *tot) {
    uint64_t nb = 0, rounds = 0;
    q_status st = Q_OK;
    store_batch b = {0};
    for (size_t i = lo; i < hi; i = store_plan_next_batch(c, i, hi))
        nb++;
    STORE_MPI(MPI_Allreduce(&nb, &rounds, 1, MPI_UINT64_T, MPI_MAX, c->comm));
    size_t at = lo;
    for (uint64_t r = 0; r < rounds; r++) {
        store_batch_free(&b);
        b.lo = b.hi = at;
        b.off = off;
        memset(&b.n, 0, sizeof b.n);
        if (at < hi) {
            b.hi = store_plan_next_batch(c, at, hi);
            store_plan_count(c, b.lo, b.hi, &b.n);
            st = store_batch_fill(c, &b);
        }
        /* Everyone must know before entering the collective writes. */
        if ((st = store_coll_agree(c->comm, st))) goto fail;
        st = cons_write_batch(c, o, &b, tot);
        if ((st = store_coll_agree(c->comm, st))) goto fail;
        at = b.hi;
        off.docs += b.n.docs, off.pages += b.n.pages, off.lines += b.n.lines;
        off.text += b.n.text;
    }
fail:
    store_batch_free(&b);
    return st;
}

/* COLLECTIVE: /ranks, when there are rows (rank 0 writes them). */
static q_status cons_write_ranks(cons_out *o, int rank, MPI_Comm comm) {
    if (!o->ranks.n) return Q_OK;
    return store_coll_agree(comm,
                            store_ranks_write(o->dranks, o->tranks, o->dxpl, &o->ranks, rank));
}

/* HDF5 reports a full disk as "file write failed" without the errno: the
 * free space of OUT's filesystem (on rank 0, which prints the error; taken
 * before the unfinished file is removed) says it. */
static void cons_note_space(const char *outdir) {
    struct statvfs fs;
    if (statvfs(outdir, &fs) != 0) return;
    unsigned long long avail = (unsigned long long)fs.f_bavail * fs.f_frsize;
    char msg[1200];
    snprintf(msg, sizeof msg, "%s", q_errmsg());
    q_fail(q_errcode(), NULL, __FILE__, __LINE__, "%s (%llu bytes free in %s)", msg, avail, outdir);
}

q_status store_consolidate(MPI_Comm comm, const char *outdir, const store_meta *meta) {
    return store_consolidate_ranks(comm, outdir, meta, NULL, 0);
}

q_status store_consolidate_ranks(MPI_Comm comm, const char *outdir, const store_meta *meta,
                                 const store_rank_row *ranks, size_t nranks) {
    store_h5_quiet();
    store_plan c = {.tdoc = -1, .tpage = -1, .tline = -1};
    cons_out o = {-1, -1, -1, -1, -1, -1, -1, -1, {0}};
    q_buf mbuf = {0};
    cons_paths p = {"", "", ""};
    q_status st = Q_OK;
    char jdir[4096];
    if ((st = q_path_join(jdir, sizeof jdir, outdir, "journal")) ||
        (st = q_path_join(p.tmp, sizeof p.tmp, outdir, "results.h5.tmp")) ||
        (st = q_path_join(p.rsv, sizeof p.rsv, outdir, "results.h5.reserve")) ||
        (st = q_path_join(p.fin, sizeof p.fin, outdir, "results.h5")))
        p.tmp[0] = p.rsv[0] = p.fin[0] = 0;
    if ((st = store_coll_agree(comm, st)) || (st = store_plan_build(&c, comm, jdir)) ||
        (st = cons_share_meta(&c, meta, &mbuf)) ||
        (st = store_ranks_share(comm, c.rank, ranks, nranks, &o.ranks)))
        goto fail;

    size_t lo, hi;
    store_plan_split(&c, &lo, &hi);
    store_rows mine, off = {0}, tot = {0};
    store_plan_count(&c, lo, hi, &mine);
    /* Where this rank's slice starts in each table; rank 0's Exscan result is
     * undefined, so it stays 0. */
    uint64_t v[4] = {mine.docs, mine.pages, mine.lines, mine.text}, ex[4] = {0}, all[4] = {0};
    STORE_MPI(MPI_Exscan(v, ex, 4, MPI_UINT64_T, MPI_SUM, comm));
    STORE_MPI(MPI_Allreduce(v, all, 4, MPI_UINT64_T, MPI_SUM, comm));
    if (c.rank != 0) off = (store_rows){ex[0], ex[1], ex[2], ex[3]};
    tot = (store_rows){all[0], all[1], all[2], all[3]};

    if (c.rank == 0) st = store_cons_reserve(p.rsv, &c, &tot);
    if ((st = store_coll_agree(comm, st))) {
        p.rsv[0] = 0; /* nothing left there to remove */
        goto fail;
    }
    st = cons_create(&c, p.tmp, &tot, &mbuf, &o);
    if (!(st = store_coll_agree(comm, st)) && !(st = cons_write_all(&c, &o, lo, hi, off, &tot)) &&
        !(st = cons_write_ranks(&o, c.rank, comm)))
        st = cons_finish(&c, &o, &p, outdir, &off, &mine, &tot);
fail:
    if (st && c.rank == 0) cons_note_space(outdir); /* before the cleanup frees space */
    /* the reserve first: closing an unfinished file still flushes it */
    if (st && c.rank == 0 && p.rsv[0]) unlink(p.rsv);
    cons_out_close(&o);
    if (st && c.rank == 0 && p.tmp[0]) unlink(p.tmp);
    store_plan_free(&c);
    store_ranks_free(&o.ranks);
    q_buf_free(&mbuf);
    if (st) q_fail_context("consolidating %s", p.fin);
    return st;
}
