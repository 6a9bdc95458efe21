#!/usr/bin/env bash
# `mpirun -np N quire run --gpus 0` over the corpus: one /documents row per
# input, text equal to the known text (CER < 0.5 %), page counts right, schema
# 1 exactly; /ranks one row per rank (rank 0 the coordinator, the others CPU
# ranks; one process alone a CPU rank) that agrees with /documents and with
# the end-of-job summary (check_ranks.py).
. "$(dirname "$0")/lib.sh"
n=$1
out=$E2E_WORK/out-np$n
rm -rf "$out"
quire_np "$n" --gpus 0 --out "$out" "$(corpus_dir)" 2>&1 | tee "$out.log"
[ "${PIPESTATUS[0]}" = 0 ] || fail "quire run -np $n failed"
check_out "$out"
roles=cpu
[ "$n" -gt 1 ] && roles=coordinator$(printf ',cpu%.0s' $(seq 2 "$n"))
"$PY" "$(dirname "$0")/check_ranks.py" "$out/results.h5" --roles "$roles" --log "$out.log"
