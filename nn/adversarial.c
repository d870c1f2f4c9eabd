/* adversarial.c - the adversarial term (see adversarial.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "activation.h"
#include "adam.h"
#include "adversarial.h"
#include "conv2d.h"
#include "head.h"
#include "rng.h"

static const struct {
  int cin, cout, stride;
} layers[NN_ADV_LAYERS] = { { 3, 32, 2 }, { 32, 64, 2 }, { 64, 128, 1 },
                            { 128, 1, 1 } };

/* The largest weight tensor (conv2's). */
#define MAX_WEIGHT (128 * 64 * 9)

/* The activations of a forward pass over `images` images of h x w, each
 * buffer all of them, image after image (NCHW). */
struct nn_adv {
  float *param, *grad, *m, *v;     /* nn_adv_size () floats each */
  int64_t step;                    /* Adam's */
  float *dw;                       /* weight gradients nobody wants */
  int pool;                        /* the input's average pooling */
  int images, h, w;                /* the geometry the buffers are for (D's
                                      input, after the pooling) */
  conv2d_desc d[NN_ADV_LAYERS];
  float *x;                        /* the input */
  float *act[NN_ADV_LAYERS];       /* each layer's output (after its leaky
                                      ReLU); act[3] the scores */
  float *g[2];                     /* gradients, each as large as the
                                      largest activation or the input */
  float *ws;                       /* convolution workspace */
  float *dy;                       /* the scores' gradient */
  float *arena;
  float *full;                     /* at the logits' size: the annealed
                                      mean, then a,b's gradient */
  size_t full_floats;              /* full's size */
};

static size_t
weight_size (int i)
{
  return (size_t) layers[i].cout * layers[i].cin * 9;
}

size_t
nn_adv_size (void)
{
  size_t n = 0;
  for (int i = 0; i < NN_ADV_LAYERS; i++)
    n += weight_size (i) + (size_t) layers[i].cout;
  return n;
}

/* Layer i's weight and bias within a parameter-shaped block. */
static float *
weight_of (float *block, int i)
{
  for (int k = 0; k < i; k++)
    block += weight_size (k) + (size_t) layers[k].cout;
  return block;
}

static float *
bias_of (float *block, int i)
{
  return weight_of (block, i) + weight_size (i);
}

nn_code
nn_adv_new (nn_adv **out, uint64_t seed, nn_error *err)
{
  *out = NULL;
  nn_adv *a = calloc (1, sizeof *a);
  const size_t n = nn_adv_size ();
  if (a)
    {
      a->param = calloc (4 * n, sizeof (float));
      a->dw = malloc (MAX_WEIGHT * sizeof (float));
    }
  if (!a || !a->param || !a->dw)
    {
      nn_adv_free (a);
      return nn_error_set (err, NN_ERR_NOMEM, "adversarial term: out of "
                           "memory");
    }
  a->pool = 1;
  a->grad = a->param + n;
  a->m = a->grad + n;
  a->v = a->m + n;
  nn_rng r;
  nn_rng_seed (&r, seed);
  for (int i = 0; i < NN_ADV_LAYERS; i++)
    {
      const double bound = 1.0 / sqrt ((double) layers[i].cin * 9);
      float *wt = weight_of (a->param, i);
      for (size_t k = 0; k < weight_size (i) + (size_t) layers[i].cout; k++)
        wt[k] = (float) ((2.0 * nn_rng_uniform (&r) - 1.0) * bound);
    }
  *out = a;
  return NN_OK;
}

void
nn_adv_free (nn_adv *a)
{
  if (!a)
    return;
  free (a->param);
  free (a->dw);
  free (a->arena);
  free (a->full);
  free (a);
}

nn_code
nn_adv_set_pool (nn_adv *a, int pool, nn_error *err)
{
  if (pool < 1 || pool > NN_ADV_MAX_POOL)
    return nn_error_set (err, NN_ERR_ARG, "adversarial term: pooling %d; 1 "
                         "to %d", pool, NN_ADV_MAX_POOL);
  a->pool = pool;
  return NN_OK;
}

int
nn_adv_pooled (int side, int pool)
{
  return (side + pool - 1) / pool;
}

float *
nn_adv_params (nn_adv *a)
{
  return a->param;
}

float *
nn_adv_grads (nn_adv *a)
{
  return a->grad;
}

/* The layers' geometry for `images` images of h x w. */
static void
geometry (conv2d_desc *d, int images, int h, int w)
{
  for (int i = 0; i < NN_ADV_LAYERS; i++)
    {
      nn_conv2d_desc_init (&d[i], images, layers[i].cin, h, w,
                           layers[i].cout, 3, layers[i].stride, 1);
      h = d[i].oh;
      w = d[i].ow;
    }
}

static size_t
plane_of (const conv2d_desc *d)
{
  return (size_t) d->cout * d->oh * d->ow;
}

/* Buffers for `images` images of h x w (kept while the geometry stays). */
static nn_code
prepare (nn_adv *a, int images, int h, int w, nn_error *err)
{
  if (h < NN_ADV_MIN_SIDE || w < NN_ADV_MIN_SIDE || images < 1)
    return nn_error_set (err, NN_ERR_ARG, "adversarial term: images of %d x "
                         "%d; at least 4 x 4 needed", w, h);
  if (a->arena && a->images == images && a->h == h && a->w == w)
    return NN_OK;
  free (a->arena);
  a->arena = NULL;
  geometry (a->d, images, h, w);
  conv2d_desc half[NN_ADV_LAYERS];
  geometry (half, images / 2 > 0 ? images / 2 : 1, h, w);
  const size_t N = (size_t) images, hw = (size_t) h * w;
  size_t ws = 0, big = 3 * N * hw, acts = 0;
  for (int i = 0; i < NN_ADV_LAYERS; i++)
    {
      size_t s = nn_conv2d_workspace_floats (&a->d[i]);
      size_t t = nn_conv2d_workspace_floats (&half[i]);
      ws = s > ws ? s : ws;
      ws = t > ws ? t : ws;
      acts += N * plane_of (&a->d[i]);
      big = N * plane_of (&a->d[i]) > big ? N * plane_of (&a->d[i]) : big;
    }
  const size_t scores = N * plane_of (&a->d[NN_ADV_LAYERS - 1]);
  size_t total = 3 * N * hw + acts + 2 * big + ws + scores;
  a->arena = malloc (total * sizeof (float));
  if (!a->arena)
    return nn_error_set (err, NN_ERR_NOMEM, "adversarial term: out of "
                         "memory (%zu MB)", total * sizeof (float) >> 20);
  float *q = a->arena;
  a->x = q, q += 3 * N * hw;
  for (int i = 0; i < NN_ADV_LAYERS; i++)
    a->act[i] = q, q += N * plane_of (&a->d[i]);
  a->g[0] = q, q += big;
  a->g[1] = q, q += big;
  a->ws = q, q += ws;
  a->dy = q;
  a->images = images;
  a->h = h;
  a->w = w;
  return NN_OK;
}

/* D on a->x (a->images images). */
static void
forward (nn_adv *a)
{
  const float *in = a->x;
  for (int i = 0; i < NN_ADV_LAYERS; i++)
    {
      nn_conv2d_forward (&a->d[i], in, weight_of (a->param, i),
                         bias_of (a->param, i), a->act[i], a->ws);
      if (i < NN_ADV_LAYERS - 1)
        nn_leaky_relu_forward (a->act[i], a->act[i],
                               (size_t) a->images * plane_of (&a->d[i]),
                               NN_ADV_SLOPE);
      in = a->act[i];
    }
}

/* Backward through the first n images of the last forward pass from the
 * scores' gradient a->dy: the parameters' gradients added to a->grad when
 * params (else discarded); returns the g buffer that holds the input's
 * gradient (n x 3 x h x w) when want_dx. */
static float *
backward (nn_adv *a, int n, int params, int want_dx)
{
  conv2d_desc d[NN_ADV_LAYERS];
  geometry (d, n, a->h, a->w);
  const size_t ns = (size_t) n * plane_of (&d[NN_ADV_LAYERS - 1]);
  float *g = a->g[0], *t = a->g[1];
  memcpy (g, a->dy, ns * sizeof *g);
  for (int i = NN_ADV_LAYERS - 1; i >= 0; i--)
    {
      if (i < NN_ADV_LAYERS - 1)
        nn_leaky_relu_backward (a->act[i], g, g, (size_t) n * plane_of (&d[i]),
                                NN_ADV_SLOPE);
      float *dw = params ? weight_of (a->grad, i) : a->dw;
      float *db = params ? bias_of (a->grad, i) : NULL;
      if (!params)
        memset (a->dw, 0, weight_size (i) * sizeof (float));
      const float *in = i ? a->act[i - 1] : a->x;
      float *dx = i || want_dx ? t : NULL;
      nn_conv2d_backward (&d[i], in, weight_of (a->param, i), g, dx, dw, db,
                          a->ws);
      float *s = g;
      g = t;
      t = s;
    }
  return g;
}

nn_code
nn_adv_forward (nn_adv *a, const float *x, int n, int h, int w, float *out,
                int *oh, int *ow, nn_error *err)
{
  nn_code rc = prepare (a, n, h, w, err);
  if (rc)
    return rc;
  memcpy (a->x, x, (size_t) n * 3 * h * w * sizeof *x);
  forward (a);
  const conv2d_desc *last = &a->d[NN_ADV_LAYERS - 1];
  memcpy (out, a->act[NN_ADV_LAYERS - 1],
          (size_t) n * plane_of (last) * sizeof *out);
  if (oh)
    *oh = last->oh;
  if (ow)
    *ow = last->ow;
  return NN_OK;
}

/* The rows (or columns) y0 .. *end - 1 of block i of a side of n pixels
 * pooled by p; returns y0. */
static int
block_of (int i, int p, int n, int *end)
{
  *end = (i + 1) * p < n ? (i + 1) * p : n;
  return i * p;
}

/* The mean of plane src (h x w) over block (by, bx) of a->pool. */
static float
block_mean (const nn_adv *a, const float *src, int w, int h, int by, int bx)
{
  int y1, x1;
  const int y0 = block_of (by, a->pool, h, &y1);
  const int x0 = block_of (bx, a->pool, w, &x1);
  double s = 0.0;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      s += src[(size_t) y * w + x];
  return (float) (s / (double) ((y1 - y0) * (x1 - x0)));
}

/* D's input for images first .. first + n - 1 from L and a,b planes of
 * h x w, each pooled to a->h x a->w. */
static void
make_input (nn_adv *a, int first, int n, int h, int w, const float *l,
            const float *ab)
{
  const size_t hw = (size_t) h * w, phw = (size_t) a->h * a->w;
  const float k = 1.0f / NN_ADV_INPUT_SCALE;
  for (int i = 0; i < n; i++)
    {
      float *x = a->x + (size_t) (first + i) * 3 * phw;
      const float *src[3] = { l + (size_t) i * hw, ab + (size_t) i * 2 * hw,
                              ab + (size_t) i * 2 * hw + hw };
      for (int c = 0; c < 3; c++)
        for (int by = 0; by < a->h; by++)
          for (int bx = 0; bx < a->w; bx++)
            {
              const float m = block_mean (a, src[c], w, h, by, bx);
              x[c * phw + (size_t) by * a->w + bx]
                  = (c ? m : m - 50.0f) * k;
            }
    }
}

/* dab (n x 2 x h x w) from D's input gradient dx (n x 3 x a->h x a->w):
 * each pixel gets its block's a, b gradient over the block's size, over
 * the input's scale. */
static void
spread_ab (const nn_adv *a, const float *dx, int n, int h, int w, float *dab)
{
  const size_t hw = (size_t) h * w, phw = (size_t) a->h * a->w;
  for (int i = 0; i < n; i++)
    for (int c = 0; c < 2; c++)
      for (int by = 0; by < a->h; by++)
        for (int bx = 0; bx < a->w; bx++)
          {
            int y1, x1;
            const int y0 = block_of (by, a->pool, h, &y1);
            const int x0 = block_of (bx, a->pool, w, &x1);
            const float k = 1.0f / NN_ADV_INPUT_SCALE
                            / (float) ((y1 - y0) * (x1 - x0));
            const float g = dx[((size_t) i * 3 + 1 + c) * phw
                               + (size_t) by * a->w + bx] * k;
            float *o = dab + ((size_t) i * 2 + c) * hw;
            for (int y = y0; y < y1; y++)
              for (int x = x0; x < x1; x++)
                o[(size_t) y * w + x] = g;
          }
}

/* The losses of the scores s (fake then real, `count` each); into a->dy
 * d_scale x d_loss's gradient in them. */
static void
score_losses (nn_adv *a, size_t count, float d_scale, double *g_loss,
              double *d_loss)
{
  const float *s = a->act[NN_ADV_LAYERS - 1];
  double g = 0.0, fake = 0.0, real = 0.0;
  const float k = 2.0f * d_scale / (float) count;
  for (size_t i = 0; i < count; i++)
    {
      const double f = s[i], r = s[count + i];
      g += (f - 1.0) * (f - 1.0);
      fake += f * f;
      real += (r - 1.0) * (r - 1.0);
      a->dy[i] = k * s[i];
      a->dy[count + i] = k * (s[count + i] - 1.0f);
    }
  *g_loss = g / (double) count;
  *d_loss = (fake + real) / (double) count;
}

/* The logits-sized buffer for n images of hw pixels. */
static nn_code
prepare_full (nn_adv *a, size_t n, size_t hw, nn_error *err)
{
  const size_t need = 4 * n * hw;
  if (need <= a->full_floats)
    return NN_OK;
  free (a->full);
  a->full_floats = 0;
  if (!(a->full = malloc (need * sizeof (float))))
    return nn_error_set (err, NN_ERR_NOMEM, "adversarial term: out of "
                         "memory (%zu MB)", need * sizeof (float) >> 20);
  a->full_floats = need;
  return NN_OK;
}

nn_code
nn_adv_loss (nn_adv *a, const float *logits, const float *centres, int q,
             int n, int h, int w, const float *l, const float *target_ab,
             float g_scale, float d_scale, double *g_loss, double *d_loss,
             float *dlogits, nn_error *err)
{
  if (q < 2 || n < 1)
    return nn_error_set (err, NN_ERR_ARG, "adversarial term: %d bins, %d "
                         "images", q, n);
  const int p = a->pool, ph = nn_adv_pooled (h, p), pw = nn_adv_pooled (w, p);
  if (p > 1 && (ph < NN_ADV_MIN_SIDE || pw < NN_ADV_MIN_SIDE))
    return nn_error_set (err, NN_ERR_ARG, "adversarial term: images of %d x "
                         "%d, pooled by %d to %d x %d; at least 4 x 4 "
                         "needed", w, h, p, pw, ph);
  const size_t hw = (size_t) h * w;
  nn_code rc = prepare (a, 2 * n, ph, pw, err);
  if (!rc)
    rc = prepare_full (a, (size_t) n, hw, err);
  if (rc)
    return rc;
  float *pred_ab = a->full, *dab = a->full + 2 * (size_t) n * hw;
  rc = nn_head_decode (logits, centres, q, n, h, w, 1.0f, 1.0f, 1, pred_ab,
                       err);
  if (rc)
    return rc;
  make_input (a, 0, n, h, w, l, pred_ab);
  make_input (a, n, n, h, w, l, target_ab);
  forward (a);
  const size_t count = (size_t) n * plane_of (&a->d[NN_ADV_LAYERS - 1]);
  score_losses (a, count, d_scale, g_loss, d_loss);
  memset (a->grad, 0, nn_adv_size () * sizeof (float));
  if (d_scale != 0.0f)
    backward (a, 2 * n, 1, 0);
  if (!dlogits || g_scale == 0.0f)
    return NN_OK;
  const float *s = a->act[NN_ADV_LAYERS - 1];
  const float k = 2.0f * g_scale / (float) count;
  for (size_t i = 0; i < count; i++)
    a->dy[i] = k * (s[i] - 1.0f);
  spread_ab (a, backward (a, n, 0, 1), n, h, w, dab);
  nn_head_mean_backward (logits, centres, q, n, hw, pred_ab, dab, dlogits);
  return NN_OK;
}

void
nn_adv_update (nn_adv *a, float lr)
{
  const adam_config cfg = { lr, 0.5f, 0.999f, 1e-8f, 0.0f, 0 };
  a->step++;
  nn_adam_update (&cfg, a->step, lr, a->param, a->grad, a->m, a->v,
                  nn_adv_size ());
}

size_t
nn_adv_state_bytes (void)
{
  return sizeof (int64_t) + 3 * nn_adv_size () * sizeof (float);
}

void
nn_adv_state_write (const nn_adv *a, void *buf)
{
  unsigned char *p = buf;
  const size_t n = nn_adv_size () * sizeof (float);
  memcpy (p, &a->step, sizeof a->step);
  memcpy (p + 8, a->param, n);
  memcpy (p + 8 + n, a->m, n);
  memcpy (p + 8 + 2 * n, a->v, n);
}

nn_code
nn_adv_state_read (nn_adv *a, const void *buf, size_t n, nn_error *err)
{
  const unsigned char *p = buf;
  const size_t f = nn_adv_size () * sizeof (float);
  int64_t step;
  if (n != nn_adv_state_bytes ())
    return nn_error_set (err, NN_ERR_FORMAT, "adversarial term's state: %zu "
                         "bytes, expected %zu", n, nn_adv_state_bytes ());
  memcpy (&step, p, sizeof step);
  if (step < 0)
    return nn_error_set (err, NN_ERR_FORMAT, "adversarial term's state: "
                         "Adam's step %lld", (long long) step);
  a->step = step;
  memcpy (a->param, p + 8, f);
  memcpy (a->m, p + 8 + f, f);
  memcpy (a->v, p + 8 + 2 * f, f);
  return NN_OK;
}
