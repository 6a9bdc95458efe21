#!/usr/bin/python3
"""Pages scanned sideways and upside down, with their truth: tests/e2e/rotate.sh.

    make_rotated.py SCANS OUTDIR

SCANS is a gen_scans.py output made with --no-test-sets --bench 2 (one
single-column and one two-column 300-dpi page). Written to OUTDIR/in/:
single_{0,90,180,270}.png and twocol_270.png, each bench page turned
counter-clockwise by that many degrees (PIL's rotate, exact for quarter turns),
so quire should read it turned clockwise by the same amount (/pages rotation);
label_{90,180}.png, a small image of one short line, whose few classifier votes
leave the decision to the recognizer. OUTDIR/truth.json maps each file to its
text, its upright twin (if made) and the expected rotation.
"""
import json
import os
import subprocess
import sys
import tempfile

from PIL import Image

LABEL = "Invoice 2024"


def label_page(path):
    """One short line drawn by reportlab, rasterized gray at 300 dpi by MuPDF."""
    from reportlab.pdfgen import canvas

    with tempfile.TemporaryDirectory() as tmp:
        pdf = os.path.join(tmp, "label.pdf")
        c = canvas.Canvas(pdf, pagesize=(220, 70), invariant=1)
        c.setFont("Helvetica", 22)
        c.drawString(20, 28, LABEL)
        c.save()
        subprocess.run(["mutool", "draw", "-q", "-r", "300", "-c", "gray", "-o", path, pdf],
                       check=True, stderr=subprocess.DEVNULL)  # "no ICC support": harmless


def main():
    scans, out = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(out, "in"), exist_ok=True)
    truth = json.load(open(os.path.join(scans, "truth.json")))
    text = {os.path.basename(d["file"]): d["text"] for d in truth["documents"]}
    pages = {"single": "p000_single.png", "twocol": "p001_twocol.png"}
    want = {"single": (0, 90, 180, 270), "twocol": (270,)}
    table = {}
    for name, src in pages.items():
        im = Image.open(os.path.join(scans, "bench", src))
        for a in want[name]:
            f = "%s_%d.png" % (name, a)
            im.rotate(a, expand=True).save(os.path.join(out, "in", f), dpi=(300, 300))
            twin = "%s_0.png" % name
            table[f] = {"text": text[src], "rotation": a, "upright": twin if 0 in want[name] else None}
    label = os.path.join(out, "label.png")
    label_page(label)
    im = Image.open(label)
    for a in (90, 180):
        f = "label_%d.png" % a
        im.rotate(a, expand=True).save(os.path.join(out, "in", f), dpi=(300, 300))
        table[f] = {"text": LABEL, "rotation": a, "upright": None}
    json.dump(table, open(os.path.join(out, "truth.json"), "w"), indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
