#!/usr/bin/env bash
# OCR accuracy end to end: `mpirun -np 3 quire run` over the scans corpus
# (tests/gen/gen_scans.py: clean300, degraded, mixed; 12 scanned pages), then
# tests/tools/check_ocr.py per set: CER (whitespace collapsed) <= 2 % on clean
# 300-dpi scans and the mixed PDF, <= 5 % on degraded scans; every document
# ok with its page kinds (scanned pages "ocr", born-digital pages "text").
# Needs the models (QUIRE_MODELS or ~/.cache/quire/models; models/fetch.sh).
#
# Outside CTest:  QUIRE_BIN=build/quire QUIRE_SRC=$PWD E2E_WORK=/tmp/e2e-ocr bash tests/e2e/ocr.sh
# Extra check_ocr.py options (e.g. --max-cer degraded=0.08) via OCR_CHECK_ARGS.
. "$(dirname "$0")/lib.sh"
scans=$E2E_WORK/scans
out=$E2E_WORK/out-ocr
rm -rf "$out"
mkdir -p "$E2E_WORK"
"$PY" "$QUIRE_SRC/tests/gen/gen_scans.py" "$scans" --seed 7
quire_np 3 --out "$out" --manifest "$scans/manifest.txt"
"$PY" "$TOOLS/check_schema.py" "$out/results.h5"
# shellcheck disable=SC2086
"$PY" "$TOOLS/check_ocr.py" "$out" "$scans/truth.json" -v ${OCR_CHECK_ARGS:-}
