#!/usr/bin/env bash
# Run HERE (a machine with registry access), from the repository root, before
# using the GPU machine: puts what that machine lacks into .gpu/ (ignored by
# git through .git/info/exclude), to be named in the device tool's `carry`:
#   .gpu/debs/    OpenBLAS (headers + library) and libgfortran5/libquadmath0
#                 as Debian .debs, unpacked there with dpkg -x (never into /)
#   .gpu/models/  the three PP-OCRv4 models (from QUIRE_MODELS or ~/.cache/quire/models)
# About 30 MB in all; the device tool carries at most 64 MiB.
set -euo pipefail
[[ -d .git && -d bench/cuda ]] || { echo "run from the repository root" >&2; exit 2; }
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
mkdir -p .gpu/debs .gpu/models
(cd .gpu/debs && apt-get download libopenblas0-pthread libopenblas-pthread-dev libgfortran5 libquadmath0)
src=${QUIRE_MODELS:-$HOME/.cache/quire/models}
for f in ch_PP-OCRv4_det_infer.onnx ch_PP-OCRv4_rec_infer.onnx ch_ppocr_mobile_v2.0_cls_infer.onnx; do
    [[ -f $src/$f ]] || { echo "missing $src/$f (models/fetch.sh)" >&2; exit 1; }
    cp "$src/$f" .gpu/models/
done
du -sh .gpu
