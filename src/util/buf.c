/* Growable byte buffer and array. Growth doubles, so appends are amortised O(1);
 * failures leave the buffer as it was. */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

q_status q_buf_reserve(q_buf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return Q_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2)
            return Q_FAIL(Q_ERR_NOMEM, "buffer of %zu bytes is too large", b->len + extra);
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p) return Q_FAIL(Q_ERR_NOMEM, "out of memory growing a buffer to %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return Q_OK;
}

q_status q_buf_append(q_buf *b, const void *p, size_t n) {
    q_status st = q_buf_reserve(b, n);
    if (st) return st;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return Q_OK;
}

q_status q_buf_puts(q_buf *b, const char *s) {
    return q_buf_append(b, s, strlen(s));
}

q_status q_buf_printf(q_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return Q_FAIL(Q_ERR_INTERNAL, "bad format string");
    q_status st = q_buf_reserve(b, (size_t)n);
    if (st) return st;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return Q_OK;
}

void q_buf_clear(q_buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = 0;
}

void q_buf_free(q_buf *b) {
    if (!b) return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

q_status q_buf_json_str(q_buf *b, const char *s) {
    q_status st = q_buf_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; !st && *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            st = q_buf_append(b, esc, 2);
        } else if (*p < 0x20) {
            st = q_buf_printf(b, "\\u%04x", *p);
        } else {
            st = q_buf_append(b, p, 1);
        }
    }
    return st ? st : q_buf_puts(b, "\"");
}

void q_vec_init(q_vec *v, size_t elem_size) {
    v->data = NULL;
    v->len = v->cap = 0;
    v->elem = elem_size;
}

static q_status vec_grow(q_vec *v, size_t need) {
    if (need <= v->cap) return Q_OK;
    size_t cap = v->cap ? v->cap : 16;
    while (cap < need) {
        if (cap > SIZE_MAX / 2 / v->elem)
            return Q_FAIL(Q_ERR_NOMEM, "array of %zu elements is too large", need);
        cap *= 2;
    }
    void *p = realloc(v->data, cap * v->elem);
    if (!p) return Q_FAIL(Q_ERR_NOMEM, "out of memory growing an array to %zu elements", cap);
    v->data = p;
    v->cap = cap;
    return Q_OK;
}

q_status q_vec_push(q_vec *v, const void *elem) {
    q_status st = vec_grow(v, v->len + 1);
    if (st) return st;
    memcpy((char *)v->data + v->len * v->elem, elem, v->elem);
    v->len++;
    return Q_OK;
}

q_status q_vec_resize(q_vec *v, size_t n) {
    q_status st = vec_grow(v, n);
    if (st) return st;
    if (n > v->len) memset((char *)v->data + v->len * v->elem, 0, (n - v->len) * v->elem);
    v->len = n;
    return Q_OK;
}

void q_vec_free(q_vec *v) {
    if (!v) return;
    free(v->data);
    v->data = NULL;
    v->len = v->cap = 0;
}
