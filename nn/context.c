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

/* The hidden layer's pre-activations a = b1 + W1 m. */
static void
hidden_pre (const nn_context_desc *d, const nn_context_params *p,
            const double *m, double *a)
{
  for (int h = 0; h < d->hidden; h++)
    {
      double t = p->b1[h];
      for (int j = 0; j < d->cs; j++)
        t += (double) p->w1[(size_t) h * d->cs + j] * m[j];
      a[h] = t;
    }
}

void
nn_context_forward (const nn_context_desc *d, const float *x, const float *s,
                    const nn_context_params *p, float *y)
{
#pragma omp parallel for schedule(static)
  for (int img = 0; img < d->n; img++)
    {
      double m[NN_CONTEXT_MAX_CHANNELS], a[NN_CONTEXT_MAX_CHANNELS];
      plane_means (d, s, img, m);
      hidden_pre (d, p, m, a);
      for (int i = 0; i < d->c; i++)
        {
          double b = 0.0;
          for (int j = 0; j < d->cs; j++)
            b += (double) p->w[(size_t) i * d->cs + j] * m[j];
          for (int h = 0; h < d->hidden; h++)
            if (a[h] > 0.0)
              b += (double) p->w2[(size_t) i * d->hidden + h] * a[h];
          const size_t off = ((size_t) img * d->c + i) * d->hw;
          const float bf = (float) b;
          for (int k = 0; k < d->hw; k++)
            y[off + k] = x[off + k] + bf;
        }
    }
}

/* One image's part of the backward pass: gi (c: dy summed over each
 * plane), m (cs), r (hidden: the forward's max (a, 0)), da (hidden: the
 * pre-activations' gradients), and ds when wanted. */
static void
image_backward (const nn_context_desc *d, const float *s,
                const nn_context_params *p, const float *dy, float *ds,
                int img, double *gi, double *m, double *r, double *a)
{
  const int c = d->c, cs = d->cs, hid = d->hidden;
  plane_means (d, s, img, m);
  hidden_pre (d, p, m, a);
  for (int h = 0; h < hid; h++)
    r[h] = a[h] > 0.0 ? a[h] : 0.0;
  for (int i = 0; i < c; i++)
    {
      const float *q = dy + ((size_t) img * c + i) * d->hw;
      double sum = 0.0;
      for (int k = 0; k < d->hw; k++)
        sum += q[k];
      gi[i] = sum;
    }
  for (int h = 0; h < hid; h++)
    {
      double t = 0.0;
      if (a[h] > 0.0)
        for (int i = 0; i < c; i++)
          t += (double) p->w2[(size_t) i * hid + h] * gi[i];
      a[h] = t;   /* now da */
    }
  if (!ds)
    return;
  for (int j = 0; j < cs; j++)
    {
      double t = 0.0;
      for (int i = 0; i < c; i++)
        t += (double) p->w[(size_t) i * cs + j] * gi[i];
      for (int h = 0; h < hid; h++)
        t += (double) p->w1[(size_t) h * cs + j] * a[h];
      const float v = (float) (t / d->shw);
      float *q = ds + ((size_t) img * cs + j) * d->shw;
      for (int k = 0; k < d->shw; k++)
        q[k] = v;
    }
}

/* dst[i][j] += sum over images of u[img][i] v[img][j], u and v at offsets
 * uo and vo of each image's stride-long record. */
static void
outer_sum (float *dst, int rows, int cols, const double *rec, int n,
           size_t stride, size_t uo, size_t vo)
{
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < cols; j++)
      {
        double t = 0.0;
        for (int img = 0; img < n; img++)
          t += rec[img * stride + uo + i] * rec[img * stride + vo + j];
        dst[(size_t) i * cols + j] += (float) t;
      }
}

int
nn_context_backward (const nn_context_desc *d, const float *s,
                     const nn_context_params *p, const float *dy, float *ds,
                     const nn_context_params *g)
{
  const int n = d->n, c = d->c, cs = d->cs, hid = d->hidden;
  /* per image: gi (c), m (cs), da (hid), r (hid: the forward's max (a, 0)) */
  const size_t stride = (size_t) c + cs + 2 * (size_t) hid;
  double *rec = malloc ((size_t) n * stride * sizeof (double));
  if (!rec)
    return -1;
#pragma omp parallel for schedule(static)
  for (int img = 0; img < n; img++)
    {
      double *gi = rec + img * stride, *m = gi + c, *da = m + cs,
             *r = da + hid;
      image_backward (d, s, p, dy, ds, img, gi, m, r, da);
    }
  const size_t go = 0, mo = c, dao = mo + cs, ro = dao + hid;
  outer_sum (g->w, c, cs, rec, n, stride, go, mo);
  if (hid)
    {
      outer_sum (g->w2, c, hid, rec, n, stride, go, ro);
      outer_sum (g->w1, hid, cs, rec, n, stride, dao, mo);
      for (int h = 0; h < hid; h++)
        {
          double t = 0.0;
          for (int img = 0; img < n; img++)
            t += rec[img * stride + dao + h];
          g->b1[h] += (float) t;
        }
    }
  free (rec);
  return 0;
}
