#!/usr/bin/env bash
# A rerun of a finished job does no document again and writes the same
# results; --force starts over; a different input list in the same --out is a
# clear error (exit 1), never a silent mix.
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
set +e
quire_np 2 --out "$out" "$(find "$c/docs" -name "*.pdf" | sort | head -n 1)" 2>"$out.err"
rc=$?
set -e
cat "$out.err"
[ "$rc" = 1 ] || fail "changed inputs in the same --out: exit $rc, want 1"
grep -q -- "--force" "$out.err" || fail "the error does not say what to do"
