/* test_head.c - the colour-class head (nn/head.h):
 *   - the gamut bins: 263 cells, centres on the grid, the neutral cell in;
 *   - the loss against a direct double-precision formula (soft encoding
 *     over the 5 nearest centres, Gaussian sigma 5, weighted cross-entropy)
 *     and its gradient against central finite differences;
 *   - the annealed mean against a direct formula at T = 1 and T = 0.38,
 *     the mode as T -> 0, and the x2 pixel repetition;
 *   - models with the head: output shape, weight file round trip (the
 *     metadata says head_bins=Q; the bins come back), nn_model_ab, and
 *     nn_colorize_image with a temperature, which rejects one out of range. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "colorize.h"
#include "head.h"
#include "model.h"
#include "testutil.h"
#include "weights.h"

static float centres[2 * NN_HEAD_MAX_BINS];
static int q;

static void
test_bins (void)
{
  q = nn_head_gamut_bins (centres);
  CHECK (q == 263, "263 gamut bins (got %d)", q);
  int on_grid = 1, neutral = 0;
  for (int i = 0; i < q; i++)
    {
      float a = centres[2 * i], b = centres[2 * i + 1];
      on_grid &= fmodf (a + 105.0f, 10.0f) == 0.0f && fabsf (a) <= 105.0f
                 && fmodf (b + 105.0f, 10.0f) == 0.0f && fabsf (b) <= 105.0f;
      neutral |= fabsf (a) == 5.0f && fabsf (b) == 5.0f;
    }
  CHECK (on_grid, "every centre is a cell centre of the 22 x 22 grid");
  CHECK (neutral, "the cells around a = b = 0 are bins");
}

/* The loss of one pixel in double, directly from the definition. */
static double
pixel_loss (const float *z, size_t stride, float a, float b)
{
  double d[NN_HEAD_MAX_BINS];
  int order[NN_HEAD_MAX_BINS];
  for (int c = 0; c < q; c++)
    {
      double da = centres[2 * c] - a, db = centres[2 * c + 1] - b;
      d[c] = da * da + db * db;
      order[c] = c;
    }
  for (int i = 0; i < 5; i++)        /* selection of the 5 nearest */
    for (int j = i + 1; j < q; j++)
      if (d[order[j]] < d[order[i]])
        {
          int t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
  double wsum = 0.0, w[5], lse = 0.0, mx = -1e30;
  for (int i = 0; i < 5; i++)
    wsum += w[i] = exp (-d[order[i]] / 50.0);
  for (int c = 0; c < q; c++)
    mx = fmax (mx, z[c * stride]);
  for (int c = 0; c < q; c++)
    lse += exp (z[c * stride] - mx);
  lse = mx + log (lse);
  double ce = 0.0;
  for (int i = 0; i < 5; i++)
    ce -= w[i] / wsum * (z[order[i] * stride] - lse);
  return ce;
}

static void
test_loss (void)
{
  const int n = 2, h = 2, w = 3;
  const size_t hw = (size_t) h * w, nz = (size_t) n * q * hw;
  float *z = malloc (nz * sizeof *z), *dz = malloc (nz * sizeof *dz);
  float ab[2 * 2 * 6], wt[2 * 6];
  fixture_fill (z, nz, 11, 0.0f, 2.0f);
  fixture_fill (ab, 24, 12, 0.0f, 60.0f);
  fixture_fill (wt, 12, 13, 1.0f, 0.5f);
  ab[0] = centres[40];               /* one pixel exactly on a centre */
  ab[hw] = centres[41];
  double got = nn_head_loss (z, centres, q, n, h, w, ab, wt, dz);
  double want = 0.0;
  for (int i = 0; i < n; i++)
    for (size_t p = 0; p < hw; p++)
      want += wt[i * hw + p] * pixel_loss (z + i * q * hw + p, hw,
                                           ab[(i * 2) * hw + p],
                                           ab[(i * 2 + 1) * hw + p]);
  want /= (double) (n * hw);
  CHECK (fabs (got - want) < 1e-5 * fabs (want),
         "loss %.7f, direct formula %.7f", got, want);
  double worst = 0.0, scale = 0.0;
  for (size_t k = 0; k < nz; k += 37)
    {
      float keep = z[k];
      const float e = 1e-2f;
      z[k] = keep + e;
      double up = nn_head_loss (z, centres, q, n, h, w, ab, wt, NULL);
      z[k] = keep - e;
      double down = nn_head_loss (z, centres, q, n, h, w, ab, wt, NULL);
      z[k] = keep;
      double fd = (up - down) / (2.0 * e);
      worst = fmax (worst, fabs (fd - dz[k]));
      scale = fmax (scale, fabs (fd));
    }
  CHECK (worst < 2e-3 * scale, "gradient vs finite differences: max error "
         "%.3g of %.3g", worst, scale);
  free (z);
  free (dz);
}

/* Distillation: share x the teacher's softmax + (1 - share) x the truth's
 * soft encoding, against the direct formula and finite differences. */
static void
test_teacher (void)
{
  const int n = 2, h = 2, w = 3;
  const size_t hw = (size_t) h * w, nz = (size_t) n * q * hw;
  float *z = malloc (nz * sizeof *z), *dz = malloc (nz * sizeof *dz);
  float *tz = malloc (nz * sizeof *tz), *dz0 = malloc (nz * sizeof *dz0);
  float ab[2 * 2 * 6], wt[2 * 6];
  const float share = 0.7f;
  fixture_fill (z, nz, 31, 0.0f, 2.0f);
  fixture_fill (tz, nz, 32, 0.0f, 3.0f);
  fixture_fill (ab, 24, 33, 0.0f, 60.0f);
  fixture_fill (wt, 12, 34, 1.0f, 0.5f);
  double got = nn_head_loss_teacher (z, centres, q, n, h, w, ab, tz, share,
                                     wt, dz);
  double want = 0.0;
  for (int i = 0; i < n; i++)
    for (size_t p = 0; p < hw; p++)
      {
        const float *zi = z + i * q * hw + p, *ti = tz + i * q * hw + p;
        double mz = -1e30, mt = -1e30, lz = 0.0, lt = 0.0, ce = 0.0;
        for (int c = 0; c < q; c++)
          {
            mz = fmax (mz, zi[c * hw]);
            mt = fmax (mt, ti[c * hw]);
          }
        for (int c = 0; c < q; c++)
          {
            lz += exp (zi[c * hw] - mz);
            lt += exp (ti[c * hw] - mt);
          }
        lz = mz + log (lz);
        lt = mt + log (lt);
        for (int c = 0; c < q; c++)
          ce -= exp (ti[c * hw] - lt) * (zi[c * hw] - lz);
        double truth = pixel_loss (zi, hw, ab[(i * 2) * hw + p],
                                   ab[(i * 2 + 1) * hw + p]);
        want += wt[i * hw + p] * (share * ce + (1.0 - share) * truth);
      }
  want /= (double) (n * hw);
  CHECK (fabs (got - want) < 1e-5 * fabs (want),
         "teacher loss %.7f, direct formula %.7f", got, want);
  double worst = 0.0, scale = 0.0;
  for (size_t k = 0; k < nz; k += 37)
    {
      float keep = z[k];
      const float e = 1e-2f;
      z[k] = keep + e;
      double up = nn_head_loss_teacher (z, centres, q, n, h, w, ab, tz, share,
                                        wt, NULL);
      z[k] = keep - e;
      double down = nn_head_loss_teacher (z, centres, q, n, h, w, ab, tz,
                                          share, wt, NULL);
      z[k] = keep;
      double fd = (up - down) / (2.0 * e);
      worst = fmax (worst, fabs (fd - dz[k]));
      scale = fmax (scale, fabs (fd));
    }
  CHECK (worst < 2e-3 * scale, "teacher gradient vs finite differences: max "
         "error %.3g of %.3g", worst, scale);
  /* share 0 is the plain loss, bit for bit */
  double plain = nn_head_loss (z, centres, q, n, h, w, ab, wt, dz0);
  double zero = nn_head_loss_teacher (z, centres, q, n, h, w, ab, tz, 0.0f,
                                      wt, dz);
  CHECK (plain == zero && !memcmp (dz0, dz, nz * sizeof *dz),
         "share 0: %.9g, plain loss %.9g", zero, plain);
  /* share 1 and the teacher's own logits: the minimum, gradient 0 */
  nn_head_loss_teacher (z, centres, q, n, h, w, ab, z, 1.0f, wt, dz);
  double big = 0.0;
  for (size_t k = 0; k < nz; k++)
    big = fmax (big, fabs (dz[k]));
  CHECK (big < 1e-7, "share 1 against itself: largest gradient %.3g", big);
  free (z);
  free (dz);
  free (tz);
  free (dz0);
}

static void
test_decode (void)
{
  const int h = 1, w = 2;
  float z[2 * NN_HEAD_MAX_BINS], out[2 * 4 * 2];
  nn_error err;
  fixture_fill (z, (size_t) q * 2, 21, 0.0f, 3.0f);
  z[2 * 17] = 30.0f;                 /* pixel 0's mode: bin 17 */
  for (int ti = 0; ti < 2; ti++)
    {
      float t = ti ? 0.38f : 1.0f;
      CHECK (nn_head_decode (z, centres, q, 1, h, w, t, 128.0f, 2, out, &err)
             == NN_OK, "decode at T %g", t);
      for (int p = 0; p < 2; p++)
        {
          double mx = -1e30, s = 0.0, sa = 0.0, sb = 0.0;
          for (int c = 0; c < q; c++)
            mx = fmax (mx, z[c * 2 + p]);
          for (int c = 0; c < q; c++)
            {
              double e = exp ((z[c * 2 + p] - mx) / t);
              s += e;
              sa += e * centres[2 * c];
              sb += e * centres[2 * c + 1];
            }
          /* pixel p covers output columns 2p, 2p+1 of rows 0, 1 (width 4) */
          double ga = out[2 * p] * 128.0, gb = out[8 + 2 * p] * 128.0;
          CHECK (fabs (ga - sa / s) < 1e-3 && fabs (gb - sb / s) < 1e-3,
                 "T %g pixel %d: a,b %.4f %.4f, direct %.4f %.4f", t, p, ga,
                 gb, sa / s, sb / s);
          CHECK (out[2 * p] == out[2 * p + 1] && out[2 * p] == out[4 + 2 * p]
                 && out[2 * p] == out[4 + 2 * p + 1],
                 "pixel %d repeated over its 2 x 2 block", p);
        }
    }
  nn_head_decode (z, centres, q, 1, h, w, 0.01f, 1.0f, 1, out, &err);
  CHECK (out[0] == centres[34] && out[2] == centres[35],
         "T 0.01 gives the mode's centre (%g %g, bin 17 %g %g)", out[0],
         out[2], centres[34], centres[35]);
  CHECK (nn_head_decode (z, centres, q, 1, h, w, 0.0f, 1.0f, 1, out, &err)
         == NN_ERR_ARG, "T 0 is an error: %s", err.message);
}

/* Blocks of pixels: two images of 7 x 23 (161 pixels, past two blocks of
 * the decoder, the last one short), every pixel against the annealed
 * mean in doubles, logits spread over 20 units (exponents down to -50). */
static void
test_decode_blocks (void)
{
  const int n = 2, h = 7, w = 23, hw = h * w;
  float *z = malloc (sizeof (float) * n * q * hw);
  float *out = malloc (sizeof (float) * n * 2 * hw);
  nn_error err;
  fixture_fill (z, (size_t) n * q * hw, 33, 0.0f, 10.0f);
  CHECK (nn_head_decode (z, centres, q, n, h, w, 0.38f, 110.0f, 1, out, &err)
         == NN_OK, "decode of %d x %d x %d", n, h, w);
  double worst = 0.0;
  for (int i = 0; i < n; i++)
    for (int p = 0; p < hw; p++)
      {
        const float *zp = z + (size_t) i * q * hw + p;
        double mx = -1e30, s = 0.0, sa = 0.0, sb = 0.0;
        for (int c = 0; c < q; c++)
          mx = fmax (mx, zp[(size_t) c * hw]);
        for (int c = 0; c < q; c++)
          {
            double e = exp ((zp[(size_t) c * hw] - mx) / 0.38);
            s += e;
            sa += e * centres[2 * c];
            sb += e * centres[2 * c + 1];
          }
        const float *o = out + (size_t) i * 2 * hw + p;
        worst = fmax (worst, fabs (o[0] * 110.0 - sa / s));
        worst = fmax (worst, fabs (o[hw] * 110.0 - sb / s));
      }
  CHECK (worst < 1e-3, "decode blocks: a,b at most %.2g from the double sums",
         worst);
  free (z);
  free (out);
}

/* nn_model_forward_ab against nn_model_forward then nn_model_ab, both
 * networks: 1 x 1 x 136 x 1040 makes logits of 68 x 520, three bands of
 * the decoder (30, 30 and 8 rows): the same values to float rounding (a
 * few dozen differ by one unit in the last place, in the short last
 * band, whose Winograd tiles go to the products in other blocks).  A second call of
 * nn_model_ab at another temperature is refused, and a plain forward pass
 * then decodes from its logits again. */
static void
test_forward_ab (void)
{
  const int H = 136, W = 1040;
  float *x = malloc (sizeof (float) * H * W);
  float *ref = malloc (sizeof (float) * 2 * H * W);
  fixture_fill (x, (size_t) H * W, 41, 0.0f, 1.0f);
  for (int a = 0; a < NN_ARCH_COUNT; a++)
    {
      nn_model *m = NULL;
      nn_error err;
      if (nn_model_new_head ((nn_arch) a, q, &m, &err) != NN_OK)
        continue;
      nn_model_init (m, 7);
      int on, oh, ow;
      const float *ab = NULL;
      if (nn_model_forward (m, x, 1, H, W, NN_PASS_INFER, &err) == NN_OK
          && (ab = nn_model_ab (m, 0.38f, &on, &oh, &ow, &err)))
        memcpy (ref, ab, sizeof (float) * 2 * H * W);
      CHECK (ab != NULL, "%s: plain pass and decoding", nn_arch_name (a));
      ab = NULL;
      if (nn_model_forward_ab (m, x, 1, H, W, 0.38f, &err) == NN_OK)
        ab = nn_model_ab (m, 0.38f, &on, &oh, &ow, &err);
      size_t differ = 0;
      double worst = 0.0;
      for (size_t i = 0; ab && i < (size_t) 2 * H * W; i++)
        {
          differ += ab[i] != ref[i];
          worst = fmax (worst, fabs ((double) ab[i] - ref[i]));
        }
      CHECK (ab && on == 1 && oh == H && ow == W && worst <= 1e-6,
             "%s: decoded in bands: %zu of %d values differ from the "
             "whole logits' decoding, by up to %.3g", nn_arch_name (a),
             differ, 2 * H * W, worst);
      CHECK (!nn_model_ab (m, 0.5f, &on, &oh, &ow, &err),
             "%s: decoded at 0.38, asked at 0.5: refused", nn_arch_name (a));
      CHECK (nn_model_forward_ab (m, x, 1, H, W, 0.0f, &err) == NN_ERR_ARG,
             "%s: temperature 0 refused: %s", nn_arch_name (a), err.message);
      ab = NULL;
      if (nn_model_forward (m, x, 1, H, W, NN_PASS_INFER, &err) == NN_OK)
        ab = nn_model_ab (m, 0.38f, &on, &oh, &ow, &err);
      CHECK (ab && !memcmp (ab, ref, sizeof (float) * 2 * H * W),
             "%s: a plain pass after it decodes its own logits",
             nn_arch_name (a));
      nn_model_free (m);
    }
  free (x);
  free (ref);
}

/* The cnn's first two layers band by band (model.c, conv_pair_bands):
 * at 1 x 1 x 512 x 640 conv1's output (84 MB) is over the limit, so
 * conv2 does not run on its own (its profile entry stays empty) and the
 * output matches the training pass's, which runs every layer whole
 * (the cnn has no batch norm: the same function, other rounding). */
static void
test_pair_bands (void)
{
  const int H = 512, W = 640;
  nn_model *m = NULL;
  nn_error err;
  if (!CHECK (nn_model_new (NN_ARCH_CNN, &m, &err) == NN_OK,
              "pair bands: a cnn"))
    return;
  nn_model_init (m, 5);
  float *x = malloc (sizeof (float) * H * W);
  float *ref = malloc (sizeof (float) * 2 * H * W);
  fixture_fill (x, (size_t) H * W, 43, 0.0f, 1.0f);
  const float *y = NULL;
  int n, c, h, w;
  if (nn_model_forward (m, x, 1, H, W, NN_PASS_TRAIN, &err) == NN_OK)
    y = nn_model_output (m, &n, &c, &h, &w);
  if (y)
    memcpy (ref, y, sizeof (float) * 2 * H * W);
  nn_model_profile (m, 1);
  y = NULL;
  if (nn_model_forward (m, x, 1, H, W, NN_PASS_INFER, &err) == NN_OK)
    y = nn_model_output (m, &n, &c, &h, &w);
  int count = 0, conv1 = -1, conv2 = -1;
  const nn_op_profile *p = nn_model_profile_get (m, &count);
  for (int i = 0; i < count; i++)
    {
      conv1 = !strcmp (p[i].name, "conv1") ? p[i].forward_calls : conv1;
      conv2 = !strcmp (p[i].name, "conv2") ? p[i].forward_calls : conv2;
    }
  CHECK (conv1 == 1 && conv2 == 0, "pair bands: conv1 ran %d time(s), "
         "conv2 %d on its own", conv1, conv2);
  double worst = 0.0, scale = 0.0;
  for (size_t i = 0; y && i < (size_t) 2 * H * W; i++)
    {
      worst = fmax (worst, fabs ((double) y[i] - ref[i]));
      scale = fmax (scale, fabs ((double) ref[i]));
    }
  CHECK (y && c == 2 && h == H && w == W && scale > 0.0
         && worst <= 1e-5 * scale,
         "pair bands: inference in bands against the training pass: max "
         "difference %.3g of %.3g", worst, scale);
  printf ("pair bands: max difference %.3g of %.3g\n", worst, scale);
  nn_model_free (m);
  free (x);
  free (ref);
}

static void
test_models (void)
{
  nn_error err;
  for (int a = 0; a < NN_ARCH_COUNT; a++)
    {
      nn_model *m = NULL, *back = NULL;
      const int H = 32, W = 40;
      float x[32 * 40];
      fixture_fill (x, sizeof x / sizeof x[0], 31, 0.0f, 1.0f);
      if (!CHECK (nn_model_new_head ((nn_arch) a, q, &m, &err) == NN_OK,
                  "%s with the class head: %s", nn_arch_name (a), err.message))
        continue;
      nn_model_init (m, 5);
      nn_param *bins = nn_model_find (m, "head.bins");
      CHECK (bins && !memcmp (bins->data, centres, sizeof (float) * 2 * q),
             "%s: head.bins holds the gamut bins", nn_arch_name (a));
      int on, oc, oh, ow;
      nn_model_forward (m, x, 1, H, W, NN_PASS_INFER, &err);
      nn_model_output (m, &on, &oc, &oh, &ow);
      CHECK (oc == q && oh == H / 2 && ow == W / 2,
             "%s: logits 1 x %d x %d x %d", nn_arch_name (a), oc, oh, ow);
      const float *ab = nn_model_ab (m, 0.38f, &on, &oh, &ow, &err);
      CHECK (ab && oh == H && ow == W, "%s: nn_model_ab at the input's size",
             nn_arch_name (a));
      void *data;
      size_t size;
      nn_model_set_metadata (m, "note=x\nhead_bins=7\n", &err);
      CHECK (!strncmp (m->metadata, "head_bins=263\nnote=x\n", 21),
             "%s: metadata starts with the head and drops others (%s)",
             nn_arch_name (a), m->metadata);
      if (nn_weights_save_memory (m, &data, &size, &err) == NN_OK)
        {
          CHECK (nn_weights_load_memory (data, size, "mem", &back, &err) == NN_OK
                 && back->head_bins == q
                 && !memcmp (nn_model_find (back, "head.bins")->data, centres,
                             sizeof (float) * 2 * q),
                 "%s: weight file round trip keeps the head (%s)",
                 nn_arch_name (a), back ? "ok" : err.message);
          free (data);
        }
      float px[16 * 16 * 3];
      for (int i = 0; i < 16 * 16; i++)
        {
          px[3 * i] = 20.0f + (float) (i % 50);
          px[3 * i + 1] = px[3 * i + 2] = 0.0f;
        }
      colorize_options opt = COLORIZE_OPTIONS_DEFAULT;
      opt.working_size = 64;
      opt.temperature = 0.5f;
      CHECK (back && nn_colorize_image (back, px, 16, 16, 3, &opt, &err) == NN_OK,
             "%s: nn_colorize_image with T 0.5", nn_arch_name (a));
      opt.temperature = 20.0f;
      CHECK (back && nn_colorize_image (back, px, 16, 16, 3, &opt, &err)
             == NN_ERR_ARG && strstr (err.message, "temperature"),
             "%s: T 20 is refused by name", nn_arch_name (a));
      nn_model_free (back);
      nn_model_free (m);
    }
}

int
main (void)
{
  test_bins ();
  test_loss ();
  test_teacher ();
  test_decode ();
  test_decode_blocks ();
  test_forward_ab ();
  test_pair_bands ();
  test_models ();
  return test_report ("test_head");
}
