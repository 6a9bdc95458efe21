#!/usr/bin/env bash
# nodes.sh N GPUS: `quire run` by mpirun over N simulated nodes (3 ranks each,
# --gpus GPUS) on the e2e corpus (text PDFs, damaged files, a scan). Checks
# (issue 18, items 2 and 4): the role table places ranks on every node, with
# --gpus 1 one GPU rank per node whose CPU ranks are on that node; journal
# shards come from every node; results.h5, written by parallel HDF5 over TCP
# between the nodes, holds every document once and equals the one-node run.
. "$(dirname "$0")/lib.sh"
n=$1 gpus=$2
sim_up "$n"
out=$E2E_WORK/out-cluster-$n-g$gpus
rm -rf "$out"
sim_quire 3 --gpus "$gpus" --out "$out" "$(corpus_dir)" >"$out.log" 2>&1 ||
  { cat "$out.log"; fail "quire run over $n nodes: exit $?"; }
roles "$out.log" | sort | uniq -c
for k in $(seq 0 $((n - 1))); do
  roles "$out.log" | grep -q "^node$k " || fail "no rank on node$k"
  if [ "$gpus" = 1 ]; then
    [ "$(roles "$out.log" | grep -c "^node$k gpu$")" = 1 ] || fail "node$k does not have one GPU rank"
    [ "$(roles "$out.log" | grep -c "^node$k cpu$")" -ge 1 ] || fail "node$k has no CPU rank"
  fi
done
# GPU ranks serve the CPU ranks of their own node only (roles_pair, per node)
if [ "$gpus" = 1 ]; then
  grep "OCR rank: ran" "$out.log" || true
  if grep -E "OCR rank: ran [0-9]+ network requests for ([3-9]|[1-9][0-9]+) ranks" "$out.log"; then
    fail "a GPU rank serves more ranks than its node has"
  fi
fi
check_out "$out"
"$PY" "$TOOLS/compare_results.py" "$E2E_WORK/out-np1/results.h5" "$out/results.h5"
"$PY" - "$out/results.h5" "$n" <<'PYEOF'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
ranks = set(int(r) for r in f["documents"]["rank"])
per_node = 3
nodes = {r // per_node for r in ranks}
print("documents read by ranks", sorted(ranks), "on nodes", sorted(nodes))
assert len(nodes) == int(sys.argv[2]), "some node read no document"
PYEOF
