"""Tiny one-page text PDFs for the end-to-end tests that need a few documents
fast (tests/e2e/retry.sh, repaired.sh), written without any PDF library:

    small_pdfs.py DIR

  good-1.pdf, good-2.pdf  well-formed, lines "good N line K"
  corrupt.pdf             a PDF header and then garbage: no document in it
  repaired.pdf            every xref offset 5 bytes off and startxref wrong:
                          MuPDF repairs it (rebuilds the xref) and reads the
                          lines "repaired line K" all the same
"""
import os
import sys


def pdf(lines, shift=0, startxref_off=0):
    """One page of Helvetica lines; xref offsets moved by `shift` bytes and
    startxref by `startxref_off` (0, 0: a correct file)."""
    body = b" ".join(b"(%s) '" % ln.encode() for ln in lines)
    content = b"BT /F1 12 Tf 72 720 Td 16 TL " + body + b" ET"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offsets:
        out += b"%010d 00000 n \n" % (o + shift)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1, xref + startxref_off)
    return bytes(out)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    files = {
        "good-1.pdf": pdf(["good 1 line %d" % k for k in range(1, 4)]),
        "good-2.pdf": pdf(["good 2 line %d" % k for k in range(1, 4)]),
        "corrupt.pdf": b"%PDF-1.4\n" + bytes(range(256)) * 4,
        "repaired.pdf": pdf(["repaired line %d" % k for k in range(1, 6)], shift=5,
                            startxref_off=7),
    }
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
