/* mpijob.h - the processes of a data-parallel training job (issue 4).
 *
 * Built with -DCOLORIZE_MPI (make MPI=1) these functions use MPI; without
 * it there is one process, rank 0 of 1, and every sum is the value itself,
 * so train.c has one code path for both builds.
 *
 * Usage (train.c):
 *   mpijob job;
 *   mpijob_init (&job, msg, len);         MPI_Init_thread, rank, size
 *   ... load data ...
 *   if (mpijob_agree (&job, failed, data_hash)) ... another process failed
 *   per step:  m->bn_reduce = mpijob_bn_reduce (batch-norm sums),
 *              mpijob_sum_floats (&job, m->grad_block, count),
 *              mpijob_sum_doubles (&job, control, 3)   (loss, stop flags)
 *   mpijob_finish (&job, rc)               MPI_Finalize, or MPI_Abort when a
 *                                          process fails in the middle of
 *                                          the training loop
 *
 * Only the main thread calls MPI (MPI_THREAD_FUNNELED).  MPI errors are
 * fatal (MPI_ERRORS_ARE_FATAL: the job ends), so a lost process never
 * leaves the others waiting.
 */
#ifndef COLORIZE_MPIJOB_H
#define COLORIZE_MPIJOB_H

#include <stddef.h>
#include <stdint.h>

typedef struct mpijob {
  int rank, size;
  int started;          /* MPI_Init was called by mpijob_init */
  int agreed;           /* mpijob_agree has been called */
  int in_loop;          /* between agree and the collective end of the loop */
  int saved_stderr;     /* rank > 0: stderr while options are parsed, or -1 */
  /* Communication counters (all calls since mpijob_init). */
  double grad_s, bn_s, ctl_s;        /* seconds inside MPI_Allreduce */
  double grad_bytes, bn_bytes;       /* bytes of data reduced */
  long grad_calls, bn_calls, ctl_calls;
} mpijob;

/* Starts MPI (when built with it) and fills rank and size.  Returns 0, or
 * -1 with a message. */
int mpijob_init (mpijob *job, char *msg, size_t len);

/* Rank > 0: sends stderr to /dev/null (the option errors every process
 * would print alike) until mpijob_quiet_end. */
void mpijob_quiet_begin (mpijob *job);
void mpijob_quiet_end (mpijob *job);

/* The start of training, called once by every process: returns 0 when no
 * process failed and all hold the same data (data_hash), 1 when some
 * process failed (it printed why), 2 when the data differ. */
int mpijob_agree (mpijob *job, int failed, uint64_t data_hash);

/* In-place elementwise sums over every process. */
void mpijob_sum_floats (mpijob *job, float *values, size_t count);
void mpijob_sum_doubles (mpijob *job, double *values, int count);

/* nn_model.bn_reduce: user_data is the mpijob. */
void mpijob_bn_reduce (double *values, int count, void *user_data);

/* Rank 0's value, on every process. */
int64_t mpijob_bcast_i64 (mpijob *job, int64_t value);

/* Ends MPI: MPI_Finalize, or, when rc != 0 while job->in_loop (this
 * process failed in the middle of training, the others wait for it),
 * MPI_Abort (every process ends, mpirun exits non-zero).  Returns rc. */
int mpijob_finish (mpijob *job, int rc);

#endif
