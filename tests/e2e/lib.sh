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
  bounded "${E2E_MPI_LIMIT:-300}" "$MPIEXEC" -np "$n" "$QUIRE_BIN" run --progress 1 "$@"
}

# bounded SECONDS CMD...: CMD (an mpirun) with a wall-clock limit; its exit
# status, or 124 once the job is hung. Before killing a hung job, print where
# each of its processes waits, so that a hang seen once in CI can be explained
# (CTest's own timeout only said that a test took 900 s: CI once hung in a
# 2-rank run that exits 1, cause unknown). An mpirun that stays 30 s
# (E2E_IDLE_LIMIT) without any live rank is Open MPI's launcher hanging, not
# quire (it has had such races: open-mpi/ompi#3380): that is reported and the
# command run again, once.
E2E_IDLE_LIMIT=${E2E_IDLE_LIMIT:-30}
bounded() {
  local limit=$1 try
  shift
  for try in 1 2; do
    local rc=0
    bounded_once "$limit" "$@" || rc=$?
    [ "$rc" = 125 ] || return "$rc"
    echo "HANG: mpirun has had no running rank for $E2E_IDLE_LIMIT s (Open MPI's launcher, not quire)" >&2
    [ "$try" = 1 ] && echo "running the command again" >&2
  done
  return 124
}

bounded_once() { # like bounded, without the rerun: 125 for a launcher hang
  local limit=$1 pid rc=0 t=0 idle=0
  shift
  "$@" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.1
    t=$((t + 1))
    [ $((t % 10)) = 0 ] || continue
    if [ -z "$(live_children "$pid")" ]; then idle=$((idle + 1)); else idle=0; fi
    if [ "$idle" -ge "$E2E_IDLE_LIMIT" ] || [ "$t" -ge $((limit * 10)) ]; then
      hang_report "$pid" $((t / 10)) "$*" >&2
      kill_tree "$pid"
      wait "$pid" 2>/dev/null || true
      [ "$idle" -ge "$E2E_IDLE_LIMIT" ] && return 125
      return 124
    fi
  done
  wait "$pid" || rc=$?
  return "$rc"
}

live_children() { # live_children PID: PID's children that have not exited
  ps -o pid=,stat= --ppid "$1" | awk '$2 !~ /^Z/ { print $1 }'
}

tree_pids() { # tree_pids PID: PID's descendants, parents first
  local p
  for p in $(ps -o pid= --ppid "$1"); do
    echo "$p"
    tree_pids "$p"
  done
}

kill_tree() { # kill_tree PID: SIGKILL to PID and every descendant
  local pids
  pids="$1 $(tree_pids "$1")"
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
}

hang_report() { # hang_report PID LIMIT CMD: what a hung job's processes wait in
  local pids p
  pids="$1 $(tree_pids "$1")"
  echo "HANG: still running after $2 s: $3"
  # shellcheck disable=SC2086
  ps -o pid,ppid,stat,etime,wchan:24,args -p "$(echo $pids | tr ' ' ,)" || true
  for p in $pids; do
    echo "--- process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-200)"
    if command -v gdb >/dev/null; then
      timeout 60 gdb -p "$p" -batch -ex "thread apply all bt 30" 2>/dev/null |
        grep -E '^(#|Thread )' || echo "(gdb could not attach)"
    else
      cat "/proc/$p/stack" 2>/dev/null || echo "(no gdb, no kernel stack)"
    fi
  done
}

expect_fatal() { # expect_fatal NAME LOG RC WANT: the job ended with exit 1 (RC) within
  # its guard, no rank died of a signal, and LOG holds exactly one error line,
  # rank 0's, naming the cause (extended regex WANT)
  local name=$1 log=$2 rc=$3 want=$4 errors
  [ "$rc" != 124 ] || fail "$name: hung (killed at the guard's limit)"
  [ "$rc" = 1 ] || fail "$name: exit $rc, want 1"
  if grep -E "signal|Segmentation|core dumped" "$log"; then fail "$name: a rank died of a signal"; fi
  errors=$(grep -E "^\[ *[0-9.]+ r[0-9]+\] error: " "$log" || true)
  [ "$(printf '%s\n' "$errors" | grep -c .)" = 1 ] || fail "$name: want one error line, got: $errors"
  printf '%s\n' "$errors" | grep -Eq "^\[ *[0-9.]+ r0\] error: .*$want" ||
    fail "$name: the error line is not rank 0's with the cause ($want)"
}

reported() { # reported LOG: the highest "N/M documents" rank 0 has printed in LOG
  { grep -o "progress: [0-9:Z]* [0-9]*/" "$1" || true; } | sed 's|.* \([0-9]*\)/|\1|' | sort -n | tail -1
}

check_out() { # check_out OUT: every check of results.h5 against the truth
  local out=$1 c
  c=$(corpus_dir)
  "$PY" "$TOOLS/check_schema.py" "$out/results.h5"
  bash "$TOOLS/check_h5dump.sh" "$out/results.h5"
  "$PY" "$TOOLS/check_results.py" "$out" "$c/truth.json" --max-cer 0.005
}
