#!/usr/bin/env bash
# One worker rank killed with SIGKILL mid-run: srun ends the step, the job
# fails; the same job submitted again resumes and loses nothing.
. "$(dirname "$0")/lib.sh"
out=$W/out-kill
rm -rf "$out" "$out".log*
id=$(sbatch_quire "$out.log1" one-node.sbatch --ntasks-per-node=3 --gpus-per-node=1 -- \
  --shard-docs 2 --out "$out" --manifest "$(slurm_manifest)")
wait_shard "$out"
# the quire process of world rank 2 of this job (a CPU worker), not its
# reader process (a child with the same environment, whose death costs one
# document only: tests/e2e/kill.sh)
victim=
for p in $(pgrep -x quire); do
  pp=$({ ps -o ppid= -p "$p" 2>/dev/null || true; } | tr -d ' ')
  [ "$(cat "/proc/$pp/comm" 2>/dev/null)" = quire ] && continue
  env=$(tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null) || continue
  grep -qx "SLURM_JOB_ID=$id" <<<"$env" && grep -qx "SLURM_PROCID=2" <<<"$env" && victim=$p
done
[ -n "$victim" ] || fail "rank 2 of job $id not found (finished already?)"
kill -KILL "$victim"
job_wait "$id"
cat "$out.log1"
[ "$(job_state "$id")" != COMPLETED ] || fail "the job completed although a rank was killed"
[ ! -e "$out/results.h5" ] || fail "results.h5 from a job that lost a rank"
id2=$(sbatch_quire "$out.log2" one-node.sbatch --ntasks-per-node=3 --gpus-per-node=1 -- \
  --out "$out" --manifest "$(slurm_manifest)")
job_wait "$id2"
cat "$out.log2"
[ "$(job_state "$id2")" = COMPLETED ] || fail "rerun job $id2: $(job_state "$id2")"
resumed_mid_run "$out.log2"
"$PY" "$TOOLS/check_results.py" "$out" "$(slurm_corpus)/truth.json" --max-cer 0.005
