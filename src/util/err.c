/* The thread-local error record behind q_fail: one per thread, so worker
 * threads (and OpenMP kernels) never overwrite each other's messages. */
#include "util.h"

#include <stdio.h>
#include <string.h>

enum { ERR_MSG_MAX = 1024 };

typedef struct {
    q_status code;
    const char *lib;
    char where[96];
    char msg[ERR_MSG_MAX];
} err_record;

static _Thread_local err_record err_rec;

/* Messages end up in one-line error fields of results.h5 and in log lines. */
static void err_flatten(char *s) {
    for (; *s; s++)
        if (*s == '\n' || *s == '\r' || *s == '\t') *s = ' ';
}

q_status q_fail(q_status code, const char *lib, const char *file, int line, const char *fmt, ...) {
    err_rec.code = code;
    err_rec.lib = lib;
    const char *base = strrchr(file, '/');
    snprintf(err_rec.where, sizeof err_rec.where, "%s:%d", base ? base + 1 : file, line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_rec.msg, sizeof err_rec.msg, fmt, ap);
    va_end(ap);
    err_flatten(err_rec.msg);
    return code;
}

q_status q_fail_context(const char *fmt, ...) {
    char prefix[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* room for both parts so the compiler can see nothing is cut silently;
     * the result is cut to the record's size on purpose */
    char joined[2 * ERR_MSG_MAX + 2];
    snprintf(joined, sizeof joined, "%s: %s", prefix, err_rec.msg);
    q_utf8_truncate(joined, ERR_MSG_MAX - 1);
    memcpy(err_rec.msg, joined, ERR_MSG_MAX);
    err_flatten(err_rec.msg);
    return err_rec.code;
}

q_status q_errcode(void) {
    return err_rec.code;
}
const char *q_errmsg(void) {
    return err_rec.msg[0] ? err_rec.msg : "no error recorded";
}
const char *q_errlib(void) {
    return err_rec.lib;
}
const char *q_errwhere(void) {
    return err_rec.where;
}
void q_errclear(void) {
    memset(&err_rec, 0, sizeof err_rec);
}

const char *q_status_name(q_status code) {
    switch (code) {
    case Q_OK:
        return "ok";
    case Q_ERR_USAGE:
        return "usage";
    case Q_ERR_IO:
        return "io";
    case Q_ERR_FORMAT:
        return "format";
    case Q_ERR_ENCRYPTED:
        return "encrypted";
    case Q_ERR_UNSUPPORTED:
        return "unsupported";
    case Q_ERR_NOMEM:
        return "nomem";
    case Q_ERR_TIMEOUT:
        return "timeout";
    case Q_ERR_LIB:
        return "library";
    case Q_ERR_MPI:
        return "mpi";
    case Q_ERR_INTERRUPTED:
        return "interrupted";
    case Q_ERR_INTERNAL:
        return "internal";
    }
    return "unknown";
}
