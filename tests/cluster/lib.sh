# Shared by the multi-node tests: the e2e helpers (tests/e2e/lib.sh) and the
# simulated nodes (sim.sh), which every test removes when it ends, however.
# shellcheck source=../e2e/lib.sh
. "$QUIRE_SRC/tests/e2e/lib.sh"
SIM=$QUIRE_SRC/tests/cluster/sim.sh
export QSIM_KEEP="$QUIRE_SRC $QUIRE_BIN $E2E_WORK" # visible on every node, under /tmp too
trap '"$SIM" down' EXIT INT TERM

sim_up() { # sim_up N: N nodes, or skip (77) where namespaces cannot be made
  local rc=0
  "$SIM" up "$1" || rc=$?
  [ "$rc" = 77 ] && { echo "SKIP: no network namespaces here"; exit 77; }
  [ "$rc" = 0 ] || fail "the simulated nodes did not come up"
}

# sim_quire SLOTS ARGS...: `quire run` by mpirun from node 0, SLOTS ranks on
# every node, with the e2e guard against a hung job
sim_quire() {
  local slots=$1
  shift
  QSIM_SLOTS=$slots bounded "${E2E_MPI_LIMIT:-300}" "$SIM" mpirun -np "$(($(cat /run/quire-sim/nodes) * slots))" \
    "$QUIRE_BIN" run --progress 1 "$@"
}

# bulk_corpus: 240 generated documents (made once), long enough to be hit mid-run
bulk_corpus() {
  local big=$E2E_WORK/bulk-cluster
  if [ ! -f "$big/truth.json" ]; then
    rm -rf "$big.tmp"
    "$PY" "$QUIRE_SRC/tests/gen/gen_corpus.py" "$big.tmp" --seed 23 --docs 240 >/dev/null
    mv "$big.tmp" "$big"
  fi
  echo "$big"
}

# roles LOG: the role table rank 0 printed, as "host role" lines
roles() { sed -n 's/^\[ *[0-9.]* r0\]   \([^ ]*\) *[0-9]* *[0-9]*  \([a-z]*\) .*/\1 \2/p' "$1"; }
