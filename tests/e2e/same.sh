#!/usr/bin/env bash
# 1, 3 and 4 ranks give the same results.h5 content (timings and ranks aside).
. "$(dirname "$0")/lib.sh"
for n in 3 4; do
  "$PY" "$TOOLS/compare_results.py" "$E2E_WORK/out-np1/results.h5" "$E2E_WORK/out-np$n/results.h5"
done
