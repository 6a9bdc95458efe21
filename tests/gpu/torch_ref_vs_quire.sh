#!/usr/bin/env bash
# bench/gpu/torch_ref.py, the PyTorch reference that judges quire's CUDA backend
# on a GPU machine, checked here on the CPU against quire's CPU engine: the
# same real page tensors (tests/parity/make_inputs.py) through both, for the
# detection, recognition and orientation models.
#
# Usage: tests/gpu/torch_ref_vs_quire.sh QUIRE_BINARY
#
# Checks, per input: max |torch - quire| <= 1e-4 and, for rec and cls, the same
# argmax at every (image, time step), by tests/parity/compare.py. compare.py
# calls its REF argument "ONNX Runtime" ("ort") in its messages; here REF is
# quire's output and TEST torch_ref.py's.
# Exit status: 0 all equal; 1 a difference or a failed run (missing models or
# scans included); 77 (CTest skip) only when /usr/bin/python3 cannot import torch
# (Debian python3-torch, in scripts/deps-test.txt).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../parity/lib.sh
source "$here/../parity/lib.sh"

die() { echo "torch_ref_vs_quire.sh: error: $*" >&2; exit 1; }
(( $# == 1 )) || die "usage: torch_ref_vs_quire.sh QUIRE_BINARY"
quire=$1
[[ -x $quire ]] || die "$quire is not executable"

py=/usr/bin/python3
if ! $py -c 'import torch' 2>/dev/null; then
    echo "SKIP: $py cannot import torch (apt-get install python3-torch)" >&2
    exit 77
fi
models=$(parity_models_dir) || die "models not found; run models/fetch.sh (or set QUIRE_MODELS)"
parity_verify_models "$models" || die "models in $models do not match models/SHA256SUMS"

work=$(mktemp -d "${TMPDIR:-/tmp}/quire-torch-ref.XXXXXX")
trap 'rm -rf "$work"' EXIT
$py "$parity_dir/make_inputs.py" "$work/in" >/dev/null || die "make_inputs.py failed"

# One whole page at the detection size PaddleOCR uses (longer side 960, the
# page's own aspect), word crops and whole lines for rec, crops for cls (half of
# them upside down). One thread each: CTest may run other tests beside this one.
failed=()
for name in det_linn rec_bench rec_wide cls_bench; do
    kind=${name%%_*}
    model="$models/$(parity_model_for "$kind")"
    in="$work/in/$name.npy"
    if ! "$quire" nn "$model" --input "$in" --output "$work/$name.quire.npy" --threads 1; then
        echo "$name: FAIL quire nn exited with an error"
        failed+=("$name")
        continue
    fi
    if ! $py "$parity_root/bench/gpu/torch_ref.py" "$model" "$in" "$work/$name.torch.npy" \
            --device cpu --threads 1; then
        echo "$name: FAIL torch_ref.py exited with an error"
        failed+=("$name")
        continue
    fi
    $py "$parity_dir/compare.py" "$kind" "$work/$name.quire.npy" "$work/$name.torch.npy" \
        --tol 1e-4 --name "$name torch vs quire" || failed+=("$name")
done

if (( ${#failed[@]} )); then
    echo "torch_ref.py differs from quire (CPU) on: ${failed[*]}"
    exit 1
fi
echo "torch_ref.py equals quire (CPU) within 1e-4, same argmax"
