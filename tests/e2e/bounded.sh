#!/usr/bin/env bash
# The hang guard of the e2e tests (lib.sh `bounded`) catches what it must:
# a job past its limit ends with 124 and the stacks of its processes, an
# mpirun left without ranks is reported and run once more, and a job that
# ends keeps its own exit status.
. "$(dirname "$0")/lib.sh"
log=$E2E_WORK/bounded.log
mkdir -p "$E2E_WORK"

rc=0
bounded 10 "$MPIEXEC" -np 2 sh -c 'exit 3' 2>/dev/null || rc=$?
[ "$rc" = 3 ] || fail "a job that exits 3: bounded returned $rc"

rc=0
bounded 3 "$MPIEXEC" -np 2 sleep 61 2>"$log" || rc=$?
cat "$log"
[ "$rc" = 124 ] || fail "a hung job: bounded returned $rc, want 124"
grep -q "HANG: still running after 3 s" "$log" || fail "no hang report"
[ "$(grep -c -- '--- process' "$log")" = 3 ] || fail "want mpirun and its 2 ranks in the report"
pgrep -f "sleep 61" >/dev/null && fail "the hung job's ranks were left running"

# a parent without live children stands for an mpirun whose ranks are gone
rc=0
E2E_IDLE_LIMIT=2 bounded 30 sleep 20 2>"$log" || rc=$?
cat "$log"
[ "$rc" = 124 ] || fail "a launcher hang: bounded returned $rc, want 124"
[ "$(grep -c "no running rank" "$log")" = 2 ] || fail "want two tries, each reported"
grep -q "running the command again" "$log" || fail "the first launcher hang was not retried"
echo "bounded: ok"
