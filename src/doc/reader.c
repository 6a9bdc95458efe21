/* The reader: one MuPDF context (reused across documents, its store emptied
 * between them) and a deadline watchdog; doc_process checks the file itself
 * (exists, readable, regular, not empty), recognises its type by its bytes and
 * hands it to the right reader. Every bad input ends as a record error. */
#define _POSIX_C_SOURCE 200809L
#include "doc_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void doc_reader_problem(doc_reader *r, int n, const char *msg) {
    if (n <= 0) return;
    if (!r->problems && msg) snprintf(r->first_problem, sizeof r->first_problem, "%s", msg);
    r->problems += n;
}

/* MuPDF prints errors and warnings to stderr by default; a run over millions
 * of documents wants them in the record and the debug log. MuPDF calls this
 * for every error it throws, also those it catches itself and works around
 * (a broken object while repairing): each counts as a problem. */
static void reader_on_error(void *user, const char *message) {
    doc_reader *r = user;
    snprintf(r->last_error, sizeof r->last_error, "%s", message);
    doc_reader_problem(r, 1, message);
    q_log(Q_LOG_DEBUG, "mupdf error: %s", message);
}

/* A warning repeated back to back comes once, then as "... repeated N
 * times..." when another message (or fz_flush_warnings) follows. */
static void reader_on_warning(void *user, const char *message) {
    doc_reader *r = user;
    int times = 0;
    if (sscanf(message, "... repeated %d times", &times) == 1)
        doc_reader_problem(r, times - 1, NULL);
    else
        doc_reader_problem(r, 1, message);
    q_log(Q_LOG_DEBUG, "mupdf warning: %s", message);
}

/* The document's problems into its record (status unchanged): a repaired
 * PDF says so first, since its text may differ from what a viewer shows. */
static q_status reader_warn(doc_reader *r, lay_doc *rec) {
    fz_flush_warnings(r->ctx); /* the count of a warning still being repeated */
    if (!r->problems && !r->repaired) return Q_OK;
    q_status st;
    if (r->repaired && r->problems)
        st = lay_doc_warn(rec, "repaired: %d errors and warnings from MuPDF, the first: %s",
                          r->problems, r->first_problem);
    else if (r->repaired)
        st = lay_doc_warn(rec, "repaired: MuPDF rebuilt the damaged file");
    else
        st = lay_doc_warn(rec, "%s", r->first_problem);
    if (r->problems > 1) rec->warnings += (uint32_t)(r->problems - 1);
    return st;
}

q_status doc_reader_new(doc_reader **out) {
    *out = NULL;
    doc_reader *r = calloc(1, sizeof *r);
    if (!r) return Q_FAIL(Q_ERR_NOMEM, "out of memory for a document reader");
    q_status st = Q_OK;
    r->ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
    if (!r->ctx) {
        st = Q_FAIL_LIB(Q_ERR_LIB, "mupdf", "cannot create a MuPDF context");
        goto fail;
    }
    fz_set_error_callback(r->ctx, reader_on_error, r);
    fz_set_warning_callback(r->ctx, reader_on_warning, r);
    int ok = 1;
    fz_try(r->ctx) {
        fz_register_document_handlers(r->ctx);
    }
    fz_catch(r->ctx) {
        ok = 0;
    }
    if (!ok) {
        st = Q_FAIL_LIB(Q_ERR_LIB, "mupdf", "cannot register MuPDF document handlers");
        goto fail;
    }
    st = doc_watchdog_new(&r->dog);
    if (st) goto fail;
    *out = r;
    return Q_OK;
fail:
    doc_reader_free(r);
    return st;
}

void doc_reader_free(doc_reader *r) {
    if (!r) return;
    doc_watchdog_free(r->dog);
    fz_drop_context(r->ctx);
    q_buf_free(&r->scratch);
    free(r);
}

/* Opens and checks the file, reads its first bytes. Returns 0 and sets the
 * record error when the file cannot be a document. O_NONBLOCK keeps a FIFO
 * from hanging the open. */
static int read_head(const char *path, unsigned char *head, size_t *n, lay_doc *rec, q_status *st) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        *st = lay_doc_set_error(rec, LAY_DOC_ERROR, "cannot open: %s", strerror(e));
        return 0;
    }
    struct stat sb;
    int ok = 0;
    if (fstat(fd, &sb) != 0) {
        *st = lay_doc_set_error(rec, LAY_DOC_ERROR, "cannot stat: %s", strerror(errno));
    } else if (S_ISDIR(sb.st_mode)) {
        *st = lay_doc_set_error(rec, LAY_DOC_ERROR, "is a directory, not a document");
    } else if (!S_ISREG(sb.st_mode)) {
        *st = lay_doc_set_error(rec, LAY_DOC_ERROR, "not a regular file (device, FIFO or socket)");
    } else if (sb.st_size == 0) {
        rec->bytes = 0;
        *st = lay_doc_set_error(rec, LAY_DOC_ERROR, "empty file (0 bytes)");
    } else {
        rec->bytes = (uint64_t)sb.st_size;
        ssize_t k = pread(fd, head, DOC_SNIFF_BYTES, 0);
        if (k < 0) {
            *st = lay_doc_set_error(rec, LAY_DOC_ERROR, "cannot read: %s", strerror(errno));
        } else {
            *n = (size_t)k;
            ok = 1;
        }
    }
    close(fd);
    return ok;
}

q_status doc_process(doc_reader *r, const doc_options *opt, doc_ocr_fn ocr, void *ocr_user,
                     lay_doc *rec) {
    double t0 = q_now();
    unsigned char head[DOC_SNIFF_BYTES];
    size_t n = 0;
    q_status st = Q_OK;
    fz_flush_warnings(r->ctx); /* nothing of the previous document counts here */
    r->last_error[0] = 0;
    r->problems = r->repaired = 0;
    r->first_problem[0] = 0;
    memset(&r->cookie, 0, sizeof r->cookie);
    if (opt && opt->deadline > 0) doc_watchdog_arm(r->dog, opt->deadline, &r->cookie.abort);

    if (!read_head(rec->path, head, &n, rec, &st)) goto done;
    char hex[64];
    doc_type type = doc_sniff(head, n, hex, sizeof hex);
    if (type == DOC_TYPE_UNKNOWN) {
        st = lay_doc_set_error(rec, LAY_DOC_ERROR,
                               "not a PDF or supported image (starts with bytes '%s')", hex);
    } else if (type == DOC_TYPE_PDF) {
        st = doc_pdf_process(r, rec->path, type, opt, ocr, ocr_user, rec);
    } else if (!ocr) {
        /* An image has no text layer: without OCR its record would be empty. */
        st = lay_doc_set_error(rec, LAY_DOC_ERROR, "%s: needs OCR, which this command does not run",
                               doc_type_name(type));
    } else {
        st = doc_image_process(r, rec->path, type, opt, ocr, ocr_user, rec);
    }
done:
    if (opt && opt->deadline > 0) doc_watchdog_arm(r->dog, 0, NULL);
    /* Cached fonts, images and objects of this document are no use to the next. */
    fz_empty_store(r->ctx);
    if (!st) st = reader_warn(r, rec);
    rec->seconds = (float)(q_now() - t0);
    return st;
}
