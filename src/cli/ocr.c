/* `quire ocr IMAGE`: not available until the OCR pipeline lands (the
 * scanned-pages issue). Says so plainly instead of pretending. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int cli_ocr(int argc, char **argv) {
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        puts("usage: quire ocr IMAGE\n\nPrints each OCR line of IMAGE: box, confidence, text.\n"
             "Not available in this version: the OCR pipeline is not built yet.");
        return CLI_OK;
    }
    fprintf(stderr, "quire ocr: OCR is not available in this version of quire (the OCR pipeline "
                    "is not built yet); text-layer PDFs work with 'quire text' and 'quire run'\n");
    return CLI_FATAL;
}
