/* test_layers.c - every layer on its own: finite-difference gradient
 * checks of the backward passes (loss = sum(y * r) for a fixed random r,
 * central differences), plus the convolution against a direct loop for
 * geometries the networks do not use. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "activation.h"
#include "batchnorm.h"
#include "context.h"
#include "conv2d.h"
#include "loss.h"
#include "pool.h"
#include "rng.h"
#include "testutil.h"
#include "winograd.h"
#include "convdirect.h"
#include "convfew.h"
#include "upsample.h"

#define FD_EPS 1e-3
#define FD_TOL 1e-2   /* max |numeric - analytic| / max |analytic| */
#define FD_MAX_POINTS 150

static nn_rng rng;

static float *
randv (size_t n, float half)
{
  float *v = malloc (n * sizeof (float));
  for (size_t i = 0; i < n; i++)
    v[i] = (float) ((2.0 * nn_rng_uniform (&rng) - 1.0) * half);
  return v;
}

/* The function under test: recomputes y from the current inputs and
 * returns sum(y * r). */
typedef double (*loss_fn) (void *ctx);

static double
dot (const float *y, const float *r, size_t n)
{
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += (double) y[i] * r[i];
  return s;
}

/* Compares analytic[] with central differences of fn over var[]. */
static void
fd_check (const char *label, loss_fn fn, void *ctx, float *var,
          const float *analytic, size_t n)
{
  size_t step = n > FD_MAX_POINTS ? n / FD_MAX_POINTS : 1;
  double worst = 0.0, scale = 0.0;
  for (size_t i = 0; i < n; i++)
    scale = fabs (analytic[i]) > scale ? fabs (analytic[i]) : scale;
  for (size_t i = 0; i < n; i += step)
    {
      const float saved = var[i];
      var[i] = (float) (saved + FD_EPS);
      double lp = fn (ctx);
      var[i] = (float) (saved - FD_EPS);
      double lm = fn (ctx);
      var[i] = saved;
      double num = (lp - lm) / (2 * FD_EPS);
      double e = fabs (num - analytic[i]);
      worst = e > worst ? e : worst;
    }
  double rel = scale > 0 ? worst / scale : worst;
  CHECK (rel <= FD_TOL && scale > 0, "%s: finite-difference error %.3g (scale %.3g)",
         label, rel, scale);
}

/* ------------------------------------------------------------------ */

typedef struct conv_ctx {
  conv2d_desc d;
  float *x, *w, *b, *y, *r, *ws;
} conv_ctx;

static double
conv_loss (void *p)
{
  conv_ctx *c = p;
  nn_conv2d_forward (&c->d, c->x, c->w, c->b, c->y, c->ws);
  return dot (c->y, c->r, (size_t) c->d.n * c->d.cout * c->d.oh * c->d.ow);
}

static void
conv_direct (const conv2d_desc *d, const float *x, const float *w,
             const float *b, float *y)
{
  for (int n = 0; n < d->n; n++)
    for (int co = 0; co < d->cout; co++)
      for (int oy = 0; oy < d->oh; oy++)
        for (int ox = 0; ox < d->ow; ox++)
          {
            double s = b ? b[co] : 0.0;
            for (int ci = 0; ci < d->cin; ci++)
              for (int ky = 0; ky < d->kh; ky++)
                for (int kx = 0; kx < d->kw; kx++)
                  {
                    int iy = oy * d->stride - d->pad + ky, ix = ox * d->stride - d->pad + kx;
                    if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w)
                      continue;
                    s += (double) x[((n * d->cin + ci) * d->h + iy) * d->w + ix]
                         * w[((co * d->cin + ci) * d->kh + ky) * d->kw + kx];
                  }
            y[((n * d->cout + co) * d->oh + oy) * d->ow + ox] = (float) s;
          }
}

/* dw = the weight gradient of conv_direct for the output gradient r */
static void
conv_direct_dw (const conv2d_desc *d, const float *x, const float *r,
                float *dw)
{
  for (int co = 0; co < d->cout; co++)
    for (int ci = 0; ci < d->cin; ci++)
      for (int ky = 0; ky < d->kh; ky++)
        for (int kx = 0; kx < d->kw; kx++)
          {
            double s = 0.0;
            for (int n = 0; n < d->n; n++)
              for (int oy = 0; oy < d->oh; oy++)
                for (int ox = 0; ox < d->ow; ox++)
                  {
                    int iy = oy * d->stride - d->pad + ky;
                    int ix = ox * d->stride - d->pad + kx;
                    if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w)
                      continue;
                    s += (double) x[((n * d->cin + ci) * d->h + iy) * d->w + ix]
                         * r[((n * d->cout + co) * d->oh + oy) * d->ow + ox];
                  }
            dw[((co * d->cin + ci) * d->kh + ky) * d->kw + kx] = (float) s;
          }
}

static void
test_conv_algo (int n, int cin, int h, int w, int cout, int k, int stride,
                int pad, int bias, conv2d_algo algo)
{
  char label[96];
  snprintf (label, sizeof label, "conv %dx%dx%dx%d -> %d k%d s%d p%d%s%s", n, cin, h, w,
            cout, k, stride, pad, bias ? " bias" : "",
            algo == CONV2D_SHIFT ? " shift" : algo == CONV2D_UP2 ? " after x2 upsampling"
            : algo == CONV2D_WINO ? " winograd" : algo == CONV2D_WINO_TRAIN
            ? " winograd (training)" : algo == CONV2D_PHASE2 ? " phases"
            : algo == CONV2D_DIRECT ? " direct" : algo == CONV2D_FEW
            ? " few outputs" : "");
  conv_ctx c;
  if (!CHECK (nn_conv2d_desc_init (&c.d, n, cin, h, w, cout, k, stride, pad) == 0, "%s: desc", label))
    return;
  if (algo != CONV2D_IM2COL
      && !CHECK (algo == CONV2D_PHASE2 ? nn_conv2d_phase2_ok (&c.d)
                 : algo == CONV2D_DIRECT ? nn_convdirect_ok (&c.d)
                 : algo == CONV2D_FEW ? nn_convfew_ok (&c.d)
                 : nn_conv2d_shift_ok (&c.d), "%s: the algorithm must apply",
                 label))
    return;
  c.d.algo = algo;
  /* CONV2D_UP2 takes the image before its nearest x2 upsampling */
  const int up = algo == CONV2D_UP2;
  size_t xn = (size_t) n * cin * (h >> up) * (w >> up), wn = (size_t) cout * cin * k * k;
  size_t yn = (size_t) n * cout * c.d.oh * c.d.ow;
  c.x = randv (xn, 1.0f);
  c.w = randv (wn, 0.5f);
  c.b = bias ? randv ((size_t) cout, 0.5f) : NULL;
  c.y = malloc (yn * sizeof (float));
  c.r = randv (yn, 1.0f);
  c.ws = malloc (nn_conv2d_workspace_floats (&c.d) * sizeof (float) + 4);
  float *ref = malloc (yn * sizeof (float));
  nn_conv2d_forward (&c.d, c.x, c.w, c.b, c.y, c.ws);
  if (up)
    {
      float *xu = malloc ((size_t) n * cin * h * w * sizeof (float));
      for (int i = 0; i < n * cin; i++)
        for (int yy = 0; yy < h; yy++)
          for (int xx = 0; xx < w; xx++)
            xu[((size_t) i * h + yy) * w + xx]
              = c.x[((size_t) i * (h / 2) + yy / 2) * (w / 2) + xx / 2];
      conv_direct (&c.d, xu, c.w, c.b, ref);
      free (xu);
    }
  else
    conv_direct (&c.d, c.x, c.w, c.b, ref);
  /* float sums of up to cin * 9 products in another order: within 1e-5
   * of the output's scale (AVX-512 kernels: 1.05e-5 at scale 2) */
  double scale = 0.0;
  for (size_t i = 0; i < yn; i++)
    scale = fabs (ref[i]) > scale ? fabs (ref[i]) : scale;
  double e = max_abs_diff (c.y, ref, yn);
  CHECK (e <= 1e-5 * (scale > 1.0 ? scale : 1.0),
         "%s: forward differs from direct loop by %.3g (scale %.3g)", label,
         e, scale);
  float *dx = malloc (xn * sizeof (float)), *dw = calloc (wn, sizeof (float));
  float *db = bias ? calloc ((size_t) cout, sizeof (float)) : NULL;
  nn_conv2d_backward (&c.d, c.x, c.w, c.r, dx, dw, db, c.ws);
  char sub[128];
  if (!up)
    {
      /* the weight gradient against the direct sum, in doubles, to the
       * forward's float tolerance (finite differences below see only
       * 1e-2 of it) */
      float *dwr = malloc (wn * sizeof (float));
      conv_direct_dw (&c.d, c.x, c.r, dwr);
      double ws = 0.0;
      for (size_t i = 0; i < wn; i++)
        ws = fabs (dwr[i]) > ws ? fabs (dwr[i]) : ws;
      e = max_abs_diff (dw, dwr, wn);
      CHECK (e <= 1e-5 * (ws > 1.0 ? ws : 1.0),
             "%s: weight gradient differs from the direct sum by %.3g "
             "(scale %.3g)", label, e, ws);
      if (algo == CONV2D_DIRECT)
        {
          /* without dx the weight gradient is the direct one's */
          float *dwd = calloc (wn, sizeof (float));
          nn_conv2d_backward (&c.d, c.x, c.w, c.r, NULL, dwd, NULL, c.ws);
          e = max_abs_diff (dwd, dwr, wn);
          CHECK (e <= 1e-5 * (ws > 1.0 ? ws : 1.0),
                 "%s: weight gradient without dx differs from the direct "
                 "sum by %.3g (scale %.3g)", label, e, ws);
          free (dwd);
        }
      free (dwr);
    }
  snprintf (sub, sizeof sub, "%s dx", label);
  fd_check (sub, conv_loss, &c, c.x, dx, xn);
  snprintf (sub, sizeof sub, "%s dw", label);
  fd_check (sub, conv_loss, &c, c.w, dw, wn);
  if (bias)
    {
      snprintf (sub, sizeof sub, "%s db", label);
      fd_check (sub, conv_loss, &c, c.b, db, (size_t) cout);
    }
  /* gradients accumulate: a second backward doubles dw */
  float *dw2 = malloc (wn * sizeof (float));
  memcpy (dw2, dw, wn * sizeof (float));
  nn_conv2d_backward (&c.d, c.x, c.w, c.r, NULL, dw2, NULL, c.ws);
  for (size_t i = 0; i < wn; i++)
    dw[i] *= 2.0f;
  CHECK (rel_err (dw2, dw, wn) <= 1e-6, "%s: weight gradients do not accumulate", label);
  free (c.x); free (c.w); free (c.b); free (c.y); free (c.r); free (c.ws);
  free (ref); free (dx); free (dw); free (db); free (dw2);
}

/* The direct convolution's fused ReLU against im2col's, both first
 * layers' geometries: the same values to float rounding, and the
 * negative ones (about half) zero. */
static void
test_direct_relu (void)
{
  static const int geo[2][3] = { { 3, 1, 1 }, { 7, 2, 3 } };
  for (int t = 0; t < 2; t++)
    {
      conv2d_desc a, b;
      nn_conv2d_desc_init (&a, 2, 1, 37, 75, 5, geo[t][0], geo[t][1], geo[t][2]);
      b = a;
      b.algo = CONV2D_DIRECT;
      const size_t xn = 2 * 37 * 75, yn = (size_t) 2 * 5 * a.oh * a.ow;
      float *x = randv (xn, 1.0f), *w = randv ((size_t) 5 * geo[t][0] * geo[t][0], 0.5f);
      float *bias = randv (5, 0.5f), *ya = malloc (yn * sizeof (float));
      float *yb = malloc (yn * sizeof (float));
      size_t wa = nn_conv2d_forward_workspace_floats (&a);
      size_t wb = nn_conv2d_forward_workspace_floats (&b);
      float *ws = malloc ((wa > wb ? wa : wb) * sizeof (float));
      nn_conv2d_forward_fused (&a, x, w, bias, 1, ya, ws);
      nn_conv2d_forward_fused (&b, x, w, bias, 1, yb, ws);
      size_t zeros = 0, neg = 0;
      for (size_t i = 0; i < yn; i++)
        {
          zeros += yb[i] == 0.0f;
          neg += yb[i] < 0.0f;
        }
      CHECK (max_abs_diff (ya, yb, yn) <= 1e-5 && neg == 0
             && zeros > yn / 4 && zeros < 3 * yn / 4,
             "direct k%d s%d with ReLU: %.3g from im2col's, %zu of %zu zero, "
             "%zu negative", geo[t][0], geo[t][1], max_abs_diff (ya, yb, yn),
             zeros, yn, neg);
      free (x); free (w); free (bias); free (ya); free (yb); free (ws);
    }
}

/* The Winograd transforms' two paths (AVX-512 where the CPU has it, the
 * cloned C loops elsewhere) give the same bits, forward and weight
 * gradient; on a CPU without AVX-512 both runs take the C loops. */
static void
test_wino_paths (int n, int cin, int h, int w, int cout)
{
  conv2d_desc d;
  if (!CHECK (nn_conv2d_desc_init (&d, n, cin, h, w, cout, 3, 1, 1) == 0,
              "winograd paths %dx%dx%dx%d: desc", n, cin, h, w))
    return;
  const size_t xn = (size_t) n * cin * h * w, yn = (size_t) n * cout * h * w;
  const size_t wn = (size_t) cout * cin * 9;
  size_t wsn = nn_wino_workspace_floats (&d);
  if (nn_wino_backward_weights_floats (&d) > wsn)
    wsn = nn_wino_backward_weights_floats (&d);
  float *x = randv (xn, 1.0f), *wt = randv (wn, 0.5f), *dy = randv (yn, 1.0f);
  float *ws = malloc (wsn * sizeof (float));
  float *y[2], *dw[2];
  for (int p = 0; p < 2; p++)
    {
      nn_wino_portable (p);
      y[p] = malloc (yn * sizeof (float));
      dw[p] = calloc (wn, sizeof (float));
      nn_wino_forward (&d, x, wt, 0, NULL, 0, y[p], ws);
      nn_wino_backward_weights (&d, x, dy, dw[p], ws);
    }
  nn_wino_portable (0);
  CHECK (memcmp (y[0], y[1], yn * sizeof (float)) == 0,
         "winograd paths %dx%dx%dx%d -> %d: forward differs", n, cin, h, w,
         cout);
  CHECK (memcmp (dw[0], dw[1], wn * sizeof (float)) == 0,
         "winograd paths %dx%dx%dx%d -> %d: weight gradient differs", n, cin,
         h, w, cout);
  for (int p = 0; p < 2; p++)
    {
      free (y[p]);
      free (dw[p]);
    }
  free (x);
  free (wt);
  free (dy);
  free (ws);
}

/* ------------------------------------------------------------------ */

typedef struct bn_ctx {
  batchnorm_desc d;
  int training;
  float *x, *gamma, *beta, *rm, *rv, *y, *r, *mean, *invstd;
} bn_ctx;

static double
bn_loss (void *p)
{
  bn_ctx *c = p;
  size_t n = (size_t) c->d.n * c->d.c * c->d.hw;
  if (c->training)
    {
      /* running statistics must not drift between evaluations */
      float rm[64], rv[64];
      memcpy (rm, c->rm, sizeof (float) * c->d.c);
      memcpy (rv, c->rv, sizeof (float) * c->d.c);
      nn_batchnorm_forward_train (&c->d, c->x, c->gamma, c->beta, rm, rv, c->y,
                               c->mean, c->invstd);
    }
  else
    nn_batchnorm_forward_infer (&c->d, c->x, c->gamma, c->beta, c->rm, c->rv, c->y);
  return dot (c->y, c->r, n);
}

/* relu: the batch norm with its fused ReLU (batchnorm_desc.relu) */
static void
test_bn (int training, int relu)
{
  bn_ctx c = { .d = { 3, 4, 10, 1e-5f, 0.1f, NULL, NULL, relu, NULL },
               .training = training };
  size_t n = (size_t) c.d.n * c.d.c * c.d.hw;
  c.x = randv (n, 2.0f);
  c.gamma = randv (4, 0.5f);
  c.beta = randv (4, 0.5f);
  c.rm = randv (4, 0.3f);
  c.rv = randv (4, 0.3f);
  for (int i = 0; i < 4; i++)
    {
      c.gamma[i] += 1.0f;
      c.rv[i] += 1.0f;
    }
  c.y = malloc (n * sizeof (float));
  c.r = randv (n, 1.0f);
  c.mean = malloc (4 * sizeof (float));
  c.invstd = malloc (4 * sizeof (float));
  /* with the ReLU, keep every pre-activation 0.02 away from the kink, so
   * that the finite differences (steps of 1e-3) never straddle it: shift
   * beta of a channel that comes too close */
  for (int iter = 0; relu && iter < 50; iter++)
    {
      c.d.relu = 0;
      bn_loss (&c);
      c.d.relu = 1;
      int near = -1;
      for (size_t i = 0; i < n && near < 0; i++)
        if (fabsf (c.y[i]) < 0.02f)
          near = (int) (i / c.d.hw) % c.d.c;
      if (near < 0)
        break;
      c.beta[near] += 0.037f;
    }
  bn_loss (&c);
  if (!training)
    for (int i = 0; i < 4; i++)
      {
        c.mean[i] = c.rm[i];
        c.invstd[i] = (float) (1.0 / sqrt (c.rv[i] + 1e-5));
      }
  float *dx = malloc (n * sizeof (float)), dg[4] = { 0 }, dbeta[4] = { 0 };
  batchnorm_desc bd = c.d;
  bd.relu_y = relu ? c.y : NULL; /* dy (c.r) is the ReLU output's */
  nn_batchnorm_backward (&bd, training, c.x, c.r, c.gamma, c.mean, c.invstd, dx, dg, dbeta);
  if (relu)
    {
      /* the fused output is exactly max(0, batch norm) */
      float *plain = malloc (n * sizeof (float));
      batchnorm_desc pd = c.d;
      pd.relu = 0;
      float rm[4], rv[4], sm[4], si[4];
      memcpy (rm, c.rm, sizeof rm);
      memcpy (rv, c.rv, sizeof rv);
      if (training)
        nn_batchnorm_forward_train (&pd, c.x, c.gamma, c.beta, rm, rv, plain, sm, si);
      else
        nn_batchnorm_forward_infer (&pd, c.x, c.gamma, c.beta, rm, rv, plain);
      size_t bad = 0, zeros = 0;
      for (size_t i = 0; i < n; i++)
        {
          bad += c.y[i] != (plain[i] > 0.0f ? plain[i] : 0.0f);
          zeros += c.y[i] == 0.0f;
        }
      CHECK (bad == 0 && zeros > 0 && zeros < n,
             "batchnorm+relu %s: %zu outputs differ from max(0, bn), %zu zeros of %zu",
             training ? "train" : "eval", bad, zeros, n);
      free (plain);
    }
  const char *mode = training ? (relu ? "batchnorm+relu train" : "batchnorm train")
                              : (relu ? "batchnorm+relu eval" : "batchnorm eval");
  char sub[64];
  snprintf (sub, sizeof sub, "%s dx", mode);
  fd_check (sub, bn_loss, &c, c.x, dx, n);
  snprintf (sub, sizeof sub, "%s dgamma", mode);
  fd_check (sub, bn_loss, &c, c.gamma, dg, 4);
  snprintf (sub, sizeof sub, "%s dbeta", mode);
  fd_check (sub, bn_loss, &c, c.beta, dbeta, 4);
  if (training)
    {
      /* running averages: momentum 0.1 toward the batch mean and the
       * unbiased batch variance */
      float rm[4], rv[4];
      memcpy (rm, c.rm, sizeof rm);
      memcpy (rv, c.rv, sizeof rv);
      nn_batchnorm_forward_train (&c.d, c.x, c.gamma, c.beta, rm, rv, c.y, c.mean, c.invstd);
      int ok = 1;
      for (int ch = 0; ch < 4; ch++)
        {
          double s = 0, sq = 0, cnt = c.d.n * c.d.hw;
          for (int i = 0; i < c.d.n; i++)
            for (int p = 0; p < c.d.hw; p++)
              s += c.x[(i * 4 + ch) * c.d.hw + p];
          double mean = s / cnt;
          for (int i = 0; i < c.d.n; i++)
            for (int p = 0; p < c.d.hw; p++)
              {
                double t = c.x[(i * 4 + ch) * c.d.hw + p] - mean;
                sq += t * t;
              }
          ok &= fabs (rm[ch] - (0.9 * c.rm[ch] + 0.1 * mean)) < 1e-6;
          ok &= fabs (rv[ch] - (0.9 * c.rv[ch] + 0.1 * sq / (cnt - 1))) < 1e-6;
        }
      CHECK (ok, "batchnorm train: running statistics update");
    }
  free (c.x); free (c.gamma); free (c.beta); free (c.rm); free (c.rv);
  free (c.y); free (c.r); free (c.mean); free (c.invstd); free (dx);
}

/* ------------------------------------------------------------------ */

typedef struct simple_ctx {
  int kind; /* 0 relu, 1 tanh, 2 maxpool, 3 upsample, 4 add, 5 mse */
  size_t n, yn;
  float *x, *x2, *y, *r;
  maxpool_desc pd;
  int planes, h, w;
} simple_ctx;

static double
simple_loss (void *p)
{
  simple_ctx *c = p;
  switch (c->kind)
    {
    case 0: nn_relu_forward (c->x, c->y, c->n); break;
    case 1: nn_tanh_forward (c->x, c->y, c->n); break;
    case 2: nn_maxpool_forward (&c->pd, c->x, c->y); break;
    case 3: nn_upsample2_forward (c->x, c->y, c->planes, c->h, c->w); break;
    case 4: nn_add_forward (c->x, c->x2, c->y, c->n); break;
    case 5: return nn_mse_loss (c->x, c->x2, c->r, c->n, NULL);
    }
  return dot (c->y, c->r, c->yn);
}

static void
test_simple (int kind)
{
  static const char *const names[] = { "relu", "tanh", "maxpool 3x3 s2 p1",
                                       "upsample x2", "residual add", "mse loss" };
  simple_ctx c = { .kind = kind, .planes = 6, .h = 9, .w = 7 };
  c.n = (size_t) c.planes * c.h * c.w;
  c.yn = c.n;
  if (kind == 2)
    {
      nn_maxpool_desc_init (&c.pd, 2, 3, c.h, c.w, 3, 2, 1);
      c.yn = (size_t) 6 * c.pd.oh * c.pd.ow;
    }
  if (kind == 3)
    c.yn = 4 * c.n;
  c.x = randv (c.n, 1.0f);
  if (kind == 0 || kind == 2)
    {
      /* distinct values at least 0.01 apart, none within eps of a kink */
      for (size_t i = 0; i < c.n; i++)
        c.x[i] = (float) (((i * 37) % c.n) * 0.01 - c.n * 0.005 + 0.0025);
    }
  c.x2 = randv (c.n, 1.0f);
  c.y = malloc (c.yn * sizeof (float));
  c.r = randv (kind == 5 ? c.n : c.yn, 1.0f);
  if (kind == 5)
    for (size_t i = 0; i < c.n; i++)
      c.r[i] = fabsf (c.r[i]); /* per-element weights */
  simple_loss (&c);
  float *dx = malloc (c.n * sizeof (float));
  switch (kind)
    {
    case 0: nn_relu_backward (c.y, c.r, dx, c.n); break;
    case 1: nn_tanh_backward (c.y, c.r, dx, c.n); break;
    case 2: nn_maxpool_backward (&c.pd, c.x, c.r, dx); break;
    case 3: nn_upsample2_backward (c.r, dx, c.planes, c.h, c.w); break;
    case 4: memcpy (dx, c.r, c.n * sizeof (float)); break;
    case 5: nn_mse_loss (c.x, c.x2, c.r, c.n, dx); break;
    }
  char sub[64];
  snprintf (sub, sizeof sub, "%s dx", names[kind]);
  fd_check (sub, simple_loss, &c, c.x, dx, c.n);
  if (kind == 4)
    {
      snprintf (sub, sizeof sub, "%s dx2", names[kind]);
      fd_check (sub, simple_loss, &c, c.x2, dx, c.n);
    }
  free (c.x); free (c.x2); free (c.y); free (c.r); free (dx);
}

static void
test_maxpool_values (void)
{
  /* padding never wins, even when every real value is negative */
  float x[4] = { -5, -3, -4, -6 }, y[1];
  maxpool_desc d;
  nn_maxpool_desc_init (&d, 1, 1, 2, 2, 3, 2, 1);
  nn_maxpool_forward (&d, x, y);
  CHECK (d.oh == 1 && d.ow == 1 && y[0] == -3.0f, "maxpool with padding: %g, expected -3", y[0]);
}

/* The separable forward pass against a window-by-window search written
 * here (NaN wins, padding never does), on odd and even sizes, k 2..3,
 * strides 1..2, pads 0..1, with a few NaN. */
static void
test_maxpool_shapes (void)
{
  static const int cases[][5] = { { 9, 7, 3, 2, 1 }, { 8, 10, 3, 2, 1 },
                                  { 5, 6, 2, 2, 0 }, { 7, 7, 3, 1, 1 },
                                  { 3, 11, 3, 2, 0 }, { 1, 4, 2, 1, 1 } };
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++)
    {
      int h = cases[t][0], w = cases[t][1], k = cases[t][2];
      int st = cases[t][3], pad = cases[t][4];
      maxpool_desc d;
      if (nn_maxpool_desc_init (&d, 2, 3, h, w, k, st, pad))
        {
          CHECK (0, "maxpool %dx%d k%d s%d p%d: descriptor refused", h, w, k,
                 st, pad);
          continue;
        }
      size_t nx = (size_t) 6 * h * w, ny = (size_t) 6 * d.oh * d.ow;
      float *x = malloc (nx * sizeof *x), *y = malloc (ny * sizeof *y);
      /* planes 3..5 in a few levels: ties, where the first maximum wins */
      for (size_t i = 0; i < nx; i++)
        x[i] = i < nx / 2 ? (float) nn_rng_normal (&rng)
                          : (float) (int) (3.0 * nn_rng_uniform (&rng));
      x[nx / 3] = NAN;
      x[nx - 1] = NAN;
      nn_maxpool_forward (&d, x, y);
      int same = 1;
      for (int pl = 0; pl < 6; pl++)
        for (int oy = 0; oy < d.oh; oy++)
          for (int ox = 0; ox < d.ow; ox++)
            {
              float m = -INFINITY;
              int nan = 0;
              for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                  {
                    int iy = oy * st - pad + ky, ix = ox * st - pad + kx;
                    if (iy < 0 || ix < 0 || iy >= h || ix >= w)
                      continue;
                    float v = x[((size_t) pl * h + iy) * w + ix];
                    nan |= isnan (v);
                    m = v > m ? v : m;
                  }
              float got = y[((size_t) pl * d.oh + oy) * d.ow + ox];
              same &= nan ? isnan (got) != 0 : got == m;
            }
      CHECK (same, "maxpool %dx%d k%d s%d p%d: equals the window search, "
             "NaN included", h, w, k, st, pad);
      /* backward: each gradient to the window's first maximum (the first
       * NaN), in row-major order, as PyTorch routes it */
      float *g = malloc (ny * sizeof *g), *dx = malloc (nx * sizeof *dx);
      float *ref = calloc (nx, sizeof *ref);
      for (size_t i = 0; i < ny; i++)
        g[i] = (float) (i % 13) + 1.0f;
      nn_maxpool_backward (&d, x, g, dx);
      for (int pl = 0; pl < 6; pl++)
        for (int oy = 0; oy < d.oh; oy++)
          for (int ox = 0; ox < d.ow; ox++)
            {
              long best = -1;
              float bv = 0.0f;
              for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                  {
                    int iy = oy * st - pad + ky, ix = ox * st - pad + kx;
                    if (iy < 0 || ix < 0 || iy >= h || ix >= w)
                      continue;
                    long at = ((long) pl * h + iy) * w + ix;
                    float v = x[at];
                    if (best < 0 || (!isnan (bv) && (v > bv || isnan (v))))
                      {
                        best = at;
                        bv = v;
                      }
                  }
              ref[best] += g[((size_t) pl * d.oh + oy) * d.ow + ox];
            }
      CHECK (!memcmp (dx, ref, nx * sizeof *dx), "maxpool %dx%d k%d s%d p%d: "
             "backward routes each gradient to the first maximum, ties and "
             "NaN included", h, w, k, st, pad);
      free (g);
      free (dx);
      free (ref);
      free (x);
      free (y);
    }
}

/* ------------------------------------------------------------------ */
/* Global context: forward against the formula in doubles, backward by
 * finite differences (x, s, W and the hidden layer's W1, b1, W2), y in
 * place over x. */

typedef struct context_ctx {
  nn_context_desc d;
  float *x, *s, *y, *r;
  nn_context_params p;
} context_ctx;

static double
context_loss (void *p)
{
  context_ctx *c = p;
  nn_context_forward (&c->d, c->x, c->s, &c->p, c->y);
  return dot (c->y, c->r, (size_t) c->d.n * c->d.c * c->d.hw);
}

/* The formula of context.h in doubles. */
static void
context_reference (const context_ctx *c, float *ref)
{
  const nn_context_desc *d = &c->d;
  for (int i = 0; i < d->n; i++)
    {
      double m[16], a[16];
      for (int j = 0; j < d->cs; j++)
        {
          m[j] = 0.0;
          for (int k = 0; k < d->shw; k++)
            m[j] += c->s[((size_t) i * d->cs + j) * d->shw + k];
          m[j] /= d->shw;
        }
      for (int h = 0; h < d->hidden; h++)
        {
          a[h] = c->p.b1[h];
          for (int j = 0; j < d->cs; j++)
            a[h] += (double) c->p.w1[h * d->cs + j] * m[j];
        }
      for (int o = 0; o < d->c; o++)
        {
          double b = 0.0;
          for (int j = 0; j < d->cs; j++)
            b += (double) c->p.w[o * d->cs + j] * m[j];
          for (int h = 0; h < d->hidden; h++)
            b += (double) c->p.w2[o * d->hidden + h] * fmax (a[h], 0.0);
          for (int k = 0; k < d->hw; k++)
            {
              size_t at = ((size_t) i * d->c + o) * d->hw + k;
              ref[at] = (float) (c->x[at] + b);
            }
        }
    }
}

static void
test_context (int n, int ch, int hw, int cs, int shw, int hid)
{
  char label[96], l2[128];
  snprintf (label, sizeof label, "context n%d c%d hw%d cs%d shw%d hidden%d",
            n, ch, hw, cs, shw, hid);
  const size_t ny = (size_t) n * ch * hw, ns = (size_t) n * cs * shw,
               nw = (size_t) ch * cs, n1 = (size_t) hid * cs,
               n2 = (size_t) ch * hid;
  context_ctx c = { { n, ch, hw, cs, shw, hid }, randv (ny, 1.0f),
                    randv (ns, 2.0f), malloc (ny * sizeof (float)),
                    randv (ny, 1.0f),
                    { randv (nw, 0.5f), randv (n1 + 1, 0.5f),
                      randv ((size_t) hid + 1, 0.5f), randv (n2 + 1, 0.5f) } };
  float *ref = malloc (ny * sizeof (float));
  context_reference (&c, ref);
  nn_context_forward (&c.d, c.x, c.s, &c.p, c.y);
  CHECK (rel_err (c.y, ref, ny) < 1e-6, "%s: forward off the formula by %.3g",
         label, rel_err (c.y, ref, ny));
  float *inplace = malloc (ny * sizeof (float));
  memcpy (inplace, c.x, ny * sizeof (float));
  nn_context_forward (&c.d, inplace, c.s, &c.p, inplace);
  CHECK (!memcmp (inplace, c.y, ny * sizeof (float)),
         "%s: in place differs", label);
  float *ds = malloc (ns * sizeof (float));
  nn_context_params g = { calloc (nw, sizeof (float)),
                          calloc (n1 + 1, sizeof (float)),
                          calloc ((size_t) hid + 1, sizeof (float)),
                          calloc (n2 + 1, sizeof (float)) };
  CHECK (nn_context_backward (&c.d, c.s, &c.p, c.r, ds, &g) == 0,
         "%s: backward failed", label);
  const struct { const char *what; float *var, *grad; size_t count; } v[] = {
    { "dx", c.x, c.r, ny }, { "ds", c.s, ds, ns }, { "dw", c.p.w, g.w, nw },
    { "dw1", c.p.w1, g.w1, n1 }, { "db1", c.p.b1, g.b1, (size_t) hid },
    { "dw2", c.p.w2, g.w2, n2 },
  };
  for (int i = 0; i < (hid ? 6 : 3); i++)
    {
      snprintf (l2, sizeof l2, "%s %s", label, v[i].what);
      fd_check (l2, context_loss, &c, v[i].var, v[i].grad, v[i].count);
    }
  /* the parameters' gradients accumulate */
  float *dw1 = malloc ((n1 + 1) * sizeof (float));
  memcpy (dw1, g.w1, (n1 + 1) * sizeof (float));
  float *dw = malloc (nw * sizeof (float));
  memcpy (dw, g.w, nw * sizeof (float));
  nn_context_backward (&c.d, c.s, &c.p, c.r, NULL, &g);
  double worst = 0.0;
  for (size_t i = 0; i < nw; i++)
    worst = fmax (worst, fabs (g.w[i] - 2.0 * dw[i]));
  for (size_t i = 0; i < n1; i++)
    worst = fmax (worst, fabs (g.w1[i] - 2.0 * dw1[i]));
  CHECK (worst <= 1e-5 * (1.0 + fabs (dw[0])), "%s: dw, dw1 do not "
         "accumulate (%.3g off)", label, worst);
  free (c.x); free (c.s); free (c.y); free (c.r);
  free (c.p.w); free (c.p.w1); free (c.p.b1); free (c.p.w2);
  free (g.w); free (g.w1); free (g.b1); free (g.w2);
  free (ref); free (inplace); free (ds); free (dw); free (dw1);
}

static void
test_conv (int n, int cin, int h, int w, int cout, int k, int stride, int pad,
           int bias)
{
  test_conv_algo (n, cin, h, w, cout, k, stride, pad, bias, CONV2D_IM2COL);
}

int
main (void)
{
  nn_rng_seed (&rng, 42);
  test_conv (2, 3, 9, 11, 4, 3, 1, 1, 1);
  test_conv (2, 3, 10, 8, 5, 3, 2, 1, 1);
  test_conv (1, 1, 16, 14, 4, 7, 2, 3, 0);
  test_conv (2, 4, 8, 8, 6, 1, 2, 0, 0);
  test_conv (1, 2, 11, 9, 3, 2, 3, 0, 1);
  test_conv (1, 70, 12, 12, 3, 3, 1, 1, 1);     /* K = 630: several column blocks */
  test_conv (1, 2, 200, 300, 2, 3, 1, 1, 1);    /* P = 60000, K = 18: two column blocks */
  /* the shifted-GEMM 3x3 convolution of training passes */
  test_conv_algo (2, 3, 9, 11, 4, 3, 1, 1, 1, CONV2D_SHIFT);
  test_conv_algo (3, 5, 6, 7, 4, 3, 1, 1, 0, CONV2D_SHIFT);
  test_conv_algo (1, 1, 8, 8, 2, 3, 1, 1, 1, CONV2D_SHIFT);
  test_conv_algo (2, 3, 50, 60, 5, 3, 1, 1, 1, CONV2D_SHIFT); /* several blocks */
  /* the same on a nearest x2 upsampling, folded into 2x2 kernels */
  test_conv_algo (2, 3, 8, 10, 4, 3, 1, 1, 1, CONV2D_UP2);
  test_conv_algo (1, 5, 4, 4, 3, 3, 1, 1, 0, CONV2D_UP2);
  test_conv_algo (2, 2, 100, 120, 3, 3, 1, 1, 1, CONV2D_UP2); /* several blocks */
  /* Winograd F(2x2, 3x3): odd and even sides, one-pixel images, several
   * blocks of tiles; inference and training variants */
  test_conv_algo (2, 3, 9, 11, 4, 3, 1, 1, 1, CONV2D_WINO);
  test_conv_algo (3, 5, 6, 7, 4, 3, 1, 1, 0, CONV2D_WINO);
  test_conv_algo (1, 2, 1, 1, 3, 3, 1, 1, 1, CONV2D_WINO);
  test_conv_algo (2, 3, 70, 61, 5, 3, 1, 1, 1, CONV2D_WINO); /* several blocks */
  test_conv_algo (2, 3, 9, 11, 4, 3, 1, 1, 1, CONV2D_WINO_TRAIN);
  test_conv_algo (3, 5, 7, 6, 4, 3, 1, 1, 0, CONV2D_WINO_TRAIN);
  test_conv_algo (2, 3, 50, 60, 5, 3, 1, 1, 1, CONV2D_WINO_TRAIN); /* several blocks */
  test_conv_algo (1, 2, 1, 1, 3, 3, 1, 1, 1, CONV2D_WINO_TRAIN);
  /* the row transforms' edges (tiles reading past both ends of a row,
   * one and two tiles a row), tile rows reusing the rows of the one
   * above, and blocks that cut rows */
  test_conv_algo (1, 3, 5, 2, 4, 3, 1, 1, 1, CONV2D_WINO_TRAIN);
  test_conv_algo (2, 2, 3, 5, 3, 3, 1, 1, 0, CONV2D_WINO);
  test_conv_algo (1, 2, 40, 4, 2, 3, 1, 1, 1, CONV2D_WINO_TRAIN);
  test_conv_algo (3, 4, 23, 131, 3, 3, 1, 1, 1, CONV2D_WINO_TRAIN);
  /* cout cin past one chunk of the weight gradient's transform */
  test_conv_algo (2, 19, 13, 10, 17, 3, 1, 1, 0, CONV2D_WINO_TRAIN);
  /* stride 2 on the four phases: even and odd sides, several blocks */
  test_conv_algo (2, 3, 8, 10, 4, 3, 2, 1, 1, CONV2D_PHASE2);
  test_conv_algo (3, 5, 9, 7, 4, 3, 2, 1, 0, CONV2D_PHASE2);
  test_conv_algo (1, 2, 1, 2, 3, 3, 2, 1, 1, CONV2D_PHASE2);
  test_conv_algo (2, 3, 100, 121, 5, 3, 2, 1, 1, CONV2D_PHASE2); /* several blocks */
  /* one input plane, direct: both first layers' geometries, odd sides,
   * rows past one chunk of outputs, images smaller than the kernel */
  test_conv_algo (2, 1, 9, 11, 4, 3, 1, 1, 1, CONV2D_DIRECT);
  test_conv_algo (1, 1, 70, 133, 3, 3, 1, 1, 0, CONV2D_DIRECT);
  test_conv_algo (2, 1, 17, 23, 5, 7, 2, 3, 1, CONV2D_DIRECT);
  test_conv_algo (1, 1, 40, 150, 3, 7, 2, 3, 1, CONV2D_DIRECT);
  test_conv_algo (1, 1, 2, 3, 2, 7, 2, 3, 1, CONV2D_DIRECT);
  test_conv_algo (2, 1, 8, 9, 3, 5, 1, 2, 0, CONV2D_DIRECT);
  /* few output planes, direct: one to four of them; input channels in
   * fours and not; rows past one chunk, bands and sides not multiples of
   * them, a 1x1 image */
  test_conv_algo (2, 32, 16, 16, 2, 3, 1, 1, 1, CONV2D_FEW);
  test_conv_algo (1, 5, 9, 70, 1, 3, 1, 1, 0, CONV2D_FEW);
  test_conv_algo (3, 6, 19, 5, 3, 3, 1, 1, 1, CONV2D_FEW);
  test_conv_algo (1, 9, 17, 130, 4, 3, 1, 1, 1, CONV2D_FEW);
  test_conv_algo (2, 1, 1, 1, 2, 3, 1, 1, 1, CONV2D_FEW);
  test_direct_relu ();
  test_bn (1, 0);
  test_bn (1, 1);
  test_bn (0, 0);
  test_bn (0, 1);
  for (int k = 0; k <= 5; k++)
    test_simple (k);
  test_maxpool_values ();
  test_maxpool_shapes ();
  test_context (2, 3, 20, 4, 6, 0);
  test_context (3, 5, 1, 7, 9, 0);
  test_context (1, 4, 12, 3, 1, 0);
  test_context (3, 3, 10, 4, 6, 5);
  test_context (2, 4, 1, 7, 9, 16);
  /* (last, so that the random inputs of the checks above stay as they
   * were) Winograd through the C loops (nn_wino_portable) against the
   * direct sum, and both paths bit for bit */
  nn_wino_portable (1);
  test_conv_algo (2, 3, 9, 11, 4, 3, 1, 1, 1, CONV2D_WINO_TRAIN);
  test_conv_algo (1, 3, 5, 2, 4, 3, 1, 1, 1, CONV2D_WINO_TRAIN);
  test_conv_algo (3, 4, 23, 131, 3, 3, 1, 1, 1, CONV2D_WINO_TRAIN);
  nn_wino_portable (0);
  test_wino_paths (2, 3, 9, 11, 4);
  test_wino_paths (1, 2, 1, 1, 3);
  test_wino_paths (1, 3, 2, 5, 2);
  test_wino_paths (3, 5, 33, 47, 6);
  test_wino_paths (2, 4, 23, 131, 3);
  return test_report ("test_layers");
}
