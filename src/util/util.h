/* util: the things every module needs and nothing else: one error type with a
 * thread-local error record, logging with time and rank, a monotonic clock, a
 * growable byte buffer and UTF-8 helpers. Depends on libc only. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors ---------------------------------------------------------------
 * Every fallible function returns q_status. On failure it has already filled
 * the calling thread's error record (q_fail), so the caller can pass the code
 * up unchanged and the top level prints q_errmsg(). */
typedef enum {
    Q_OK = 0,
    Q_ERR_USAGE,       /* bad command line or API misuse by the caller */
    Q_ERR_IO,          /* open/read/write/rename failed */
    Q_ERR_FORMAT,      /* input bytes are not what they claim to be */
    Q_ERR_ENCRYPTED,   /* document needs a password */
    Q_ERR_UNSUPPORTED, /* valid input we cannot handle (yet) */
    Q_ERR_NOMEM,       /* allocation failed or a size limit was exceeded */
    Q_ERR_TIMEOUT,     /* a deadline passed */
    Q_ERR_LIB,         /* a third-party library failed (its name is in the record) */
    Q_ERR_MPI,         /* an MPI call failed */
    Q_ERR_INTERRUPTED, /* stopped by a signal */
    Q_ERR_INTERNAL,    /* a broken invariant of quire itself */
} q_status;

/* Records the error for this thread and returns `code`, so that callers write
 * `return Q_FAIL(Q_ERR_IO, "cannot open %s: %s", path, strerror(errno));`.
 * `lib` names the third-party library at fault, or NULL. */
q_status q_fail(q_status code, const char *lib, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define Q_FAIL(code, ...)          q_fail((code), NULL, __FILE__, __LINE__, __VA_ARGS__)
#define Q_FAIL_LIB(code, lib, ...) q_fail((code), (lib), __FILE__, __LINE__, __VA_ARGS__)

/* Prefixes the current error message with "context: " (keeps code and location). */
q_status q_fail_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last error of this thread; the message is a single line. Valid until the
 * next q_fail on this thread. */
q_status q_errcode(void);
const char *q_errmsg(void);
const char *q_errlib(void);
const char *q_errwhere(void); /* "file.c:123" */
void q_errclear(void);
const char *q_status_name(q_status code);

/* ---- logging --------------------------------------------------------------
 * Lines go to stderr as "[  12.345 r3] message"; time is seconds since
 * q_log_init. Error lines always print; info lines unless quiet. */
typedef enum { Q_LOG_ERROR, Q_LOG_WARN, Q_LOG_INFO, Q_LOG_DEBUG } q_log_level;
void q_log_init(int rank, q_log_level max_level);
void q_log(q_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void q_vlog(q_log_level level, const char *fmt, va_list ap);
/* An info line printed whatever the level: what --quiet keeps (quire run's
 * end-of-job summary). */
void q_log_always(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int q_log_rank(void);

/* ---- time ----------------------------------------------------------------- */
double q_now(void);           /* monotonic seconds */
void q_sleep(double seconds); /* nanosleep, resumes after signals */

/* ---- growable byte buffer ------------------------------------------------- */
typedef struct {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
} q_buf;
q_status q_buf_reserve(q_buf *b, size_t extra);
q_status q_buf_append(q_buf *b, const void *p, size_t n);
q_status q_buf_puts(q_buf *b, const char *s);
q_status q_buf_printf(q_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void q_buf_clear(q_buf *b); /* len = 0, keeps memory */
void q_buf_free(q_buf *b);  /* NULL-safe */

/* Appends `s` as a JSON string literal, quotes included. */
q_status q_buf_json_str(q_buf *b, const char *s);

/* Growable array of fixed-size elements; elem_size fixed at init. */
typedef struct {
    void *data;
    size_t len;
    size_t cap;
    size_t elem;
} q_vec;
void q_vec_init(q_vec *v, size_t elem_size);
q_status q_vec_push(q_vec *v, const void *elem);
q_status q_vec_resize(q_vec *v, size_t n); /* new elements are zeroed */
void q_vec_free(q_vec *v);
#define Q_VEC_AT(v, T, i) (((T *)(v)->data)[i])

/* ---- UTF-8 ---------------------------------------------------------------- */
int q_utf8_valid(const char *s, size_t n);
/* Copies `n` bytes of `s` to `b`, replacing invalid sequences with U+FFFD. */
q_status q_buf_append_utf8(q_buf *b, const char *s, size_t n);
/* Encodes code point `c` (invalid ones become U+FFFD); returns bytes written (1..4). */
int q_utf8_encode(uint32_t c, char out[4]);
/* Truncates `s` in place to at most `max` bytes without splitting a sequence. */
void q_utf8_truncate(char *s, size_t max);

/* ---- SHA-256 -------------------------------------------------------------- */
typedef struct {
    uint32_t h[8];
    uint64_t len;
    unsigned char buf[64];
    size_t fill;
} q_sha256;
void q_sha256_init(q_sha256 *s);
void q_sha256_update(q_sha256 *s, const void *data, size_t n);
void q_sha256_hex(q_sha256 *s, char out[65]); /* finishes; lower-case hex */
q_status q_sha256_file(const char *path, char out[65]);

/* ---- CRC-32C ---------------------------------------------------------------
 * Castagnoli CRC of n bytes, continuing from `crc` (0 to start):
 * q_crc32c(q_crc32c(0, a, n), b, m) is the CRC of a then b.
 * q_crc32c(0, "123456789", 9) == 0xE3069283. */
uint32_t q_crc32c(uint32_t crc, const void *p, size_t n);

/* ---- page pixels ------------------------------------------------------------
 * 8-bit pixels of one page, as doc decodes or renders them and ocr reads them.
 * Gray (1 channel) or RGB (3 channels, in R, G, B order), rows top to bottom. */
typedef struct {
    int w, h;
    int channels;  /* 1 or 3 */
    size_t stride; /* bytes per row, >= w * channels */
    uint8_t *px;   /* owned (q_image_free) */
} q_image;
/* Allocates w x h x channels pixels (uninitialised); refuses sizes whose byte
 * count overflows or exceeds `max_bytes` (0 = no limit) with Q_ERR_NOMEM. */
q_status q_image_alloc(q_image *im, int w, int h, int channels, size_t max_bytes);
void q_image_free(q_image *im); /* NULL-safe; leaves *im zeroed */

/* ---- misc ------------------------------------------------------------------ */
/* Writes "quire-out/x" style joined paths; returns Q_ERR_USAGE when too long. */
q_status q_path_join(char *out, size_t cap, const char *a, const char *b);
/* mkdir -p */
q_status q_mkdirs(const char *path);
#define Q_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define Q_MIN(a, b)    ((a) < (b) ? (a) : (b))
#define Q_MAX(a, b)    ((a) > (b) ? (a) : (b))

extern const char *const q_version; /* "0.1.0" */
