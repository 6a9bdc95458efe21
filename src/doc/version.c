/* The MuPDF version quire was built with, for `quire info`. */
#include <mupdf/fitz.h>

#include "doc/doc.h"

const char *doc_version(void) {
    return "MuPDF " FZ_VERSION;
}
