#!/usr/bin/env bash
# Starts a single-node Slurm on this machine for the Slurm tests (munged,
# slurmctld, slurmd; no systemd needed; one fake GPU as gres), unless one is
# already up. Idempotent; stop.sh stops what this script started.
# Exit 77 (CTest: skipped) when Slurm is not installed or cannot start here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
piddir=${QUIRE_SLURM_PIDDIR:-/run/quire-slurm-test}
skip() { echo "SKIP: $*" >&2; exit 77; }

# a cluster that answers and has an idle node: use it
if command -v sinfo >/dev/null && timeout 5 scontrol ping 2>/dev/null | grep -q UP &&
  timeout 5 sinfo -h -N -o %T 2>/dev/null | grep -Eqx 'idle|mixed|allocated'; then
  echo "slurm: already running"; exit 0
fi
for b in /usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/munged; do
  [ -x "$b" ] || skip "$b missing: install slurm-wlm and munge (scripts/install-deps.sh)"
done
[ "$(id -u)" = 0 ] || skip "starting slurmctld/slurmd needs root"
[ -d /sys/fs/cgroup ] && [ -n "$(ls -A /sys/fs/cgroup 2>/dev/null)" ] ||
  skip "slurmd 22.05 needs a cgroup filesystem on /sys/fs/cgroup"

host=$(hostname -s)
mkdir -p /etc/slurm "$piddir"
sed "s/@HOST@/$host/g" "$here/slurm.conf.in" >/etc/slurm/slurm.conf
sed "s/@HOST@/$host/g" "$here/gres.conf.in" >/etc/slurm/gres.conf
chmod 0644 /etc/slurm/slurm.conf /etc/slurm/gres.conf
# the fake GPU must be a character device (a /dev/null clone), not a file
[ -c /dev/fakegpu0 ] || mknod -m 0666 /dev/fakegpu0 c 1 3
install -d -o munge -g munge -m 0755 /run/munge
install -d -o slurm -g slurm -m 0755 /run/slurm /var/lib/slurm/slurmctld /var/log/slurm
install -d -m 0755 /var/lib/slurm/slurmd
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
fi

alive() { [ -s "$piddir/$1.pid" ] && kill -0 "$(cat "$piddir/$1.pid")" 2>/dev/null; }
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  cp /run/munge/munged.pid "$piddir/munged.pid"
fi
munge -n | unmunge >/dev/null || skip "munged does not answer"
if ! alive slurmctld; then
  rm -rf /var/lib/slurm/slurmctld/* /var/lib/slurm/slurmd/*
  /usr/sbin/slurmctld -D -i >/var/log/slurm/slurmctld.stdout 2>&1 &
  echo $! >"$piddir/slurmctld.pid"
fi
for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.1; done
if ! alive slurmd; then
  /usr/sbin/slurmd -D >/var/log/slurm/slurmd.stdout 2>&1 &
  echo $! >"$piddir/slurmd.pid"
fi
for _ in $(seq 150); do sinfo -h -N -o %T 2>/dev/null | grep -qx idle && break; sleep 0.2; done
sinfo -N -o '%N %T %C %G'
if ! sinfo -h -N -o %T | grep -Eqx 'idle|mixed|allocated'; then
  tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
  "$here/stop.sh" || true
  skip "the Slurm node did not come up (logs above)"
fi
