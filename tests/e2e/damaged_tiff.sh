#!/usr/bin/env bash
# A damaged image costs its own record, never a crash (issue 15): an LZW TIFF
# whose pixel bytes are corrupted with the header intact (every strip still
# decodes, so the garbage reaches OCR; its lines run at 45 degrees, where the
# detector's boxes came out with crossed corners and the crop read pixels at
# -4.5e9 and NaN) gives `quire text` exit 0 or 1 with no signal, and under
# `mpirun -np 3 quire run` beside the corpus a record with status ok or error
# while every other document is read as without it. The file is made here
# (tests/gen/damaged_tiff.py). Needs the models (skipped, 77, without them).
. "$(dirname "$0")/lib.sh"
models=${QUIRE_MODELS:-$HOME/.cache/quire/models}
[ -f "$models/ch_PP-OCRv4_det_infer.onnx" ] || { echo "skip: no models in $models"; exit 77; }
w=$E2E_WORK/damaged
out=$E2E_WORK/out-damaged
rm -rf "$w" "$out"
mkdir -p "$w"
"$PY" "$QUIRE_SRC/tests/gen/gen_scans.py" "$w/scans" --seed 7 --no-test-sets --bench 1 >/dev/null
tif=$w/damaged.tif
"$PY" "$QUIRE_SRC/tests/gen/damaged_tiff.py" "$w/scans/bench/p000_single.png" "$tif" --seed 1
"$PY" -c "from PIL import Image; Image.open('$tif').load()" || fail "the damaged TIFF does not decode"

rc=0
bounded 300 "$QUIRE_BIN" text "$tif" >"$w/text.out" 2>"$w/text.err" || rc=$?
cat "$w/text.err"
[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "quire text on the damaged TIFF: exit $rc (a crash, or a hang)"
[ "$rc" = 0 ] || grep -q "damaged.tif" "$w/text.err" || fail "quire text failed without saying why"
echo "quire text: exit $rc, $(wc -l <"$w/text.out") lines"

rc=0
quire_np 3 --out "$out" "$(corpus_dir)" "$tif" >"$out.log" 2>&1 || rc=$?
grep -v "progress:" "$out.log"
[ "$rc" = 0 ] || fail "mpirun -np 3 quire run with the damaged TIFF: exit $rc"
"$PY" "$TOOLS/check_results.py" "$out" "$(corpus_dir)/truth.json" --max-cer 0.005 --allow-extra
"$PY" - "$out/results.h5" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    d = f["documents"][:]
    names = {v: k for k, v in h5py.check_enum_dtype(f["documents"].dtype["status"]).items()}
rows = [r for r in d if r["path"].decode().endswith("damaged.tif")]
assert len(rows) == 1, rows
status, err = names[rows[0]["status"]], rows[0]["error"].decode()
assert status in ("ok", "error"), status
assert status == "ok" or err, "an error record without a reason"
print(f"damaged.tif: status {status} {err!r}, {rows[0]['pages']} page(s)")
PYEOF
