#!/usr/bin/env bash
# The time-limit path: USR1 to the batch script (what --signal=B:USR1@300
# sends before the limit; here at once with `scancel --signal=USR1 --batch`).
# The script passes it to the ranks, quire stops cleanly, the script requeues
# the job itself, and the released job resumes to a complete results.h5.
. "$(dirname "$0")/lib.sh"
out=$W/out-limit
rm -rf "$out" "$out.log"
id=$(sbatch_quire "$out.log" one-node.sbatch --ntasks-per-node=3 --gpus-per-node=1 -- \
  --shard-docs 2 --out "$out" --manifest "$(slurm_manifest)")
wait_shard "$out"
scancel --signal=USR1 --batch "$id"
for _ in $(seq 300); do
  grep -q "requeueing job" "$out.log" 2>/dev/null && [ "$(job_state "$id")" = PENDING ] && break
  sleep 0.1
done
cat "$out.log"
grep -q "requeueing job $id" "$out.log" || fail "the script did not requeue itself"
[ ! -e "$out/results.h5" ] || fail "results.h5 from a stopped job"
# Not released with StartTime=now: Slurm starts a job that was requeued while
# running once its old credential has expired (AuthInfo=cred_expire, 10 s in
# the test cluster); before that slurmd would refuse it as "already killed".
job_wait "$id"
cat "$out.log"
[ "$(job_state "$id")" = COMPLETED ] || fail "requeued job $id: $(job_state "$id")"
resumed_mid_run "$out.log"
"$PY" "$TOOLS/check_results.py" "$out" "$(slurm_corpus)/truth.json" --max-cer 0.005
