/* File type by its bytes, never by its name: PDFs (with junk before the
 * header, as some producers write), and the image formats quire will OCR. */
#include "doc_int.h"

#include <stdio.h>
#include <string.h>

static int starts(const unsigned char *h, size_t n, const char *sig, size_t len) {
    return n >= len && memcmp(h, sig, len) == 0;
}

doc_type doc_sniff(const unsigned char *head, size_t n, char *hex, size_t cap) {
    /* PDF readers accept the header anywhere in the first 1024 bytes. */
    size_t lim = Q_MIN(n, (size_t)DOC_SNIFF_BYTES);
    for (size_t i = 0; i + 5 <= lim; i++)
        if (head[i] == '%' && memcmp(head + i, "%PDF-", 5) == 0) return DOC_TYPE_PDF;
    if (starts(head, n, "\x89PNG\r\n\x1a\n", 8)) return DOC_TYPE_PNG;
    if (starts(head, n, "\xff\xd8\xff", 3)) return DOC_TYPE_JPEG;
    if (starts(head, n, "II*\0", 4) || starts(head, n, "MM\0*", 4) || starts(head, n, "II+\0", 4) ||
        starts(head, n, "MM\0+", 4))
        return DOC_TYPE_TIFF;
    if (starts(head, n, "BM", 2) && n >= 14) return DOC_TYPE_BMP;
    if (hex && cap) {
        size_t k = 0, shown = Q_MIN(n, (size_t)8);
        hex[0] = 0;
        for (size_t i = 0; i < shown && k + 4 < cap; i++)
            k += (size_t)snprintf(hex + k, cap - k, i ? " %02x" : "%02x", head[i]);
        if (n > shown && k + 5 < cap) snprintf(hex + k, cap - k, " \xe2\x80\xa6"); /* " …" */
    }
    return DOC_TYPE_UNKNOWN;
}

const char *doc_type_name(doc_type t) {
    switch (t) {
    case DOC_TYPE_PDF:
        return "PDF";
    case DOC_TYPE_PNG:
        return "PNG image";
    case DOC_TYPE_JPEG:
        return "JPEG image";
    case DOC_TYPE_TIFF:
        return "TIFF image";
    case DOC_TYPE_BMP:
        return "BMP image";
    default:
        return "unknown";
    }
}

const char *doc_type_magic(doc_type t) {
    switch (t) {
    case DOC_TYPE_PDF:
        return "application/pdf";
    case DOC_TYPE_PNG:
        return "image/png";
    case DOC_TYPE_JPEG:
        return "image/jpeg";
    case DOC_TYPE_TIFF:
        return "image/tiff";
    case DOC_TYPE_BMP:
        return "image/bmp";
    default:
        return "";
    }
}
