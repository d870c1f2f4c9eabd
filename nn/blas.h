/* blas.h - the BLAS under nn/: which OpenBLAS kernel runs, and its threads.
 *
 * Debian's OpenBLAS is built with DYNAMIC_ARCH: when it is loaded it picks
 * one kernel family for the CPU it finds (openblas_get_corename()).  A CPU
 * newer than the OpenBLAS release gets a weaker family than it supports
 * (0.3.21 picks Haswell on an AMD Zen 5, and Prescott, its SSE3
 * family, on an Emerald Rapids Xeon), and every product then runs two to four times slower.
 *
 * nn_blas_init() reads the CPU's features (cpuid and XGETBV: what the CPU
 * has and the OS saves), ranks them as the kernel families do:
 *
 *   level 0  SSE only          (Prescott, Nehalem, ...)
 *   level 1  AVX               Sandybridge
 *   level 2  AVX2 with FMA     Haswell (also Zen, Excavator)
 *   level 3  AVX-512 F/DQ/BW/VL  SkylakeX
 *   level 4  AVX-512 with BF16   Cooperlake (also SapphireRapids)
 *
 * and, when OpenBLAS's own family ranks below the CPU's level, switches
 * OpenBLAS to the family of the CPU's level.  How: OpenBLAS reads
 * OPENBLAS_CORETYPE only in gotoblas_dynamic_init(), which its load runs
 * once; both that function and gotoblas_dynamic_quit() are exported by the
 * DYNAMIC_ARCH library, so nn_blas_init() sets the variable, runs quit and
 * init again (before any product has run: nothing is allocated from the
 * old family's sizes then), and restores the environment as it was.  It
 * needs no re-exec, so it works in a plug-in and in any host process.
 *
 * A user's own OPENBLAS_CORETYPE is respected (nothing is changed).  A
 * BLAS without those two functions (a single-architecture OpenBLAS, or
 * another BLAS) is left as it is.
 *
 * nn_model_build() calls nn_blas_init(), so every program that builds or
 * loads a model gets the right kernel with nothing to do; it is cheap and
 * thread-safe (pthread_once), and a program may call it first itself.
 */
#ifndef NN_BLAS_H
#define NN_BLAS_H

#include <stddef.h>
#include "error.h"

typedef enum nn_blas_how {
  NN_BLAS_OWN,      /* OpenBLAS's own choice, already as strong as the CPU */
  NN_BLAS_CHOSEN,   /* switched by nn_blas_init to the CPU's level */
  NN_BLAS_USER,     /* OPENBLAS_CORETYPE was set by the user: respected */
  NN_BLAS_FIXED     /* no dynamic kernels, or a CPU of unknown features */
} nn_blas_how;

typedef struct nn_blas_state {
  const char *kernel;     /* the family in use now (OpenBLAS's name) */
  const char *openblas;   /* the family OpenBLAS chose by itself */
  int cpu_level;          /* the CPU's level (above), -1 when unknown */
  nn_blas_how how;
} nn_blas_state;

/* Chooses the kernel (once per process) and returns the state. */
const nn_blas_state *nn_blas_init (void);

/* One line for logs, e.g. "Cooperlake (chosen for this CPU: AVX-512 BF16;
 * OpenBLAS alone picks Haswell)".  Calls nn_blas_init. */
const char *nn_blas_describe (char *buf, size_t size);

/* The CPU's level (-1 on a CPU that is not x86-64) and a kernel family's
 * level by its OpenBLAS name (-1 for a name not in the table above;
 * names not listed there but known to be SSE-only give 0). */
int nn_blas_cpu_level (void);
int nn_blas_kernel_level (const char *name);
/* The family OpenBLAS 0.3.21 names for a level (NULL for level < 1). */
const char *nn_blas_level_kernel (int level);

/* Switches OpenBLAS to the kernel family NAME (OpenBLAS's spelling, as in
 * the table above), for a program that wants one (bench, tests).  Only
 * while no product runs in any thread.  Errors: no dynamic kernels, or a
 * family this OpenBLAS does not have (the kernel is then left as it was). */
nn_code nn_blas_use_kernel (const char *name, nn_error *err);

/* OpenBLAS's thread count for its own products (openblas_set_num_threads). */
void nn_blas_set_threads (int threads);

#endif
