#!/usr/bin/env bash
# kill.sh ROLE: one process of a running `mpirun -np 3 quire run` is killed
# (kill -9 of mpirun, of rank 0, of a worker rank or of a worker's reader
# process; or SIGTERM / SIGINT to mpirun, twice, as an impatient user or a
# scheduler does), then the job is rerun until it completes. Checks (issue
# 15, Deliver 3): nothing finished is lost (every document rank 0 had counted
# as done before the kill is resumed, not redone, although no journal shard
# closes during the run: the record logs hold them), no document is recorded
# as crashed, and the final results hold every document exactly once.
# stop-worker / stop-rank0: the process is stopped (SIGSTOP), not killed, as a
# hung rank or a node that dropped off the network would be, with nothing to
# tell mpirun: the other ranks must notice it (--peer-timeout) and end the job
# with exit 1 and one line naming the silent rank (issue 15, Deliver 4).
. "$(dirname "$0")/lib.sh"
role=${1:?role: mpirun rank0 worker reader term int stop-worker stop-rank0}
# 1200 documents (each of 240 generated ones five times, hard links under
# other names), some 10 s of work for two workers: long enough to be hit
big=$E2E_WORK/bulk-kill
if [ ! -f "$big/truth.json" ]; then
  rm -rf "$big.tmp" "$big.gen"
  "$PY" "$QUIRE_SRC/tests/gen/gen_corpus.py" "$big.gen" --seed 17 --docs 240 >/dev/null
  "$PY" - "$big.gen" "$big.tmp" <<'PYEOF'
import json, os, sys
src, dst = sys.argv[1:]
t = json.load(open(os.path.join(src, "truth.json")))
docs = []
for k in range(5):
    for d in t["documents"]:
        d = dict(d)
        head, name = os.path.split(d["file"])
        d["file"] = os.path.join(head, "c%d_%s" % (k, name))
        os.makedirs(os.path.join(dst, head), exist_ok=True)
        if os.path.exists(os.path.join(src, head, name)):
            os.link(os.path.join(src, head, name), os.path.join(dst, d["file"]))
        docs.append(d)
t["documents"] = docs
json.dump(t, open(os.path.join(dst, "truth.json"), "w"))
PYEOF
  mv "$big.tmp" "$big"
fi
out=$E2E_WORK/out-kill-$role
rm -rf "$out"

# the pids of this job's quire processes, with their parents and ranks
quire_pids() {
  local p
  for p in $(pgrep -f -- "--out $out" || true); do
    [ "$(cat /proc/"$p"/comm 2>/dev/null)" = quire ] && echo "$p"
  done
  return 0
}
# whatever happens, no process of this test outlives it
trap 'pkill -KILL -f -- "--out $out" 2>/dev/null || true' EXIT
rank_of() { tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p'; }
victim() {
  local p pp parent_is_quire
  for p in $(quire_pids); do
    pp=$({ ps -o ppid= -p "$p" 2>/dev/null || true; } | tr -d ' ')
    parent_is_quire=0
    [ "$(cat /proc/"$pp"/comm 2>/dev/null)" = quire ] && parent_is_quire=1
    case $role in
      rank0 | stop-rank0) [ $parent_is_quire = 0 ] && [ "$(rank_of "$p")" = 0 ] && { echo "$p"; return; } ;;
      worker | stop-worker) [ $parent_is_quire = 0 ] && [ "$(rank_of "$p")" = 1 ] && { echo "$p"; return; } ;;
      reader) [ $parent_is_quire = 1 ] && [ "$(rank_of "$pp")" = 1 ] && { echo "$p"; return; } ;;
    esac
  done
  return 0
}


# Starts a run, waits until rank 0 counts at least $1 documents done, then
# hits the role's process; leaves the count seen in $seen.
run_and_hit() {
  local want=$1 log=$2 sig=KILL
  case $role in stop-*) sig=STOP ;; esac
  setsid "$MPIEXEC" -np 3 "$QUIRE_BIN" run --batch 1 --shard-docs 100000 --shard-seconds 100000 \
    --progress 0.1 --peer-timeout 4 --out "$out" "$big" >"$log" 2>&1 &
  job=$!
  seen=0
  for _ in $(seq 1200); do
    seen=$(reported "$log"); seen=${seen:-0}
    [ "$seen" -ge "$want" ] && break
    kill -0 "$job" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$job" 2>/dev/null || { cat "$log"; fail "the job ended before the kill: make the corpus larger"; }
  local target
  case $role in
    mpirun) target=$job ;;
    term | int) target=$job; sig=$([ "$role" = term ] && echo TERM || echo INT) ;;
    *) target=$(victim) ;;
  esac
  [ -n "$target" ] || { ps -ef | grep quire; fail "no $role process found"; }
  seen=$(reported "$log")
  echo "$role: kill -$sig $target after $seen documents"
  kill -"$sig" "$target"
}

# Waits for the job to end; a job left without its mpirun or rank 0 must
# end by itself within 60 s (Open MPI tears the rest down).
wait_job() {
  local t
  for t in $(seq 600); do
    kill -0 "$job" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$job" 2>/dev/null && { ps -ef | grep -- "--out $out" >&2; fail "the job did not end after the kill"; }
  rc=0
  wait "$job" || rc=$?
  for t in $(seq 100); do
    [ -z "$(quire_pids)" ] && break
    sleep 0.1
  done
  [ -z "$(quire_pids)" ] || { ps -ef | grep -- "--out $out" >&2; fail "quire processes outlived the job"; }
}

check_resumed() { # the rerun's log, the count seen before the hit
  local line done
  line=$(grep -o "resuming: [0-9]* of [0-9]*" "$1") || { cat "$1"; fail "the rerun did not resume"; }
  read -r _ done _ _ <<<"$line"
  echo "$line (at least $2 were done)"
  [ "$done" -ge "$2" ] || fail "finished documents were lost: $done resumed, $2 were done"
}

run_and_hit 40 "$out.log1"
wait_job
echo "first run: exit $rc"
case $role in
  reader)
    # the job goes on: the document in flight is an error, retryable
    [ "$rc" = 0 ] || { cat "$out.log1"; fail "the job failed after its reader was killed"; }
    grep -q "SIGKILL" "$out.log1" || { cat "$out.log1"; fail "the killed reader was not reported"; }
    quire_np 3 --out "$out" "$big" >"$out.log2" 2>&1 || { cat "$out.log2"; fail "rerun: exit $?"; }
    grep -q "retrying 1 failed" "$out.log2" || { cat "$out.log2"; fail "the killed document was not retried"; }
    ;;
  stop-*)
    # the job ended by itself, failed, and said which rank went silent
    [ "$rc" != 0 ] || { cat "$out.log1"; fail "the job exited 0 with a stopped rank"; }
    want=$([ "$role" = stop-rank0 ] && echo 0 || echo 1)
    grep "has not been heard from" "$out.log1" || { cat "$out.log1"; fail "no line on the silent rank"; }
    grep -q "rank $want has not been heard from" "$out.log1" ||
      { cat "$out.log1"; fail "the line does not name rank $want"; }
    quire_np 3 --out "$out" "$big" >"$out.log2" 2>&1 || { cat "$out.log2"; fail "rerun: exit $?"; }
    check_resumed "$out.log2" "$seen"
    ;;
  term | int)
    # twice: the second run is hit as well
    run_and_hit $((seen + 40)) "$out.log2"
    wait_job
    echo "second run: exit $rc"
    quire_np 3 --out "$out" "$big" >"$out.log3" 2>&1 || { cat "$out.log3"; fail "rerun: exit $?"; }
    check_resumed "$out.log3" "$seen"
    ;;
  *)
    quire_np 3 --out "$out" "$big" >"$out.log2" 2>&1 || { cat "$out.log2"; fail "rerun: exit $?"; }
    check_resumed "$out.log2" "$seen"
    ;;
esac
grep -h "recovered" "$out".log* || true
"$PY" "$TOOLS/check_results.py" "$out" "$big/truth.json" --max-cer 0.005
"$PY" - "$out/results.h5" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    d = f["documents"][:]
bad = [r["error"].decode() for r in d if b"crash" in r["error"] or b"killed" in r["error"]]
assert not bad, bad
PYEOF
ls "$out/journal" | grep -q '\.rlog$' && fail "record logs left after a complete run"
exit 0
