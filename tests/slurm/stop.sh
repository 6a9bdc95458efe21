#!/usr/bin/env bash
# Stops the daemons that start.sh started (by their recorded PIDs; a cluster
# that was already running before is left alone).
piddir=${QUIRE_SLURM_PIDDIR:-/run/quire-slurm-test}
for d in slurmd slurmctld munged; do
  f=$piddir/$d.pid
  [ -s "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { echo "$d ($pid) still alive after 15 s: KILL"; kill -KILL "$pid"; }
  fi
  echo "stopped $d (pid $pid)"
  rm -f "$f"
done
exit 0
