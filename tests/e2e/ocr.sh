#!/usr/bin/env bash
# OCR accuracy end to end: `mpirun -np 3 quire run --gpus 0` over the scans corpus
# (tests/gen/gen_scans.py: clean300, degraded, mixed; 12 scanned pages), then
# tests/tools/check_ocr.py per set: CER (whitespace collapsed) <= 2 % on clean
# 300-dpi scans and the mixed PDF, <= 5 % on degraded scans; every document
# ok with its page kinds (scanned pages "ocr", born-digital pages "text").
# Needs the models (QUIRE_MODELS or ~/.cache/quire/models; models/fetch.sh).
#
#
# With the argument "gpu-rank": `mpirun -np 4 --gpus 1`, so that rank 1 is the
# node's GPU rank (on the CPU backend when there is no GPU) and ranks 2 and 3
# read their pages with rank 1 running the networks (the placement of DESIGN.md
# §1, issue 13); the same limits hold and rank 1 must have run every page's
# detection.
#
# Outside CTest:  QUIRE_BIN=build/quire QUIRE_SRC=$PWD E2E_WORK=/tmp/e2e-ocr bash tests/e2e/ocr.sh
# Extra check_ocr.py options (e.g. --max-cer degraded=0.08) via OCR_CHECK_ARGS.
. "$(dirname "$0")/lib.sh"
mode=${1:-cpu}
scans=$E2E_WORK/scans-$mode
out=$E2E_WORK/out-ocr-$mode
rm -rf "$out"
mkdir -p "$E2E_WORK"
"$PY" "$QUIRE_SRC/tests/gen/gen_scans.py" "$scans" --seed 7
if [ "$mode" = gpu-rank ]; then
  quire_np 4 --gpus 1 --out "$out" --manifest "$scans/manifest.txt" 2>&1 | tee "$out.log"
  [ "${PIPESTATUS[0]}" = 0 ] || fail "quire run --gpus 1 failed"
  # rank 1 ran the networks of the 12 scanned pages (a detection each, at
  # least) for ranks 2 and 3, and nothing else
  det=$(grep -oE "r1\] OCR rank: ran [0-9]+ network requests for 2 ranks \(det [0-9]+" "$out.log" |
    grep -oE "[0-9]+$")
  [ "${det:-0}" -ge 12 ] || fail "rank 1 did not run the networks of the 12 scanned pages of ranks 2 and 3"
  # /ranks: rank 1's network time, its CPU ranks' pages (check_ranks.py)
  "$PY" "$(dirname "$0")/check_ranks.py" "$out/results.h5" --roles coordinator,gpu,cpu,cpu \
    --gpu-reads --log "$out.log"
elif [ "$mode" = gpu-rank-refuses ]; then
  # The GPU rank cannot serve (as when it has no memory for its clients'
  # requests): it must answer every request with a refusal, its clients read the
  # pages themselves, and the run ends complete instead of hanging.
  QUIRE_TEST_OCR_REFUSE=1 bounded 600 "$MPIEXEC" -np 4 "$QUIRE_BIN" run --progress 1 --gpus 1 \
    --out "$out" --manifest "$scans/manifest.txt" 2>&1 | tee "$out.log"
  [ "${PIPESTATUS[0]}" = 0 ] || fail "quire run --gpus 1 with a refusing GPU rank failed or hung"
  grep -E "r1\] .*OCR rank: refusing" "$out.log" || fail "rank 1 did not say it refuses pages"
  for r in 2 3; do
    grep -E "r$r\] .*runs no networks .*reading pages here" "$out.log" ||
      fail "rank $r did not say it reads its pages itself"
  done
  if grep -E "OCR rank: ran [0-9]+ network" "$out.log"; then fail "rank 1 ran networks"; fi
  "$PY" "$(dirname "$0")/check_ranks.py" "$out/results.h5" --roles coordinator,gpu,cpu,cpu \
    --gpu-refuses --log "$out.log"
else
  quire_np 3 --gpus 0 --out "$out" --manifest "$scans/manifest.txt"
  "$PY" "$(dirname "$0")/check_ranks.py" "$out/results.h5" --roles coordinator,cpu,cpu
fi
"$PY" "$TOOLS/check_schema.py" "$out/results.h5"
# shellcheck disable=SC2086
"$PY" "$TOOLS/check_ocr.py" "$out" "$scans/truth.json" -v ${OCR_CHECK_ARGS:-}
