#!/usr/bin/python3
"""Prints a short summary of a results.h5: what a user sees first after a run.
Also the shortest example of reading quire's output with h5py."""
import collections
import sys

import h5py

path = sys.argv[1] if len(sys.argv) > 1 else "quire-out/results.h5"
with h5py.File(path, "r") as f:
    docs, pages, lines = f["documents"][...], f["pages"][...], f["lines"][...]
    text = f["text"][...].tobytes()
    status_names = {v: k for k, v in h5py.check_enum_dtype(f["documents"].dtype["status"]).items()}
    kind_names = {v: k for k, v in h5py.check_enum_dtype(f["pages"].dtype["kind"]).items()}
    print(f"{path}: schema {f.attrs['schema']}, quire {f.attrs['quire_version'].decode() if isinstance(f.attrs['quire_version'], bytes) else f.attrs['quire_version']}")
    st = collections.Counter(status_names[s] for s in docs["status"])
    kd = collections.Counter(kind_names[k] for k in pages["kind"])
    print(f"  documents: {len(docs)} ({', '.join(f'{n} {k}' for k, n in sorted(st.items()))})")
    print(f"  pages:     {len(pages)} ({', '.join(f'{n} {k}' for k, n in sorted(kd.items()))})")
    print(f"  lines:     {len(lines)}, text bytes: {len(text)}")
    for d in docs[docs["status"] != 0][:5]:
        print(f"  error: {d['path'].decode()}: {d['error'].decode()}")
    ok = docs[(docs["status"] == 0) & (docs["text_pages"] > 0)]
    if len(ok):
        first = lines[lines["doc"] == ok[0]["doc"]][:3]
        print(f"  first lines of {ok[0]['path'].decode()}:")
        for l in first:
            s = text[l["text_start"]:l["text_start"] + l["text_len"]].decode()
            print(f"    p{l['page']} b{l['block']} {tuple(round(float(v), 1) for v in l['bbox'])}: {s}")
