/* text.c: --format text. The document's text as README and DESIGN.md §3
 * define it (lines in reading order joined by '\n', a blank line between
 * blocks), each page ended by '\n' and pages separated by a form feed, as
 * pdftotext separates them. */
#include "export_int.h"

q_status export_text(const lay_doc *d, q_buf *out) {
    q_status st = Q_OK;
    for (size_t p = 0; p < d->page_v.len && !st; p++) {
        size_t first, n;
        export_page_lines(d, p, &first, &n);
        if (p) st = q_buf_puts(out, "\f");
        for (size_t i = first; i < first + n && !st; i++) {
            const lay_line *l = &Q_VEC_AT(&d->line_v, lay_line, i);
            if (i > first) st = q_buf_puts(out, l->block != (l - 1)->block ? "\n\n" : "\n");
            if (!st) st = q_buf_append_utf8(out, export_line_text(d, l), l->text_len);
        }
        if (!st && n) st = q_buf_puts(out, "\n");
    }
    return st;
}
