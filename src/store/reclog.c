/* reclog.c: the write-ahead record log (store.h). A worker appends each
 * finished record to its log with one write(2) before the record waits in
 * the shard writer's memory, and syncs in groups about a second apart; the
 * next run turns what a killed process left into a shard, keeping the valid
 * prefix of a torn log the way Redis's AOF and SQLite's WAL do. */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include "store_private.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    RECLOG_MAGIC = 0x314c5251,   /* "QRL1" as little-endian bytes */
    RECLOG_HEAD = 16,            /* magic, CRC, length */
    RECLOG_KEEP_BYTES = 1 << 20, /* a larger frame buffer is freed after use */
};
#define RECLOG_SYNC_S 1.0 /* the most a power cut may cost, roughly */

/* Locks of an open file description: unlike classic POSIX locks they are not
 * dropped when this process closes some other descriptor of the file, and a
 * recovery in the same process sees them. */
#ifdef F_OFD_SETLK
#define RECLOG_SETLK F_OFD_SETLK
#else
#define RECLOG_SETLK F_SETLK
#endif

struct store_reclog {
    char jdir[4096];
    char path[4200]; /* the open log, when fd >= 0 */
    int rank;
    long pid;
    char host[40];
    unsigned seq;
    int fd;                 /* -1 until the first append (again after a reset) */
    uint64_t size, records; /* whole frames in the file */
    int unsynced;           /* frames written since the last fdatasync */
    int dir_synced;         /* the file's directory entry is durable */
    double last_sync, oldest_unsynced;
    q_buf frame; /* reused */
};

static void put_le(unsigned char *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static uint64_t get_le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* 0: locked; 1: another open file holds a lock; -1: no locks here (some
 * network file systems), which is not an error. */
static int reclog_lock(int fd) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET}; /* the whole file */
    if (fcntl(fd, RECLOG_SETLK, &fl) == 0) return 0;
    return (errno == EAGAIN || errno == EACCES) ? 1 : -1;
}

/* ---- writer --------------------------------------------------------------- */

q_status store_reclog_open(const char *outdir, int rank, store_reclog **out) {
    *out = NULL;
    store_reclog *l = calloc(1, sizeof *l);
    if (!l) return Q_FAIL(Q_ERR_NOMEM, "out of memory for a record log");
    q_status st = q_path_join(l->jdir, sizeof l->jdir, outdir, "journal");
    if (!st) st = q_mkdirs(l->jdir);
    if (st) {
        free(l);
        return st;
    }
    l->rank = rank;
    l->pid = (long)getpid();
    store_host_name(l->host, sizeof l->host);
    l->fd = -1;
    *out = l;
    return Q_OK;
}

/* Creates and locks a log with a name no earlier file has. */
static q_status reclog_create(store_reclog *l) {
    for (int tries = 0; tries < 10000; tries++) {
        int n = snprintf(l->path, sizeof l->path, "%s/r%05d-%s-%ld-%06u" STORE_RECLOG_SUFFIX,
                         l->jdir, l->rank, l->host, l->pid, l->seq++);
        if (n < 0 || (size_t)n >= sizeof l->path)
            return Q_FAIL(Q_ERR_USAGE, "journal path too long: %s", l->jdir);
        int fd = open(l->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST) continue; /* pids repeat across reboots */
        if (fd < 0)
            return Q_FAIL(Q_ERR_IO, "cannot create record log %s: %s", l->path, strerror(errno));
        /* A recovery elsewhere may have taken the empty file before the lock
         * did: then the name no longer leads to it, and another is tried. */
        struct stat a, b;
        if (reclog_lock(fd) == 1 || fstat(fd, &a) != 0 || stat(l->path, &b) != 0 ||
            a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
            close(fd);
            continue;
        }
        l->fd = fd;
        l->size = l->records = 0;
        l->unsynced = l->dir_synced = 0;
        return Q_OK;
    }
    return Q_FAIL(Q_ERR_IO, "cannot create a record log in %s", l->jdir);
}

/* Forgets the open file without removing it; the next append starts another.
 * What the file holds is recovered by the next run. */
static void reclog_abandon(store_reclog *l) {
    close(l->fd);
    l->fd = -1;
}

/* Writes one frame whole. A failure part-way cuts the file back to its last
 * whole frame, so that later frames do not follow a torn one. */
static q_status reclog_write(store_reclog *l, const char *p, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(l->fd, p + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int err = w < 0 ? errno : ENOSPC;
            if (done && ftruncate(l->fd, (off_t)l->size) != 0) reclog_abandon(l);
            return Q_FAIL(Q_ERR_IO, "cannot write record log %s: %s", l->path, strerror(err));
        }
        done += (size_t)w;
    }
    return Q_OK;
}

/* The frame of `d` in l->frame: header, then lay_doc_pack's image. */
static q_status reclog_frame(store_reclog *l, const lay_doc *d) {
    static const unsigned char zero[RECLOG_HEAD];
    q_buf_clear(&l->frame);
    q_status st = q_buf_append(&l->frame, zero, sizeof zero);
    if (!st) st = lay_doc_pack(d, &l->frame);
    if (st) return st;
    unsigned char *f = (unsigned char *)l->frame.data;
    put_le(f, RECLOG_MAGIC, 4);
    put_le(f + 8, l->frame.len - RECLOG_HEAD, 8);
    put_le(f + 4, q_crc32c(0, f + 8, l->frame.len - 8), 4); /* length and payload */
    return Q_OK;
}

q_status store_reclog_append(store_reclog *l, const lay_doc *d) {
    q_status st = reclog_frame(l, d);
    if (!st && l->fd < 0) st = reclog_create(l);
    if (!st) st = reclog_write(l, l->frame.data, l->frame.len);
    if (!st) {
        l->size += l->frame.len;
        l->records++;
        double now = q_now();
        if (l->unsynced++ == 0) l->oldest_unsynced = now;
        if (now - l->last_sync >= RECLOG_SYNC_S) st = store_reclog_sync(l);
    }
    if (l->frame.cap > RECLOG_KEEP_BYTES) q_buf_free(&l->frame); /* memory stays flat */
    if (st) q_fail_context("document %llu", (unsigned long long)d->doc);
    return st;
}

q_status store_reclog_sync(store_reclog *l) {
    if (!l || l->fd < 0 || !l->unsynced) return Q_OK;
    if (fdatasync(l->fd) != 0)
        return Q_FAIL(Q_ERR_IO, "cannot sync record log %s: %s", l->path, strerror(errno));
    l->unsynced = 0;
    l->last_sync = q_now();
    if (!l->dir_synced) { /* else a power cut could lose the file's name */
        q_status st = store_fsync_path(l->jdir, 1);
        if (st) return st;
        l->dir_synced = 1;
    }
    return Q_OK;
}

q_status store_reclog_sync_due(store_reclog *l) {
    if (!l || l->fd < 0 || !l->unsynced || q_now() - l->oldest_unsynced < RECLOG_SYNC_S)
        return Q_OK;
    return store_reclog_sync(l);
}

q_status store_reclog_reset(store_reclog *l) {
    if (!l || l->fd < 0) return Q_OK;
    /* Removed while still locked, so no recovery reads it half-gone. Its
     * removal need not be durable: if it comes back, it only duplicates. */
    q_status st = Q_OK;
    if (unlink(l->path) != 0 && errno != ENOENT)
        st = Q_FAIL(Q_ERR_IO, "cannot remove record log %s: %s", l->path, strerror(errno));
    reclog_abandon(l);
    return st;
}

void store_reclog_free(store_reclog *l) {
    if (!l) return;
    if (l->fd >= 0 && l->records == 0)
        store_reclog_reset(l); /* created, but its one write failed */
    else if (l->fd >= 0) {
        store_reclog_sync(l); /* an error is in the thread's record; the file stays */
        reclog_abandon(l);
    }
    q_buf_free(&l->frame);
    free(l);
}

/* ---- recovery ------------------------------------------------------------- */

/* The rank in a log's name, r<rank>-...; -1 when it is not such a name. */
static int reclog_name_rank(const char *name) {
    size_t n = strlen(name), m = strlen(STORE_RECLOG_SUFFIX);
    if (n <= m || strcmp(name + n - m, STORE_RECLOG_SUFFIX) != 0) return -1;
    if (name[0] != 'r' || !isdigit((unsigned char)name[1])) return -1;
    char *end;
    long r = strtol(name + 1, &end, 10);
    return (*end == '-' && r >= 0 && r <= 0x7fffffff) ? (int)r : -1;
}

static int reclog_name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the record logs in `jdir`; a missing directory has none. */
static q_status reclog_list(const char *jdir, store_names *out) {
    memset(out, 0, sizeof *out);
    DIR *dir = opendir(jdir);
    if (!dir)
        return errno == ENOENT
                   ? Q_OK
                   : Q_FAIL(Q_ERR_IO, "cannot list journal %s: %s", jdir, strerror(errno));
    q_status st = Q_OK;
    struct dirent *e;
    while (!st && (e = readdir(dir)) != NULL) {
        if (reclog_name_rank(e->d_name) < 0) continue;
        char **p = realloc(out->name, (out->n + 1) * sizeof *p);
        char *s = p ? malloc(strlen(e->d_name) + 1) : NULL;
        if (p) out->name = p;
        if (!s) {
            st = Q_FAIL(Q_ERR_NOMEM, "out of memory listing %s", jdir);
            break;
        }
        out->name[out->n++] = strcpy(s, e->d_name);
    }
    closedir(dir);
    if (st) store_names_free(out);
    if (!st && out->n) qsort(out->name, out->n, sizeof *out->name, reclog_name_cmp);
    return st;
}

static q_status reclog_pread(int fd, const char *path, void *buf, size_t n, uint64_t off) {
    char *p = buf;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
            return Q_FAIL(Q_ERR_IO, "cannot read record log %s: %s", path,
                          r < 0 ? strerror(errno) : "it shrank while being read");
        p += r, n -= (size_t)r, off += (uint64_t)r;
    }
    return Q_OK;
}

/* Reads the frame at `off` of a `size`-byte log. When it is whole, checks and
 * unpacks: *flen is its length and *d the record (the caller frees it). When
 * it is not (torn, damaged) *flen is 0 and `why` says why. Only failures
 * to read or allocate are errors. */
static q_status reclog_read_frame(int fd, const char *path, uint64_t off, uint64_t size, q_buf *buf,
                                  lay_doc *d, uint64_t *flen, char *why, size_t cap) {
    unsigned char h[RECLOG_HEAD];
    *flen = 0;
    if (size - off < RECLOG_HEAD) {
        snprintf(why, cap, "a torn frame header");
        return Q_OK;
    }
    q_status st = reclog_pread(fd, path, h, sizeof h, off);
    if (st) return st;
    uint64_t len = get_le(h + 8, 8);
    if (get_le(h, 4) != RECLOG_MAGIC) {
        snprintf(why, cap, "no frame magic");
        return Q_OK;
    }
    if (len > size - off - RECLOG_HEAD) {
        snprintf(why, cap, "a frame of %llu bytes runs past the end (a torn write)",
                 (unsigned long long)len);
        return Q_OK;
    }
    q_buf_clear(buf);
    if ((st = q_buf_reserve(buf, (size_t)len)) ||
        (st = reclog_pread(fd, path, buf->data, (size_t)len, off + RECLOG_HEAD)))
        return st;
    uint32_t crc = q_crc32c(q_crc32c(0, h + 8, 8), buf->data, (size_t)len);
    if (crc != (uint32_t)get_le(h + 4, 4)) {
        snprintf(why, cap, "a frame's CRC does not match");
        return Q_OK;
    }
    if (lay_doc_unpack(buf->data, (size_t)len, d) != Q_OK) {
        snprintf(why, cap, "%s", q_errmsg());
        q_errclear();
        return Q_OK;
    }
    *flen = RECLOG_HEAD + len;
    return Q_OK;
}

/* Appends the log's valid prefix to `sh`; *good is where it ends. */
static q_status reclog_replay(int fd, const char *path, uint64_t size, store_shard *sh,
                              uint64_t *good, uint64_t *records, char *why, size_t cap) {
    q_buf buf = {0};
    q_status st = Q_OK;
    *good = *records = 0;
    while (!st && *good < size) {
        lay_doc d;
        uint64_t flen;
        memset(&d, 0, sizeof d);
        st = reclog_read_frame(fd, path, *good, size, &buf, &d, &flen, why, cap);
        if (st || flen == 0) break;
        st = store_shard_append(sh, &d);
        lay_doc_free(&d);
        if (!st) *good += flen, ++*records;
    }
    q_buf_free(&buf);
    return st;
}

/* One log: its valid prefix into a closed shard, then the log removed. */
static q_status reclog_recover(const char *outdir, const char *jdir, const char *name,
                               store_recovery *rec) {
    char path[8192], why[512] = "";
    snprintf(path, sizeof path, "%s/%s", jdir, name);
    int fd = open(path, O_RDWR | O_CLOEXEC);    /* O_RDWR: a write lock needs it */
    if (fd < 0 && errno == ENOENT) return Q_OK; /* another recovery took it */
    if (fd < 0) return Q_FAIL(Q_ERR_IO, "cannot open record log %s: %s", path, strerror(errno));
    if (reclog_lock(fd) == 1) {
        q_log(Q_LOG_WARN, "record log %s is held by a running process: left alone", path);
        rec->busy_logs++;
        close(fd);
        return Q_OK;
    }
    store_shard *sh = NULL;
    uint64_t good = 0, records = 0;
    struct stat sb;
    q_status st = fstat(fd, &sb) != 0
                      ? Q_FAIL(Q_ERR_IO, "cannot stat %s: %s", path, strerror(errno))
                      : store_shard_open(outdir, reclog_name_rank(name), &sh);
    if (!st)
        st = reclog_replay(fd, path, (uint64_t)sb.st_size, sh, &good, &records, why, sizeof why);
    if (!st) st = store_shard_close(sh);
    if (!st && unlink(path) != 0 && errno != ENOENT)
        st = Q_FAIL(Q_ERR_IO, "cannot remove record log %s: %s", path, strerror(errno));
    if (!st) {
        uint64_t dropped = (uint64_t)sb.st_size - good;
        rec->logs++;
        rec->records += records;
        rec->dropped_bytes += dropped;
        rec->damaged_logs += dropped > 0;
        if (dropped)
            q_log(Q_LOG_WARN,
                  "record log %s: recovered %llu records, dropped its last %llu bytes: %s", path,
                  (unsigned long long)records, (unsigned long long)dropped, why);
    } else {
        q_fail_context("cannot recover record log %s (kept for the next run)", path);
    }
    store_shard_free(sh);
    close(fd);
    return st;
}

q_status store_journal_recover(const char *outdir, store_recovery *out) {
    memset(out, 0, sizeof *out);
    char jdir[4096];
    store_names names = {0};
    q_status st = q_path_join(jdir, sizeof jdir, outdir, "journal");
    if (!st) st = reclog_list(jdir, &names);
    for (size_t i = 0; !st && i < names.n; i++)
        st = reclog_recover(outdir, jdir, names.name[i], out);
    store_names_free(&names);
    return st;
}
