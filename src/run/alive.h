/* Private to src/run: whether the job's peers are still there (alive.c).
 * Without it, a rank whose process is stopped, hung outside MPI or on a node
 * that dropped off the network while the rest of the job survives (srun does
 * not kill a step's other tasks by default) leaves every other rank waiting
 * for it forever, burning the allocation. */
#pragma once

#include <mpi.h>

/* COLLECTIVE over `comm` (it is duplicated: liveness has a communicator of
 * its own, as mpifileutils' progress does, so it never matches the job's
 * messages). Every rank then tells rank 0, and rank 0 tells every rank, that
 * it is alive a few times per `timeout` seconds; a rank that hears nothing
 * from a peer it watches for `timeout` seconds prints why in one line and
 * aborts the job (MPI_Abort, exit status 1): no collective can finish
 * without the lost peer. Rank 0 watches every rank, the others watch rank 0.
 * timeout <= 0, or one rank alone: nothing is watched. */
int run_alive_start(MPI_Comm comm, double timeout);

/* Sends and takes the signs of life that are due. Called from every loop a
 * rank waits or works in (run_wait, the dispatch loop, a worker waiting on
 * its reader, the OCR server); cheap when nothing is due (one clock read). */
void run_alive_tick(void);

/* Ends the watch (not collective: after the work phase's last agreement,
 * which every rank has reached). Messages still unread are drained. */
void run_alive_stop(void);

/* In a forked reader process: this process is not part of the job (it must
 * never touch MPI), so ticks do nothing here. */
void run_alive_forget(void);
