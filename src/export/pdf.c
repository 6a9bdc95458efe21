/* pdf.c: --format pdf (stub until written). */
#include "export_int.h"

q_status export_pdf(const lay_doc *d, const char *src, const char *dst) {
    (void)d, (void)src, (void)dst;
    return Q_FAIL(Q_ERR_UNSUPPORTED, "pdf is not written yet");
}
