#!/usr/bin/env bash
# The job killed with SIGKILL mid-run, then rerun with the same --out: every
# document exactly once, nothing lost, and the rerun resumed from the journal.
. "$(dirname "$0")/lib.sh"
big=$E2E_WORK/bulk
out=$E2E_WORK/out-killed
rm -rf "$big" "$out"
"$PY" "$QUIRE_SRC/tests/gen/gen_corpus.py" "$big" --seed 11 --docs 160 >/dev/null
# small shards so that some close before the kill; its own process group so
# that one kill reaches mpirun and every rank at once
setsid "$MPIEXEC" -np 3 "$QUIRE_BIN" run --shard-docs 2 --out "$out" "$big" >"$out.log1" 2>&1 &
pid=$!
for _ in $(seq 600); do
  n=$(find "$out/journal" -name '*.h5' 2>/dev/null | wc -l || true)
  [ "$n" -ge 1 ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.01
done
kill -0 "$pid" 2>/dev/null || fail "the job ended before it could be killed: make the corpus larger"
# every process of the job: mpirun and each rank (ranks may sit in their own
# process groups, so match the unique --out on the command line)
pkill -KILL -f -- "--out $out" || true
wait "$pid" 2>/dev/null || true
[ ! -e "$out/results.h5" ] || fail "results.h5 exists although the job was killed before consolidation"
closed=$(find "$out/journal" -name '*.h5' | wc -l)
echo "killed with $closed closed shards"
quire_np 3 --out "$out" "$big" 2>&1 | tee "$out.log2"
line=$(grep -o "resuming: [0-9]* of [0-9]*" "$out.log2") || fail "the rerun did not resume from the journal"
read -r _ done _ total <<<"$line"
[ "$done" -gt 0 ] && [ "$done" -lt "$total" ] || fail "the kill did not land mid-run ($line)"
"$PY" "$TOOLS/check_results.py" "$out" "$big/truth.json" --max-cer 0.005
