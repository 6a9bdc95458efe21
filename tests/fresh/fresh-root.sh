#!/usr/bin/env bash
# The README's "Two commands" on a machine that has none of quire's packages:
# a fresh minbase Debian 12 (bookworm) root made by mmdebstrap from the Debian
# archive, a clean `git clone` of the repository copied into it, and
# scripts/setup.sh run inside with chroot as root with HOME=/root, as a user on a
# new machine would; then the first stage of scripts/test.sh (its package
# install, the model and ONNX Runtime fetch, the build with warnings as errors;
# with --full, every test too). Each command is timed; the times go to the last
# lines of the output and to RESULT.txt in the log folder.
#
# Not a CTest: it needs the network (the Debian archive, the npm registry), root
# and about 30 minutes. A maintainer reruns it after changing scripts/*.sh,
# scripts/deps*.txt or models/fetch.sh:
#
#   sudo tests/fresh/fresh-root.sh [options]
#     --rev REV        what to clone (default HEAD of this checkout; commit first:
#                      only committed files travel, as for a user's clone)
#     --dir DIR        where the root is made (default /var/tmp/quire-fresh.XXXXXX)
#     --base TAR       a cache of the bare root: made there by mmdebstrap when absent,
#                      unpacked when present (saves the bootstrap on reruns; it holds
#                      only Debian's minbase, none of quire's packages)
#     --mirror URL     Debian mirror (default http://deb.debian.org/debian and
#                      http://deb.debian.org/debian-security, as on this machine)
#     --full           after the first stage of test.sh, run every test
#                      (nice -n 10 ctest -j1; over an hour on 2 cores)
#     --keep           leave the root in place (unmounted) for a look afterwards
#   Logs: DIR.log/setup.log, DIR.log/test.log, DIR.log/RESULT.txt.
#
# What the root gets from this machine, and only that: /etc/resolv.conf (name
# service), the apt settings that let this machine's mirror work
# (Acquire::Check-Valid-Until/Check-Date off, for snapshot mirrors), and the
# extra CA certificates of /usr/local/share/ca-certificates (a TLS-inspecting
# egress proxy) handed to node through NODE_EXTRA_CA_CERTS. Everything quire
# needs must come from its own scripts. /proc, /sys, /dev, /dev/pts and
# /dev/shm are mounted into the root and always unmounted on exit (trap), even
# on failure or Ctrl-C; the root is deleted unless --keep, and never while
# anything is still mounted below it.
#
# Needs: root, mmdebstrap (apt-get install mmdebstrap), git, mount/umount.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
rev=HEAD dir="" base="" full=0 keep=0
mirror=http://deb.debian.org/debian
security=http://deb.debian.org/debian-security

die() { echo "fresh-root: error: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case $1 in
    --rev) rev=${2:?--rev wants a revision}; shift ;;
    --dir) dir=${2:?--dir wants a folder}; shift ;;
    --base) base=${2:?--base wants a tarball path}; shift ;;
    --mirror) mirror=${2:?--mirror wants a URL}; security=""; shift ;;
    --full) full=1 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap, chroot and mount need it)"
command -v mmdebstrap >/dev/null || die "mmdebstrap not found (apt-get install mmdebstrap)"
commit=$(git -C "$repo" rev-parse --verify "$rev^{commit}") || die "no revision '$rev' in $repo"

if [ -z "$dir" ]; then
  dir=$(mktemp -d /var/tmp/quire-fresh.XXXXXX)
else
  [ ! -e "$dir" ] || [ -z "$(ls -A "$dir")" ] || die "$dir exists and is not empty"
  mkdir -p "$dir"
fi
dir=$(cd "$dir" && pwd)
logs="$dir.log"
mkdir -p "$logs"

# mounted: the mount points below the root, deepest first.
mounted() { awk -v r="$dir/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r; }
cleanup() {
  local rc=$? m
  # shellcheck disable=SC2046 # the load sampler, if a step was cut short
  kill $(jobs -p) 2>/dev/null || true
  for m in $(mounted); do umount "$m" 2>/dev/null || umount -l "$m" || true; done
  if [ -n "$(mounted)" ]; then
    echo "fresh-root: still mounted below $dir, NOT deleting it:" >&2
    mounted >&2
  elif [ $keep = 1 ]; then
    echo "fresh-root: root kept in $dir (unmounted; delete it with rm -rf when done)"
  else
    rm -rf "$dir"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stamp() { date -u +%Y-%m-%dT%H:%M:%SZ; }
note() { echo "fresh-root: $*" | tee -a "$logs/RESULT.txt"; }
note "$(stamp) quire $(git -C "$repo" describe --always --dirty 2>/dev/null || echo "$commit") " \
     "(commit $commit) on $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB, $(uname -r)"

# --- 1. the bare Debian 12 root --------------------------------------------
aptopts=(--aptopt='Acquire::Check-Valid-Until "false"' --aptopt='Acquire::Check-Date "false"')
sources=("deb $mirror bookworm main" "deb $mirror bookworm-updates main")
[ -z "$security" ] || sources+=("deb $security bookworm-security main")
t0=$(date +%s)
if [ -n "$base" ] && [ -f "$base" ]; then
  tar -C "$dir" -xf "$base"
  note "root unpacked from $base"
else
  out=$dir
  [ -z "$base" ] || out=$base
  mmdebstrap --variant=minbase --mode=root "${aptopts[@]}" bookworm "$out" "${sources[@]}" \
    >"$logs/mmdebstrap.log" 2>&1 || { tail -20 "$logs/mmdebstrap.log" >&2; die "mmdebstrap failed"; }
  [ -z "$base" ] || tar -C "$dir" -xf "$base"
  note "minbase bookworm root made by mmdebstrap in $(( $(date +%s) - t0 )) s"
fi
# what a fresh machine has that a chroot lacks: name service
cp /etc/resolv.conf "$dir/etc/resolv.conf"
# the mirror's settings (a snapshot mirror's Release files are past Valid-Until)
printf 'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\n' \
  >"$dir/etc/apt/apt.conf.d/99fresh-root-mirror"
extra_ca=""
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cat /usr/local/share/ca-certificates/*.crt >"$dir/etc/fresh-root-extra-ca.pem"
  extra_ca=/etc/fresh-root-extra-ca.pem
fi
# (dpkg-query exits 1 for packages it has never heard of: the normal case here)
# shellcheck disable=SC2016 # dpkg-query expands ${...} itself
have=$({ chroot "$dir" dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' npm nodejs cmake gcc \
  libmupdf-dev libopenmpi-dev 2>/dev/null || true; } | awk '$1 == "ii" { print $2 }' | tr '\n' ' ')
[ -z "$have" ] || die "the bare root already has $have: not a fresh machine"
note "bare root: $(chroot "$dir" dpkg-query -W | wc -l) packages; no npm, nodejs, cmake, gcc," \
     "libmupdf-dev, libopenmpi-dev"

# --- 2. a user's clone --------------------------------------------------------
git clone -q --no-hardlinks "$repo" "$dir/root/quire"
git -C "$dir/root/quire" checkout -q "$commit"
rm -rf "$dir/root/quire/.git"   # a tarball as much as a clone: no git in minbase

# --- 3. mounts ----------------------------------------------------------------
mount -t proc proc "$dir/proc"
mount --bind /sys "$dir/sys"
mount --bind /dev "$dir/dev"
mount --bind /dev/pts "$dir/dev/pts"
mount -t tmpfs -o mode=1777 shm "$dir/dev/shm"

# inroot CMD: runs CMD in the root as a user's login shell would: root, HOME,
# a plain PATH, no variable of this machine's environment.
inroot() {
  env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    ${extra_ca:+NODE_EXTRA_CA_CERTS=$extra_ca} \
    chroot "$dir" /bin/bash -c "cd /root/quire && $1"
}

# timed NAME CMD: runs CMD in the root, logs to NAME.log, records its time.
timed() {
  local name=$1 t rc=0 sampler load
  # the machine's load while it runs (other work slows it): 1-min average every 20 s
  while :; do cut -d' ' -f1 /proc/loadavg; sleep 20; done >"$logs/$name.load" &
  sampler=$!
  t=$(date +%s)
  inroot "$2" >"$logs/$name.log" 2>&1 || rc=$?
  t=$(( $(date +%s) - t ))
  kill "$sampler"
  wait "$sampler" 2>/dev/null || true
  load=$(sort -n "$logs/$name.load" | awk '{ v[NR] = $1 } END { print v[1] " to " v[NR] ", median " v[int((NR + 1) / 2)] }')
  note "$(stamp) '$2' exit $rc after $t s ($(( t / 60 )) min $(( t % 60 )) s), 1-min load" \
       "average $load; log $logs/$name.log"
  grep -E '^(setup|test\.sh): .*\([0-9]+ s\)$' "$logs/$name.log" | tee -a "$logs/RESULT.txt" || true
  if [ $rc != 0 ]; then
    tail -30 "$logs/$name.log" >&2
    die "'$2' failed in the fresh root"
  fi
}

# --- 4. the two commands ------------------------------------------------------
timed setup scripts/setup.sh
tail -25 "$logs/setup.log"
if [ $full = 1 ]; then
  timed test "nice -n 10 scripts/test.sh -j1"
else
  # test.sh's first stage: everything before ctest (QUIRE_TEST_BUILD_ONLY stops there)
  timed test "QUIRE_TEST_BUILD_ONLY=1 scripts/test.sh"
fi
note "$(stamp) passed"
