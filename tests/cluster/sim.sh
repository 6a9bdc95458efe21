#!/usr/bin/env bash
# Simulated nodes on one machine, for multi-node tests (issue 18). Each node is
# a network namespace with its own address on a private bridge, its own host
# name (UTS namespace) and its own /tmp and /dev/shm (mount namespace), so
# that Open MPI's daemons and shared-memory files keep apart as on separate
# machines, while the rest of the file system is shared as a cluster's
# shared file system is. A long-lived holder process per node keeps its
# namespaces; Open MPI reaches the nodes through agent.sh (its rsh agent),
# which enters them instead of using ssh, and then talks TCP between them.
# Traffic only ever goes to addresses on the bridge this script made.
#
#   sim.sh up N            make nodes 0..N-1 (names node0.., or $QSIM_HOSTNAMES)
#   sim.sh run K CMD...    run CMD on node K
#   sim.sh mpirun ARGS...  mpirun from node 0 over every node ($QSIM_SLOTS per node, default 3)
#   sim.sh pids K          the pids of quire processes on node K
#   sim.sh link K up|down  plug or unplug node K's network link (up returns
#                          once node K reaches node 0 over TCP again)
#   sim.sh sysctl K KEY=V  a sysctl of node K's network stack (net.ipv4.*)
#   sim.sh down            remove everything (also what a killed test left)
#
# Each node's /tmp is its own, except the folders under it named in $QSIM_KEEP
# (space-separated paths: a checkout or build under /tmp stays visible). State
# lives in $QSIM_STATE (default /run/quire-sim). Exits 77 where namespaces
# cannot be made (not root, no CAP_SYS_ADMIN): callers skip.
set -euo pipefail
state=${QSIM_STATE:-/run/quire-sim}
net=${QSIM_NET:-10.211.7}
pfx=qsim
here=$(cd "$(dirname "$0")" && pwd)

addr() { echo "$net.$(($1 + 1))"; }
# the top folders under /tmp of the paths in $QSIM_KEEP (and of this script)
keep_dirs() {
  local p
  for p in ${QSIM_KEEP:-} "$here"; do
    p=$(realpath -m "$p")
    case $p in /tmp/?*) p=${p#/tmp/}; echo "/tmp/${p%%/*}" ;; esac
  done | sort -u | tr '\n' ' '
}
holder() { cat "$state/node$1.pid"; }
count() { cat "$state/nodes"; }

sim_down() {
  local f
  # whatever still runs on a node (ranks whose daemon lost mpirun) goes first
  for f in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$pfx" || true); do
    ip netns pids "$f" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  done
  for f in "$state"/node*.pid; do
    [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true
  done
  for f in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$pfx" || true); do
    ip netns del "$f" 2>/dev/null || true
  done
  rm -rf "$state"
}

sim_up() {
  local n=$1 k name
  sim_down
  mkdir -p "$state"
  ip netns add ${pfx}hub 2>/dev/null || { rm -rf "$state"; echo "sim: cannot make network namespaces here" >&2; exit 77; }
  ip -n ${pfx}hub link add br0 type bridge
  ip -n ${pfx}hub link set br0 up
  read -r -a names <<<"${QSIM_HOSTNAMES:-}"
  for k in $(seq 0 $((n - 1))); do
    name=${names[$k]:-node$k}
    ip netns add ${pfx}$k
    ip link add ${pfx}v$k type veth peer name eth0 netns ${pfx}$k
    ip link set ${pfx}v$k netns ${pfx}hub
    ip -n ${pfx}hub link set ${pfx}v$k master br0 up
    ip -n ${pfx}$k addr add "$(addr "$k")/24" dev eth0
    ip -n ${pfx}$k link set eth0 up
    ip -n ${pfx}$k link set lo up
    # the holder: own host name, own /tmp and /dev/shm, then it waits. It
    # joins the network namespace with nsenter, not `ip netns exec`, which
    # mounts a fresh /sys and so hides /sys/fs/cgroup (slurmd needs it). The
    # folders under /tmp that the job needs (a checkout, a build: $QSIM_KEEP)
    # stay visible there, as a shared file system would show them.
    mkdir -p "$state/host-tmp$k"
    unshare --mount --uts --propagation slave nsenter --net=/run/netns/${pfx}$k sh -c \
      "mount --bind /tmp '$state/host-tmp$k' && mount -t tmpfs -o size=512m tmpfs /tmp &&
       for d in $(keep_dirs); do mkdir -p \"\$d\" && mount --bind '$state/host-tmp$k'\"\${d#/tmp}\" \"\$d\" || exit 1; done &&
       mount -t tmpfs -o size=2g tmpfs /dev/shm && hostname '$name' && exec sleep infinity" \
      </dev/null >/dev/null 2>&1 &
    echo $! >"$state/node$k.pid"
    echo "$(addr "$k") $k" >>"$state/hosts"
  done
  echo "$n" >"$state/nodes"
  for k in $(seq 0 $((n - 1))); do
    name=${names[$k]:-node$k}
    for _ in $(seq 100); do
      [ "$(nsenter -t "$(holder "$k")" -u hostname 2>/dev/null)" = "$name" ] && break
      sleep 0.05
    done
    [ "$(nsenter -t "$(holder "$k")" -u hostname 2>/dev/null)" = "$name" ] ||
      { sim_down; echo "sim: node $k did not come up" >&2; exit 1; }
  done
}

sim_run() {
  local k=$1
  shift
  exec nsenter -t "$(holder "$k")" -n -u -m --wd="$PWD" -- "$@"
}

sim_mpirun() {
  local hosts="" k slots=${QSIM_SLOTS:-3}
  for k in $(seq 0 $(($(count) - 1))); do hosts+="${hosts:+,}$(addr "$k"):$slots"; done
  QSIM_STATE=$state sim_run 0 mpirun --mca plm_rsh_agent "$here/agent.sh" \
    --mca btl self,vader,tcp --mca btl_tcp_if_include "$net.0/24" \
    --mca oob_tcp_if_include "$net.0/24" --host "$hosts" "$@"
}

# quire processes whose network namespace is node K's
sim_pids() {
  local want p
  want=$(readlink "/proc/$(holder "$1")/ns/net")
  for p in $(pgrep -x quire || true); do
    [ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$want" ] && echo "$p"
  done
  return 0
}

# sim_reach K: wait (at most 20 s) until a TCP connection from node K to node
# 0 succeeds. A link set up is not at once usable: the kernel applies carrier
# changes in deferred work (up to a second later, more on a busy machine), and
# an Open MPI daemon started in that window failed to reach mpirun and ended
# the job ("unable to reliably start one or more daemons").
sim_reach() {
  local k=$1 to
  to=$(addr 0)
  ( sim_run 0 python3 -c '
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); s.listen(8); s.settimeout(20)
print(s.getsockname()[1], flush=True)
s.accept()' "$to" >"$state/reach.port" ) &
  local srv=$! port=""
  for _ in $(seq 100); do
    port=$(cat "$state/reach.port" 2>/dev/null || true)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { kill "$srv" 2>/dev/null; echo "sim: no listener on node 0" >&2; return 1; }
  ( sim_run "$k" python3 -c '
import socket, sys, time
end = time.time() + 20
while True:
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
        break
    except OSError:
        if time.time() > end:
            sys.exit("sim: node %s cannot reach node 0" % sys.argv[3])
        time.sleep(0.1)' "$to" "$port" "$k" ) || { kill "$srv" 2>/dev/null; return 1; }
  wait "$srv" || true
}

sim_link() {
  ip -n ${pfx}hub link set ${pfx}v"$1" "$2"
  [ "$2" = up ] && sim_reach "$1"
  return 0
}

cmd=${1:-}
shift || true
case $cmd in
  up) sim_up "${1:?how many nodes}" ;;
  down) sim_down ;;
  run) sim_run "$@" ;;
  mpirun) sim_mpirun "$@" ;;
  pids) sim_pids "${1:?node}" ;;
  link) sim_link "${1:?node}" "${2:?up or down}" ;;
  sysctl) ip netns exec ${pfx}"${1:?node}" sysctl -q -w "${2:?KEY=VALUE}" ;;
  *) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//' | head -n -1 >&2; exit 2 ;;
esac
