/* libFuzzer target for the ONNX reader: nn_model_load_mem on the input's
 * bytes (protobuf parsing, graph checks, constant folding, fusion). A model
 * that loads must answer the questions callers ask of it. Running a loaded
 * model is not fuzzed here: a valid model may ask for tensors of up to 2^30
 * elements (plan.c's limit), more than a fuzzer's memory. */
#include <string.h>

#include "fuzz.h"
#include "nn/nn.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    q_log_init(-1, Q_LOG_ERROR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nn_model *m = NULL;
    q_status st = nn_model_load_mem(data, size, NULL, &m);
    if (st) {
        FUZZ_CHECK(m == NULL, "a failed load returned a model");
        const char *msg = q_errmsg();
        FUZZ_CHECK(msg && msg[0] && !strchr(msg, '\n'), "the error is not one line: '%s'",
                   msg ? msg : "(null)");
        return 0;
    }
    nn_shape in;
    nn_model_input_shape(m, &in);
    FUZZ_CHECK(in.ndim >= 0 && in.ndim <= NN_MAX_DIMS, "input of %d dimensions", in.ndim);
    FUZZ_CHECK(nn_model_input_name(m) && nn_model_output_name(m), "a loaded model has no names");
    FUZZ_CHECK(nn_model_node_count(m) >= 0, "negative node count");
    fuzz_keep((unsigned)strlen(nn_model_input_name(m)) + (unsigned)strlen(nn_model_output_name(m)));
    nn_model_free(m);
    return 0;
}
