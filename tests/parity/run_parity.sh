#!/usr/bin/env bash
# Model parity: quire's inference engine against ONNX Runtime (CPU) on real,
# PaddleOCR-pre-processed inputs (tests/parity/make_inputs.py), for the PP-OCRv4
# detection, classifier and recognition models.
#
# Usage: tests/parity/run_parity.sh [--self-check]
#   --self-check  compare ONNX Runtime with 1 thread against ONNX Runtime with 2
#                 threads instead of quire: checks the harness itself, no quire needed.
#
# Environment:
#   QUIRE_BIN         quire executable (set by CTest through QUIRE_TEST_ENV)
#   QUIRE_MODELS      models directory (else $HOME/.cache/quire/models, else
#                     models/cache/; fill it with models/fetch.sh)
#   QUIRE_PARITY_DIR  keep inputs and outputs here (default: a temporary directory,
#                     removed at the end)
#   QUIRE_PARITY_TOL  tolerance on max abs difference (default 1e-4)
#
# Checks: detection probability max abs diff <= the detection bound (below) from ONNX
# Runtime and <= tol from the model evaluated in float64 (onnx_ref.py); classifier and
# recognizer softmax max abs diff <= tol and identical argmax at every (batch, time step).
# Exit status: 0 all pass; 1 a mismatch or error; 77 (CTest skip) when the models,
# node/onnxruntime-node, or quire's nn subcommand are not there.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

skip() { echo "SKIP: $*" >&2; exit 77; }
die() { echo "run_parity.sh: error: $*" >&2; exit 1; }

self_check=0
case ${1:-} in
    "") ;;
    --self-check) self_check=1 ;;
    *) die "usage: run_parity.sh [--self-check]" ;;
esac
tol=${QUIRE_PARITY_TOL:-1e-4}
# Detection gets its own bound against ONNX Runtime. The issue asks 1e-4, but ONNX
# Runtime itself is 2.1e-4 from the exact result on linn.png's map (pixel [735,108],
# against the float64 evaluation): its GlobalAveragePool sums the 44,160 values of a
# plane in float32 (4 lanes in MLAS's NCHW kernel, one running sum per channel in the
# NCHWc kernel its "all" optimisation level picks for 2 of the model's 10 pools), and
# that error scales whole channels in the SE blocks. ONNX Runtime at level "extended"
# (MLAS's 4-lane NCHW pool everywhere) is 1.9e-4 from float64 and 1.8e-4 from itself at
# "all": the 1e-4 bound is finer than ONNX Runtime's own spread on this page. quire
# sums in double and is within 2.2e-5 of float64 there (summed like MLAS's NCHW pool it
# came within 2.2e-5 of ONNX Runtime at "extended"), so quire is held to tol against
# float64 and to 3e-4 against ONNX Runtime; matching "all" closer would mean copying
# which of its pools ONNX Runtime's layout pass moves to NCHWc.
det_tol=${QUIRE_PARITY_DET_TOL:-3e-4}

py=/usr/bin/python3
if ! { [[ -x $py ]] && $py -c 'import numpy, PIL' 2>/dev/null; }; then
    skip "$py with numpy and PIL is needed (apt-get install python3-numpy python3-pil)"
fi
models=$(parity_models_dir) || skip "models not found; run models/fetch.sh (or set QUIRE_MODELS)"
parity_verify_models "$models" || die "models in $models do not match models/SHA256SUMS"
parity_ort_ready || skip "ONNX Runtime reference not installed; run tests/parity/setup.sh"

if (( ! self_check )); then
    [[ -n ${QUIRE_BIN:-} ]] || die "QUIRE_BIN is not set (path of the quire executable)"
    [[ -x $QUIRE_BIN ]] || die "QUIRE_BIN=$QUIRE_BIN is not executable"
    parity_quire_has_nn "$QUIRE_BIN" || skip "$QUIRE_BIN has no 'nn' subcommand yet"
fi

if [[ -n ${QUIRE_PARITY_DIR:-} ]]; then
    work=$QUIRE_PARITY_DIR
    mkdir -p "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/quire-parity.XXXXXX")
    trap 'rm -rf "$work"' EXIT
fi

echo "models: $models"
echo "inputs: $work"
$py "$here/make_inputs.py" "$work/in" >/dev/null || die "make_inputs.py failed"
mkdir -p "$work/ort" "$work/test"

failed=()
while IFS=$'\t' read -r name kind shape src; do
    model="$models/$(parity_model_for "$kind")"
    in="$work/in/$name.npy"
    echo "== $name ($kind $shape, from $src)"
    node "$here/ort_run.js" "$model" "$in" "$work/ort/$name.npy" --threads 1 >/dev/null \
        || die "ONNX Runtime failed on $name"
    if (( self_check )); then
        node "$here/ort_run.js" "$model" "$in" "$work/test/$name.npy" --threads 2 >/dev/null \
            || die "ONNX Runtime (2 threads) failed on $name"
    else
        if ! "$QUIRE_BIN" nn "$model" --input "$in" --output "$work/test/$name.npy" --threads 1; then
            echo "  $name: FAIL quire nn exited with an error"
            failed+=("$name")
            continue
        fi
    fi
    t=$tol
    exact=()
    if [[ $kind == det ]]; then
        t=$det_tol
        if (( ! self_check )); then
            $py "$here/onnx_ref.py" "$model" "$in" "$work/ort/$name.f64.npy" \
                || die "float64 reference (onnx_ref.py) failed on $name"
            exact=(--exact "$work/ort/$name.f64.npy" --exact-tol "$tol")
        fi
    fi
    $py "$here/compare.py" "$kind" "$work/ort/$name.npy" "$work/test/$name.npy" \
        --tol "$t" --name "$name" "${exact[@]}" || failed+=("$name")
done < "$work/in/manifest.tsv"

if (( ${#failed[@]} )); then
    echo "parity FAILED for: ${failed[*]}"
    exit 1
fi
if (( self_check )); then
    echo "parity ok (tolerance $tol, detection $det_tol)"
else
    echo "parity ok (tolerance $tol; detection $det_tol from ONNX Runtime, $tol from float64)"
fi
