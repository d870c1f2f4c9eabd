/* feeder.h - train's batches, made ahead by worker threads.
 *
 * Step s's batch holds this process's samples j0 .. j0+nb-1 of the global
 * batch, global sample k = s * batch + j0 + i made by trainset_sample
 * (seed, k) alone: so a batch is the same whichever thread makes it and
 * whenever, and a run is a pure function of the seed and the step.
 *
 * Threading contract:
 *   - One consumer (the training loop) and nthreads producers (at most
 *     FEEDER_MAX_THREADS), each producer with its own trainset cursor.
 *   - FEEDER_DEPTH slots in a ring: step s lives in slot s % FEEDER_DEPTH.
 *     Producers take the steps in order (`next`) and never run more than
 *     FEEDER_DEPTH steps ahead of the first step not yet done, so a slot
 *     is refilled only after the consumer has called feeder_done on the
 *     step it held.
 *   - The consumer asks for the steps in order: feeder_get (s) blocks
 *     until slot s is ready and returns it; its buffers are the
 *     consumer's until feeder_done (s).  A slot that failed (a damaged
 *     record, out of memory) comes back ready with `failed` set and the
 *     reason in `msg`.
 *   - Every field of the feeder but the slots' buffers is guarded by
 *     `lock`; waits are on the one condition `cond`, broadcast on every
 *     change.  The consumer changes the last step only through
 *     feeder_set_end (--minutes fixes the step count once running).
 *   - feeder_stop wakes and joins every producer (a producer finishes the
 *     batch it is making first), then frees the slots; it may be called
 *     on a feeder whose start failed.
 * The trainset, scaling and weights given to feeder_start must outlive
 * the feeder and are only read. */
#ifndef TRAINER_FEEDER_H
#define TRAINER_FEEDER_H

#include <pthread.h>
#include <stdint.h>
#include "dataset.h"
#include "model.h"
#include "trainset.h"

#define FEEDER_DEPTH 4
#define FEEDER_MAX_THREADS 16

typedef struct feeder_slot {
  int64_t step;            /* the step this slot holds or is filling */
  int ready;
  int failed;
  char msg[512];           /* why it failed */
  float *input, *target, *weight;  /* nb samples; weight only with wt */
} feeder_slot;

typedef struct feeder {
  /* set before feeder_start, then read-only */
  trainset *ts;
  const nn_scaling *sc;
  const dataset_weights *wt;   /* rare-colour weights, or NULL */
  uint64_t seed;
  int batch;               /* the global batch */
  int crop;
  int j0, nb;              /* this process's samples j0 .. j0+nb-1 of a batch */
  /* guarded by lock */
  int64_t next;            /* next step to make */
  int64_t consumed;        /* steps below this are done */
  int64_t end;
  int quit;
  feeder_slot slots[FEEDER_DEPTH];
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int nthreads;
  pthread_t threads[FEEDER_MAX_THREADS];
} feeder;

/* Allocates the slots and starts nthreads producers for the steps start
 * .. end - 1.  Returns 0, or -1 when out of memory or no thread started
 * (then feeder_stop frees what was allocated). */
int feeder_start (feeder *fd, int nthreads, int64_t start, int64_t end);

/* The batch of step (the steps in order); see the contract above. */
feeder_slot *feeder_get (feeder *fd, int64_t step);

/* The consumer is done with step's batch: its slot may be refilled. */
void feeder_done (feeder *fd, int64_t step);

/* Makes end the last step + 1 (the producers stop there). */
void feeder_set_end (feeder *fd, int64_t end);

/* Stops and joins the producers, frees the slots. */
void feeder_stop (feeder *fd);

#endif
