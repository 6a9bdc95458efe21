#!/usr/bin/env bash
# The first command on a fresh machine: installs what is missing, builds quire,
# fetches the models, generates the demo documents in jobs/demo/, runs a real
# campaign over them with mpirun, and prints a summary read back from results.h5.
# Packages: what quire needs (scripts/deps.txt) and what the demo needs
# (scripts/deps-demo.txt); the test packages are scripts/test.sh's to install.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
t0=$(date +%s)
# step WHAT: one line when a step is done, with the seconds since the start
step() { echo "setup: $* ($(( $(date +%s) - t0 )) s)"; }

scripts/install-deps.sh --no-test scripts/deps-demo.txt
step "packages ready"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
step "built build/quire"
models/fetch.sh
step "models ready"

demo=jobs/demo
/usr/bin/python3 tests/gen/gen_corpus.py "$demo/docs" --bad >/dev/null
# scanned pages with known text (image-only PDF, G4 and LZW TIFF, PNG, JPEG, a mixed PDF)
/usr/bin/python3 tests/gen/gen_scans.py "$demo/scans" --seed 7 >/dev/null
step "demo documents generated in $demo/docs and $demo/scans"
scans=("$demo/scans/clean300" "$demo/scans/degraded" "$demo/scans/mixed")
# shellcheck source=scripts/mpi-env.sh
. scripts/mpi-env.sh
np=$(( $(nproc) + 1 ))
[ "$np" -le 8 ] || np=8
echo "setup: running 'mpirun -np $np build/quire run --out $demo/out $demo/docs ${scans[*]}'"
mpirun -np "$np" build/quire run --force --progress 5 --out "$demo/out" "$demo/docs" "${scans[@]}"
step "campaign done"
/usr/bin/python3 scripts/summary.py "$demo/out/results.h5"
echo "setup: OCR accuracy on the scans (tests/tools/check_ocr.py):"
/usr/bin/python3 tests/tools/check_ocr.py "$demo/out" "$demo/scans/truth.json" ||
  echo "setup: OCR accuracy below the test limits (see above)"
step "done"
