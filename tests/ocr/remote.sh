#!/bin/sh
# tests/ocr/test_remote.c on two generated scanned pages (a single-column and
# a two-column one, tests/gen/gen_scans.py); skipped (77) without the models.
set -u
T=${QUIRE_TMP:?}
rm -rf "$T" && mkdir -p "$T" || exit 1
/usr/bin/python3 "${QUIRE_SRC:?}/tests/gen/gen_scans.py" "$T/scans" --seed 5 --no-test-sets --bench 2 \
  >/dev/null || exit 1
exec "${REMOTE_BIN:?}" "$T"/scans/bench/*.png
