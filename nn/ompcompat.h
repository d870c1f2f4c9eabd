/* ompcompat.h - the few OpenMP runtime calls nn/ makes, with serial
 * stand-ins when built without OpenMP (the libFuzzer build uses clang
 * without -fopenmp). */
#ifndef NN_OMPCOMPAT_H
#define NN_OMPCOMPAT_H

#ifdef _OPENMP
#include <omp.h>
#else
#include <time.h>

static inline int
omp_get_max_threads (void)
{
  return 1;
}

static inline int
omp_get_thread_num (void)
{
  return 0;
}

static inline double
omp_get_wtime (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}
#endif

#endif
