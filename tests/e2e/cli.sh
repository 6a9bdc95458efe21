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
