#!/usr/bin/env bash
# A poison document (one that kills its worker: here the test hook
# QUIRE_TEST_CRASH_PATH makes the rank SIGKILL itself on it) crashes two runs;
# the third run records it as "crashed the worker twice" without opening it,
# and every other document is there exactly once.
. "$(dirname "$0")/lib.sh"
big=$E2E_WORK/bulk-poison
out=$E2E_WORK/out-poison
rm -rf "$big" "$out"
"$PY" "$QUIRE_SRC/tests/gen/gen_corpus.py" "$big" --seed 13 --docs 40 >/dev/null
victim=d020_$(cd "$big/docs" && ls d020_* | sed 's/^d020_//')
export QUIRE_TEST_CRASH_PATH=$victim
for run in 1 2; do
  rc=0
  timeout 120 "$MPIEXEC" -x QUIRE_TEST_CRASH_PATH -np 3 "$QUIRE_BIN" run --shard-docs 4 \
    --out "$out" "$big" >"$out.log$run" 2>&1 || rc=$?
  [ "$rc" != 0 ] || { cat "$out.log$run"; fail "run $run did not crash on $victim"; }
  [ "$rc" != 124 ] || { cat "$out.log$run"; fail "run $run hung after the crash"; }
  [ ! -e "$out/results.h5" ] || fail "results.h5 after a crashed run"
done
"$MPIEXEC" -x QUIRE_TEST_CRASH_PATH -np 3 "$QUIRE_BIN" run --out "$out" "$big" >"$out.log3" 2>&1 ||
  { cat "$out.log3"; fail "the third run failed"; }
cat "$out.log3"
grep -q "crashed" "$out.log3" || fail "the third run did not name the poison document"
# the truth, with the victim expected as an error
"$PY" - "$big/truth.json" "$out.truth.json" "$victim" <<'PYEOF'
import json, sys
t = json.load(open(sys.argv[1]))
for d in t["documents"]:
    if d["file"].endswith(sys.argv[3]):
        d["status"], d["accept_status"] = "error", ["error"]
json.dump(t, open(sys.argv[2], "w"))
PYEOF
"$PY" "$TOOLS/check_results.py" "$out" "$out.truth.json" --max-cer 0.005
"$PY" - "$out/results.h5" "$victim" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    d = f["documents"][:]
rows = [r for r in d if r["path"].decode().endswith(sys.argv[2])]
assert len(rows) == 1, rows
err = rows[0]["error"].decode()
assert err == "crashed the worker twice", err
print("poison document recorded once:", err)
PYEOF
ls "$out/journal" | grep -q '^a' && fail "attempts logs left after a complete run"
exit 0
