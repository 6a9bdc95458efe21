#!/usr/bin/env bash
# The CUDA backend is a plugin: quire itself must not link cuDNN or cuBLAS (a
# CPU-only rank would carry them, ~200 MB), and the plugin must load into quire
# with every symbol resolved. Without a GPU the plugin then reports why it sees
# none -- a message from inside the plugin, so it did load.
#   plugin.sh QUIRE_BIN PLUGIN
set -u
quire=$1 plugin=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
if ldd "$quire" | grep -Eq 'libcudnn|libcublas|libcudart'; then
  ldd "$quire" | grep -E 'libcudnn|libcublas|libcudart' >&2
  fail "quire links the CUDA libraries itself"
fi
line=$(QUIRE_CUDA_PLUGIN=$plugin "$quire" info | grep '^backends:') || fail "quire info printed no backends line"
echo "$line"
case "$line" in
  *"cannot load"* | *"not quire's CUDA plugin"* | *"no such file"*) fail "the plugin did not load: $line" ;;
  *"cpu, cuda ("* | *"no usable GPU ("*) ;;
  *) fail "unexpected backends line: $line" ;;
esac
echo "ok: quire links no CUDA library; $plugin loads"
