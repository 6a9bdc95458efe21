/* escape.c: text from results.h5 made safe for XML and JSON. The text is
 * already UTF-8 (the run sanitizes it); it is made valid again here anyway,
 * since a damaged file must not give a file no parser accepts. */
#include "export_int.h"

static q_status escape_valid(const char *s, size_t n, q_buf *tmp) {
    q_buf_clear(tmp);
    return q_buf_append_utf8(tmp, s, n);
}

q_status export_xml(q_buf *b, const char *s, size_t n) {
    q_buf tmp = {0};
    q_status st = escape_valid(s, n, &tmp);
    for (size_t i = 0; !st && i < tmp.len; i++) {
        unsigned char c = (unsigned char)tmp.data[i];
        const char *e = NULL;
        switch (c) {
        case '&':
            e = "&amp;";
            break;
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '"':
            e = "&quot;";
            break;
        case '\'':
            e = "&apos;";
            break;
        case '\t':
            e = "&#9;";
            break;
        case '\n':
            e = "&#10;";
            break;
        case '\r':
            e = "&#13;";
            break;
        default:
            break;
        }
        /* U+FFFE and U+FFFF (EF BF BE/BF) are not XML characters either */
        if (!e && c == 0xEF && i + 2 < tmp.len && (unsigned char)tmp.data[i + 1] == 0xBF &&
            ((unsigned char)tmp.data[i + 2] & 0xFE) == 0xBE) {
            e = "\xEF\xBF\xBD";
            i += 2;
        }
        if (!e && c < 0x20) e = "\xEF\xBF\xBD";
        st = e ? q_buf_puts(b, e) : q_buf_append(b, &tmp.data[i], 1);
    }
    q_buf_free(&tmp);
    return st;
}

q_status export_json(q_buf *b, const char *s, size_t n) {
    q_buf tmp = {0};
    q_status st = escape_valid(s, n, &tmp);
    if (!st) st = q_buf_puts(b, "\"");
    for (size_t i = 0; !st && i < tmp.len; i++) {
        unsigned char c = (unsigned char)tmp.data[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            st = q_buf_append(b, e, 2);
        } else if (c < 0x20) {
            st = q_buf_printf(b, "\\u%04x", c);
        } else {
            st = q_buf_append(b, &tmp.data[i], 1);
        }
    }
    if (!st) st = q_buf_puts(b, "\"");
    q_buf_free(&tmp);
    return st;
}
