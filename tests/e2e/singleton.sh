#!/usr/bin/env bash
# The same binary without mpirun is one process doing everything.
. "$(dirname "$0")/lib.sh"
out=$E2E_WORK/out-singleton
rm -rf "$out"
"$QUIRE_BIN" run --out "$out" "$(corpus_dir)"
check_out "$out"
"$PY" "$TOOLS/compare_results.py" "$E2E_WORK/out-np1/results.h5" "$out/results.h5"
