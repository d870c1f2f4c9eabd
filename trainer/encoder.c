/* encoder.c - ImageNet ResNet18 encoder import (see encoder.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "encoder.h"
#include "npy.h"

static const float imagenet_mean[3] = { 0.485f, 0.456f, 0.406f };
static const float imagenet_std[3] = { 0.229f, 0.224f, 0.225f };

typedef struct pair {
  const char *src;   /* in DIR */
  const char *conv;  /* ours */
  const char *bn;
} pair;

static const pair pairs[] = {
  { "conv1", "midlevel_resnet.0", "midlevel_resnet.1" },
  { "layer1.0.conv1", "midlevel_resnet.4.0.conv1", "midlevel_resnet.4.0.bn1" },
  { "layer1.0.conv2", "midlevel_resnet.4.0.conv2", "midlevel_resnet.4.0.bn2" },
  { "layer1.1.conv1", "midlevel_resnet.4.1.conv1", "midlevel_resnet.4.1.bn1" },
  { "layer1.1.conv2", "midlevel_resnet.4.1.conv2", "midlevel_resnet.4.1.bn2" },
  { "layer2.0.conv1", "midlevel_resnet.5.0.conv1", "midlevel_resnet.5.0.bn1" },
  { "layer2.0.conv2", "midlevel_resnet.5.0.conv2", "midlevel_resnet.5.0.bn2" },
  { "layer2.0.downsample.0", "midlevel_resnet.5.0.downsample.0",
    "midlevel_resnet.5.0.downsample.1" },
  { "layer2.1.conv1", "midlevel_resnet.5.1.conv1", "midlevel_resnet.5.1.bn1" },
  { "layer2.1.conv2", "midlevel_resnet.5.1.conv2", "midlevel_resnet.5.1.bn2" },
};
#define N_PAIRS (sizeof pairs / sizeof pairs[0])

typedef struct bn_ref {
  nn_param *gamma, *beta, *rmean, *rvar;
  float *bias;       /* the folded bias (conv1: plus its constant term) */
} bn_ref;

static nn_param *
find (nn_model *m, const char *prefix, const char *suffix)
{
  char name[NN_PARAM_NAME_LEN];
  snprintf (name, sizeof name, "%s%s", prefix, suffix);
  return nn_model_find (m, name);
}

static nn_code
read_array (const char *dir, const char *name, const char *what,
            size_t want_size, npy_array *a, nn_error *err)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s.%s.npy", dir, name, what);
  nn_code rc = npy_read (path, a, err);
  if (rc)
    return rc;
  if (a->size != want_size)
    {
      npy_free (a);
      return nn_error_set (err, NN_ERR_SHAPE, "%s: %zu values, expected %zu",
                           path, a->size, want_size);
    }
  return NN_OK;
}

/* Copies one folded convolution into ours; fills ref.bias. */
static nn_code
import_pair (nn_model *m, const char *dir, const pair *p, bn_ref *ref,
             nn_error *err)
{
  nn_param *w = find (m, p->conv, ".weight");
  ref->gamma = find (m, p->bn, ".weight");
  ref->beta = find (m, p->bn, ".bias");
  ref->rmean = find (m, p->bn, ".running_mean");
  ref->rvar = find (m, p->bn, ".running_var");
  if (!w || !ref->gamma || !ref->beta || !ref->rmean || !ref->rvar
      || w->ndim != 4)
    return nn_error_set (err, NN_ERR_ARCH, "the model has no %s with its "
                         "batch norm %s (not resnet18?)", p->conv, p->bn);
  int cout = w->shape[0], cin = w->shape[1], kk = w->shape[2] * w->shape[3];
  int conv1 = !strcmp (p->src, "conv1");
  int src_cin = conv1 ? 3 : cin;
  npy_array wa = { 0 }, ba = { 0 };
  nn_code rc = read_array (dir, p->src, "weight",
                           (size_t) cout * src_cin * kk, &wa, err);
  if (!rc)
    rc = read_array (dir, p->src, "bias", (size_t) cout, &ba, err);
  if (rc)
    {
      npy_free (&wa);
      return rc;
    }
  ref->bias = malloc ((size_t) cout * sizeof (float));
  if (!ref->bias)
    rc = nn_error_set (err, NN_ERR_NOMEM, "out of memory");
  for (int o = 0; !rc && o < cout; o++)
    {
      ref->bias[o] = ba.data[o];
      if (!conv1)
        {
          memcpy (w->data + (size_t) o * cin * kk,
                  wa.data + (size_t) o * cin * kk, sizeof (float) * cin * kk);
          continue;
        }
      double constant = 0.0;
      for (int k = 0; k < kk; k++)
        {
          double sum = 0.0;
          for (int c = 0; c < 3; c++)
            {
              double wc = wa.data[((size_t) o * 3 + c) * kk + k];
              sum += wc * m->scaling.l_scale / (100.0 * imagenet_std[c]);
              constant += wc * (m->scaling.l_offset / 100.0
                                - imagenet_mean[c]) / imagenet_std[c];
            }
          w->data[(size_t) o * kk + k] = (float) sum;
        }
      ref->bias[o] = (float) (ba.data[o] + constant);
    }
  npy_free (&wa);
  npy_free (&ba);
  return rc;
}

/* gamma = sqrt (running_var + eps), beta = running_mean + bias. */
static void
reset_bn (const nn_model *m, bn_ref *refs)
{
  for (size_t i = 0; i < N_PAIRS; i++)
    for (size_t c = 0; c < refs[i].gamma->size; c++)
      {
        refs[i].gamma->data[c] = sqrtf (refs[i].rvar->data[c] + m->bn_eps);
        refs[i].beta->data[c] = refs[i].rmean->data[c] + refs[i].bias[c];
      }
}

nn_code
encoder_import (nn_model *m, const char *dir, const float *batch, int n,
                int h, int w, int passes, nn_error *err)
{
  bn_ref refs[N_PAIRS];
  memset (refs, 0, sizeof refs);
  nn_code rc = NN_OK;
  if (m->arch != NN_ARCH_RESNET18)
    return nn_error_set (err, NN_ERR_ARCH, "an ImageNet encoder is for "
                         "resnet18, not %s", nn_arch_name (m->arch));
  for (size_t i = 0; !rc && i < N_PAIRS; i++)
    rc = import_pair (m, dir, &pairs[i], &refs[i], err);
  float momentum = m->bn_momentum;
  m->bn_momentum = 1.0f;
  for (int p = 0; !rc && p < passes; p++)
    {
      reset_bn (m, refs);
      rc = nn_model_forward (m, batch, n, h, w, NN_PASS_TRAIN, err);
    }
  if (!rc)
    reset_bn (m, refs);
  m->bn_momentum = momentum;
  nn_model_release (m);
  for (size_t i = 0; i < N_PAIRS; i++)
    free (refs[i].bias);
  return rc;
}

nn_code
encoder_load_percept (nn_percept *p, const char *dir, nn_error *err)
{
  const nn_percept_conv *c = nn_percept_convs ();
  for (int i = 0; i < NN_PERCEPT_CONVS; i++)
    {
      const size_t size = (size_t) c[i].cout * c[i].cin * c[i].k * c[i].k;
      npy_array wa = { 0 }, ba = { 0 };
      nn_code rc = read_array (dir, c[i].name, "weight", size, &wa, err);
      if (!rc)
        rc = read_array (dir, c[i].name, "bias", (size_t) c[i].cout, &ba,
                         err);
      if (!rc)
        {
          memcpy (nn_percept_weight (p, i), wa.data, size * sizeof (float));
          memcpy (nn_percept_bias (p, i), ba.data,
                  (size_t) c[i].cout * sizeof (float));
        }
      npy_free (&wa);
      npy_free (&ba);
      if (rc)
        return rc;
    }
  return NN_OK;
}
