#!/usr/bin/env bash
# Packs everything the GPU machine needs and does not have into one archive,
# so that the GPU check (bench/gpu/device_check.sh) is one call there:
#
#   bench/gpu/pack.sh BUILD_DIR [--out DIR] [--pages N] [--fast]
#
# BUILD_DIR is a build of quire with the CUDA plugin (nvcc and cuDNN were found:
# libquire_cuda.so, the CUDA tests and nn_bench are in it). Writes
# DIR/quire-gpu.tar.xz (DIR default: .gpu in the repository root, git-ignored;
# name it in the device tool's `carry`). The archive holds one folder, a
# relocatable prefix laid out like /usr so that Open MPI finds itself through
# OPAL_PREFIX:
#   bin/      quire, libquire_cuda.so (beside quire, where quire looks for it),
#             nn_bench, the CUDA tests, mpirun and orted; stripped
#   lib/      every shared library they load except glibc's and CUDA's own
#             (cudart, cuBLAS, cuDNN come from the GPU machine's toolkit or
#             PyTorch's wheels: cuDNN alone is ~1 GB)
#   lib/openmpi, lib/pmix, share/, etc/   Open MPI's and PMIx's components,
#             help texts and default parameters (components that need a fabric
#             library -- UCX, libfabric, verbs, PSM -- are left out)
#   models/   the three PP-OCRv4 models and the dictionary, checked against
#             models/SHA256SUMS
#   pages/    N scanned 300-dpi pages with their text (tests/gen/gen_scans.py
#             --bench N, default 50): bilevel G4 TIFFs, the archive master's
#             usual form and a sixth of a gray PNG's bytes (50 gray pages would
#             not fit), truth.json, manifest.txt with relative paths
#   tensors/  real pre-processed page tensors (tests/parity/make_inputs.py;
#             two detection pages of its five)
#   INFO      what was packed, from which commit, with which toolchain
# The GPU machine gets the repository's tracked files with every device call;
# the scripts and Python tools run from there, not from the archive.
#
# Prints the archive's size and the tracked tree's, and fails when the two
# together are over 60 MiB (the device tool carries 64 MiB at most). xz -9e
# with the x86 filter takes ~3 minutes on 2 cores; --fast (xz -1, for the
# rehearsal test) skips the size check, which only the real pack can pass.
# Needs: the test dependencies (scripts/install-deps.sh), models/fetch.sh done.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "pack.sh: $*" >&2; exit 1; }
usage() { sed -n '5p' "$0" | sed 's/^#  *//' >&2; exit 2; }

build="" out=$root/.gpu pages=50 fast=0
while (($#)); do
    case $1 in
    --out) out=${2:?}; shift ;;
    --pages) pages=${2:?}; shift ;;
    --fast) fast=1 ;;
    -h | --help) sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) usage ;;
    *) [[ -z $build ]] || usage; build=$1 ;;
    esac
    shift
done
[[ -n $build ]] || usage
build=$(cd "$build" && pwd) || die "no build folder $build"
[[ $pages =~ ^[0-9]+$ ]] || die "--pages wants a number"

# ---- what the build must hold ----
need() { [[ -f $1 ]] || die "$1 is missing: $2"; echo "$1"; }
quire=$(need "$build/quire" "build quire first (cmake --build $build)")
plugin=$(need "$build/libquire_cuda.so" \
    "this build has no CUDA plugin (nvcc and cuDNN were not found when it was configured)")
nn_bench=$(need "$build/nn_bench" "build it (cmake --build $build --target nn_bench)")
tests=()
for t in fallback models; do
    tests+=("$(need "$build/tests/cuda/cuda_${t}_test" "a build with the CUDA plugin builds it")")
done
# the op tests: every op as a one-node model, CUDA against the CPU (`cuda` argument)
tests+=("$(need "$build/tests/nn/nn_backend_ops_test" "build it (cmake --build $build)")")
models=${QUIRE_MODELS:-$HOME/.cache/quire/models}
[[ -d $models ]] || die "no models in $models (models/fetch.sh)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pre=$tmp/quire-gpu
mkdir -p "$pre"/{bin,lib/openmpi,lib/pmix,share,etc,models,tensors}

# ---- programs ----
for f in "$quire" "$plugin" "$nn_bench" "${tests[@]}"; do
    install -m 755 "$f" "$pre/bin/"
done
ompi_lib=/usr/lib/x86_64-linux-gnu/openmpi/lib/openmpi3
pmix_root=/usr/lib/x86_64-linux-gnu/pmix2
[[ -d $ompi_lib && -d $pmix_root ]] || die "Debian's Open MPI runtime (openmpi-bin) is not installed"
install -m 755 "$(readlink -f /usr/bin/orterun)" "$pre/bin/mpirun"
install -m 755 "$(readlink -f /usr/bin/orted)" "$pre/bin/orted"
# A component is left out when it needs a fabric library the GPU machine has
# no use for; what is left needs only what lib/ will hold.
fabric='libucp|libuct|libucs|libucm|libfabric|libibverbs|librdmacm|libpsm|libinfinipath|libefa|libnl-'
# OpenSHMEM's components (and with them liboshmem) are not MPI's.
for f in "$ompi_lib"/*.so; do
    [[ $(basename "$f") =~ ^mca_(spml|sshmem|atomic|memheap|scoll)_ ]] && continue
    ldd "$f" 2>/dev/null | grep -Eq "$fabric" || install -m 644 "$f" "$pre/lib/openmpi/"
done
cp -a "$pmix_root"/lib/pmix/*.so "$pre/lib/pmix/"
cp -a /usr/share/openmpi "$pre/share/openmpi"
cp -a "$pmix_root/share/pmix" "$pre/share/pmix"
cp "$pmix_root/share/pmix-mca-params.conf" "$pre/share/"
cp /etc/openmpi/openmpi-mca-params.conf /etc/openmpi/openmpi-default-hostfile "$pre/etc/"

# ---- every shared library they load, but glibc's and CUDA's ----
# shellcheck source=bench/gpu/bundle_libs.sh
. "$root/bench/gpu/bundle_libs.sh"
mapfile -t elves < <(bundle_elves "$pre/bin" "$pre/lib")
declare -A seen=()
for f in "${elves[@]}"; do
    while read -r name _ path _; do
        [[ $name =~ $BUNDLE_GLIBC || $name =~ $BUNDLE_CUDA || -n ${seen[$name]:-} ]] && continue
        [[ $path == /* ]] || die "$(basename "$f") needs $name, which is not found here"
        seen[$name]=1
        cp -L "$path" "$pre/lib/$name"
    done < <(ldd "$f" 2>/dev/null | grep '=>')
done
# every symbol the plugin and the components resolve stays in .dynsym
strip --strip-all "$pre"/bin/* "$pre"/lib/*.so* "$pre"/lib/*/*.so

# ---- models, pages, tensors ----
(cd "$root/models" && while read -r sum file; do
    [[ -f $models/$file ]] || die "missing $models/$file (models/fetch.sh)"
    echo "$sum  $models/$file"
done <SHA256SUMS) | sha256sum --quiet -c - || die "a model in $models does not match models/SHA256SUMS"
(cd "$root/models" && awk '{print $2}' SHA256SUMS) | while read -r f; do cp "$models/$f" "$pre/models/"; done
cp "$root/models/SHA256SUMS" "$pre/models/"

echo "pack.sh: generating $pages scanned pages (tests/gen/gen_scans.py)"
/usr/bin/python3 "$root/tests/gen/gen_scans.py" "$tmp/scans" --bench "$pages" --bench-format tiff-g4 \
    --no-test-sets >"$tmp/gen.log" 2>&1 || { cat "$tmp/gen.log" >&2; die "gen_scans.py failed"; }
mkdir -p "$pre/pages/bench"
cp -a "$tmp/scans/bench/"*.tif "$pre/pages/bench/"
cp -a "$tmp/scans/truth.json" "$tmp/scans/truth" "$pre/pages/"
(cd "$pre/pages" && ls -1 bench/*.tif >manifest.txt)
/usr/bin/python3 "$root/tests/parity/make_inputs.py" "$pre/tensors" >"$tmp/inputs.log" 2>&1 ||
    { cat "$tmp/inputs.log" >&2; die "make_inputs.py failed"; }
for t in det_eurotext det_en_img_10 det_linn; do # det_bench is linn's page too
    rm "$pre/tensors/$t.npy"
    sed -i "/^$t\t/d" "$pre/tensors/manifest.tsv"
done

{
    echo "packed: $(date -u +%FT%TZ) from $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src kernels || echo ' (with uncommitted changes)')"
    echo "build: $build ($(grep -m1 '^CMAKE_BUILD_TYPE' "$build/CMakeCache.txt" | cut -d= -f2))"
    echo "cc: $(cc --version | head -1)"
    echo "nvcc: $(nvcc --version 2>/dev/null | tail -1)"
    echo "cuda arch: $(grep -m1 '^CMAKE_CUDA_ARCHITECTURES' "$build/CMakeCache.txt" | cut -d= -f2)"
    echo "cudnn headers: $(awk '/define CUDNN_(MAJOR|MINOR|PATCHLEVEL) /{printf "%s.", $3}' \
        "$(grep -m1 '^CUDNN_INCLUDE_DIR' "$build/CMakeCache.txt" | cut -d= -f2)/cudnn_version.h" | sed 's/\.$//')"
    echo "open mpi: $(dpkg-query -W -f='${Version}' openmpi-bin)"
    echo "pages: $pages; tensors: $(cd "$pre/tensors" && ls ./*.npy | wc -l)"
} >"$pre/INFO"

mkdir -p "$out"
echo "pack.sh: compressing"
xz=(xz -T0 --x86 --lzma2=preset=9e)
((fast)) && xz=(xz -T0 -1)
tar -C "$tmp" -cf - quire-gpu | "${xz[@]}" >"$out/quire-gpu.tar.xz.part"
mv "$out/quire-gpu.tar.xz.part" "$out/quire-gpu.tar.xz"

mib() { awk -v b="$1" 'BEGIN{printf "%.1f", b/1048576}'; }
arch=$(stat -c %s "$out/quire-gpu.tar.xz")
tracked=$(git -C "$root" ls-files -z | (cd "$root" && xargs -0 stat -c %s 2>/dev/null) | awk '{s+=$1} END{print s+0}')
total=$((arch + tracked))
echo "pack.sh: $out/quire-gpu.tar.xz $(mib "$arch") MiB ($(du -sh "$pre" | cut -f1) unpacked);" \
    "tracked tree $(mib "$tracked") MiB; together $(mib "$total") MiB of 60"
if ((fast)); then
    echo "pack.sh: --fast: the 60 MiB check is left to a full pack"
else
    ((total <= 60 * 1048576)) || die "over 60 MiB: the device tool would refuse it"
fi
