/* test_encoder.c - trainer/encoder.c: an ImageNet-style folded encoder
 * (synthetic arrays of the real shapes, written as .npy) imported into
 * resnet18 computes what the arrays say:
 *   - each 3x3 and 1x1 convolution holds its array; conv1 the sum over
 *     R, G, B scaled by l_scale / (100 std_c);
 *   - in inference mode each conv + BN is the folded convolution with its
 *     bias: gamma / sqrt (running_var + eps) = 1, beta - running_mean = bias
 *     (conv1: bias plus sum_c W_c (l_offset / 100 - mean_c) / std_c);
 *   - conv1's response at an interior pixel of a gray input equals the
 *     three-channel array applied to that gray as ImageNet normalizes it;
 *   - in training mode on the import batch each BN's batch statistics are
 *     its running ones (one more pass at momentum 1 changes them < 1e-3);
 *   - a missing file and a wrong shape are errors naming the file;
 *   - the perceptual loss's network (encoder_load_percept) holds the
 *     arrays as they are, in nn_percept_convs' order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../trainer/encoder.h"
#include "../trainer/npy.h"
#include "testutil.h"

static const char *const names[] = {
  "conv1", "layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1",
  "layer1.1.conv2", "layer2.0.conv1", "layer2.0.conv2",
  "layer2.0.downsample.0", "layer2.1.conv1", "layer2.1.conv2",
};
static const char *const ours[] = {
  "midlevel_resnet.0", "midlevel_resnet.4.0.conv1", "midlevel_resnet.4.0.conv2",
  "midlevel_resnet.4.1.conv1", "midlevel_resnet.4.1.conv2",
  "midlevel_resnet.5.0.conv1", "midlevel_resnet.5.0.conv2",
  "midlevel_resnet.5.0.downsample.0", "midlevel_resnet.5.1.conv1",
  "midlevel_resnet.5.1.conv2",
};
static const char *const bns[] = {
  "midlevel_resnet.1", "midlevel_resnet.4.0.bn1", "midlevel_resnet.4.0.bn2",
  "midlevel_resnet.4.1.bn1", "midlevel_resnet.4.1.bn2",
  "midlevel_resnet.5.0.bn1", "midlevel_resnet.5.0.bn2",
  "midlevel_resnet.5.0.downsample.1", "midlevel_resnet.5.1.bn1",
  "midlevel_resnet.5.1.bn2",
};
static const size_t shapes[][4] = {
  { 64, 3, 7, 7 }, { 64, 64, 3, 3 }, { 64, 64, 3, 3 }, { 64, 64, 3, 3 },
  { 64, 64, 3, 3 }, { 128, 64, 3, 3 }, { 128, 128, 3, 3 }, { 128, 64, 1, 1 },
  { 128, 128, 3, 3 }, { 128, 128, 3, 3 },
};
#define N 10

static float *arrays_w[N], *arrays_b[N];

static nn_param *
param (nn_model *m, const char *prefix, const char *suffix)
{
  char name[NN_PARAM_NAME_LEN];
  snprintf (name, sizeof name, "%s%s", prefix, suffix);
  return nn_model_find (m, name);
}

static int
write_arrays (const char *dir)
{
  nn_error err;
  for (int i = 0; i < N; i++)
    {
      size_t nw = shapes[i][0] * shapes[i][1] * shapes[i][2] * shapes[i][3];
      double fan = (double) (shapes[i][1] * shapes[i][2] * shapes[i][3]);
      arrays_w[i] = malloc (nw * sizeof (float));
      arrays_b[i] = malloc (shapes[i][0] * sizeof (float));
      if (!arrays_w[i] || !arrays_b[i])
        return -1;
      fixture_fill (arrays_w[i], nw, 100 + i, 0.0f, (float) (1.7 / sqrt (fan)));
      fixture_fill (arrays_b[i], shapes[i][0], 200 + i, 0.1f, 0.3f);
      char path[512];
      snprintf (path, sizeof path, "%s/%s.weight.npy", dir, names[i]);
      if (npy_write (path, arrays_w[i], 4, shapes[i], &err))
        return -1;
      snprintf (path, sizeof path, "%s/%s.bias.npy", dir, names[i]);
      if (npy_write (path, arrays_b[i], 1, shapes[i], &err))
        return -1;
    }
  return 0;
}

static const float mean_c[3] = { 0.485f, 0.456f, 0.406f };
static const float std_c[3] = { 0.229f, 0.224f, 0.225f };

static void
check_import (nn_model *m)
{
  double werr = 0.0, scale_err = 0.0, bias_err = 0.0;
  const nn_scaling *sc = &m->scaling;
  for (int i = 0; i < N; i++)
    {
      nn_param *w = param (m, ours[i], ".weight");
      nn_param *g = param (m, bns[i], ".weight"), *b = param (m, bns[i], ".bias");
      nn_param *rm = param (m, bns[i], ".running_mean");
      nn_param *rv = param (m, bns[i], ".running_var");
      int cout = (int) shapes[i][0], kk = (int) (shapes[i][2] * shapes[i][3]);
      int cin = (int) shapes[i][1];
      for (int o = 0; o < cout; o++)
        {
          double constant = 0.0;
          for (int k = 0; k < kk; k++)
            {
              double want = 0.0;
              if (i == 0)
                for (int c = 0; c < 3; c++)
                  {
                    double wc = arrays_w[0][(o * 3 + c) * kk + k];
                    want += wc * sc->l_scale / (100.0 * std_c[c]);
                    constant += wc * (sc->l_offset / 100.0 - mean_c[c]) / std_c[c];
                  }
              for (int c = 0; c < (i == 0 ? 1 : cin); c++)
                {
                  size_t j = ((size_t) o * (i == 0 ? 1 : cin) + c) * kk + k;
                  double ref = i == 0 ? want : arrays_w[i][j];
                  werr = fmax (werr, fabs (w->data[j] - ref));
                }
            }
          double s = g->data[o] / sqrt (rv->data[o] + m->bn_eps);
          scale_err = fmax (scale_err, fabs (s - 1.0));
          double bias = b->data[o] - rm->data[o] * s;
          bias_err = fmax (bias_err, fabs (bias - (arrays_b[i][o] + constant)));
        }
    }
  CHECK (werr < 1e-5, "convolution weights are the arrays' (max err %.3g)", werr);
  CHECK (scale_err < 1e-6, "inference BN scale is 1 (max err %.3g)", scale_err);
  CHECK (bias_err < 1e-4, "inference BN shift is the folded bias (max err %.3g)",
         bias_err);
}

/* conv1 at pixel (y, x) of a gray input: ours (one channel, plus the
 * folded constant) against the array on ImageNet-normalized R = G = B. */
static void
check_conv1 (nn_model *m, const float *in, int h, int w)
{
  nn_param *cw = param (m, ours[0], ".weight");
  double worst = 0.0;
  int y0 = 20, x0 = 24;
  for (int o = 0; o < 64; o++)
    {
      double a = 0.0, b = 0.0, constant = 0.0;
      for (int ky = 0; ky < 7; ky++)
        for (int kx = 0; kx < 7; kx++)
          {
            float xr = in[(y0 + ky - 3) * w + x0 + kx - 3];
            float v = (xr * m->scaling.l_scale + m->scaling.l_offset) / 100.0f;
            a += cw->data[o * 49 + ky * 7 + kx] * xr;
            for (int c = 0; c < 3; c++)
              {
                double wc = arrays_w[0][(o * 3 + c) * 49 + ky * 7 + kx];
                b += wc * (v - mean_c[c]) / std_c[c];
                constant += wc * (m->scaling.l_offset / 100.0 - mean_c[c]) / std_c[c];
              }
          }
      worst = fmax (worst, fabs (a + constant - b));
    }
  (void) h;
  CHECK (worst < 1e-4, "conv1 on gray = the RGB array on normalized gray "
         "(max err %.3g)", worst);
}

static void
check_train_stats (nn_model *m, const float *in, int n, int h, int w)
{
  nn_error err;
  float before[128 * N];
  int k = 0;
  for (int i = 0; i < N; i++)
    {
      nn_param *rm = param (m, bns[i], ".running_mean");
      for (size_t c = 0; c < rm->size && k < 128 * N; c++)
        before[k++] = rm->data[c];
    }
  m->bn_momentum = 1.0f;
  nn_code rc = nn_model_forward (m, in, n, h, w, NN_PASS_TRAIN, &err);
  m->bn_momentum = 0.1f;
  double worst = 0.0, scale = 0.0;
  k = 0;
  for (int i = 0; i < N; i++)
    {
      nn_param *rm = param (m, bns[i], ".running_mean");
      for (size_t c = 0; c < rm->size; c++, k++)
        {
          worst = fmax (worst, fabs (rm->data[c] - before[k]));
          scale = fmax (scale, fabs (before[k]));
        }
    }
  nn_model_release (m);
  CHECK (rc == NN_OK && worst <= 1e-3 * scale,
         "training-mode statistics on the import batch are the running "
         "ones (max change %.3g of %.3g)", worst, scale);
}

static void
check_percept (const char *dir)
{
  nn_percept *p = NULL;
  nn_error err;
  nn_code rc = nn_percept_new (&p, &err);
  if (!rc)
    rc = encoder_load_percept (p, dir, &err);
  CHECK (rc == NN_OK, "perceptual network: %s", rc ? err.message : "ok");
  if (rc)
    {
      nn_percept_free (p);
      return;
    }
  const nn_percept_conv *c = nn_percept_convs ();
  int same = 1;
  for (int i = 0; i < N; i++)
    {
      size_t size = shapes[i][0] * shapes[i][1] * shapes[i][2] * shapes[i][3];
      same &= !strcmp (c[i].name, names[i]) && (size_t) c[i].cout == shapes[i][0]
              && (size_t) c[i].cin == shapes[i][1]
              && (size_t) c[i].k == shapes[i][2]
              && !memcmp (nn_percept_weight (p, i), arrays_w[i],
                          size * sizeof (float))
              && !memcmp (nn_percept_bias (p, i), arrays_b[i],
                          shapes[i][0] * sizeof (float));
    }
  CHECK (same, "perceptual network: each convolution is its pair of arrays");
  nn_percept_free (p);
}

static void
check_errors (nn_model *m, const char *dir, const float *in)
{
  nn_error err;
  char path[512];
  snprintf (path, sizeof path, "%s/layer1.1.conv2.bias.npy", dir);
  size_t wrong[1] = { 63 };
  npy_write (path, arrays_b[4], 1, wrong, &err);
  nn_code rc = encoder_import (m, dir, in, 2, 64, 64, 2, &err);
  CHECK (rc == NN_ERR_SHAPE && strstr (err.message, "layer1.1.conv2.bias.npy")
         && strstr (err.message, "expected 64"),
         "a wrong shape names the file and the size (%s)", err.message);
  unlink (path);
  rc = encoder_import (m, dir, in, 2, 64, 64, 2, &err);
  CHECK (rc != NN_OK && strstr (err.message, "layer1.1.conv2.bias.npy"),
         "a missing file is named (%s)", err.message);
}

int
main (void)
{
  char dir[] = "/tmp/test_encoder.XXXXXX";
  nn_model *m = NULL;
  nn_error err;
  const int n = 4, h = 64, w = 64;
  float *in = malloc (sizeof (float) * n * h * w);
  if (!in || !mkdtemp (dir) || write_arrays (dir)
      || nn_model_new (NN_ARCH_RESNET18, &m, &err))
    {
      CHECK (0, "set-up failed");
      return test_report ("test_encoder");
    }
  nn_model_init (m, 3);
  fixture_fill (in, (size_t) n * h * w, 7, 0.0f, 0.9f);
  nn_code rc = encoder_import (m, dir, in, n, h, w, ENCODER_PASSES, &err);
  CHECK (rc == NN_OK, "import: %s", rc ? err.message : "ok");
  check_import (m);
  check_conv1 (m, in, h, w);
  check_train_stats (m, in, n, h, w);
  check_percept (dir);
  check_errors (m, dir, in);
  nn_model_free (m);
  for (int i = 0; i < N; i++)
    {
      char path[512];
      snprintf (path, sizeof path, "%s/%s.weight.npy", dir, names[i]);
      unlink (path);
      snprintf (path, sizeof path, "%s/%s.bias.npy", dir, names[i]);
      unlink (path);
      free (arrays_w[i]);
      free (arrays_b[i]);
    }
  rmdir (dir);
  free (in);
  return test_report ("test_encoder");
}
