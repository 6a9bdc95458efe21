# shellcheck shell=bash
# Sourced by the project's scripts before mpirun. Open MPI refuses to run as
# root and to start more ranks than cores unless told (shared/HPC.md §1);
# development machines and CI run as root on 2 cores.
if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=1
# containers without CAP_SYS_PTRACE break vader's single-copy path; harmless elsewhere
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# one BLAS thread per rank: ranks already fill the cores
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
