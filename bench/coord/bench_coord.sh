#!/usr/bin/env bash
# The coordinator benchmark: documents handed out per second by rank 0's real
# dispatch loop (src/run/coord.c) with 2 to 64 ranks whose workers answer at
# once. Builds bench_coord against a quire build (default build/), then runs it.
#   bench/coord/bench_coord.sh [BUILD_DIR]      env: DOCS (default 400000), BATCHES ("0 1 8"),
#                                               BUILD_ONLY=1 (build, do not run)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
. "$root/scripts/mpi-env.sh"
bin=$build/bench_coord
# coord.c, proto.c, progress.c and stop.c are all the loop needs; q_util for the rest
mpicc -std=c11 -O2 -Wall -I"$root/src" -I"$root" -o "$bin" "$root/bench/coord/bench_coord.c" \
  "$root/src/run/coord.c" "$root/src/run/proto.c" "$root/src/run/progress.c" \
  "$root/src/run/stop.c" "$root/src/run/inputs.c" "$root/src/run/alive.c" "$root/src/run/report.c" "$build/src/util/libq_util.a" -lm
[ -z "${BUILD_ONLY:-}" ] || exit 0 # bench/cluster/bench_nodes.sh runs it its own way
echo "bench_coord on $(nproc) cores, $(date -u +%F), DOCS=${DOCS:-400000}"
for b in ${BATCHES:-0 1 8}; do
  for n in 2 4 8 16 32 64; do
    mpirun -np "$n" "$bin" "${DOCS:-400000}" "$b"
  done
done
