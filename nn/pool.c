/* pool.c - max pooling.  The backward pass finds each window's maximum
 * again instead of storing indices. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pool.h"

int
nn_maxpool_desc_init (maxpool_desc *d, int n, int c, int h, int w, int k,
                   int stride, int pad)
{
  d->n = n;
  d->c = c;
  d->h = h;
  d->w = w;
  d->k = k;
  d->stride = stride;
  d->pad = pad;
  if (n <= 0 || c <= 0 || h <= 0 || w <= 0 || k <= 0 || stride <= 0
      || pad < 0 || 2 * pad > k || h + 2 * pad < k || w + 2 * pad < k)
    return -1;
  d->oh = (h + 2 * pad - k) / stride + 1;
  d->ow = (w + 2 * pad - k) / stride + 1;
  return 0;
}

/* Index within the plane of the window's first maximum (NaN wins, as in
 * PyTorch). */
static int
maxpool_argmax (const maxpool_desc *d, const float *plane, int oy, int ox)
{
  int best = -1;
  float bv = -INFINITY;
  const int y0 = oy * d->stride - d->pad, x0 = ox * d->stride - d->pad;
  for (int ky = 0; ky < d->k; ky++)
    {
      const int iy = y0 + ky;
      if (iy < 0 || iy >= d->h)
        continue;
      for (int kx = 0; kx < d->k; kx++)
        {
          const int ix = x0 + kx;
          if (ix < 0 || ix >= d->w)
            continue;
          const float v = plane[iy * d->w + ix];
          if (best < 0 || v > bv || isnan (v))
            {
              best = iy * d->w + ix;
              bv = v;
              if (isnan (v))
                return best;
            }
        }
    }
  return best;
}

/* maxpool_argmax for a window wholly inside the plane. */
static inline int
maxpool_argmax_inside (const maxpool_desc *d, const float *plane, int oy,
                       int ox)
{
  const int y0 = oy * d->stride - d->pad, x0 = ox * d->stride - d->pad;
  int best = y0 * d->w + x0;
  float bv = plane[best];
  if (isnan (bv))
    return best;
  for (int ky = 0; ky < d->k; ky++)
    {
      const float *row = plane + (size_t) (y0 + ky) * d->w + x0;
      for (int kx = 0; kx < d->k; kx++)
        {
          const float v = row[kx];
          if (v > bv)
            {
              best = (y0 + ky) * d->w + x0 + kx;
              bv = v;
            }
          else if (isnan (v))
            return (y0 + ky) * d->w + x0 + kx;
        }
    }
  return best;
}

/* The first maximum of window (oy, ox): the fast path where the window is
 * inside the plane. */
static inline int
maxpool_find (const maxpool_desc *d, const float *plane, int oy, int ox)
{
  const int y0 = oy * d->stride - d->pad, x0 = ox * d->stride - d->pad;
  if (y0 >= 0 && x0 >= 0 && y0 + d->k <= d->h && x0 + d->k <= d->w)
    return maxpool_argmax_inside (d, plane, oy, ox);
  return maxpool_argmax (d, plane, oy, ox);
}

/* The outputs lo .. hi - 1 of a side of in pixels (out outputs) whose
 * windows lie wholly inside it (lo == hi when none). */
static void
maxpool_inside (int in, int out, int k, int s, int p, int *lo, int *hi)
{
  int l = (p + s - 1) / s, h = in - k + p >= 0 ? (in - k + p) / s + 1 : 0;
  if (h > out)
    h = out;
  if (l > h)
    l = h;
  *lo = l;
  *hi = h;
}

/* max (a, b) where NaN wins (as PyTorch's max pooling). */
static inline float
max_nan (float a, float b)
{
  return a > b || a != a ? a : b;
}

/* One plane, separably: each row's maxima over the k columns of every
 * output column into rows (h x ow), then the maxima over the k rows of
 * every output row.  Max is exact, so the values equal the window-wise
 * search's; the backward pass finds the positions itself. */
static void
maxpool_plane (const maxpool_desc *d, const float *xp, float *yp,
               float *rows)
{
  const int k = d->k, s = d->stride, p = d->pad, w = d->w, ow = d->ow;
  int lo, hi;
  maxpool_inside (d->w, d->ow, k, s, p, &lo, &hi);
  for (int iy = 0; iy < d->h; iy++)
    {
      const float *xr = xp + (size_t) iy * w;
      float *r = rows + (size_t) iy * ow;
      for (int ox = 0; ox < ow; ox++)
        {
          if (ox == lo)
            ox = hi; /* the windows inside the row: below */
          if (ox >= ow)
            break;
          int x0 = ox * s - p, x1 = x0 + k;
          x0 = x0 < 0 ? 0 : x0;
          x1 = x1 > w ? w : x1;
          float m = xr[x0];
          for (int ix = x0 + 1; ix < x1; ix++)
            m = max_nan (m, xr[ix]);
          r[ox] = m;
        }
      /* column by column of the window, so that the loop over the
       * outputs vectorizes */
      for (int ox = lo; ox < hi; ox++)
        r[ox] = xr[ox * s - p];
      for (int kx = 1; kx < k; kx++)
        for (int ox = lo; ox < hi; ox++)
          r[ox] = max_nan (r[ox], xr[ox * s - p + kx]);
    }
  for (int oy = 0; oy < d->oh; oy++)
    {
      int y0 = oy * s - p, y1 = y0 + k;
      y0 = y0 < 0 ? 0 : y0;
      y1 = y1 > d->h ? d->h : y1;
      float *yr = yp + (size_t) oy * ow;
      memcpy (yr, rows + (size_t) y0 * ow, (size_t) ow * sizeof *yr);
      for (int iy = y0 + 1; iy < y1; iy++)
        {
          const float *r = rows + (size_t) iy * ow;
          for (int ox = 0; ox < ow; ox++)
            yr[ox] = max_nan (yr[ox], r[ox]);
        }
    }
}

void
nn_maxpool_forward (const maxpool_desc *d, const float *x, float *y)
{
  const int planes = d->n * d->c;
#pragma omp parallel
  {
    float *rows = malloc ((size_t) d->h * d->ow * sizeof *rows);
#pragma omp for schedule(static)
    for (int pl = 0; pl < planes; pl++)
      {
        const float *xp = x + (size_t) pl * d->h * d->w;
        float *yp = y + (size_t) pl * d->oh * d->ow;
        if (rows)
          maxpool_plane (d, xp, yp, rows);
        else
          for (int oy = 0; oy < d->oh; oy++)
            for (int ox = 0; ox < d->ow; ox++)
              yp[oy * d->ow + ox] = xp[maxpool_find (d, xp, oy, ox)];
      }
    free (rows);
  }
}

/* at[ox] = the first maximum of window (oy, ox) for the outputs lo ..
 * hi - 1 of a row whose windows are inside the plane, the candidates
 * taken in maxpool_argmax_inside's order for all outputs at once (the
 * loop over the outputs vectorizes); bv: hi floats of scratch. */
static void
maxpool_row_argmax (const maxpool_desc *d, const float *plane, int oy, int lo,
                    int hi, int *at, float *bv)
{
  const int s = d->stride, y0 = oy * s - d->pad;
  for (int ky = 0; ky < d->k; ky++)
    for (int kx = 0; kx < d->k; kx++)
      {
        const int base = (y0 + ky) * d->w - d->pad + kx;
        const float *row = plane + base;
        if (ky == 0 && kx == 0)
          for (int ox = lo; ox < hi; ox++)
            {
              bv[ox] = row[ox * s];
              at[ox] = base + ox * s;
            }
        else
          for (int ox = lo; ox < hi; ox++)
            {
              const float v = row[ox * s], b = bv[ox];
              /* greater, or the first NaN */
              const int take = v > b || (v != v && b == b);
              bv[ox] = take ? v : b;
              at[ox] = take ? base + ox * s : at[ox];
            }
      }
}

void
nn_maxpool_backward (const maxpool_desc *d, const float *x, const float *dy,
                  float *dx)
{
  const int planes = d->n * d->c;
  int lo, hi, ylo, yhi;
  maxpool_inside (d->w, d->ow, d->k, d->stride, d->pad, &lo, &hi);
  maxpool_inside (d->h, d->oh, d->k, d->stride, d->pad, &ylo, &yhi);
#pragma omp parallel
  {
    int *at = malloc ((size_t) d->ow * sizeof *at);
    float *bv = malloc ((size_t) d->ow * sizeof *bv);
#pragma omp for schedule(static)
    for (int pl = 0; pl < planes; pl++)
      {
        const float *xp = x + (size_t) pl * d->h * d->w;
        const float *gp = dy + (size_t) pl * d->oh * d->ow;
        float *op = dx + (size_t) pl * d->h * d->w;
        memset (op, 0, sizeof (float) * d->h * d->w);
        for (int oy = 0; oy < d->oh; oy++)
          {
            const float *g = gp + (size_t) oy * d->ow;
            const int inside = at && bv && oy >= ylo && oy < yhi;
            if (inside)
              maxpool_row_argmax (d, xp, oy, lo, hi, at, bv);
            for (int ox = 0; ox < d->ow; ox++)
              op[inside && ox >= lo && ox < hi ? at[ox]
                 : maxpool_find (d, xp, oy, ox)] += g[ox];
          }
      }
    free (at);
    free (bv);
  }
}
