# Shared by the end-to-end tests: paths, the MPI environment, and helpers.
# QUIRE_BIN, QUIRE_SRC and MPIEXEC come from CTest (tests/CMakeLists.txt).
set -euo pipefail
: "${QUIRE_BIN:?set by CTest}" "${QUIRE_SRC:?set by CTest}"
MPIEXEC=${MPIEXEC:-mpirun}
PY=/usr/bin/python3
TOOLS=$QUIRE_SRC/tests/tools
# shellcheck source=../../scripts/mpi-env.sh
. "$QUIRE_SRC/scripts/mpi-env.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

# The shared corpus made by the e2e_corpus fixture.
corpus_dir() { echo "$E2E_WORK/corpus"; }

quire_np() { # quire_np N ARGS...: `quire run` under mpirun with N ranks
  local n=$1; shift
  "$MPIEXEC" -np "$n" "$QUIRE_BIN" run --progress 1 "$@"
}

check_out() { # check_out OUT: every check of results.h5 against the truth
  local out=$1 c
  c=$(corpus_dir)
  "$PY" "$TOOLS/check_schema.py" "$out/results.h5"
  bash "$TOOLS/check_h5dump.sh" "$out/results.h5"
  "$PY" "$TOOLS/check_results.py" "$out" "$c/truth.json" --max-cer 0.005
}
