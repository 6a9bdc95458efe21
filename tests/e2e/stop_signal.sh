#!/usr/bin/env bash
# SIGUSR1 (Slurm's warning before the time limit) mid-run: every rank finishes
# the document it has, closes its journal shard, the job exits 0 without
# results.h5; the rerun resumes and ends with every document exactly once.
. "$(dirname "$0")/lib.sh"
big=$E2E_WORK/bulk-stop
out=$E2E_WORK/out-stop
rm -rf "$big" "$out"
"$PY" "$QUIRE_SRC/tests/gen/gen_corpus.py" "$big" --seed 11 --docs 160 >/dev/null
"$MPIEXEC" -np 3 "$QUIRE_BIN" run --shard-docs 2 --out "$out" "$big" >"$out.log1" 2>&1 &
pid=$!
for _ in $(seq 1000); do
  find "$out/journal" -name '*.h5' 2>/dev/null | grep -q . && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.01
done
# mpirun forwards SIGUSR1 to every rank
kill -USR1 "$pid" || fail "the job ended before the signal: make the corpus larger"
rc=0
wait "$pid" || rc=$?
cat "$out.log1"
[ "$rc" = 0 ] || fail "a job stopped by SIGUSR1 exited $rc, want 0"
grep -q "stopping on SIGUSR1" "$out.log1" || fail "no 'stopping on SIGUSR1' line"
grep -q "stopped:" "$out.log1" || fail "no 'stopped:' summary (did it finish before the signal?)"
[ ! -e "$out/results.h5" ] || fail "results.h5 written by a job that stopped early"
ls "$out/journal"/*.tmp 2>/dev/null && fail "open (*.tmp) shards left: a shard was not closed"
quire_np 3 --out "$out" "$big" 2>&1 | tee "$out.log2"
line=$(grep -o "resuming: [0-9]* of [0-9]*" "$out.log2") || fail "the rerun did not resume"
read -r _ done _ total <<<"$line"
[ "$done" -gt 0 ] && [ "$done" -lt "$total" ] || fail "the signal did not land mid-run ($line)"
"$PY" "$TOOLS/check_results.py" "$out" "$big/truth.json" --max-cer 0.005
