/* head.c - the colour-class head (see head.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gamut.h"
#include "head.h"
#include "simd.h"

/* Whether D50 CIE Lab (L, a, b) is inside sRGB's cube. */
static int
in_gamut (double L, double a, double b)
{
  double v[3];
  nn_lab_to_linear_srgb (L, a, b, v, NULL);
  return v[0] >= 0 && v[1] >= 0 && v[2] >= 0 && v[0] <= 1 && v[1] <= 1
         && v[2] <= 1;
}

static int
cell_touches_gamut (int i, int j)
{
  for (int da = 0; da <= 4; da++)
    for (int db = 0; db <= 4; db++)
      for (int L = 1; L < 100; L += 2)
        if (in_gamut (L, -110.0 + NN_HEAD_CELL * i + 2.5 * da,
                      -110.0 + NN_HEAD_CELL * j + 2.5 * db))
          return 1;
  return 0;
}

int
nn_head_gamut_bins (float *centres)
{
  int q = 0;
  for (int i = 0; i < NN_HEAD_GRID; i++)
    for (int j = 0; j < NN_HEAD_GRID; j++)
      if (cell_touches_gamut (i, j))
        {
          centres[2 * q] = -105.0f + NN_HEAD_CELL * i;
          centres[2 * q + 1] = -105.0f + NN_HEAD_CELL * j;
          q++;
        }
  return q;
}

/* The K nearest centres of (a, b) and their normalized Gaussian weights. */
static void
soft_encode (const float *centres, int q, float a, float b, int *idx,
             float *wt)
{
  const int K = NN_HEAD_SOFT_NEIGHBOURS;
  float d2[NN_HEAD_SOFT_NEIGHBOURS];
  int k = 0;
  idx[0] = 0;
  for (int c = 0; c < q; c++)
    {
      float da = centres[2 * c] - a, db = centres[2 * c + 1] - b;
      float d = da * da + db * db;
      if (k == K && d >= d2[K - 1])
        continue;
      int pos = k < K ? k++ : K - 1;
      while (pos > 0 && d2[pos - 1] > d)
        {
          d2[pos] = d2[pos - 1];
          idx[pos] = idx[pos - 1];
          pos--;
        }
      d2[pos] = d;
      idx[pos] = c;
    }
  double sum = 0.0;
  const float s2 = 2.0f * NN_HEAD_SOFT_SIGMA * NN_HEAD_SOFT_SIGMA;
  for (int i = 0; i < k; i++)   /* relative to the nearest: no underflow */
    sum += wt[i] = expf (-(d2[i] - d2[0]) / s2);
  for (int i = 0; i < k; i++)
    wt[i] = (float) (wt[i] / sum);     /* k >= 1 whenever q >= 1 */
  for (int i = k; i < K; i++)
    {
      idx[i] = idx[0];
      wt[i] = 0.0f;
    }
}

double
nn_head_loss (const float *logits, const float *centres, int q, int n, int h,
              int w, const float *target_ab, const float *weight,
              float *dlogits)
{
  return nn_head_loss_teacher (logits, centres, q, n, h, w, target_ab, NULL,
                               0.0f, weight, dlogits);
}

/* softmax of the q logits z[c * hw] into p; returns log-sum-exp. */
static double
softmax_of (const float *z, size_t hw, int q, float *p)
{
  float mx = z[0];
  for (int c = 1; c < q; c++)
    mx = z[c * hw] > mx ? z[c * hw] : mx;
  double se = 0.0;
  for (int c = 0; c < q; c++)
    se += exp ((double) z[c * hw] - mx);
  double lse = mx + log (se);
  if (p)
    for (int c = 0; c < q; c++)
      p[c] = (float) exp ((double) z[c * hw] - lse);
  return lse;
}

double
nn_head_loss_teacher (const float *logits, const float *centres, int q,
                      int n, int h, int w, const float *target_ab,
                      const float *teacher, float share, const float *weight,
                      float *dlogits)
{
  const size_t hw = (size_t) h * w, count = (size_t) n * hw;
  const double truth_share = teacher ? 1.0 - share : 1.0;
  double total = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : total)
  for (size_t px = 0; px < count; px++)
    {
      size_t img = px / hw, p = px % hw;
      const float *z = logits + img * q * hw + p;
      float a = target_ab[(img * 2) * hw + p];
      float b = target_ab[(img * 2 + 1) * hw + p];
      int idx[NN_HEAD_SOFT_NEIGHBOURS];
      float wt[NN_HEAD_SOFT_NEIGHBOURS], pt[NN_HEAD_MAX_BINS];
      soft_encode (centres, q, a, b, idx, wt);
      double lse = softmax_of (z, hw, q, NULL);
      double ce = 0.0;
      for (int k = 0; k < NN_HEAD_SOFT_NEIGHBOURS; k++)
        ce -= truth_share * wt[k] * (z[idx[k] * hw] - lse);
      if (teacher)
        {
          softmax_of (teacher + img * q * hw + p, hw, q, pt);
          for (int c = 0; c < q; c++)
            ce -= share * pt[c] * (z[c * hw] - lse);
        }
      double pw = weight ? weight[img * hw + p] : 1.0;
      total += pw * ce;
      if (!dlogits)
        continue;
      float *dz = dlogits + img * q * hw + p;
      const double s = pw / (double) count;
      for (int c = 0; c < q; c++)
        dz[c * hw] = (float) (s * (exp ((double) z[c * hw] - lse)
                                   - (teacher ? share * pt[c] : 0.0)));
      for (int k = 0; k < NN_HEAD_SOFT_NEIGHBOURS; k++)
        dz[idx[k] * hw] -= (float) (s * truth_share * wt[k]);
    }
  return total / (double) count;
}

/* Pixels decoded together: each channel's logits of a block are one
 * contiguous run (the channels of a pixel lie hw apart). */
#define DECODE_BLOCK 64

/* The annealed means of len (<= DECODE_BLOCK) pixels whose channel c
 * logits are z[c * hw + j], into va, vb (CIE units). */
NN_VECTOR_CLONES static void
decode_block (const float *z, size_t hw, int len, const float *centres,
              int q, float inv_t, float *va, float *vb)
{
  float mx[DECODE_BLOCK], sum[DECODE_BLOCK], sa[DECODE_BLOCK],
      sb[DECODE_BLOCK];
  for (int j = 0; j < len; j++)
    {
      mx[j] = z[j];
      sum[j] = sa[j] = sb[j] = 0.0f;
    }
  for (int c = 1; c < q; c++)
    for (int j = 0; j < len; j++)
      mx[j] = z[c * hw + j] > mx[j] ? z[c * hw + j] : mx[j];
  for (int c = 0; c < q; c++)
    {
      const float *zc = z + c * hw, ca = centres[2 * c], cb = centres[2 * c + 1];
      for (int j = 0; j < len; j++)
        {
          const float e = nn_exp_nonpositive ((zc[j] - mx[j]) * inv_t);
          sum[j] += e;
          sa[j] += e * ca;
          sb[j] += e * cb;
        }
    }
  for (int j = 0; j < len; j++)
    {
      va[j] = sa[j] / sum[j];
      vb[j] = sb[j] / sum[j];
    }
}

static nn_code
decode_check (int q, float t, float ab_scale, int up, nn_error *err)
{
  if (!(t >= NN_HEAD_MIN_TEMPERATURE && t <= NN_HEAD_MAX_TEMPERATURE))
    return nn_error_set (err, NN_ERR_ARG, "temperature %g outside %g..%g",
                         t, NN_HEAD_MIN_TEMPERATURE, NN_HEAD_MAX_TEMPERATURE);
  if (q < 1 || up < 1 || ab_scale <= 0.0f)
    return nn_error_set (err, NN_ERR_ARG, "bad head shape (%d bins, x%d)",
                         q, up);
  return NN_OK;
}

nn_code
nn_head_decode_rows (const float *logits, size_t plane, const float *centres,
                     int q, int h, int w, float t, float ab_scale, int up,
                     float *out, size_t out_plane, nn_error *err)
{
  nn_code rc = decode_check (q, t, ab_scale, up, err);
  if (rc != NN_OK)
    return rc;
  const size_t hw = (size_t) h * w, W = (size_t) w * up;
  const size_t blocks = (hw + DECODE_BLOCK - 1) / DECODE_BLOCK;
#pragma omp parallel for schedule(static)
  for (size_t bi = 0; bi < blocks; bi++)
    {
      const size_t p0 = bi * DECODE_BLOCK;
      const int len = (int) (hw - p0 < DECODE_BLOCK ? hw - p0 : DECODE_BLOCK);
      float va[DECODE_BLOCK], vb[DECODE_BLOCK];
      decode_block (logits + p0, plane, len, centres, q, 1.0f / t, va, vb);
      for (int j = 0; j < len; j++)
        {
          const size_t y = (p0 + j) / w, x = (p0 + j) % w;
          for (int dy = 0; dy < up; dy++)
            for (int dx = 0; dx < up; dx++)
              {
                const size_t o = (y * up + dy) * W + x * up + dx;
                out[o] = va[j] / ab_scale;
                out[out_plane + o] = vb[j] / ab_scale;
              }
        }
    }
  return NN_OK;
}

nn_code
nn_head_decode (const float *logits, const float *centres, int q, int n,
                int h, int w, float t, float ab_scale, int up, float *out,
                nn_error *err)
{
  nn_code rc = decode_check (q, t, ab_scale, up, err);
  const size_t hw = (size_t) h * w, HW = hw * up * up;
  for (int i = 0; rc == NN_OK && i < n; i++)
    rc = nn_head_decode_rows (logits + (size_t) i * q * hw, hw, centres, q,
                              h, w, t, ab_scale, up, out + (size_t) i * 2 * HW,
                              HW, err);
  return rc;
}

/* ---- The annealed mean's gradient ------------------------------------- */

/* The chain rule through the annealed mean at T 1 (ab, from
 * nn_head_decode) of len (<= DECODE_BLOCK) pixels whose channel c logits
 * are z[c * hw + j]: dz_c += p_c ((A_c - a) da + (B_c - b) db). */
NN_VECTOR_CLONES static void
mean_backward_block (const float *z, size_t hw, int len, const float *centres,
                     int q, const float *a, const float *b, const float *da,
                     const float *db, float *dz)
{
  float mx[DECODE_BLOCK], inv[DECODE_BLOCK], k0[DECODE_BLOCK];
  for (int j = 0; j < len; j++)
    {
      mx[j] = z[j];
      inv[j] = 0.0f;
    }
  for (int c = 1; c < q; c++)
    for (int j = 0; j < len; j++)
      mx[j] = z[c * hw + j] > mx[j] ? z[c * hw + j] : mx[j];
  for (int c = 0; c < q; c++)
    for (int j = 0; j < len; j++)
      inv[j] += nn_exp_nonpositive (z[c * hw + j] - mx[j]);
  for (int j = 0; j < len; j++)
    {
      inv[j] = 1.0f / inv[j];
      k0[j] = -(a[j] * da[j] + b[j] * db[j]);
    }
  for (int c = 0; c < q; c++)
    {
      const float ca = centres[2 * c], cb = centres[2 * c + 1];
      for (int j = 0; j < len; j++)
        dz[c * hw + j] += nn_exp_nonpositive (z[c * hw + j] - mx[j]) * inv[j]
                          * (ca * da[j] + cb * db[j] + k0[j]);
    }
}

void
nn_head_mean_backward (const float *logits, const float *centres, int q,
                       int n, size_t hw, const float *ab, const float *dab,
                       float *dlogits)
{
  const size_t blocks = (hw + DECODE_BLOCK - 1) / DECODE_BLOCK;
#pragma omp parallel for collapse(2) schedule(static)
  for (int i = 0; i < n; i++)
    for (size_t bi = 0; bi < blocks; bi++)
      {
        const size_t p0 = bi * DECODE_BLOCK, o = (size_t) i * 2 * hw + p0;
        const int len = (int) (hw - p0 < DECODE_BLOCK ? hw - p0
                                                      : DECODE_BLOCK);
        const size_t z0 = (size_t) i * q * hw + p0;
        mean_backward_block (logits + z0, hw, len, centres, q, ab + o,
                             ab + o + hw, dab + o, dab + o + hw, dlogits + z0);
      }
}
