#!/usr/bin/env bash
# Command-line contract: --help for every subcommand, usage errors exit 2,
# fatal errors exit 1 with one line, `quire text` prints a document's text.
. "$(dirname "$0")/lib.sh"
expect() { # expect CODE CMD...
  local want=$1 rc; shift
  set +e; "$@" >/dev/null 2>"$E2E_WORK/cli.err"; rc=$?; set -e
  [ "$rc" = "$want" ] || { cat "$E2E_WORK/cli.err"; fail "'$*' exited $rc, want $want"; }
}
for sub in run text ocr nn info; do
  "$QUIRE_BIN" "$sub" --help | grep -q "usage: quire $sub" || fail "quire $sub --help"
done
"$QUIRE_BIN" --help | grep -q "usage: quire" || fail "quire --help"
# -V is --version's short form, at the top and in every subcommand; each help lists it
version=$("$QUIRE_BIN" --version)
[[ "$version" =~ ^quire\ [0-9]+\.[0-9]+ ]] || fail "quire --version printed '$version'"
"$QUIRE_BIN" --help | grep -Eq -- "-V, --version" || fail "quire --help does not list -V, --version"
for sub in "" run text ocr nn info; do
  for v in -V --version; do
    out=$("$QUIRE_BIN" $sub $v) || fail "quire $sub $v exited $?"
    [ "$out" = "$version" ] || fail "quire $sub $v printed '$out', want '$version'"
  done
  [ -z "$sub" ] || "$QUIRE_BIN" "$sub" --help | grep -q -- "-V, --version" ||
    fail "quire $sub --help does not list -V, --version"
done
expect 2 "$QUIRE_BIN"
expect 2 "$QUIRE_BIN" frobnicate
expect 2 "$QUIRE_BIN" run
expect 2 "$QUIRE_BIN" run --dpi nope x.pdf
expect 2 "$QUIRE_BIN" run --no-such-option x.pdf
expect 2 "$QUIRE_BIN" text
expect 1 "$QUIRE_BIN" text /nonexistent/file.pdf
grep -qi "no such file" "$E2E_WORK/cli.err" || fail "missing file reason: $(cat "$E2E_WORK/cli.err")"
# an unwritable --out is a fatal error naming the folder
touch "$E2E_WORK/not-a-dir"
expect 1 "$QUIRE_BIN" run --out "$E2E_WORK/not-a-dir/out" "$(corpus_dir)"
grep -q "not-a-dir" "$E2E_WORK/cli.err" || fail "unwritable --out: $(cat "$E2E_WORK/cli.err")"
"$QUIRE_BIN" info | grep -q "MuPDF" || fail "quire info"
