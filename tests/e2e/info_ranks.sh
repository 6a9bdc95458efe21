#!/usr/bin/env bash
# `quire info` under mpirun prints once for the whole launch: rank 0's block
# (versions, backends, models) one time, then one role-table row per rank in
# rank order, the roles as `quire run` decides them (--gpus honoured), and
# each rank's view of its models folder. Alone it prints its block and row.
. "$(dirname "$0")/lib.sh"
mkdir -p "$E2E_WORK"
out=$E2E_WORK/info_ranks.out
info() { # info N ARGS...: `quire info` under mpirun with N ranks, stdout in $out
  local n=$1 rc=0; shift
  bounded 120 "$MPIEXEC" -np "$n" "$QUIRE_BIN" info "$@" >"$out" 2>"$out.err" || rc=$?
  [ $rc = 0 ] || { cat "$out" "$out.err"; fail "mpirun -np $n quire info $* exited $rc"; }
}
count() { grep -c "$1" "$out" || true; }
rows() { awk '/^role:/ { t = 1; next } t && NF >= 6 { print $2, $3, $4, $5, $6 }' "$out"; }

info 3
for key in '^quire: ' '^documents: ' '^models: ' '^mpi: ' '^role: ' '^ranks: '; do
  [ "$(count "$key")" = 1 ] || { cat "$out"; fail "np 3: '$key' printed $(count "$key") times, want once"; }
done
grep -q '^ranks: *3 on 1 node: 1 coordinator, 0 gpu, 2 cpu' "$out" || { cat "$out"; fail "np 3: ranks line"; }
want="0 0 coordinator 0 -
1 1 cpu 0 -
2 2 cpu 0 -"
got=$(rows)
[ "$got" = "$want" ] || { cat "$out"; fail "np 3: role rows (rank local role gpus device) are
$got
want
$want"; }
# each row ends with its rank's models folder: all found, or how many are missing
[ "$(awk '/^role:/ { t = 1; next } t' "$out" | grep -Ec ' (ok|[1-4] missing)$')" = 3 ] ||
  { cat "$out"; fail "np 3: rows should end with the models' state"; }

# --gpus 1: the first worker of the node becomes its GPU rank (device 0)
info 3 --gpus 1
got=$(rows | cut -d' ' -f1,3)
[ "$got" = "0 coordinator
1 gpu
2 cpu" ] || { cat "$out"; fail "np 3 --gpus 1: roles are $got"; }
grep -Eq '^ +[^ ]+ +1 +1 +gpu +[0-9]+ +cuda:0 ' "$out" || { cat "$out"; fail "np 3 --gpus 1: rank 1 has no cuda:0"; }

# an empty models folder: every rank says so in its row, and rank 0's block lists them
empty=$E2E_WORK/info_ranks_nomodels
mkdir -p "$empty"
info 2 --models "$empty"
[ "$(count ' 4 missing$')" = 2 ] || { cat "$out"; fail "np 2 --models EMPTY: rows should say '4 missing'"; }
[ "$(count '^  missing ')" = 4 ] || { cat "$out"; fail "np 2 --models EMPTY: block should list 4 missing files once"; }

# alone: the block and this process's row (role alone), no MPI needed
"$QUIRE_BIN" info >"$out" 2>&1 || { cat "$out"; fail "quire info alone exited $?"; }
if [ "$(count '^quire: ')" != 1 ] || ! grep -Eq '^ +[^ ]+ +0 +0 +alone ' "$out"; then
  cat "$out"
  fail "quire info alone: want one block and the row of rank 0, alone"
fi
echo "info_ranks: ok"
