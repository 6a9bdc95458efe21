#!/usr/bin/env bash
# SIGUSR1 to the job's ranks mid-run (`scancel --signal=USR1`): quire stops
# taking work, closes its shards and exits 0, so the job ends COMPLETED without
# results.h5; after `scontrol requeue` the job resumes and finishes with
# every document exactly once.
. "$(dirname "$0")/lib.sh"
out=$W/out-usr1
rm -rf "$out" "$out.log"
id=$(sbatch_quire "$out.log" one-node.sbatch --ntasks-per-node=3 --gpus-per-node=1 -- \
  --shard-docs 2 --out "$out" --manifest "$(slurm_manifest)")
wait_shard "$out"
scancel --signal=USR1 "$id"
job_wait "$id"
cat "$out.log"
[ "$(job_state "$id")" = COMPLETED ] || fail "stopped job $id: $(job_state "$id"), want COMPLETED"
grep -q "stopping on SIGUSR1" "$out.log" || fail "quire did not see SIGUSR1"
grep -q "quire exited 0" "$out.log" || fail "quire did not exit 0 after SIGUSR1"
[ ! -e "$out/results.h5" ] || fail "results.h5 from a stopped job"
ls "$out/journal"/*.tmp 2>/dev/null && fail "open shards left behind"
scontrol requeue "$id"
for _ in $(seq 50); do [ "$(job_state "$id")" = PENDING ] && break; sleep 0.1; done
# Not released with StartTime=now: the stopped job ran for a second or two,
# and relaunched before its credential expires (AuthInfo=cred_expire, 10 s in
# the test cluster) slurmd refuses it as "already killed" and the job FAILS
# (seen in CI). Slurm itself starts a requeued job after that expiry.
job_wait "$id"
cat "$out.log"
[ "$(job_state "$id")" = COMPLETED ] || fail "requeued job $id: $(job_state "$id")"
grep -q "restart 1" "$out.log" || fail "the job did not run a second time"
resumed_mid_run "$out.log"
"$PY" "$TOOLS/check_results.py" "$out" "$(slurm_corpus)/truth.json" --max-cer 0.005
