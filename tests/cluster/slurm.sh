#!/usr/bin/env bash
# Slurm across simulated nodes (issue 18, item 3): slurmctld on node0, one
# slurmd per node, each in its node's namespaces and under its node's name;
# then slurm/multi-node.sbatch with `sbatch -N 2`: ranks on both nodes by
# srun --mpi=pmix, results equal to the one-node run; the time-limit signal
# (SIGUSR1) and a requeue across both nodes, resumed with every document once;
# slurm/array.sbatch with one slice per node, then the final run.
. "$(dirname "$0")/lib.sh"
for b in /usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/munged; do
  [ -x "$b" ] || { echo "SKIP: $b missing (slurm-wlm, munge)"; exit 77; }
done
sim_up 2
st=/run/quire-sim/slurm
mkdir -p "$st/ctld" "$st/spool-node0" "$st/spool-node1"
conf=$st/slurm.conf
net=${QSIM_NET:-10.211.7}
sed -e "s|@STATE@|$st|g" -e "s|@NET@|$net|g" -e "s|@LAST@|1|g" -e "s|@ADDRS@|$net.[1-2]|g" \
  "$QUIRE_SRC/tests/cluster/slurm.conf.in" >"$conf"
# munged answers through a socket in the shared file system: one for every node
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  install -d -o munge -g munge -m 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi
on0() { "$SIM" run 0 env SLURM_CONF="$conf" "$@"; }
"$SIM" run 0 /usr/sbin/slurmctld -D -i -f "$conf" >"$st/ctld.out" 2>&1 &
for _ in $(seq 100); do on0 scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.1; done
for k in 0 1; do
  "$SIM" run "$k" /usr/sbin/slurmd -D -f "$conf" -N "node$k" >"$st/slurmd$k.out" 2>&1 &
done
for _ in $(seq 150); do
  [ "$(on0 sinfo -h -N -o %T 2>/dev/null | grep -cx idle)" = 2 ] && break
  sleep 0.2
done
on0 sinfo -N -o '%N %T %C'
[ "$(on0 sinfo -h -N -o %T | grep -cx idle)" = 2 ] ||
  { tail -n 20 "$st"/*.log >&2 || true; fail "the simulated Slurm nodes did not come up"; }

W=$E2E_WORK/cluster-slurm
mkdir -p "$W"
submit() { # submit LOG SCRIPT [SBATCH OPTIONS...] -- [QUIRE RUN ARGS...]: prints the id
  local log=$1 script=$2
  shift 2
  local opts=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  on0 env QUIRE="$QUIRE_BIN" sbatch --parsable --time=10 --gpus-per-node=0 --output="$log" --chdir="$W" "${opts[@]}" \
    "$QUIRE_SRC/slurm/$script" "$@"
}
job_wait() {
  for _ in $(seq 1500); do
    on0 squeue -h -j "$1" 2>/dev/null | grep -q . || return 0
    sleep 0.2
  done
  on0 scontrol show job "$1" >&2
  fail "job $1 still in the queue after 300 s"
}
job_state() { on0 scontrol show job "$1" | grep -o 'JobState=[A-Z_]*' | head -n 1 | cut -d= -f2; }

# 1. multi-node.sbatch over both nodes
out=$W/out-two
rm -rf "$out" "$out.log"
id=$(submit "$out.log" multi-node.sbatch -N 2 --ntasks-per-node=3 -- --gpus 0 --out "$out" "$(corpus_dir)")
job_wait "$id"
cat "$out.log"
[ "$(job_state "$id")" = COMPLETED ] || fail "job $id: $(job_state "$id")"
roles "$out.log" | sort | uniq -c
roles "$out.log" | grep -q "^node1 cpu" || fail "no rank on node1"
check_out "$out"
"$PY" "$TOOLS/compare_results.py" "$E2E_WORK/out-np1/results.h5" "$out/results.h5"

# 2. the time-limit signal and a requeue across both nodes
big=$(bulk_corpus)
out=$W/out-usr1
rm -rf "$out" "$out.log"
id=$(submit "$out.log" multi-node.sbatch -N 2 --ntasks-per-node=3 -- --gpus 0 --batch 1 \
  --shard-docs 5 --out "$out" "$big")
for _ in $(seq 3000); do
  find "$out/journal" -name '*.h5' 2>/dev/null | grep -q . && break
  sleep 0.01
done
on0 scancel --signal=USR1 "$id"
job_wait "$id"
cat "$out.log"
[ "$(job_state "$id")" = COMPLETED ] || fail "stopped job $id: $(job_state "$id"), want COMPLETED"
grep -q "stopping on SIGUSR1" "$out.log" || fail "quire did not see SIGUSR1"
on0 scontrol requeue "$id"
sleep 1
job_wait "$id"
cat "$out.log"
[ "$(job_state "$id")" = COMPLETED ] || fail "requeued job $id: $(job_state "$id")"
grep -q "restart 1" "$out.log" || fail "the job did not run a second time"
line=$(grep -o "resuming: [0-9]* of [0-9]*" "$out.log" | tail -n 1) || fail "no resume"
read -r _ d _ t <<<"$line"
[ "$d" -gt 0 ] && [ "$d" -lt "$t" ] || fail "the stop did not land mid-run ($line)"
"$PY" "$TOOLS/check_results.py" "$out" "$big/truth.json" --max-cer 0.005

# 3. the array script: one slice per node, then the final run over both
out=$W/out-array
rm -rf "$out" "$W"/out-array*.log
id=$(submit "$W/out-array-%a.log" array.sbatch --array=0-1 -N 1 --ntasks-per-node=2 -- \
  --gpus 0 --out "$out" "$(corpus_dir)")
job_wait "$id"
cat "$W"/out-array-*.log
for k in 0 1; do grep -q "slice $k/2 done" "$W/out-array-$k.log" || fail "slice $k/2 did not finish"; done
fin=$(submit "$W/out-array-final.log" multi-node.sbatch -N 2 --ntasks-per-node=2 -- --gpus 0 \
  --out "$out" "$(corpus_dir)")
job_wait "$fin"
cat "$W/out-array-final.log"
[ "$(job_state "$fin")" = COMPLETED ] || fail "final job $fin: $(job_state "$fin")"
"$PY" "$TOOLS/compare_results.py" "$E2E_WORK/out-np1/results.h5" "$out/results.h5"
