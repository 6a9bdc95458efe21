/* wire_test: the record's wire image (src/layout/wire.c). A round trip gives
 * the same record field by field and the same bytes again; every truncation,
 * trailing byte, targeted inconsistency and random byte flip is refused with
 * Q_ERR_FORMAT or, when a flip happens to give a consistent record, gives one
 * that re-packs to exactly the bytes read. Run under ASan + UBSan (label asan). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/layout/rec_gen.h"

/* Byte offsets in a version-2 image (layout.h); version 1's pages had no
 * skew_deg (4 bytes fewer, at their end). */
enum { W_STATUS = 24, W_RETRY = 41, W_PATH = 46, W_PAGE = 35, W_PAGE_V1 = 31, W_LINE = 44 };

typedef struct {
    size_t counts, pages, lines, text; /* where each part starts */
} img_parts;

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put_le(unsigned char *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static img_parts parts_of(const unsigned char *img, const lay_doc *d) {
    img_parts w;
    size_t off = W_PATH;
    for (int i = 0; i < 3; i++)
        off += 4 + le32(img + off);
    w.counts = off;
    w.pages = off + 24;
    w.lines = w.pages + d->page_v.len * W_PAGE;
    w.text = w.lines + d->line_v.len * W_LINE;
    return w;
}

static void pack(uint64_t id, lay_doc *d, q_buf *img) {
    rec_gen(id, d);
    REC_OK(lay_doc_pack(d, img));
}

/* A record that unpacking accepted is consistent and re-packs to `img`. */
static void check_accepted(const unsigned char *img, size_t n, const lay_doc *d) {
    q_buf again = {0};
    REC_OK(lay_doc_pack(d, &again));
    CHECK(again.len == n && memcmp(again.data, img, n) == 0);
    q_buf_free(&again);
    uint64_t end = 0;
    for (size_t i = 0; i < d->page_v.len; i++) {
        const lay_page *p = &Q_VEC_AT(&d->page_v, lay_page, i);
        CHECK(p->kind <= LAY_PAGE_FAILED && p->first_line >= end);
        CHECK(p->first_line + p->lines <= d->line_v.len);
        end = p->first_line + p->lines;
    }
    end = 0;
    for (size_t i = 0; i < d->line_v.len; i++) {
        const lay_line *l = &Q_VEC_AT(&d->line_v, lay_line, i);
        CHECK(l->text_start >= end && l->text_start + l->text_len <= d->text.len);
        CHECK(q_utf8_valid(d->text.data + l->text_start, l->text_len));
        end = l->text_start + l->text_len;
    }
    CHECK(d->status <= LAY_DOC_SKIPPED && d->retry <= 1);
    CHECK(q_utf8_valid(d->path, strlen(d->path)) && q_utf8_valid(d->error, strlen(d->error)));
}

/* Unpacks n bytes: 1 when accepted (and checked), 0 when refused cleanly. */
static int try_unpack(const unsigned char *img, size_t n) {
    lay_doc d;
    q_status st = lay_doc_unpack(img, n, &d);
    if (st) {
        CHECK(st == Q_ERR_FORMAT || st == Q_ERR_NOMEM);
        CHECK(d.path == NULL && d.page_v.len == 0 && d.line_v.len == 0 && d.text.data == NULL);
    } else {
        check_accepted(img, n, &d);
    }
    lay_doc_free(&d);
    return st == Q_OK;
}

static void test_roundtrip_every_shape(void) {
    for (uint64_t id = 0; id < 25; id++) {
        lay_doc a, b;
        q_buf img = {0};
        pack(id, &a, &img);
        REC_OK(lay_doc_unpack(img.data, img.len, &b));
        CHECK(rec_equal(&a, &b));
        CHECK(try_unpack((unsigned char *)img.data, img.len));
        lay_doc_free(&a);
        lay_doc_free(&b);
        q_buf_free(&img);
    }
}

/* pack appends: two images after a prefix read back one by one. */
static void test_pack_appends(void) {
    lay_doc a, b, x;
    q_buf img = {0};
    REC_OK(q_buf_puts(&img, "prefix"));
    pack(2, &a, &img);
    size_t mid = img.len;
    pack(3, &b, &img);
    REC_OK(lay_doc_unpack(img.data + 6, mid - 6, &x));
    CHECK(rec_equal(&a, &x));
    lay_doc_free(&x);
    REC_OK(lay_doc_unpack(img.data + mid, img.len - mid, &x));
    CHECK(rec_equal(&b, &x));
    lay_doc_free(&x), lay_doc_free(&a), lay_doc_free(&b);
    q_buf_free(&img);
}

static void test_every_truncation_and_trailing_byte(void) {
    for (uint64_t id = 0; id < 5; id++) {
        lay_doc d;
        q_buf img = {0};
        pack(id == 2 ? 7 : id, &d, &img); /* 7: shape 2 with fewer bytes than 2 */
        for (size_t n = 0; n < img.len; n++)
            CHECK(!try_unpack((unsigned char *)img.data, n));
        REC_OK(q_buf_append(&img, "", 1));
        CHECK(!try_unpack((unsigned char *)img.data, img.len));
        lay_doc_free(&d);
        q_buf_free(&img);
    }
}

/* Each edit of a valid image, applied alone, is refused. */
static void test_targeted_inconsistencies(void) {
    lay_doc d;
    q_buf img = {0};
    pack(2, &d, &img); /* three pages of 400+ lines */
    img_parts w = parts_of((unsigned char *)img.data, &d);
    struct {
        size_t off;
        uint64_t v;
        int n;
    } edit[] = {
        {0, LAY_WIRE_VERSION + 1, 4},             /* unknown version */
        {0, 1, 4},                                /* version 1 with version 2's pages */
        {W_STATUS, 4, 1},                         /* status outside its enum */
        {W_RETRY, 2, 1},                          /* retry neither 0 nor 1 */
        {W_PATH + 4, 0, 1},                       /* NUL in the path */
        {W_PATH + 4, 0xff, 1},                    /* path not UTF-8 */
        {W_PATH, 1u << 30, 4},                    /* path beyond the data */
        {w.counts, 1ull << 40, 8},                /* page count beyond the data */
        {w.counts + 8, 1ull << 40, 8},            /* line count beyond the data */
        {w.counts + 16, 1, 8},                    /* text shorter than the bytes left */
        {w.pages + 4, 4, 1},                      /* page kind outside its enum */
        {w.pages + W_PAGE + 19, 0, 8},            /* page 1 overlaps page 0's lines */
        {w.pages + 2 * W_PAGE + 15, 1u << 20, 4}, /* page 2's lines beyond the lines */
        {w.lines + W_LINE + 32, 0, 8},            /* line 1's text before line 0's */
        {w.lines + 40, 3, 4},                     /* line 0 ends inside "ü" */
        {w.lines + 32, UINT64_MAX, 8},            /* text_start overflows */
    };
    for (size_t i = 0; i < sizeof edit / sizeof edit[0]; i++) {
        q_buf bad = {0};
        REC_OK(q_buf_append(&bad, img.data, img.len));
        put_le((unsigned char *)bad.data + edit[i].off, edit[i].v, edit[i].n);
        if (try_unpack((unsigned char *)bad.data, bad.len))
            fprintf(stderr, "edit %zu was accepted\n", i), rec_failures++;
        q_buf_free(&bad);
    }
    lay_doc_free(&d);
    q_buf_free(&img);
}

/* A version-1 image (pages without skew_deg, as the previous quire's record
 * logs hold) still reads: the same record with skew 0. */
static void test_version1_reads(void) {
    for (uint64_t id = 0; id < 5; id++) {
        lay_doc d, x;
        q_buf img = {0}, old = {0};
        pack(id, &d, &img);
        const unsigned char *p = (const unsigned char *)img.data;
        img_parts w = parts_of(p, &d);
        REC_OK(q_buf_append(&old, img.data, w.pages));
        put_le((unsigned char *)old.data, 1, 4);
        for (size_t i = 0; i < d.page_v.len; i++)
            REC_OK(q_buf_append(&old, img.data + w.pages + i * W_PAGE, W_PAGE_V1));
        REC_OK(q_buf_append(&old, img.data + w.lines, img.len - w.lines));
        REC_OK(lay_doc_unpack(old.data, old.len, &x));
        for (size_t i = 0; i < d.page_v.len; i++)
            lay_doc_page(&d, i)->skew_deg = 0.0f;
        CHECK(rec_equal(&d, &x));
        lay_doc_free(&d), lay_doc_free(&x);
        q_buf_free(&img), q_buf_free(&old);
    }
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rng(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

/* Random flips of one to four bytes anywhere: refused or consistent. */
static void test_random_flips(void) {
    int accepted = 0, trials = 0;
    for (uint64_t id = 0; id < 5; id++) {
        lay_doc d;
        q_buf img = {0};
        pack(id + 5, &d, &img);
        for (int t = 0; t < 4000; t++, trials++) {
            q_buf bad = {0};
            REC_OK(q_buf_append(&bad, img.data, img.len));
            int k = 1 + (int)(rng() % 4);
            for (int j = 0; j < k; j++)
                bad.data[rng() % bad.len] ^= (char)(1 + rng() % 255);
            accepted += try_unpack((unsigned char *)bad.data, bad.len);
            q_buf_free(&bad);
        }
        lay_doc_free(&d);
        q_buf_free(&img);
    }
    printf("random flips: %d of %d images still consistent (floats, ids, text bytes)\n", accepted,
           trials);
}

/* Random bytes behind a valid version: refused, never a crash. */
static void test_random_garbage(void) {
    unsigned char buf[512];
    for (int t = 0; t < 20000; t++) {
        size_t n = rng() % sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)rng();
        if (n >= 4) put_le(buf, LAY_WIRE_VERSION, 4);
        try_unpack(buf, n);
    }
}

int main(void) {
    test_roundtrip_every_shape();
    test_pack_appends();
    test_every_truncation_and_trailing_byte();
    test_targeted_inconsistencies();
    test_version1_reads();
    test_random_flips();
    test_random_garbage();
    if (rec_failures) fprintf(stderr, "%d check(s) failed\n", rec_failures);
    return rec_failures ? 1 : 0;
}
