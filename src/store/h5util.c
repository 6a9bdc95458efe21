/* h5util.c: the few HDF5 patterns store uses everywhere: a chunked deflated
 * 1-D table, reading and writing a contiguous range of its rows in one call,
 * scalar attributes, and fsync by path for the rename-when-complete files. */
#define _POSIX_C_SOURCE 200809L
#include "store_private.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

enum {
    H5U_CHUNK_BYTES = 4 << 20, /* ~4 MiB chunks: big reads, bounded decompression */
    H5U_CHUNK_ROWS = 65536,
    H5U_DEFLATE = 1, /* with shuffle, level 1 gets most of the gain at a fraction of the cost */
};

hid_t store_h5_table(hid_t loc, const char *name, hid_t type, uint64_t n, size_t row_size) {
    hsize_t dims = n, maxdims = H5S_UNLIMITED;
    hsize_t chunk = H5U_CHUNK_BYTES / (row_size ? row_size : 1);
    if (chunk > H5U_CHUNK_ROWS && row_size > 1) chunk = H5U_CHUNK_ROWS;
    if (chunk > n) chunk = n;
    if (chunk < 1) chunk = 1;
    hid_t space = -1, dcpl = -1, d = -1;
    space = H5Screate_simple(1, &dims, &maxdims);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (space < 0 || dcpl < 0 || H5Pset_chunk(dcpl, 1, &chunk) < 0 || H5Pset_shuffle(dcpl) < 0 ||
        H5Pset_deflate(dcpl, H5U_DEFLATE) < 0 || H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0) {
        STORE_H5_FAIL("cannot set up dataset /%s", name);
        goto done;
    }
    d = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d < 0) STORE_H5_FAIL("cannot create dataset /%s", name);
done:
    store_h5_close(&dcpl);
    store_h5_close(&space);
    return d;
}

static q_status h5u_select(hid_t dset, uint64_t first, uint64_t n, hid_t *fs, hid_t *ms) {
    hsize_t start = first, count = n, one = 1;
    *fs = H5Dget_space(dset);
    *ms = H5Screate_simple(1, n ? &count : &one, NULL);
    if (*fs < 0 || *ms < 0) return STORE_H5_FAIL("cannot get dataspaces");
    herr_t e = n ? H5Sselect_hyperslab(*fs, H5S_SELECT_SET, &start, NULL, &count, NULL)
                 : (H5Sselect_none(*fs) < 0 ? -1 : H5Sselect_none(*ms));
    if (e < 0)
        return STORE_H5_FAIL("cannot select rows %llu..+%llu", (unsigned long long)first,
                             (unsigned long long)n);
    return Q_OK;
}

q_status store_h5_read_rows(hid_t dset, hid_t memtype, uint64_t first, uint64_t n, void *buf) {
    if (n == 0) return Q_OK;
    hid_t fs = -1, ms = -1;
    q_status st = h5u_select(dset, first, n, &fs, &ms);
    if (!st && H5Dread(dset, memtype, ms, fs, H5P_DEFAULT, buf) < 0)
        st = STORE_H5_FAIL("cannot read rows %llu..+%llu", (unsigned long long)first,
                           (unsigned long long)n);
    store_h5_close(&fs);
    store_h5_close(&ms);
    return st;
}

q_status store_h5_write_rows(hid_t dset, hid_t memtype, hid_t dxpl, uint64_t first, uint64_t n,
                             const void *buf) {
    static const uint64_t dummy = 0; /* some MPI-IO paths dislike NULL even for empty writes */
    hid_t fs = -1, ms = -1;
    q_status st = h5u_select(dset, first, n, &fs, &ms);
    if (!st && H5Dwrite(dset, memtype, ms, fs, dxpl, n ? buf : &dummy) < 0)
        st = STORE_H5_FAIL("cannot write rows %llu..+%llu", (unsigned long long)first,
                           (unsigned long long)n);
    store_h5_close(&fs);
    store_h5_close(&ms);
    return st;
}

uint64_t store_h5_nrows(hid_t dset) {
    hid_t s = H5Dget_space(dset);
    hsize_t dims = 0;
    int nd = s < 0 ? -1 : H5Sget_simple_extent_ndims(s);
    if (nd != 1 || H5Sget_simple_extent_dims(s, &dims, NULL) < 0) {
        store_h5_close(&s);
        return UINT64_MAX;
    }
    store_h5_close(&s);
    return dims;
}

q_status store_h5_attr_str(hid_t loc, const char *name, const char *value) {
    size_t n = strlen(value);
    hid_t t = H5Tcopy(H5T_C_S1), s = -1, a = -1;
    q_status st = Q_OK;
    /* Fixed-length (parallel HDF5 1.10 cannot write variable-length data),
     * null-padded UTF-8, sized to the value. */
    if (t < 0 || H5Tset_size(t, n ? n : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0 || (s = H5Screate(H5S_SCALAR)) < 0 ||
        (a = H5Acreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Awrite(a, t, n ? value : "") < 0)
        st = STORE_H5_FAIL("cannot write attribute %s", name);
    store_h5_close(&a);
    store_h5_close(&s);
    store_h5_close(&t);
    return st;
}

/* A scalar attribute stored as `file` from a value of `mem` type. */
static q_status h5_attr_scalar(hid_t loc, const char *name, hid_t file, hid_t mem,
                               const void *value) {
    hid_t s = H5Screate(H5S_SCALAR), a = -1;
    q_status st = Q_OK;
    if (s < 0 || (a = H5Acreate2(loc, name, file, s, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Awrite(a, mem, value) < 0)
        st = STORE_H5_FAIL("cannot write attribute %s", name);
    store_h5_close(&a);
    store_h5_close(&s);
    return st;
}

q_status store_h5_attr_int(hid_t loc, const char *name, int value) {
    return h5_attr_scalar(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT, &value);
}

q_status store_h5_attr_read_int(hid_t loc, const char *name, int *value) {
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    q_status st = Q_OK;
    if (a < 0 || H5Aread(a, H5T_NATIVE_INT, value) < 0)
        st = STORE_H5_FAIL("cannot read attribute %s", name);
    store_h5_close(&a);
    return st;
}

q_status store_h5_attr_u64(hid_t loc, const char *name, uint64_t value) {
    return h5_attr_scalar(loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value);
}

q_status store_h5_attr_read_u64_opt(hid_t loc, const char *name, uint64_t *value) {
    *value = 0;
    htri_t has = H5Aexists(loc, name);
    if (has < 0) return STORE_H5_FAIL("cannot look for attribute %s", name);
    if (!has) return Q_OK;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    q_status st = Q_OK;
    if (a < 0 || H5Aread(a, H5T_NATIVE_UINT64, value) < 0)
        st = STORE_H5_FAIL("cannot read attribute %s", name);
    store_h5_close(&a);
    return st;
}

q_status store_fsync_path(const char *path, int is_dir) {
    int fd = open(path, is_dir ? O_RDONLY | O_DIRECTORY : O_RDWR);
    if (fd < 0) return Q_FAIL(Q_ERR_IO, "cannot open %s to sync it: %s", path, strerror(errno));
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    if (rc != 0 && !(is_dir && (err == EINVAL || err == EROFS)))
        return Q_FAIL(Q_ERR_IO, "cannot sync %s: %s", path, strerror(err));
    return Q_OK;
}
