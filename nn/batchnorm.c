/* batchnorm.c - batch normalization over n x c x hw tensors. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include "batchnorm.h"
#include "simd.h"

#define AT(p, d, i, ch) ((p) + ((size_t) (i) * (d)->c + (ch)) * (d)->hw)

/* The statistics' sums: over each plane in parts of BN_PART elements,
 * each part in BN_LANES float partial sums (element p into lane p mod
 * BN_LANES, so that 4, 8 or 16 of them go at once with the same bits),
 * the lanes then added in order into a double. */
#define BN_LANES 16
#define BN_PART 2048

/* y = x * scale + shift (then the fused ReLU) over channel ch */
NN_VECTOR_CLONES static void
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

static double
bn_lanes (const float *part)
{
  double s = 0.0;
  for (int l = 0; l < BN_LANES; l++)
    s += part[l];
  return s;
}

/* The sum of channel ch over the batch (centre 0), or of its squares
 * less centre (squares 1). */
NN_VECTOR_CLONES static double
bn_moment (const batchnorm_desc *d, const float *x, int ch, int squares,
           float centre)
{
  double sum = 0.0;
  for (int i = 0; i < d->n; i++)
    {
      const float *xp = AT (x, d, i, ch);
      for (int p0 = 0; p0 < d->hw; p0 += BN_PART)
        {
          const int p1 = d->hw - p0 < BN_PART ? d->hw : p0 + BN_PART;
          float part[BN_LANES] = { 0.0f };
          int p = p0;
          for (; p + BN_LANES <= p1; p += BN_LANES)
#pragma omp simd
            for (int l = 0; l < BN_LANES; l++)
              {
                const float t = xp[p + l] - centre;
                part[l] += squares ? t * t : xp[p + l];
              }
          for (; p < p1; p++)
            {
              const float t = xp[p] - centre;
              part[(p - p0) % BN_LANES] += squares ? t * t : xp[p];
            }
          sum += bn_lanes (part);
        }
    }
  return sum;
}

static double
bn_sum (const batchnorm_desc *d, const float *x, int ch)
{
  return bn_moment (d, x, ch, 0, 0.0f);
}

/* The sum of the squares of channel ch less mean (rounded to a float). */
static double
bn_centred_squares (const batchnorm_desc *d, const float *x, int ch,
                    double mean)
{
  return bn_moment (d, x, ch, 1, (float) mean);
}

/* Channel ch's output, saved statistics and running averages, from its
 * mean (as saved, a float) and its sum of centred squares sq. */
static void
bn_finish (const batchnorm_desc *d, const float *x, const float *gamma,
           const float *beta, float *running_mean, float *running_var,
           float *y, float *save_invstd, int ch, double mean, double sq,
           double count)
{
  const double var = sq / count;
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

/* Without a reduction across processes each channel goes through its
 * three passes (sum, centred squares, output) at once, while its planes
 * are still in cache: one read of x from memory instead of three, the
 * same operations in the same order, so the same bits.  With one, the
 * sums must be complete before the next pass, channel after channel. */
int
nn_batchnorm_forward_train (const batchnorm_desc *d, const float *x,
                         const float *gamma, const float *beta,
                         float *running_mean, float *running_var, float *y,
                         float *save_mean, float *save_invstd)
{
  const double hw_count = (double) d->n * d->hw;
  if (!d->reduce)
    {
#pragma omp parallel for schedule(static)
      for (int ch = 0; ch < d->c; ch++)
        {
          const double sum = bn_sum (d, x, ch);
          save_mean[ch] = (float) (sum / hw_count);
          const double sq = bn_centred_squares (d, x, ch, sum / hw_count);
          bn_finish (d, x, gamma, beta, running_mean, running_var, y,
                     save_invstd, ch, save_mean[ch], sq, hw_count);
        }
      return 0;
    }
  /* sums[0..c): per-channel sums, then centred squares; sums[c]: count */
  double *sums = malloc (sizeof (double) * ((size_t) d->c + 1));
  if (!sums)
    return -1;
#pragma omp parallel for schedule(static)
  for (int ch = 0; ch < d->c; ch++)
    sums[ch] = bn_sum (d, x, ch);
  sums[d->c] = hw_count;
  d->reduce (sums, d->c + 1, d->reduce_data);
  const double count = sums[d->c];
  for (int ch = 0; ch < d->c; ch++)
    save_mean[ch] = (float) (sums[ch] / count);
#pragma omp parallel for schedule(static)
  for (int ch = 0; ch < d->c; ch++)
    sums[ch] = bn_centred_squares (d, x, ch, sums[ch] / count);
  d->reduce (sums, d->c, d->reduce_data);
#pragma omp parallel for schedule(static)
  for (int ch = 0; ch < d->c; ch++)
    bn_finish (d, x, gamma, beta, running_mean, running_var, y, save_invstd,
               ch, save_mean[ch], sums[ch], count);
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

/* Channel ch's sums of dy and of dy (x - mean) over the batch, dy masked
 * by the fused ReLU's output when there is one (in parts and lanes as
 * bn_moment). */
NN_VECTOR_CLONES static void
bn_grad_sums (const batchnorm_desc *d, const float *x, const float *dy,
              int ch, double mu, double *sdy_out, double *sdyx_out)
{
  double sdy = 0.0, sdyx = 0.0;
  const float m = (float) mu;
  for (int i = 0; i < d->n; i++)
    {
      const float *xp = AT (x, d, i, ch);
      const float *gp = AT (dy, d, i, ch);
      const float *rp = d->relu_y ? AT (d->relu_y, d, i, ch) : NULL;
      for (int p0 = 0; p0 < d->hw; p0 += BN_PART)
        {
          const int p1 = d->hw - p0 < BN_PART ? d->hw : p0 + BN_PART;
          float pg[BN_LANES] = { 0.0f }, pgx[BN_LANES] = { 0.0f };
          int p = p0;
          for (; p + BN_LANES <= p1; p += BN_LANES)
#pragma omp simd
            for (int l = 0; l < BN_LANES; l++)
              {
                const float gq = gp[p + l]; /* loaded unconditionally */
                const float gv = rp && !(rp[p + l] > 0.0f) ? 0.0f : gq;
                pg[l] += gv;
                pgx[l] += gv * (xp[p + l] - m);
              }
          for (; p < p1; p++)
            {
              const float gv = rp && !(rp[p] > 0.0f) ? 0.0f : gp[p];
              pg[(p - p0) % BN_LANES] += gv;
              pgx[(p - p0) % BN_LANES] += gv * (xp[p] - m);
            }
          sdy += bn_lanes (pg);
          sdyx += bn_lanes (pgx);
        }
    }
  *sdy_out = sdy;
  *sdyx_out = sdyx;
}

/* Channel ch of dx, from its sums over the whole batch (training) or
 * from the running statistics alone (not training). */
NN_VECTOR_CLONES static void
bn_grad_input (const batchnorm_desc *d, int training, const float *x,
               const float *dy, const float *gamma, const float *mean,
               const float *invstd, float *dx, int ch, double sdy,
               double sdyx, double count)
{
  const double is = invstd[ch];
  /* training: dx = g * (dy - mean(dy) - xhat * mean(dy * xhat));
   * else dx = g * dy (the constants in double, the elements in float) */
  const float mu = mean[ch], g = (float) (gamma[ch] * is);
  const float mdy = training ? (float) (sdy / count) : 0.0f;
  const float k = training ? (float) (sdyx * is * is / count) : 0.0f;
  for (int i = 0; i < d->n; i++)
    {
      const float *xp = AT (x, d, i, ch);
      const float *gp = AT (dy, d, i, ch);
      float *op = AT (dx, d, i, ch);
      const float *rp = d->relu_y ? AT (d->relu_y, d, i, ch) : NULL;
      if (training && rp)
#pragma omp simd
        for (int p = 0; p < d->hw; p++)
          {
            const float gq = gp[p];
            op[p] = g * ((rp[p] > 0.0f ? gq : 0.0f) - mdy - (xp[p] - mu) * k);
          }
      else if (training)
#pragma omp simd
        for (int p = 0; p < d->hw; p++)
          op[p] = g * (gp[p] - mdy - (xp[p] - mu) * k);
      else if (rp)
#pragma omp simd
        for (int p = 0; p < d->hw; p++)
          {
            const float gq = gp[p];
            op[p] = g * (rp[p] > 0.0f ? gq : 0.0f);
          }
      else
#pragma omp simd
        for (int p = 0; p < d->hw; p++)
          op[p] = g * gp[p];
    }
}

/* As the forward pass: channel by channel at once unless the sums must
 * first be reduced across processes. */
int
nn_batchnorm_backward (const batchnorm_desc *d, int training, const float *x,
                    const float *dy, const float *gamma, const float *mean,
                    const float *invstd, float *dx, float *dgamma,
                    float *dbeta)
{
  const double hw_count = (double) d->n * d->hw;
  const int reduced = dx && training && d->reduce;
  if (!reduced)
    {
#pragma omp parallel for schedule(static)
      for (int ch = 0; ch < d->c; ch++)
        {
          double sdy, sdyx;
          bn_grad_sums (d, x, dy, ch, mean[ch], &sdy, &sdyx);
          dbeta[ch] += (float) sdy;
          dgamma[ch] += (float) (sdyx * invstd[ch]);
          if (dx)
            bn_grad_input (d, training, x, dy, gamma, mean, invstd, dx, ch,
                           sdy, sdyx, hw_count);
        }
      return 0;
    }
  /* sums: sum(dy) per channel, sum(dy * (x - mean)) per channel, count */
  double *sums = malloc (sizeof (double) * (2 * (size_t) d->c + 1));
  if (!sums)
    return -1;
#pragma omp parallel for schedule(static)
  for (int ch = 0; ch < d->c; ch++)
    {
      bn_grad_sums (d, x, dy, ch, mean[ch], &sums[ch], &sums[d->c + ch]);
      dbeta[ch] += (float) sums[ch];
      dgamma[ch] += (float) (sums[d->c + ch] * invstd[ch]);
    }
  sums[2 * d->c] = hw_count;
  d->reduce (sums, 2 * d->c + 1, d->reduce_data);
#pragma omp parallel for schedule(static)
  for (int ch = 0; ch < d->c; ch++)
    bn_grad_input (d, training, x, dy, gamma, mean, invstd, dx, ch, sums[ch],
                   sums[d->c + ch], sums[2 * d->c]);
  free (sums);
  return 0;
}
