#!/usr/bin/env bash
# Two nodes with one host name (issue 18): Open MPI cannot tell them apart and
# any MPI program crashes with SIGSEGV on their first message. quire must end
# with exit 1 and a sentence naming the cause and the fix, before that.
. "$(dirname "$0")/lib.sh"
export QSIM_HOSTNAMES="twin twin"
sim_up 2
out=$E2E_WORK/out-cluster-same-host
rm -rf "$out"
rc=0
sim_quire 2 --out "$out" "$(corpus_dir)" >"$out.log" 2>&1 || rc=$?
cat "$out.log"
[ "$rc" = 1 ] || fail "exit $rc, want 1"
if grep -E "Segmentation|signal 11" "$out.log"; then fail "a rank crashed"; fi
grep -q "host name 'twin' is also another node's" "$out.log" || fail "no line naming the cause"
