#!/usr/bin/python3
"""Seed corpora for the fuzz targets, made by the project's generators.

    seeds.py OUTDIR [--models DIR]

Writes OUTDIR/<target>/ for pdf, tiff, png, jpeg, onnx and ocrpost (the
target names of tests/fuzz/CMakeLists.txt). Seeds are small on purpose: a
fuzzer mutates kilobytes faster than megabytes.

  pdf      gen_corpus.py's documents (the small ones) and bad inputs, and
           image-only PDFs of small pages (gen_scans.image_pdf: Flate gray,
           JPEG inside, a text page with a scan);
  tiff     small pages in every compression and pixel layout Pillow writes
           (raw, LZW, PackBits, Deflate, JPEG, CCITT G3/G4; bilevel, gray,
           16-bit, palette, RGB, RGBA, CMYK), multi-page, and damaged_tiff.py's
           damaged LZW strip;
  png      gray, bilevel, palette with transparency, RGB(A), 16-bit, with and
           without pHYs, and gen_corpus.py's hand-written tiny PNG;
  jpeg     gray, RGB, CMYK, progressive, subsampled, with and without JFIF
           density;
  onnx     hand-made one- and few-node models of the ops quire supports, and
           the orientation model (0.6 MB) when --models has it;
  ocrpost  a few inputs per stage of fuzz_ocrpost.c (byte layout there).

Deterministic. Needs /usr/bin/python3 with python3-pil and python3-reportlab
(scripts/deps-test.txt).
"""
import argparse
import io
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "..", "gen")
sys.path.insert(0, GEN)
import gen_corpus as gc  # noqa: E402
import gen_scans as gs  # noqa: E402


def page(w=96, h=64, mode="L", seed=1):
    """A small page with a few lines of text-like ink."""
    rng = random.Random(seed)
    im = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(im)
    for y in range(6, h - 10, 14):
        d.text((4, y), " ".join(rng.choice(["quire", "Table", "105", "ocr", "A4"]) for _ in range(3)),
               fill=(rng.randrange(80), rng.randrange(80), rng.randrange(120)))
    if mode == "I;16":  # Pillow converts to 16-bit only from 32-bit integers
        return im.convert("L").point(lambda v: v * 257, "I").convert(mode)
    return im.convert(mode)


def save(path, im, **kw):
    im.save(path, **kw)


def pdf_seeds(out, tmp):
    gc_out = os.path.join(tmp, "corpus")
    subprocess.run([sys.executable, os.path.join(GEN, "gen_corpus.py"), gc_out, "--docs", "16", "--bad"],
                   check=True, stdout=subprocess.DEVNULL)
    for sub in ("docs", "bad"):
        for name in sorted(os.listdir(os.path.join(gc_out, sub))):
            src = os.path.join(gc_out, sub, name)
            if os.path.isfile(src) and not os.path.islink(src) and 0 < os.path.getsize(src) <= 16384:
                shutil.copy(src, os.path.join(out, sub + "_" + name))
    gray, rgb = page(120, 80), page(120, 80, "RGB", 2)
    jpg = io.BytesIO()
    rgb.save(jpg, "JPEG", quality=50)
    gs.image_pdf(os.path.join(out, "scan_flate.pdf"), [(gray, 100, None)])
    gs.image_pdf(os.path.join(out, "scan_jpeg_2pages.pdf"), [(rgb, 100, jpg.getvalue()), (gray, 72, None)])
    gs.image_pdf(os.path.join(out, "scan_bilevel.pdf"), [(page(120, 80, "1", 3), 100, None)])
    c = gs.canvas.Canvas(os.path.join(out, "text_and_scan.pdf"), invariant=1, pageCompression=1)
    c.setPageSize((200, 150))
    c.setFont("Helvetica", 10)
    c.drawString(10, 130, "A text line above a scan.")
    c.drawImage(gs.ImageReader(gray), 10, 10, 120, 80)
    c.showPage()
    c.save()


def tiff_seeds(out, tmp):
    gray, rgb, bw = page(), page(mode="RGB", seed=2), page(mode="1", seed=3)
    variants = [
        ("raw_gray", gray, dict(compression="raw")),
        ("lzw_gray", gray, dict(compression="tiff_lzw", dpi=(200, 200))),
        ("lzw_rgb_strips", rgb, dict(compression="tiff_lzw", tiffinfo={278: 8})),
        ("packbits_gray", gray, dict(compression="packbits")),
        ("deflate_rgb", rgb, dict(compression="tiff_deflate")),
        ("adobe_deflate_rgba", page(mode="RGBA", seed=4), dict(compression="tiff_adobe_deflate")),
        ("jpeg_rgb", rgb, dict(compression="jpeg", quality=60)),
        ("jpeg_gray", gray, dict(compression="jpeg")),
        ("g3_bw", bw, dict(compression="group3", dpi=(204, 196))),
        ("g4_bw_minwhite", bw, dict(compression="group4", tiffinfo={262: 0})),
        ("raw_bw", bw, dict(compression="raw")),
        ("palette", page(mode="P", seed=5), dict(compression="raw")),
        ("cmyk", page(mode="CMYK", seed=6), dict(compression="tiff_lzw")),
        ("gray16", page(mode="I;16", seed=7), dict(compression="raw")),
    ]
    for name, im, kw in variants:
        save(os.path.join(out, name + ".tif"), im, format="TIFF", **kw)
    gray.save(os.path.join(out, "multipage_lzw_g4.tif"), "TIFF", compression="tiff_lzw", save_all=True,
              append_images=[bw.convert("L"), page(60, 40, seed=8)])
    bw.save(os.path.join(out, "multipage_g4.tif"), "TIFF", compression="group4", save_all=True,
            append_images=[page(mode="1", seed=9)])
    src = os.path.join(tmp, "page.png")
    page(160, 120, seed=10).save(src)
    subprocess.run([sys.executable, os.path.join(GEN, "damaged_tiff.py"), src,
                    os.path.join(out, "damaged_lzw.tif"), "--scale", "1"], check=True,
                   stdout=subprocess.DEVNULL)


def png_seeds(out):
    pal = page(mode="P", seed=5)
    pal.info["transparency"] = 0
    variants = [
        ("gray", page(), {}),
        ("gray_300dpi", page(), dict(dpi=(300, 300))),
        ("bw", page(mode="1", seed=3), {}),
        ("la", page(mode="LA", seed=4), {}),
        ("palette_trns", pal, {}),
        ("rgb_150dpi", page(mode="RGB", seed=2), dict(dpi=(150, 150))),
        ("rgba", page(mode="RGBA", seed=6), {}),
        ("gray16", page(mode="I;16", seed=7), {}),
    ]
    for name, im, kw in variants:
        save(os.path.join(out, name + ".png"), im, format="PNG", **kw)
    with open(os.path.join(out, "tiny_handmade.png"), "wb") as f:
        f.write(gc.tiny_png())


def jpeg_seeds(out):
    rgb = page(mode="RGB", seed=2)
    variants = [
        ("gray", page(), dict(quality=70)),
        ("rgb_300dpi", rgb, dict(quality=90, dpi=(300, 300))),
        ("rgb_444", rgb, dict(subsampling=0)),
        ("rgb_420_q20", rgb, dict(subsampling=2, quality=20)),
        ("progressive", rgb, dict(progressive=True, dpi=(72, 72))),
        ("optimized", page(seed=11), dict(optimize=True)),
        ("cmyk", page(mode="CMYK", seed=6), {}),
    ]
    for name, im, kw in variants:
        save(os.path.join(out, name + ".jpg"), im, format="JPEG", **kw)


# ---- ONNX, in protobuf wire format (the fields of onnx.proto) ---------------

def varint(n):
    b = bytearray()
    while True:
        c, n = n & 0x7F, n >> 7
        b.append(c | (0x80 if n else 0))
        if not n:
            return bytes(b)


def fld(num, v):
    if isinstance(v, int):
        return varint(num << 3) + varint(v & (2**64 - 1))
    if isinstance(v, str):
        v = v.encode()
    return varint(num << 3 | 2) + varint(len(v)) + v


def tensor(name, dims, vals, dtype=1):
    fmt = "<%d%s" % (len(vals), "f" if dtype == 1 else "q")
    return (b"".join(fld(1, d) for d in dims) + fld(2, dtype) + fld(8, name)
            + fld(9, struct.pack(fmt, *vals)))


def attr(name, v):
    if isinstance(v, float):
        return fld(1, name) + varint(2 << 3 | 5) + struct.pack("<f", v) + fld(20, 1)
    if isinstance(v, int):
        return fld(1, name) + fld(3, v) + fld(20, 2)
    if isinstance(v, str):
        return fld(1, name) + fld(4, v) + fld(20, 3)
    if isinstance(v, bytes):  # a TensorProto
        return fld(1, name) + fld(5, v) + fld(20, 4)
    return fld(1, name) + b"".join(fld(8, i) for i in v) + fld(20, 7)


def node(op, ins, outs, **attrs):
    return (b"".join(fld(1, i) for i in ins) + b"".join(fld(2, o) for o in outs) + fld(3, op + "_0")
            + fld(4, op) + b"".join(fld(5, attr(k, v)) for k, v in attrs.items()))


def value_info(name, dims):
    shape = b"".join(fld(1, fld(1, d) if isinstance(d, int) else fld(2, d)) for d in dims)
    return fld(1, name) + fld(2, fld(1, fld(1, 1) + fld(2, shape)))


def model(nodes, inits=(), x=(1, 3, 8, 8), opset=13):
    graph = (b"".join(fld(1, n) for n in nodes) + fld(2, "g") + b"".join(fld(5, t) for t in inits)
             + fld(11, value_info("x", x)) + fld(12, value_info("y", [])))
    return fld(1, 8) + fld(8, fld(2, opset)) + fld(7, graph)


def onnx_seeds(out, models):
    w = [((i * 7) % 11 - 5) / 10.0 for i in range(2 * 3 * 3 * 3)]
    ms = {
        "relu": model([node("Relu", ["x"], ["y"])]),
        "sigmoid_symbolic": model([node("Sigmoid", ["x"], ["y"])], x=("N", 3, "H", "W")),
        "hardswish": model([node("HardSwish", ["x"], ["y"])]),
        "softmax": model([node("Softmax", ["x"], ["y"], axis=-1)]),
        "transpose": model([node("Transpose", ["x"], ["y"], perm=[0, 2, 3, 1])]),
        "gap": model([node("GlobalAveragePool", ["x"], ["y"])]),
        "conv_bn_relu": model(
            [node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
             node("BatchNormalization", ["c", "s", "bb", "m", "v"], ["n"], epsilon=1e-5),
             node("Relu", ["n"], ["y"])],
            [tensor("w", [2, 3, 3, 3], w), tensor("b", [2], [0.1, -0.1]), tensor("s", [2], [1.0, 0.5]),
             tensor("bb", [2], [0.0, 0.2]), tensor("m", [2], [0.1, 0.0]), tensor("v", [2], [1.0, 2.0])]),
        "add_const": model([node("Add", ["x", "k"], ["y"])], [tensor("k", [1], [0.5])]),
        "matmul": model([node("MatMul", ["x", "k"], ["y"])], [tensor("k", [8, 4], [0.25] * 32)]),
        "reshape": model([node("Reshape", ["x", "s"], ["y"])], [tensor("s", [2], [1, -1], 7)]),
        "concat": model([node("Concat", ["x", "x"], ["y"], axis=1)]),
        "resize": model([node("Resize", ["x", "r", "sc"], ["y"], mode="nearest")],
                        [tensor("r", [0], []), tensor("sc", [4], [1.0, 1.0, 2.0, 2.0])]),
        "slice": model([node("Slice", ["x", "st", "en", "ax"], ["y"])],
                       [tensor("st", [1], [1], 7), tensor("en", [1], [5], 7), tensor("ax", [1], [3], 7)]),
        "shape_gather": model([node("Shape", ["x"], ["s"]), node("Constant", [], ["i"],
                                                                  value=tensor("", [], [0], 7)),
                               node("Gather", ["s", "i"], ["g"], axis=0),
                               node("Unsqueeze", ["g", "ax"], ["u"]),
                               node("Concat", ["u", "m1"], ["shp"], axis=0),
                               node("Reshape", ["x", "shp"], ["y"])],
                              [tensor("ax", [1], [0], 7), tensor("m1", [1], [-1], 7)]),
        "pool_clip": model([node("MaxPool", ["x"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
                            node("Clip", ["p", "lo", "hi"], ["y"])],
                           [tensor("lo", [], [0.0]), tensor("hi", [], [6.0])]),
        "unsupported_op": model([node("NoSuchOp", ["x"], ["y"])]),
    }
    for name, b in ms.items():
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(b)
    cls = os.path.join(models or "", "ch_ppocr_mobile_v2.0_cls_infer.onnx")
    if models and os.path.isfile(cls):
        shutil.copy(cls, os.path.join(out, "ppocr_cls.onnx"))


def ocrpost_seeds(out):
    rng = random.Random(5)
    seeds = {}
    # stage 0: a 32x24 map with two text blobs, a NaN and an infinity, on a 320x240 page
    m = bytearray(32 * 24)
    for y in range(4, 9):
        m[y * 32 + 3: y * 32 + 28] = bytes([220] * 25)
    for y in range(14, 19):
        m[y * 32 + 6: y * 32 + 20] = bytes([200] * 14)
    m[6 * 32 + 10], m[16 * 32 + 8] = 240, 241
    seeds["db_blobs"] = bytes([0, 31, 23]) + struct.pack(">HH", 320, 240) + bytes([0]) + bytes(m)
    seeds["db_hostile_params"] = (bytes([0, 31, 23]) + struct.pack(">HH", 64, 48) + bytes([6, 240, 10])
                                  + struct.pack("<f", 1e6) + struct.pack(">H", 5) + bytes([0]) + bytes(m))
    seeds["db_noise"] = (bytes([0, 63, 63]) + struct.pack(">HH", 640, 640) + bytes([0])
                         + bytes(rng.choice([0, 0, 230, 240, 241, 242]) for _ in range(64 * 64)))
    # stage 1: a 200x100 image, an upright box, a 45-degree one, a box with a NaN corner
    def q(*pts):
        return bytes([0]) + b"".join(struct.pack(">H", int((v + 64) * 4)) for v in pts) + bytes([215])
    nan_box = bytes([1]) + struct.pack("<f", float("nan")) + b"".join(
        struct.pack(">H", int((v + 64) * 4)) for v in (10, 90, 10, 90, 40, 10, 40)) + bytes([215])
    seeds["crop_boxes"] = (bytes([1]) + struct.pack(">HH", 199, 99) + bytes([0])
                           + q(10, 20, 90, 20, 90, 40, 10, 40) + q(50, 10, 70, 30, 40, 60, 20, 40) + nan_box)
    # stage 2: 24 steps over the dictionary's 29 characters + blank + space
    probs = bytearray()
    for t in range(24):
        row = [0] * 31
        row[rng.randrange(31)] = 239
        probs += bytes(row)
    seeds["ctc_line"] = bytes([2, 23, 0]) + struct.pack(">H", 96) + bytes([31, 16, 0]) + bytes(probs)
    for name, b in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--models", help="folder of the OCR models (models/fetch.sh)")
    a = ap.parse_args()
    dirs = {t: os.path.join(a.outdir, t) for t in ("pdf", "tiff", "png", "jpeg", "onnx", "ocrpost")}
    for d in dirs.values():
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    with tempfile.TemporaryDirectory() as tmp:
        pdf_seeds(dirs["pdf"], tmp)
        tiff_seeds(dirs["tiff"], tmp)
    png_seeds(dirs["png"])
    jpeg_seeds(dirs["jpeg"])
    onnx_seeds(dirs["onnx"], a.models)
    ocrpost_seeds(dirs["ocrpost"])
    for t, d in dirs.items():
        files = os.listdir(d)
        print("%-8s %3d seeds, %7d bytes" % (t, len(files), sum(os.path.getsize(os.path.join(d, f)) for f in files)))


if __name__ == "__main__":
    main()
