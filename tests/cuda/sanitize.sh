#!/bin/sh
# compute-sanitizer memcheck over one model run (cls, batch 2) on the CUDA
# backend. Exits 77 (skipped) without a usable GPU or without compute-sanitizer.
# Usage: sanitize.sh PATH/TO/cuda_models_test
set -u
bin=${1:?usage: sanitize.sh cuda_models_test}
"$bin" --gpu-check >/dev/null 2>&1
rc=$?
if [ "$rc" = 77 ]; then echo "no usable GPU: skipped"; exit 77; fi
[ "$rc" = 0 ] || { echo "FAIL: $bin --gpu-check exited $rc"; exit 1; }
san=$(command -v compute-sanitizer 2>/dev/null || true)
for d in /usr/local/cuda/bin /usr/local/cuda/compute-sanitizer /opt/nvidia/compute-sanitizer; do
    [ -n "$san" ] && break
    [ -x "$d/compute-sanitizer" ] && san=$d/compute-sanitizer
done
if [ -z "$san" ]; then echo "compute-sanitizer not found: skipped"; exit 77; fi
# cudnnFind runs every candidate algorithm; the heuristics keep the run short.
QUIRE_CUDA_CONV_FIND=0 "$san" --tool memcheck --error-exitcode 1 "$bin" cls
