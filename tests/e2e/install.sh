#!/usr/bin/env bash
# cmake --install BUILD --prefix P: P/bin/quire runs (--version, info), the
# CUDA plugin sits beside it exactly when it was built, no benchmark is
# installed, and the sbatch scripts and READMEs are under P/share/quire/.
. "$(dirname "$0")/lib.sh"
build=${1:?usage: install.sh BUILD_DIR}
cmake=${CMAKE_COMMAND:-cmake}
p=$E2E_WORK/install-prefix
rm -rf "$p"; mkdir -p "$E2E_WORK"
"$cmake" --install "$build" --prefix "$p" >"$E2E_WORK/install.log" ||
  { cat "$E2E_WORK/install.log"; fail "cmake --install exited $?"; }
[ -x "$p/bin/quire" ] || fail "no executable $p/bin/quire"
for f in share/quire/README.md share/quire/slurm/README.md; do
  [ -f "$p/$f" ] || fail "$f not installed"
done
for s in one-node multi-node array; do
  [ -x "$p/share/quire/slurm/$s.sbatch" ] || fail "share/quire/slurm/$s.sbatch not installed executable"
  cmp -s "$QUIRE_SRC/slurm/$s.sbatch" "$p/share/quire/slurm/$s.sbatch" || fail "$s.sbatch differs"
done
if [ -e "$build/libquire_cuda.so" ]; then
  [ -f "$p/bin/libquire_cuda.so" ] || fail "the CUDA plugin was built but not installed beside quire"
else
  [ ! -e "$p/bin/libquire_cuda.so" ] || fail "a CUDA plugin was installed that this build did not make"
fi
left=$(find "$p" -name 'nn_bench*' -o -name '*_test' -o -name '*.a')
[ -z "$left" ] || fail "installed what is not part of quire: $left"
# the installed binary, from outside the build tree, runs on its own
want=$("$QUIRE_BIN" --version)
got=$(cd / && "$p/bin/quire" --version) || fail "installed quire --version exited $?"
[ "$got" = "$want" ] || fail "installed quire --version printed '$got', want '$want'"
(cd / && "$p/bin/quire" info) >"$E2E_WORK/install-info.log" 2>&1 ||
  { cat "$E2E_WORK/install-info.log"; fail "installed quire info failed"; }
grep -q "MuPDF" "$E2E_WORK/install-info.log" || fail "installed quire info: $(cat "$E2E_WORK/install-info.log")"
echo "installed into $p:"; (cd "$p" && find . -type f | sort)
