#!/usr/bin/env bash
# bench/gpu/bench.py runs end to end on the CPU (quire's cpu backend, the torch
# reference on the CPU, one small row) and exits 0: a rehearsal of what the GPU
# machine runs, so a broken bench.py shows up here and not in rented GPU time.
#
# Usage: tests/gpu/bench_smoke.sh NN_BENCH
# Exit status: bench.py's; 77 (skip) when /usr/bin/python3 cannot import torch.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../parity/lib.sh
source "$here/../parity/lib.sh"
py=/usr/bin/python3
if ! $py -c 'import torch' 2>/dev/null; then
    echo "SKIP: $py cannot import torch (apt-get install python3-torch)" >&2
    exit 77
fi
models=$(parity_models_dir) || { echo "error: models not found; run models/fetch.sh" >&2; exit 1; }
exec $py "$parity_root/bench/gpu/bench.py" --models "$models" --nn-bench "$1" \
    --backend cpu --device cpu --batches 1 --repeat-scale 0.1 --only cls --threads 1
