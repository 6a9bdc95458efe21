#!/usr/bin/env bash
# `mpirun -np N quire run` over the corpus: one /documents row per input, text
# equal to the known text (CER < 0.5 %), page counts right, schema 1 exactly.
. "$(dirname "$0")/lib.sh"
n=$1
out=$E2E_WORK/out-np$n
rm -rf "$out"
quire_np "$n" --out "$out" "$(corpus_dir)"
check_out "$out"
