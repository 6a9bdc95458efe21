/* The engine's three networks run through here, so that where they run and
 * what they cost is decided in one place. */
#include "ocr/ocr_private.h"

q_status ocr_net_run(ocr_engine *e, ocr_net net, const float *in, const nn_shape *shape,
                     const float **out, nn_shape *out_shape) {
    nn_model *m = net == OCR_NET_DET ? e->det : net == OCR_NET_CLS ? e->cls : e->rec;
    double t = q_now();
    q_status st = nn_model_run(m, in, shape, out, out_shape);
    e->t_nn += q_now() - t;
    return st;
}

double ocr_engine_nn_seconds(const ocr_engine *e) {
    return e ? e->t_nn : 0;
}
