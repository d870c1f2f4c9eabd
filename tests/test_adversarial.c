/* test_adversarial.c - the adversarial term (nn/adversarial.h) against
 * PyTorch (tests/reference/adversarial.py, float64), on the hash-filled
 * inputs that script describes (2 images of 18 x 26 logits, 12 bins):
 *   - the discriminator's scores of the fake and the real images (5 x 7);
 *   - both losses, d_loss's gradient in the discriminator's parameters,
 *     g_loss's gradient in the logits;
 *   - the logits' gradient against central finite differences;
 *   - the scales: d_scale multiplies the parameters' gradient (0: zero),
 *     g_scale's gradient is added to what dlogits holds;
 *   - one Adam step moves the parameters against the gradient;
 *   - the state written and read back is the same, a wrong size is an
 *     error that names both sizes; images under 4 x 4 are an error;
 *   - with the input pooled by 2 and by 4 (partial blocks: 18 x 26 to
 *     5 x 7): both losses and the logits' gradient as PyTorch's, that
 *     gradient as central differences; pooling 0 or 9, or to under 4 x 4,
 *     an error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "adversarial.h"
#include "testutil.h"

enum { N = 2, Q = 12, H = 18, W = 26, OH = 5, OW = 7 };
static const int cin[4] = { 3, 32, 64, 128 }, cout[4] = { 32, 64, 128, 1 };

static float centres[2 * Q], logits[N * Q * H * W], lum[N * H * W],
    ab[N * 2 * H * W], grad[N * Q * H * W];

static void
fill (nn_adv *a)
{
  float *p = nn_adv_params (a);
  for (int i = 0; i < 4; i++)
    {
      const int fan = cin[i] * 9;
      fixture_fill (p, (size_t) cout[i] * fan, 2400 + i, 0.0f,
                    (float) sqrt (3.0 / fan));
      p += (size_t) cout[i] * fan;
      fixture_fill (p, cout[i], 2410 + i, 0.0f, 0.1f);
      p += cout[i];
    }
  fixture_fill (centres, 2 * Q, 2420, 0.0f, 60.0f);
  fixture_fill (logits, N * Q * H * W, 2421, 0.0f, 3.0f);
  fixture_fill (lum, N * H * W, 2422, 50.0f, 40.0f);
  fixture_fill (ab, N * 2 * H * W, 2423, 0.0f, 50.0f);
}

/* The real images' scores through nn_adv_forward. */
static void
test_scores (nn_adv *a, const fixture *f)
{
  const size_t hw = H * W;
  float x[N * 3 * H * W], s[N * OH * OW];
  for (int i = 0; i < N; i++)
    for (size_t j = 0; j < hw; j++)
      {
        x[i * 3 * hw + j] = (lum[i * hw + j] - 50.0f) / 50.0f;
        x[i * 3 * hw + hw + j] = ab[i * 2 * hw + j] / 50.0f;
        x[i * 3 * hw + 2 * hw + j] = ab[i * 2 * hw + hw + j] / 50.0f;
      }
  int oh = 0, ow = 0;
  nn_error err;
  nn_code rc = nn_adv_forward (a, x, N, H, W, s, &oh, &ow, &err);
  CHECK (rc == NN_OK, "forward: %s", rc ? err.message : "ok");
  CHECK (oh == OH && ow == OW, "scores 5 x 7 (got %d x %d)", oh, ow);
  const fixture_tensor *t = fixture_need (f, "scores_real", N * OH * OW);
  if (t && rc == NN_OK)
    CHECK (rel_err (s, t->data, t->size) < 1e-5,
           "the real images' scores as PyTorch's (rel err %.3g)",
           rel_err (s, t->data, t->size));
}

static double
g_loss_at (nn_adv *a)
{
  double g = NAN, d;
  nn_adv_loss (a, logits, centres, Q, N, H, W, lum, ab, 0.0f, 0.0f, &g, &d,
               NULL, NULL);
  return g;
}

/* Central differences at the 8 largest-gradient logits of a sample. */
static void
test_differences (nn_adv *a)
{
  size_t pick[8] = { 0 };
  fixture_pick_largest (grad, N * Q * H * W, 2430, pick, 8);
  int bad = 0;
  for (int k = 0; k < 8; k++)
    {
      const size_t i = pick[k];
      const float eps = 0.005f, z = logits[i];
      logits[i] = z + eps;
      const double up = g_loss_at (a);
      logits[i] = z - eps;
      const double down = g_loss_at (a);
      logits[i] = z;
      const double fd = (up - down) / (2.0 * eps);
      if (fabs (fd - grad[i]) > 0.03 * fabs (grad[i]))
        {
          bad++;
          printf ("logit %zu: finite differences %.6g, gradient %.6g\n", i,
                  fd, grad[i]);
        }
    }
  CHECK (bad == 0, "g_loss's gradient as central differences (3%%) at the "
         "8 largest of 256 sampled logits (|g| %.3g .. %.3g)",
         fabsf (grad[pick[7]]), fabsf (grad[pick[0]]));
}

static void
test_loss (nn_adv *a, const fixture *f)
{
  nn_error err;
  double g = 0.0, d = 0.0;
  memset (grad, 0, sizeof grad);
  nn_code rc = nn_adv_loss (a, logits, centres, Q, N, H, W, lum, ab, 1.0f,
                            1.0f, &g, &d, grad, &err);
  CHECK (rc == NN_OK, "loss: %s", rc ? err.message : "ok");
  const fixture_tensor *tl = fixture_need (f, "losses", 2);
  if (tl)
    CHECK (fabs (g - tl->data[0]) < 1e-5 * tl->data[0]
               && fabs (d - tl->data[1]) < 1e-5 * tl->data[1],
           "g_loss %.8g, d_loss %.8g as PyTorch's %.8g, %.8g", g, d,
           tl->data[0], tl->data[1]);
  const size_t np = nn_adv_size ();
  const fixture_tensor *tp = fixture_need (f, "dparams", np);
  if (tp)
    CHECK (rel_err (nn_adv_grads (a), tp->data, np) < 1e-4,
           "d_loss's gradient in the %zu parameters as PyTorch's (rel err "
           "%.3g)", np, rel_err (nn_adv_grads (a), tp->data, np));
  const fixture_tensor *tg = fixture_need (f, "dlogits", N * Q * H * W);
  if (tg)
    CHECK (rel_err (grad, tg->data, tg->size) < 1e-4,
           "g_loss's gradient in the logits as PyTorch's (rel err %.3g)",
           rel_err (grad, tg->data, tg->size));
  CHECK (fabs (g_loss_at (a) - g) < 1e-12 * g,
         "the loss without gradients is the same number");
  test_differences (a);
}

static void
test_scales (nn_adv *a)
{
  const size_t np = nn_adv_size ();
  float *full = malloc (np * sizeof *full), *again = malloc (sizeof grad);
  double g, d;
  nn_adv_loss (a, logits, centres, Q, N, H, W, lum, ab, 0.0f, 1.0f, &g, &d,
               NULL, NULL);
  memcpy (full, nn_adv_grads (a), np * sizeof *full);
  for (size_t i = 0; i < N * Q * H * W; i++)
    again[i] = 1.0f;
  nn_adv_loss (a, logits, centres, Q, N, H, W, lum, ab, 0.25f, 0.5f, &g, &d,
               again, NULL);
  double off = 0.0, offp = 0.0;
  for (size_t i = 0; i < N * Q * H * W; i++)
    off = fmax (off, fabs (again[i] - (1.0f + 0.25f * grad[i])));
  for (size_t i = 0; i < np; i++)
    offp = fmax (offp, fabs (nn_adv_grads (a)[i] - 0.5f * full[i]));
  CHECK (off < 1e-6, "g_scale 0.25: dlogits += 0.25 x the gradient (off "
         "%.3g)", off);
  CHECK (offp < 1e-6, "d_scale 0.5: half the parameters' gradient (off "
         "%.3g)", offp);
  nn_adv_loss (a, logits, centres, Q, N, H, W, lum, ab, 0.0f, 0.0f, &g, &d,
               NULL, NULL);
  offp = 0.0;
  for (size_t i = 0; i < np; i++)
    offp = fmax (offp, fabs (nn_adv_grads (a)[i]));
  CHECK (offp == 0.0, "d_scale 0: the parameters' gradient is zero");
  free (full);
  free (again);
}

/* One Adam step, the state out and back, the errors. */
static void
test_update_state (nn_adv *a)
{
  const size_t np = nn_adv_size ();
  double g, d;
  nn_adv_loss (a, logits, centres, Q, N, H, W, lum, ab, 0.0f, 1.0f, &g, &d,
               NULL, NULL);
  float *before = malloc (np * sizeof *before);
  memcpy (before, nn_adv_params (a), np * sizeof *before);
  nn_adv_update (a, 1e-3f);
  /* Adam's first step moves each parameter by lr against its gradient's
   * sign (where the gradient is not tiny against eps) */
  size_t wrong = 0;
  for (size_t i = 0; i < np; i++)
    {
      const float gi = nn_adv_grads (a)[i];
      const float step = nn_adv_params (a)[i] - before[i];
      if (fabsf (gi) > 1e-6f
          && fabsf (step + (gi > 0 ? 1e-3f : -1e-3f)) > 1e-5f)
        wrong++;
    }
  CHECK (wrong == 0, "Adam's first step: each parameter moves by lr against "
         "its gradient (%zu do not)", wrong);
  const size_t nb = nn_adv_state_bytes ();
  unsigned char *s = malloc (nb), *t = malloc (nb);
  nn_adv_state_write (a, s);
  nn_adv *b = NULL;
  nn_error err;
  nn_adv_new (&b, 7, &err);
  nn_code rc = nn_adv_state_read (b, s, nb, &err);
  nn_adv_state_write (b, t);
  CHECK (rc == NN_OK && !memcmp (s, t, nb)
             && !memcmp (nn_adv_params (a), nn_adv_params (b),
                         np * sizeof (float)),
         "the state read back is the state written (%zu bytes)", nb);
  rc = nn_adv_state_read (b, s, nb - 4, &err);
  char want[64];
  snprintf (want, sizeof want, "%zu bytes, expected %zu", nb - 4, nb);
  CHECK (rc == NN_ERR_FORMAT && strstr (err.message, want),
         "a short state: an error naming both sizes (%s)", err.message);
  rc = nn_adv_loss (a, logits, centres, Q, 1, 3, 3, lum, ab, 1.0f, 1.0f, &g,
                    &d, NULL, &err);
  CHECK (rc == NN_ERR_ARG && strstr (err.message, "3 x 3")
             && strstr (err.message, "4 x 4"),
         "3 x 3 images: an error naming the size (%s)", err.message);
  nn_adv_free (b);
  free (before);
  free (s);
  free (t);
}

/* The losses and the logits' gradient with the input pooled by `pool`. */
static void
test_pool (nn_adv *a, const fixture *f, int pool)
{
  char name[32];
  nn_error err;
  double g = 0.0, d = 0.0;
  nn_code rc = nn_adv_set_pool (a, pool, &err);
  memset (grad, 0, sizeof grad);
  if (!rc)
    rc = nn_adv_loss (a, logits, centres, Q, N, H, W, lum, ab, 1.0f, 1.0f, &g,
                      &d, grad, &err);
  CHECK (rc == NN_OK, "pool %d: %s", pool, rc ? err.message : "ok");
  snprintf (name, sizeof name, "losses_pool%d", pool);
  const fixture_tensor *tl = fixture_need (f, name, 2);
  if (tl)
    CHECK (fabs (g - tl->data[0]) < 1e-5 * tl->data[0]
               && fabs (d - tl->data[1]) < 1e-5 * tl->data[1],
           "pool %d: g_loss %.8g, d_loss %.8g as PyTorch's %.8g, %.8g", pool,
           g, d, tl->data[0], tl->data[1]);
  snprintf (name, sizeof name, "dlogits_pool%d", pool);
  const fixture_tensor *tg = fixture_need (f, name, N * Q * H * W);
  if (tg)
    CHECK (rel_err (grad, tg->data, tg->size) < 1e-4,
           "pool %d: g_loss's gradient in the logits as PyTorch's (rel err "
           "%.3g)", pool, rel_err (grad, tg->data, tg->size));
  test_differences (a);
  nn_adv_set_pool (a, 1, &err);
}

static void
test_pool_errors (nn_adv *a)
{
  nn_error err;
  nn_code rc = nn_adv_set_pool (a, 0, &err);
  CHECK (rc == NN_ERR_ARG && strstr (err.message, "pooling 0; 1 to 8"),
         "pooling 0: an error naming the range (%s)", err.message);
  rc = nn_adv_set_pool (a, 9, &err);
  CHECK (rc == NN_ERR_ARG && strstr (err.message, "pooling 9"),
         "pooling 9: an error (%s)", err.message);
  double g, d;
  nn_adv_set_pool (a, 8, &err);
  rc = nn_adv_loss (a, logits, centres, Q, N, H, W, lum, ab, 1.0f, 1.0f, &g,
                    &d, NULL, &err);
  CHECK (rc == NN_ERR_ARG && strstr (err.message, "26 x 18, pooled by 8 to "
                                     "4 x 3"),
         "26 x 18 pooled by 8: an error naming both sizes (%s)", err.message);
  nn_adv_set_pool (a, 1, &err);
}

int
main (void)
{
  char path[1024];
  snprintf (path, sizeof path, "%s/golden/adversarial.bin", fixture_dir ());
  fixture f = { 0 };
  nn_adv *a = NULL;
  nn_error err;
  if (nn_adv_new (&a, 1, &err) != NN_OK)
    CHECK (0, "nn_adv_new: %s", err.message);
  else if (fixture_load (path, &f) != 0)
    CHECK (0, "cannot read %s", path);
  else
    {
      fill (a);
      test_scores (a, &f);
      test_loss (a, &f);
      test_scales (a);
      test_update_state (a);
      fill (a);
      test_pool (a, &f, 2);
      test_pool (a, &f, 4);
      test_pool_errors (a);
    }
  fixture_free (&f);
  nn_adv_free (a);
  return test_report ("test_adversarial");
}
