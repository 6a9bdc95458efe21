/* Word lists for the beam decoder: a text list (one word per line, UTF-8,
 * as Debian's /usr/share/dict lists are) compiled into a sorted array of words
 * with membership only, and cached as one file beside the models so that a
 * 350,000-word list is sorted once, not at every start. The cache is keyed
 * by the source's path, size and modification time and carries a CRC-32C: a stale
 * or damaged cache is rebuilt, never trusted. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocr/ocr_private.h"

/* The cache file: this header, then n uint32 offsets, then the words
 * (NUL-terminated, sorted by strcmp, no duplicates). crc is the CRC-32C of
 * the header with crc = 0, then of everything after it. Native byte order:
 * the magic's integer reads differently on a machine of the other order. */
typedef struct {
    char magic[8];
    uint32_t order; /* LEX_ORDER */
    uint32_t n;
    uint64_t blob_len;
    uint64_t src_size;
    int64_t src_mtime_s, src_mtime_ns;
    uint32_t crc;
    uint32_t src_path; /* CRC-32C of the source's path */
} lex_header;

static const char lex_magic[8] = "QUIRELX1";
enum { LEX_ORDER = 0x01020304u };
/* A word list larger than this is not a word list (and 32-bit offsets suffice). */
#define LEX_MAX_BYTES ((size_t)256 << 20)

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts the words (pointers into bytes they are kept in), drops duplicates
 * and lays them out as off[] + blob in one allocation. */
static q_status pack(char **w, size_t n, ocr_wordlist *wl) {
    qsort(w, n, sizeof *w, cmp_str);
    size_t m = 0, blob = 0;
    for (size_t i = 0; i < n; i++)
        if (!m || strcmp(w[m - 1], w[i])) w[m++] = w[i], blob += strlen(w[i]) + 1;
    char *mem = malloc(m * sizeof(uint32_t) + blob + 1);
    if (!mem) return Q_FAIL(Q_ERR_NOMEM, "out of memory for a word list of %zu words", m);
    wl->mem = mem;
    wl->n = (uint32_t)m;
    wl->off = (uint32_t *)mem;
    wl->blob = mem + m * sizeof(uint32_t);
    wl->blob_len = blob;
    size_t at = 0;
    for (size_t i = 0; i < m; i++) {
        size_t len = strlen(w[i]) + 1;
        wl->off[i] = (uint32_t)at;
        memcpy(wl->blob + at, w[i], len);
        at += len;
    }
    return Q_OK;
}

/* Reads the whole file (at most LEX_MAX_BYTES) into a NUL-terminated buffer. */
static q_status slurp(const char *path, char **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return Q_FAIL(Q_ERR_IO, "cannot open word list %s: %s", path, strerror(errno));
    q_buf b = {0};
    char chunk[65536];
    size_t k;
    q_status st = Q_OK;
    while (!st && (k = fread(chunk, 1, sizeof chunk, f)) > 0) {
        st = b.len + k > LEX_MAX_BYTES
                 ? Q_FAIL(Q_ERR_NOMEM, "word list %s is larger than 256 MiB", path)
                 : q_buf_append(&b, chunk, k);
    }
    if (!st && ferror(f)) st = Q_FAIL(Q_ERR_IO, "cannot read word list %s", path);
    fclose(f);
    if (!st && !b.data) st = q_buf_append(&b, "", 0);
    if (st) {
        q_buf_free(&b);
        return st;
    }
    *data = b.data;
    *len = b.len;
    return Q_OK;
}

q_status ocr_wordlist_from_file(const char *path, ocr_wordlist *wl) {
    memset(wl, 0, sizeof *wl);
    char *data = NULL;
    size_t len = 0;
    q_status st = slurp(path, &data, &len);
    if (st) return st;
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += data[i] == '\n';
    char **w = malloc(lines * sizeof *w);
    if (!w) {
        free(data);
        return Q_FAIL(Q_ERR_NOMEM, "out of memory reading word list %s", path);
    }
    size_t n = 0;
    for (char *s = data, *end = data + len; s < end;) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        char *e = nl ? nl : end;
        *e = 0;
        /* trailing blanks and CR off; lines that are empty, hold a space or
         * are not UTF-8 are not words */
        char *t = e;
        while (t > s && (t[-1] == '\r' || t[-1] == ' ' || t[-1] == '\t'))
            *--t = 0;
        if (t > s && !memchr(s, ' ', (size_t)(t - s)) && !memchr(s, '\t', (size_t)(t - s)) &&
            q_utf8_valid(s, (size_t)(t - s)))
            w[n++] = s;
        s = e + 1;
    }
    st = pack(w, n, wl);
    free(w);
    free(data);
    return st;
}

/* 0 when the cache bytes are a whole, undamaged, well-formed list compiled
 * from a source of this size and time; wl then points into `mem`. */
static int cache_valid(char *mem, size_t len, const char *path, const struct stat *src,
                       ocr_wordlist *wl) {
    lex_header h;
    if (len < sizeof h) return -1;
    memcpy(&h, mem, sizeof h);
    if (memcmp(h.magic, lex_magic, sizeof h.magic) || h.order != LEX_ORDER) return -1;
    if ((uint64_t)src->st_size != h.src_size || q_crc32c(0, path, strlen(path)) != h.src_path ||
        (int64_t)src->st_mtim.tv_sec != h.src_mtime_s ||
        (int64_t)src->st_mtim.tv_nsec != h.src_mtime_ns)
        return -1; /* stale */
    if (h.blob_len > LEX_MAX_BYTES || h.n > LEX_MAX_BYTES ||
        len != sizeof h + (size_t)h.n * sizeof(uint32_t) + h.blob_len)
        return -1;
    uint32_t crc = h.crc;
    h.crc = 0;
    uint32_t c = q_crc32c(0, &h, sizeof h);
    if (q_crc32c(c, mem + sizeof h, len - sizeof h) != crc) return -1;
    wl->n = h.n;
    wl->off = (uint32_t *)(mem + sizeof h);
    wl->blob = mem + sizeof h + (size_t)h.n * sizeof(uint32_t);
    wl->blob_len = (size_t)h.blob_len;
    /* a CRC does not prove the writer was right: offsets inside the blob,
     * every word terminated, strictly sorted (binary search relies on it) */
    if (h.n && (!h.blob_len || wl->blob[h.blob_len - 1])) return -1;
    for (uint32_t i = 0; i < h.n; i++) {
        if (wl->off[i] >= h.blob_len) return -1;
        if (i && (wl->off[i] <= wl->off[i - 1] ||
                  strcmp(wl->blob + wl->off[i - 1], wl->blob + wl->off[i]) >= 0))
            return -1;
    }
    return 0;
}

/* Writes the compiled list to `path` (via a temporary file and a rename, so
 * that a reader never sees half a cache). */
static q_status cache_write(const char *path, const char *src_path, const struct stat *src,
                            const ocr_wordlist *wl) {
    lex_header h = {.order = LEX_ORDER,
                    .n = wl->n,
                    .blob_len = wl->blob_len,
                    .src_size = (uint64_t)src->st_size,
                    .src_mtime_s = (int64_t)src->st_mtim.tv_sec,
                    .src_mtime_ns = (int64_t)src->st_mtim.tv_nsec,
                    .src_path = q_crc32c(0, src_path, strlen(src_path))};
    memcpy(h.magic, lex_magic, sizeof h.magic);
    size_t offs = (size_t)wl->n * sizeof(uint32_t);
    uint32_t c = q_crc32c(0, &h, sizeof h);
    c = q_crc32c(c, wl->off, offs);
    h.crc = q_crc32c(c, wl->blob, wl->blob_len);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return Q_FAIL(Q_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    int ok = fwrite(&h, sizeof h, 1, f) == 1 && (!offs || fwrite(wl->off, offs, 1, f) == 1) &&
             (!wl->blob_len || fwrite(wl->blob, wl->blob_len, 1, f) == 1);
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int err = errno;
        remove(tmp);
        return Q_FAIL(Q_ERR_IO, "cannot write %s: %s", path, strerror(err));
    }
    return Q_OK;
}

q_status ocr_wordlist_load(const char *src, const char *cache_dir, ocr_wordlist *wl, int *built) {
    memset(wl, 0, sizeof *wl);
    if (built) *built = 0;
    struct stat sst;
    if (stat(src, &sst) != 0) return Q_FAIL(Q_ERR_IO, "word list %s: %s", src, strerror(errno));
    const char *base = strrchr(src, '/');
    base = base ? base + 1 : src;
    char cache[4096];
    int have_cache = cache_dir && snprintf(cache, sizeof cache, "%s/%s.lex", cache_dir, base) <
                                      (int)sizeof cache - 16;
    if (have_cache) {
        char *mem = NULL;
        size_t len = 0;
        if (!slurp(cache, &mem, &len) && !cache_valid(mem, len, src, &sst, wl)) {
            wl->mem = mem;
            return Q_OK;
        }
        free(mem);
        memset(wl, 0, sizeof *wl);
        q_errclear();
    }
    q_status st = ocr_wordlist_from_file(src, wl);
    if (st) return st;
    if (built) *built = 1;
    /* no cache is a slower start, not an error: a read-only models folder
     * still reads words */
    if (have_cache && (q_mkdirs(cache_dir) || cache_write(cache, src, &sst, wl))) {
        q_log(Q_LOG_WARN, "word list cache not written (%s); compiling %s at every start",
              q_errmsg(), src);
        q_errclear();
    }
    return Q_OK;
}

int ocr_wordlist_has(const ocr_wordlist *wl, const char *w, size_t n) {
    size_t lo = 0, hi = wl->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *s = wl->blob + wl->off[mid];
        int c = strncmp(s, w, n);
        if (!c) c = s[n] ? 1 : 0;
        if (!c) return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

void ocr_wordlist_free(ocr_wordlist *wl) {
    if (!wl) return;
    free(wl->mem);
    memset(wl, 0, sizeof *wl);
}
