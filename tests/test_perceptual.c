/* test_perceptual.c - the perceptual loss (nn/perceptual.h) against
 * PyTorch (tests/reference/perceptual.py, float64), on the hash-filled
 * inputs that script describes (2 images of 24 x 32 logits, 12 bins):
 *   - Lab -> sRGB of the truth, and its layer1 and layer2 features;
 *   - the loss and its full gradient in the logits;
 *   - the gradient against central finite differences (an outside check
 *     of the chain rule, independent of the reference);
 *   - scale: the gradient is added, times scale, to what dlogits holds;
 *   - the loss without a gradient is the same number;
 *   - images under 8 x 8 are an error that says so. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "perceptual.h"
#include "testutil.h"

enum { N = 2, Q = 12, H = 24, W = 32 };

static float centres[2 * Q], logits[N * Q * H * W], lum[N * H * W],
    ab[N * 2 * H * W], grad[N * Q * H * W];

static void
fill_network (nn_percept *p)
{
  const nn_percept_conv *c = nn_percept_convs ();
  for (int i = 0; i < NN_PERCEPT_CONVS; i++)
    {
      int fan = c[i].cin * c[i].k * c[i].k;
      fixture_fill (nn_percept_weight (p, i), (size_t) c[i].cout * fan,
                    2000 + i, 0.0f, (float) sqrt (3.0 / fan));
      fixture_fill (nn_percept_bias (p, i), c[i].cout, 2100 + i, 0.0f, 0.1f);
    }
  fixture_fill (centres, 2 * Q, 2200, 0.0f, 60.0f);
  fixture_fill (logits, N * Q * H * W, 2201, 0.0f, 3.0f);
  fixture_fill (lum, N * H * W, 2202, 50.0f, 40.0f);
  fixture_fill (ab, N * 2 * H * W, 2203, 0.0f, 50.0f);
}

static void
test_features (nn_percept *p, const fixture *f)
{
  const size_t hw = H * W;
  float *rgb = malloc (N * 3 * hw * sizeof *rgb);
  for (int i = 0; i < N; i++)
    {
      float tmp[3 * H * W];
      nn_percept_lab_to_srgb (lum + i * hw, ab + i * 2 * hw,
                              ab + i * 2 * hw + hw, tmp, hw);
      memcpy (rgb + i * 3 * hw, tmp, sizeof tmp);
    }
  const fixture_tensor *t = fixture_need (f, "rgb_truth", N * 3 * hw);
  if (t)
    CHECK (max_abs_diff (rgb, t->data, t->size) < 2e-6,
           "Lab -> sRGB as PyTorch's (max diff %.3g)",
           max_abs_diff (rgb, t->data, t->size));
  int h1, w1, h2, w2;
  float *f1 = malloc (N * 64 * 6 * 8 * sizeof *f1);
  float *f2 = malloc (N * 128 * 3 * 4 * sizeof *f2);
  nn_error err;
  nn_code rc = nn_percept_features (p, rgb, N, H, W, f1, f2, &h1, &w1, &h2,
                                    &w2, &err);
  CHECK (rc == NN_OK, "features: %s", rc ? err.message : "ok");
  CHECK (h1 == 6 && w1 == 8 && h2 == 3 && w2 == 4,
         "layer1 6 x 8, layer2 3 x 4 (got %d x %d, %d x %d)", h1, w1, h2, w2);
  const fixture_tensor *t1 = fixture_need (f, "f1_truth", N * 64 * 6 * 8);
  const fixture_tensor *t2 = fixture_need (f, "f2_truth", N * 128 * 3 * 4);
  if (t1)
    CHECK (rel_err (f1, t1->data, t1->size) < 1e-5,
           "layer1 features as PyTorch's (rel err %.3g)",
           rel_err (f1, t1->data, t1->size));
  if (t2)
    CHECK (rel_err (f2, t2->data, t2->size) < 1e-5,
           "layer2 features as PyTorch's (rel err %.3g)",
           rel_err (f2, t2->data, t2->size));
  free (rgb);
  free (f1);
  free (f2);
}

static double
loss_at (nn_percept *p)
{
  double v = NAN;
  nn_percept_loss (p, logits, centres, Q, N, H, W, lum, ab, 1.0f, &v, NULL,
                   NULL);
  return v;
}

static void
test_loss (nn_percept *p, const fixture *f)
{
  nn_error err;
  double loss = 0.0;
  memset (grad, 0, sizeof grad);
  nn_code rc = nn_percept_loss (p, logits, centres, Q, N, H, W, lum, ab, 1.0f,
                                &loss, grad, &err);
  CHECK (rc == NN_OK, "loss: %s", rc ? err.message : "ok");
  const fixture_tensor *tl = fixture_need (f, "loss", 1);
  const fixture_tensor *tg = fixture_need (f, "dlogits", N * Q * H * W);
  if (tl)
    CHECK (fabs (loss - tl->data[0]) < 1e-5 * tl->data[0],
           "loss %.8g as PyTorch's %.8g", loss, tl->data[0]);
  if (tg)
    CHECK (rel_err (grad, tg->data, tg->size) < 1e-4,
           "gradient in the logits as PyTorch's (rel err %.3g)",
           rel_err (grad, tg->data, tg->size));
  CHECK (fabs (loss_at (p) - loss) < 1e-12 * loss,
         "the loss without its gradient is the same number");
  /* central differences at the 8 largest-gradient logits of a sample */
  size_t pick[8] = { 0 };
  fixture_pick_largest (grad, N * Q * H * W, 2300, pick, 8);
  int worst = 0;
  for (int k = 0; k < 8; k++)
    {
      size_t i = pick[k];
      const float eps = 0.01f, z = logits[i];
      logits[i] = z + eps;
      double up = loss_at (p);
      logits[i] = z - eps;
      double down = loss_at (p);
      logits[i] = z;
      double fd = (up - down) / (2.0 * eps);
      if (fabs (fd - grad[i]) > 0.03 * fabs (grad[i]))
        {
          worst++;
          printf ("logit %zu: finite differences %.6g, gradient %.6g\n", i,
                  fd, grad[i]);
        }
    }
  CHECK (worst == 0, "gradient as central differences (3%%) at the 8 "
         "largest of 256 sampled logits (|g| %.3g .. %.3g)",
         fabsf (grad[pick[7]]), fabsf (grad[pick[0]]));
  /* scale: added to what is there */
  float *again = malloc (sizeof grad);
  for (size_t i = 0; i < N * Q * H * W; i++)
    again[i] = 1.0f;
  nn_percept_loss (p, logits, centres, Q, N, H, W, lum, ab, 0.25f, &loss,
                   again, NULL);
  double off = 0.0;
  for (size_t i = 0; i < N * Q * H * W; i++)
    off = fmax (off, fabs (again[i] - (1.0f + 0.25f * grad[i])));
  CHECK (off < 1e-6, "scale 0.25: dlogits += 0.25 x the gradient (off %.3g)",
         off);
  free (again);
}

static void
test_errors (nn_percept *p)
{
  nn_error err;
  double loss;
  nn_code rc = nn_percept_loss (p, logits, centres, Q, 1, 4, 4, lum, ab, 1.0f,
                                &loss, NULL, &err);
  CHECK (rc == NN_ERR_ARG && strstr (err.message, "4 x 4")
             && strstr (err.message, "8 x 8"),
         "4 x 4 images: an error naming the size (%s)", err.message);
}

int
main (void)
{
  char path[1024];
  snprintf (path, sizeof path, "%s/golden/perceptual.bin", fixture_dir ());
  fixture f = { 0 };
  nn_percept *p = NULL;
  nn_error err;
  if (nn_percept_new (&p, &err) != NN_OK)
    CHECK (0, "nn_percept_new: %s", err.message);
  else if (fixture_load (path, &f) != 0)
    CHECK (0, "cannot read %s", path);
  else
    {
      fill_network (p);
      test_features (p, &f);
      test_loss (p, &f);
      test_errors (p);
    }
  fixture_free (&f);
  nn_percept_free (p);
  return test_report ("test_perceptual");
}
