#!/usr/bin/env bash
# Open MPI's rsh agent for the simulated nodes of sim.sh: called as
# `agent.sh [OPTIONS] HOST COMMAND...` where ssh would be, it runs COMMAND
# (a shell command line, as ssh would) inside HOST's namespaces.
set -eu
while [ "${1#-}" != "$1" ]; do shift; done
host=$1
shift
state=${QSIM_STATE:-/run/quire-sim}
k=$(awk -v h="$host" '$1 == h { print $2 }' "$state/hosts")
[ -n "$k" ] || { echo "agent.sh: $host is not a simulated node" >&2; exit 255; }
exec nsenter -t "$(cat "$state/node$k.pid")" -n -u -m -- /bin/sh -c "$*"
