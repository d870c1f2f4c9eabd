/* gamut.c - gamut mapping (see gamut.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "gamut.h"

static int
out_of_gamut (const float *p)
{
  for (int c = 0; c < 3; c++)
    if (!(p[c] >= -NN_GAMUT_EPS && p[c] <= 1.0f + NN_GAMUT_EPS))
      return 1;
  return 0;
}

nn_code
nn_gamut_map (float *lab, float *rgb, size_t n, int channels,
              nn_lab_to_rgb convert, void *data, nn_error *err)
{
  const size_t ch = (size_t) channels;
  if (channels != 3 && channels != 4)
    return nn_error_set (err, NN_ERR_ARG, "gamut: %d channels (expected 3 "
                         "or 4)", channels);
  for (size_t i = 0; i < n; i++)
    if (!isfinite (lab[ch * i + 1]) || !isfinite (lab[ch * i + 2]))
      lab[ch * i + 1] = lab[ch * i + 2] = 0.0f;
  convert (lab, rgb, n, data);
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    m += out_of_gamut (rgb + ch * i);
  if (!m)
    return NN_OK;
  size_t *idx = malloc (m * sizeof *idx);
  float *lo = malloc (2 * m * sizeof *lo), *hi = lo ? lo + m : NULL;
  float *cand = malloc (2 * ch * m * sizeof *cand);
  if (!idx || !lo || !cand)
    {
      free (idx);
      free (lo);
      free (cand);
      return nn_error_set (err, NN_ERR_NOMEM, "gamut: out of memory for %zu "
                           "pixels", m);
    }
  float *cand_rgb = cand + ch * m;
  m = 0;
  for (size_t i = 0; i < n; i++)
    if (out_of_gamut (rgb + ch * i))
      {
        idx[m] = i;
        lo[m] = 0.0f;
        hi[m++] = 1.0f;
      }
  for (int step = 0; step <= NN_GAMUT_STEPS; step++)
    {
      int last = step == NN_GAMUT_STEPS;  /* then: lo itself, kept */
      for (size_t j = 0; j < m; j++)
        {
          const float *p = lab + ch * idx[j];
          float t = last ? lo[j] : 0.5f * (lo[j] + hi[j]);
          memcpy (cand + ch * j, p, ch * sizeof *p);
          cand[ch * j + 1] = p[1] * t;
          cand[ch * j + 2] = p[2] * t;
        }
      convert (cand, cand_rgb, m, data);
      if (last)
        break;
      for (size_t j = 0; j < m; j++)
        {
          float t = 0.5f * (lo[j] + hi[j]);
          if (out_of_gamut (cand_rgb + ch * j))
            hi[j] = t;
          else
            lo[j] = t;
        }
    }
  for (size_t j = 0; j < m; j++)
    {
      memcpy (lab + ch * idx[j], cand + ch * j, ch * sizeof *cand);
      memcpy (rgb + ch * idx[j], cand_rgb + ch * j, ch * sizeof *cand);
    }
  free (idx);
  free (lo);
  free (cand);
  return NN_OK;
}

/* CIE's f^-1 and its derivative. */
static double
lab_finv (double t, double *dt)
{
  if (t * t * t > 0.008856)
    {
      *dt = 3.0 * t * t;
      return t * t * t;
    }
  *dt = 1.0 / 7.787;
  return (t - 16.0 / 116.0) / 7.787;
}

void
nn_lab_to_linear_srgb (double L, double a, double b, double lin[3],
                       double dab[6])
{
  static const double m[3][3] = {
    { 3.1338561, -1.6168667, -0.4906146 },
    { -0.9787684, 1.9161415, 0.0334540 },
    { 0.0719453, -0.2289914, 1.4052427 },
  };
  double fy = (L + 16.0) / 116.0, dx, dy, dz;
  double X = 0.9642 * lab_finv (fy + a / 500.0, &dx);
  double Y = lab_finv (fy, &dy);
  double Z = 0.8249 * lab_finv (fy - b / 200.0, &dz);
  for (int c = 0; c < 3; c++)
    {
      lin[c] = m[c][0] * X + m[c][1] * Y + m[c][2] * Z;
      if (dab)
        {
          dab[c] = m[c][0] * 0.9642 * dx / 500.0;
          dab[3 + c] = -m[c][2] * 0.8249 * dz / 200.0;
        }
    }
}
