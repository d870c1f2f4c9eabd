/* perceptual.c - the perceptual loss (see perceptual.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "activation.h"
#include "conv2d.h"
#include "gamut.h"
#include "head.h"
#include "perceptual.h"
#include "pool.h"
#include "simd.h"

static const nn_percept_conv convs[NN_PERCEPT_CONVS] = {
  { "conv1", 64, 3, 7, 2, 3 },
  { "layer1.0.conv1", 64, 64, 3, 1, 1 },
  { "layer1.0.conv2", 64, 64, 3, 1, 1 },
  { "layer1.1.conv1", 64, 64, 3, 1, 1 },
  { "layer1.1.conv2", 64, 64, 3, 1, 1 },
  { "layer2.0.conv1", 128, 64, 3, 2, 1 },
  { "layer2.0.conv2", 128, 128, 3, 1, 1 },
  { "layer2.0.downsample.0", 128, 64, 1, 2, 0 },
  { "layer2.1.conv1", 128, 128, 3, 1, 1 },
  { "layer2.1.conv2", 128, 128, 3, 1, 1 },
};

/* The four basic blocks: their two convolutions and the shortcut's (-1:
 * identity), as indices into convs. */
static const int blocks[4][3] = {
  { 1, 2, -1 }, { 3, 4, -1 }, { 5, 6, 7 }, { 8, 9, -1 }
};

static const float imagenet_mean[3] = { 0.485f, 0.456f, 0.406f };
static const float imagenet_std[3] = { 0.229f, 0.224f, 0.225f };

/* The activations of a forward pass over `images` images of h x w: each
 * buffer holds them all, image after image (NCHW). */
struct nn_percept {
  float *wt[NN_PERCEPT_CONVS], *bs[NN_PERCEPT_CONVS];
  float *dw;                   /* the weight gradients nobody wants */
  int images, h, w;            /* the geometry the buffers are for */
  conv2d_desc d[NN_PERCEPT_CONVS];
  maxpool_desc pool;
  float *x;                    /* network input, normalized */
  float *a0, *p0;              /* conv1 + ReLU; the max pool */
  float *hid[4], *out[4];      /* each block's ReLU (conv a) and output */
  float *ws;                   /* convolution workspace */
  float *g[4];                 /* gradients, each as large as a0 */
  float *jac;                  /* d rgb / d (a, b): 6 planes of h x w */
  float *pred_ab;              /* the annealed mean: 2 planes */
  float *arena;
};

const nn_percept_conv *
nn_percept_convs (void)
{
  return convs;
}

static size_t
weight_size (int i)
{
  const nn_percept_conv *c = &convs[i];
  return (size_t) c->cout * c->cin * c->k * c->k;
}

nn_code
nn_percept_new (nn_percept **out, nn_error *err)
{
  *out = NULL;
  nn_percept *p = calloc (1, sizeof *p);
  if (!p)
    return nn_error_set (err, NN_ERR_NOMEM, "out of memory");
  int ok = 1;
  for (int i = 0; i < NN_PERCEPT_CONVS; i++)
    {
      p->wt[i] = calloc (weight_size (i), sizeof (float));
      p->bs[i] = calloc ((size_t) convs[i].cout, sizeof (float));
      ok &= p->wt[i] && p->bs[i];
    }
  p->dw = malloc (128 * 128 * 9 * sizeof (float));
  if (!ok || !p->dw)
    {
      nn_percept_free (p);
      return nn_error_set (err, NN_ERR_NOMEM, "out of memory");
    }
  *out = p;
  return NN_OK;
}

void
nn_percept_free (nn_percept *p)
{
  if (!p)
    return;
  for (int i = 0; i < NN_PERCEPT_CONVS; i++)
    {
      free (p->wt[i]);
      free (p->bs[i]);
    }
  free (p->dw);
  free (p->arena);
  free (p);
}

float *
nn_percept_weight (nn_percept *p, int i)
{
  return i >= 0 && i < NN_PERCEPT_CONVS ? p->wt[i] : NULL;
}

float *
nn_percept_bias (nn_percept *p, int i)
{
  return i >= 0 && i < NN_PERCEPT_CONVS ? p->bs[i] : NULL;
}

/* The convolutions' and the pool's geometry for `images` images. */
static void
geometry (conv2d_desc *d, maxpool_desc *pool, int images, int h, int w)
{
  const nn_percept_conv *c = convs;
  nn_conv2d_desc_init (&d[0], images, 3, h, w, 64, 7, 2, 3);
  nn_maxpool_desc_init (pool, images, 64, d[0].oh, d[0].ow, 3, 2, 1);
  int ih = pool->oh, iw = pool->ow;
  for (int k = 0; k < 4; k++)
    {
      const int a = blocks[k][0], b = blocks[k][1], s = blocks[k][2];
      nn_conv2d_desc_init (&d[a], images, c[a].cin, ih, iw, c[a].cout, c[a].k,
                           c[a].stride, c[a].pad);
      nn_conv2d_desc_init (&d[b], images, c[b].cin, d[a].oh, d[a].ow,
                           c[b].cout, c[b].k, c[b].stride, c[b].pad);
      if (s >= 0)
        nn_conv2d_desc_init (&d[s], images, c[s].cin, ih, iw, c[s].cout,
                             c[s].k, c[s].stride, c[s].pad);
      ih = d[b].oh;
      iw = d[b].ow;
    }
}

static size_t
plane_of (const conv2d_desc *d)
{
  return (size_t) d->cout * d->oh * d->ow;
}

/* Buffers for `images` images of h x w (kept while the geometry stays). */
static nn_code
prepare (nn_percept *p, int images, int h, int w, nn_error *err)
{
  if (h < 8 || w < 8 || images < 1)
    return nn_error_set (err, NN_ERR_ARG, "perceptual loss: images of %d x "
                         "%d; at least 8 x 8 needed", w, h);
  if (p->arena && p->images == images && p->h == h && p->w == w)
    return NN_OK;
  free (p->arena);
  p->arena = NULL;
  geometry (p->d, &p->pool, images, h, w);
  conv2d_desc half[NN_PERCEPT_CONVS];
  maxpool_desc hp;
  geometry (half, &hp, images / 2 > 0 ? images / 2 : 1, h, w);
  size_t ws = 0;
  for (int i = 0; i < NN_PERCEPT_CONVS; i++)
    {
      size_t a = nn_conv2d_workspace_floats (&p->d[i]);
      size_t b = nn_conv2d_workspace_floats (&half[i]);
      ws = a > ws ? a : ws;
      ws = b > ws ? b : ws;
    }
  const size_t N = (size_t) images, hw = (size_t) h * w;
  const size_t a0 = N * plane_of (&p->d[0]);
  const size_t l1 = N * 64 * p->pool.oh * p->pool.ow;
  const size_t l2 = N * plane_of (&p->d[9]);
  size_t total = N * 3 * hw + 5 * a0 + 5 * l1 + 4 * l2 + ws + 8 * N * hw;
  p->arena = malloc (total * sizeof (float));
  if (!p->arena)
    return nn_error_set (err, NN_ERR_NOMEM, "perceptual loss: out of memory "
                         "(%zu MB)", total * sizeof (float) >> 20);
  float *q = p->arena;
  p->x = q, q += N * 3 * hw;
  p->a0 = q, q += a0;
  p->p0 = q, q += l1;
  for (int k = 0; k < 4; k++)
    {
      p->hid[k] = q, q += k < 2 ? l1 : l2;
      p->out[k] = q, q += k < 2 ? l1 : l2;
    }
  for (int k = 0; k < 4; k++)
    p->g[k] = q, q += a0;
  p->ws = q, q += ws;
  p->jac = q, q += 6 * N * hw;
  p->pred_ab = q;
  p->images = images;
  p->h = h;
  p->w = w;
  return NN_OK;
}

static void
conv (nn_percept *p, int i, const float *in, float *out, int relu)
{
  nn_conv2d_forward_fused (&p->d[i], in, p->wt[i], p->bs[i], relu, out, p->ws);
}

/* The network on p->x (p->images images). */
static void
forward (nn_percept *p)
{
  conv (p, 0, p->x, p->a0, 1);
  nn_maxpool_forward (&p->pool, p->a0, p->p0);
  const float *in = p->p0;
  for (int k = 0; k < 4; k++)
    {
      const int a = blocks[k][0], b = blocks[k][1], s = blocks[k][2];
      const size_t n = (size_t) p->images * plane_of (&p->d[b]);
      conv (p, a, in, p->hid[k], 1);
      conv (p, b, p->hid[k], p->out[k], 0);
      if (s >= 0)
        {
          conv (p, s, in, p->g[0], 0);
          nn_add_forward (p->out[k], p->g[0], p->out[k], n);
        }
      else
        nn_add_forward (p->out[k], in, p->out[k], n);
      nn_relu_forward (p->out[k], p->out[k], n);
      in = p->out[k];
    }
}

/* dx (overwritten) of convolution i for the first d->n images. */
static void
conv_dx (nn_percept *p, const conv2d_desc *d, int i, const float *x,
         const float *dy, float *dx)
{
  memset (p->dw, 0, weight_size (i) * sizeof (float));
  nn_conv2d_backward (d, x, p->wt[i], dy, dx, p->dw, NULL, p->ws);
}

/* Block k's backward for the first n images: g (its output's gradient,
 * changed) to din (its input's, overwritten); tmp as large as din and
 * as the block's hidden layer. */
static void
block_backward (nn_percept *p, const conv2d_desc *d, int k, const float *in,
                float *g, float *din, float *tmp)
{
  const int a = blocks[k][0], b = blocks[k][1], s = blocks[k][2];
  const size_t no = (size_t) d[b].n * plane_of (&d[b]);
  const size_t nh = (size_t) d[a].n * plane_of (&d[a]);
  const size_t ni = (size_t) d[a].n * d[a].cin * d[a].h * d[a].w;
  nn_relu_backward (p->out[k], g, g, no);
  conv_dx (p, &d[b], b, p->hid[k], g, tmp);
  nn_relu_backward (p->hid[k], tmp, tmp, nh);
  conv_dx (p, &d[a], a, in, tmp, din);
  if (s >= 0)
    {
      conv_dx (p, &d[s], s, in, g, tmp);
      nn_add_forward (din, tmp, din, ni);
    }
  else
    nn_add_forward (din, g, din, ni);
}

/* The input gradient of the first n images (into p->g[1], n x 3 x h x w)
 * from the gradients of layer1's output (d1, changed) and layer2's (d2,
 * changed; both in p->g buffers 2 and 3). */
static void
backward (nn_percept *p, int n, float *d1, float *d2)
{
  conv2d_desc d[NN_PERCEPT_CONVS];
  maxpool_desc pool;
  geometry (d, &pool, n, p->h, p->w);
  float *t0 = p->g[0], *t1 = p->g[1];
  block_backward (p, d, 3, p->out[2], d2, t0, t1);
  block_backward (p, d, 2, p->out[1], t0, t1, d2);
  nn_add_forward (d1, t1, d1, (size_t) n * 64 * pool.oh * pool.ow);
  block_backward (p, d, 1, p->out[0], d1, t0, t1);
  block_backward (p, d, 0, p->p0, t0, t1, d1);
  const size_t na0 = (size_t) n * plane_of (&d[0]);
  nn_maxpool_backward (&pool, p->a0, t1, t0);
  nn_relu_backward (p->a0, t0, t0, na0);
  conv_dx (p, &d[0], 0, p->x, t0, t1);
}

/* ---- Lab to sRGB ------------------------------------------------------- */

/* sRGB's transfer curve and its derivative. */
static double
encode (double v, double *dv)
{
  if (v <= 0.0031308)
    {
      *dv = 12.92;
      return 12.92 * v;
    }
  double r = pow (v, 1.0 / 2.4);
  *dv = 1.055 / 2.4 * r / v;
  return 1.055 * r - 0.055;
}

/* One pixel: rgb, and when jac is non-NULL d rgb_c / d a in jac[c] and
 * d rgb_c / d b in jac[3 + c]. */
static void
lab_pixel (double L, double a, double b, double *rgb, double *jac)
{
  double lin[3], dab[6];
  nn_lab_to_linear_srgb (L, a, b, lin, jac ? dab : NULL);
  for (int c = 0; c < 3; c++)
    {
      double de;
      rgb[c] = encode (lin[c], &de);
      if (jac)
        {
          jac[c] = de * dab[c];
          jac[3 + c] = de * dab[3 + c];
        }
    }
}

void
nn_percept_lab_to_srgb (const float *l, const float *a, const float *b,
                        float *rgb, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      double v[3];
      lab_pixel (l[i], a[i], b[i], v, NULL);
      for (int c = 0; c < 3; c++)
        rgb[c * n + i] = (float) v[c];
    }
}

/* Images [first, first + n) of p->x from L and a,b planes (2 x hw apart
 * per image), normalized; the Jacobian (divided by the deviation) into
 * jac when non-NULL: 6 planes of n x hw. */
static void
make_input (nn_percept *p, int first, int n, const float *l, const float *ab,
            float *jac)
{
  const size_t hw = (size_t) p->h * p->w, nhw = (size_t) n * hw;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; i++)
    for (size_t k = 0; k < hw; k++)
      {
        double rgb[3], J[6];
        const float *abi = ab + (size_t) i * 2 * hw;
        lab_pixel (l[(size_t) i * hw + k], abi[k], abi[hw + k], rgb,
                   jac ? J : NULL);
        float *x = p->x + ((size_t) (first + i) * 3) * hw + k;
        for (int c = 0; c < 3; c++)
          {
            x[c * hw] = (float) ((rgb[c] - imagenet_mean[c])
                                 / imagenet_std[c]);
            if (jac)
              {
                jac[c * nhw + i * hw + k] = (float) (J[c] / imagenet_std[c]);
                jac[(3 + c) * nhw + i * hw + k]
                    = (float) (J[3 + c] / imagenet_std[c]);
              }
          }
      }
}

nn_code
nn_percept_features (nn_percept *p, const float *rgb, int n, int h, int w,
                     float *f1, float *f2, int *h1, int *w1, int *h2, int *w2,
                     nn_error *err)
{
  nn_code rc = prepare (p, n, h, w, err);
  if (rc)
    return rc;
  const size_t hw = (size_t) h * w;
  for (size_t i = 0; i < (size_t) n * 3; i++)
    for (size_t k = 0; k < hw; k++)
      p->x[i * hw + k] = (rgb[i * hw + k] - imagenet_mean[i % 3])
                         / imagenet_std[i % 3];
  forward (p);
  if (f1)
    memcpy (f1, p->out[1], (size_t) n * plane_of (&p->d[4]) * sizeof *f1);
  if (f2)
    memcpy (f2, p->out[3], (size_t) n * plane_of (&p->d[9]) * sizeof *f2);
  if (h1)
    *h1 = p->d[4].oh;
  if (w1)
    *w1 = p->d[4].ow;
  if (h2)
    *h2 = p->d[9].oh;
  if (w2)
    *w2 = p->d[9].ow;
  return NN_OK;
}

/* sum (x - y)^2 / count over n values; scale x its gradient in x into g. */
static double
squared_diff (const float *x, const float *y, size_t n, double count,
              float scale, float *g)
{
  double s = 0.0;
  const float k = (float) (2.0 / count) * scale;
  for (size_t i = 0; i < n; i++)
    {
      const float d = x[i] - y[i];
      s += (double) d * d;
      if (g)
        g[i] = k * d;
    }
  return s / count;
}

nn_code
nn_percept_loss (nn_percept *p, const float *logits, const float *centres,
                 int q, int n, int h, int w, const float *l,
                 const float *target_ab, float scale, double *loss,
                 float *dlogits, nn_error *err)
{
  if (q < 2 || n < 1)
    return nn_error_set (err, NN_ERR_ARG, "perceptual loss: %d bins, %d "
                         "images", q, n);
  nn_code rc = prepare (p, 2 * n, h, w, err);
  if (rc)
    return rc;
  const size_t hw = (size_t) h * w;
  rc = nn_head_decode (logits, centres, q, n, h, w, 1.0f, 1.0f, 1, p->pred_ab,
                       err);
  if (rc)
    return rc;
  make_input (p, 0, n, l, p->pred_ab, dlogits ? p->jac : NULL);
  make_input (p, n, n, l, target_ab, NULL);
  forward (p);
  const size_t n1 = (size_t) n * plane_of (&p->d[4]);
  const size_t n2 = (size_t) n * plane_of (&p->d[9]);
  float *d1 = dlogits ? p->g[2] : NULL, *d2 = dlogits ? p->g[3] : NULL;
  *loss = squared_diff (p->out[1], p->out[1] + n1, n1, (double) n1, scale, d1)
          + squared_diff (p->out[3], p->out[3] + n2, n2, (double) n2, scale,
                          d2);
  if (!dlogits)
    return NN_OK;
  backward (p, n, d1, d2);
  /* d a, d b of each pixel from d x (the input's gradient) */
  const size_t nhw = (size_t) n * hw;
  float *dab = p->g[0];
  for (int i = 0; i < n; i++)
    for (size_t k = 0; k < hw; k++)
      {
        const float *dx = p->g[1] + (size_t) i * 3 * hw + k;
        const size_t j = (size_t) i * hw + k;
        float da = 0.0f, db = 0.0f;
        for (int c = 0; c < 3; c++)
          {
            da += dx[c * hw] * p->jac[c * nhw + j];
            db += dx[c * hw] * p->jac[(3 + c) * nhw + j];
          }
        dab[(size_t) i * 2 * hw + k] = da;
        dab[(size_t) i * 2 * hw + hw + k] = db;
      }
  nn_head_mean_backward (logits, centres, q, n, hw, p->pred_ab, dab, dlogits);
  return NN_OK;
}
