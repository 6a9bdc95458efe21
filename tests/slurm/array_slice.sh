#!/usr/bin/env bash
# slurm/array.sbatch's slice K/N for whole arrays, resubmitted subsets and bad
# index sets, without Slurm: the SLURM_ARRAY_* variables that sbatch would set
# are set by hand and the launcher is a stub `mpirun` that records its
# arguments (QUIRE_LAUNCH=mpirun), so the script runs as it would in a task.
set -euo pipefail
: "${QUIRE_SRC:?set by CTest}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir "$T/bin"
cat >"$T/bin/mpirun" <<'STUB'
#!/bin/sh
printf '%s\n' "$@" >"$STUB_ARGS"
STUB
chmod +x "$T/bin/mpirun"

# task ID MIN MAX COUNT STEP [QUIRE_SLICES]: runs the script as that array task;
# its exit status, the launcher's arguments in $T/args, its output in $T/log
task() {
  rm -f "$T/args"
  local rc=0
  env -u QUIRE_SLICES PATH="$T/bin:$PATH" STUB_ARGS="$T/args" QUIRE_LAUNCH=mpirun QUIRE=quire \
    SLURM_ARRAY_JOB_ID=100 SLURM_JOB_ID=$((100 + ${1:-0})) SLURM_ARRAY_TASK_ID="$1" \
    SLURM_ARRAY_TASK_MIN="$2" SLURM_ARRAY_TASK_MAX="$3" SLURM_ARRAY_TASK_COUNT="$4" \
    SLURM_ARRAY_TASK_STEP="$5" ${6:+QUIRE_SLICES=$6} \
    bash "$QUIRE_SRC/slurm/array.sbatch" --out /o --manifest m.txt >"$T/log" 2>&1 || rc=$?
  return "$rc"
}
want_slice() { # want_slice K/N ARGS-OF-task...
  local want=$1; shift
  task "$@" || { cat "$T/log"; fail "task $* exited $?"; }
  local got; got=$(tr '\n' ' ' <"$T/args")
  [ "$got" = "quire run --slice $want --out /o --manifest m.txt " ] ||
    fail "task $*: launched '$got', want slice $want"
}
want_refused() { # want_refused PATTERN ARGS-OF-task...
  local pat=$1 rc=0; shift
  task "$@" || rc=$?
  [ "$rc" = 2 ] || { cat "$T/log"; fail "task $*: exited $rc, want 2"; }
  [ ! -e "$T/args" ] || fail "task $*: quire was launched: $(cat "$T/args")"
  grep -q -- "$pat" "$T/log" || { cat "$T/log"; fail "task $*: no '$pat' in the message"; }
}

# the whole array 0-9 (throttled or not): index K is slice K/10
want_slice 0/10 0 0 9 10 1
want_slice 4/10 4 0 9 10 1
want_slice 9/10 9 0 9 10 1
# one task alone is the whole of a 1-slice array
want_slice 0/1 0 0 0 1 1
# a resubmitted subset --array=3,7 of a 10-slice campaign: 3/10 and 7/10 (was 4/2)
want_slice 3/10 3 3 7 2 1 10
want_slice 7/10 7 3 7 2 1 10
# ... and the same without QUIRE_SLICES: refused, saying what to set
want_refused QUIRE_SLICES 7 3 7 2 1
# a step (0-9:2) without QUIRE_SLICES cannot tell N either
want_refused QUIRE_SLICES 4 0 8 5 2
# QUIRE_SLICES wins over the array's own size; an index past it is refused
want_slice 2/20 2 0 9 10 1 20
want_refused "not a slice of 5" 7 3 7 2 1 5
want_refused "not a positive number" 3 3 7 2 1 0
# not an array task at all
want_refused "not a job array task" "" "" "" "" ""
echo "array.sbatch slices: ok"
