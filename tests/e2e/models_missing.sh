#!/usr/bin/env bash
# Missing or unusable models stop the job; they never fail its documents
# (issue 15, failure 6). Over a scanned PDF and a born-digital text PDF,
# `quire run --models EMPTY` exits 1 within the hang guard's limit with one
# error line, from rank 0, naming the models folder and the fix (at the scan's
# first page that needs OCR: only reading a PDF tells), and records no scan as
# failed: the rerun with the real models reads every document (status ok, the
# scan's page read by OCR). Over image files (PNG, TIFF, JPEG: always OCR) the
# job stops the same way before any document is handed out. Modes:
#   np3       mpirun -np 3 --gpus 0: the CPU ranks load the models themselves
#   gpu-rank  mpirun -np 4 --gpus 1: rank 1 serves ranks 2 and 3 (CPU backend
#             here) and cannot load the models; its clients must not hang
#   np1       one process without mpirun; then also a wrong SHA-256 (a damaged
#             file) and an unreadable file (a folder in its place)
# Needs the models (QUIRE_MODELS or ~/.cache/quire/models; models/fetch.sh).
. "$(dirname "$0")/lib.sh"
mode=${1:?np3, gpu-rank or np1}
models=${QUIRE_MODELS:-$HOME/.cache/quire/models}
[ -f "$models/ch_PP-OCRv4_det_infer.onnx" ] || fail "no models in $models (run models/fetch.sh)"
work=$E2E_WORK/models-$mode
rm -rf "$work"
mkdir -p "$work/empty" "$work/in" "$work/images"
scans=$E2E_WORK/scans-models
[ -f "$scans/manifest.txt" ] || "$PY" "$QUIRE_SRC/tests/gen/gen_scans.py" "$scans" --seed 7 >/dev/null
cp "$scans/clean300/page.png" "$scans/clean300/g4.tif" "$scans/degraded/q40.jpg" "$work/images/"
cp "$scans/clean300/scan.pdf" "$work/in/scan.pdf"
cp "$scans/src/clean300_g4.pdf" "$work/in/text.pdf" # born digital: no OCR
out=$work/out

case $mode in
  np3) launch=(bounded 120 "$MPIEXEC" -np 3 "$QUIRE_BIN" run --gpus 0) ;;
  gpu-rank) launch=(bounded 120 "$MPIEXEC" -np 4 "$QUIRE_BIN" run --gpus 1) ;;
  np1) launch=(bounded 120 "$QUIRE_BIN" run) ;;
  *) fail "unknown mode $mode" ;;
esac

# expect_stop NAME MODELS WANT [INPUT]: the job exits 1 with one error line,
# rank 0's, naming MODELS and matching WANT (the reason and its fix)
expect_stop() {
  local name=$1 dir=$2 want=$3 in=${4:-$work/in} rc=0 t0=$SECONDS log=$work/$1.log
  "${launch[@]}" --progress 1 --models "$dir" --out "$out" "$in" >"$log" 2>&1 || rc=$?
  grep -v "progress:" "$log" || true
  expect_fatal "$name" "$log" "$rc" "$want"
  grep -E "^\[ *[0-9.]+ r0\] error: " "$log" | grep -qF "$dir" || fail "$name: the line does not name $dir"
  [ ! -e "$out/results.h5" ] || fail "$name: results.h5 was written"
  echo "$name: exit 1 in $((SECONDS - t0)) s"
}

fix="models/fetch.sh, or point --models DIR \(or \\\$QUIRE_MODELS\)|models/fetch.sh, or point --models \(or QUIRE_MODELS\)"
expect_stop images "$work/empty" "3 images to read need OCR.*($fix)" "$work/images"
grep -q "failed:\|progress: .* [1-9][0-9]*/" "$work/images.log" && fail "images: documents were handed out"
expect_stop empty "$work/empty" "$fix"
if [ "$mode" = np1 ]; then
  mkdir -p "$work/bad"
  cp "$models"/*.onnx "$models"/*.txt "$work/bad/" # the model files only (not a cache beside them)
  printf 'x' >>"$work/bad/ch_PP-OCRv4_rec_infer.onnx"
  expect_stop checksum "$work/bad" "has SHA-256 .*run models/fetch.sh again"
  mkdir -p "$work/unreadable"
  cp "$models"/*.onnx "$models"/*.txt "$work/unreadable/"
  rm "$work/unreadable/ch_PP-OCRv4_det_infer.onnx"
  mkdir "$work/unreadable/ch_PP-OCRv4_det_infer.onnx"
  expect_stop unreadable "$work/unreadable" "$fix"
fi

# the rerun with the models: every scan is read now, none was kept as failed
rc=0
"${launch[@]}" --progress 1 --models "$models" --out "$out" "$work/in" >"$work/rerun.log" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$work/rerun.log"; fail "the rerun with the models exited $rc"; }
"$PY" - "$out/results.h5" <<'EOF'
import sys, h5py
d = h5py.File(sys.argv[1], "r")["documents"][:]
status = h5py.File(sys.argv[1], "r")["documents"].dtype["status"]
names = {v: k for k, v in h5py.check_enum_dtype(status).items()}
rows = {r["path"].decode().rsplit("/", 1)[-1]: r for r in d}
assert sorted(rows) == ["scan.pdf", "text.pdf"], sorted(rows)
for name, r in sorted(rows.items()):
    st = names[int(r["status"])]
    print(f"{name}: {st} ocr_pages={r['ocr_pages']} text_pages={r['text_pages']} {r['error'].decode()!r}")
    assert st == "ok", f"{name} is {st}: {r['error'].decode()}"
    assert (r["ocr_pages"] if name != "text.pdf" else r["text_pages"]) >= 1, name
EOF
echo "rerun: every document ok"
