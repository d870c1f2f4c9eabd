/* test_colorize.c - the colorize pipeline (nn/colorize.c), exactly.
 *
 * Includes nn/colorize.c to reach its internals (the guided upsampler).
 * Models with a known output are built by zeroing every tensor and
 * setting the last convolution's bias: resnet18 then outputs that bias,
 * cnn its tanh.
 *
 * Also a helper for tests/test_trainer.sh:
 *   test_colorize --write-weights cnn|resnet18 OUT.weights A B
 * writes such a model whose every output pixel is CIE a,b = (A, B).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../nn/colorize.c"
#include "testutil.h"
#include "weights.h"

/* The bias of the last convolution (the only 2-element trainable 1-D
 * tensor of either network). */
static nn_param *
last_bias (nn_model *m)
{
  nn_param *found = NULL;
  for (int i = 0; i < m->n_params; i++)
    if (m->params[i].trainable && m->params[i].ndim == 1
        && m->params[i].shape[0] == 2)
      found = &m->params[i];
  return found;
}

/* A model whose output is CIE (a, b) everywhere, or NULL. */
static nn_model *
constant_model (nn_arch arch, float a, float b)
{
  nn_model *m;
  if (nn_model_new (arch, &m, NULL) != NN_OK)
    return NULL;
  for (int i = 0; i < m->n_params; i++)
    if (m->params[i].trainable && m->params[i].ndim != 1)
      memset (m->params[i].data, 0, m->params[i].size * sizeof (float));
  nn_param *bias = last_bias (m);
  if (!bias)
    {
      nn_model_free (m);
      return NULL;
    }
  float ra = a / m->scaling.ab_scale, rb = b / m->scaling.ab_scale;
  bias->data[0] = arch == NN_ARCH_CNN ? atanhf (ra) : ra;
  bias->data[1] = arch == NN_ARCH_CNN ? atanhf (rb) : rb;
  return m;
}

/* A w x h CIE Lab image with `channels` (3 or 4): L a pattern, a,b some
 * colour, alpha a ramp. */
static float *
test_image (int w, int h, int channels)
{
  float *p = malloc ((size_t) w * h * channels * sizeof *p);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float *q = p + ((size_t) y * w + x) * channels;
        q[0] = 50.0f + 40.0f * sinf (x * 0.05f) * cosf (y * 0.07f);
        q[1] = 10.0f + (x % 7);
        q[2] = -5.0f - (y % 5);
        if (channels == 4)
          q[3] = (float) ((x + y) % 11) / 10.0f;
      }
  return p;
}

/* ---- Sizes ------------------------------------------------------------- */

static void
test_dims (void)
{
  struct { int W, H, S, w, h, pw, ph; } c[] = {
    { 4000, 3000, 256, 256, 192, 256, 192 },
    { 3000, 4000, 250, 186, 248, 192, 248 },  /* S rounds down to 248 */
    { 1000, 333, 256, 256, 85, 256, 88 },
    { 100, 80, 256, 100, 80, 104, 80 },        /* never enlarged */
    { 5, 3, 64, 5, 3, 8, 8 },
    { 20000, 10, 64, 64, 1, 64, 8 },           /* thin: at least 1 */
  };
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
    {
      int w = -1, h = -1, pw = -1, ph = -1;
      nn_code rc = nn_colorize_working_dims (c[i].W, c[i].H, c[i].S, &w, &h,
                                          &pw, &ph, NULL);
      CHECK (rc == NN_OK && w == c[i].w && h == c[i].h && pw == c[i].pw
             && ph == c[i].ph,
             "dims %dx%d S=%d: got %dx%d pad %dx%d, expected %dx%d pad %dx%d",
             c[i].W, c[i].H, c[i].S, w, h, pw, ph, c[i].w, c[i].h, c[i].pw,
             c[i].ph);
    }
  nn_error err;
  CHECK (nn_colorize_working_dims (100, 100, 63, NULL, NULL, NULL, NULL, &err)
         == NN_ERR_ARG, "working size 63 refused");
  CHECK (nn_colorize_working_dims (100, 100, 4096, NULL, NULL, NULL, NULL, &err)
         == NN_ERR_ARG, "working size 4096 refused");
  CHECK (nn_colorize_working_dims (0, 100, 256, NULL, NULL, NULL, NULL, &err)
         == NN_ERR_ARG, "width 0 refused: %s", err.message);

  nn_model *m;
  nn_model_new (NN_ARCH_RESNET18, &m, NULL);
  CHECK (nn_colorize_default_working_size (m) == COLORIZE_DEFAULT_WORKING_SIZE,
         "default working size without metadata");
  nn_model_set_metadata (m, "steps=3\nworking_size=324\nx=1\n", NULL);
  CHECK (nn_colorize_default_working_size (m) == 320,
         "working_size=324 in metadata gives 320, got %d",
         nn_colorize_default_working_size (m));
  nn_model_set_metadata (m, "working_size=13\n", NULL);
  CHECK (nn_colorize_default_working_size (m) == COLORIZE_DEFAULT_WORKING_SIZE,
         "working_size=13 ignored");
  nn_model_free (m);
}

/* ---- Resampling ----------------------------------------------------------- */

static void
test_resample (void)
{
  enum { N = 64 };
  float src[N * 4], dst[N * 4];
  /* A horizontal ramp src(x) = x, 4 rows. */
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < N; x++)
      src[y * N + x] = (float) x;
  /* Halving: output j is centred on source coordinate 2j + 1, the mean of
   * pixels 2j and 2j+1 (tent of radius 2: weights 1/8 3/8 3/8 1/8). */
  nn_colorize_resample_region (src, N, 4, 1, 0, 0, N, 4, dst, N / 2, 2, 1, NULL);
  double e = 0;
  for (int j = 1; j < N / 2 - 1; j++)
    e = fmax (e, fabs (dst[j] - (2.0 * j + 0.5)));
  CHECK (e < 1e-5, "halved ramp: max error %g", e);
  /* Doubling: output j centred on (j + 0.5) / 2, linear interpolation. */
  nn_colorize_resample_region (src, N, 1, 1, 0, 0, N, 1, dst, 2 * N, 1, 1, NULL);
  e = 0;
  for (int j = 2; j < 2 * N - 2; j++)
    e = fmax (e, fabs (dst[j] - ((j + 0.5) / 2.0 - 0.5)));
  CHECK (e < 1e-5, "doubled ramp: max error %g", e);
  /* Edges repeat: a 2x enlargement starts and ends on the edge values. */
  CHECK (dst[0] == 0.0f && dst[2 * N - 1] == (float) (N - 1),
         "enlarged ramp ends: %g %g", dst[0], dst[2 * N - 1]);
  /* A checkerboard halves to 0.5 exactly. */
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < N; x++)
      src[y * N + x] = (float) ((x + y) & 1);
  nn_colorize_resample_region (src, N, 4, 1, 0, 0, N, 4, dst, N / 2, 2, 1, NULL);
  e = 0;
  for (int j = 1; j < N / 2 - 1; j++)
    e = fmax (e, fabs (dst[j] - 0.5));
  CHECK (e < 1e-6, "halved checkerboard: max error %g", e);
  /* Region and interleaved steps: channel 1 of a 3-channel constant. */
  float rgb[10 * 10 * 3], out[5 * 5 * 3];
  for (int i = 0; i < 300; i++)
    rgb[i] = (float) (i % 3) * 7.0f;
  memset (out, 0, sizeof out);
  nn_colorize_resample_region (rgb + 1, 10, 10, 3, 2.5, 1.0, 6.0, 7.0, out + 1,
                            5, 5, 3, NULL);
  int ok = 1;
  for (int i = 0; i < 25; i++)
    ok &= fabsf (out[i * 3 + 1] - 7.0f) < 1e-5f && out[i * 3] == 0.0f
          && out[i * 3 + 2] == 0.0f;
  CHECK (ok, "interleaved constant channel resampled alone");
  CHECK (nn_colorize_resample_region (src, N, 4, 1, 0, 0, 0, 4, dst, 4, 4, 1, NULL)
         == NN_ERR_ARG, "empty region refused");
}

/* ---- Guided upsampling ---------------------------------------------------- */

/* A sharp vertical edge at full resolution (L 20 | 80, a 0 | 40, b
 * 0 | -20), between two pixels of the working resolution (8 times
 * coarser): the low-resolution L and a,b are the block means of the
 * truth, as a perfect network would predict them.  Upsampled guided by
 * the full-resolution L, the colour must stay on its side of the edge
 * far better than with bilinear interpolation. */
#define EDGE_X 130
static void
test_guided_edge (void)
{
  enum { w = 32, h = 16, W = 256, H = 128 };
  float L[w * h], ab[2 * w * h], coef[w * h * 4], bil[w * h * 4];
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float right = 0;
        for (int X = x * 8; X < x * 8 + 8; X++)
          right += X >= EDGE_X;
        right /= 8.0f;
        L[y * w + x] = 20.0f + 60.0f * right;
        ab[y * w + x] = 40.0f * right;
        ab[w * h + y * w + x] = -20.0f * right;
      }
  CHECK (guided_coefficients (L, ab, w, h, coef) == 0, "coefficients");
  for (int i = 0; i < w * h; i++)
    {
      bil[i * 4] = 0;
      bil[i * 4 + 1] = ab[i];
      bil[i * 4 + 2] = 0;
      bil[i * 4 + 3] = ab[w * h + i];
    }
  float *full = malloc ((size_t) W * H * 3 * sizeof *full);
  float *full2 = malloc ((size_t) W * H * 3 * sizeof *full2);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        float *p = full + ((size_t) y * W + x) * 3;
        p[0] = x < EDGE_X ? 20.0f : 80.0f;
        p[1] = p[2] = 0;
      }
  memcpy (full2, full, (size_t) W * H * 3 * sizeof *full);
  float lo[2] = { 0, -20 }, hi[2] = { 40, 0 };
  guided_apply (coef, w, h, full, W, H, 0, H, 3, lo, hi, 1.0f);
  guided_apply (bil, w, h, full2, W, H, 0, H, 3, lo, hi, 1.0f);
  double eg = 0, eb = 0;
  int n = 0;
  for (int y = 0; y < H; y++)
    for (int x = W / 2 - 32; x < W / 2 + 32; x++)
      {
        float truth = x < EDGE_X ? 0.0f : 40.0f;
        eg += fabs (full[((size_t) y * W + x) * 3 + 1] - truth);
        eb += fabs (full2[((size_t) y * W + x) * 3 + 1] - truth);
        n++;
      }
  eg /= n;
  eb /= n;
  printf ("edge band: mean |a error| guided %.3f, bilinear %.3f\n", eg, eb);
  CHECK (eg < 0.5 && eg < 0.2 * eb, "guided upsampling keeps colour on its side of the "
         "edge: error %.3f vs bilinear %.3f", eg, eb);
  /* Far from the edge both are exact. */
  CHECK (full[(5 * W + 5) * 3 + 1] == 0.0f
         && fabsf (full[(5 * W + W - 5) * 3 + 1] - 40.0f) < 1e-3f,
         "flat regions keep their colour: %g %g", full[(5 * W + 5) * 3 + 1],
         full[(5 * W + W - 5) * 3 + 1]);
  free (full);
  free (full2);
}

/* ---- The pipeline ---------------------------------------------------------- */

typedef struct progress_log {
  int calls;
  double last;
  int monotone;
  double cancel_at; /* return 1 once fraction >= this */
} progress_log;

static int
progress_cb (double f, void *data)
{
  progress_log *p = data;
  if (p->calls && f < p->last)
    p->monotone = 0;
  p->calls++;
  p->last = f;
  return f >= p->cancel_at;
}

static void
test_constant (nn_arch arch)
{
  const char *name = nn_arch_name (arch);
  const float A = 32.0f, B = -16.0f;
  nn_model *m = constant_model (arch, A, B);
  if (!CHECK (m != NULL, "%s: constant model", name))
    return;
  int W = 300, H = 200;
  float *img = test_image (W, H, 4);
  float *orig = malloc ((size_t) W * H * 4 * sizeof *orig);
  memcpy (orig, img, (size_t) W * H * 4 * sizeof *img);
  colorize_options opt = COLORIZE_OPTIONS_DEFAULT;
  opt.working_size = 64;
  progress_log pl = { 0, 0, 1, 2.0 };
  opt.progress = progress_cb;
  opt.progress_data = &pl;
  nn_error err;
  nn_code rc = nn_colorize_image (m, img, W, H, 4, &opt, &err);
  CHECK (rc == NN_OK, "%s: colorize: %s", name, rc ? err.message : "");
  /* resnet18 outputs its bias exactly; cnn its tanh, computed in float. */
  float ea = arch == NN_ARCH_CNN ? tanhf (atanhf (A / 128.0f)) * 128.0f : A;
  float eb = arch == NN_ARCH_CNN ? tanhf (atanhf (B / 128.0f)) * 128.0f : B;
  double worst = 0;
  int l_kept = 1;
  for (size_t i = 0; i < (size_t) W * H; i++)
    {
      worst = fmax (worst, fabs (img[i * 4 + 1] - ea));
      worst = fmax (worst, fabs (img[i * 4 + 2] - eb));
      l_kept &= memcmp (&img[i * 4], &orig[i * 4], sizeof (float)) == 0
                && memcmp (&img[i * 4 + 3], &orig[i * 4 + 3], sizeof (float)) == 0;
    }
  CHECK (worst <= (arch == NN_ARCH_CNN ? 1e-3 : 0.0),
         "%s: constant output (%g, %g) everywhere: max error %g", name, A, B,
         worst);
  CHECK (l_kept, "%s: L and alpha bit for bit unchanged", name);
  float *two = malloc ((size_t) W * H * 4 * sizeof *two);
  memcpy (two, orig, (size_t) W * H * 4 * sizeof *two);
  opt.views = 2;
  opt.progress = NULL;
  rc = nn_colorize_image (m, two, W, H, 4, &opt, &err);
  CHECK (rc == NN_OK && !memcmp (two, img, (size_t) W * H * 4 * sizeof *two),
         "%s: two views of a constant network: the same pixels", name);
  free (two);
  opt.views = 0;
  opt.progress = progress_cb;
  CHECK (pl.calls >= 3 && pl.monotone && pl.last == 1.0,
         "%s: progress %d calls, monotone %d, last %g", name, pl.calls,
         pl.monotone, pl.last);
  /* The network saw the working size: 300x200 at S=64 is 64x43 -> 64x48. */
  int on, oc, oh, ow;
  nn_model_output (m, &on, &oc, &oh, &ow);
  CHECK (on == 1 && oc == 2 && oh == 48 && ow == 64,
         "%s: network ran at %dx%d, expected 64x48", name, ow, oh);

  /* Strength scales a,b exactly; 0 gives grey. */
  opt.progress = NULL;
  for (int k = 0; k < 2; k++)
    {
      float s = k ? 2.5f : 0.0f;
      memcpy (img, orig, (size_t) W * H * 4 * sizeof *img);
      opt.strength = s;
      nn_colorize_image (m, img, W, H, 4, &opt, NULL);
      double e = 0;
      for (size_t i = 0; i < (size_t) W * H; i++)
        {
          e = fmax (e, fabs (img[i * 4 + 1] - s * ea));
          e = fmax (e, fabs (img[i * 4 + 2] - s * eb));
        }
      CHECK (e <= (arch == NN_ARCH_CNN ? 3e-3 : 0.0),
             "%s: strength %g scales chroma: max error %g", name, s, e);
    }
  free (img);
  free (orig);
  nn_model_free (m);
}

static void
test_unchanged_on_failure (void)
{
  nn_model *m = constant_model (NN_ARCH_RESNET18, 10.0f, 20.0f);
  int W = 120, H = 90;
  float *img = test_image (W, H, 3);
  size_t bytes = (size_t) W * H * 3 * sizeof *img;
  float *orig = malloc (bytes);
  memcpy (orig, img, bytes);
  nn_error err;
  colorize_options opt = COLORIZE_OPTIONS_DEFAULT;
  opt.working_size = 64;

  volatile int cancel = 1;
  opt.cancel = &cancel;
  nn_code rc = nn_colorize_image (m, img, W, H, 3, &opt, &err);
  CHECK (rc == NN_ERR_CANCELLED && !memcmp (img, orig, bytes),
         "cancel flag set: cancelled (%s), pixels unchanged", nn_code_name (rc));
  opt.cancel = NULL;

  double stops[] = { 0.0, 0.1, 0.5, 0.85, 0.9 };
  for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++)
    {
      progress_log pl = { 0, 0, 1, stops[i] };
      opt.progress = progress_cb;
      opt.progress_data = &pl;
      rc = nn_colorize_image (m, img, W, H, 3, &opt, &err);
      CHECK (rc == NN_ERR_CANCELLED && !memcmp (img, orig, bytes),
             "progress cancels at %g: %s, pixels unchanged", stops[i],
             nn_code_name (rc));
    }
  opt.progress = NULL;

  struct { int w, h, ch, size; float strength; const char *what; } bad[] = {
    { W, H, 2, 64, 1.0f, "2 channels" },
    { 0, H, 3, 64, 1.0f, "width 0" },
    { W, H, 3, 32, 1.0f, "working size 32" },
    { W, H, 3, 64, -1.0f, "strength -1" },
    { W, H, 3, 64, NAN, "strength NaN" },
    { W, H, 3, 64, COLORIZE_MAX_STRENGTH * 1.01f, "strength above the range" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      opt.working_size = bad[i].size;
      opt.strength = bad[i].strength;
      rc = nn_colorize_image (m, img, bad[i].w, bad[i].h, bad[i].ch, &opt, &err);
      CHECK (rc == NN_ERR_ARG && !memcmp (img, orig, bytes),
             "%s: refused (%s: %s), pixels unchanged", bad[i].what,
             nn_code_name (rc), err.message);
    }
  /* No model and no hints (hints only, nothing painted): grey. */
  rc = nn_colorize_image (NULL, img, W, H, 3, NULL, &err);
  double chroma = 0.0;
  for (size_t i = 0; i < (size_t) W * H; i++)
    chroma = fmax (chroma, fmax (fabs (img[i * 3 + 1]), fabs (img[i * 3 + 2])));
  CHECK (rc == NN_OK && chroma == 0.0, "no model, no hints: grey (%s, max "
         "chroma %g)", nn_code_name (rc), chroma);
  free (img);
  free (orig);
  nn_model_free (m);
}

/* Two views: the network's a,b for the image and for its mirror image,
 * mirrored back, averaged; so the result for the mirrored image is the
 * mirrored result (to the guided upsampling's rounding), which one view
 * of an untrained, asymmetric network is not. */
static double
mirror_gap (nn_model *m, int views, int W, int H)
{
  float *img = test_image (W, H, 3), *mir = malloc ((size_t) W * H * 3 * sizeof (float));
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      memcpy (mir + ((size_t) y * W + W - 1 - x) * 3,
              img + ((size_t) y * W + x) * 3, 3 * sizeof (float));
  colorize_options opt = COLORIZE_OPTIONS_DEFAULT;
  opt.working_size = 64;
  opt.views = views;
  double gap = -1.0;
  if (nn_colorize_image (m, img, W, H, 3, &opt, NULL) == NN_OK
      && nn_colorize_image (m, mir, W, H, 3, &opt, NULL) == NN_OK)
    {
      gap = 0.0;
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
          for (int c = 1; c < 3; c++)
            gap = fmax (gap, fabs (img[((size_t) y * W + x) * 3 + c]
                                   - mir[((size_t) y * W + W - 1 - x) * 3 + c]));
    }
  free (img);
  free (mir);
  return gap;
}

static void
test_views (void)
{
  nn_model *m;
  if (!CHECK (nn_model_new (NN_ARCH_RESNET18, &m, NULL) == NN_OK,
              "views: a resnet18"))
    return;
  nn_model_init (m, 7);
  /* 64 x 48 as it is; 120 x 90 scaled to 64 x 48; 61 x 45 padded to
     64 x 48 (the mirror is taken before the padding) */
  int sizes[3][2] = { { 64, 48 }, { 120, 90 }, { 61, 45 } };
  for (int i = 0; i < 3; i++)
    {
      int W = sizes[i][0], H = sizes[i][1];
      double one = mirror_gap (m, 1, W, H), two = mirror_gap (m, 2, W, H);
      CHECK (two >= 0.0 && two < 1e-3 && one > 100.0 * (two + 1e-5),
             "views %dx%d: the mirrored image's colours are the mirrored "
             "colours with two views (max gap %g), not with one (%g)", W, H,
             two, one);
      printf ("views %dx%d: mirror gap one view %.3g, two %.3g\n", W, H, one,
              two);
    }
  CHECK (nn_colorize_default_views (m) == 1, "views: 1 without metadata");
  nn_model_set_metadata (m, "views=2\n", NULL);
  CHECK (nn_colorize_default_views (m) == 2, "views=2 in the metadata");
  CHECK (mirror_gap (m, 0, 64, 48) < 1e-3, "views 0: the model's two");
  nn_model_set_metadata (m, "views=3\n", NULL);
  CHECK (nn_colorize_default_views (m) == 1, "views=3 ignored: 1");
  float px[8 * 8 * 3] = { 0 };
  for (int v = -1; v <= 3; v += 4)
    {
      colorize_options opt = COLORIZE_OPTIONS_DEFAULT;
      opt.views = v;
      nn_error err;
      nn_code rc = nn_colorize_image (m, px, 8, 8, 3, &opt, &err);
      CHECK (rc == NN_ERR_ARG, "views %d refused: %s", v, err.message);
    }
  nn_model_free (m);
}

/* The chroma knee (metadata chroma_knee K, chroma_knee_slope G): the
 * factor (K / M)^(1 - G) for a mean chroma M above K, computed here in
 * double from the same a,b; 1 at or below K, without the keys, or with
 * a key out of range; through the pipeline, a constant network's a,b
 * scaled by it. */
static void
test_knee (void)
{
  nn_model *m = constant_model (NN_ARCH_RESNET18, 32.0f, -16.0f);
  if (!CHECK (m != NULL, "knee: constant model"))
    return;
  /* chromas 5, 5, 10, 10: mean 7.5 */
  const float ab[8] = { 3, 0, -6, 8, 4, 5, 8, -6 };
  CHECK (nn_colorize_knee_factor (m, ab, 4) == 1.0f, "knee: 1 without keys");
  const char *off[] = { "chroma_knee=5\n", "chroma_knee_slope=0.5\n",
                        "chroma_knee=0.5\nchroma_knee_slope=0.5\n",
                        "chroma_knee=5\nchroma_knee_slope=1.5\n",
                        "chroma_knee=5\nchroma_knee_slope=1\n",
                        "chroma_knee=7.5\nchroma_knee_slope=0.5\n" };
  for (size_t i = 0; i < sizeof off / sizeof *off; i++)
    {
      nn_model_set_metadata (m, off[i], NULL);
      CHECK (nn_colorize_knee_factor (m, ab, 4) == 1.0f,
             "knee: 1 with metadata \"%s\"", off[i]);
    }
  nn_model_set_metadata (m, "chroma_knee=5\nchroma_knee_slope=0.25\n", NULL);
  double want = pow (5.0 / 7.5, 0.75);
  float got = nn_colorize_knee_factor (m, ab, 4);
  CHECK (fabs (got - want) < 1e-6, "knee 5, slope 0.25, mean 7.5: %.7f, "
         "expected %.7f", got, want);
  int W = 40, H = 30;
  float *plain = test_image (W, H, 3), *knee = test_image (W, H, 3);
  colorize_options opt = COLORIZE_OPTIONS_DEFAULT;
  opt.working_size = 64;
  nn_error err;
  nn_model_set_metadata (m, "chroma_knee=40\nchroma_knee_slope=0.5\n", NULL);
  nn_code rc = nn_colorize_image (m, knee, W, H, 3, &opt, &err);
  nn_model_set_metadata (m, "", NULL);
  rc |= nn_colorize_image (m, plain, W, H, 3, &opt, &err);
  CHECK (rc == NN_OK && !memcmp (plain, knee, (size_t) W * H * 3 * 4),
         "knee 40 above the mean chroma 35.8: the same pixels");
  nn_model_set_metadata (m, "chroma_knee=20\nchroma_knee_slope=0.5\n", NULL);
  rc = nn_colorize_image (m, knee, W, H, 3, &opt, &err);
  double f = pow (20.0 / sqrt (32.0 * 32.0 + 16.0 * 16.0), 0.5), worst = 0;
  for (size_t i = 0; i < (size_t) W * H; i++)
    {
      worst = fmax (worst, fabs (knee[i * 3 + 1] - 32.0 * f));
      worst = fmax (worst, fabs (knee[i * 3 + 2] + 16.0 * f));
    }
  CHECK (rc == NN_OK && worst < 1e-4, "knee 20, slope 0.5: (32, -16) "
         "times %.5f, max error %g", f, worst);
  free (plain);
  free (knee);
  nn_model_free (m);
}

/* nn_colorize_prepare from a plane of L, then nn_colorize_apply_rows in
 * bands of 7 rows, last band first: bit for bit nn_colorize_image's
 * a,b, with hints and without, into 4 and 3 channels. */
static void
test_bands (void)
{
  nn_model *m;
  if (!CHECK (nn_model_new (NN_ARCH_RESNET18, &m, NULL) == NN_OK,
              "bands: a resnet18"))
    return;
  nn_model_init (m, 11);
  const int W = 301, H = 203, R = 7;
  nn_hint hints[3] = { { 5, 0, 40.0f, -20.0f, 1.0f },
                       { 300, 202, -30.0f, 10.0f, 0.5f },
                       { 150, 99, 0.0f, 60.0f, 0.25f } };
  for (int k = 0; k < 4; k++)
    {
      const int ch = k & 1 ? 3 : 4;
      colorize_options opt = COLORIZE_OPTIONS_DEFAULT;
      opt.working_size = 96;
      opt.hints = k & 2 ? hints : NULL;
      opt.n_hints = k & 2 ? 3 : 0;
      float *ref = test_image (W, H, ch), *img = test_image (W, H, ch);
      float *L = malloc ((size_t) W * H * sizeof *L);
      for (size_t i = 0; i < (size_t) W * H; i++)
        L[i] = img[i * ch];
      nn_error err;
      nn_colorize_result *r = NULL;
      nn_code rc = nn_colorize_image (m, ref, W, H, ch, &opt, &err);
      if (rc == NN_OK)
        rc = nn_colorize_prepare (m, L, W, H, 1, &opt, &r, &err);
      for (int y0 = (H - 1) / R * R; rc == NN_OK && y0 >= 0; y0 -= R)
        {
          const int rows = y0 + R < H ? R : H - y0;
          rc = nn_colorize_apply_rows (r, img + (size_t) y0 * W * ch, y0,
                                       rows, ch, &err);
        }
      CHECK (rc == NN_OK && !memcmp (img, ref, (size_t) W * H * ch
                                               * sizeof *img),
             "bands of %d rows, %d channels, %s hints: nn_colorize_image's "
             "pixels bit for bit (%s)", R, ch, k & 2 ? "with" : "no",
             rc == NN_OK ? "ok" : err.message);
      if (k == 0)
        {
          rc = nn_colorize_apply_rows (r, img, H - 2, 3, ch, &err);
          CHECK (rc == NN_ERR_ARG && strstr (err.message, "rows"),
                 "bands: rows past the image refused (%s)", err.message);
          nn_colorize_result *r2 = (nn_colorize_result *) 1;
          rc = nn_colorize_prepare (m, L, W, H, 0, &opt, &r2, &err);
          CHECK (rc == NN_ERR_ARG && r2 == NULL,
                 "bands: L 0 floats apart refused (%s)", err.message);
        }
      nn_colorize_result_free (r);
      free (ref);
      free (img);
      free (L);
    }
  nn_model_free (m);
}

/* A large image goes through a small network input; prints the time. */
static void
test_large (void)
{
  nn_model *m = constant_model (NN_ARCH_RESNET18, -8.0f, 24.0f);
  int W = 2400, H = 1800;
  float *img = test_image (W, H, 3);
  colorize_options opt = COLORIZE_OPTIONS_DEFAULT;
  opt.working_size = 128;
  struct timespec t0, t1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  nn_code rc = nn_colorize_image (m, img, W, H, 3, &opt, NULL);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  int oh, ow;
  nn_model_output (m, NULL, NULL, &oh, &ow);
  CHECK (rc == NN_OK && ow == 128 && oh == 96,
         "2400x1800 at S=128: network input %dx%d", ow, oh);
  CHECK (img[1] == -8.0f && img[((size_t) W * H - 1) * 3 + 2] == 24.0f,
         "2400x1800: corners colorized");
  printf ("2400x1800 through S=128: %.0f ms\n",
          (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) * 1e-6);
  free (img);
  nn_model_free (m);
}

static int
write_weights (int argc, char **argv)
{
  nn_arch arch;
  if (argc != 6 || nn_arch_parse (argv[2], &arch) != NN_OK)
    {
      fprintf (stderr, "usage: test_colorize --write-weights cnn|resnet18 "
               "OUT.weights A B\n");
      return 2;
    }
  nn_model *m = constant_model (arch, (float) atof (argv[4]),
                                (float) atof (argv[5]));
  nn_error err;
  if (!m || nn_weights_save (m, argv[3], &err) != NN_OK)
    {
      fprintf (stderr, "test_colorize: cannot write %s\n", argv[3]);
      nn_model_free (m);
      return 1;
    }
  nn_model_free (m);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc > 1 && !strcmp (argv[1], "--write-weights"))
    return write_weights (argc, argv);
  test_dims ();
  test_resample ();
  test_guided_edge ();
  test_constant (NN_ARCH_RESNET18);
  test_constant (NN_ARCH_CNN);
  test_unchanged_on_failure ();
  test_views ();
  test_knee ();
  test_bands ();
  test_large ();
  return test_report ("test_colorize");
}
