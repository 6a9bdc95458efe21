#!/usr/bin/env bash
# slurm/array.sbatch over 3 slices of one manifest, then the final run that
# writes results.h5: the same documents and text as the one-node job.
. "$(dirname "$0")/lib.sh"
out=$W/out-array
rm -rf "$out" "$W"/out-array*.log
id=$(sbatch_quire "$W/out-array-%a.log" array.sbatch --array=0-2 --ntasks-per-node=1 \
  --gpus-per-node=0 -- --out "$out" --manifest "$(slurm_manifest)")
job_wait "$id"
cat "$W"/out-array-*.log
for k in 0 1 2; do
  grep -q "slice $k/3 done" "$W/out-array-$k.log" || fail "slice $k/3 did not finish"
done
[ ! -e "$out/results.h5" ] || fail "a slice wrote results.h5"
fin=$(sbatch_quire "$W/out-array-final.log" one-node.sbatch --dependency=afterok:"$id" \
  --ntasks-per-node=2 --gpus-per-node=0 -- --out "$out" --manifest "$(slurm_manifest)")
job_wait "$fin"
cat "$W/out-array-final.log"
n=$(wc -l <"$(slurm_manifest)")
grep -q "resuming: $n of $n" "$W/out-array-final.log" || fail "the final run redid documents"
"$PY" "$TOOLS/check_results.py" "$out" "$(slurm_corpus)/truth.json" --max-cer 0.005
"$PY" "$TOOLS/compare_results.py" "$W/out-one/results.h5" "$out/results.h5"
