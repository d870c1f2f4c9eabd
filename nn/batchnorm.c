/* batchnorm.c - batch normalization over n x c x hw tensors. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include "batchnorm.h"

#define AT(p, d, i, ch) ((p) + ((size_t) (i) * (d)->c + (ch)) * (d)->hw)

/* y = x * scale + shift (then the fused ReLU) over channel ch */
static void
bn_apply (const batchnorm_desc *d, const float *x, float *y, int ch,
          float scale, float shift)
{
  for (int i = 0; i < d->n; i++)
    {
      const float *xp = AT (x, d, i, ch);
      float *yp = AT (y, d, i, ch);
      if (d->relu)
#pragma omp simd
        for (int p = 0; p < d->hw; p++)
          {
            const float v = xp[p] * scale + shift;
            yp[p] = v > 0.0f ? v : 0.0f;
          }
      else
#pragma omp simd
        for (int p = 0; p < d->hw; p++)
          yp[p] = xp[p] * scale + shift;
    }
}

int
nn_batchnorm_forward_train (const batchnorm_desc *d, const float *x,
                         const float *gamma, const float *beta,
                         float *running_mean, float *running_var, float *y,
                         float *save_mean, float *save_invstd)
{
  /* sums[0..c): per-channel sums, then centred squares; sums[c]: count */
  double *sums = malloc (sizeof (double) * ((size_t) d->c + 1));
  if (!sums)
    return -1;
#pragma omp parallel for schedule(static)
  for (int ch = 0; ch < d->c; ch++)
    {
      double sum = 0.0;
      for (int i = 0; i < d->n; i++)
        {
          const float *xp = AT (x, d, i, ch);
#pragma omp simd reduction(+:sum)
          for (int p = 0; p < d->hw; p++)
            sum += xp[p];
        }
      sums[ch] = sum;
    }
  sums[d->c] = (double) d->n * d->hw;
  if (d->reduce)
    d->reduce (sums, d->c + 1, d->reduce_data);
  const double count = sums[d->c];
  for (int ch = 0; ch < d->c; ch++)
    save_mean[ch] = (float) (sums[ch] / count);
#pragma omp parallel for schedule(static)
  for (int ch = 0; ch < d->c; ch++)
    {
      const double mean = sums[ch] / count;
      double sq = 0.0;
      for (int i = 0; i < d->n; i++)
        {
          const float *xp = AT (x, d, i, ch);
#pragma omp simd reduction(+:sq)
          for (int p = 0; p < d->hw; p++)
            {
              const double t = xp[p] - mean;
              sq += t * t;
            }
        }
      sums[ch] = sq;
    }
  if (d->reduce)
    d->reduce (sums, d->c, d->reduce_data);
#pragma omp parallel for schedule(static)
  for (int ch = 0; ch < d->c; ch++)
    {
      const double mean = save_mean[ch];
      const double var = sums[ch] / count;
      const double invstd = 1.0 / sqrt (var + d->eps);
      const float scale = (float) (gamma[ch] * invstd);
      const float shift = (float) (beta[ch] - mean * gamma[ch] * invstd);
      bn_apply (d, x, y, ch, scale, shift);
      save_invstd[ch] = (float) invstd;
      const double unbiased = count > 1 ? var * count / (count - 1) : var;
      running_mean[ch] = (float) ((1.0 - d->momentum) * running_mean[ch]
                                  + d->momentum * mean);
      running_var[ch] = (float) ((1.0 - d->momentum) * running_var[ch]
                                 + d->momentum * unbiased);
    }
  free (sums);
  return 0;
}

void
nn_batchnorm_forward_infer (const batchnorm_desc *d, const float *x,
                         const float *gamma, const float *beta,
                         const float *running_mean, const float *running_var,
                         float *y)
{
#pragma omp parallel for schedule(static)
  for (int ch = 0; ch < d->c; ch++)
    {
      const double invstd = 1.0 / sqrt ((double) running_var[ch] + d->eps);
      const float scale = (float) (gamma[ch] * invstd);
      const float shift
        = (float) (beta[ch] - (double) running_mean[ch] * gamma[ch] * invstd);
      bn_apply (d, x, y, ch, scale, shift);
    }
}

int
nn_batchnorm_backward (const batchnorm_desc *d, int training, const float *x,
                    const float *dy, const float *gamma, const float *mean,
                    const float *invstd, float *dx, float *dgamma,
                    float *dbeta)
{
  /* sums: sum(dy) per channel, sum(dy * (x - mean)) per channel, count */
  double *sums = malloc (sizeof (double) * (2 * (size_t) d->c + 1));
  if (!sums)
    return -1;
#pragma omp parallel for schedule(static)
  for (int ch = 0; ch < d->c; ch++)
    {
      const double mu = mean[ch];
      double sdy = 0.0, sdyx = 0.0;
      for (int i = 0; i < d->n; i++)
        {
          const float *xp = AT (x, d, i, ch);
          const float *gp = AT (dy, d, i, ch);
          const float *rp = d->relu_y ? AT (d->relu_y, d, i, ch) : NULL;
          if (rp)
#pragma omp simd reduction(+:sdy, sdyx)
            for (int p = 0; p < d->hw; p++)
              {
                const float gq = gp[p]; /* loaded unconditionally: vectorizes */
                const float gv = rp[p] > 0.0f ? gq : 0.0f;
                sdy += gv;
                sdyx += gv * (xp[p] - mu);
              }
          else
#pragma omp simd reduction(+:sdy, sdyx)
            for (int p = 0; p < d->hw; p++)
              {
                sdy += gp[p];
                sdyx += gp[p] * (xp[p] - mu);
              }
        }
      sums[ch] = sdy;
      sums[d->c + ch] = sdyx;
      dbeta[ch] += (float) sdy;
      dgamma[ch] += (float) (sdyx * invstd[ch]);
    }
  sums[2 * d->c] = (double) d->n * d->hw;
  if (dx && training && d->reduce)
    d->reduce (sums, 2 * d->c + 1, d->reduce_data);
  if (dx)
    {
      const double count = sums[2 * d->c];
#pragma omp parallel for schedule(static)
      for (int ch = 0; ch < d->c; ch++)
        {
          const double mu = mean[ch], is = invstd[ch];
          const double g = gamma[ch] * is;
          if (training)
            {
              /* dx = g * (dy - mean(dy) - xhat * mean(dy * xhat)) */
              const double mdy = sums[ch] / count;
              const double k = sums[d->c + ch] * is * is / count;
              for (int i = 0; i < d->n; i++)
                {
                  const float *xp = AT (x, d, i, ch);
                  const float *gp = AT (dy, d, i, ch);
                  float *op = AT (dx, d, i, ch);
                  const float *rp = d->relu_y ? AT (d->relu_y, d, i, ch) : NULL;
                  if (rp)
#pragma omp simd
                    for (int p = 0; p < d->hw; p++)
                      {
                        const float gq = gp[p];
                        op[p] = (float) (g * ((rp[p] > 0.0f ? gq : 0.0f)
                                              - mdy - (xp[p] - mu) * k));
                      }
                  else
#pragma omp simd
                    for (int p = 0; p < d->hw; p++)
                      op[p] = (float) (g * (gp[p] - mdy - (xp[p] - mu) * k));
                }
            }
          else
            for (int i = 0; i < d->n; i++)
              {
                const float *gp = AT (dy, d, i, ch);
                float *op = AT (dx, d, i, ch);
                const float *rp = d->relu_y ? AT (d->relu_y, d, i, ch) : NULL;
                if (rp)
#pragma omp simd
                  for (int p = 0; p < d->hw; p++)
                    {
                      const float gq = gp[p];
                      op[p] = (float) (g * (rp[p] > 0.0f ? gq : 0.0f));
                    }
                else
#pragma omp simd
                  for (int p = 0; p < d->hw; p++)
                    op[p] = (float) (g * gp[p]);
              }
        }
    }
  free (sums);
  return 0;
}
