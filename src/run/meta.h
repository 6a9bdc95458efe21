/* Private to src/run: run metadata as JSON, and where models are looked for. */
#pragma once

#include "run/run.h"

q_status run_models_json(const char *dir, q_buf *out);
q_status run_config_json(const run_options *o, int ranks, uint64_t documents, q_buf *out);
