#!/usr/bin/env bash
# A rerun of a finished job does no document again and writes the same
# results; --force starts over; a different input list in the same --out
# keeps what it can and says what it dropped, never a silent mix.
. "$(dirname "$0")/lib.sh"
out=$E2E_WORK/out-rerun
rm -rf "$out"
c=$(corpus_dir)
quire_np 2 --out "$out" "$c"
cp "$out/results.h5" "$out.first.h5"
quire_np 2 --out "$out" "$c" 2>&1 | tee "$out.log"
grep -Eq "resuming: ([0-9]+) of \1 documents" "$out.log" || fail "rerun redid documents"
"$PY" "$TOOLS/compare_results.py" "$out.first.h5" "$out/results.h5"
quire_np 2 --force --out "$out" "$c" 2>&1 | tee "$out.log"
grep -q "resuming" "$out.log" && fail "--force still resumed"
"$PY" "$TOOLS/compare_results.py" "$out.first.h5" "$out/results.h5"
# Other inputs in the same --out (issue 16, item 1): no longer an error; the
# documents that are gone leave results.h5, the one kept is not read again.
one=$(find "$c/docs" -name "*.pdf" | sort | head -n 1)
n=$("$PY" -c 'import sys, h5py; print(len(h5py.File(sys.argv[1], "r")["documents"]))' "$out/results.h5")
quire_np 2 --out "$out" "$one" 2>&1 | tee "$out.log"
grep -q "0 new, $((n - 1)) removed (dropped from results.h5), 0 changed (read again); 1 unchanged kept" "$out.log" ||
  fail "a rerun over one of the inputs does not say what it dropped"
grep -q "(0 this run, 1 resumed" "$out.log" || fail "the kept document was read again"
"$PY" - "$out/results.h5" "$one" <<'PYEOF'
import sys, h5py
d = h5py.File(sys.argv[1], "r")["documents"][:]
assert d["doc"].tolist() == [0] and d["path"][0].decode() == sys.argv[2], d[["doc", "path"]]
PYEOF
