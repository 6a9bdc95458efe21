#!/bin/sh
# quire nn's command line: help, usage errors (2), fatal errors (1), a run (0).
# QUIRE_BIN is set by tests/CMakeLists.txt; MODELS is models/cache.
set -u
Q=${QUIRE_BIN:?}
fail=0
check() { # expected-status description command...
    want=$1; what=$2; shift 2
    "$@" >/dev/null 2>cli_err.txt; got=$?
    if [ "$got" != "$want" ]; then echo "FAIL $what: exit $got, want $want"; cat cli_err.txt; fail=1; fi
    if [ "$want" = 1 ] && [ "$(wc -l <cli_err.txt)" != 1 ]; then echo "FAIL $what: stderr is not one line"; cat cli_err.txt; fail=1; fi
}
check 0 "help" "$Q" nn --help
check 2 "no model" "$Q" nn
check 2 "no --input" "$Q" nn model.onnx --output y.npy
check 2 "bad --threads" "$Q" nn model.onnx --input x.npy --output y.npy --threads 0
check 2 "unknown option" "$Q" nn model.onnx --bogus
check 1 "missing model file" "$Q" nn /nonexistent.onnx --input x.npy --output y.npy
MODEL=${MODELS:-}/ch_ppocr_mobile_v2.0_cls_infer.onnx
if [ -f "$MODEL" ]; then
    check 1 "cuda backend" "$Q" nn "$MODEL" --input x.npy --output y.npy --backend cuda
    grep -q "CUDA backend not built/available" cli_err.txt || { echo "FAIL cuda message"; fail=1; }
    check 1 "missing input file" "$Q" nn "$MODEL" --input /nonexistent.npy --output y.npy
fi
exit $fail
