#!/usr/bin/env bash
# The second command: installs what the tests need (scripts/deps.txt and
# scripts/deps-test.txt), builds with warnings as errors and runs every test
# (CTest). Extra arguments go to ctest (e.g. -R e2e).
# QUIRE_TEST_BUILD_ONLY=1 stops before ctest (tests/fresh/fresh-root.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${QUIRE_TEST_BUILD:-build-test}
t0=$(date +%s)
# step WHAT: one line when a step is done, with the seconds since the start
step() { echo "test.sh: $* ($(( $(date +%s) - t0 )) s)"; }
scripts/install-deps.sh
step "packages ready"
# what the model tests need: the models (SHA-256 checked) and ONNX Runtime for parity
models/fetch.sh
tests/parity/setup.sh
step "models and ONNX Runtime ready"
# -O3, as setup.sh's Release build (-O3 -DNDEBUG) and users' builds have it, with
# -g: GCC's -Wmaybe-uninitialized sees more at -O3 than at RelWithDebInfo's -O2,
# and here it is an error. A build type in QUIRE_CMAKE_ARGS (CI's Debug ASan
# build) makes this flag moot. QUIRE_CMAKE_ARGS is split into words on purpose.
# shellcheck disable=SC2086
cmake -S . -B "$build" -DQUIRE_WERROR=ON -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O3 -g -DNDEBUG" \
  ${QUIRE_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"
step "built $build"
if [ "${QUIRE_TEST_BUILD_ONLY:-0}" = 1 ]; then
  echo "test.sh: QUIRE_TEST_BUILD_ONLY=1, no tests run"
  exit 0
fi
# shellcheck source=scripts/mpi-env.sh
. scripts/mpi-env.sh
cd "$build"
# a hung test costs at most 10 of the 30 minutes CI has (the longest passes in ~1)
ctest --output-on-failure --timeout 600 -j"$(nproc)" "$@"
