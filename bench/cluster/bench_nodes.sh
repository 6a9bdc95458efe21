#!/usr/bin/env bash
# Dispatch and consolidation over simulated nodes (issue 18, item 5): the
# same work on one node (plain mpirun) and on 2 and 4 nodes of
# tests/cluster/sim.sh, in one run, so the columns compare. Every "node" shares
# this machine's cores: the figures show what TCP between nodes and the
# multi-node paths cost, not a cluster's speed.
#   bench/cluster/bench_nodes.sh [BUILD_DIR]   env: DOCS (dispatch, default 100000),
#                                                  CORPUS_DOCS (consolidation, default 480)
# Needs root (network namespaces). Prints a markdown table.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
. "$root/scripts/mpi-env.sh"
sim=$root/tests/cluster/sim.sh
work=$(mktemp -d /var/tmp/quire-bench-nodes.XXXXXX)
trap '"$sim" down; rm -rf "$work"' EXIT
DOCS=${DOCS:-100000}
BUILD_ONLY=1 bash "$root/bench/coord/bench_coord.sh" "$build" >/dev/null
bin=$build/bench_coord
[ -x "$bin" ] || { echo "bench_coord did not build" >&2; exit 1; }
/usr/bin/python3 "$root/tests/gen/gen_corpus.py" "$work/corpus" --seed 5 --docs "${CORPUS_DOCS:-480}" >/dev/null

# launch NODES SLOTS CMD...: CMD by mpirun on one node (NODES=1) or the simulated ones
launch() {
  local nodes=$1 slots=$2
  shift 2
  if [ "$nodes" = 1 ]; then
    mpirun -np "$slots" "$@"
  else
    QSIM_SLOTS=$slots "$sim" mpirun -np $((nodes * slots)) "$@"
  fi
}

echo "bench_nodes on $(nproc) cores, $(date -u +%F), dispatch: $DOCS documents, 8 ranks;" \
  "consolidation: ${CORPUS_DOCS:-480} generated text PDFs, 6 ranks"
echo
echo "| nodes | dispatch, automatic batches: docs/s (requests) | dispatch, \`--batch 1\`: docs/s | quire run: total s | results.h5 written in s |"
echo "|---|---|---|---|---|"
for nodes in 1 2 4; do
  [ "$nodes" = 1 ] || "$sim" up "$nodes" >/dev/null
  auto=$(launch "$nodes" $((8 / nodes)) "$bin" "$DOCS" 0 | awk '{print $(NF-1) " (" $8 ")"}')
  one=$(launch "$nodes" $((8 / nodes)) "$bin" "$((DOCS / 10))" 1 | awk '{print $(NF-1)}')
  out=$work/out-$nodes
  slots=$((6 / nodes))
  [ "$slots" -ge 2 ] || slots=2
  launch "$nodes" "$slots" "$build/quire" run --gpus 0 --out "$out" "$work/corpus" >"$out.log" 2>&1
  total=$(sed -n 's/.*lines in \([0-9.]*\) s (results.h5 written in \([0-9.]*\) s).*/\1/p' "$out.log")
  write=$(sed -n 's/.*lines in \([0-9.]*\) s (results.h5 written in \([0-9.]*\) s).*/\2/p' "$out.log")
  echo "| $nodes | $auto | $one | $total | $write |"
  [ "$nodes" = 1 ] || "$sim" down
done
