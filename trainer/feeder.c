/* feeder.c - train's batches made by worker threads (feeder.h). */
#include <stdio.h>
#include <stdlib.h>
#include "feeder.h"

static void
feeder_fill (feeder *fd, feeder_slot *sl, int64_t step, trainset_cursor *cur)
{
  size_t plane = (size_t) fd->crop * fd->crop;
  sl->failed = 0;
  for (int i = 0; i < fd->nb && !sl->failed; i++)
    {
      uint64_t k = (uint64_t) step * fd->batch + fd->j0 + i;
      if (trainset_sample (cur, fd->seed, k, fd->crop, fd->sc, fd->wt,
                           sl->input + i * plane, sl->target + i * 2 * plane,
                           sl->weight ? sl->weight + i * 2 * plane : NULL,
                           sl->msg, sizeof sl->msg))
        sl->failed = 1;
    }
}

static void *
feeder_main (void *arg)
{
  feeder *fd = arg;
  trainset_cursor *cur = trainset_cursor_new (fd->ts);
  pthread_mutex_lock (&fd->lock);
  while (!fd->quit)
    {
      int64_t step = fd->next;
      if (step >= fd->end || step >= fd->consumed + FEEDER_DEPTH)
        {
          pthread_cond_wait (&fd->cond, &fd->lock);
          continue;
        }
      fd->next++;
      feeder_slot *sl = &fd->slots[step % FEEDER_DEPTH];
      sl->step = step;
      sl->ready = 0;
      pthread_mutex_unlock (&fd->lock);
      if (cur)
        feeder_fill (fd, sl, step, cur);
      else
        snprintf (sl->msg, sizeof sl->msg, "out of memory making batch %lld",
                  (long long) step);
      pthread_mutex_lock (&fd->lock);
      sl->failed |= !cur;
      sl->ready = 1;
      pthread_cond_broadcast (&fd->cond);
    }
  pthread_mutex_unlock (&fd->lock);
  trainset_cursor_free (cur);
  return NULL;
}

int
feeder_start (feeder *fd, int nthreads, int64_t start, int64_t end)
{
  size_t plane = (size_t) fd->crop * fd->crop;
  for (int i = 0; i < FEEDER_DEPTH; i++)
    {
      feeder_slot *sl = &fd->slots[i];
      sl->step = -1;
      sl->input = malloc (plane * fd->nb * sizeof (float));
      sl->target = malloc (plane * 2 * fd->nb * sizeof (float));
      sl->weight = fd->wt ? malloc (plane * 2 * fd->nb * sizeof (float))
                          : NULL;
      if (!sl->input || !sl->target || (fd->wt && !sl->weight))
        return -1;
    }
  fd->next = fd->consumed = start;
  fd->end = end;
  pthread_mutex_init (&fd->lock, NULL);
  pthread_cond_init (&fd->cond, NULL);
  if (nthreads > FEEDER_MAX_THREADS)
    nthreads = FEEDER_MAX_THREADS;
  for (int i = 0; i < nthreads; i++)
    if (pthread_create (&fd->threads[fd->nthreads], NULL, feeder_main, fd) == 0)
      fd->nthreads++;
  return fd->nthreads ? 0 : -1;
}

feeder_slot *
feeder_get (feeder *fd, int64_t step)
{
  feeder_slot *sl = &fd->slots[step % FEEDER_DEPTH];
  pthread_mutex_lock (&fd->lock);
  while (!(sl->step == step && sl->ready))
    pthread_cond_wait (&fd->cond, &fd->lock);
  pthread_mutex_unlock (&fd->lock);
  return sl;
}

void
feeder_done (feeder *fd, int64_t step)
{
  pthread_mutex_lock (&fd->lock);
  fd->consumed = step + 1;
  pthread_cond_broadcast (&fd->cond);
  pthread_mutex_unlock (&fd->lock);
}

void
feeder_set_end (feeder *fd, int64_t end)
{
  pthread_mutex_lock (&fd->lock);
  fd->end = end;
  pthread_cond_broadcast (&fd->cond);
  pthread_mutex_unlock (&fd->lock);
}

void
feeder_stop (feeder *fd)
{
  if (fd->nthreads)
    {
      pthread_mutex_lock (&fd->lock);
      fd->quit = 1;
      pthread_cond_broadcast (&fd->cond);
      pthread_mutex_unlock (&fd->lock);
      for (int i = 0; i < fd->nthreads; i++)
        pthread_join (fd->threads[i], NULL);
      pthread_mutex_destroy (&fd->lock);
      pthread_cond_destroy (&fd->cond);
      fd->nthreads = 0;
    }
  for (int i = 0; i < FEEDER_DEPTH; i++)
    {
      free (fd->slots[i].input);
      free (fd->slots[i].target);
      free (fd->slots[i].weight);
      fd->slots[i].input = fd->slots[i].target = fd->slots[i].weight = NULL;
    }
}
