/* test_hints.c - the colour-hint solver (nn/hints.h):
 *   - against a direct solve: on a 40 x 24 grid with random lightness
 *     steps and scattered hints, the energy's minimiser by dense Gaussian
 *     elimination in double precision (the system written here from the
 *     energy in hints.h, not from the solver's code); the cascade must
 *     agree within 0.05 a,b units;
 *   - the synthetic edge case: two regions split by a strong edge, a
 *     stroke in region A changes all of A (within 3 of the stroke, away
 *     from it) and region B by less than 2;
 *   - a working-size grid (256 x 192): residual and iterations bounded;
 *   - no hints: u is zero; bad input refused by name;
 *   - the pipeline (nn_colorize_image with options.hints): stroke pixels hold
 *     the stroke's a,b, L is never written, the stroke's region changes
 *     and the far side of an edge does not, alpha blends, "hints only"
 *     without a model, and bad hints are refused by name. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "colorize.h"
#include "head.h"
#include "hints.h"
#include "model.h"
#include "testutil.h"

static float
frand (unsigned *s)
{
  *s = *s * 1664525u + 1013904223u;
  return (float) ((*s >> 8) & 0xffffff) / 16777216.0f;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* The minimiser of the energy of hints.h by Gaussian elimination. */
static void
direct_solve (const float *L, const float *cover, const float *target, int w,
              int h, double *u)
{
  int n = w * h;
  /* sigma from the median step (hints.h), by sorting */
  double *steps = malloc (2 * (size_t) n * sizeof *steps);
  int pairs = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        if (x + 1 < w)
          steps[pairs++] = fabs (L[y * w + x + 1] - L[y * w + x]);
        if (y + 1 < h)
          steps[pairs++] = fabs (L[(y + 1) * w + x] - L[y * w + x]);
      }
  qsort (steps, pairs, sizeof *steps, cmp_double);
  double sg = fmax (NN_HINTS_SIGMA_K * steps[(pairs - 1) / 2],
                    NN_HINTS_SIGMA_MIN);
  double s2 = sg * sg;
  free (steps);
  double eps = 1.0 / pow (NN_HINTS_REACH * (w > h ? w : h), 2);
  double *A = calloc ((size_t) n * (n + 2), sizeof *A);
  for (int i = 0; i < n; i++)
    {
      double *row = A + (size_t) i * (n + 2);
      row[i] = eps + NN_HINTS_LAMBDA * cover[i];
      row[n] = NN_HINTS_LAMBDA * cover[i] * target[i];
      row[n + 1] = NN_HINTS_LAMBDA * cover[i] * target[n + i];
      int x = i % w, y = i / w;
      int nb[4][2] = { { x - 1, y }, { x + 1, y }, { x, y - 1 }, { x, y + 1 } };
      for (int k = 0; k < 4; k++)
        {
          int X = nb[k][0], Y = nb[k][1];
          if (X < 0 || Y < 0 || X >= w || Y >= h)
            continue;
          int j = Y * w + X;
          double wr = exp (-pow (L[j] - L[i], 2) / (2.0 * s2));
          row[i] += wr;
          row[j] -= wr;
        }
    }
  for (int c = 0; c < n; c++)
    {
      double *pr = A + (size_t) c * (n + 2);
      for (int r = c + 1; r < n; r++)
        {
          double *rr = A + (size_t) r * (n + 2);
          if (rr[c] == 0.0)
            continue;
          double f = rr[c] / pr[c];
          for (int k = c; k < n + 2; k++)
            rr[k] -= f * pr[k];
        }
    }
  for (int k = 0; k < 2; k++)
    for (int r = n - 1; r >= 0; r--)
      {
        double *rr = A + (size_t) r * (n + 2);
        double s = rr[n + k];
        for (int c = r + 1; c < n; c++)
          s -= rr[c] * u[(size_t) k * n + c];
        u[(size_t) k * n + r] = s / rr[r];
      }
  free (A);
}

static void
test_direct (void)
{
  int w = 40, h = 24, n = w * h;
  float *L = malloc (n * sizeof *L), *cover = calloc (n, sizeof *cover);
  float *t = calloc (2 * n, sizeof *t), *u = malloc (2 * n * sizeof *u);
  double *ref = malloc (2 * n * sizeof *ref);
  unsigned s = 7;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      L[y * w + x] = (x < 17 ? 30.0f : 70.0f) + (y > 15 ? 15.0f : 0.0f)
                     + 3.0f * frand (&s);
  for (int k = 0; k < 12; k++)
    {
      int i = (int) (frand (&s) * n);
      cover[i] = 0.2f + 0.8f * frand (&s);
      t[i] = 100.0f * frand (&s) - 50.0f;
      t[n + i] = 100.0f * frand (&s) - 50.0f;
    }
  nn_hints_stats st;
  nn_error err;
  nn_code rc = nn_hints_solve (L, cover, t, w, h, u, &st, &err);
  CHECK (rc == NN_OK, "solve 40x24: %s", rc ? err.message : "ok");
  direct_solve (L, cover, t, w, h, ref);
  double md = 0.0;
  for (int i = 0; i < 2 * n; i++)
    md = fmax (md, fabs (u[i] - ref[i]));
  printf ("40x24: %d levels, %d iterations, residual %.2g, max diff %.4f\n", st.levels, st.iterations, st.residual, md);
  CHECK (md < 0.05, "40x24: cascade within 0.05 of the direct solve (max "
         "diff %.4f, %d levels, %d iterations, residual %.2g)", md, st.levels,
         st.iterations, st.residual);
  free (L);
  free (cover);
  free (t);
  free (u);
  free (ref);
}

/* Region A: x < w/2 (L 30), region B: the rest (L 75), small noise; a
 * vertical stroke in A asks for a change (60, -40). */
static void
test_edge (int w, int h)
{
  int n = w * h;
  float *L = malloc (n * sizeof *L), *cover = calloc (n, sizeof *cover);
  float *t = calloc (2 * n, sizeof *t), *u = malloc (2 * n * sizeof *u);
  unsigned s = 3;
  for (int i = 0; i < n; i++)
    L[i] = (i % w < w / 2 ? 30.0f : 75.0f) + frand (&s);
  int sx = w / 6;
  for (int y = h / 4; y < 3 * h / 4; y++)
    for (int x = sx - 1; x <= sx + 1; x++)
      {
        cover[y * w + x] = 1.0f;
        t[y * w + x] = 60.0f;
        t[n + y * w + x] = -40.0f;
      }
  nn_hints_stats st;
  nn_error err;
  nn_code rc = nn_hints_solve (L, cover, t, w, h, u, &st, &err);
  CHECK (rc == NN_OK, "edge %dx%d: %s", w, h, rc ? err.message : "ok");
  double worst_a = 0.0, worst_b = 0.0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int i = y * w + x;
        if (x < w / 2)
          {
            if (abs (x - sx) > 3)
              worst_a = fmax (worst_a, fmax (fabs (u[i] - 60.0),
                                             fabs (u[n + i] + 40.0)));
          }
        else
          worst_b = fmax (worst_b, fmax (fabs (u[i]), fabs (u[n + i])));
      }
  CHECK (worst_a < 3.0, "edge %dx%d: all of region A within 3 of the "
         "stroke (worst %.2f)", w, h, worst_a);
  CHECK (worst_b < 2.0, "edge %dx%d: region B within 2 of no change (worst "
         "%.3f)", w, h, worst_b);
  printf ("edge %dx%d: %d levels, %d iterations, residual %.2g, worst A %.3f B %.3f\n", w, h, st.levels, st.iterations, st.residual, worst_a, worst_b);
  CHECK (st.iterations <= 2 * NN_HINTS_MAX_ITER && st.residual < 1e-3,
         "edge %dx%d: %d levels, %d iterations on the finest grid, residual "
         "%.2g", w, h, st.levels, st.iterations, st.residual);
  free (L);
  free (cover);
  free (t);
  free (u);
}

static void
test_edges_of_use (void)
{
  int w = 20, h = 10, n = w * h;
  float L[200], cover[200], t[400], u[400];
  for (int i = 0; i < n; i++)
    {
      L[i] = 50.0f;
      cover[i] = 0.0f;
      t[i] = t[n + i] = 99.0f;
      u[i] = u[n + i] = 5.0f;
    }
  nn_error err;
  CHECK (nn_hints_solve (L, cover, t, w, h, u, NULL, &err) == NN_OK,
         "no hints: ok");
  double m = 0.0;
  for (int i = 0; i < 2 * n; i++)
    m = fmax (m, fabs (u[i]));
  CHECK (m == 0.0, "no hints: no change anywhere (max %g)", m);
  cover[3] = 1.0f;
  t[3] = NAN;
  nn_code rc = nn_hints_solve (L, cover, t, w, h, u, NULL, &err);
  CHECK (rc == NN_ERR_ARG && strstr (err.message, "(3, 0)"),
         "a NaN colour is refused with its cell: %s", err.message);
  L[45] = INFINITY;
  t[3] = 1.0f;
  rc = nn_hints_solve (L, cover, t, w, h, u, NULL, &err);
  CHECK (rc == NN_ERR_ARG && strstr (err.message, "(5, 2)"),
         "an infinite lightness is refused with its cell: %s", err.message);
  rc = nn_hints_solve (L, cover, t, 0, h, u, NULL, &err);
  CHECK (rc == NN_ERR_ARG && strstr (err.message, "0x10"),
         "a 0-wide grid is refused: %s", err.message);
  rc = nn_hints_solve (L, NULL, t, w, h, u, NULL, &err);
  CHECK (rc == NN_ERR_ARG, "a NULL buffer is refused: %s", err.message);
}

/* 160 x 120, Lab: a lightness ramp (35..55) with a bright disk (L 85,
 * radius 30, centre (50, 60)). */
static float *
disk_image (void)
{
  float *px = malloc (160 * 120 * 3 * sizeof *px);
  for (int y = 0; y < 120; y++)
    for (int x = 0; x < 160; x++)
      {
        float *p = px + (y * 160 + x) * 3;
        int in = (x - 50) * (x - 50) + (y - 60) * (y - 60) < 30 * 30;
        p[0] = in ? 85.0f : 35.0f + 20.0f * x / 160.0f;
        p[1] = p[2] = 0.0f;
      }
  return px;
}

static void
test_pipeline (void)
{
  float centres[2 * NN_HEAD_MAX_BINS];
  nn_model *m = NULL;
  nn_error err;
  int q = nn_head_gamut_bins (centres);
  if (nn_model_new_head (NN_ARCH_RESNET18, q, &m, &err) != NN_OK)
    {
      CHECK (0, "a class-head resnet18: %s", err.message);
      return;
    }
  fixture_fill_model (m);
  nn_param *bins = nn_model_find (m, "head.bins");
  memcpy (bins->data, centres, (size_t) q * 2 * sizeof *centres);
  size_t N = 160 * 120;
  float *orig = disk_image (), *plain = disk_image (), *hinted = disk_image ();
  colorize_options opt = COLORIZE_OPTIONS_DEFAULT;
  opt.working_size = 64;
  nn_code rc = nn_colorize_image (m, plain, 160, 120, 3, &opt, &err);
  CHECK (rc == NN_OK, "plain: %s", rc ? err.message : "ok");
  /* A stroke across the disk, a few pixels wide; half alpha on its last
   * row. */
  nn_hint h[200];
  int nh = 0;
  for (int y = 58; y <= 62; y++)
    for (int x = 30; x < 70; x += 1)
      if (nh < 200)
        h[nh++] = (nn_hint) { x, y, 40.0f, 30.0f, y == 62 ? 0.5f : 1.0f };
  opt.hints = h;
  opt.n_hints = (size_t) nh;
  rc = nn_colorize_image (m, hinted, 160, 120, 3, &opt, &err);
  CHECK (rc == NN_OK, "hinted: %s", rc ? err.message : "ok");
  double l_diff = 0.0, stroke = 0.0, blend = 0.0, far = 0.0, inside = 0.0;
  for (size_t i = 0; i < N; i++)
    {
      int x = (int) (i % 160), y = (int) (i / 160);
      const float *p = hinted + i * 3, *o = plain + i * 3;
      l_diff = fmax (l_diff, fabs (p[0] - orig[i * 3]));
      int r2 = (x - 50) * (x - 50) + (y - 60) * (y - 60);
      if (y >= 58 && y <= 61 && x >= 30 && x < 70)
        stroke = fmax (stroke, fmax (fabs (p[1] - 40.0f), fabs (p[2] - 30.0f)));
      else if (r2 < 24 * 24 && (y < 54 || y > 66))
        inside = fmax (inside, fmax (fabs (p[1] - 40.0f), fabs (p[2] - 30.0f)));
      else if (x > 100)
        far = fmax (far, fmax (fabs (p[1] - o[1]), fabs (p[2] - o[2])));
    }
  for (int x = 30; x < 70; x++)
    {
      const float *p = hinted + (62 * 160 + x) * 3;
      float a = p[1], b = p[2];
      /* what the pixel had before the blend is not kept: check the blend
       * lies between the stroke's colour and the neighbourhood's */
      blend = fmax (blend, fmax (fabs (a - 40.0f), fabs (b - 30.0f)));
    }
  CHECK (l_diff == 0.0, "L is never written (max change %g)", l_diff);
  CHECK (stroke < 2.0, "stroke pixels hold the stroke's a,b (worst %.3f)",
         stroke);
  CHECK (inside < 3.0, "the disk, away from the stroke, takes the stroke's "
         "colour (worst %.2f)", inside);
  CHECK (far < 2.0, "beyond the disk's edge, far from it, the result stays "
         "the plain one (worst %.3f)", far);
  CHECK (blend < 3.0, "half-alpha stroke pixels near the stroke colour "
         "(worst %.2f)", blend);

  /* A strong, varied prior (strength 4): near the stroke the colour is
   * the stroke's, not the prior's variation moved by the stroke's change
   * (colorize.h): the disk's mean distance from the stroke colour (away
   * from the stroke) against the plain result's mean distance from its
   * own disk mean. */
  colorize_options o4 = opt;
  o4.strength = 4.0f;
  o4.n_hints = 0;
  float *p4 = disk_image (), *h4 = disk_image ();
  rc = nn_colorize_image (m, p4, 160, 120, 3, &o4, &err);
  o4.n_hints = (size_t) nh;
  if (rc == NN_OK)
    rc = nn_colorize_image (m, h4, 160, 120, 3, &o4, &err);
  CHECK (rc == NN_OK, "strength 4: %s", rc ? err.message : "ok");
  double ma = 0.0, mb = 0.0, spread = 0.0, dev = 0.0;
  int cnt = 0;
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < N; i++)
      {
        int x = (int) (i % 160), y = (int) (i / 160);
        int r2 = (x - 50) * (x - 50) + (y - 60) * (y - 60);
        if (!(r2 < 24 * 24 && (y < 54 || y > 66)))
          continue;
        const float *p = p4 + i * 3, *q = h4 + i * 3;
        if (pass == 0)
          {
            ma += p[1];
            mb += p[2];
            cnt++;
          }
        else
          {
            spread += hypot (p[1] - ma / cnt, p[2] - mb / cnt) / cnt;
            dev += hypot (q[1] - 40.0f, q[2] - 30.0f) / cnt;
          }
      }
  CHECK (dev < 0.25 * spread, "strength 4: the disk keeps the stroke's "
         "colour (mean distance %.3f) where the prior varies (its spread "
         "%.3f)", dev, spread);
  free (p4);
  free (h4);

  /* Hints only: no network, neutral outside the disk. */
  float *only = disk_image ();
  rc = nn_colorize_image (NULL, only, 160, 120, 3, &opt, &err);
  CHECK (rc == NN_OK, "hints only: %s", rc ? err.message : "ok");
  double out_disk = 0.0, in_disk = 0.0;
  for (size_t i = 0; i < N; i++)
    {
      int x = (int) (i % 160), y = (int) (i / 160);
      int r2 = (x - 50) * (x - 50) + (y - 60) * (y - 60);
      const float *p = only + i * 3;
      if (r2 > 36 * 36)
        out_disk = fmax (out_disk, fmax (fabs (p[1]), fabs (p[2])));
      else if (r2 < 24 * 24)
        in_disk = fmax (in_disk, fmax (fabs (p[1] - 40.0f), fabs (p[2] - 30.0f)));
    }
  CHECK (in_disk < 3.0 && out_disk < 2.0, "hints only: the disk takes the "
         "stroke (worst %.2f), the rest stays grey (worst %.3f)", in_disk,
         out_disk);

  /* Bad hints. */
  nn_hint bad[2] = { { 3, 4, 10.0f, 10.0f, 1.0f }, { 160, 4, 0.0f, 0.0f, 1.0f } };
  opt.hints = bad;
  opt.n_hints = 2;
  rc = nn_colorize_image (m, only, 160, 120, 3, &opt, &err);
  CHECK (rc == NN_ERR_ARG && strstr (err.message, "hint 1 at (160, 4)"),
         "a hint outside the image is refused by index: %s", err.message);
  bad[1] = (nn_hint) { 5, 4, 0.0f, 0.0f, 0.0f };
  rc = nn_colorize_image (m, only, 160, 120, 3, &opt, &err);
  CHECK (rc == NN_ERR_ARG && strstr (err.message, "alpha 0"),
         "a hint with alpha 0 is refused: %s", err.message);
  opt.n_hints = 0;
  for (size_t i = 0; i < N; i++)
    only[i * 3 + 1] = only[i * 3 + 2] = 7.0f;
  rc = nn_colorize_image (NULL, only, 160, 120, 3, &opt, &err);
  double chroma = 0.0;
  for (size_t i = 0; i < N; i++)
    chroma = fmax (chroma, fmax (fabs (only[i * 3 + 1]), fabs (only[i * 3 + 2])));
  CHECK (rc == NN_OK && chroma == 0.0, "no model and no hints: grey (max "
         "chroma %g)", chroma);
  free (orig);
  free (plain);
  free (hinted);
  free (only);
  nn_model_free (m);
}

int
main (void)
{
  test_direct ();
  test_edge (64, 48);
  test_edge (256, 192);
  test_edges_of_use ();
  test_pipeline ();
  return test_report ("test_hints");
}
