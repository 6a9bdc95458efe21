/* Informational: pages/s of doc_process on the files given (one core), to set
 * beside `mutool draw -F txt -o /dev/null FILE`. Never part of the tests. */
#include <stdio.h>

#include "doc/doc.h"

int main(int argc, char **argv) {
    doc_reader *r;
    if (doc_reader_new(&r)) return 1;
    int reps = 20, show = 0;
    for (int a = 1; a < argc; a++) {
        if (argv[a][0] == '-' && argv[a][1] == 't') { /* -t: print the text once */
            show = 1;
            reps = 1;
            continue;
        }
        double t0 = q_now();
        unsigned pages = 0;
        size_t bytes = 0;
        for (int k = 0; k < reps; k++) {
            lay_doc rec;
            lay_doc_init(&rec, 0, argv[a]);
            doc_options opt = {0};
            doc_process(r, &opt, NULL, NULL, &rec);
            pages += (unsigned)lay_doc_npages(&rec);
            bytes = rec.text.len;
            if (show) {
                q_buf out = {0};
                lay_doc_plain_text(&rec, &out);
                for (size_t i = 0; i < lay_doc_npages(&rec); i++) {
                    lay_page *pg = lay_doc_page(&rec, i);
                    printf("  page %u kind %d %gx%g rot %d lines %u\n", pg->page, pg->kind,
                           pg->width, pg->height, pg->rotation, pg->lines);
                }
                printf("%s\n", out.data ? out.data : "");
                q_buf_free(&out);
            }
            if (k == 0 && rec.error[0])
                printf("  %s: status %d: %s\n", argv[a], rec.status, rec.error);
            lay_doc_free(&rec);
        }
        double dt = q_now() - t0;
        printf("%-50s %5u pages %8.1f pages/s  %zu text bytes\n", argv[a], pages / reps, pages / dt,
               bytes);
    }
    doc_reader_free(r);
    return 0;
}
