#!/usr/bin/env bash
# Installs every Debian package quire needs (scripts/deps.txt) and, unless
# --no-test is given, what its tests and benchmarks need (scripts/deps-test.txt).
#   install-deps.sh [--no-test] [LIST...]   LIST: more package lists to install
#   (e.g. bench/deps.txt, what the peers of bench/ocr need)
# Idempotent: when everything is present it changes nothing and takes a second.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lists=("$here/deps.txt")
test_deps=1
for arg in "$@"; do
  case $arg in
    --no-test) test_deps=0 ;;
    *) [ -f "$arg" ] || { echo "install-deps: no package list $arg" >&2; exit 2; }
       lists+=("$arg") ;;
  esac
done
[ $test_deps = 0 ] || lists+=("$here/deps-test.txt")

mapfile -t want < <(cat "${lists[@]}" 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=()
for p in "${want[@]}"; do
  # NAME|COMMAND: NAME is not needed where COMMAND is already on PATH (npm
  # comes with NodeSource's nodejs, which Debian's npm package conflicts with)
  if [ "${p#*|}" != "$p" ]; then
    command -v "${p#*|}" >/dev/null && continue
    p=${p%%|*}
  fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# Package scripts must not try to start daemons (munge, slurm) on machines without an init system.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod 755 /usr/sbin/policy-rc.d
fi
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
