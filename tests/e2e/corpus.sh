#!/usr/bin/env bash
# Fixture: the project's generated corpus (known text, bad inputs) for every e2e test.
. "$(dirname "$0")/lib.sh"
rm -rf "$E2E_WORK/corpus"
mkdir -p "$E2E_WORK"
"$PY" "$QUIRE_SRC/tests/gen/gen_corpus.py" "$E2E_WORK/corpus" --bad --seed 7
