/* h5err.c: HDF5 errors into quire's error record. Automatic printing is
 * turned off and the error stack is walked into one line, so a failure reads
 * "context: H5Dwrite: can't write data (file write failed; ...)". */
#include "store_private.h"

#include <stdarg.h>
#include <stdio.h>

void store_h5_quiet(void) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

typedef struct {
    char *out;
    size_t cap, len;
    int n;
} h5err_walk;

static herr_t h5err_visit(unsigned k, const H5E_error2_t *e, void *data) {
    h5err_walk *w = data;
    if (w->n >= 4 || w->len + 1 >= w->cap) return 0; /* the innermost few frames say enough */
    char minor[128] = "";
    H5E_type_t t;
    if (e->min_num > 0 && H5Eget_msg(e->min_num, &t, minor, sizeof minor) < 0) minor[0] = 0;
    int r = snprintf(w->out + w->len, w->cap - w->len, "%s%s: %s%s%s%s", w->n ? "; " : "",
                     e->func_name ? e->func_name : "?", e->desc ? e->desc : "",
                     minor[0] ? " (" : "", minor, minor[0] ? ")" : "");
    if (r > 0) w->len = Q_MIN(w->cap - 1, w->len + (size_t)r);
    w->n++;
    (void)k;
    return 0;
}

q_status store_h5_fail(q_status code, const char *file, int line, const char *fmt, ...) {
    char ctx[512], stack[480] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof ctx, fmt, ap);
    va_end(ap);
    h5err_walk w = {stack, sizeof stack, 0, 0};
    /* Innermost frame first: it names the cause (e.g. "unable to open file"). */
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, h5err_visit, &w);
    H5Eclear2(H5E_DEFAULT);
    if (w.n) return q_fail(code, "HDF5", file, line, "%s: %s", ctx, stack);
    return q_fail(code, "HDF5", file, line, "%s", ctx);
}

void store_h5_close(hid_t *id) {
    if (!id || *id < 0) return;
    H5E_BEGIN_TRY {
        switch (H5Iget_type(*id)) {
        case H5I_FILE:
            H5Fclose(*id);
            break;
        case H5I_GROUP:
            H5Gclose(*id);
            break;
        case H5I_DATATYPE:
            H5Tclose(*id);
            break;
        case H5I_DATASPACE:
            H5Sclose(*id);
            break;
        case H5I_DATASET:
            H5Dclose(*id);
            break;
        case H5I_ATTR:
            H5Aclose(*id);
            break;
        case H5I_GENPROP_LST:
            H5Pclose(*id);
            break;
        default:
            break;
        }
    }
    H5E_END_TRY;
    *id = -1;
}
