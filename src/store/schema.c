/* schema.c: results.h5 schema 1 (DESIGN.md §3) as HDF5 types and packed rows.
 * Rows are packed in memory exactly as in the file, so reads and writes of
 * /pages and /lines involve no HDF5 type conversion at all. */
#include "store_private.h"

void store_doc_layout_init(store_doc_layout *l, size_t path_size, size_t error_size,
                           size_t warning_size) {
    l->path_size = path_size ? path_size : 1;
    l->error_size = error_size ? error_size : 1;
    l->warning_size = warning_size ? warning_size : 1;
    size_t o = 0;
    l->doc = o, o += 8;
    l->path = o, o += l->path_size;
    l->bytes = o, o += 8;
    l->pages = o, o += 4;
    l->status = o, o += 1;
    l->error = o, o += l->error_size;
    l->text_pages = o, o += 4;
    l->ocr_pages = o, o += 4;
    l->seconds = o, o += 4;
    l->rank = o, o += 4;
    l->retryable = o, o += 1;
    l->warnings = o, o += 4;
    l->warning = o, o += l->warning_size;
    l->size = o;
}

static void schema_put_str(char *dst, size_t size, const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n > size) n = size; /* callers size fields to the longest value; this is a guard */
    if (n) memcpy(dst, s, n);
    memset(dst + n, 0, size - n);
}

void store_pack_doc(const store_doc_layout *l, void *row, const lay_doc *d) {
    char *r = row;
    store_put(r, l->doc, &d->doc, 8);
    schema_put_str(r + l->path, l->path_size, d->path);
    store_put(r, l->bytes, &d->bytes, 8);
    store_put(r, l->pages, &d->pages, 4);
    store_put(r, l->status, &d->status, 1);
    schema_put_str(r + l->error, l->error_size, d->error);
    store_put(r, l->text_pages, &d->text_pages, 4);
    store_put(r, l->ocr_pages, &d->ocr_pages, 4);
    store_put(r, l->seconds, &d->seconds, 4);
    store_put(r, l->rank, &d->rank, 4);
    store_put(r, l->retryable, &d->retry, 1);
    store_put(r, l->warnings, &d->warnings, 4);
    schema_put_str(r + l->warning, l->warning_size, d->warning);
}

void store_pack_page(void *row, uint64_t doc, const lay_page *p, uint64_t line_base) {
    uint64_t first = line_base + p->first_line;
    store_put(row, STORE_PAGE_DOC, &doc, 8);
    store_put(row, STORE_PAGE_PAGE, &p->page, 4);
    store_put(row, STORE_PAGE_KIND, &p->kind, 1);
    store_put(row, STORE_PAGE_WIDTH, &p->width, 4);
    store_put(row, STORE_PAGE_HEIGHT, &p->height, 4);
    store_put(row, STORE_PAGE_ROTATION, &p->rotation, 2);
    store_put(row, STORE_PAGE_LINES, &p->lines, 4);
    store_put(row, STORE_PAGE_FIRST_LINE, &first, 8);
    store_put(row, STORE_PAGE_SECONDS, &p->seconds, 4);
    store_put(row, STORE_PAGE_SKEW_DEG, &p->skew_deg, 4);
}

void store_pack_line(void *row, uint64_t doc, const lay_line *ln, uint64_t text_start) {
    store_put(row, STORE_LINE_DOC, &doc, 8);
    store_put(row, STORE_LINE_PAGE, &ln->page, 4);
    store_put(row, STORE_LINE_BLOCK, &ln->block, 4);
    store_put(row, STORE_LINE_BBOX, ln->bbox, 16);
    store_put(row, STORE_LINE_CONF, &ln->conf, 4);
    store_put(row, STORE_LINE_TEXT_START, &text_start, 8);
    store_put(row, STORE_LINE_TEXT_LEN, &ln->text_len, 4);
}

/* ---- HDF5 types ---- */

hid_t store_type_enum(const char *const *names, int n) {
    hid_t t = H5Tenum_create(H5T_NATIVE_UINT8);
    for (int i = 0; t >= 0 && i < n; i++) {
        uint8_t v = (uint8_t)i;
        if (H5Tenum_insert(t, names[i], &v) < 0) store_h5_close(&t);
    }
    return t;
}

hid_t store_type_string(size_t size) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, size) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0 ||
                   H5Tset_cset(t, H5T_CSET_UTF8) < 0))
        store_h5_close(&t);
    return t;
}

hid_t store_type_doc(const store_doc_layout *l) {
    static const char *const status[] = {"ok", "error", "timeout", "skipped"};
    hid_t path = store_type_string(l->path_size), err = store_type_string(l->error_size);
    hid_t warn = store_type_string(l->warning_size);
    hid_t st = store_type_enum(status, 4);
    hid_t t = H5Tcreate(H5T_COMPOUND, l->size);
    if (path < 0 || err < 0 || warn < 0 || st < 0 || t < 0 ||
        H5Tinsert(t, "doc", l->doc, H5T_NATIVE_UINT64) < 0 ||
        H5Tinsert(t, "path", l->path, path) < 0 ||
        H5Tinsert(t, "bytes", l->bytes, H5T_NATIVE_UINT64) < 0 ||
        H5Tinsert(t, "pages", l->pages, H5T_NATIVE_UINT32) < 0 ||
        H5Tinsert(t, "status", l->status, st) < 0 || H5Tinsert(t, "error", l->error, err) < 0 ||
        H5Tinsert(t, "text_pages", l->text_pages, H5T_NATIVE_UINT32) < 0 ||
        H5Tinsert(t, "ocr_pages", l->ocr_pages, H5T_NATIVE_UINT32) < 0 ||
        H5Tinsert(t, "seconds", l->seconds, H5T_NATIVE_FLOAT) < 0 ||
        H5Tinsert(t, "rank", l->rank, H5T_NATIVE_INT32) < 0 ||
        H5Tinsert(t, "retryable", l->retryable, H5T_NATIVE_UINT8) < 0 ||
        H5Tinsert(t, "warnings", l->warnings, H5T_NATIVE_UINT32) < 0 ||
        H5Tinsert(t, "warning", l->warning, warn) < 0) {
        STORE_H5_FAIL("cannot build the /documents type");
        store_h5_close(&t);
    }
    store_h5_close(&path);
    store_h5_close(&err);
    store_h5_close(&warn);
    store_h5_close(&st);
    return t;
}

hid_t store_type_page(void) {
    static const char *const kind[] = {"text", "ocr", "empty", "failed"};
    hid_t k = store_type_enum(kind, 4);
    hid_t t = H5Tcreate(H5T_COMPOUND, STORE_PAGE_SIZE);
    if (k < 0 || t < 0 || H5Tinsert(t, "doc", STORE_PAGE_DOC, H5T_NATIVE_UINT64) < 0 ||
        H5Tinsert(t, "page", STORE_PAGE_PAGE, H5T_NATIVE_UINT32) < 0 ||
        H5Tinsert(t, "kind", STORE_PAGE_KIND, k) < 0 ||
        H5Tinsert(t, "width", STORE_PAGE_WIDTH, H5T_NATIVE_FLOAT) < 0 ||
        H5Tinsert(t, "height", STORE_PAGE_HEIGHT, H5T_NATIVE_FLOAT) < 0 ||
        H5Tinsert(t, "rotation", STORE_PAGE_ROTATION, H5T_NATIVE_INT16) < 0 ||
        H5Tinsert(t, "lines", STORE_PAGE_LINES, H5T_NATIVE_UINT32) < 0 ||
        H5Tinsert(t, "first_line", STORE_PAGE_FIRST_LINE, H5T_NATIVE_UINT64) < 0 ||
        H5Tinsert(t, "seconds", STORE_PAGE_SECONDS, H5T_NATIVE_FLOAT) < 0 ||
        H5Tinsert(t, "skew_deg", STORE_PAGE_SKEW_DEG, H5T_NATIVE_FLOAT) < 0) {
        STORE_H5_FAIL("cannot build the /pages type");
        store_h5_close(&t);
    }
    store_h5_close(&k);
    return t;
}

hid_t store_type_line(void) {
    hsize_t four = 4;
    hid_t box = H5Tarray_create2(H5T_NATIVE_FLOAT, 1, &four);
    hid_t t = H5Tcreate(H5T_COMPOUND, STORE_LINE_SIZE);
    if (box < 0 || t < 0 || H5Tinsert(t, "doc", STORE_LINE_DOC, H5T_NATIVE_UINT64) < 0 ||
        H5Tinsert(t, "page", STORE_LINE_PAGE, H5T_NATIVE_UINT32) < 0 ||
        H5Tinsert(t, "block", STORE_LINE_BLOCK, H5T_NATIVE_UINT32) < 0 ||
        H5Tinsert(t, "bbox", STORE_LINE_BBOX, box) < 0 ||
        H5Tinsert(t, "conf", STORE_LINE_CONF, H5T_NATIVE_FLOAT) < 0 ||
        H5Tinsert(t, "text_start", STORE_LINE_TEXT_START, H5T_NATIVE_UINT64) < 0 ||
        H5Tinsert(t, "text_len", STORE_LINE_TEXT_LEN, H5T_NATIVE_UINT32) < 0) {
        STORE_H5_FAIL("cannot build the /lines type");
        store_h5_close(&t);
    }
    store_h5_close(&box);
    return t;
}

hid_t store_type_index(void) {
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(store_index_row));
#define IDX_FIELD(f) (H5Tinsert(t, #f, offsetof(store_index_row, f), H5T_NATIVE_UINT64) < 0)
    if (t < 0 || IDX_FIELD(doc) || IDX_FIELD(page_row) || IDX_FIELD(npages) ||
        IDX_FIELD(line_row) || IDX_FIELD(nlines) || IDX_FIELD(text_off) || IDX_FIELD(ntext) ||
        IDX_FIELD(path_len) || IDX_FIELD(error_len) || IDX_FIELD(warning_len)) {
        STORE_H5_FAIL("cannot build the shard /index type");
        store_h5_close(&t);
    }
#undef IDX_FIELD
    return t;
}
