#!/usr/bin/env bash
# lost.sh worker|link: a job over 2 simulated nodes loses part of node 1
# mid-run (issue 18, item 2): `worker`, a worker rank killed (-9) there, which
# mpirun sees and ends the job; `link`, node 1's network link unplugged, which
# nothing tells mpirun: the ranks' watch (--peer-timeout) must notice, rank 0
# prints one line naming the silent rank and the job ends with exit 1. Then
# the rerun, link restored, resumes: nothing finished before the loss is
# redone (the record logs on the shared --out hold it) and results.h5 holds
# every document once.
. "$(dirname "$0")/lib.sh"
what=${1:?worker or link}
big=$(bulk_corpus)
# Four copies of it under other names (hard links): 240 text documents took
# 1.5 s, and on a busy machine the loss came after the last one; with 960 the
# run lasts long enough for the loss to land mid-run.
many=$E2E_WORK/bulk-cluster-x4
if [ ! -f "$many/truth.json" ]; then
  rm -rf "$many"
  "$PY" - "$big" "$many" 4 <<'PYEOF'
import json, os, sys
src, dst, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = json.load(open(os.path.join(src, "truth.json")))
docs = []
for k in range(reps):
    for d in t["documents"]:
        f = os.path.join(src, d["file"])
        if not os.path.isfile(f) or os.path.islink(f):
            continue
        n = dict(d, file="c%d/%s" % (k, d["file"]))
        os.makedirs(os.path.dirname(os.path.join(dst, n["file"])), exist_ok=True)
        os.link(f, os.path.join(dst, n["file"]))
        docs.append(n)
t["documents"] = docs
json.dump(t, open(os.path.join(dst, "truth.json"), "w"))
PYEOF
fi
big=$many
sim_up 2
# mpirun gives up on a daemon it cannot reach when TCP does: on a real
# cluster after net.ipv4.tcp_retries2 (15, some 15 minutes, by default)
"$SIM" sysctl 0 net.ipv4.tcp_retries2=4
out=$E2E_WORK/out-cluster-lost-$what
rm -rf "$out"
QSIM_SLOTS=3 setsid "$SIM" mpirun -np 6 "$QUIRE_BIN" run --batch 1 --shard-docs 100000 \
  --shard-seconds 100000 --progress 0.1 --peer-timeout 5 --out "$out" "$big" >"$out.log1" 2>&1 &
job=$!
seen=0
for _ in $(seq 1200); do
  seen=$(reported "$out.log1")
  seen=${seen:-0}
  [ "$seen" -ge 20 ] && break
  kill -0 "$job" 2>/dev/null || break
  sleep 0.05
done
kill -0 "$job" 2>/dev/null || { cat "$out.log1"; fail "the job ended before the loss"; }
seen=$(reported "$out.log1")
t0=$(date +%s)
case $what in
  worker)
    victim=""
    for p in $("$SIM" pids 1); do # a rank: its parent is not quire (that is a reader)
      pp=$(ps -o ppid= -p "$p" | tr -d ' ')
      [ "$(cat "/proc/$pp/comm" 2>/dev/null)" = quire ] || { victim=$p; break; }
    done
    [ -n "$victim" ] || fail "no rank found on node 1"
    echo "kill -9 of rank pid $victim on node1 after $seen documents"
    kill -9 "$victim"
    ;;
  link)
    echo "node1's link down after $seen documents"
    "$SIM" link 1 down
    ;;
esac
for _ in $(seq 1200); do
  kill -0 "$job" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$job" 2>/dev/null && { tail -20 "$out.log1"; fail "the job did not end within 120 s of the loss"; }
rc=0
wait "$job" || rc=$?
echo "the job ended $(($(date +%s) - t0)) s after the loss, exit $rc"
[ "$rc" != 0 ] || fail "the job exited 0 after losing a rank"
if [ "$what" = link ]; then
  grep "has not been heard from" "$out.log1" || { cat "$out.log1"; fail "no line on the silent rank"; }
  # the cut-off ranks must leave by their own watch: nothing can kill them
  for _ in $(seq 100); do
    [ -z "$("$SIM" pids 1)" ] && break
    sleep 0.1
  done
  [ -z "$("$SIM" pids 1)" ] || fail "quire processes still run on the cut-off node: $("$SIM" pids 1 | tr '\n' ' ')"
  "$SIM" link 1 up
fi
rc=0
sim_quire 3 --out "$out" "$big" >"$out.log2" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$out.log2"; fail "rerun: exit $rc"; }
line=$(grep -o "resuming: [0-9]* of [0-9]*" "$out.log2") || { cat "$out.log2"; fail "the rerun did not resume"; }
read -r _ done _ _ <<<"$line"
echo "$line (at least $seen were done)"
[ "$done" -ge "$seen" ] || fail "finished documents were lost: $done resumed, $seen were done"
"$PY" "$TOOLS/check_results.py" "$out" "$big/truth.json" --max-cer 0.005
