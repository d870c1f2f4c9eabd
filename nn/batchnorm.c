/* batchnorm.c - batch normalization over n x c x hw tensors. */
#include <math.h>
#include <stddef.h>
#include "batchnorm.h"

#define AT(p, d, i, ch) ((p) + ((size_t) (i) * (d)->c + (ch)) * (d)->hw)

void
batchnorm_forward_train (const batchnorm_desc *d, const float *x,
                         const float *gamma, const float *beta,
                         float *running_mean, float *running_var, float *y,
                         float *save_mean, float *save_invstd)
{
  const double count = (double) d->n * d->hw;
#pragma omp parallel for schedule(static)
  for (int ch = 0; ch < d->c; ch++)
    {
      double sum = 0.0;
      for (int i = 0; i < d->n; i++)
        {
          const float *xp = AT (x, d, i, ch);
          for (int p = 0; p < d->hw; p++)
            sum += xp[p];
        }
      const double mean = sum / count;
      double sq = 0.0;
      for (int i = 0; i < d->n; i++)
        {
          const float *xp = AT (x, d, i, ch);
          for (int p = 0; p < d->hw; p++)
            {
              const double t = xp[p] - mean;
              sq += t * t;
            }
        }
      const double var = sq / count;
      const double invstd = 1.0 / sqrt (var + d->eps);
      const float scale = (float) (gamma[ch] * invstd);
      const float shift = (float) (beta[ch] - mean * gamma[ch] * invstd);
      for (int i = 0; i < d->n; i++)
        {
          const float *xp = AT (x, d, i, ch);
          float *yp = AT (y, d, i, ch);
          for (int p = 0; p < d->hw; p++)
            yp[p] = xp[p] * scale + shift;
        }
      save_mean[ch] = (float) mean;
      save_invstd[ch] = (float) invstd;
      const double unbiased = count > 1 ? var * count / (count - 1) : var;
      running_mean[ch] = (float) ((1.0 - d->momentum) * running_mean[ch]
                                  + d->momentum * mean);
      running_var[ch] = (float) ((1.0 - d->momentum) * running_var[ch]
                                 + d->momentum * unbiased);
    }
}

void
batchnorm_forward_infer (const batchnorm_desc *d, const float *x,
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
      for (int i = 0; i < d->n; i++)
        {
          const float *xp = AT (x, d, i, ch);
          float *yp = AT (y, d, i, ch);
          for (int p = 0; p < d->hw; p++)
            yp[p] = xp[p] * scale + shift;
        }
    }
}

void
batchnorm_backward (const batchnorm_desc *d, int training, const float *x,
                    const float *dy, const float *gamma, const float *mean,
                    const float *invstd, float *dx, float *dgamma,
                    float *dbeta)
{
  const double count = (double) d->n * d->hw;
#pragma omp parallel for schedule(static)
  for (int ch = 0; ch < d->c; ch++)
    {
      const double mu = mean[ch], is = invstd[ch];
      double sdy = 0.0, sdyx = 0.0;
      for (int i = 0; i < d->n; i++)
        {
          const float *xp = AT (x, d, i, ch);
          const float *gp = AT (dy, d, i, ch);
          for (int p = 0; p < d->hw; p++)
            {
              sdy += gp[p];
              sdyx += gp[p] * (xp[p] - mu);
            }
        }
      dbeta[ch] += (float) sdy;
      dgamma[ch] += (float) (sdyx * is);
      if (!dx)
        continue;
      const double g = gamma[ch] * is;
      if (training)
        {
          /* dx = g * (dy - mean(dy) - xhat * mean(dy * xhat)) */
          const double mdy = sdy / count;
          const double k = sdyx * is * is / count;
          for (int i = 0; i < d->n; i++)
            {
              const float *xp = AT (x, d, i, ch);
              const float *gp = AT (dy, d, i, ch);
              float *op = AT (dx, d, i, ch);
              for (int p = 0; p < d->hw; p++)
                op[p] = (float) (g * (gp[p] - mdy - (xp[p] - mu) * k));
            }
        }
      else
        {
          for (int i = 0; i < d->n; i++)
            {
              const float *gp = AT (dy, d, i, ch);
              float *op = AT (dx, d, i, ch);
              for (int p = 0; p < d->hw; p++)
                op[p] = (float) (g * gp[p]);
            }
        }
    }
}
