# shellcheck shell=bash
# Helpers shared by tests/parity/run_parity.sh and bench/nn/bench_nn.sh (sourced,
# not run). Callers set `set -euo pipefail` themselves.

# Repository root (this file lives in tests/parity/).
parity_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
parity_dir="$parity_root/tests/parity"

readonly PARITY_DET=ch_PP-OCRv4_det_infer.onnx
readonly PARITY_CLS=ch_ppocr_mobile_v2.0_cls_infer.onnx
readonly PARITY_REC=ch_PP-OCRv4_rec_infer.onnx

# parity_models_dir: print the first directory holding all three models, searching
# where models/fetch.sh puts them: $QUIRE_MODELS, $HOME/.cache/quire/models (the
# default), then the repo-local models/cache/. Returns 1 when none has them.
parity_models_dir() {
    local d
    for d in ${QUIRE_MODELS:+"$QUIRE_MODELS"} "${HOME:-/nonexistent}/.cache/quire/models" \
             "$parity_root/models/cache"; do
        if [[ -f $d/$PARITY_DET && -f $d/$PARITY_CLS && -f $d/$PARITY_REC ]]; then
            printf '%s\n' "$d"
            return 0
        fi
    done
    return 1
}

# parity_verify_models DIR: check the models in DIR against models/SHA256SUMS;
# comparing against the wrong weights would make every result meaningless.
parity_verify_models() {
    local dir=$1 f want got
    for f in "$PARITY_DET" "$PARITY_CLS" "$PARITY_REC"; do
        want=$(awk -v f="$f" '$2 == f { print $1 }' "$parity_root/models/SHA256SUMS")
        got=$(sha256sum "$dir/$f" | cut -d' ' -f1)
        if [[ $got != "$want" ]]; then
            echo "error: $dir/$f has SHA-256 $got, models/SHA256SUMS says $want" >&2
            return 1
        fi
    done
}

# parity_ort_ready: node is present and onnxruntime-node is installed in
# tests/parity/node_modules (by tests/parity/setup.sh).
parity_ort_ready() {
    command -v node >/dev/null && [[ -f $parity_dir/node_modules/onnxruntime-node/package.json ]]
}

# parity_model_for KIND: the model file name for det, rec or cls.
parity_model_for() {
    case $1 in
        det) echo "$PARITY_DET" ;;
        rec) echo "$PARITY_REC" ;;
        cls) echo "$PARITY_CLS" ;;
        *) echo "error: unknown model kind '$1'" >&2; return 1 ;;
    esac
}

# parity_quire_has_nn BIN: 1 when BIN is a quire without the nn subcommand (it says
# "unknown command"), 0 otherwise. Only that exact answer counts as "not there yet",
# so a broken nn still fails the tests instead of being skipped.
parity_quire_has_nn() {
    local out
    out=$("$1" nn --help 2>&1 || true)
    [[ $out != *"unknown command 'nn'"* ]]
}
