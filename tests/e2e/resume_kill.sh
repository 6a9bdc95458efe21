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
setsid "$MPIEXEC" -np 3 "$QUIRE_BIN" run --shard-docs 4 --out "$out" "$big" >"$out.log1" 2>&1 &
pid=$!
for _ in $(seq 600); do
  n=$(find "$out/journal" -name '*.h5' 2>/dev/null | wc -l)
  [ "$n" -ge 3 ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
kill -KILL -- "-$pid" 2>/dev/null || fail "the job ended before it could be killed: make the corpus larger"
wait "$pid" 2>/dev/null || true
[ ! -e "$out/results.h5" ] || fail "results.h5 exists although the job was killed before consolidation"
closed=$(find "$out/journal" -name '*.h5' | wc -l)
echo "killed with $closed closed shards"
quire_np 3 --out "$out" "$big" 2>&1 | tee "$out.log2"
grep -q "resuming: " "$out.log2" || fail "the rerun did not resume from the journal"
"$PY" "$TOOLS/check_results.py" "$out" "$big/truth.json" --max-cer 0.005
