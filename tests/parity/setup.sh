#!/usr/bin/env bash
# Install the ONNX Runtime reference (onnxruntime-node, pinned in package.json and
# package-lock.json) into tests/parity/node_modules (gitignored).
#
# Usage: tests/parity/setup.sh
#
# --ignore-scripts: the package ships its CPU native library (libonnxruntime.so) in
# bin/napi-v3/; its postinstall script would only download optional CUDA/TensorRT
# binaries from GitHub, which we neither need nor can reach.
# Idempotent: does nothing when the pinned version is installed and loads.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

die() { echo "tests/parity/setup.sh: error: $*" >&2; exit 1; }
command -v node >/dev/null || die "node not found (Node.js >= 18 needed)"
command -v npm  >/dev/null || die "npm not found"

want=$(node -p "require('./package.json').dependencies['onnxruntime-node']")

# loads: the installed onnxruntime-node is the pinned version and its native binding
# loads on this machine.
loads() {
    node -e "
      const v = require('./node_modules/onnxruntime-node/package.json').version;
      if (v !== '$want') process.exit(1);
      require('onnxruntime-node');" 2>/dev/null
}

if loads; then
    echo "parity: onnxruntime-node $want already installed in $here/node_modules"
    exit 0
fi

echo "parity: installing onnxruntime-node $want into $here/node_modules"
# npm ci installs exactly what package-lock.json records (integrity-checked).
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
    || die "npm ci failed (network or registry problem?)"
loads || die "onnxruntime-node $want installed but does not load under $(node --version) here:
$(node -e "require('onnxruntime-node')" 2>&1 | head -5)"
echo "parity: onnxruntime-node $want ready"
