#!/usr/bin/env bash
# A poison document (one that crashes whatever reads it: here the test hook
# QUIRE_TEST_CRASH_PATH makes the reader raise SIGSEGV on it, as a decoder's
# bug would) costs that document only: under mpirun -np 3 and in a single
# process the job finishes in one run with exit 0, the document is an error
# record naming the signal (read twice, each time in a fresh reader process),
# and every other document is there, exactly once and correct (issue 15).
. "$(dirname "$0")/lib.sh"
big=$E2E_WORK/bulk-poison
rm -rf "$big"
"$PY" "$QUIRE_SRC/tests/gen/gen_corpus.py" "$big" --seed 13 --docs 40 >/dev/null
victim=d020_$(cd "$big/docs" && ls d020_* | sed 's/^d020_//')
export QUIRE_TEST_CRASH_PATH=$victim
"$PY" - "$big/truth.json" "$big/truth-poison.json" "$victim" <<'PYEOF'
import json, sys
t = json.load(open(sys.argv[1]))
for d in t["documents"]:
    if d["file"].endswith(sys.argv[3]):
        d["status"], d["accept_status"] = "error", ["error"]
json.dump(t, open(sys.argv[2], "w"))
PYEOF
for np in 3 1; do
  out=$E2E_WORK/out-poison-np$np
  rm -rf "$out"
  rc=0
  bounded 120 "$MPIEXEC" -x QUIRE_TEST_CRASH_PATH -np $np "$QUIRE_BIN" run --shard-docs 4 \
    --out "$out" "$big" >"$out.log" 2>&1 || rc=$?
  [ "$rc" = 0 ] || { cat "$out.log"; fail "np $np: exit $rc with a crashing document"; }
  grep -q "reading it again in a new reader" "$out.log" || { cat "$out.log"; fail "np $np: no retry"; }
  "$PY" "$TOOLS/check_results.py" "$out" "$big/truth-poison.json" --max-cer 0.005
  "$PY" - "$out/results.h5" "$victim" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    d = f["documents"][:]
rows = [r for r in d if r["path"].decode().endswith(sys.argv[2])]
assert len(rows) == 1, rows
err = rows[0]["error"].decode()
assert err.startswith("the reader crashed (Segmentation fault)") and "twice" in err, err
if "retryable" in d.dtype.names:
    assert rows[0]["retryable"] == 0, "a document that crashed twice is retried"
print("poison document recorded once:", err)
PYEOF
done
exit 0
