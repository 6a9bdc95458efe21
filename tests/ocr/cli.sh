#!/bin/sh
# quire ocr and quire text on images: help, usage errors (2), fatal errors (1)
# with one line naming the cause (missing or altered model files, unreadable
# input), and real pages read through the real models. The accuracy check on a
# corpus page with its ground truth runs when ../shared/corpus is present.
set -u
Q=${QUIRE_BIN:?}
SRC=${QUIRE_SRC:?}
M=${MODELS:?}
T=${QUIRE_TMP:?}
rm -rf "$T" && mkdir -p "$T" && cd "$T" || exit 1
[ -f "$M/ch_PP-OCRv4_det_infer.onnx" ] || { echo "models not fetched: skipped"; exit 77; }
fail=0
check() { # expected-status description command...
    want=$1; what=$2; shift 2
    "$@" >out.txt 2>err.txt; got=$?
    if [ "$got" != "$want" ]; then echo "FAIL $what: exit $got, want $want"; cat err.txt; fail=1; fi
    if [ "$want" = 1 ] && [ "$(wc -l <err.txt)" != 1 ]; then echo "FAIL $what: stderr is not one line"; cat err.txt; fail=1; fi
}
check 0 "help" "$Q" ocr --help
grep -q "det-side" out.txt || { echo "FAIL help does not list the OCR options"; fail=1; }
check 2 "no image" "$Q" ocr
check 2 "two images" "$Q" ocr a.png b.png
check 2 "bad --threads" "$Q" ocr --threads 0 a.png
check 2 "bad --det-side" "$Q" ocr --det-side 5 a.png
check 2 "bad --drop-score" "$Q" ocr --drop-score 1.5 a.png
check 2 "unknown option" "$Q" ocr --bogus a.png

# a page image with known text, made here with MuPDF: a PDF page rendered to PNG
cat >page.txt <<'TXT'
Quire reads scanned pages
The quick brown fox jumps over 13 lazy dogs.
TXT
/usr/bin/python3 - <<'PY' || { echo "FAIL cannot make the test page"; exit 1; }
from reportlab.pdfgen import canvas
c = canvas.Canvas("page.pdf", pagesize=(420, 160), invariant=1)
c.setFont("Helvetica", 16)
for i, line in enumerate(open("page.txt").read().splitlines()):
    c.drawString(24, 110 - 40 * i, line)
c.save()
PY
mutool draw -q -r 300 -c gray -o page.png page.pdf 2>/dev/null || { echo "FAIL mutool draw"; exit 1; }

check 0 "ocr a page" "$Q" ocr --models "$M" page.png
[ "$(wc -l <out.txt)" = 2 ] || { echo "FAIL want 2 lines:"; cat out.txt; fail=1; }
cut -f4 out.txt >got.txt
/usr/bin/python3 - "$SRC/tests/tools" <<'PY' || fail=1
import sys
sys.path.insert(0, sys.argv[1])
from textmetrics import collapse, levenshtein
want, got = collapse(open("page.txt").read()), collapse(open("got.txt").read())
cer = levenshtein(want, got) / len(want)
print(f"CER {cer:.4f}: {got!r}")
sys.exit(0 if cer <= 0.02 else 1)
PY
# columns: page, 4 corners, confidence in (0.5, 1]
awk -F'\t' '$1 != 1 || split($2, c, " ") != 4 || $3 < 0.5 || $3 > 1 { bad = 1 } END { exit bad }' out.txt ||
    { echo "FAIL output columns:"; cat out.txt; fail=1; }

# the same page through quire text (a PNG is all OCR) gives the same text
check 0 "text of an image" "$Q" text --models "$M" page.png
cmp -s got.txt out.txt || { echo "FAIL quire text differs from quire ocr:"; cat out.txt got.txt; fail=1; }

# a scanned PDF page (the PNG inside a PDF) and a PDF text page forced to OCR
/usr/bin/python3 - <<'PY' || { echo "FAIL cannot make the scanned PDF"; exit 1; }
from reportlab.pdfgen import canvas
from PIL import Image
w, h = Image.open("page.png").size
c = canvas.Canvas("scan.pdf", pagesize=(w * 72 / 300, h * 72 / 300), invariant=1)
c.drawImage("page.png", 0, 0, w * 72 / 300, h * 72 / 300)
c.save()
PY
check 0 "ocr a scanned PDF" "$Q" ocr --models "$M" scan.pdf
cut -f4 out.txt | cmp -s - got.txt || { echo "FAIL scanned PDF text differs:"; cat out.txt; fail=1; }
check 0 "ocr a text PDF" "$Q" ocr --models "$M" page.pdf
[ "$(wc -l <out.txt)" = 2 ] || { echo "FAIL text PDF forced to OCR:"; cat out.txt; fail=1; }

# fatal errors: one line, naming the file and what to do
check 1 "missing models" "$Q" ocr --models "$T/nowhere" page.png
grep -q "models/fetch.sh" err.txt || { echo "FAIL missing-model message"; cat err.txt; fail=1; }
mkdir -p altered && cp "$M"/* altered/
printf 'x' | dd of=altered/ch_PP-OCRv4_rec_infer.onnx bs=1 seek=5000 conv=notrunc 2>/dev/null
check 1 "altered model" "$Q" ocr --models altered page.png
grep -q "SHA-256" err.txt || { echo "FAIL altered-model message"; cat err.txt; fail=1; }
printf 'not an image' >junk.png
check 1 "not an image" "$Q" ocr --models "$M" junk.png
check 1 "missing file" "$Q" ocr --models "$M" nothere.png

# a corpus page with ground truth, when the shared corpus is here
S=${QUIRE_SHARED:-}
if [ -n "$S" ] && [ -f "$S/corpus/scans/phototest.tif" ]; then
    check 0 "ocr phototest.tif" "$Q" ocr --models "$M" "$S/corpus/scans/phototest.tif"
    cut -f4 out.txt >got.txt
    /usr/bin/python3 - "$SRC/tests/tools" "$S/corpus/gt/phototest.txt" <<'PY' || fail=1
import sys
sys.path.insert(0, sys.argv[1])
from textmetrics import collapse, levenshtein
want, got = collapse(open(sys.argv[2]).read()), collapse(open("got.txt").read())
cer = levenshtein(want, got) / len(want)
print(f"phototest.tif CER {cer:.4f}")
sys.exit(0 if cer <= 0.02 else 1)
PY
fi
[ $fail = 0 ] && echo "ocr_cli: all checks passed"
exit $fail
