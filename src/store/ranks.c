/* ranks.c: the /ranks table of results.h5 (schema 1 addition): one row per
 * rank of the run that wrote the file, what it did and where its time went.
 * Small (one row per rank): rank 0's rows are broadcast so that every rank
 * creates the same dataset, and rank 0 writes them all. */
#include "store_private.h"

#include <stdlib.h>

/* Packed row: rank i32, host [H], role u8, device i32, then four u64 counts
 * and four f64 seconds; the same bytes in memory and in the file. */
typedef struct {
    size_t host, role, device, documents, pages, pages_sent, pages_served;
    size_t wall, nn, other, wait, size;
} ranks_layout;

static ranks_layout ranks_layout_of(size_t host_size) {
    ranks_layout l;
    size_t o = 4;
    l.host = o, o += host_size;
    l.role = o, o += 1;
    l.device = o, o += 4;
    l.documents = o, o += 8;
    l.pages = o, o += 8;
    l.pages_sent = o, o += 8;
    l.pages_served = o, o += 8;
    l.wall = o, o += 8;
    l.nn = o, o += 8;
    l.other = o, o += 8;
    l.wait = o, o += 8;
    l.size = o;
    return l;
}

q_status store_ranks_share(MPI_Comm comm, int rank, const store_rank_row *v, size_t nv,
                           store_ranks *out) {
    q_status st = Q_OK;
    *out = (store_ranks){0};
    uint64_t n = rank == 0 && v ? nv : 0;
    STORE_MPI(MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm));
    if (n > INT32_MAX / sizeof(store_rank_row)) {
        st = Q_FAIL(Q_ERR_USAGE, "%llu rows for /ranks are too many", (unsigned long long)n);
        goto fail;
    }
    if (n && !(out->v = calloc((size_t)n, sizeof *out->v)))
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory for %llu /ranks rows", (unsigned long long)n);
    if ((st = store_coll_agree(comm, st)) || !n) goto fail;
    if (rank == 0) memcpy(out->v, v, (size_t)n * sizeof *out->v);
    STORE_MPI(MPI_Bcast(out->v, (int)(n * sizeof *out->v), MPI_BYTE, 0, comm));
    out->n = n;
    out->host_size = 1;
    for (uint64_t i = 0; i < n; i++) {
        store_rank_row *r = &out->v[i];
        r->host[sizeof r->host - 1] = 0;
        out->host_size = Q_MAX(out->host_size, strlen(r->host));
    }
fail:
    return store_coll_agree(comm, st);
}

void store_ranks_free(store_ranks *r) {
    free(r->v);
    *r = (store_ranks){0};
}

static hid_t ranks_type(size_t host_size) {
    static const char *const roles[] = {"coordinator", "gpu", "cpu"};
    ranks_layout l = ranks_layout_of(host_size);
    hid_t host = store_type_string(host_size), role = store_type_enum(roles, 3);
    hid_t t = H5Tcreate(H5T_COMPOUND, l.size);
    if (host < 0 || role < 0 || t < 0 || H5Tinsert(t, "rank", 0, H5T_NATIVE_INT32) < 0 ||
        H5Tinsert(t, "host", l.host, host) < 0 || H5Tinsert(t, "role", l.role, role) < 0 ||
        H5Tinsert(t, "device", l.device, H5T_NATIVE_INT32) < 0 ||
        H5Tinsert(t, "documents", l.documents, H5T_NATIVE_UINT64) < 0 ||
        H5Tinsert(t, "pages", l.pages, H5T_NATIVE_UINT64) < 0 ||
        H5Tinsert(t, "pages_sent", l.pages_sent, H5T_NATIVE_UINT64) < 0 ||
        H5Tinsert(t, "pages_served", l.pages_served, H5T_NATIVE_UINT64) < 0 ||
        H5Tinsert(t, "seconds_wall", l.wall, H5T_NATIVE_DOUBLE) < 0 ||
        H5Tinsert(t, "seconds_nn", l.nn, H5T_NATIVE_DOUBLE) < 0 ||
        H5Tinsert(t, "seconds_other", l.other, H5T_NATIVE_DOUBLE) < 0 ||
        H5Tinsert(t, "seconds_wait", l.wait, H5T_NATIVE_DOUBLE) < 0) {
        STORE_H5_FAIL("cannot build the /ranks type");
        store_h5_close(&t);
    }
    store_h5_close(&host);
    store_h5_close(&role);
    return t;
}

/* The rows packed as in the file; NULL when out of memory (recorded). */
static char *ranks_pack(const store_ranks *r) {
    ranks_layout l = ranks_layout_of(r->host_size);
    char *buf = calloc((size_t)r->n, l.size);
    if (!buf) {
        Q_FAIL(Q_ERR_NOMEM, "out of memory for /ranks");
        return NULL;
    }
    for (uint64_t i = 0; i < r->n; i++) {
        const store_rank_row *x = &r->v[i];
        char *row = buf + i * l.size;
        store_put(row, 0, &x->rank, 4);
        memcpy(row + l.host, x->host, strlen(x->host)); /* the rest stays 0: null-padded */
        store_put(row, l.role, &x->role, 1);
        store_put(row, l.device, &x->device, 4);
        store_put(row, l.documents, &x->documents, 8);
        store_put(row, l.pages, &x->pages, 8);
        store_put(row, l.pages_sent, &x->pages_sent, 8);
        store_put(row, l.pages_served, &x->pages_served, 8);
        store_put(row, l.wall, &x->seconds_wall, 8);
        store_put(row, l.nn, &x->seconds_nn, 8);
        store_put(row, l.other, &x->seconds_other, 8);
        store_put(row, l.wait, &x->seconds_wait, 8);
    }
    return buf;
}

hid_t store_ranks_create(hid_t f, const store_ranks *r, hid_t *type) {
    *type = ranks_type(r->host_size);
    if (*type < 0) return -1;
    return store_h5_table(f, "ranks", *type, r->n, ranks_layout_of(r->host_size).size);
}

q_status store_ranks_write(hid_t d, hid_t type, hid_t dxpl, const store_ranks *r, int rank) {
    char *buf = rank == 0 ? ranks_pack(r) : NULL;
    q_status st = rank == 0 && !buf ? q_errcode() : Q_OK;
    /* every rank takes part in the collective write, rank 0 with the rows */
    q_status wst = store_h5_write_rows(d, type, dxpl, 0, rank == 0 && buf ? r->n : 0, buf);
    free(buf);
    return st ? st : wst;
}

q_status store_ranks_verify(const char *path, const store_ranks *r) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d = -1, t = -1;
    size_t size = ranks_layout_of(r->host_size).size;
    char *want = ranks_pack(r), *got = calloc((size_t)r->n, size);
    q_status st = Q_OK;
    if (!want || !got) {
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory to read back /ranks");
    } else if (f < 0 || (d = H5Dopen2(f, "ranks", H5P_DEFAULT)) < 0 ||
               (t = ranks_type(r->host_size)) < 0) {
        st = STORE_H5_FAIL("cannot open /ranks of %s to check it", path);
    } else if (store_h5_nrows(d) != r->n) {
        st = Q_FAIL(Q_ERR_IO, "/ranks of %s has %llu rows, %llu were written", path,
                    (unsigned long long)store_h5_nrows(d), (unsigned long long)r->n);
    } else if (!(st = store_h5_read_rows(d, t, 0, r->n, got)) && memcmp(want, got, r->n * size)) {
        st = Q_FAIL(Q_ERR_IO, "/ranks of %s does not read back as written", path);
    }
    free(want);
    free(got);
    store_h5_close(&t);
    store_h5_close(&d);
    if (f >= 0 && H5Fclose(f) < 0 && !st) st = STORE_H5_FAIL("cannot close %s", path);
    return st;
}
