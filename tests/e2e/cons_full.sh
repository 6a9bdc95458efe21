#!/usr/bin/env bash
# Consolidation is atomic and checked (issue 15, item 5). A first run writes
# results.h5 on a small tmpfs; a filler file then leaves only FREE bytes, and
# a rerun (every document resumed from the journal, so only consolidation
# writes) must exit 1 within the hang guard's limit with one error line from
# rank 0, leave the earlier results.h5 byte for byte as it was and leave no
# results.h5.tmp or reserve behind. Two sizes of FREE: below the metadata
# reserve (fails before HDF5 writes) and above it (the table writes run out;
# with 3 ranks MPI-IO once lost them silently: exit 0 and an unreadable
# /text). With 3 ranks and with 1. Then a run with room still renames and its
# results.h5 passes every check. Private mount namespace (unshare -m, as
# root); skipped (77) where mounts are not permitted.
. "$(dirname "$0")/lib.sh"
mnt=$E2E_WORK/mnt-cons
if [ -z "${E2E_PRIVATE_NS:-}" ]; then
  mkdir -p "$mnt"
  unshare -m true 2>/dev/null || { echo "skip: no private mount namespace (unshare -m)"; exit 77; }
  E2E_PRIVATE_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
mount -t tmpfs -o size=8m quire-test "$mnt" 2>/dev/null || { echo "skip: cannot mount a tmpfs"; exit 77; }
out=$mnt/out log=$E2E_WORK/cons-full c=$(corpus_dir)

run_np() { # run_np N ARGS...: quire run with N ranks (1: without mpirun)
  local n=$1
  shift
  if [ "$n" = 1 ]; then bounded 60 "$QUIRE_BIN" run "$@"; else E2E_MPI_LIMIT=60 quire_np "$n" "$@"; fi
}

no_leftovers() {
  local left
  left=$(find "$out" -maxdepth 1 -name "results.h5.*")
  [ -z "$left" ] || fail "$1: left behind: $left"
}

full_case() { # full_case NP FREE
  local np=$1 free=$2 name="np$1-free$2" rc=0 before avail
  rm -rf "${mnt:?}"/*
  run_np "$np" --out "$out" "$c" >"$log.$name.first" 2>&1 || fail "$name: the first run failed"
  before=$(sha256sum <"$out/results.h5")
  avail=$(df -B1 --output=avail "$mnt" | tail -n 1)
  fallocate -l $((avail - free)) "$mnt/filler"
  run_np "$np" --out "$out" "$c" >"$log.$name" 2>&1 || rc=$?
  grep -v "progress:" "$log.$name"
  grep -Eq "resuming: ([0-9]+) of \1 documents" "$log.$name" || fail "$name: the rerun redid documents"
  expect_fatal "$name" "$log.$name" "$rc" "consolidating .*(No space left|bytes free)"
  [ "$(sha256sum <"$out/results.h5")" = "$before" ] || fail "$name: the earlier results.h5 changed"
  no_leftovers "$name"
  echo "$name: exit 1, earlier results.h5 unchanged"
}

for np in 3 1; do
  full_case "$np" 65536             # below the reserve (1 MiB and more)
  full_case "$np" $((1120 * 1024)) # the reserve fits, the tables (~180 KiB) do not
done

rm -rf "${mnt:?}"/*
run_np 3 --out "$out" "$c"
no_leftovers "a run with room"
check_out "$out"
