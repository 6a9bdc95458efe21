/* jsonl.c: --format jsonl. One JSON object per line of text, in reading
 * order: doc, page (from 0), block (page-local), line (document-wide, from
 * 0), bbox (x0, y0, x1, y1 in PDF points, origin top-left, as results.h5),
 * confidence and text. */
#include <math.h>

#include "export_int.h"

/* A number JSON accepts: a damaged file's NaN or infinity becomes null. */
static q_status jsonl_num(q_buf *out, const char *pre, float v, int digits) {
    if (!isfinite(v)) return q_buf_printf(out, "%snull", pre);
    return q_buf_printf(out, "%s%.*f", pre, digits, (double)v);
}

q_status export_jsonl(const lay_doc *d, q_buf *out) {
    q_status st = Q_OK;
    for (size_t i = 0; i < d->line_v.len && !st; i++) {
        const lay_line *l = &Q_VEC_AT(&d->line_v, lay_line, i);
        st = q_buf_printf(out, "{\"doc\":%llu,\"page\":%u,\"block\":%u,\"line\":%zu,\"bbox\":",
                          (unsigned long long)d->doc, l->page, l->block, i);
        for (int k = 0; k < 4 && !st; k++)
            st = jsonl_num(out, k ? "," : "[", l->bbox[k], 2);
        if (!st) st = jsonl_num(out, "],\"confidence\":", l->conf, 4);
        if (!st) st = q_buf_puts(out, ",\"text\":");
        if (!st) st = export_json(out, export_line_text(d, l), l->text_len);
        if (!st) st = q_buf_puts(out, "}\n");
    }
    return st;
}
