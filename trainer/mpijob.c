/* mpijob.c - the processes of a data-parallel training job; see mpijob.h. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "mpijob.h"

#ifdef COLORIZE_MPI
#include <mpi.h>
#endif

int
mpijob_init (mpijob *job, char *msg, size_t len)
{
  memset (job, 0, sizeof *job);
  job->rank = 0;
  job->size = 1;
  job->saved_stderr = -1;
#ifdef COLORIZE_MPI
  int provided = 0;
  if (MPI_Init_thread (NULL, NULL, MPI_THREAD_FUNNELED, &provided)
      != MPI_SUCCESS)
    {
      snprintf (msg, len, "MPI_Init_thread failed");
      return -1;
    }
  job->started = 1;
  MPI_Comm_rank (MPI_COMM_WORLD, &job->rank);
  MPI_Comm_size (MPI_COMM_WORLD, &job->size);
  if (provided < MPI_THREAD_FUNNELED && job->size > 1)
    {
      /* The data workers are threads that never call MPI; an MPI without
       * even FUNNELED support cannot be trusted with them. */
      snprintf (msg, len, "this MPI library does not support threads "
                "(MPI_THREAD_FUNNELED)");
      return -1;
    }
#else
  (void) msg;
  (void) len;
#endif
  return 0;
}

void
mpijob_quiet_begin (mpijob *job)
{
  if (job->rank == 0 || job->saved_stderr >= 0)
    return;
  fflush (stderr);
  int null = open ("/dev/null", O_WRONLY);
  if (null < 0)
    return;
  job->saved_stderr = dup (STDERR_FILENO);
  if (job->saved_stderr >= 0)
    dup2 (null, STDERR_FILENO);
  close (null);
}

void
mpijob_quiet_end (mpijob *job)
{
  if (job->saved_stderr < 0)
    return;
  fflush (stderr);
  dup2 (job->saved_stderr, STDERR_FILENO);
  close (job->saved_stderr);
  job->saved_stderr = -1;
}

#ifdef COLORIZE_MPI

int
mpijob_agree (mpijob *job, int failed, uint64_t data_hash)
{
  job->agreed = 1;
  /* One reduction (MAX) finds a failure and a differing hash:
   * max (~hash) = ~min (hash). */
  uint64_t v[3] = { failed ? 1u : 0u, data_hash, ~data_hash };
  if (job->size > 1)
    MPI_Allreduce (MPI_IN_PLACE, v, 3, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
  if (v[0])
    return 1;
  if (v[1] != ~v[2])
    return 2;
  job->in_loop = 1;
  return 0;
}

void
mpijob_sum_floats (mpijob *job, float *values, size_t count)
{
  if (job->size < 2)
    return;
  double t = MPI_Wtime ();
  for (size_t off = 0; off < count;)
    {
      size_t n = count - off;
      if (n > (size_t) 1 << 30)
        n = (size_t) 1 << 30;
      MPI_Allreduce (MPI_IN_PLACE, values + off, (int) n, MPI_FLOAT, MPI_SUM,
                     MPI_COMM_WORLD);
      off += n;
    }
  job->grad_s += MPI_Wtime () - t;
  job->grad_bytes += (double) count * sizeof (float);
  job->grad_calls++;
}

void
mpijob_sum_doubles (mpijob *job, double *values, int count)
{
  if (job->size < 2)
    return;
  double t = MPI_Wtime ();
  MPI_Allreduce (MPI_IN_PLACE, values, count, MPI_DOUBLE, MPI_SUM,
                 MPI_COMM_WORLD);
  job->ctl_s += MPI_Wtime () - t;
  job->ctl_calls++;
}

void
mpijob_bn_reduce (double *values, int count, void *user_data)
{
  mpijob *job = user_data;
  if (job->size < 2)
    return;
  double t = MPI_Wtime ();
  MPI_Allreduce (MPI_IN_PLACE, values, count, MPI_DOUBLE, MPI_SUM,
                 MPI_COMM_WORLD);
  job->bn_s += MPI_Wtime () - t;
  job->bn_bytes += (double) count * sizeof (double);
  job->bn_calls++;
}

int64_t
mpijob_bcast_i64 (mpijob *job, int64_t value)
{
  if (job->size > 1)
    MPI_Bcast (&value, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
  return value;
}

int
mpijob_finish (mpijob *job, int rc)
{
  mpijob_quiet_end (job);
  if (!job->started)
    return rc;
  if (rc != 0 && job->in_loop && job->size > 1)
    {
      fprintf (stderr, "colorize-train train: process %d of %d failed "
               "(above); ending the job\n", job->rank, job->size);
      fflush (stderr);
      MPI_Abort (MPI_COMM_WORLD, rc);
    }
  MPI_Finalize ();
  job->started = 0;
  return rc;
}

#else /* one process */

int
mpijob_agree (mpijob *job, int failed, uint64_t data_hash)
{
  (void) data_hash;
  job->agreed = 1;
  job->in_loop = !failed;
  return failed ? 1 : 0;
}

void
mpijob_sum_floats (mpijob *job, float *values, size_t count)
{
  (void) job;
  (void) values;
  (void) count;
}

void
mpijob_sum_doubles (mpijob *job, double *values, int count)
{
  (void) job;
  (void) values;
  (void) count;
}

void
mpijob_bn_reduce (double *values, int count, void *user_data)
{
  (void) values;
  (void) count;
  (void) user_data;
}

int64_t
mpijob_bcast_i64 (mpijob *job, int64_t value)
{
  (void) job;
  return value;
}

int
mpijob_finish (mpijob *job, int rc)
{
  mpijob_quiet_end (job);
  return rc;
}

#endif
