#!/usr/bin/env bash
# Words of born-digital PDFs against pdftotext (issue 14, items 3 and 4), on
# the real PDFs of ../shared/corpus/text_pdfs (CI has them; skipped where not):
#   groff   the GPL set by groff and kerned with spaces and negative word
#           spacing: "copyright" as often as in pdftotext's text, no line of
#           `quire text` beginning or ending with whitespace
#   corpus  every text PDF there: bag-of-words difference from pdftotext at
#           most 0.5 %, no line with edge whitespace
# tests/tools/wordbag.py does the comparison (and documents it).
. "$(dirname "$0")/lib.sh"
pdfs=$QUIRE_SRC/../shared/corpus/text_pdfs
[ -d "$pdfs" ] || { echo "SKIP: no $pdfs"; exit 77; }
command -v pdftotext >/dev/null || { echo "SKIP: pdftotext not installed"; exit 77; }
case ${1:-} in
groff) $PY "$TOOLS/wordbag.py" --quire "$QUIRE_BIN" --word copyright --same-count --clean-edges \
         "$pdfs/groff-gpl2-2col.pdf" || fail "copyright count or edge spaces (table above)" ;;
corpus) $PY "$TOOLS/wordbag.py" --quire "$QUIRE_BIN" --max-diff 0.5 --clean-edges -v "$pdfs" ||
          fail "bag of words differs from pdftotext's by more than 0.5 % (table above)" ;;
*) fail "usage: text_words.sh groff|corpus" ;;
esac
