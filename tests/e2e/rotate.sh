#!/usr/bin/env bash
# Pages scanned sideways or upside down (issue 14, item 2): two generated
# 300-dpi pages (tests/gen/gen_scans.py --bench 2) turned by PIL, single-column
# at 0, 90, 180 and 270 degrees and two-column at 270, plus a label of
# one short line at 90 and 180 (too few classifier votes: the recognizer
# decides), through `mpirun -np 4 quire run --gpus 1` (the GPU rank's batches
# and its lines message carry the turn). Each page: /pages rotation is the turn,
# its CER at most 2 % and within 0.5 point of its upright twin's (where there
# is one; boxes where the twin's lie, turned), boxes on the page as given
# (tests/tools/check_rotated.py). Then --no-rotate-pages: the sideways label
# reads as it is (rotation 0, its text lost), and the option is in /config.
. "$(dirname "$0")/lib.sh"
w=$E2E_WORK/rotate
rm -rf "$w"
mkdir -p "$w"
"$PY" "$QUIRE_SRC/tests/gen/gen_scans.py" "$w/scans" --seed 11 --no-test-sets --bench 2 >/dev/null
"$PY" "$TOOLS/make_rotated.py" "$w/scans" "$w"
help=$("$QUIRE_BIN" run --help) # not piped into grep -q: pipefail and SIGPIPE
for o in --rotate-pages --no-rotate-pages; do
  grep -q -- "$o" <<<"$help" || fail "quire run --help does not name $o"
done

quire_np 4 --gpus 1 --out "$w/out" "$w/in" >"$w/run.log" 2>&1 || { cat "$w/run.log"; fail "quire run"; }
det=$(grep -oE "r1\] OCR rank: ran [0-9]+ network requests for 2 ranks \(det [0-9]+" "$w/run.log" |
  grep -oE "[0-9]+$")
[ "${det:-0}" -ge 7 ] || fail "the GPU rank did not run the detection of the 7 pages"
"$PY" "$TOOLS/check_rotated.py" "$w/out/results.h5" "$w/truth.json" || fail "rotated pages"

mkdir -p "$w/side"
cp "$w/in/label_90.png" "$w/side/"
"$QUIRE_BIN" run --no-rotate-pages --out "$w/out-no" "$w/side" >"$w/no.log" 2>&1 ||
  { cat "$w/no.log"; fail "quire run --no-rotate-pages"; }
"$PY" - "$w/out-no/results.h5" <<'PYEOF' || fail "--no-rotate-pages"
import json, sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    rot = int(f["pages"]["rotation"][0])
    text = f["text"][:].tobytes().decode()
    config = json.loads(f.attrs["config"])
print("--no-rotate-pages: rotation %d, text %r, rotate_pages %s" % (rot, text, config["rotate_pages"]))
sys.exit(0 if rot == 0 and "Invoice" not in text and config["rotate_pages"] is False else 1)
PYEOF
echo "rotate: ok"
