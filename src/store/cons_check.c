/* cons_check.c: what makes consolidation safe on a filling disk. A reserve
 * file holds room for HDF5's metadata flush (a flush or close that fails on
 * one rank leaves the others in MPI_File_sync's barrier, or a half-closed
 * file), and a read-back of every chunk catches writes that MPI-IO lost
 * without reporting them (seen with Open MPI 4.1's OMPIO on a full tmpfs). */
#define _POSIX_C_SOURCE 200809L
#include "store_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

enum { CHECK_RESERVE_MIN = 1 << 20 };

q_status store_cons_reserve(const char *path, const store_plan *c, const store_rows *tot) {
    /* metadata is object headers, attributes and chunk indexes: far below
     * 1/512 of the uncompressed rows, plus a fixed floor */
    uint64_t raw = tot->docs * c->dl.size + tot->pages * STORE_PAGE_SIZE +
                   tot->lines * STORE_LINE_SIZE + tot->text;
    uint64_t bytes = CHECK_RESERVE_MIN + raw / 512;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return Q_FAIL(Q_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    int rc = posix_fallocate(fd, 0, (off_t)bytes); /* returns the error, no errno */
    close(fd);
    if (rc == 0) return Q_OK;
    unlink(path);
    return Q_FAIL(Q_ERR_IO, "cannot reserve %llu bytes for results.h5 in %s: %s",
                  (unsigned long long)bytes, path, strerror(rc));
}

/* Reads rows [first, first + n) of `name` a chunk at a time (a chunk is
 * decompressed once), so that every chunk holding them is inflated. */
static q_status check_table(hid_t f, const char *name, hid_t memtype, size_t row_size,
                            uint64_t want, uint64_t first, uint64_t n) {
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT), dcpl = -1;
    hsize_t chunk = 0;
    q_status st = Q_OK;
    char *buf = NULL;
    if (d < 0 || (dcpl = H5Dget_create_plist(d)) < 0 || H5Pget_chunk(dcpl, 1, &chunk) != 1) {
        st = STORE_H5_FAIL("cannot open /%s", name);
        goto done;
    }
    if (store_h5_nrows(d) != want) {
        st = Q_FAIL(Q_ERR_IO, "/%s has %llu rows, %llu were written", name,
                    (unsigned long long)store_h5_nrows(d), (unsigned long long)want);
        goto done;
    }
    if (n && !(buf = malloc((size_t)chunk * row_size))) {
        st = Q_FAIL(Q_ERR_NOMEM, "no memory to read back /%s", name);
        goto done;
    }
    for (uint64_t at = first, end = first + n; at < end && !st;) {
        uint64_t next = (at / chunk + 1) * chunk;
        if (next > end) next = end;
        st = store_h5_read_rows(d, memtype, at, next - at, buf);
        at = next;
    }
done:
    free(buf);
    store_h5_close(&dcpl);
    store_h5_close(&d);
    return st;
}

q_status store_cons_verify(const char *path, const store_plan *c, const store_rows *off,
                           const store_rows *mine, const store_rows *tot) {
    /* serial open, read-only: nothing here is collective, so a failure on
     * one rank cannot leave another waiting inside HDF5 */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return STORE_H5_FAIL("cannot reopen %s to check it", path);
    q_status st =
        check_table(f, "documents", c->tdoc, c->dl.size, tot->docs, off->docs, mine->docs);
    if (!st)
        st =
            check_table(f, "pages", c->tpage, STORE_PAGE_SIZE, tot->pages, off->pages, mine->pages);
    if (!st)
        st =
            check_table(f, "lines", c->tline, STORE_LINE_SIZE, tot->lines, off->lines, mine->lines);
    if (!st) st = check_table(f, "text", H5T_NATIVE_UINT8, 1, tot->text, off->text, mine->text);
    if (H5Fclose(f) < 0 && !st) st = STORE_H5_FAIL("cannot close %s after checking it", path);
    if (st) q_fail_context("checking %s", path);
    return st;
}
