/* context.c - global context (see context.h).  Sums in double, in a
 * fixed order: every thread count gives the same bits. */
#include <stdlib.h>
#include "context.h"

/* Mean of each of image img's cs planes of s. */
static void
plane_means (const nn_context_desc *d, const float *s, int img, double *m)
{
  for (int j = 0; j < d->cs; j++)
    {
      const float *p = s + ((size_t) img * d->cs + j) * d->shw;
      double sum = 0.0;
      for (int k = 0; k < d->shw; k++)
        sum += p[k];
      m[j] = sum / d->shw;
    }
}

void
nn_context_forward (const nn_context_desc *d, const float *x, const float *s,
                    const float *w, float *y)
{
#pragma omp parallel for schedule(static)
  for (int img = 0; img < d->n; img++)
    {
      double m[NN_CONTEXT_MAX_CHANNELS];
      plane_means (d, s, img, m);
      for (int i = 0; i < d->c; i++)
        {
          double b = 0.0;
          for (int j = 0; j < d->cs; j++)
            b += (double) w[(size_t) i * d->cs + j] * m[j];
          const size_t off = ((size_t) img * d->c + i) * d->hw;
          const float bf = (float) b;
          for (int k = 0; k < d->hw; k++)
            y[off + k] = x[off + k] + bf;
        }
    }
}

int
nn_context_backward (const nn_context_desc *d, const float *s,
                     const float *w, const float *dy, float *ds, float *dw)
{
  const int n = d->n, c = d->c, cs = d->cs;
  double *gm = malloc ((size_t) n * (c + cs) * sizeof (double));
  if (!gm)
    return -1;
#pragma omp parallel for schedule(static)
  for (int img = 0; img < n; img++)
    {
      double *g = gm + (size_t) img * (c + cs), *m = g + c;
      plane_means (d, s, img, m);
      for (int i = 0; i < c; i++)
        {
          const float *p = dy + ((size_t) img * c + i) * d->hw;
          double sum = 0.0;
          for (int k = 0; k < d->hw; k++)
            sum += p[k];
          g[i] = sum;
        }
      if (!ds)
        continue;
      for (int j = 0; j < cs; j++)
        {
          double t = 0.0;
          for (int i = 0; i < c; i++)
            t += (double) w[(size_t) i * cs + j] * g[i];
          const float v = (float) (t / d->shw);
          float *q = ds + ((size_t) img * cs + j) * d->shw;
          for (int k = 0; k < d->shw; k++)
            q[k] = v;
        }
    }
  for (int i = 0; i < c; i++)
    for (int j = 0; j < cs; j++)
      {
        double t = 0.0;
        for (int img = 0; img < n; img++)
          t += gm[(size_t) img * (c + cs) + i]
               * gm[(size_t) img * (c + cs) + c + j];
        dw[(size_t) i * cs + j] += (float) t;
      }
  free (gm);
  return 0;
}
