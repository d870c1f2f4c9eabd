/* test_gamut.c - the gamut mapping (nn/gamut.h) with a conversion
 * written here from the CIE formulas (D50 Lab -> XYZ -> linear sRGB,
 * Bradford-adapted; babl's in the hosts):
 *   - colours inside sRGB come back unchanged, their RGB the conversion's;
 *   - colours outside (saturated, dark, light) come back inside, with L
 *     and hue kept and the chroma factor the largest in gamut within
 *     2^-NN_GAMUT_STEPS (one step more is outside);
 *   - non-finite a, b become grey; 3 and 4 channels alike (alpha kept). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "gamut.h"
#include "testutil.h"

static int calls;

static void
lab_to_linear_srgb (const float *lab, float *rgb, size_t n, void *data)
{
  int ch = *(const int *) data;
  calls++;
  for (size_t i = 0; i < n; i++)
    {
      const float *p = lab + ch * i;
      double fy = (p[0] + 16.0) / 116.0, fx = fy + p[1] / 500.0,
             fz = fy - p[2] / 200.0, t[3] = { fx, fy, fz }, v[3];
      for (int c = 0; c < 3; c++)
        v[c] = t[c] > 6.0 / 29.0 ? t[c] * t[c] * t[c]
                                 : (t[c] - 16.0 / 116.0) * 3.0 * 36.0 / 841.0;
      double X = 0.96422 * v[0], Y = v[1], Z = 0.82521 * v[2];
      float *o = rgb + ch * i;
      o[0] = (float) (3.1338561 * X - 1.6168667 * Y - 0.4906146 * Z);
      o[1] = (float) (-0.9787684 * X + 1.9161415 * Y + 0.0334540 * Z);
      o[2] = (float) (0.0719453 * X - 0.2289914 * Y + 1.4052427 * Z);
      if (ch == 4)
        o[3] = p[3];
    }
}

static int
inside (const float *rgb)
{
  for (int c = 0; c < 3; c++)
    if (!(rgb[c] >= -NN_GAMUT_EPS && rgb[c] <= 1.0f + NN_GAMUT_EPS))
      return 0;
  return 1;
}

static void
run (int ch)
{
  enum { N = 7 };
  const float in[N][3] = {
    { 50, 10, -10 },  { 70, -20, 30 },     /* inside */
    { 50, 120, -100 }, { 10, -80, 90 },    /* far outside */
    { 95, 0, 60 },     { 30, 0, -90 },     /* light yellow, dark blue */
    { 60, NAN, 5 },                         /* non-finite */
  };
  float lab[N * 4], rgb[N * 4], plain[N * 4];
  for (int i = 0; i < N; i++)
    for (int c = 0; c < ch; c++)
      lab[i * ch + c] = c < 3 ? in[i][c] : 0.25f * i;
  lab_to_linear_srgb (lab, plain, N, &ch);
  nn_error err;
  CHECK (nn_gamut_map (lab, rgb, N, ch, lab_to_linear_srgb, &ch, &err)
         == NN_OK, "%d channels: map", ch);
  for (int i = 0; i < 2; i++)
    CHECK (lab[i * ch + 1] == in[i][1] && lab[i * ch + 2] == in[i][2]
           && rgb[i * ch] == plain[i * ch], "%d channels: colour %d inside "
           "sRGB unchanged", ch, i);
  for (int i = 2; i < 6; i++)
    {
      const float *p = lab + i * ch;
      double t = in[i][1] != 0.0f ? p[1] / in[i][1] : p[2] / in[i][2];
      double hue = fabs (atan2 (p[2], p[1]) - atan2 (in[i][2], in[i][1]));
      float more[4] = { in[i][0], (float) (in[i][1] * (t + 1.0 / 4096)),
                        (float) (in[i][2] * (t + 1.0 / 4096)), 0 }, mrgb[4];
      int one = ch == 4 ? 4 : 3;
      lab_to_linear_srgb (more, mrgb, 1, &one);
      CHECK (!inside (plain + i * ch) && inside (rgb + i * ch),
             "%d channels: colour %d brought into sRGB", ch, i);
      CHECK (p[0] == in[i][0] && t > 0.0 && t < 1.0 && hue < 1e-5,
             "%d channels: colour %d keeps L and hue (t %.4f, hue moved "
             "%.2g)", ch, i, t, hue);
      CHECK (!inside (mrgb), "%d channels: colour %d: a step more chroma "
             "(t %.4f + 2^-12) is outside", ch, i, t);
    }
  CHECK (lab[6 * ch + 1] == 0.0f && lab[6 * ch + 2] == 0.0f,
         "%d channels: non-finite a becomes grey", ch);
  if (ch == 4)
    for (int i = 0; i < N; i++)
      CHECK (rgb[i * 4 + 3] == 0.25f * i, "alpha of pixel %d kept", i);
}

int
main (void)
{
  run (3);
  run (4);
  nn_error err;
  float x[3] = { 50, 0, 0 }, y[3];
  int ch = 2;
  CHECK (nn_gamut_map (x, y, 1, 2, lab_to_linear_srgb, &ch, &err)
         == NN_ERR_ARG, "2 channels refused");
  return test_report ("test_gamut");
}
