#!/usr/bin/env bash
# Words of quire's text layer beside pdftotext's, on the same PDFs in the same
# run: per file the bag-of-words difference, the words each lacks, and how
# often one word ("copyright") occurs. The comparison and its one
# normalisation are tests/tools/wordbag.py's (its --help says which).
#
#   bench/text/words.sh [BUILD_DIR] [PDF|DIR...]
#       defaults: build, ../shared/corpus/text_pdfs; BENCH_WORD=WORD to count another
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
shift || true
[ -x "$build/quire" ] || { echo "words: no quire binary at $build/quire (build first)" >&2; exit 1; }
command -v pdftotext >/dev/null || { echo "words: pdftotext missing (scripts/install-deps.sh)" >&2; exit 1; }
[ $# -gt 0 ] || set -- "$root/../shared/corpus/text_pdfs"
echo "$(pdftotext -v 2>&1 | head -1), quire $(git -C "$root" describe --always --dirty), $(date -u +%F)"
echo
/usr/bin/python3 "$root/tests/tools/wordbag.py" --quire "$build/quire" --word "${BENCH_WORD:-copyright}" -v "$@"
