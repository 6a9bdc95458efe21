/* intable.c: the input table, OUT/journal/inputs.qit. It says which file each
 * document id of the journal stands for (path as given, absolute path, size,
 * modification time), so that a rerun over other inputs can carry finished
 * records over to their new ids (remap.c) instead of refusing. A small binary
 * file with a CRC, not HDF5: it is written by one process, replaced whole,
 * and read before anything else of the journal.
 * Layout (little-endian): "QIT1", u32 0, u64 n; per entry u64 bytes,
 * i64 mtime_ns, u32 path length, u32 absolute path length, both strings (no
 * NUL); then u32 CRC-32C of everything before it. */
#define _POSIX_C_SOURCE 200809L
#include "store_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define INTABLE_MAGIC "QIT1"
enum { INTABLE_HEAD = 16, INTABLE_ENTRY = 24, INTABLE_MAX_STR = 1 << 20 };

void store_inputs_free(store_inputs *t) {
    if (!t) return;
    free(t->v);
    free(t->mem);
    memset(t, 0, sizeof *t);
}

static q_status intable_put(q_buf *b, const void *p, size_t n) {
    return q_buf_append(b, p, n);
}

/* The file's bytes for v[0..n). */
static q_status intable_pack(const store_input *v, size_t n, q_buf *b) {
    uint32_t zero = 0;
    uint64_t count = n;
    q_status st = intable_put(b, INTABLE_MAGIC, 4);
    if (!st) st = intable_put(b, &zero, 4);
    if (!st) st = intable_put(b, &count, 8);
    for (size_t i = 0; i < n && !st; i++) {
        size_t pl = strlen(v[i].path), al = strlen(v[i].abspath);
        if (pl > INTABLE_MAX_STR || al > INTABLE_MAX_STR)
            return Q_FAIL(Q_ERR_USAGE, "input path longer than 1 MiB: %.80s...", v[i].path);
        uint32_t l32[2] = {(uint32_t)pl, (uint32_t)al};
        st = intable_put(b, &v[i].bytes, 8);
        if (!st) st = intable_put(b, &v[i].mtime_ns, 8);
        if (!st) st = intable_put(b, l32, 8);
        if (!st) st = intable_put(b, v[i].path, pl);
        if (!st) st = intable_put(b, v[i].abspath, al);
    }
    uint32_t crc = q_crc32c(0, b->data, b->len);
    if (!st) st = intable_put(b, &crc, 4);
    return st;
}

static q_status intable_write_fd(int fd, const char *path, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            return Q_FAIL(Q_ERR_IO, "cannot write %s: %s", path,
                          w < 0 ? strerror(errno) : "nothing written");
        p += w;
        n -= (size_t)w;
    }
    if (fsync(fd) != 0) return Q_FAIL(Q_ERR_IO, "cannot sync %s: %s", path, strerror(errno));
    return Q_OK;
}

q_status store_inputs_write(const char *outdir, const store_input *v, size_t n) {
    char jdir[4096], tmp[4300], fin[4300], host[40];
    q_buf b = {0};
    q_status st = q_path_join(jdir, sizeof jdir, outdir, "journal");
    if (!st) st = q_mkdirs(jdir);
    if (st) return st;
    /* a name of its own: array tasks starting together may each write the
     * (same) table; the last rename wins */
    store_host_name(host, sizeof host);
    snprintf(tmp, sizeof tmp, "%s/" STORE_INPUTS_NAME ".%s-%ld.tmp", jdir, host, (long)getpid());
    snprintf(fin, sizeof fin, "%s/" STORE_INPUTS_NAME, jdir);
    if ((st = intable_pack(v, n, &b))) goto done;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        st = Q_FAIL(Q_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
        goto done;
    }
    st = intable_write_fd(fd, tmp, b.data, b.len);
    if (close(fd) != 0 && !st) st = Q_FAIL(Q_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    if (!st && rename(tmp, fin) != 0)
        st = Q_FAIL(Q_ERR_IO, "cannot rename %s to %s: %s", tmp, fin, strerror(errno));
    if (!st) st = store_fsync_path(jdir, 1);
    if (st) unlink(tmp);
done:
    q_buf_free(&b);
    return st;
}

/* Whole file into *b; ENOENT leaves b empty and sets *found = 0. */
static q_status intable_slurp(const char *path, q_buf *b, int *found) {
    *found = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return Q_OK;
        return Q_FAIL(Q_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    }
    struct stat sb;
    q_status st = Q_OK;
    if (fstat(fd, &sb) != 0 || sb.st_size < 0 || (uint64_t)sb.st_size > ((uint64_t)1 << 36))
        st = Q_FAIL(Q_ERR_FORMAT, "%s: unusable size", path);
    if (!st) st = q_buf_reserve(b, (size_t)sb.st_size);
    while (!st && b->len < (size_t)sb.st_size) {
        ssize_t r = read(fd, b->data + b->len, (size_t)sb.st_size - b->len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
            st = Q_FAIL(Q_ERR_IO, "cannot read %s: %s", path, r < 0 ? strerror(errno) : "short");
        else
            b->len += (size_t)r;
    }
    close(fd);
    if (!st) *found = 1;
    return st;
}

/* Parses the checked bytes p[0..n) (CRC excluded) into t; strings are
 * copied into t->mem, NUL-terminated. */
static q_status intable_parse(const char *p, size_t n, store_inputs *t) {
    uint64_t count;
    memcpy(&count, p + 8, 8);
    if (count > (n - INTABLE_HEAD) / INTABLE_ENTRY)
        return Q_FAIL(Q_ERR_FORMAT, "%llu entries do not fit", (unsigned long long)count);
    t->v = calloc(count ? count : 1, sizeof *t->v);
    t->mem = malloc(n + count + 1); /* the strings plus a NUL each */
    if (!t->v || !t->mem) return Q_FAIL(Q_ERR_NOMEM, "out of memory reading the input table");
    size_t at = INTABLE_HEAD, m = 0;
    for (uint64_t i = 0; i < count; i++) {
        if (n - at < INTABLE_ENTRY)
            return Q_FAIL(Q_ERR_FORMAT, "entry %llu cut short", (unsigned long long)i);
        uint32_t l32[2];
        store_input *e = &t->v[i];
        memcpy(&e->bytes, p + at, 8);
        memcpy(&e->mtime_ns, p + at + 8, 8);
        memcpy(l32, p + at + 16, 8);
        at += INTABLE_ENTRY;
        if ((uint64_t)l32[0] + l32[1] > n - at)
            return Q_FAIL(Q_ERR_FORMAT, "entry %llu: strings beyond the end",
                          (unsigned long long)i);
        for (int k = 0; k < 2; k++) {
            char *s = t->mem + m;
            memcpy(s, p + at, l32[k]);
            s[l32[k]] = 0;
            if (memchr(s, 0, l32[k]))
                return Q_FAIL(Q_ERR_FORMAT, "entry %llu: NUL in a path", (unsigned long long)i);
            at += l32[k];
            m += l32[k] + 1;
            if (k == 0)
                e->path = s;
            else
                e->abspath = s;
        }
    }
    if (at != n) return Q_FAIL(Q_ERR_FORMAT, "%zu bytes after the last entry", n - at);
    t->n = (size_t)count;
    return Q_OK;
}

q_status store_inputs_read(const char *outdir, store_inputs *out, int *found) {
    memset(out, 0, sizeof *out);
    char path[4300];
    q_buf b = {0};
    snprintf(path, sizeof path, "%s/journal/" STORE_INPUTS_NAME, outdir);
    q_status st = intable_slurp(path, &b, found);
    if (st || !*found) goto done;
    uint32_t crc = 0;
    if (b.len < INTABLE_HEAD + 4 || memcmp(b.data, INTABLE_MAGIC, 4) != 0) {
        st = Q_FAIL(Q_ERR_FORMAT, "not an input table");
        goto done;
    }
    memcpy(&crc, b.data + b.len - 4, 4);
    if (crc != q_crc32c(0, b.data, b.len - 4)) {
        st = Q_FAIL(Q_ERR_FORMAT, "checksum mismatch (damaged)");
        goto done;
    }
    st = intable_parse(b.data, b.len - 4, out);
done:
    q_buf_free(&b);
    if (st) {
        store_inputs_free(out);
        *found = 0;
        q_fail_context("input table %s", path);
    }
    return st;
}
