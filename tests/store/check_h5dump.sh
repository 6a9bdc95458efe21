#!/bin/sh
# The header of results.h5 as h5dump 1.10 shows it: enum names, compound
# fields, string types and the root attributes must all be visible.
set -eu
f=$1
h=$(h5dump -H "$f")
fail=0
for want in 'ATTRIBUTE "schema"' 'ATTRIBUTE "quire_version"' 'ATTRIBUTE "created"' \
    'ATTRIBUTE "models"' 'ATTRIBUTE "config"' \
    'DATASET "documents"' 'DATASET "pages"' 'DATASET "lines"' 'DATASET "text"' \
    'H5T_ENUM' '"ok"' '"error"' '"timeout"' '"skipped"' '"text"' '"ocr"' '"empty"' '"failed"' \
    '"doc"' '"path"' '"bytes"' '"status"' '"text_pages"' '"ocr_pages"' '"seconds"' '"rank"' \
    '"retryable"' '"warnings"' '"warning"' '"skew_deg"' \
    '"kind"' '"width"' '"height"' '"rotation"' '"first_line"' '"block"' '"bbox"' '"conf"' \
    '"text_start"' '"text_len"' 'H5T_ARRAY { [4] H5T_IEEE_F32LE }' 'CSET H5T_CSET_UTF8' \
    'STRPAD H5T_STR_NULLPAD' 'H5T_STD_U64LE' 'H5T_STD_I16LE' 'H5T_STD_U8LE'; do
    if ! printf '%s\n' "$h" | grep -qF "$want"; then
        echo "h5dump -H $f: missing $want" >&2
        fail=1
    fi
done
# Data of a small table prints too (enum values by name).
h5dump -d /documents -c 2 "$f" | grep -qE '^ +(ok|error|timeout|skipped),$' ||
    { echo "h5dump -d /documents: no enum names in the data" >&2; fail=1; }
[ $fail = 0 ] && echo "h5dump schema ok"
exit $fail
