#!/usr/bin/env bash
# Run ON THE GPU MACHINE (device tool), from the repository root, with .gpu/
# carried (bench/cuda/fetch_gpu_deps.sh makes it). Steps, each idempotent:
#   build  unpack OpenBLAS, find cuDNN, build bench/cuda/gpu (util, kernels,
#          nn, the CUDA tests, nn_bench) with -Werror for sm_80 and sm_90
#   test   the no-GPU/AUTO test, every op CUDA vs CPU, the three models CUDA vs
#          CPU (TF32 off must pass; TF32 on is reported), compute-sanitizer
#   bench  bench/cuda/bench.py: det/rec/cls at batch 1, 8, 32 beside ONNX
#          Runtime's CUDA provider
# Usage: bash bench/cuda/gpu_run.sh [build] [test] [bench]   (default: all three)
# Logs and the table go to $OUT (the device tool's folder) or /tmp/quire-out.
set -uo pipefail
root=$(pwd)
gpu=$root/.gpu
deps=/tmp/quire-deps
bld=/tmp/quire-gpu-build
out=${OUT:-/tmp/quire-out}
mkdir -p "$out"
[[ -d $gpu/debs && -d $gpu/models ]] || { echo "no .gpu/ here: run bench/cuda/fetch_gpu_deps.sh and carry .gpu" >&2; exit 2; }

if [[ ! -d $deps/usr ]]; then
    mkdir -p "$deps"
    for f in "$gpu"/debs/*.deb; do dpkg -x "$f" "$deps"; done
fi
# cuDNN: the toolkit's, else the nvidia-cudnn wheel's (PyTorch's venv).
if [[ -z ${CUDNN_ROOT:-} ]]; then
    if [[ -f /usr/local/cuda/include/cudnn.h ]]; then
        CUDNN_ROOT=/usr/local/cuda
    else
        CUDNN_ROOT=$(python3 -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2>/dev/null || true)
    fi
fi
export CUDNN_ROOT
libs=$deps/usr/lib/x86_64-linux-gnu/openblas-pthread:$deps/usr/lib/x86_64-linux-gnu:$CUDNN_ROOT/lib
for m in cublas cuda_runtime; do # wheels' libraries, where the toolkit has none
    d=$(python3 -c "import nvidia.$m as m; print(list(m.__path__)[0])" 2>/dev/null || true)
    [[ -n $d && -d $d/lib ]] && libs=$libs:$d/lib
done
export LD_LIBRARY_PATH=$libs:${LD_LIBRARY_PATH:-}
export OPENBLAS_NUM_THREADS=1

steps=("$@")
(( ${#steps[@]} )) || steps=(build test bench)
rc=0
for s in "${steps[@]}"; do
    case $s in
    build)
        { nvidia-smi -L; nvcc --version | tail -1; echo "CUDNN_ROOT=$CUDNN_ROOT"; } | tee "$out/env.txt"
        cmake -S bench/cuda/gpu -B "$bld" -DQUIRE_DEPS="$deps" -DCUDNN_ROOT="$CUDNN_ROOT" \
            -DQUIRE_MODELS="$gpu/models" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$out/configure.log" 2>&1 &&
            cmake --build "$bld" -j"$(nproc)" >"$out/build.log" 2>&1
        r=$?
        tail -5 "$out/configure.log" "$out/build.log"
        grep -E 'warning|error' "$out/build.log" | head -20
        (( r == 0 )) || { echo "build failed"; exit 1; }
        ;;
    test)
        for t in "cuda_fallback_test" "cuda_ops_test" "cuda_models_test"; do
            echo "== $t"
            "$bld/$t" 2>&1 | tee "$out/$t.log" | tail -25
            r=${PIPESTATUS[0]}
            echo "== $t exit $r"
            (( r == 0 )) || rc=1
        done
        echo "== cuda_models_test with TF32 (reported, not required)"
        QUIRE_CUDA_TF32=1 "$bld/cuda_models_test" 2>&1 | tee "$out/models_tf32.log" | tail -10
        echo "== compute-sanitizer"
        sh tests/cuda/sanitize.sh "$bld/cuda_models_test" 2>&1 | tee "$out/sanitizer.log" | tail -15
        r=${PIPESTATUS[0]}
        echo "== sanitizer exit $r"
        (( r == 0 || r == 77 )) || rc=1
        ;;
    bench)
        python3 -c 'import onnxruntime as o; print("onnxruntime", o.__version__, o.get_available_providers())'
        PYTHONUNBUFFERED=1 python3 bench/cuda/bench.py --models "$gpu/models" \
            --nn-bench "$bld/nn_bench" --out "$out/bench.md" || rc=1
        ;;
    *)
        echo "unknown step $s (build, test, bench)" >&2
        exit 2
        ;;
    esac
done
exit $rc
