/* model.h - the two colorization networks of the seed, forward and backward.
 *
 * Usage:
 *   nn_model *m;
 *   nn_error err;
 *   if (nn_weights_load ("cnn.weights", &m, &err) != NN_OK) ... err.message ...
 *   nn_model_forward (m, input, n, h, w, NN_PASS_INFER, &err);
 *   const float *ab = nn_model_output (m, NULL, NULL, NULL, NULL);
 *   nn_model_free (m);
 *
 * Tensor layout (everywhere in nn/): float32, NCHW, row-major, contiguous:
 * element (n, c, y, x) of an N x C x H x W tensor is at
 * ((n * C + c) * H + y) * W + x.  Convolution weights are
 * Cout x Cin x KH x KW, as in PyTorch.
 *
 * Input: N x 1 x H x W, the network's raw input (CIE L mapped by the
 * model's scaling, see nn_scaling).  H and W must be multiples of 8.
 * Output: N x 2 x H x W, raw a,b (multiply by ab_scale for CIE a,b).
 *
 * A model keeps the activations of its last forward pass for backward; it
 * is not safe to use one model from two threads at once.
 */
#ifndef NN_MODEL_H
#define NN_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

typedef enum nn_arch {
  NN_ARCH_CNN = 0,
  NN_ARCH_RESNET18 = 1,
  NN_ARCH_COUNT
} nn_arch;

/* Name as written in weight files and on command lines: "cnn", "resnet18". */
const char *nn_arch_name (nn_arch arch);
/* Returns NN_OK and sets *arch, or NN_ERR_ARCH. */
nn_code nn_arch_parse (const char *name, nn_arch *arch);

#define NN_PARAM_NAME_LEN 64
#define NN_PARAM_MAX_DIMS 4

/* One named tensor: a trainable parameter (grad != NULL) or a batch-norm
 * running statistic (grad == NULL, trainable == 0).  Names are the PyTorch
 * state_dict keys of tests/reference/models.py. */
typedef struct nn_param {
  char name[NN_PARAM_NAME_LEN];
  int ndim;
  int shape[NN_PARAM_MAX_DIMS];
  size_t size;
  float *data;
  float *grad;
  int trainable;
} nn_param;

/* raw input = (L - l_offset) / l_scale;  CIE a,b = raw output * ab_scale */
typedef struct nn_scaling {
  float l_offset;
  float l_scale;
  float ab_scale;
} nn_scaling;

#define NN_DEFAULT_SCALING ((nn_scaling) { 50.0f, 50.0f, 128.0f })

typedef enum nn_pass {
  NN_PASS_INFER = 0, /* BN uses running stats; activations freed as soon as possible */
  NN_PASS_EVAL = 1,  /* BN uses running stats; activations kept for backward */
  NN_PASS_TRAIN = 2  /* BN uses batch stats and updates running stats; kept for backward */
} nn_pass;

typedef struct nn_graph nn_graph; /* private to model.c */

typedef struct nn_model {
  nn_arch arch;
  nn_scaling scaling;
  char *metadata;          /* free-form UTF-8 "key=value\n" lines, never NULL */
  int n_params;
  nn_param *params;
  float *param_block;      /* the storage of every nn_param.data */
  float *grad_block;       /* the storage of every nn_param.grad */
  float bn_momentum;       /* 0.1, as PyTorch */
  float bn_eps;            /* 1e-5, as PyTorch */
  /* Data-parallel training: sums batch-norm statistics over processes
   * (see batchnorm.h); NULL (the default) for one process. */
  void (*bn_reduce) (double *values, int count, void *user_data);
  void *bn_reduce_data;
  /* The output head: 0 for the seed's a,b regression (output n x 2 x h x
   * w); Q > 0 for the colour-class head (nn/head.h): output n x Q x h/2 x
   * w/2 logits, bin centres in the tensor "head.bins" (Q x 2). */
  int head_bins;
  /* resnet18 with the global context (nn/context.h; metadata
   * "context=N"): 1 for its linear map alone (tensor "context.weight"),
   * N >= 2 for that and a hidden layer of N units ("context.fc1.*",
   * "context.fc2.weight"); 0: the seed's network. */
  int context;
  float *decoded;          /* nn_model_ab's buffer for a class head */
  size_t decoded_size;
  nn_graph *graph;
} nn_model;

/* A model of the given architecture with all tensors allocated and zeroed
 * (BN weights 1, running variances 1). */
nn_code nn_model_new (nn_arch arch, nn_model **out, nn_error *err);
void nn_model_free (nn_model *m);

/* nn_model_new in two steps: the graph and the tensor names and shapes
 * (data and grad NULL), then the storage.  The weight loader checks a
 * file against the shapes before it allocates anything. */
nn_code nn_model_build (nn_arch arch, nn_model **out, nn_error *err);
/* The same with the head: head_bins 0 (regression) or 2..NN_HEAD_MAX_BINS
 * (the colour-class head with that many bins; head.bins to be filled). */
nn_code nn_model_build_head (nn_arch arch, int head_bins, nn_model **out,
                             nn_error *err);
nn_code nn_model_new_head (nn_arch arch, int head_bins, nn_model **out,
                           nn_error *err);
/* The same with the global context (resnet18 only; context as
 * nn_model.context: 0, 1 or 2..NN_CONTEXT_MAX_CHANNELS). */
nn_code nn_model_build_full (nn_arch arch, int head_bins, int context,
                             nn_model **out, nn_error *err);
nn_code nn_model_new_full (nn_arch arch, int head_bins, int context,
                           nn_model **out, nn_error *err);
nn_code nn_model_alloc (nn_model *m, nn_error *err);

/* The initialization PyTorch uses for the reference modules, from a seeded
 * generator (not bit-identical to PyTorch's). */
void nn_model_init (nn_model *m, uint64_t seed);

/* Trainable parameter count (BN running statistics not counted). */
size_t nn_model_param_count (const nn_model *m);
nn_param *nn_model_find (nn_model *m, const char *name);

/* Replaces the metadata text (copied); a class-head model's text always
 * starts with "head_bins=Q", a context model's has "context=N" next (any
 * other head_bins or context line is dropped). */
nn_code nn_model_set_metadata (nn_model *m, const char *text, nn_error *err);
/* The number on a metadata text's first "key=" line: 1 with *out set, 0
 * when there is no such line, -1 when its value is not a number. */
int nn_metadata_number (const char *text, const char *key, double *out);
/* The value of the first "key=" line (up to its newline or the end), or
 * NULL.  The one reader of "key=value" lines: weight file metadata and
 * the trainer's checkpoint text alike. */
const char *nn_metadata_value (const char *text, const char *key);
/* That value copied into out: 1, 0 when absent, -1 when it does not fit
 * in len bytes with its NUL. */
int nn_metadata_string (const char *text, const char *key, char *out,
                        size_t len);
/* The value of a metadata text's head_bins line: 0 when absent, -1 when
 * not an integer in 2..NN_HEAD_MAX_BINS. */
int nn_metadata_head_bins (const char *text);

/* Runs the network on input (n x 1 x h x w). */
nn_code nn_model_forward (nn_model *m, const float *input, int n, int h, int w,
                          nn_pass pass, nn_error *err);
/* The output of the last forward pass (n x 2 x h x w, or the class head's
 * logits); dims may be NULL. */
const float *nn_model_output (const nn_model *m, int *n, int *c, int *h, int *w);
/* The last pass's prediction as raw a,b at the input's size (n x 2 x h x
 * w, CIE a,b = value * ab_scale): the output itself for the regression
 * head; for the class head the annealed mean at temperature t
 * (nn_head_decode), in a buffer the model owns until its next call. */
const float *nn_model_ab (nn_model *m, float t, int *n, int *h, int *w,
                          nn_error *err);
/* An inference pass for nn_model_ab at temperature t: with the class
 * head its last convolution's logits are decoded band by band as they
 * are made and never held whole (263 bins at half of a 1024x768 working
 * size are 207 MB); nn_model_output then has no logits, and nn_model_ab
 * answers for t alone.  The same a,b as nn_model_forward and
 * nn_model_ab to float rounding (the bands' Winograd tiles are the whole
 * image's, on the same inputs; a short last band's go to the products in
 * other blocks: one unit in the last place at a few of them).  Without
 * the class head, nn_model_forward. */
nn_code nn_model_forward_ab (nn_model *m, const float *input, int n, int h,
                             int w, float t, nn_error *err);

/* Backpropagates doutput (shaped as the output) through the last forward
 * pass, which must have been NN_PASS_EVAL or NN_PASS_TRAIN.  Parameter
 * gradients are added to nn_param.grad; dinput (n x 1 x h x w) is written
 * when non-NULL. */
nn_code nn_model_backward (nn_model *m, const float *doutput, float *dinput,
                           nn_error *err);
void nn_model_zero_grad (nn_model *m);

/* Floating-point operations of one forward pass of one h x w image
 * (multiply-adds count 2), for benchmarks. */
double nn_model_forward_flops (const nn_model *m, int h, int w);

/* Per-operation timings, for benchmarks.  After nn_model_profile (m, 1)
 * every forward and backward pass adds each operation's wall time to its
 * entry; nn_model_profile (m, 0) stops, nn_model_profile_reset zeroes.
 * In an inference pass a convolution's entry includes the batch norm and
 * ReLU folded into it.  flops: one forward pass of the last shape seen
 * (convolutions only; backward does twice that, once without dx). */
typedef struct nn_op_profile {
  char name[NN_PARAM_NAME_LEN]; /* "layer1.0.conv1", "relu 12", ... */
  const char *kind;             /* "conv", "bn", "relu", "tanh", ... */
  int cin, cout, k, stride, h, w; /* input size of the last pass (conv) */
  double forward_ms, backward_ms;
  int forward_calls, backward_calls;
  double flops;
  int has_dx;                   /* backward computes the input gradient */
} nn_op_profile;

void nn_model_profile (nn_model *m, int on);
void nn_model_profile_reset (nn_model *m);
/* The model's operations in graph order; *count set. */
const nn_op_profile *nn_model_profile_get (const nn_model *m, int *count);

/* A promise that m's parameters stay as they are until nn_model_thaw (or
 * nn_model_free): inference passes then fold each batch norm into its
 * convolution once, at the first pass, and keep the folded copy (as much
 * memory again as those convolutions' weights), and the Winograd
 * convolutions their transformed kernels (16/9 of their weights).  Unfrozen (the default,
 * and what training needs), every inference pass folds again.
 * nn_model_find and nn_model_init drop the folded copies, since their
 * callers may write the parameters. */
void nn_model_freeze (nn_model *m);
void nn_model_thaw (nn_model *m);

/* Releases the activations kept from the last forward pass. */
void nn_model_release (nn_model *m);

#endif
