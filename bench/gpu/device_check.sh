#!/usr/bin/env bash
# The GPU check: one command on the GPU machine, from the repository root, with
# the bundle of bench/gpu/pack.sh carried (.gpu/quire-gpu.tar.xz):
#
#   bench/gpu/device_check.sh [--rehearse] [--pages N] [--np N] [--bundle FILE] [OUTDIR]
#
# Steps, each under its own time limit, each writing one log in OUTDIR (an
# argument, else $OUT, else /tmp/quire-check; the device tool brings back 8
# files at most, so there are 7):
#   env      GPU, driver, CUDA, cuDNN, OS, the bundle, where every library of
#            every bundled program resolves (env.txt)
#   tests    every op and the three models CUDA vs CPU with TF32 off (must
#            pass), real page tensors through `quire nn` on both backends, the
#            models again with TF32 on (reported) (tests.log)
#   bench    det/rec/cls at batch 1, 8, 32: quire CUDA beside the project's
#            torch reference (bench/gpu/torch_ref.py) and ONNX Runtime on all
#            CPU cores (bench.md, bench.log)
#   e2e      `mpirun -np NP quire run --gpus 1` over the bundle's pages, then a
#            CPU-only run: pages/s, the GPU rank's busy share, CER against the
#            pages' text, word difference between the two runs (e2e.log)
#   extra    if time is left: compute-sanitizer on cls, cudnnFind on vs off
#            (extra.log)
# and prints the summary last (summary.txt). On a machine with a GPU a skipped
# CUDA test is a failure. Exit 0 when nothing failed.
#
# --rehearse runs the same steps on a machine without a GPU, from the unpacked
# bundle in a clean environment (env -i; Open MPI's, PMIx's and hwloc's system
# folders hidden in a private mount namespace, so that only the bundle's copies
# can be used): the CUDA steps say "no GPU" (a skip is then expected), bench
# runs quire's CPU backend beside torch on the CPU, and the e2e step runs with
# the GPU rank on the CPU backend. Defaults: NP = max(4, cores), all the
# bundle's pages.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
self=$root/bench/gpu/device_check.sh
T0=$(date +%s)

rehearse=0 inner=0 pages=0 np=0 bundle=$root/.gpu/quire-gpu.tar.xz out=""
while (($#)); do
    case $1 in
    --rehearse) rehearse=1 ;;
    --inner) inner=1 ;; # the rehearsal's second stage, inside the clean environment
    --pages) pages=${2:?}; shift ;;
    --np) np=${2:?}; shift ;;
    --bundle) bundle=${2:?}; shift ;;
    -h | --help) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "device_check.sh: unknown option $1 (--help)" >&2; exit 2 ;;
    *) out=$1 ;;
    esac
    shift
done
out=${out:-${OUT:-/tmp/quire-check}}
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)
[[ -f $bundle ]] || { echo "device_check.sh: no bundle $bundle (bench/gpu/pack.sh BUILD_DIR)" >&2; exit 2; }
bundle=$(cd "$(dirname "$bundle")" && pwd)/$(basename "$bundle")

# ---- the rehearsal's clean environment: re-run this script inside it ----
if ((rehearse && !inner)); then
    hide=(/usr/lib/x86_64-linux-gnu/openmpi /usr/lib/x86_64-linux-gnu/pmix2 /usr/share/openmpi
        /etc/openmpi /usr/lib/x86_64-linux-gnu/hwloc /usr/share/pmix)
    masks=""
    for d in "${hide[@]}"; do [[ -d $d ]] && masks+="mount -t tmpfs -o size=1k,ro none $d && "; done
    args=(--rehearse --inner --pages "$pages" --np "$np" --bundle "$bundle" "$out")
    clean=(env -i PATH=/usr/bin:/bin HOME="${HOME:-/root}" LANG=C.UTF-8 TERM=dumb)
    if unshare -m true 2>/dev/null; then
        exec "${clean[@]}" unshare -m --propagation private \
            bash -c "${masks}exec bash \"\$0\" \"\$@\"" "$self" "${args[@]}"
    fi
    echo "device_check.sh: no private mount namespace here; the system's Open MPI stays visible" \
        "(the library check below still holds)" | tee "$out/namespace.txt"
    exec "${clean[@]}" bash "$self" "${args[@]}"
fi

# ---- unpack ----
work=/tmp/quire-gpu-run
B=$work/quire-gpu
stamp=$(stat -c '%s %Y' "$bundle")
if [[ ! -f $work/.stamp || $(cat "$work/.stamp") != "$stamp" ]]; then
    rm -rf "$work" && mkdir -p "$work" && xz -dc "$bundle" | tar -C "$work" -xf - ||
        { echo "device_check.sh: cannot unpack $bundle" >&2; exit 2; }
    echo "$stamp" >"$work/.stamp"
fi
rm -rf "$work/runs" && mkdir -p "$work/runs"

# ---- the bundle's environment ----
# shellcheck source=bench/gpu/bundle_libs.sh
. "$root/bench/gpu/bundle_libs.sh"
py=${QUIRE_CHECK_PYTHON:-python3} # the GPU machine's python3 has torch, numpy and h5py
# cudart, cuBLAS and cuDNN: the machine's toolkit, else PyTorch's wheels
# (CUDA 13 wheels keep them in nvidia/cu13/lib, older ones in nvidia/*/lib)
cuda_dirs=""
for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcudnn.so.9; do
    d=""
    for c in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
        [[ -e $c/$lib ]] && { d=$c; break; }
    done
    if [[ -z $d ]]; then
        nv=$($py -c 'import nvidia, os; print(os.path.dirname(list(nvidia.__path__)[0]))' 2>/dev/null)
        [[ -n $nv ]] && d=$(find "$nv/nvidia" -maxdepth 4 -name "$lib" -printf '%h\n' 2>/dev/null | head -1)
    fi
    [[ -n $d && :$cuda_dirs: != *:$d:* ]] && cuda_dirs+=${cuda_dirs:+:}$d
done
export LD_LIBRARY_PATH=$B/lib${cuda_dirs:+:$cuda_dirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PATH=$B/bin:$PATH
export OPAL_PREFIX=$B OPAL_EXEC_PREFIX=$B OPAL_BINDIR=$B/bin OPAL_LIBDIR=$B/lib
export OPAL_PKGLIBDIR=$B/lib/openmpi OPAL_DATAROOTDIR=$B/share OPAL_DATADIR=$B/share
export OPAL_PKGDATADIR=$B/share/openmpi OPAL_SYSCONFDIR=$B/etc
export PMIX_PREFIX=$B PMIX_EXEC_PREFIX=$B PMIX_LIBDIR=$B/lib PMIX_PKGLIBDIR=$B/lib/pmix
export PMIX_DATADIR=$B/share PMIX_PKGDATADIR=$B/share/pmix PMIX_SYSCONFDIR=$B/share
# no ssh there: mpirun starts its ranks itself; root, and as many ranks as asked
export OMPI_MCA_plm=isolated OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
# shared-memory segments on disk: whether the VM mounts a large /dev/shm is not known
export OMPI_MCA_btl_vader_backing_directory=/tmp
export OPENBLAS_NUM_THREADS=1 QUIRE_MODELS=$B/models PYTHONUNBUFFERED=1
((rehearse)) || export QUIRE_TEST_REQUIRE_GPU=1
cores=$(nproc)
((np > 0)) || np=$((cores > 4 ? cores : 4))
bt=$B/bin

# ---- steps ----
summary=()
note() { summary+=("$(printf '%-8s %-5s %4ss  %s' "$1" "$2" "$3" "$4")"); }
failed=0
# The whole check must end within 6 minutes on the GPU (the window is short);
# the rehearsal, on 2 cores, gets 15.
budget=$( ((rehearse)) && echo 900 || echo 360)
time_left() { echo $((budget - ($(date +%s) - T0))); }
# run LOG LIMIT CMD...: CMD under `timeout` (LIMIT, or less when the budget is
# nearly spent), its output appended to LOG with a header; returns its status
# (124: over the limit)
run() {
    local log=$1 lim=$2 left
    shift 2
    left=$(time_left)
    ((lim > left)) && lim=$((left > 5 ? left : 5))
    echo "== $* (limit ${lim}s)" >>"$log"
    local t=$SECONDS
    timeout -k 10 "$lim" "$@" >>"$log" 2>&1
    local rc=$?
    echo "== exit $rc in $((SECONDS - t))s" >>"$log"
    return $rc
}
gpu=0
step_env() {
    local log=$out/env.txt t=$SECONDS bad=0
    : >"$log"
    {
        echo "mode: $( ((rehearse)) && echo rehearsal || echo GPU check)"
        echo "date: $(date -u +%FT%TZ); host $(hostname); $(nproc) cores; $(free -g | awk '/Mem:/{print $2}') GiB"
        grep -E '^(PRETTY_NAME)=' /etc/os-release
        echo "kernel: $(uname -r)"
        nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1 ||
            echo "nvidia-smi: none"
        echo "nvcc: $(nvcc --version 2>/dev/null | tail -1)"
        echo "cuda libraries: ${cuda_dirs:-none found}"
        $py -c 'import torch; print("torch", torch.__version__, "cuDNN", torch.backends.cudnn.version(), "cuda", torch.cuda.is_available())' 2>&1
        echo "-- bundle"
        cat "$B/INFO"
        echo "-- quire info"
        "$bt/quire" info 2>&1 | head -20
    } >>"$log" 2>&1
    "$bt/quire" info 2>/dev/null | grep -q '^backends:.*cuda (' && gpu=1
    # QUIRE_CHECK_FORCE_GPU=1 takes the GPU path without a GPU: its CUDA steps
    # then fail, but the script's own logic for that path runs (a dry run)
    [[ ${QUIRE_CHECK_FORCE_GPU:-} == 1 ]] && gpu=1
    # every bundled program's libraries resolve in the bundle, but glibc's
    # (and CUDA's, which are the machine's)
    echo "-- libraries outside the bundle" >>"$log"
    local f
    while IFS= read -r f; do
        ldd "$f" 2>&1 | awk -v b="$B/" -v f="${f#"$B"/}" -v glibc="$BUNDLE_GLIBC" -v cuda="$BUNDLE_CUDA" '
            /not found/ && !/libcuda\.so/ { print f ": " $0; bad = 1 }
            /=>/ && $3 ~ /^\// && index($3, b) != 1 && $1 !~ glibc && $1 !~ cuda {
                print f ": " $1 " -> " $3; bad = 1 }
            END { exit bad }' >>"$log" || bad=1
    done < <(bundle_elves "$B/bin" "$B/lib")
    ((bad)) && echo "(some resolve outside the bundle: the GPU machine may lack them)" >>"$log"
    local what="GPU: $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)"
    ((gpu)) || what="no GPU (quire: $("$bt/quire" info 2>/dev/null | grep '^backends:' | cut -c1-80))"
    if ((bad)); then
        note env FAIL $((SECONDS - t)) "$what; a library resolves outside the bundle (env.txt)"
        failed=1
    else
        note env ok $((SECONDS - t)) "$what; every library in the bundle but glibc/CUDA"
    fi
}

# a CUDA test: 0 pass, 77 skipped -- a failure where a GPU is expected
cuda_test() {
    local name=$1 lim=$2
    shift 2
    run "$out/tests.log" "$lim" "$@"
    local rc=$?
    if ((rc == 0)); then
        tests_ok+=("$name")
    elif ((rc == 77 && rehearse)); then
        tests_skip+=("$name")
    else
        tests_fail+=("$name(rc $rc)")
    fi
}
step_tests() {
    local t=$SECONDS
    tests_ok=() tests_skip=() tests_fail=()
    : >"$out/tests.log"
    cuda_test fallback 60 "$bt/cuda_fallback_test"
    cuda_test ops 120 env MODELS="$B/models" "$bt/nn_backend_ops_test" cuda
    cuda_test models 150 "$bt/cuda_models_test"
    # real page tensors: the CPU backend's output is the reference
    local x k
    for x in "$B"/tensors/*.npy; do
        k=$(basename "$x" .npy)
        local kind=${k%%_*} model
        case $kind in
        det) model=ch_PP-OCRv4_det_infer.onnx ;;
        rec) model=ch_PP-OCRv4_rec_infer.onnx ;;
        cls) model=ch_ppocr_mobile_v2.0_cls_infer.onnx ;;
        *) continue ;;
        esac
        local r=$work/runs/$k
        run "$out/tests.log" 60 "$bt/quire" nn "$B/models/$model" --input "$x" --output "$r.cpu.npy" \
            --threads "$cores" || { tests_fail+=("$k(cpu)"); continue; }
        if ! ((gpu)); then # the CPU side ran; the CUDA side has nothing to run on
            tests_skip+=("$k(no GPU)")
            continue
        fi
        run "$out/tests.log" 60 "$bt/quire" nn "$B/models/$model" --input "$x" --output "$r.cuda.npy" \
            --backend cuda || { tests_fail+=("$k(cuda)"); continue; }
        if run "$out/tests.log" 60 $py "$root/tests/parity/compare.py" "$kind" "$r.cpu.npy" "$r.cuda.npy" \
            --tol 1e-3 --name "$k cuda-vs-cpu"; then
            tests_ok+=("$k")
        else
            tests_fail+=("$k")
        fi
    done
    if ((gpu)); then # reported, not required
        QUIRE_CUDA_TF32=1 run "$out/tests.log" 150 "$bt/cuda_models_test"
        local tf=$?
        ((tf == 0)) && tests_ok+=("models-tf32(reported)") || tests_skip+=("models-tf32(rc $tf, reported)")
    fi
    local s="pass: ${tests_ok[*]:-none}"
    ((${#tests_skip[@]})) && s+="; skipped: ${tests_skip[*]}"
    ((${#tests_fail[@]})) && s+="; FAILED: ${tests_fail[*]}"
    if ((${#tests_fail[@]})); then
        note tests FAIL $((SECONDS - t)) "$s"
        failed=1
    elif ((${#tests_skip[@]} && !rehearse)); then
        note tests FAIL $((SECONDS - t)) "$s"
        failed=1
    else
        note tests ok $((SECONDS - t)) "$s"
    fi
}

step_bench() {
    local t=$SECONDS args
    : >"$out/bench.log"
    if ((gpu)); then
        args=(--backend cuda --device cuda --batches 1 8 32)
    else # the rehearsal: the same program on the CPU, briefly
        args=(--backend cpu --device cpu --batches 1 --repeat-scale 0.1)
    fi
    run "$out/bench.log" 240 $py "$root/bench/gpu/bench.py" --models "$B/models" --nn-bench "$bt/nn_bench" \
        "${args[@]}" --out "$out/bench.md"
    local rc=$?
    if ((rc == 0)); then
        note bench ok $((SECONDS - t)) "$(grep -cE '^\| (det|rec|cls) ' "$out/bench.md" 2>/dev/null) rows (bench.md)"
    else
        note bench FAIL $((SECONDS - t)) "rc $rc (bench.log)"
        failed=1
    fi
}

# e2e_run NAME GPUS: one quire run over the pages; sets wall
e2e_run() {
    local name=$1 gpus=$2 s=$SECONDS
    run "$out/e2e.log" 300 "$bt/mpirun" -np "$np" "$bt/quire" run --gpus "$gpus" --out "$work/runs/$name" \
        --manifest "$work/runs/manifest.txt" --models "$B/models" --progress 30
    local rc=$?
    wall=$((SECONDS - s))
    return $rc
}
# "CER 0.0012 (set 0.0010, ...)" from check_ocr.py --json
cer_of() {
    $py -c 'import json, sys
d = json.load(open(sys.argv[1]))
print("%.4f (%s)" % (d["all"]["cer"], ", ".join("%s %.4f" % (k, v["cer"]) for k, v in sorted(d["sets"].items()))))' \
        "$1" 2>/dev/null || echo "n/a"
}
step_e2e() {
    local t=$SECONDS
    : >"$out/e2e.log"
    if ((pages > 0)); then head -n "$pages"; else cat; fi <"$B/pages/manifest.txt" |
        sed "s|^|$B/pages/|" >"$work/runs/manifest.txt"
    local n truth=$work/runs/truth.json
    n=$(wc -l <"$work/runs/manifest.txt")
    # the truth of the pages run (--pages N takes the first N)
    $py -c 'import json, sys
t = json.load(open(sys.argv[1]))
run = [l.strip() for l in open(sys.argv[2]) if l.strip()]
t["documents"] = [d for d in t["documents"] if any(p.endswith("/" + d["file"]) for p in run)]
json.dump(t, open(sys.argv[3], "w"))' "$B/pages/truth.json" "$work/runs/manifest.txt" "$truth" ||
        { note e2e FAIL 0 "cannot read the pages' truth"; failed=1; return; }
    local wall rate_g rate_c busy cer_g cer_c agree
    if ! e2e_run gpu 1; then
        note e2e FAIL $((SECONDS - t)) "the --gpus 1 run failed (e2e.log)"
        failed=1
        return
    fi
    rate_g=$(awk -v n="$n" -v w="$wall" 'BEGIN{printf "%.2f", n / (w > 0 ? w : 1)}')
    busy=$(grep -o 'OCR rank: ran.*' "$out/e2e.log" | tail -1)
    if ! e2e_run cpu 0; then
        note e2e FAIL $((SECONDS - t)) "the CPU-only run failed (e2e.log)"
        failed=1
        return
    fi
    rate_c=$(awk -v n="$n" -v w="$wall" 'BEGIN{printf "%.2f", n / (w > 0 ? w : 1)}')
    local g
    for g in gpu cpu; do
        run "$out/e2e.log" 60 $py "$root/tests/tools/check_ocr.py" "$work/runs/$g" "$truth" \
            --json "$work/runs/$g.json" || failed=1
    done
    cer_g=$(cer_of "$work/runs/gpu.json")
    cer_c=$(cer_of "$work/runs/cpu.json")
    run "$out/e2e.log" 60 $py "$root/bench/gpu/compare_runs.py" "$work/runs/gpu" "$work/runs/cpu" \
        "$truth" --json "$work/runs/agree.json"
    local arc=$?
    agree=$(grep -o 'word difference.*' "$out/e2e.log" | tail -1)
    local s="$n pages, np $np: --gpus 1 $rate_g pages/s, CPU-only $rate_c pages/s; ${busy:-no OCR rank line}"
    s+="; CER --gpus 1 $cer_g, CPU-only $cer_c; $agree"
    # the target: the GPU run's text within 0.2 % word difference of the CPU run's
    local within
    within=$($py -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["word_diff"] <= 0.002))' \
        "$work/runs/agree.json" 2>/dev/null || echo 0)
    if ((gpu)) && [[ $busy != *" on cuda;"* ]]; then
        note e2e FAIL $((SECONDS - t)) "$s (the GPU rank did not run its networks on CUDA)"
        failed=1
    elif ((arc == 0 && within == 1)); then
        note e2e ok $((SECONDS - t)) "$s"
    else
        note e2e FAIL $((SECONDS - t)) "$s (word difference over 0.2 % or a run incomplete)"
        failed=1
    fi
}

step_extra() {
    local t=$SECONDS left=$((360 - ($(date +%s) - T0)))
    : >"$out/extra.log"
    if ! ((gpu)); then
        note extra skip 0 "no GPU"
        return
    fi
    if ((left < 60)); then
        note extra skip 0 "no time left (${left}s)"
        return
    fi
    run "$out/extra.log" $((left / 2)) sh "$root/tests/cuda/sanitize.sh" "$bt/cuda_models_test"
    local san=$?
    local x=$work/runs/x_det.npy f r
    $py -c 'import numpy as np, sys; np.save(sys.argv[1], np.random.default_rng(0).random((8,3,960,736), dtype=np.float32) * 2 - 1)' "$x"
    r=""
    for f in 1 0; do
        QUIRE_CUDA_CONV_FIND=$f run "$out/extra.log" 60 "$bt/nn_bench" "$B/models/ch_PP-OCRv4_det_infer.onnx" \
            "$x" "$work/runs/y.npy" cuda 10
        r+="find=$f $(grep -o 'median_ms=[0-9.]*' "$out/extra.log" | tail -1) "
    done
    note extra info $((SECONDS - t)) "compute-sanitizer rc $san; det batch 8: $r"
}

step_env
step_tests
step_bench
step_e2e
step_extra

{
    echo "quire GPU check ($( ((rehearse)) && echo rehearsal || echo GPU)), $(($(date +%s) - T0)) s, logs in $out"
    printf '%s\n' "${summary[@]}"
    ((failed)) && echo "RESULT: FAILED" || echo "RESULT: passed"
} | tee "$out/summary.txt"
exit $failed
