/* test_context.c - the ResNet18 with the global context (nn/context.h,
 * weights/FORMAT.md "The global context"):
 *   - with context.weight zero it computes exactly what the network
 *     without it computes (inference, eval and training passes), so a
 *     fine-tune from a shipped file starts where that file is;
 *   - with a nonzero weight: inference (folded batch norms, in place)
 *     agrees with the eval pass, and the gradients of context.weight and
 *     of encoder weights (through the image mean) match central finite
 *     differences of sum (output * r);
 *   - the same with the hidden layer (context=N): zero context.weight and
 *     context.fc2.weight give the seed network whatever fc1 holds, and
 *     the hidden layer's gradients match finite differences;
 *   - the weight file says context=N and comes back with it; a cnn file
 *     that claims it, and a cnn model asked for it, are refused by name,
 *     as is a hidden width out of range. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "head.h"
#include "model.h"
#include "testutil.h"
#include "weights.h"

#define N 2
#define H 16
#define W 24

static float x[N * H * W];

/* A copy of src's tensors into dst by name (dst's extra ones untouched). */
static void
copy_by_name (nn_model *dst, nn_model *src)
{
  for (int i = 0; i < src->n_params; i++)
    {
      nn_param *d = nn_model_find (dst, src->params[i].name);
      if (d && d->size == src->params[i].size)
        memcpy (d->data, src->params[i].data, d->size * sizeof (float));
    }
}

static const float *
run (nn_model *m, nn_pass pass, size_t *count)
{
  nn_error err;
  int n, c, h, w;
  if (nn_model_forward (m, x, N, H, W, pass, &err) != NN_OK)
    return NULL;
  const float *y = nn_model_output (m, &n, &c, &h, &w);
  *count = (size_t) n * c * h * w;
  return y;
}

static void
test_zero_is_identity (nn_model *base, nn_model *ctx)
{
  static const nn_pass passes[3] = { NN_PASS_INFER, NN_PASS_EVAL,
                                     NN_PASS_TRAIN };
  static const char *const names[3] = { "infer", "eval", "train" };
  for (int p = 0; p < 3; p++)
    {
      size_t n1 = 0, n2 = 0;
      const float *y1 = run (base, passes[p], &n1);
      float *keep = y1 ? malloc (n1 * sizeof (float)) : NULL;
      if (keep)
        memcpy (keep, y1, n1 * sizeof (float));
      const float *y2 = run (ctx, passes[p], &n2);
      CHECK (keep && y2 && n1 == n2 && !memcmp (keep, y2, n1 * sizeof (float)),
             "%s pass: a zero context.weight gives the seed network's "
             "output bit for bit", names[p]);
      free (keep);
    }
}

/* sum (output * r) in the eval pass (batch norms on running statistics). */
static double
objective (nn_model *m, const float *r)
{
  size_t n = 0;
  const float *y = run (m, NN_PASS_EVAL, &n);
  double s = 0.0;
  for (size_t i = 0; y && i < n; i++)
    s += (double) y[i] * r[i];
  return s;
}

static void
fd_param (nn_model *m, const char *name, const float *r, int points)
{
  nn_param *p = nn_model_find (m, name);
  if (!CHECK (p != NULL, "%s exists", name))
    return;
  const double eps = 2e-3;
  double worst = 0.0, scale = 0.0;
  for (size_t i = 0; i < p->size; i++)
    scale = fmax (scale, fabs (p->grad[i]));
  for (int k = 0; k < points; k++)
    {
      size_t i = (size_t) k * (p->size / points);
      float saved = p->data[i];
      p->data[i] = (float) (saved + eps);
      double up = objective (m, r);
      p->data[i] = (float) (saved - eps);
      double down = objective (m, r);
      p->data[i] = saved;
      worst = fmax (worst, fabs ((up - down) / (2 * eps) - p->grad[i]));
    }
  CHECK (scale > 0 && worst / scale < 2e-2, "%s: gradient against finite "
         "differences off by %.3g of %.3g", name, worst, scale);
}

static void
test_nonzero (nn_model *ctx, nn_model *base)
{
  nn_error err;
  nn_param *cw = nn_model_find (ctx, "context.weight"),
           *c2 = nn_model_find (ctx, "context.fc2.weight");
  fixture_fill (cw->data, cw->size, 77, 0.0f, 0.05f);
  if (c2)
    fixture_fill (c2->data, c2->size, 79, 0.0f, 0.05f);
  size_t n1 = 0, n2 = 0;
  const float *yb = run (base, NN_PASS_INFER, &n1);
  float *keep = malloc (n1 * sizeof (float));
  memcpy (keep, yb, n1 * sizeof (float));
  const float *yi = run (ctx, NN_PASS_INFER, &n2);
  CHECK (max_abs_diff (yi, keep, n1) > 1e-3, "a nonzero context.weight "
         "changes the output (by %.3g)", max_abs_diff (yi, keep, n1));
  memcpy (keep, yi, n1 * sizeof (float));
  const float *ye = run (ctx, NN_PASS_EVAL, &n2);
  CHECK (rel_err (keep, ye, n1) < 1e-5, "inference agrees with the eval "
         "pass (%.3g)", rel_err (keep, ye, n1));
  float *r = malloc (n1 * sizeof (float));
  fixture_fill (r, n1, 78, 0.0f, 1.0f);
  nn_model_zero_grad (ctx);
  run (ctx, NN_PASS_EVAL, &n2);
  CHECK (nn_model_backward (ctx, r, NULL, &err) == NN_OK, "backward: %s",
         err.message);
  fd_param (ctx, "context.weight", r, 8);
  if (c2)
    {
      fd_param (ctx, "context.fc1.weight", r, 8);
      fd_param (ctx, "context.fc1.bias", r, 8);
      fd_param (ctx, "context.fc2.weight", r, 8);
    }
  fd_param (ctx, "midlevel_resnet.5.1.conv2.weight", r, 8);
  fd_param (ctx, "midlevel_resnet.5.1.bn2.bias", r, 8);
  free (r);
  free (keep);
}

static void
test_file (nn_model *ctx)
{
  nn_error err;
  void *data;
  size_t size;
  nn_model *back = NULL;
  char line[32];
  snprintf (line, sizeof line, "context=%d\nnote=x\n", ctx->context);
  nn_model_set_metadata (ctx, "note=x\ncontext=0\n", &err);
  CHECK (strstr (ctx->metadata, line) != NULL
         && !strstr (ctx->metadata, "context=0"),
         "metadata says context=%d and drops other context lines (%s)",
         ctx->context, ctx->metadata);
  if (nn_weights_save_memory (ctx, &data, &size, &err) == NN_OK)
    {
      CHECK (nn_weights_load_memory (data, size, "mem", &back, &err) == NN_OK
             && back->context == ctx->context
             && back->n_params == ctx->n_params
             && !memcmp (nn_model_find (back, "context.weight")->data,
                         nn_model_find (ctx, "context.weight")->data,
                         128 * 128 * sizeof (float)),
             "weight file round trip keeps the context (%s)",
             back ? "ok" : err.message);
      free (data);
    }
  nn_model_free (back);
  if (ctx->context > 1)
    return;             /* the refusals once */
  nn_model *cnn = NULL;
  CHECK (nn_model_new_full (NN_ARCH_RESNET18, 0, 1025, &cnn, &err)
         == NN_ERR_ARG && strstr (err.message, "1025") && !cnn,
         "a hidden width out of range is refused: %s", err.message);
  CHECK (nn_model_new_full (NN_ARCH_CNN, 0, 1, &cnn, &err) == NN_ERR_ARG
         && strstr (err.message, "context") && !cnn,
         "a cnn with the context is refused: %s", err.message);
  if (nn_model_new (NN_ARCH_CNN, &cnn, &err) == NN_OK)
    {
      free (cnn->metadata);     /* past nn_model_set_metadata's rules */
      cnn->metadata = strdup ("context=1\n");
      if (nn_weights_save_memory (cnn, &data, &size, &err) == NN_OK)
        {
          back = NULL;
          CHECK (nn_weights_load_memory (data, size, "cnn.weights", &back,
                                         &err) == NN_ERR_FORMAT
                 && strstr (err.message, "cnn.weights")
                 && strstr (err.message, "context"),
                 "a cnn file claiming the context is refused: %s",
                 err.message);
          nn_model_free (back);
          free (data);
        }
      nn_model_free (cnn);
    }
}

/* The checks above for a context of the given kind against base (the
 * seed network with the class head of q bins): extra is its tensors
 * beyond base's. */
static void
test_kind (nn_model *base, int q, int context, int extra)
{
  nn_error err;
  nn_model *ctx = NULL;
  if (!CHECK (nn_model_new_full (NN_ARCH_RESNET18, q, context, &ctx, &err)
              == NN_OK, "context=%d: %s", context, err.message))
    return;
  nn_model_init (ctx, 9);
  copy_by_name (ctx, base);
  nn_param *cw = nn_model_find (ctx, "context.weight"),
           *c2 = nn_model_find (ctx, "context.fc2.weight");
  CHECK (cw && cw->size == 128 * 128 && ctx->n_params == base->n_params
         + extra && (context == 1) == !c2, "context=%d: %d more tensors, "
         "context.weight 128 x 128", context, extra);
  CHECK (!c2 || nn_model_find (ctx, "context.fc1.weight")->size
                == (size_t) context * 128, "context=%d: fc1 %d x 128",
         context, context);
  test_zero_is_identity (base, ctx);
  copy_by_name (ctx, base);   /* the train pass moved running statistics */
  memset (cw->data, 0, cw->size * sizeof (float));
  test_nonzero (ctx, base);
  test_file (ctx);
  nn_model_free (ctx);
}

int
main (void)
{
  nn_error err;
  float centres[2 * NN_HEAD_MAX_BINS];
  int q = nn_head_gamut_bins (centres);
  nn_model *base = NULL;
  fixture_fill (x, N * H * W, 31, 0.0f, 1.0f);
  if (!CHECK (nn_model_new_head (NN_ARCH_RESNET18, q, &base, &err) == NN_OK,
              "model: %s", err.message))
    return test_report ("test_context");
  nn_model_init (base, 5);
  test_kind (base, q, 1, 1);
  test_kind (base, q, 16, 4);
  nn_model_free (base);
  return test_report ("test_context");
}
