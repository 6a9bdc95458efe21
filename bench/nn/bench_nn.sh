#!/usr/bin/env bash
# Benchmark quire's inference engine against ONNX Runtime (CPU execution provider) on
# the PP-OCRv4 models, at the shapes the OCR pipeline uses, on real inputs. Not a
# test: it prints a Markdown table to paste into bench/RESULTS.md.
#
# Usage: bench/nn/bench_nn.sh [THREADS...]        (default threads: 1 2)
#
# Environment:
#   QUIRE_BIN     quire executable; without it (or while quire has no `nn`
#                 subcommand) quire's columns read n/a
#   QUIRE_MODELS  models directory (else $HOME/.cache/quire/models, else models/cache/)
#   BENCH_REPEAT  timed runs per measurement (default: det 10, rec 20, cls 50)
#   BENCH_ROUNDS  measurements per row, ONNX Runtime and quire taking turns
#                 (default 3); the table shows the median of their medians, so
#                 that a burst of load on a shared machine hits both or neither
#
# Rows: det 1x3x960x736, rec 8x3x48x320, cls 8x3x48x192, each with every thread
# count. Models with an int8 scales table (models/int8/) also run with
# `--precision int8` in the same rounds (column "quire int8 ms", the int8 kernel
# family under the table; n/a for the others); QUIRE_NO_AVX512=1 measures the
# AVX-VNNI or AVX2 paths. Time: median over the repeats of one forward pass, after one untimed warm-up
# run, as each program reports it (quire: `nn --repeat`, a line with "median" and
# the milliseconds; ONNX Runtime: tests/parity/ort_run.js). Both take the same
# intra-op thread count; ONNX Runtime uses one inter-op thread and all graph
# optimizations. Peak memory: maximum resident set size of the whole process from
# GNU time (/usr/bin/time -f %M), the same way for both, so ONNX Runtime's figure
# includes the Node.js runtime (its baseline is printed under the table).
#
# Prerequisites: models/fetch.sh, tests/parity/setup.sh, /usr/bin/python3 with
# numpy and PIL, /usr/bin/time (Debian package `time`).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../../tests/parity/lib.sh
source "$here/../../tests/parity/lib.sh"

die() { echo "bench_nn.sh: error: $*" >&2; exit 1; }

threads_list=("$@")
(( ${#threads_list[@]} )) || threads_list=(1 2)
for t in "${threads_list[@]}"; do
    [[ $t =~ ^[1-9][0-9]*$ ]] || die "bad thread count '$t'"
done

py=/usr/bin/python3
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (apt-get install time)"
$py -c 'import numpy, PIL' 2>/dev/null || die "$py needs numpy and PIL (apt-get install python3-numpy python3-pil)"
models=$(parity_models_dir) || die "models not found; run models/fetch.sh (or set QUIRE_MODELS)"
parity_verify_models "$models" || die "models in $models do not match models/SHA256SUMS"
parity_ort_ready || die "ONNX Runtime reference not installed; run tests/parity/setup.sh"

quire=""
if [[ -n ${QUIRE_BIN:-} ]]; then
    [[ -x $QUIRE_BIN ]] || die "QUIRE_BIN=$QUIRE_BIN is not executable"
    if parity_quire_has_nn "$QUIRE_BIN"; then
        quire=$QUIRE_BIN
    else
        echo "note: $QUIRE_BIN has no nn subcommand yet; quire columns are n/a" >&2
    fi
else
    echo "note: QUIRE_BIN not set; quire columns are n/a" >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/quire-bench-nn.XXXXXX")
trap 'rm -rf "$work"' EXIT
$py "$parity_dir/make_inputs.py" "$work" >/dev/null || die "make_inputs.py failed"

# median_of OUTPUT: the milliseconds on the first line that mentions "median"
# (e.g. "median_ms=12.3" or "median 12.3 ms"); empty when there is none.
median_of() {
    grep -i -m1 'median' <<<"$1" | sed -E 's/.*median[^0-9]*([0-9]+(\.[0-9]+)?).*/\1/I' || true
}

# measure NAME CMD...: run CMD under GNU time; sets ms (median) and rss_mib.
measure() {
    local name=$1 out
    shift
    if ! out=$(/usr/bin/time -f %M -o "$work/rss" "$@" 2>&1); then
        echo "$out" >&2
        die "$name failed: $*"
    fi
    ms=$(median_of "$out")
    [[ -n $ms ]] || die "$name printed no median time:
$out"
    rss_mib=$(awk '{ printf "%.0f", $1 / 1024 }' "$work/rss")
}

# median X...: the middle value (the mean of the two middle ones for an even count).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

rounds=${BENCH_ROUNDS:-3}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "bad BENCH_ROUNDS '$rounds'"

ort_ver=$(node -p "require('$parity_dir/node_modules/onnxruntime-node/package.json').version")
node_base=$(/usr/bin/time -f %M node -e "require('$parity_dir/node_modules/onnxruntime-node')" 2>&1 >/dev/null | tail -1)
cpu=$(awk -F: '/model name/ { sub(/^ +/, "", $2); print $2; exit }' /proc/cpuinfo)

echo "### nn: quire vs ONNX Runtime $ort_ver (CPU), $(date -u +%Y-%m-%d)"
echo
qver=n/a
[[ -z $quire ]] || qver=$("$quire" --version 2>/dev/null || echo "$quire")
echo "CPU: ${cpu:-unknown}, $(nproc) cores available. quire: $qver."
echo
echo "| model | input | threads | quire ms | quire int8 ms | fp32/int8 | ORT ms | quire/ORT | quire peak RSS MiB | ORT peak RSS MiB |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
int8_kernel=""

for row in "det det_bench 10" "rec rec_bench 20" "cls cls_bench 50"; do
    read -r kind name reps <<<"$row"
    reps=${BENCH_REPEAT:-$reps}
    model="$models/$(parity_model_for "$kind")"
    in="$work/$name.npy"
    shape=$($py -c "import numpy as np; print('x'.join(map(str, np.load('$in', mmap_mode='r').shape)))")
    # int8 where quire has a scales table for this model
    int8=0
    if [[ -n $quire ]] && out=$("$quire" nn "$model" --input "$in" --output "$work/q8.npy" \
        --precision int8 --repeat 2 2>&1); then
        int8=1
        int8_kernel=$(grep -o 'int8-[a-z0-9]*' <<<"$out" | head -1)
    fi
    for t in "${threads_list[@]}"; do
        ort_all=() q_all=() q8_all=() ort_rss=0 q_rss=0
        for ((round = 0; round < rounds; round++)); do
            measure "ONNX Runtime" node "$parity_dir/ort_run.js" "$model" "$in" "$work/ort.npy" \
                --threads "$t" --repeat "$reps"
            ort_all+=("$ms")
            if (( rss_mib > ort_rss )); then ort_rss=$rss_mib; fi
            if [[ -n $quire ]]; then
                measure quire "$quire" nn "$model" --input "$in" --output "$work/q.npy" \
                    --threads "$t" --repeat "$reps"
                q_all+=("$ms")
                if (( rss_mib > q_rss )); then q_rss=$rss_mib; fi
                if (( int8 )); then
                    measure "quire int8" "$quire" nn "$model" --input "$in" --output "$work/q8.npy" \
                        --threads "$t" --repeat "$reps" --precision int8
                    q8_all+=("$ms")
                fi
            fi
        done
        ort_ms=$(median "${ort_all[@]}")
        q_ms=n/a ratio=n/a q8_ms=n/a speedup=n/a
        [[ -n $quire ]] || q_rss=n/a
        if [[ -n $quire ]]; then
            q_ms=$(printf %.2f "$(median "${q_all[@]}")")
            ratio=$(awk -v a="$q_ms" -v b="$ort_ms" 'BEGIN { printf "%.2f", a / b }')
        fi
        if (( int8 )); then
            q8_ms=$(printf %.2f "$(median "${q8_all[@]}")")
            speedup=$(awk -v a="$q_ms" -v b="$q8_ms" 'BEGIN { printf "%.2f", a / b }')
        fi
        printf '| %s | %s | %d | %s | %s | %s | %.2f | %s | %s | %s |\n' \
            "$kind" "$shape" "$t" "$q_ms" "$q8_ms" "$speedup" "$ort_ms" "$ratio" "$q_rss" "$ort_rss"
    done
done
echo
echo "Median of $([[ -n ${BENCH_REPEAT:-} ]] && echo "$BENCH_REPEAT" || echo "10 (det), 20 (rec), 50 (cls)") runs after one warm-up, in each of $rounds rounds (ONNX Runtime and quire taking turns); the table shows the median of the rounds. Peak RSS by GNU time, the highest of the rounds."
[[ -z $int8_kernel ]] || echo "quire int8: kernel $int8_kernel$([[ -n ${QUIRE_NO_AVX512:-} ]] && echo " (QUIRE_NO_AVX512 set)"); the 1x1 convs and wide linear layers its scales table (models/int8/) marks int8, the rest fp32."
echo "ORT's RSS includes Node.js with onnxruntime-node loaded: $(( node_base / 1024 )) MiB before any model."
