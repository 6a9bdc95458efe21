# Shared by the Slurm tests: the e2e helpers, the cluster check, job helpers.
# shellcheck source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"
SLURM_DIR=$QUIRE_SRC/slurm
W=$E2E_WORK/slurm
mkdir -p "$W"
export QUIRE=$QUIRE_BIN # the sbatch scripts run $QUIRE (sbatch passes the environment on)

# exit 77 (skipped) when no cluster answers: tests/slurm/start.sh could not start one
scontrol ping 2>/dev/null | grep -q UP || { echo "SKIP: no Slurm cluster (tests/slurm/start.sh)"; exit 77; }

# The test corpus and a manifest of it (made by the slurm_corpus fixture).
slurm_corpus() { echo "$W/corpus"; }
slurm_manifest() { echo "$W/manifest.txt"; }

# sbatch_quire OUTFILE SCRIPT [SBATCH OPTIONS...] -- [QUIRE RUN ARGS...]: submits, prints the id.
# Small shapes for this 4-CPU, 1-GPU test node; --time leaves room for a slow CI.
sbatch_quire() {
  local log=$1 script=$2; shift 2
  local opts=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  sbatch --parsable --time=10 --output="$log" --chdir="$W" "${opts[@]}" "$SLURM_DIR/$script" "$@"
}

# job_wait ID [SECONDS]: until the job (every task of an array) has left the queue
job_wait() {
  local id=$1 t=${2:-300}
  for _ in $(seq $((t * 5))); do
    squeue -h -j "$id" 2>/dev/null | grep -q . || return 0
    sleep 0.2
  done
  scontrol show job "$id" >&2
  fail "job $id still in the queue after $t s"
}

job_state() { scontrol show job "$1" | grep -o 'JobState=[A-Z_]*' | head -n 1 | cut -d= -f2; }

# wait_shard OUT: until the first journal shard is closed
wait_shard() {
  for _ in $(seq 3000); do
    find "$1/journal" -name '*.h5' 2>/dev/null | grep -q . && return 0
    sleep 0.01
  done
  fail "no journal shard in $1 after 30 s"
}

# resumed_mid_run LOG: the log's "resuming: D of T" has 0 < D < T
resumed_mid_run() {
  local line d t
  line=$(grep -o "resuming: [0-9]* of [0-9]*" "$1" | tail -n 1) || fail "no 'resuming' line in $1"
  read -r _ d _ t <<<"$line"
  [ "$d" -gt 0 ] && [ "$d" -lt "$t" ] || fail "the stop did not land mid-run ($line)"
}
