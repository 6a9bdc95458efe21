#!/usr/bin/python3
"""Write a damaged LZW TIFF: a scanned page whose pixel bytes are corrupted
with its header intact, as a bad disk or transfer leaves it.

    damaged_tiff.py PAGE OUT.tif [--seed N] [--bytes N] [--angle DEG] [--scale F]

PAGE (any image Pillow reads: gen_scans.py's pages) is turned by --angle
degrees (default 135: its lines then run at 45 degrees, where the detector's
boxes once came out with crossed corners and crashed the crop, issue 15),
scaled by --scale (default 0.5), written as an 8-bit gray LZW TIFF with 32
rows per strip, and then --bytes random bytes (default 3) in the last two
thirds of every strip are overwritten. A byte is kept only where the strip's LZW stream still decodes
to the strip's size, so that libtiff reads the page (as garbage) instead of
failing it: the damage reaches OCR. Deterministic for a seed.

Needs /usr/bin/python3 with python3-pil.
"""
import argparse
import random

from PIL import Image


def lzw_decodes(buf, need):
    """Whether a TIFF LZW stream (MSB first, 9-12 bit codes, early change)
    decodes without error to at least `need` bytes."""
    nbits = len(buf) * 8
    acc = int.from_bytes(buf, "big")
    pos, bits, nxt, prev, out = 0, 9, 258, None, 0
    lens = None
    while pos + bits <= nbits:
        code = (acc >> (nbits - pos - bits)) & ((1 << bits) - 1)
        pos += bits
        if code == 256:  # clear
            lens, nxt, bits, prev = [1] * 258, 258, 9, None
            continue
        if code == 257:  # end of information
            break
        if lens is None:
            return False
        if code < nxt:
            n = lens[code]
        elif code == nxt and prev is not None:
            n = lens[prev] + 1
        else:
            return False  # "code not yet in table": libtiff fails the strip
        if prev is not None:
            if nxt >= 4094:
                return False
            lens.append(lens[prev] + 1)
            nxt += 1
        out += n
        prev = code
        if out >= need:
            return True
        if nxt + 1 >= (1 << bits) and bits < 12:
            bits += 1
    return out >= need


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("page")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bytes", type=int, default=3)
    ap.add_argument("--angle", type=float, default=135)
    ap.add_argument("--scale", type=float, default=0.5)
    a = ap.parse_args()
    im = Image.open(a.page).convert("L")
    im = im.resize((max(1, round(im.width * a.scale)), max(1, round(im.height * a.scale))))
    im = im.rotate(a.angle, expand=True, fillcolor=255)
    im.save(a.out, compression="tiff_lzw", tiffinfo={278: 32})
    t = Image.open(a.out)
    offs, counts, rows = t.tag_v2[273], t.tag_v2[279], t.tag_v2[278]
    data = bytearray(open(a.out, "rb").read())
    rng = random.Random(a.seed)
    changed = 0
    for k, (o, c) in enumerate(zip(offs, counts)):
        need = min(rows, im.height - k * rows) * im.width
        for _ in range(a.bytes):
            for _try in range(20):
                i = o + c // 3 + rng.randrange(c - c // 3)  # late: more codes are valid
                old = data[i]
                data[i] = rng.randrange(256)
                if data[i] != old and lzw_decodes(bytes(data[o:o + c]), need):
                    changed += 1
                    break
                data[i] = old
    open(a.out, "wb").write(data)
    print(f"damaged_tiff: {im.width}x{im.height}, {len(offs)} strips, {changed} bytes changed "
          f"-> {a.out}")


if __name__ == "__main__":
    main()
