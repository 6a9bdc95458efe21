#!/usr/bin/python3
"""Generate quire's test corpus: born-digital PDFs whose text is known exactly.

    gen_corpus.py OUTDIR [--seed N] [--docs N] [--bad] [--scale-pages N]

Writes OUTDIR/docs/*.pdf (the main set), OUTDIR/bad/* (--bad: inputs that must
become status=error records), OUTDIR/bulk/*.pdf (--scale-pages: plain text for
benchmarks), OUTDIR/truth/*.txt (each document's expected plain text),
OUTDIR/manifest.txt (absolute paths of every input, for `quire run --manifest`)
and OUTDIR/truth.json (the ground truth; format in tests/gen/README.md).

Every line is drawn with one drawString call at a position chosen here, so the
expected lines, blocks and reading order are exact, not guessed from a layout
engine.  Output is byte-for-byte deterministic for a given seed (reportlab's
`invariant` mode fixes dates and document ids).

Needs /usr/bin/python3 with python3-reportlab (Debian); no other package.
"""
import argparse
import json
import os
import random
import shutil
import struct
import sys
import time
import zlib

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DEJAVU_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

# Page sizes (width, height) in points, portrait as the reader sees them.
SIZES = {
    "letter": (612.0, 792.0),
    "a4": (595.2756, 841.8898),
    "a5": (419.5276, 595.2756),
    "legal": (612.0, 1008.0),
}

# Word pools.  English words avoid "fi"/"fl"/"ff" so that no extractor can
# mistake them for ligature candidates, and contain no hyphens (some extractors
# join hyphenated line ends).
ENGLISH = """
archive campaign document river mountain paper letter number window garden
system record station harbour between morning evening library reading
question answer history science market village country summer winter autumn
spring yellow purple orange silver golden copper marble timber stone water
bridge tower castle island valley forest meadow ocean planet rocket engine
signal network cluster process memory thread kernel matrix vector tensor
column table index journal shard report result output input storage
capital council budget policy minister travel journey holiday market people
family friend teacher student doctor lawyer farmer painter singer writer
quiet simple honest modest gentle brave clever narrow broad steady rapid
ancient modern public private central northern southern eastern western
building street corner square avenue station airport railway platform ticket
button keyboard monitor printer scanner camera picture drawing sketch model
measure weight height length volume pressure balance energy motion current
bottle basket bucket candle carpet curtain pillow blanket ladder hammer
orchard harvest barley wheat cotton linen velvet leather rubber plastic
thunder lightning rainbow shadow mirror crystal diamond emerald sapphire
""".split()

ACCENTED = """
café über niño søster œuvre naïve façade Zürich São Ålesund crème brûlée
déjà señor Köln Straße Æble Øresund mañana jalapeño résumé Müller Göteborg
Bjørn cœur sœur Noël Grüße français España Málaga Ørsted Genève Besançon
Pâques garçon élève Señora Añejo Sørensen Dvořák Łódź Kraków Škoda
""".split()
# Words Helvetica/Times/Courier (WinAnsiEncoding) cannot show are only used
# with the embedded DejaVu fonts.
ACCENTED_WINANSI = []
for _w in ACCENTED:
    try:
        _w.encode("cp1252")
        ACCENTED_WINANSI.append(_w)
    except UnicodeEncodeError:
        pass

GREEK = """
καλημέρα κόσμος γλώσσα ιστορία βιβλίο θάλασσα ήλιος φως νερό δρόμος σπίτι
χρόνος άνθρωπος πόλη λέξη αρχείο κείμενο σελίδα γράμμα μουσική ουρανός
βουνό ποτάμι δέντρο λουλούδι φίλος δάσκαλος μαθητής αριθμός επιστήμη
""".split()

CHINESE = """
中国 文本 提取 数据 计算 科学 研究 发展 系统 方法 问题 工作 时间 社会 经济
文化 历史 语言 世界 技术 信息 网络 学习 教育 城市 自然 环境 生活 国家 人民
图书馆 档案 文件 扫描 识别 字符 页面 结果 管理 服务 项目 资料 内容 目录
""".split()

BODY_FONTS = ["Helvetica", "Times-Roman", "Courier", "DejaVuSans"]
HEAD_FONTS = {"Helvetica": "Helvetica-Bold", "Times-Roman": "Times-Bold",
              "Courier": "Courier-Bold", "DejaVuSans": "DejaVuSans-Bold",
              "STSong-Light": "STSong-Light"}


def register_fonts():
    pdfmetrics.registerFont(TTFont("DejaVuSans", DEJAVU))
    pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", DEJAVU_BOLD))
    # A CID font from reportlab's built-in Adobe-GB1 metrics: not embedded,
    # text comes out through the standard UniGB-UCS2-H CMap (MuPDF has it
    # built in; poppler needs poppler-data).
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))


class Words:
    """Deterministic pseudo-random text in one 'language'."""

    def __init__(self, rng, lang, font):
        self.rng = rng
        self.lang = lang
        self.latin = ACCENTED if font.startswith("DejaVu") else ACCENTED_WINANSI

    def word(self):
        r = self.rng.random()
        if self.lang == "greek" and r < 0.7:
            return self.rng.choice(GREEK)
        if self.lang in ("accented", "greek") and r < 0.85:
            return self.rng.choice(self.latin)
        if self.lang == "mixed" and r < 0.15:
            return self.rng.choice(self.latin)
        if self.rng.random() < 0.06:
            return str(self.rng.randint(1, 2099))
        return self.rng.choice(ENGLISH)

    def sentence_words(self):
        """Words of one sentence, capitalised, with punctuation attached."""
        if self.lang == "chinese":
            n = self.rng.randint(4, 12)
            s = "".join(self.rng.choice(CHINESE) + ("，" if self.rng.random() < 0.2 else "")
                        for _ in range(n)).rstrip("，") + "。"
            # Chinese is broken into lines per character, not per word.
            return list(s)
        n = self.rng.randint(5, 14)
        ws = [self.word() for _ in range(n)]
        ws[0] = ws[0][:1].upper() + ws[0][1:]
        for i in range(1, n - 1):
            if self.rng.random() < 0.08:
                ws[i] += ","
        ws[-1] += self.rng.choice(".....?!")
        return ws

    def title(self, n_words):
        if self.lang == "chinese":
            return "".join(self.rng.choice(CHINESE) for _ in range(n_words))
        ws = [self.word() for _ in range(n_words)]
        return " ".join(w[:1].upper() + w[1:] for w in ws)


def wrap(tokens, font, size, width, cjk):
    """Greedy line breaking; returns the lines of one paragraph."""
    sep = "" if cjk else " "
    lines, cur = [], ""
    for t in tokens:
        cand = cur + sep + t if cur else t
        if cur and pdfmetrics.stringWidth(cand, font, size) > width:
            lines.append(cur)
            cur = t
        else:
            cur = cand
    if cur:
        lines.append(cur)
    return lines


def page_matrix(rotation, mw, mh):
    """cm matrix mapping display coordinates (origin bottom-left of the page
    as the reader sees it) to MediaBox coordinates, for /Rotate rotation.
    This is how real landscape pages are often made: a portrait MediaBox,
    /Rotate 90, and content drawn sideways so it reads upright."""
    return {0: (1, 0, 0, 1, 0, 0),
            90: (0, 1, -1, 0, mw, 0),
            180: (-1, 0, 0, -1, mw, mh),
            270: (0, -1, 1, 0, 0, mh)}[rotation]


class PageWriter:
    """Lays out one page: records every line drawn into blocks."""

    def __init__(self, c, dw, dh, rotation):
        self.c, self.dw, self.dh = c, dw, dh
        self.blocks = []

    def block(self, role, font, size, lines, x, y_top, leading):
        """Draw lines of one block; y_top is the first baseline (display
        coordinates, bottom-up).  Returns the baseline after the block."""
        asc, desc = pdfmetrics.getAscentDescent(font, size)
        bboxes = []
        self.c.setFont(font, size)
        y = y_top
        for ln in lines:
            self.c.drawString(x, y, ln)
            w = pdfmetrics.stringWidth(ln, font, size)
            # top-left origin, as quire stores boxes
            bboxes.append([round(x, 2), round(self.dh - (y + asc), 2),
                           round(x + w, 2), round(self.dh - (y + desc), 2)])
            y -= leading
        self.blocks.append({"role": role, "font": font, "size": size,
                            "lines": list(lines), "bboxes": bboxes})
        return y


def title_lines(words, font, size, width, n_words):
    t = words.title(n_words)
    cjk = words.lang == "chinese"
    return wrap(list(t) if cjk else t.split(), font, size, width, cjk)


def paragraph_lines(words, font, size, width, rng):
    cjk = words.lang == "chinese"
    tokens = []
    for _ in range(rng.randint(1, 4)):
        tokens += words.sentence_words()
    return wrap(tokens, font, size, width, cjk)


def lay_single(pw, rng, words, font, size, margin, with_title):
    """Single column: optional title, then headings and paragraphs."""
    head = HEAD_FONTS[font]
    lead = round(size * rng.uniform(1.2, 1.45), 2)
    x0, width = margin, pw.dw - 2 * margin
    y = pw.dh - margin - size
    bottom = margin
    if with_title:
        ts = rng.choice([18, 20, 22, 24])
        t = title_lines(words, head, ts, width, rng.randint(2, 5))
        y = pw.block("title", head, ts, t, x0, pw.dh - margin - ts, ts * 1.3) - ts * 0.6
    while True:
        if rng.random() < 0.3:
            hs = rng.choice([12, 14, 16])
            if y - hs * 2 < bottom:
                break
            y = pw.block("heading", head, hs, title_lines(words, head, hs, width, rng.randint(1, 4)),
                         x0, y - hs * 0.4, hs * 1.3) - hs * 0.3
        lines = paragraph_lines(words, font, size, width, rng)
        room = int((y - bottom) // lead)
        if room < 2:
            break
        lines = lines[:room]
        y = pw.block("paragraph", font, size, lines, x0, y, lead) - lead * rng.uniform(0.6, 1.2)


def lay_two_columns(pw, rng, words, font, size, margin):
    """Full-width title, then two columns filled left first; a paragraph never
    crosses a column, so each block is one column's paragraph."""
    head = HEAD_FONTS[font]
    ts = rng.choice([18, 20, 24])
    width = pw.dw - 2 * margin
    t = title_lines(words, head, ts, width, rng.randint(3, 6))
    y = pw.block("title", head, ts, t, margin, pw.dh - margin - ts, ts * 1.3) - ts * 0.8
    gutter = rng.choice([24.0, 30.0, 36.0])
    colw = (width - gutter) / 2
    lead = round(size * rng.uniform(1.2, 1.4), 2)
    top = y
    for col in range(2):
        x0 = margin + col * (colw + gutter)
        y = top
        while True:
            lines = paragraph_lines(words, font, size, colw, rng)
            room = int((y - margin) // lead)
            if room < 2:
                break
            y = pw.block("paragraph", font, size, lines[:room], x0, y, lead) - lead * 0.9


def make_pdf(path, pages_spec, rng):
    """pages_spec: list of dicts with size/rotation/layout/font/lang (and
    optionally words: a factory like Words, called (rng, lang, font)).  Returns
    the per-page truth."""
    c = canvas.Canvas(path, invariant=1, pageCompression=1)
    c.setTitle(os.path.basename(path))
    out = []
    for i, sp in enumerate(pages_spec):
        pw_, ph_ = sp["size"]          # MediaBox (unrotated)
        rot = sp["rotation"]
        dw, dh = (ph_, pw_) if rot in (90, 270) else (pw_, ph_)
        # reportlab's pagesize is the displayed size: with /Rotate 90 or 270
        # it writes MediaBox [0 0 h w] itself.
        c.setPageSize((dw, dh))
        c.setPageRotation(rot)
        c.saveState()
        c.transform(*page_matrix(rot, pw_, ph_))
        pw = PageWriter(c, dw, dh, rot)
        # "words": another text source with Words' interface (gen_scans.py --lang)
        words = sp.get("words", Words)(rng, sp["lang"], sp["font"])
        margin = rng.choice([48.0, 54.0, 72.0])
        if sp["layout"] == "two-column":
            lay_two_columns(pw, rng, words, sp["font"], sp["body"], margin)
        elif sp["layout"] == "single":
            lay_single(pw, rng, words, sp["font"], sp["body"], margin, with_title=(i == 0))
        # layout "blank": nothing drawn; expected kind "empty"
        c.restoreState()
        c.showPage()
        out.append({"page": i, "width": round(dw, 4), "height": round(dh, 4), "rotation": rot,
                    "mediabox": [round(pw_, 4), round(ph_, 4)],
                    "kind": "text" if pw.blocks else "empty", "layout": sp["layout"],
                    "blocks": pw.blocks})
    c.save()
    return out


def plain_text(page_data):
    """DESIGN.md §3: lines joined by \\n, a blank line between blocks (and so
    between pages)."""
    blocks = ["\n".join(b["lines"]) for p in page_data for b in p["blocks"]]
    return "\n\n".join(blocks)


# ---- the main set -------------------------------------------------------

# The first documents are fixed so that every feature is present whatever
# --docs and the seed are; the rest are drawn at random.
FIXED = [
    dict(name="single_helvetica", font="Helvetica", lang="english", layout="single", pages=1),
    dict(name="single_times", font="Times-Roman", lang="mixed", layout="single", pages=3),
    dict(name="single_courier", font="Courier", lang="english", layout="single", pages=2),
    dict(name="single_dejavu", font="DejaVuSans", lang="accented", layout="single", pages=2),
    dict(name="twocol_times", font="Times-Roman", lang="english", layout="two-column", pages=2),
    dict(name="twocol_dejavu", font="DejaVuSans", lang="mixed", layout="two-column", pages=1),
    dict(name="rotated90", font="Helvetica", lang="english", layout="single", pages=2, rotation=90),
    dict(name="rotated_mix", font="Times-Roman", lang="mixed", layout="single", pages=4,
         rotations=[0, 90, 180, 270]),
    dict(name="greek", font="DejaVuSans", lang="greek", layout="single", pages=2),
    dict(name="chinese", font="STSong-Light", lang="chinese", layout="single", pages=2),
    dict(name="long12", font="Helvetica", lang="mixed", layout="mixed", pages=12),
    dict(name="tiny_fonts", font="Helvetica", lang="english", layout="single", pages=1, body=8),
    dict(name="large_fonts", font="Times-Roman", lang="english", layout="single", pages=2, body=16),
    dict(name="with_blank_page", font="Courier", lang="english", layout="single", pages=3,
         blank=[1]),
    dict(name="sizes_mixed", font="DejaVuSans", lang="accented", layout="single", pages=4,
         sizes=["a4", "a5", "legal", "letter"]),
]


def doc_specs(rng, n_docs):
    specs = [dict(s) for s in FIXED[:n_docs]]
    for i in range(len(specs), n_docs):
        font = rng.choice(BODY_FONTS + ["DejaVuSans"])
        lang = rng.choice(["english", "mixed", "accented"] + (["greek"] if font.startswith("DejaVu") else []))
        if rng.random() < 0.08:
            font, lang = "STSong-Light", "chinese"
        specs.append(dict(name="random", font=font, lang=lang,
                          layout=rng.choice(["single", "single", "two-column", "mixed"]),
                          pages=min(12, max(1, int(rng.expovariate(1 / 4.3)) + 1)),
                          rotation=90 if rng.random() < 0.12 else 0))
    return specs


def pages_for(spec, rng):
    out = []
    size = rng.choice(["letter", "a4", "letter", "a4", "a5"])
    body = spec.get("body") or rng.choice([8, 9, 10, 10, 11, 12, 12, 14])
    for p in range(spec["pages"]):
        layout = spec["layout"]
        if layout == "mixed":
            layout = "two-column" if p % 3 == 1 else "single"
        if p in spec.get("blank", []):
            layout = "blank"
        rot = spec["rotations"][p] if "rotations" in spec else spec.get("rotation", 0)
        sz = SIZES[spec["sizes"][p]] if "sizes" in spec else SIZES[size]
        out.append(dict(size=sz, rotation=rot, layout=layout, font=spec["font"],
                        lang=spec["lang"], body=body))
    return out


def doc_entry(outdir, rel, page_data, features, keep_blocks=True):
    text = plain_text(page_data)
    tdir = os.path.join(outdir, "truth")
    os.makedirs(tdir, exist_ok=True)
    with open(os.path.join(tdir, rel.replace("/", "__") + ".txt"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    if not keep_blocks:
        for p in page_data:
            p["lines"] = sum(len(b["lines"]) for b in p["blocks"])
            del p["blocks"]
    return {"file": rel, "set": rel.split("/")[0], "status": "ok", "accept_status": ["ok"],
            "bytes": os.path.getsize(os.path.join(outdir, rel)), "pages": len(page_data),
            "features": features, "page_data": page_data, "text": text}


def gen_main(outdir, rng, n_docs):
    os.makedirs(os.path.join(outdir, "docs"), exist_ok=True)
    docs = []
    for i, spec in enumerate(doc_specs(rng, n_docs)):
        rel = "docs/d%03d_%s.pdf" % (i, spec["name"])
        pages = pages_for(spec, rng)
        page_data = make_pdf(os.path.join(outdir, rel), pages, rng)
        feats = sorted({spec["font"], spec["lang"]} | {p["layout"] for p in page_data}
                       | {"rot%d" % p["rotation"] for p in page_data})
        docs.append(doc_entry(outdir, rel, page_data, feats))
    return docs


# ---- bad inputs ---------------------------------------------------------

def tiny_png():
    """A valid 4x4 grey PNG, written by hand (no imaging library needed)."""
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    raw = b"".join(b"\x00" + bytes([0x80] * 4) for _ in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def gen_bad(outdir, rng):
    bad = os.path.join(outdir, "bad")
    os.makedirs(bad, exist_ok=True)
    # a healthy two-page source for the damaged variants
    src = os.path.join(bad, ".source.tmp")
    make_pdf(src, pages_for(dict(font="Helvetica", lang="english", layout="single", pages=3), rng), rng)
    with open(src, "rb") as f:
        good = f.read()
    os.unlink(src)
    entries = []

    def add(name, why, accept=("error",)):
        entries.append({"file": "bad/" + name, "set": "bad", "status": "error", "accept_status": list(accept),
                        "why": why, "bytes": os.path.getsize(os.path.join(bad, name))
                        if os.path.exists(os.path.join(bad, name)) else None,
                        "pages": 0, "features": ["bad"], "page_data": [], "text": ""})

    open(os.path.join(bad, "zero.pdf"), "wb").close()
    add("zero.pdf", "zero-byte file")
    with open(os.path.join(bad, "truncated.pdf"), "wb") as f:
        f.write(good[: len(good) * 4 // 10])
    # MuPDF repairs the next two and recovers some pages: quire keeps those
    # pages but the document's status is error (text was lost).
    add("truncated.pdf", "first 40% of a valid PDF")
    with open(os.path.join(bad, "garbage.pdf"), "wb") as f:
        f.write(bytes(rng.getrandbits(8) for _ in range(20000)))
    add("garbage.pdf", "random bytes")
    third = len(good) // 3
    with open(os.path.join(bad, "overwritten.pdf"), "wb") as f:
        f.write(good[:third] + bytes(rng.getrandbits(8) for _ in range(third)) + good[2 * third:])
    add("overwritten.pdf", "valid PDF with its middle third overwritten by random bytes")
    c = canvas.Canvas(os.path.join(bad, "encrypted.pdf"), invariant=1, encrypt="secret-user-pw")
    c.setFont("Helvetica", 12)
    c.drawString(72, 700, "This text is behind a user password.")
    c.showPage()
    c.save()
    add("encrypted.pdf", "encrypted with a user password")
    with open(os.path.join(bad, "png.pdf"), "wb") as f:
        f.write(tiny_png())
    add("png.pdf", "a PNG image named .pdf")
    # Recognised by its bytes, not its name: a valid (blank) image, so it is
    # read like any image -- one OCR page with no text -- not an error.
    entries[-1].update(status="ok", accept_status=["ok"], pages=1, features=["bad", "mislabelled"],
                       page_data=[{"page": 0, "kind": "ocr", "width": 0.96, "height": 0.96, "rotation": 0,
                                   "blocks": []}])
    os.symlink("no-such-target.pdf", os.path.join(bad, "missing.pdf"))
    add("missing.pdf", "symlink to a missing target (missing path)")
    # Walking bad/ must not descend into loop/back (it is bad/ again) forever:
    # the loop itself gets one record with status error (the contract),
    # and nothing below it may appear.
    os.makedirs(os.path.join(bad, "loop"), exist_ok=True)
    os.symlink("..", os.path.join(bad, "loop", "back"))
    add("loop/back", "directory symlink loop: bad/loop/back -> bad")
    entries[-1]["bytes"] = None
    no_record = [{"file": "bad/loop/back/", "why": "below the loop: a walker must not follow it"}]
    return entries, no_record


# ---- bulk set -----------------------------------------------------------

def gen_bulk(outdir, rng, total_pages):
    os.makedirs(os.path.join(outdir, "bulk"), exist_ok=True)
    docs, done, i = [], 0, 0
    while done < total_pages:
        n = min(total_pages - done, rng.choice([1, 1, 2, 3, 5, 8, 10, 20, 40]))
        font = rng.choice(["Helvetica", "Times-Roman", "Courier", "DejaVuSans"])
        spec = dict(font=font, lang=rng.choice(["english", "mixed"]), layout="single", pages=n)
        rel = "bulk/b%05d.pdf" % i
        page_data = make_pdf(os.path.join(outdir, rel), pages_for(spec, rng), rng)
        docs.append(doc_entry(outdir, rel, page_data, ["bulk", font], keep_blocks=False))
        done += n
        i += 1
    return docs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--docs", type=int, default=40, help="documents in the main set (default 40)")
    ap.add_argument("--bad", action="store_true", help="also write bad inputs (status=error)")
    ap.add_argument("--scale-pages", type=int, default=0, metavar="N",
                    help="also write a bulk set of about N pages of plain text")
    a = ap.parse_args()
    t0 = time.time()
    register_fonts()
    out = os.path.abspath(a.outdir)
    # Start clean: stale files from another seed would become unexpected inputs.
    for sub in ("docs", "bad", "bulk", "truth"):
        p = os.path.join(out, sub)
        if os.path.lexists(p):
            shutil.rmtree(p)
    os.makedirs(out, exist_ok=True)
    # Separate streams so that --bad/--scale-pages do not change the main set.
    docs = gen_main(out, random.Random(a.seed), a.docs)
    no_record = []
    if a.bad:
        bad, no_record = gen_bad(out, random.Random(a.seed * 1000003 + 1))
        docs += bad
    if a.scale_pages > 0:
        docs += gen_bulk(out, random.Random(a.seed * 1000003 + 2), a.scale_pages)
    truth = {"format": "quire-corpus-truth/1", "seed": a.seed, "generator": "tests/gen/gen_corpus.py",
             "documents": docs, "no_record": no_record}
    with open(os.path.join(out, "truth.json"), "w", encoding="utf-8") as f:
        json.dump(truth, f, ensure_ascii=False, indent=1)
    with open(os.path.join(out, "manifest.txt"), "w", encoding="utf-8") as f:
        f.write("# quire corpus, seed %d: every input, absolute paths\n" % a.seed)
        for d in docs:
            f.write(os.path.join(out, d["file"]) + "\n")
    n_pages = sum(d["pages"] for d in docs)
    print("gen_corpus: %d documents, %d pages, %d bad, in %.1f s -> %s"
          % (len(docs), n_pages, sum(d["set"] == "bad" for d in docs), time.time() - t0, out))


if __name__ == "__main__":
    sys.exit(main())
