#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan; QUIRE_FUZZ=ON) in their own
# build folder and runs each for SECONDS, one after the other. Exits non-zero
# when any target found something; its input is then in FINDINGS/<target>/.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]    (default 60 s; every target)
# Targets: pdf tiff png jpeg onnx ocrpost. The working corpus of each target
# grows across runs in BUILD/fuzz/corpus/<target>/ (the seeds, seeds.py, are
# remade each run); logs go to BUILD/fuzz/logs/. Environment: QUIRE_FUZZ_BUILD
# (default build-fuzz), QUIRE_FUZZ_TIMEOUT (wall seconds one input may take, default 120;
# more for niced runs on a busy machine, where a starved input can pass 30 s),
# QUIRE_FUZZ_RSS_MB (memory limit per target, default
# 2048), QUIRE_MODELS (the orientation model is an ONNX seed when there).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pdf tiff png jpeg onnx ocrpost)
build=${QUIRE_FUZZ_BUILD:-build-fuzz}
rss=${QUIRE_FUZZ_RSS_MB:-2048}
work=$build/fuzz

mkdir -p "$work/logs"
# Warnings are not errors here: the warning set is GCC's (clang adds
# -Wformat-nonliteral on printf wrappers, unknown GCC pragmas); the normal
# build holds -Werror. The build's output is in the log, shown on failure.
if ! { cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DQUIRE_FUZZ=ON -DQUIRE_CUDA=OFF \
         -DQUIRE_WERROR=OFF &&
       cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"; } >"$work/logs/build.log" 2>&1
then
  tail -40 "$work/logs/build.log"
  echo "run.sh: the fuzz build failed (log: $work/logs/build.log)" >&2
  exit 2
fi
/usr/bin/python3 tests/fuzz/seeds.py "$work/seeds" --models "${QUIRE_MODELS:-$HOME/.cache/quire/models}" \
  >/dev/null

found=0
for t in "${targets[@]}"; do
  mkdir -p "$work/corpus/$t" "$work/findings/$t"
  log=$work/logs/$t.log
  # -timeout: one input may take 120 s of wall time (the document target
  # stops itself at 10 s, as a document's deadline does; a niced run on a busy
  # machine gets a few % of a core, and at 30 s inputs of 0.4 s CPU were
  # reported as timeouts); the new inputs go to the first folder, the working
  # corpus.
  TIMEFORMAT=%U+%S
  rc=0
  { time env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 OPENBLAS_NUM_THREADS=1 \
      "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout="${QUIRE_FUZZ_TIMEOUT:-120}" -rss_limit_mb="$rss" \
      -print_final_stats=1 -artifact_prefix="$work/findings/$t/" \
      "$work/corpus/$t" "$work/seeds/$t" >"$log" 2>&1; } 2>"$work/logs/$t.cpu" || rc=$?
  cpu=$(awk -F+ '{printf "%.1f", $1 + $2}' "$work/logs/$t.cpu")
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  corpus=$(find "$work/corpus/$t" -type f | wc -l)
  if [ "$rc" = 0 ]; then
    echo "fuzz_$t: ${secs} s, CPU ${cpu} s, ${runs:-?} executions, corpus $corpus inputs: no finding"
  else
    found=1
    echo "fuzz_$t: FINDING (exit status $rc), input in $work/findings/$t/, log $log:"
    grep -E "ERROR|SUMMARY|FUZZ_CHECK|runtime error|Test unit written" "$log" | head -8 | sed 's/^/  /'
  fi
done
exit $found
