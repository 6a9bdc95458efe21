#!/usr/bin/env bash
# `sbatch slurm/one-node.sbatch --out DIR --manifest M` on a real Slurm:
# one rank per GPU (the fake gres), CPU ranks, and a results.h5 with every
# document exactly once and the known text.
. "$(dirname "$0")/lib.sh"
out=$W/out-one
rm -rf "$out" "$out.log"
id=$(sbatch_quire "$out.log" one-node.sbatch --ntasks-per-node=3 --gpus-per-node=1 -- \
  --out "$out" --manifest "$(slurm_manifest)")
job_wait "$id"
cat "$out.log"
[ "$(job_state "$id")" = COMPLETED ] || fail "job $id: $(job_state "$id")"
grep -q "CUDA_VISIBLE_DEVICES=0" "$out.log" || fail "the job did not get the GPU"
grep -Eq " 1 +1  gpu +cuda:0 \(0\)" "$out.log" || fail "rank 1 is not the GPU rank of cuda:0"
grep -Eq " 2 +2  cpu " "$out.log" || fail "rank 2 is not a CPU rank"
"$PY" "$TOOLS/check_schema.py" "$out/results.h5"
"$PY" "$TOOLS/check_results.py" "$out" "$(slurm_corpus)/truth.json" --max-cer 0.005
