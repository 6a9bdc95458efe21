#!/bin/bash
# check_h5dump.sh RESULTS.h5 -- what a user sees with the stock HDF5 tools.
# The schema promises that h5dump shows enum names (not bare integers), the
# compound field names, UTF-8 strings, deflate, and the root attributes; a file
# that only h5py can make sense of fails here.  Exit 1 on the first miss.
set -u
f=${1:?usage: check_h5dump.sh RESULTS.h5}
command -v h5dump >/dev/null || { echo "check_h5dump: h5dump not found (Debian package hdf5-tools)"; exit 1; }
hdr=$(h5dump -p -H "$f") || { echo "check_h5dump: h5dump -H failed on $f"; exit 1; }
fail=0
need() {  # need LABEL FIXED-STRING TEXT
  if ! grep -qF -- "$2" <<<"$3"; then echo "check_h5dump: missing $1: $2"; fail=1; fi
}
for a in schema quire_version created models config; do need "root attribute" "ATTRIBUTE \"$a\"" "$hdr"; done
for d in documents pages lines text; do need "dataset" "DATASET \"$d\"" "$hdr"; done
for n in doc path bytes pages status error text_pages ocr_pages seconds rank \
         page kind width height rotation lines first_line skew_deg block bbox conf text_start text_len; do
  need "compound field" "\"$n\";" "$hdr"
done
for n in ok error timeout skipped text ocr empty failed; do need "enum name" "\"$n\" " "$hdr"; done
need "enum type" "H5T_ENUM" "$hdr"
need "UTF-8 strings" "H5T_CSET_UTF8" "$hdr"
need "null-padded strings" "H5T_STR_NULLPAD" "$hdr"
need "bbox array" "H5T_ARRAY { [4] H5T_IEEE_F32LE }" "$hdr"
# every one of the four tables is chunked and deflated
[ "$(grep -c 'COMPRESSION DEFLATE' <<<"$hdr")" -ge 4 ] || { echo "check_h5dump: not every dataset is deflated"; fail=1; }
[ "$(grep -c 'CHUNKED' <<<"$hdr")" -ge 4 ] || { echo "check_h5dump: not every dataset is chunked"; fail=1; }
# one row of data, printed with its enum name
row=$(h5dump -d /documents -c 1 "$f") || { echo "check_h5dump: h5dump -d /documents -c 1 failed"; exit 1; }
if ! grep -Eq '(ok|error|timeout|skipped),' <<<"$row"; then
  echo "check_h5dump: first /documents row shows no status name:"; echo "$row" | head -30; fail=1
fi
attrs=$(h5dump -a /schema "$f") || { echo "check_h5dump: cannot read attribute /schema"; exit 1; }
grep -Eq '^\s*\(0\): 1\s*$' <<<"$attrs" || { echo "check_h5dump: schema attribute is not 1"; fail=1; }
[ $fail = 0 ] && echo "check_h5dump: $f: OK" || echo "check_h5dump: $f: FAIL"
exit $fail
