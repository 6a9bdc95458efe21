#!/usr/bin/env bash
# /ranks describes the run that wrote results.h5 (README, "Reading results"):
# a rerun of the np3 corpus run in a copy of its --out, which resumes every
# document, rewrites results.h5 with the same documents and a /ranks of the
# rerun: three rows that read nothing, with their own wall time.
. "$(dirname "$0")/lib.sh"
src=$E2E_WORK/out-np3
out=$E2E_WORK/ranks-resume
rm -rf "$out"
cp -r "$src" "$out"
rm -f "$out/results.h5"
quire_np 3 --gpus 0 --out "$out" "$(corpus_dir)" 2>&1 | tee "$out.log"
[ "${PIPESTATUS[0]}" = 0 ] || fail "the rerun failed"
grep -q "resuming: " "$out.log" || fail "the rerun did not resume"
"$PY" "$TOOLS/compare_results.py" "$src/results.h5" "$out/results.h5"
"$PY" - "$src/results.h5" "$out/results.h5" <<'PYEOF'
import sys
import h5py
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    first, again = a["ranks"][...], b["ranks"][...]
    if first["documents"].sum() != len(a["documents"]):
        sys.exit("FAIL: the first run's /ranks does not hold its documents")
    if len(again) != 3 or again["documents"].sum() or again["pages"].sum():
        sys.exit("FAIL: the rerun's /ranks is not three rows that read nothing: %s" % again)
    s = again["seconds_wall"] - again["seconds_nn"] - again["seconds_other"] - again["seconds_wait"]
    if (again["seconds_wall"] <= 0).any() or abs(s).max() > 1e-6 or again["seconds_nn"].any():
        sys.exit("FAIL: the rerun's seconds: %s" % again)
print("ranks_resume: /ranks holds the rerun's rows, /documents every document")
PYEOF
"$PY" "$(dirname "$0")/check_ranks.py" "$src/results.h5" --roles coordinator,cpu,cpu
