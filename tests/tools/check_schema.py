#!/usr/bin/python3
"""Verify that a results.h5 follows schema 1 (docs/DESIGN.md §3) exactly.

    check_schema.py RESULTS.h5

Checks the root attributes, every table's storage (1-D, chunked, deflate),
compound field names, order and types (enums by name and value, strings as
fixed-length null-padded UTF-8), and the cross-table invariants readers rely on:
row order, pages.first_line/lines against /lines, contiguous text ranges inside
/text, valid UTF-8, per-document page counts.  Prints every problem; exit 1 if
any.  The expected schema is written out here literally (not imported from the
writer or the fake-file helper) so that the two cannot drift together.
"""
import datetime
import json
import re
import sys

import h5py
import numpy as np

STATUS = {"ok": 0, "error": 1, "timeout": 2, "skipped": 3}
KIND = {"text": 0, "ocr": 1, "empty": 2, "failed": 3}
ROLE = {"coordinator": 0, "gpu": 1, "cpu": 2}

# field -> expected numpy dtype, or "string" (fixed-length UTF-8), or an enum map
SCHEMA = {
    "documents": [("doc", "<u8"), ("path", "string"), ("bytes", "<u8"), ("pages", "<u4"),
                  ("status", STATUS), ("error", "string"), ("text_pages", "<u4"),
                  ("ocr_pages", "<u4"), ("seconds", "<f4"), ("rank", "<i4"),
                  # added to schema 1 later (issue 15); fields are added, never renamed
                  ("retryable", "|u1"), ("warnings", "<u4"), ("warning", "string")],
    "pages": [("doc", "<u8"), ("page", "<u4"), ("kind", KIND), ("width", "<f4"), ("height", "<f4"),
              ("rotation", "<i2"), ("lines", "<u4"), ("first_line", "<u8"), ("seconds", "<f4"),
              # added to schema 1 later (issue 14): the OCR'd page's skew, degrees
              ("skew_deg", "<f4")],
    "lines": [("doc", "<u8"), ("page", "<u4"), ("block", "<u4"), ("bbox", ("<f4", (4,))),
              ("conf", "<f4"), ("text_start", "<u8"), ("text_len", "<u4")],
    # added to schema 1 later (issue 13), optional: files of older writers lack it
    "ranks": [("rank", "<i4"), ("host", "string"), ("role", ROLE), ("device", "<i4"),
              ("documents", "<u8"), ("pages", "<u8"), ("pages_sent", "<u8"),
              ("pages_served", "<u8"), ("seconds_wall", "<f8"), ("seconds_nn", "<f8"),
              ("seconds_other", "<f8"), ("seconds_wait", "<f8")],
}

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")


class Report:
    def __init__(self):
        self.errors = []
        self.warnings = []

    def err(self, msg):
        self.errors.append(msg)

    def warn(self, msg):
        self.warnings.append(msg)


def attr_str(v):
    """Attribute as text: h5py gives str for variable-length, bytes/np.bytes_
    for fixed-length strings; both are fine if they are UTF-8."""
    if isinstance(v, np.ndarray) and v.shape == ():
        v = v[()]
    if isinstance(v, (bytes, np.bytes_)):
        return bytes(v).decode("utf-8")
    if isinstance(v, str):
        return v
    raise TypeError("not a string (%r)" % type(v))


def check_attrs(f, r):
    a = f.attrs
    for k in ("schema", "quire_version", "created", "models", "config"):
        if k not in a:
            r.err("root attribute %r missing" % k)
    if "schema" in a:
        v = a["schema"]
        if not (np.ndim(v) == 0 and np.issubdtype(np.asarray(v).dtype, np.integer) and int(v) == 1):
            r.err("root attribute schema is %r, expected integer 1" % (v,))
    if "quire_version" in a:
        try:
            if not attr_str(a["quire_version"]).strip():
                r.err("quire_version is empty")
        except (TypeError, UnicodeDecodeError) as e:
            r.err("quire_version: %s" % e)
    if "created" in a:
        try:
            s = attr_str(a["created"])
            if not ISO_UTC.match(s):
                r.err("created %r is not UTC ISO 8601 (YYYY-MM-DDTHH:MM:SS[.f]Z)" % s)
            else:
                datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
        except (TypeError, UnicodeDecodeError, ValueError) as e:
            r.err("created: %s" % e)
    for k, want in (("models", (dict, list)), ("config", dict)):
        if k in a:
            try:
                v = json.loads(attr_str(a[k]))
                if not isinstance(v, want):
                    r.err("%s is JSON but a %s" % (k, type(v).__name__))
                elif k == "models" and not re.search(r"[0-9a-fA-F]{64}", json.dumps(v)):
                    r.warn("models has no SHA-256 in it")
            except (TypeError, UnicodeDecodeError, ValueError) as e:
                r.err("%s does not parse as JSON: %s" % (k, e))


def check_storage(name, d, r):
    if d.ndim != 1:
        r.err("/%s is %d-D, expected 1-D" % (name, d.ndim))
    if d.chunks is None:
        r.err("/%s is not chunked" % name)
    if d.compression != "gzip":
        r.err("/%s compression is %r, expected deflate ('gzip')" % (name, d.compression))


def check_string_member(name, field, mtype, r):
    where = "/%s.%s" % (name, field)
    if not isinstance(mtype, h5py.h5t.TypeStringID):
        r.err("%s is not an HDF5 string" % where)
        return
    if mtype.is_variable_str():
        r.err("%s is a variable-length string; schema 1 needs fixed-length" % where)
        return
    if mtype.get_cset() != h5py.h5t.CSET_UTF8:
        r.err("%s character set is not UTF-8" % where)
    if mtype.get_strpad() != h5py.h5t.STR_NULLPAD:
        r.err("%s is not null-padded" % where)


def check_compound(name, d, r):
    fields = SCHEMA[name]
    dt = d.dtype
    names = list(dt.names or ())
    want = [f for f, _ in fields]
    if names != want:
        r.err("/%s fields are %s, expected %s (in that order)" % (name, names, want))
        return False
    htype = d.id.get_type()
    ok = True
    for i, (field, exp) in enumerate(fields):
        got = dt.fields[field][0]
        where = "/%s.%s" % (name, field)
        if exp == "string":
            if got.kind != "S":
                r.err("%s is %s, expected fixed-length bytes S<n>" % (where, got))
                ok = False
            check_string_member(name, field, htype.get_member_type(i), r)
        elif isinstance(exp, dict):
            m = h5py.check_enum_dtype(got)
            if m is None:
                r.err("%s is %s, not an HDF5 enum" % (where, got))
                ok = False
            elif dict(m) != exp:
                r.err("%s enum is %s, expected %s" % (where, dict(m), exp))
                ok = False
        elif isinstance(exp, tuple):
            if got.subdtype is None or got.subdtype[0] != np.dtype(exp[0]) or got.subdtype[1] != exp[1]:
                r.err("%s is %s, expected %s%s" % (where, got, exp[0], exp[1]))
                ok = False
        elif got != np.dtype(exp) or got.str != np.dtype(exp).str:
            r.err("%s is %s, expected %s" % (where, got.str, exp))
            ok = False
    return ok


def sorted_keys(keys, strict):
    """True if rows are in lexicographic order of the key columns."""
    if len(keys[0]) < 2:
        return True
    order = np.lexsort(keys[::-1])
    if not np.array_equal(order, np.arange(len(order))):
        return False
    if strict:
        same = np.ones(len(keys[0]) - 1, bool)
        for k in keys:
            same &= k[1:] == k[:-1]
        return not same.any()
    return True


def decode_strings(col, where, r, one_line=False):
    bad = 0
    for i, v in enumerate(col):
        try:
            s = bytes(v).rstrip(b"\0").decode("utf-8")
            if one_line and "\n" in s:
                r.err("%s row %d has a newline" % (where, i))
        except UnicodeDecodeError:
            bad += 1
            if bad <= 3:
                r.err("%s row %d is not valid UTF-8: %r" % (where, i, bytes(v)))
    return bad


def check_content(f, r):
    docs, pages, lines = f["documents"][()], f["pages"][()], f["lines"][()]
    text = f["text"][()]
    if text.dtype != np.dtype("u1"):
        r.err("/text is %s, expected u1" % text.dtype)
        return
    # documents
    if not sorted_keys([docs["doc"]], strict=True):
        r.err("/documents rows not in strictly increasing doc order (or duplicate ids)")
    if len(docs) and not np.array_equal(np.sort(docs["doc"]), np.arange(len(docs))):
        r.warn("/documents doc ids are not 0..%d" % (len(docs) - 1))
    decode_strings(docs["path"], "/documents.path", r)
    decode_strings(docs["error"], "/documents.error", r, one_line=True)
    decode_strings(docs["warning"], "/documents.warning", r, one_line=True)
    for row in docs:
        err = bytes(row["error"]).rstrip(b"\0")
        if row["status"] != STATUS["ok"] and not err:
            r.err("document %d has status %d but no error text" % (row["doc"], row["status"]))
        if row["retryable"] not in (0, 1) or (
                row["retryable"] and row["status"] not in (STATUS["error"], STATUS["timeout"])):
            r.err("document %d: retryable %d with status %d" % (row["doc"], row["retryable"],
                                                                 row["status"]))
        if bool(row["warnings"]) != bool(bytes(row["warning"]).rstrip(b"\0")):
            r.err("document %d: %d warnings but warning %r" % (row["doc"], row["warnings"],
                                                                bytes(row["warning"])))
    # pages
    if not sorted_keys([pages["doc"], pages["page"]], strict=True):
        r.err("/pages rows not ordered by (doc, page) (or duplicates)")
    known_docs = set(docs["doc"].tolist())
    orphan = set(pages["doc"].tolist()) - known_docs
    if orphan:
        r.err("/pages rows for unknown docs %s" % sorted(orphan)[:5])
    bad_rot = ~np.isin(pages["rotation"], [0, 90, 180, 270])
    if bad_rot.any():
        r.err("/pages rotation not in {0,90,180,270}: %s" % pages["rotation"][bad_rot][:5])
    # a page never read (reading stopped at a timeout, or its reader died
    # before it) is a failed row of unknown size: 0 x 0, no lines
    unread = (pages["kind"] == KIND["failed"]) & (pages["width"] == 0) & (pages["height"] == 0)
    if (pages["lines"][unread] != 0).any():
        r.err("/pages rows of unknown size (never read) have lines")
    for fld in ("width", "height"):
        v = pages[fld][~unread]
        if not (np.isfinite(v).all() and (v > 0).all()):
            r.err("/pages.%s has non-positive or non-finite values" % fld)
    skew = pages["skew_deg"] if "skew_deg" in (pages.dtype.names or ()) else np.zeros(len(pages))
    if not (np.isfinite(skew).all() and (np.abs(skew) <= 45).all()):
        r.err("/pages.skew_deg has non-finite values or values beyond +-45 degrees")
    if (skew[pages["kind"] != KIND["ocr"]] != 0).any():
        r.err("/pages.skew_deg is not 0 on a page that was not OCR'd")
    for tbl, arr in (("documents", docs), ("pages", pages)):
        s = arr["seconds"]
        if not (np.isfinite(s).all() and (s >= 0).all()):
            r.err("/%s.seconds has negative or non-finite values" % tbl)
    if (docs["rank"] < 0).any():
        r.err("/documents.rank has negative values")
    # per-document page counts
    # binary search on the doc column (sorted copy if the order check failed):
    # large files have millions of pages
    bydoc = pages[np.argsort(pages["doc"], kind="stable")]
    lo = np.searchsorted(bydoc["doc"], docs["doc"], "left")
    hi = np.searchsorted(bydoc["doc"], docs["doc"], "right")
    for row, a, b in zip(docs, lo, hi):
        d = int(row["doc"])
        mine = bydoc[a:b]
        # `pages` counts the document's pages; a failed or timed-out document
        # may have recorded only some of them (never more)
        if len(mine) > row["pages"] or (row["status"] == 0 and len(mine) != row["pages"]):
            r.err("document %d: pages=%d but %d /pages rows" % (d, row["pages"], len(mine)))
        elif len(mine) and not np.array_equal(mine["page"], np.arange(len(mine))):
            r.err("document %d: page numbers are not 0..%d" % (d, len(mine) - 1))
        nt = int((mine["kind"] == KIND["text"]).sum())
        no = int((mine["kind"] == KIND["ocr"]).sum())
        if (nt, no) != (row["text_pages"], row["ocr_pages"]):
            r.err("document %d: text_pages/ocr_pages %d/%d but pages say %d/%d"
                  % (d, row["text_pages"], row["ocr_pages"], nt, no))
    # lines
    if not sorted_keys([lines["doc"], lines["page"]], strict=False):
        r.err("/lines rows not ordered by (doc, page)")
    if int(pages["lines"].sum(dtype=np.uint64)) != len(lines):
        r.err("sum of /pages.lines = %d but /lines has %d rows" % (pages["lines"].sum(), len(lines)))
    expect_first = np.concatenate([[0], np.cumsum(pages["lines"].astype(np.uint64))[:-1]]).astype(np.uint64)
    has = pages["lines"] > 0
    off = has & (pages["first_line"] != expect_first)
    if off.any():
        k = int(np.nonzero(off)[0][0])
        r.err("/pages row %d (doc %d page %d): first_line %d, expected %d; %d pages wrong"
              % (k, pages["doc"][k], pages["page"][k], pages["first_line"][k], expect_first[k], off.sum()))
    if (pages["first_line"][~has] > len(lines)).any():
        r.err("an empty page's first_line points past /lines")
    if not off.any() and int(pages["lines"].sum(dtype=np.uint64)) == len(lines):
        owner = np.repeat(np.arange(len(pages)), pages["lines"].astype(np.int64))
        mism = (lines["doc"] != pages["doc"][owner]) | (lines["page"] != pages["page"][owner])
        if mism.any():
            k = int(np.nonzero(mism)[0][0])
            r.err("/lines row %d (doc %d page %d) lies in the range of a different page"
                  % (k, lines["doc"][k], lines["page"][k]))
        # a block is one contiguous run of lines within its page
        key = owner.astype(np.int64)
        starts = np.ones(len(lines), bool)
        starts[1:] = (key[1:] != key[:-1]) | (lines["block"][1:] != lines["block"][:-1])
        runs = set()
        dup = 0
        for k in np.nonzero(starts)[0]:
            t = (int(key[k]), int(lines["block"][k]))
            dup += t in runs
            runs.add(t)
        if dup:
            r.err("%d blocks are split into non-contiguous runs of lines" % dup)
    # text ranges: contiguous, inside /text, starting on character boundaries
    ts, tl = lines["text_start"].astype(np.uint64), lines["text_len"].astype(np.uint64)
    expect = np.concatenate([[0], np.cumsum(tl)[:-1]]).astype(np.uint64)
    if len(lines) and not np.array_equal(ts, expect):
        k = int(np.nonzero(ts != expect)[0][0])
        r.err("/lines text ranges not contiguous from 0: row %d starts at %d, expected %d" % (k, ts[k], expect[k]))
    total = int(tl.sum()) if len(lines) else 0
    if total != len(text):
        r.err("/text has %d bytes but the lines cover %d" % (len(text), total))
    if len(lines) and (ts + tl > len(text)).any():
        r.err("/lines text ranges run past the end of /text")
    try:
        tstr = text.tobytes().decode("utf-8")
        if "\n" in tstr:
            r.err("/text contains a newline (a line's text must be one line)")
        nz = ts[(tl > 0) & (ts < len(text))].astype(np.int64)
        if ((text[nz] & 0xC0) == 0x80).any():
            r.err("a line's text starts inside a UTF-8 character")
    except UnicodeDecodeError as e:
        r.err("/text is not valid UTF-8: %s" % e)
    for fld in ("bbox", "conf"):
        if not np.isfinite(lines[fld]).all():
            r.err("/lines.%s has non-finite values" % fld)
    b = lines["bbox"]
    if len(b) and ((b[:, 0] > b[:, 2]) | (b[:, 1] > b[:, 3])).any():
        r.err("/lines.bbox with x0 > x1 or y0 > y1")
    if len(b) and ((lines["conf"] < 0) | (lines["conf"] > 1)).any():
        r.err("/lines.conf outside [0, 1]")


def check(path):
    r = Report()
    with h5py.File(path, "r") as f:
        check_attrs(f, r)
        ok = True
        for name in ("documents", "pages", "lines", "text"):
            if name not in f or not isinstance(f[name], h5py.Dataset):
                r.err("dataset /%s missing" % name)
                ok = False
                continue
            check_storage(name, f[name], r)
            if name == "text":
                if f[name].dtype != np.dtype("u1"):
                    r.err("/text is %s, expected u1" % f[name].dtype)
                    ok = False
            else:
                ok &= check_compound(name, f[name], r)
        if "ranks" in f:  # optional (older files lack it); its content: tests/e2e/check_ranks.py
            check_storage("ranks", f["ranks"], r)
            ok &= check_compound("ranks", f["ranks"], r)
        extra = set(f.keys()) - {"documents", "pages", "lines", "text", "ranks"}
        if extra:
            r.warn("extra objects at the root: %s" % sorted(extra))
        if ok:  # content checks need the right field names
            check_content(f, r)
    return r


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    r = check(sys.argv[1])
    for w in r.warnings:
        print("warning: " + w)
    for e in r.errors:
        print("ERROR: " + e)
    print("check_schema: %s: %s" % (sys.argv[1], "FAIL (%d errors)" % len(r.errors) if r.errors else "OK"))
    return 1 if r.errors else 0


if __name__ == "__main__":
    sys.exit(main())
