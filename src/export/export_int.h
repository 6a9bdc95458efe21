/* export_int.h: what the format writers of src/export share: the lines of a
 * page, words cut from a line with boxes apportioned along it, and escaping
 * for XML and JSON. Not for use outside src/export. */
#pragma once

#include "export/export.h"

/* The lines of page i of `d`: [*first, *first + *n) of d->line_v. */
void export_page_lines(const lay_doc *d, size_t i, size_t *first, size_t *n);
const char *export_line_text(const lay_doc *d, const lay_line *l); /* not NUL-terminated */
/* The end of the block that starts at line i, within lines [i, end): the
 * first line after i of another block, or end. */
size_t export_block_end(const lay_doc *d, size_t i, size_t end);

/* A word of a line: bytes [start, start+len) of the line's text, its box a
 * share of the line's box by character counts (results.h5 stores lines, not
 * words): each character, spaces included, gets the same width. */
typedef struct {
    size_t start, len;
    float bbox[4];
} export_word;
/* The words of line `l` (runs of characters between spaces) into *out
 * (q_vec of export_word, cleared first). */
q_status export_line_words(const lay_doc *d, const lay_line *l, q_vec *out);

/* Appends n bytes of s escaped for XML text and attribute values (& < > " '),
 * made valid UTF-8, with characters XML 1.0 forbids (controls but tab) as
 * U+FFFD. */
q_status export_xml(q_buf *b, const char *s, size_t n);
/* Appends n bytes of s as a JSON string literal, made valid UTF-8. */
q_status export_json(q_buf *b, const char *s, size_t n);
