#!/usr/bin/env bash
# The GPU check rehearsed on this machine, as issue 12 asks of every CI run:
# bench/gpu/pack.sh packs this build (4 pages, fast compression), then
# bench/gpu/device_check.sh --rehearse runs every step from the unpacked bundle
# in a clean environment (env -i, the system's Open MPI hidden). It must pass:
# the CUDA steps say "no GPU", the e2e step runs the GPU rank on the CPU.
#   rehearse.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: rehearse.sh BUILD_DIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
[[ -f $build/libquire_cuda.so ]] || { echo "SKIP: this build has no CUDA plugin"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$src/bench/gpu/pack.sh" "$build" --out "$tmp/gpu" --pages 4 --fast
rc=0
bash "$src/bench/gpu/device_check.sh" --rehearse --bundle "$tmp/gpu/quire-gpu.tar.xz" "$tmp/out" || rc=$?
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/out/*; do echo "---- $f"; cat "$f"; done >&2; exit 1; }
((rc == 0)) || fail "device_check.sh --rehearse exited $rc"
for s in env tests bench e2e extra; do
    grep -q "^$s " "$tmp/out/summary.txt" || fail "the summary has no $s step"
done
grep -q '^RESULT: passed' "$tmp/out/summary.txt" || fail "the summary does not say passed"
[[ ! -e $tmp/out/namespace.txt ]] || fail "no private mount namespace: the system's Open MPI was visible"
grep -q '^e2e .*on cpu; busy' "$tmp/out/summary.txt" || fail "the e2e step's GPU rank did not report"
echo "ok: the GPU check's rehearsal passed"
