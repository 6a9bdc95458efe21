#!/usr/bin/env bash
# One rank's fatal error ends the whole job at once, never a hang (issue 15).
#   readonly: --out is an existing folder on a read-only filesystem; every
#             worker fails to create OUT/journal before any work is handed out.
#   full:     --out is on a filesystem too small for the journal; a worker
#             fails writing a shard in the middle of the run.
# Either way `mpirun -np 3 quire run` (and, read-only, one process) exits 1
# well within the hang guard's limit, no rank dies of a signal, and stderr
# has the cause in exactly one error line, from rank 0. The filesystems are
# tmpfs mounted in a private mount namespace (unshare -m, as root); where
# mounts are not permitted the test is skipped (77).
. "$(dirname "$0")/lib.sh"
mode=${1:?readonly or full}
mnt=$E2E_WORK/mnt-$mode
if [ -z "${E2E_PRIVATE_NS:-}" ]; then
  mkdir -p "$mnt"
  unshare -m true 2>/dev/null || { echo "skip: no private mount namespace (unshare -m)"; exit 77; }
  E2E_PRIVATE_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
# in a private mount namespace from here on: the mount goes away with it
if [ "$mode" = readonly ]; then
  opts=ro,size=1m out=$mnt want="Read-only file system.*choose a writable --out"
else
  opts=size=128k out=$mnt/out want="No space left on device"
fi
mount -t tmpfs -o "$opts" quire-test "$mnt" 2>/dev/null || { echo "skip: cannot mount a tmpfs"; exit 77; }
log=$E2E_WORK/out-fails-$mode

# expect_failure NAME CMD...: CMD exits 1 within 60 s with one error line, the cause
expect_failure() {
  local name=$1 rc=0 t0=$SECONDS
  shift
  E2E_MPI_LIMIT=60 "$@" >"$log.$name" 2>&1 || rc=$?
  grep -v "progress:" "$log.$name"
  expect_fatal "$name" "$log.$name" "$rc" "$want"
  echo "$name: exit 1 in $((SECONDS - t0)) s"
}

if [ "$mode" = readonly ]; then
  expect_failure np3 quire_np 3 --out "$out" "$(corpus_dir)"
  expect_failure np1 bounded 60 "$QUIRE_BIN" run --out "$out" "$(corpus_dir)"
else
  expect_failure np3 quire_np 3 --shard-docs 4 --out "$out" "$(corpus_dir)"
  grep -q "failed: no more documents handed out" "$log.np3" ||
    fail "the worker did not fail in the middle of the run (the filesystem was not filled by shards)"
fi
