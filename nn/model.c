/* model.c - the two networks as a static graph of layers.
 *
 * A graph is a list of ops in execution order.  Each op reads one or two
 * activations (by index; activation 0 is the network input) and writes one.
 * Channel counts are fixed when the graph is built; heights and widths
 * follow from the input at each forward pass.
 *
 * Each pass first plans (graph_plan): which ops run, what each reads,
 * and which following ops it does the work of (a folded batch norm, a
 * fused ReLU, a skipped upsampling); forward and backward are then plain
 * loops over the plan.  Batch norm is folded into the convolution's
 * weights in inference: once, at the first pass, for a frozen model
 * (nn_model_freeze: the caller promises the parameters stay as they are;
 * nn_model_find and nn_model_init drop the folded copies), else at every
 * pass (training changes the parameters between passes); the same for
 * the Winograd convolutions' transformed kernels.
 *
 * Memory: ReLU, tanh and the residual add work in place when their input
 * has no other consumer (their backward needs only the output, or
 * nothing); batch norm does too in NN_PASS_INFER, where activations are
 * also freed after their last consumer.  Gradients are freed as soon as
 * they have been propagated.
 */
#include <math.h>
#include "ompcompat.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "activation.h"
#include "batchnorm.h"
#include "blas.h"
#include "context.h"
#include "conv2d.h"
#include "winograd.h"
#include "convfew.h"
#include "convdirect.h"
#include "head.h"
#include "model.h"
#include "pool.h"
#include "rng.h"
#include "upsample.h"

#define MAX_OPS 96
#define MAX_ACTS (MAX_OPS + 1)
#define MAX_PARAMS 128

typedef enum op_kind {
  OP_CONV,
  OP_BN,
  OP_RELU,
  OP_TANH,
  OP_MAXPOOL,
  OP_UPSAMPLE2,
  OP_ADD,
  OP_CONTEXT      /* in + W mean (in2): context.h */
} op_kind;

typedef enum init_kind {
  INIT_ZERO,
  INIT_ONE,
  INIT_UNIFORM_FAN_IN,   /* PyTorch Conv2d default: U(-1/sqrt(fan_in), +) */
  INIT_KAIMING_FAN_OUT,  /* torchvision ResNet: N(0, 2 / fan_out) */
  INIT_KAIMING_FAN_OUT_SUM3 /* the seed's conv1: sum over 3 RGB kernels */
} init_kind;

typedef struct op {
  op_kind kind;
  int in, in2, out;
  /* conv */
  int cin, cout, k, stride, pad;
  int weight, bias;              /* param indices; bias -1 when none */
  /* bn */
  int gamma, beta, rmean, rvar;
  float *save_mean, *save_invstd;
  /* context: weight is W; the hidden layer's (hidden 0: none) */
  int hidden, fc1_w, fc1_b, fc2_w;
  /* the plan (graph_plan), for the current shape and pass */
  int runs;                      /* 0: another op does this one's work */
  int src;                       /* the activation it reads: in, or for a
                                    CONV2D_UP2 convolution the input of the
                                    upsampling before it (which then does
                                    not run) */
  int fold_bn;                   /* conv, inference: the BN op after it,
                                    folded into its weights; else -1 */
  int fuse_relu;                 /* conv (inference), bn: the ReLU op after
                                    it, applied in its epilogue; else -1 */
  int band_next;                 /* conv (inference): the stride-2 conv
                                    computed with it band by band
                                    (conv_pair_bands); else -1 */
  conv2d_desc cd;
  maxpool_desc pd;
} op;

typedef struct act {
  int c, h, w;
  int consumers;      /* ops reading it */
  int last_use;       /* index of the last op reading it */
  float *data;        /* the values (possibly a buffer handed over in place) */
  int owns;           /* data must be freed through this activation */
  float *grad;
} act;

/* Buffers are kept between passes and handed out again (best fit), so
 * that a training loop stops allocating (and page-faulting) after its
 * first step; nn_model_release and the end of an inference pass free the
 * idle ones. */
#define POOL_MAX 256

typedef struct pool_buf {
  float *p;
  size_t cap;
  int used;
} pool_buf;

struct nn_graph {
  pool_buf pool[POOL_MAX];
  int n_pool;
  int n_ops, n_acts;
  op ops[MAX_OPS];
  act acts[MAX_ACTS];
  init_kind param_init[MAX_PARAMS];
  int param_fan[MAX_PARAMS];     /* fan_in or fan_out for the init */
  int batch;
  nn_pass pass;
  int have_forward;
  float *workspace;
  size_t workspace_floats;
  int profiling;
  nn_op_profile prof[MAX_OPS];
  int frozen;                    /* nn_model_freeze: parameters fixed */
  float *folded[MAX_OPS];        /* frozen: conv op i's weights and bias
                                    with its BN folded in, or NULL */
  float *wino[MAX_OPS];          /* frozen: conv op i's Winograd kernels
                                    (of those weights), or NULL */
  float decode_t;                /* nn_model_forward_ab: the temperature
                                    the class logits are decoded at as
                                    they are made (0: kept whole) */
  float decoded_t;               /* the last pass left a,b decoded at
                                    this temperature in m->decoded, no
                                    logits (0: it left its logits) */
};

/* ------------------------------------------------------------------ */
/* Buffer pool                                                          */

/* An inference pass does not park a small buffer in an idle one more
 * than twice its size from 4 MiB up: the large one is freed and a buffer
 * of the size made.  (Else the previous pass's output, or the network's
 * largest activation, held the workspace or a small activation while the
 * pass made another large one: the cnn at 1024x1024 peaked at 637 MB
 * from the second pass on instead of 360 MB, and two views of the
 * ResNet18 kept the first view's logits through the second.) */
#define POOL_OVERSIZE_FLOATS ((size_t) 1 << 20)

static float *
pool_get (nn_graph *g, size_t n)
{
  int best = -1;
  for (int i = 0; i < g->n_pool; i++)
    if (!g->pool[i].used && g->pool[i].cap >= n
        && (best < 0 || g->pool[i].cap < g->pool[best].cap))
      best = i;
  if (best >= 0 && g->pass == NN_PASS_INFER
      && g->pool[best].cap > POOL_OVERSIZE_FLOATS
      && g->pool[best].cap / 2 > n)
    best = -1;
  if (best >= 0)
    {
      g->pool[best].used = 1;
      return g->pool[best].p;
    }
  /* none fits: drop an idle one (the largest) to make room */
  int slot = g->n_pool < POOL_MAX ? g->n_pool : -1;
  for (int i = 0; i < g->n_pool; i++)
    if (!g->pool[i].used && (slot >= g->n_pool || slot < 0
                             || g->pool[i].cap > g->pool[slot].cap))
      slot = i;
  if (slot >= 0 && slot < g->n_pool)
    {
      free (g->pool[slot].p);
      g->pool[slot].p = NULL;
    }
  if (slot < 0)
    return NULL;
  float *p = malloc ((n ? n : 1) * sizeof (float));
  if (!p)
    {
      if (slot < g->n_pool)
        g->pool[slot] = g->pool[--g->n_pool];
      return NULL;
    }
  if (slot == g->n_pool)
    g->n_pool++;
  g->pool[slot] = (pool_buf) { p, n, 1 };
  return p;
}

static void
pool_put (nn_graph *g, float *p)
{
  if (!p)
    return;
  for (int i = 0; i < g->n_pool; i++)
    if (g->pool[i].p == p)
      {
        g->pool[i].used = 0;
        return;
      }
}

/* Frees every idle buffer. */
static void
pool_trim (nn_graph *g)
{
  int k = 0;
  for (int i = 0; i < g->n_pool; i++)
    if (g->pool[i].used)
      g->pool[k++] = g->pool[i];
    else
      free (g->pool[i].p);
  g->n_pool = k;
}

/* ------------------------------------------------------------------ */
/* Architecture names                                                   */

static const char *const arch_names[NN_ARCH_COUNT] = { "cnn", "resnet18" };

const char *
nn_arch_name (nn_arch arch)
{
  return (unsigned) arch < NN_ARCH_COUNT ? arch_names[arch] : "unknown";
}

nn_code
nn_arch_parse (const char *name, nn_arch *arch)
{
  for (int i = 0; i < NN_ARCH_COUNT; i++)
    if (!strcmp (name, arch_names[i]))
      {
        *arch = (nn_arch) i;
        return NN_OK;
      }
  return NN_ERR_ARCH;
}

/* ------------------------------------------------------------------ */
/* Building                                                             */

typedef struct builder {
  nn_model *m;
  nn_graph *g;
  int failed;
} builder;

static int
b_param (builder *b, const char *prefix, const char *suffix, int ndim,
         const int *shape, int trainable, init_kind init, int fan)
{
  nn_model *m = b->m;
  if (b->failed || m->n_params >= MAX_PARAMS)
    {
      b->failed = 1;
      return -1;
    }
  nn_param *p = &m->params[m->n_params];
  memset (p, 0, sizeof *p);
  snprintf (p->name, sizeof p->name, "%s%s", prefix, suffix);
  p->ndim = ndim;
  p->size = 1;
  for (int i = 0; i < ndim; i++)
    {
      p->shape[i] = shape[i];
      p->size *= (size_t) shape[i];
    }
  p->trainable = trainable;
  b->g->param_init[m->n_params] = init;
  b->g->param_fan[m->n_params] = fan;
  return m->n_params++;
}

static int
b_act (builder *b, int c)
{
  nn_graph *g = b->g;
  if (g->n_acts >= MAX_ACTS)
    {
      b->failed = 1;
      return 0;
    }
  g->acts[g->n_acts].c = c;
  return g->n_acts++;
}

static op *
b_op (builder *b, op_kind kind, int in, int in2, int out_c)
{
  nn_graph *g = b->g;
  if (b->failed || g->n_ops >= MAX_OPS)
    {
      b->failed = 1;
      return NULL;
    }
  op *o = &g->ops[g->n_ops];
  memset (o, 0, sizeof *o);
  o->kind = kind;
  o->in = in;
  o->in2 = in2;
  o->bias = -1;
  o->out = b_act (b, out_c);
  g->n_ops++;
  return o;
}

static int
act_c (builder *b, int a)
{
  return b->g->acts[a].c;
}

static int
b_conv (builder *b, int in, const char *name, int cout, int k, int stride,
        int pad, int has_bias, init_kind init)
{
  int cin = act_c (b, in);
  op *o = b_op (b, OP_CONV, in, -1, cout);
  if (!o)
    return 0;
  o->cin = cin;
  o->cout = cout;
  o->k = k;
  o->stride = stride;
  o->pad = pad;
  int wshape[4] = { cout, cin, k, k };
  int fan = init == INIT_UNIFORM_FAN_IN ? cin * k * k : cout * k * k;
  o->weight = b_param (b, name, ".weight", 4, wshape, 1, init, fan);
  if (has_bias)
    o->bias = b_param (b, name, ".bias", 1, &cout, 1, INIT_UNIFORM_FAN_IN,
                       cin * k * k);
  return o->out;
}

static int
b_bn (builder *b, int in, const char *name)
{
  int c = act_c (b, in);
  op *o = b_op (b, OP_BN, in, -1, c);
  if (!o)
    return 0;
  o->gamma = b_param (b, name, ".weight", 1, &c, 1, INIT_ONE, 0);
  o->beta = b_param (b, name, ".bias", 1, &c, 1, INIT_ZERO, 0);
  o->rmean = b_param (b, name, ".running_mean", 1, &c, 0, INIT_ZERO, 0);
  o->rvar = b_param (b, name, ".running_var", 1, &c, 0, INIT_ONE, 0);
  o->save_mean = calloc ((size_t) c, sizeof (float));
  o->save_invstd = calloc ((size_t) c, sizeof (float));
  if (!o->save_mean || !o->save_invstd)
    b->failed = 1;
  return o->out;
}

static int
b_simple (builder *b, op_kind kind, int in)
{
  op *o = b_op (b, kind, in, -1, act_c (b, in));
  return o ? o->out : 0;
}

static int
b_maxpool (builder *b, int in, int k, int stride, int pad)
{
  op *o = b_op (b, OP_MAXPOOL, in, -1, act_c (b, in));
  if (!o)
    return 0;
  o->k = k;
  o->stride = stride;
  o->pad = pad;
  return o->out;
}

static int
b_add (builder *b, int x, int y)
{
  op *o = b_op (b, OP_ADD, x, y, act_c (b, x));
  return o ? o->out : 0;
}

/* x + W mean (s) + W2 relu (W1 mean (s) + b1) (context.h): W and W2
 * zero at first; hidden 0 for W alone. */
static int
b_context (builder *b, int x, int s, int hidden)
{
  int c = act_c (b, x), cs = act_c (b, s);
  if (cs > NN_CONTEXT_MAX_CHANNELS)   /* nn_context_forward's bound (hidden:
                                         nn_model_build_full checks it) */
    {
      b->failed = 1;
      return 0;
    }
  op *o = b_op (b, OP_CONTEXT, x, s, c);
  if (!o)
    return 0;
  int shape[2] = { c, cs };
  o->weight = b_param (b, "context", ".weight", 2, shape, 1, INIT_ZERO, 0);
  o->hidden = hidden;
  if (hidden)
    {
      int s1[2] = { hidden, cs }, s2[2] = { c, hidden };
      o->fc1_w = b_param (b, "context.fc1", ".weight", 2, s1, 1,
                          INIT_UNIFORM_FAN_IN, cs);
      o->fc1_b = b_param (b, "context.fc1", ".bias", 1, &hidden, 1,
                          INIT_UNIFORM_FAN_IN, cs);
      o->fc2_w = b_param (b, "context.fc2", ".weight", 2, s2, 1, INIT_ZERO,
                          0);
    }
  return o->out;
}

/* The colour-class head's bin centres (Q x 2, not trained). */
static void
build_head_bins (builder *b, int q)
{
  int shape[2] = { q, 2 };
  b_param (b, "head.bins", "", 2, shape, 0, INIT_ZERO, 0);
}

/* The seed's plain CNN (Keras model in the seed, tests/reference/models.py
 * ColorizationCNN): 12 3x3 convolutions with bias.  With the class head
 * the last convolution gives Q logits at half resolution (no tanh, no
 * last upsampling). */
static void
build_cnn (builder *b, int q)
{
  static const struct { int cout, stride, upsample_before; } layers[12] = {
    { 64, 1, 0 }, { 64, 2, 0 }, { 128, 1, 0 }, { 128, 2, 0 },
    { 256, 1, 0 }, { 256, 2, 0 }, { 512, 1, 0 }, { 256, 1, 0 },
    { 128, 1, 0 }, { 64, 1, 1 }, { 32, 1, 1 }, { 2, 1, 0 },
  };
  int x = 0;
  for (int i = 0; i < 12; i++)
    {
      char name[16];
      snprintf (name, sizeof name, "conv%d", i + 1);
      if (layers[i].upsample_before)
        x = b_simple (b, OP_UPSAMPLE2, x);
      x = b_conv (b, x, name, i == 11 && q ? q : layers[i].cout, 3,
                  layers[i].stride, 1, 1, INIT_UNIFORM_FAN_IN);
      if (i < 11 || !q)
        x = b_simple (b, i < 11 ? OP_RELU : OP_TANH, x);
    }
  if (q)
    build_head_bins (b, q);
  else
    b_simple (b, OP_UPSAMPLE2, x);
}

/* torchvision's BasicBlock. */
static int
build_basic_block (builder *b, int x, const char *prefix, int planes,
                   int stride)
{
  char name[NN_PARAM_NAME_LEN];
  int identity = x;
  snprintf (name, sizeof name, "%s.conv1", prefix);
  int y = b_conv (b, x, name, planes, 3, stride, 1, 0, INIT_KAIMING_FAN_OUT);
  snprintf (name, sizeof name, "%s.bn1", prefix);
  y = b_simple (b, OP_RELU, b_bn (b, y, name));
  snprintf (name, sizeof name, "%s.conv2", prefix);
  y = b_conv (b, y, name, planes, 3, 1, 1, 0, INIT_KAIMING_FAN_OUT);
  snprintf (name, sizeof name, "%s.bn2", prefix);
  y = b_bn (b, y, name);
  if (stride != 1 || act_c (b, x) != planes)
    {
      snprintf (name, sizeof name, "%s.downsample.0", prefix);
      identity = b_conv (b, x, name, planes, 1, stride, 0, 0,
                         INIT_KAIMING_FAN_OUT);
      snprintf (name, sizeof name, "%s.downsample.1", prefix);
      identity = b_bn (b, identity, name);
    }
  return b_simple (b, OP_RELU, b_add (b, y, identity));
}

/* The seed's ColorizationNet: resnet18 children 0..5 with a one-channel
 * conv1, then the upsampling decoder; with the class head its last
 * convolution gives Q logits at half resolution (no last upsampling).
 * With context, the encoder's mean over the image is added to the
 * decoder's first block (after its ReLU, before the first upsampling). */
static void
build_resnet18 (builder *b, int q, int context)
{
  int x = b_conv (b, 0, "midlevel_resnet.0", 64, 7, 2, 3, 0,
                  INIT_KAIMING_FAN_OUT_SUM3);
  x = b_simple (b, OP_RELU, b_bn (b, x, "midlevel_resnet.1"));
  x = b_maxpool (b, x, 3, 2, 1);
  x = build_basic_block (b, x, "midlevel_resnet.4.0", 64, 1);
  x = build_basic_block (b, x, "midlevel_resnet.4.1", 64, 1);
  x = build_basic_block (b, x, "midlevel_resnet.5.0", 128, 2);
  const int enc = build_basic_block (b, x, "midlevel_resnet.5.1", 128, 1);
  x = b_conv (b, enc, "upsample.0", 128, 3, 1, 1, 1, INIT_UNIFORM_FAN_IN);
  x = b_simple (b, OP_RELU, b_bn (b, x, "upsample.1"));
  if (context)
    x = b_context (b, x, enc, context > 1 ? context : 0);
  x = b_simple (b, OP_UPSAMPLE2, x);
  x = b_conv (b, x, "upsample.4", 64, 3, 1, 1, 1, INIT_UNIFORM_FAN_IN);
  x = b_simple (b, OP_RELU, b_bn (b, x, "upsample.5"));
  x = b_conv (b, x, "upsample.7", 64, 3, 1, 1, 1, INIT_UNIFORM_FAN_IN);
  x = b_simple (b, OP_RELU, b_bn (b, x, "upsample.8"));
  x = b_simple (b, OP_UPSAMPLE2, x);
  x = b_conv (b, x, "upsample.11", 32, 3, 1, 1, 1, INIT_UNIFORM_FAN_IN);
  x = b_simple (b, OP_RELU, b_bn (b, x, "upsample.12"));
  x = b_conv (b, x, "upsample.14", q ? q : 2, 3, 1, 1, 1, INIT_UNIFORM_FAN_IN);
  if (q)
    build_head_bins (b, q);
  else
    b_simple (b, OP_UPSAMPLE2, x);
}

static void
graph_count_uses (nn_graph *g)
{
  for (int a = 0; a < g->n_acts; a++)
    {
      g->acts[a].consumers = 0;
      g->acts[a].last_use = -1;
    }
  for (int i = 0; i < g->n_ops; i++)
    {
      op *o = &g->ops[i];
      g->acts[o->in].consumers++;
      g->acts[o->in].last_use = i;
      if (o->in2 >= 0)
        {
          g->acts[o->in2].consumers++;
          g->acts[o->in2].last_use = i;
        }
    }
}

/* All tensors in one block, all gradients in another (so that a model
 * costs two allocations); BN weights and running variances start at 1. */
static int
model_alloc_params (nn_model *m)
{
  size_t total = 0, trainable = 0;
  for (int i = 0; i < m->n_params; i++)
    {
      total += m->params[i].size;
      trainable += m->params[i].trainable ? m->params[i].size : 0;
    }
  m->param_block = calloc (total, sizeof (float));
  m->grad_block = calloc (trainable, sizeof (float));
  if (!m->param_block || !m->grad_block)
    return -1;
  float *d = m->param_block, *g = m->grad_block;
  for (int i = 0; i < m->n_params; i++)
    {
      nn_param *p = &m->params[i];
      p->data = d;
      d += p->size;
      if (p->trainable)
        {
          p->grad = g;
          g += p->size;
        }
      if (m->graph->param_init[i] == INIT_ONE)
        for (size_t j = 0; j < p->size; j++)
          p->data[j] = 1.0f;
    }
  return 0;
}

nn_code
nn_model_new (nn_arch arch, nn_model **out, nn_error *err)
{
  return nn_model_new_head (arch, 0, out, err);
}

nn_code
nn_model_new_head (nn_arch arch, int head_bins, nn_model **out, nn_error *err)
{
  return nn_model_new_full (arch, head_bins, 0, out, err);
}

nn_code
nn_model_alloc (nn_model *m, nn_error *err)
{
  if (m->param_block)
    return NN_OK;
  if (model_alloc_params (m))
    return nn_error_set (err, NN_ERR_NOMEM,
                         "out of memory for the %s parameters",
                         nn_arch_name (m->arch));
  return NN_OK;
}

nn_code
nn_model_build (nn_arch arch, nn_model **out, nn_error *err)
{
  return nn_model_build_head (arch, 0, out, err);
}

nn_code
nn_model_build_head (nn_arch arch, int head_bins, nn_model **out,
                     nn_error *err)
{
  return nn_model_build_full (arch, head_bins, 0, out, err);
}

nn_code
nn_model_new_full (nn_arch arch, int head_bins, int context, nn_model **out,
                   nn_error *err)
{
  nn_code rc = nn_model_build_full (arch, head_bins, context, out, err);
  if (rc == NN_OK && (rc = nn_model_alloc (*out, err)) != NN_OK)
    {
      nn_model_free (*out);
      *out = NULL;
    }
  return rc;
}

nn_code
nn_model_build_full (nn_arch arch, int head_bins, int context, nn_model **out,
                     nn_error *err)
{
  *out = NULL;
  nn_blas_init ();
  if ((unsigned) arch >= NN_ARCH_COUNT)
    return nn_error_set (err, NN_ERR_ARCH, "unknown architecture %d", (int) arch);
  if (head_bins && (head_bins < 2 || head_bins > NN_HEAD_MAX_BINS))
    return nn_error_set (err, NN_ERR_ARG, "a colour-class head of %d bins, "
                         "expected 2..%d", head_bins, NN_HEAD_MAX_BINS);
  if (context && arch != NN_ARCH_RESNET18)
    return nn_error_set (err, NN_ERR_ARG, "global context is for resnet18, "
                         "not %s", nn_arch_name (arch));
  if (context < 0 || context > NN_CONTEXT_MAX_CHANNELS)
    return nn_error_set (err, NN_ERR_ARG, "a global context of %d hidden "
                         "units, expected 0 (none), 1 (no hidden layer) "
                         "or 2..%d", context, NN_CONTEXT_MAX_CHANNELS);
  nn_model *m = calloc (1, sizeof *m);
  if (!m)
    return nn_error_set (err, NN_ERR_NOMEM, "out of memory for a model");
  m->arch = arch;
  m->head_bins = head_bins;
  m->context = context;
  m->scaling = NN_DEFAULT_SCALING;
  m->bn_momentum = 0.1f;
  m->bn_eps = 1e-5f;
  m->metadata = calloc (1, 1);
  m->params = calloc (MAX_PARAMS, sizeof (nn_param));
  m->graph = calloc (1, sizeof (nn_graph));
  if (!m->metadata || !m->params || !m->graph)
    {
      nn_model_free (m);
      return nn_error_set (err, NN_ERR_NOMEM, "out of memory for a model");
    }
  builder b = { m, m->graph, 0 };
  m->graph->n_acts = 1;
  m->graph->acts[0].c = 1;
  if (arch == NN_ARCH_CNN)
    build_cnn (&b, head_bins);
  else
    build_resnet18 (&b, head_bins, context);
  if (b.failed)
    {
      nn_model_free (m);
      return nn_error_set (err, NN_ERR_NOMEM,
                           "out of memory building the %s network",
                           nn_arch_name (arch));
    }
  graph_count_uses (m->graph);
  if ((head_bins || context) && nn_model_set_metadata (m, "", err))
    {
      nn_model_free (m);
      return NN_ERR_NOMEM;
    }
  *out = m;
  return NN_OK;
}

/* Returns every buffer of the last pass to the pool. */
static void
graph_recycle (nn_graph *g)
{
  for (int a = 0; a < g->n_acts; a++)
    {
      if (g->acts[a].owns)
        pool_put (g, g->acts[a].data);
      pool_put (g, g->acts[a].grad);
      g->acts[a].data = NULL;
      g->acts[a].grad = NULL;
      g->acts[a].owns = 0;
    }
  pool_put (g, g->workspace);
  g->workspace = NULL;
  g->have_forward = 0;
  g->decoded_t = 0.0f;
}

void
nn_model_release (nn_model *m)
{
  if (!m || !m->graph)
    return;
  graph_recycle (m->graph);
  pool_trim (m->graph);
}

/* Drops the folded copies of a frozen model (they are rebuilt at the
 * next inference pass). */
static void
graph_drop_folded (nn_graph *g)
{
  for (int i = 0; g && i < MAX_OPS; i++)
    {
      free (g->folded[i]);
      free (g->wino[i]);
      g->folded[i] = g->wino[i] = NULL;
    }
}

void
nn_model_freeze (nn_model *m)
{
  if (m && m->graph)
    m->graph->frozen = 1;
}

void
nn_model_thaw (nn_model *m)
{
  if (m && m->graph)
    {
      m->graph->frozen = 0;
      graph_drop_folded (m->graph);
    }
}

void
nn_model_free (nn_model *m)
{
  if (!m)
    return;
  nn_model_release (m);
  graph_drop_folded (m->graph);
  if (m->graph)
    for (int i = 0; i < m->graph->n_ops; i++)
      {
        free (m->graph->ops[i].save_mean);
        free (m->graph->ops[i].save_invstd);
      }
  free (m->param_block);
  free (m->grad_block);
  free (m->params);
  free (m->graph);
  free (m->metadata);
  free (m->decoded);
  free (m);
}

int
nn_metadata_number (const char *text, const char *key, double *out)
{
  const char *v = nn_metadata_value (text, key);
  if (!v)
    return 0;
  char *end;
  *out = strtod (v, &end);
  return end == v || (*end && *end != '\n') ? -1 : 1;
}

const char *
nn_metadata_value (const char *text, const char *key)
{
  const size_t kl = strlen (key);
  for (const char *p = text; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
    if (!strncmp (p, key, kl) && p[kl] == '=')
      return p + kl + 1;
  return NULL;
}

int
nn_metadata_string (const char *text, const char *key, char *out, size_t len)
{
  const char *v = nn_metadata_value (text, key);
  if (!v)
    return 0;
  size_t n = strcspn (v, "\n");
  if (n >= len)
    return -1;
  memcpy (out, v, n);
  out[n] = '\0';
  return 1;
}

int
nn_metadata_head_bins (const char *text)
{
  double v;
  int found = nn_metadata_number (text, "head_bins", &v);
  if (found <= 0)
    return found;
  return v == floor (v) && v >= 2 && v <= NN_HEAD_MAX_BINS ? (int) v : -1;
}

/* The text without its head_bins and context lines, and with "head_bins=Q"
 * first when the model has the class head, then "context=N" when it has
 * the global context (N: 1, or its hidden units): the file always says
 * which network it holds. */
nn_code
nn_model_set_metadata (nn_model *m, const char *text, nn_error *err)
{
  text = text ? text : "";
  char *copy = malloc (strlen (text) + 32);
  if (!copy)
    return nn_error_set (err, NN_ERR_NOMEM, "out of memory for metadata");
  size_t n = m->head_bins ? (size_t) sprintf (copy, "head_bins=%d\n",
                                              m->head_bins) : 0;
  if (m->context)
    n += (size_t) sprintf (copy + n, "context=%d\n", m->context);
  for (const char *p = text; *p;)
    {
      const char *e = strchr (p, '\n');
      size_t len = e ? (size_t) (e - p) + 1 : strlen (p);
      if (strncmp (p, "head_bins=", 10) && strncmp (p, "context=", 8))
        {
          memcpy (copy + n, p, len);
          n += len;
        }
      p += len;
    }
  copy[n] = '\0';
  free (m->metadata);
  m->metadata = copy;
  return NN_OK;
}

size_t
nn_model_param_count (const nn_model *m)
{
  size_t n = 0;
  for (int i = 0; i < m->n_params; i++)
    if (m->params[i].trainable)
      n += m->params[i].size;
  return n;
}

nn_param *
nn_model_find (nn_model *m, const char *name)
{
  graph_drop_folded (m->graph); /* the caller may write through it */
  for (int i = 0; i < m->n_params; i++)
    if (!strcmp (m->params[i].name, name))
      return &m->params[i];
  return NULL;
}

void
nn_model_init (nn_model *m, uint64_t seed)
{
  nn_rng rng;
  nn_rng_seed (&rng, seed);
  graph_drop_folded (m->graph);
  for (int i = 0; i < m->n_params; i++)
    {
      nn_param *p = &m->params[i];
      const int fan = m->graph->param_init[i] == INIT_ZERO
                        || m->graph->param_init[i] == INIT_ONE
                        ? 1 : m->graph->param_fan[i];
      switch (m->graph->param_init[i])
        {
        case INIT_ZERO:
          memset (p->data, 0, p->size * sizeof (float));
          break;
        case INIT_ONE:
          for (size_t j = 0; j < p->size; j++)
            p->data[j] = 1.0f;
          break;
        case INIT_UNIFORM_FAN_IN:
          {
            const double bound = 1.0 / sqrt ((double) fan);
            for (size_t j = 0; j < p->size; j++)
              p->data[j] = (float) ((2.0 * nn_rng_uniform (&rng) - 1.0) * bound);
          }
          break;
        case INIT_KAIMING_FAN_OUT:
        case INIT_KAIMING_FAN_OUT_SUM3:
          {
            /* the seed sums three RGB kernels into one: the variance triples */
            const double std = sqrt (2.0 / fan)
              * (m->graph->param_init[i] == INIT_KAIMING_FAN_OUT_SUM3 ? sqrt (3.0) : 1.0);
            for (size_t j = 0; j < p->size; j++)
              p->data[j] = (float) (nn_rng_normal (&rng) * std);
          }
          break;
        }
    }
  nn_param *bins = nn_model_find (m, "head.bins");
  if (bins)             /* the gamut bins when the count is theirs */
    {
      float c[2 * NN_HEAD_MAX_BINS];
      if (nn_head_gamut_bins (c) == m->head_bins)
        memcpy (bins->data, c, bins->size * sizeof (float));
    }
}

void
nn_model_zero_grad (nn_model *m)
{
  for (int i = 0; i < m->n_params; i++)
    if (m->params[i].grad)
      memset (m->params[i].grad, 0, m->params[i].size * sizeof (float));
}

/* ------------------------------------------------------------------ */
/* Shapes                                                               */

/* The op that writes op i's input, or -1 (the network input). */
static int
producer (const nn_graph *g, int i)
{
  for (int j = i - 1; j >= 0; j--)
    if (g->ops[j].out == g->ops[i].in)
      return j;
  return -1;
}

/* Whether op j exists, is of kind k, and alone reads op i's output. */
static int
sole_reader (const nn_graph *g, int i, int j, op_kind k)
{
  return j < g->n_ops && g->ops[j].kind == k
         && g->ops[j].in == g->ops[i].out
         && g->acts[g->ops[i].out].consumers == 1;
}

/* Floats of activation a at the current shape. */
static size_t
act_size (const nn_graph *g, int a)
{
  const act *x = &g->acts[a];
  return (size_t) g->batch * x->c * x->h * x->w;
}

/* Inference: a one-plane stride-1 first layer whose output is larger
 * than PAIR_BAND_MIN_FLOATS (64 MiB: the cnn's conv1 from a working size
 * of about 600) is computed band by band together with the 3x3 stride-2
 * convolution that alone reads it (conv_pair_bands), so that its output
 * is never whole (201 MB at 1024); a band of it holds about
 * PAIR_BAND_FLOATS (16 MiB). */
#define PAIR_BAND_MIN_FLOATS ((size_t) 1 << 24)
#define PAIR_BAND_FLOATS ((size_t) 1 << 22)

/* Largest CONV2D_PHASE2 workspace an inference pass uses (64 MiB: the
 * first stride-2 layers at a 256-pixel working size; beyond, im2col's
 * bounded blocks). */
#define PHASE2_INFER_FLOATS ((size_t) 1 << 24)

/* Conv o on a band of rows of its input (one image, o->cd's width). */
static conv2d_desc
band_desc (const op *o, int rows)
{
  conv2d_desc d;
  nn_conv2d_desc_init (&d, 1, o->cin, rows, o->cd.w, o->cout, o->k, o->stride,
                       o->pad);
  d.algo = CONV2D_IM2COL;
  if (nn_convdirect_ok (&d))
    d.algo = CONV2D_DIRECT;
  else if (nn_conv2d_phase2_ok (&d))
    {
      d.algo = CONV2D_PHASE2;
      if (nn_conv2d_forward_workspace_floats (&d) > PHASE2_INFER_FLOATS)
        d.algo = CONV2D_IM2COL;
    }
  return d;
}

/* Output rows of the stride-2 convolution o2 per band (its input band:
 * twice as many, plus 3). */
static int
pair_band_rows (const op *o2)
{
  const long per_row = (long) o2->cin * o2->cd.w;
  long r = ((long) PAIR_BAND_FLOATS / per_row - 3) / 2;
  return r < 1 ? 1 : r > o2->cd.oh ? o2->cd.oh : (int) r;
}

/* Marks the pairs conv_pair_bands computes (op->band_next; the second
 * does not run on its own) and makes the workspace fit their bands. */
static void
plan_pair_bands (nn_graph *g)
{
  for (int i = 0; i < g->n_ops; i++)
    {
      op *o = &g->ops[i];
      const int last = o->fuse_relu, j = last + 1;
      if (!o->runs || o->kind != OP_CONV || o->cd.algo != CONV2D_DIRECT
          || o->stride != 1 || last < 0 || !sole_reader (g, last, j, OP_CONV)
          || !g->ops[j].runs || g->ops[j].src != g->ops[j].in
          || !nn_conv2d_phase2_ok (&g->ops[j].cd)
          || act_size (g, o->out) <= PAIR_BAND_MIN_FLOATS)
        continue;
      const int rows = 2 * pair_band_rows (&g->ops[j]) + 3;
      const conv2d_desc b1 = band_desc (o, rows < o->cd.h ? rows : o->cd.h);
      const conv2d_desc b2 = band_desc (&g->ops[j], b1.oh);
      const size_t w1 = nn_conv2d_forward_workspace_floats (&b1);
      const size_t w2 = nn_conv2d_forward_workspace_floats (&b2);
      if (w1 > g->workspace_floats)
        g->workspace_floats = w1;
      if (w2 > g->workspace_floats)
        g->workspace_floats = w2;
      o->band_next = j;
      g->ops[j].runs = 0;
    }
}

/* The plan of every op for a pass (after graph_set_shapes): what runs,
 * what it reads, and what it does for the ops after it.
 *   - a CONV2D_UP2 convolution reads the small image before the
 *     upsampling, which does not run;
 *   - inference: a convolution folds the batch norm that alone reads its
 *     output into its weights and bias, and applies the ReLU that alone
 *     reads the result in its epilogue; neither of those runs;
 *   - a batch norm (not folded) applies the ReLU that alone reads its
 *     output, which does not run (its output is the same buffer).
 * Forward and backward are loops over this plan; the buffers the
 * fused ops' outputs name are the fusing op's (graph_alias). */
static void
graph_plan (nn_graph *g, nn_pass pass)
{
  for (int i = 0; i < g->n_ops; i++)
    {
      op *o = &g->ops[i];
      o->runs = 1;
      o->src = o->in;
      o->fold_bn = o->fuse_relu = o->band_next = -1;
    }
  for (int i = 0; i < g->n_ops; i++)
    {
      op *o = &g->ops[i];
      if (!o->runs)
        continue;
      if (o->kind == OP_CONV && o->cd.algo == CONV2D_UP2)
        {
          int j = producer (g, i);
          o->src = g->ops[j].in;
          g->ops[j].runs = 0;
        }
      int last = i;
      if (o->kind == OP_CONV && pass == NN_PASS_INFER
          && sole_reader (g, i, i + 1, OP_BN))
        last = o->fold_bn = i + 1;
      if ((o->kind == OP_BN || (o->kind == OP_CONV && pass == NN_PASS_INFER))
          && sole_reader (g, last, last + 1, OP_RELU))
        o->fuse_relu = last + 1;
      if (o->fold_bn >= 0)
        g->ops[o->fold_bn].runs = 0;
      if (o->fuse_relu >= 0)
        g->ops[o->fuse_relu].runs = 0;
    }
  if (pass == NN_PASS_INFER)
    plan_pair_bands (g);
}

/* Channels in and out from which a 3x3 stride-1 convolution goes
 * through Winograd (CONV2D_WINO, CONV2D_WINO_TRAIN): with its transforms
 * in AVX-512 (simd.h), faster than the shifted products at every shape
 * measured from 32 channels (2026-12-02, 2 threads, forward: 64 to 64
 * at 32x32 batch 16, 7.7 against 8.6 ms; at 128x128, 7.1 against 7.8;
 * 32 to 32 at 256x256, 7.2 against 10.1; 128 to 128 at 128x128, 21.0
 * against 28.5). */
#define WINO_MIN_CIN 32
#define WINO_MIN_COUT 32

/* Largest CONV2D_SHIFT workspace an inference pass uses (16 MiB). */
#define SHIFT_INFER_FLOATS ((size_t) 1 << 22)

/* The algorithm of conv op i (its cd set up) for a training pass
 * (train) or an inference pass.  3x3 stride-1 convolutions:
 *   - after an upsampling that only they read: the folded kernels on the
 *     small image (CONV2D_UP2; graph_plan), which never makes the
 *     upsampled copy, so inference too whatever the size;
 *   - else, with at most four output channels (the seed's a,b heads),
 *     the direct convolution of convfew.h (CONV2D_FEW; the shifted
 *     products ran at 3 to 15 % of the sgemm rate there);
 *   - else, from WINO_MIN_CIN and WINO_MIN_COUT channels, Winograd
 *     (2.25 times fewer products);
 *   - else the shifted products: in training, and in inference while
 *     their padded copy is small (a 256-pixel working size; measured
 *     faster than im2col there);
 *   - not for one input channel: 9 GEMMs with K = 1 are slower than
 *     im2col's single one with K = 9 (cnn conv1, measured).
 * One input channel (the first layer: cnn conv1, the ResNet's 7x7 stem):
 * the direct convolution (CONV2D_DIRECT: forward and weight gradient),
 * whose K = 9 or 49 products the GEMM kernels run at 5 to 20 % of their
 * rate.
 * 3x3 stride-2 convolutions: the shifted products on the input's four
 * phases (CONV2D_PHASE2; 1.1 to 1.3 times as fast as im2col, forward and
 * backward, measured 2026-12-02), in inference while their copy of the
 * input is small.  Everything else: im2col's bounded blocks. */
static conv2d_algo
conv_algo (nn_graph *g, int i, int train)
{
  const op *o = &g->ops[i];
  if (nn_convdirect_ok (&o->cd))
    return CONV2D_DIRECT;
  if (nn_conv2d_phase2_ok (&o->cd) && o->cin >= 4)
    {
      conv2d_desc pd = o->cd;
      pd.algo = CONV2D_PHASE2;
      return train || nn_conv2d_forward_workspace_floats (&pd)
                        <= PHASE2_INFER_FLOATS ? CONV2D_PHASE2 : CONV2D_IM2COL;
    }
  if (!nn_conv2d_shift_ok (&o->cd) || o->cin < 4)
    return CONV2D_IM2COL;
  const int j = producer (g, i);
  if (j >= 0 && g->ops[j].kind == OP_UPSAMPLE2
      && g->acts[o->in].consumers == 1)
    return CONV2D_UP2;
  if (nn_convfew_ok (&o->cd))
    return CONV2D_FEW;
  if (nn_wino_ok (&o->cd) && o->cin >= WINO_MIN_CIN
      && o->cout >= WINO_MIN_COUT)
    return train ? CONV2D_WINO_TRAIN : CONV2D_WINO;
  conv2d_desc sd = o->cd;
  sd.algo = CONV2D_SHIFT;
  if (train || nn_conv2d_forward_workspace_floats (&sd) <= SHIFT_INFER_FLOATS)
    return CONV2D_SHIFT;
  return CONV2D_IM2COL;
}

/* shift: a training pass (conv_algo) */
static int
graph_set_shapes (nn_graph *g, int n, int h, int w, int shift)
{
  g->batch = n;
  g->acts[0].h = h;
  g->acts[0].w = w;
  g->workspace_floats = 0;
  for (int i = 0; i < g->n_ops; i++)
    {
      op *o = &g->ops[i];
      act *in = &g->acts[o->in], *out = &g->acts[o->out];
      out->h = in->h;
      out->w = in->w;
      switch (o->kind)
        {
        case OP_CONV:
          if (nn_conv2d_desc_init (&o->cd, n, o->cin, in->h, in->w, o->cout, o->k,
                                o->stride, o->pad))
            return -1;
          o->cd.algo = conv_algo (g, i, shift);
          out->h = o->cd.oh;
          out->w = o->cd.ow;
          {
            size_t ws = shift ? nn_conv2d_workspace_floats (&o->cd)
                              : nn_conv2d_forward_workspace_floats (&o->cd);
            if (ws > g->workspace_floats)
              g->workspace_floats = ws;
          }
          break;
        case OP_MAXPOOL:
          if (nn_maxpool_desc_init (&o->pd, n, in->c, in->h, in->w, o->k,
                                 o->stride, o->pad))
            return -1;
          out->h = o->pd.oh;
          out->w = o->pd.ow;
          break;
        case OP_UPSAMPLE2:
          out->h = 2 * in->h;
          out->w = 2 * in->w;
          break;
        case OP_ADD:
          if (g->acts[o->in2].h != in->h || g->acts[o->in2].w != in->w)
            return -1;
          break;
        default:
          break;
        }
    }
  return 0;
}

double
nn_model_forward_flops (const nn_model *m, int h, int w)
{
  nn_graph *g = m->graph;
  double flops = 0.0;
  int saved_h = g->acts[0].h, saved_w = g->acts[0].w, saved_n = g->batch;
  if (graph_set_shapes (g, 1, h, w, 0) == 0)
    for (int i = 0; i < g->n_ops; i++)
      if (g->ops[i].kind == OP_CONV)
        flops += nn_conv2d_flops (&g->ops[i].cd);
  if (saved_n > 0)
    graph_set_shapes (g, saved_n, saved_h, saved_w, g->pass != NN_PASS_INFER);
  return flops;
}

/* ------------------------------------------------------------------ */
/* Profile                                                              */

static const char *const op_kind_names[] = {
  "conv", "bn", "relu", "tanh", "maxpool", "upsample", "add", "context"
};

/* The name of a parameter without its ".weight" suffix. */
static void
profile_param_stem (const nn_model *m, int param, char *out)
{
  snprintf (out, NN_PARAM_NAME_LEN, "%s", m->params[param].name);
  char *dot = strrchr (out, '.');
  if (dot)
    *dot = '\0';
}

void
nn_model_profile_reset (nn_model *m)
{
  nn_graph *g = m->graph;
  for (int i = 0; i < g->n_ops; i++)
    {
      const op *o = &g->ops[i];
      nn_op_profile *p = &g->prof[i];
      memset (p, 0, sizeof *p);
      p->kind = op_kind_names[o->kind];
      if (o->kind == OP_CONV)
        profile_param_stem (m, o->weight, p->name);
      else if (o->kind == OP_BN)
        profile_param_stem (m, o->gamma, p->name);
      else
        snprintf (p->name, sizeof p->name, "%s %d", p->kind, i);
    }
}

/* Adds the time since t0 to op i's forward or backward entry. */
static void
profile_add (nn_graph *g, int i, double t0, int backward)
{
  if (!g->profiling)
    return;
  const double ms = 1e3 * (omp_get_wtime () - t0);
  if (backward)
    {
      g->prof[i].backward_ms += ms;
      g->prof[i].backward_calls++;
    }
  else
    {
      g->prof[i].forward_ms += ms;
      g->prof[i].forward_calls++;
    }
}

void
nn_model_profile (nn_model *m, int on)
{
  if (on && !m->graph->profiling)
    nn_model_profile_reset (m);
  m->graph->profiling = on;
}

const nn_op_profile *
nn_model_profile_get (const nn_model *m, int *count)
{
  const nn_graph *g = m->graph;
  for (int i = 0; i < g->n_ops; i++)
    {
      const op *o = &g->ops[i];
      nn_op_profile *p = (nn_op_profile *) &g->prof[i];
      if (o->kind != OP_CONV)
        continue;
      p->cin = o->cin;
      p->cout = o->cout;
      p->k = o->k;
      p->stride = o->stride;
      p->h = o->cd.h;
      p->w = o->cd.w;
      p->flops = nn_conv2d_flops (&o->cd);
      p->has_dx = o->in != 0;
    }
  *count = g->n_ops;
  return g->prof;
}

/* ------------------------------------------------------------------ */
/* Forward                                                              */

static int
elementwise_in_place (const op *o, nn_pass pass)
{
  switch (o->kind)
    {
    case OP_RELU:
    case OP_TANH:
    case OP_ADD:
      return 1;
    case OP_BN:
    case OP_CONTEXT:  /* training: its input is a fused ReLU's mask */
      return pass == NN_PASS_INFER;
    default:
      return 0;
    }
}

static void
graph_drop (nn_graph *g, int a)
{
  if (g->acts[a].owns)
    pool_put (g, g->acts[a].data);
  g->acts[a].data = NULL;
  g->acts[a].owns = 0;
}

/* Inference: a convolution with the batch norm it folds (o->fold_bn)
 * into its weights and bias and the ReLU it fuses (o->fuse_relu) applied
 * in its epilogue.  -1 when out of memory. */
/* Writes conv op o's weights with batch norm bn folded in to wf
 * (cout x cin*k*k) and its bias after them (cout). */
static void
fold_bn (const nn_model *m, const op *o, const op *bn, float *wf)
{
  const size_t per = (size_t) o->cin * o->k * o->k;
  const float *w = m->params[o->weight].data;
  const float *b = o->bias >= 0 ? m->params[o->bias].data : NULL;
  const float *gamma = m->params[bn->gamma].data, *beta = m->params[bn->beta].data;
  const float *rm = m->params[bn->rmean].data, *rv = m->params[bn->rvar].data;
  float *bf = wf + (size_t) o->cout * per;
  for (int c = 0; c < o->cout; c++)
    {
      const double scale = gamma[c] / sqrt ((double) rv[c] + m->bn_eps);
      for (size_t k = 0; k < per; k++)
        wf[c * per + k] = (float) (w[c * per + k] * scale);
      bf[c] = (float) (beta[c] + ((b ? b[c] : 0.0) - rm[c]) * scale);
    }
}

static int
conv_forward_infer (nn_model *m, const op *o, const float *x, float *y)
{
  nn_graph *g = m->graph;
  const op *bn = o->fold_bn >= 0 ? &g->ops[o->fold_bn] : NULL;
  const float *w = m->params[o->weight].data;
  const float *b = o->bias >= 0 ? m->params[o->bias].data : NULL;
  float *wf = NULL;
  if (bn)
    {
      const size_t per = (size_t) o->cin * o->k * o->k;
      const size_t n = (size_t) o->cout * per + o->cout;
      float **keep = g->frozen ? &g->folded[o - g->ops] : NULL;
      if (keep && *keep)
        w = *keep;
      else
        {
          wf = keep ? malloc (n * sizeof *wf) : pool_get (g, n);
          if (!wf)
            return -1;
          fold_bn (m, o, bn, wf);
          w = wf;
          if (keep)
            {
              *keep = wf;
              wf = NULL;
            }
        }
      b = w + (size_t) o->cout * per;
    }
  float **u = g->frozen && o->cd.algo == CONV2D_WINO ? &g->wino[o - g->ops]
                                                      : NULL;
  if (u && !*u && (*u = malloc (nn_wino_kernel_floats (&o->cd)
                                * sizeof **u)))
    nn_wino_kernels (&o->cd, w, 0, *u);
  if (u && *u)
    nn_wino_forward_kernels (&o->cd, x, *u, b, o->fuse_relu >= 0, y,
                             g->workspace);
  else
    nn_conv2d_forward_fused (&o->cd, x, w, b, o->fuse_relu >= 0, y,
                             g->workspace);
  pool_put (g, wf);
  return 0;
}

/* The ops op i did the work of (its folded BN, its fused ReLU): their
 * outputs are its buffer, which the last of them owns; in inference the
 * ones between hold nothing (nothing reads them). */
static void
graph_alias (nn_graph *g, const op *o, nn_pass pass)
{
  act *out = &g->acts[o->out];
  const int fused[2] = { o->fold_bn, o->fuse_relu };
  for (int k = 0; k < 2; k++)
    if (fused[k] >= 0)
      {
        act *fo = &g->acts[g->ops[fused[k]].out];
        fo->data = out->data;
        fo->owns = out->owns;
        out->owns = 0;
        if (pass == NN_PASS_INFER)
          out->data = NULL;
        out = fo;
      }
}

/* A context op's tensors (grad 0) or their gradients (grad 1). */
static nn_context_params
context_params (const nn_model *m, const op *o, int grad)
{
  const nn_param *w = &m->params[o->weight];
  nn_context_params p = { grad ? w->grad : w->data, NULL, NULL, NULL };
  if (o->hidden)
    {
      const nn_param *w1 = &m->params[o->fc1_w], *b1 = &m->params[o->fc1_b],
                     *w2 = &m->params[o->fc2_w];
      p.w1 = grad ? w1->grad : w1->data;
      p.b1 = grad ? b1->grad : b1->data;
      p.w2 = grad ? w2->grad : w2->data;
    }
  return p;
}

/* Op i's output buffer: its input's, handed over, when the op can work in
 * place and nothing else reads the input; else a pool buffer.  -1 when
 * out of memory. */
static int
graph_out_buffer (nn_graph *g, const op *o, nn_pass pass)
{
  act *in = &g->acts[o->in], *out = &g->acts[o->out];
  if (elementwise_in_place (o, pass) && in->consumers == 1 && in->owns)
    {
      out->data = in->data;
      out->owns = 1;
      in->owns = 0;
      if (pass == NN_PASS_INFER)
        in->data = NULL;
      return 0;
    }
  out->data = pool_get (g, act_size (g, o->out));
  out->owns = 1;
  return out->data ? 0 : -1;
}

/* m->decoded with room for need floats (grown as needed); NULL when out
 * of memory. */
static float *
decoded_buffer (nn_model *m, size_t need)
{
  if (need > m->decoded_size)
    {
      free (m->decoded);
      m->decoded_size = 0;
      if (!(m->decoded = malloc (need * sizeof (float))))
        return NULL;
      m->decoded_size = need;
    }
  return m->decoded;
}

/* Floats of class logits nn_model_forward_ab holds at once (16 MiB). */
#define DECODE_BAND_FLOATS ((size_t) 1 << 22)

/* The class head's last convolution o (3x3, stride 1, padding 1) on x,
 * decoded at g->decode_t into m->decoded as it goes: its output rows in
 * bands of an even number of rows, each computed from its input rows and
 * two more on each side (so a band's Winograd tiles are the whole
 * image's, on the same inputs), its logits decoded and dropped.  -1 when
 * out of memory, -2 when the decoding fails. */
static int
conv_decode_bands (nn_model *m, op *o, const float *x)
{
  nn_graph *g = m->graph;
  const conv2d_desc full = o->cd;
  const int H = full.h, W = full.w, q = full.cout;
  const nn_param *bins = nn_model_find (m, "head.bins");
  const size_t HW2 = (size_t) 4 * H * W, need = (size_t) full.n * 2 * HW2;
  int rows = (int) (DECODE_BAND_FLOATS / ((size_t) q * W)) & ~1;
  rows = rows < 2 ? 2 : rows > H ? H + (H & 1) : rows;
  if (!decoded_buffer (m, need))
    return -1;
  const size_t band_in = (size_t) full.cin * (rows + 4) * W;
  float *xb = pool_get (g, band_in), *yb = pool_get (g, (size_t) q * (rows + 4) * W);
  int rc = xb && yb ? 0 : -1;
  for (int i = 0; rc == 0 && i < full.n; i++)
    for (int y0 = 0; rc == 0 && y0 < H; y0 += rows)
      {
        const int y1 = y0 + rows < H ? y0 + rows : H;
        const int a = y0 - 2 > 0 ? y0 - 2 : 0, b = y1 + 2 < H ? y1 + 2 : H;
        for (int c = 0; c < full.cin; c++)
          memcpy (xb + (size_t) c * (b - a) * W,
                  x + (((size_t) i * full.cin + c) * H + a) * W,
                  (size_t) (b - a) * W * sizeof (float));
        nn_conv2d_desc_init (&o->cd, 1, full.cin, b - a, W, q, 3, 1, 1);
        o->cd.algo = full.algo;
        rc = conv_forward_infer (m, o, xb, yb);
        const size_t plane = (size_t) (b - a) * W;
        float *out = m->decoded + (size_t) i * 2 * HW2 + (size_t) 4 * y0 * W;
        if (rc == 0
            && nn_head_decode_rows (yb + (size_t) (y0 - a) * W, plane,
                                    bins->data, q, y1 - y0, W, g->decode_t,
                                    m->scaling.ab_scale, 2, out, HW2, NULL))
          rc = -2;
      }
  o->cd = full;
  pool_put (g, xb);
  pool_put (g, yb);
  return rc;
}

/* Inference: conv o1 (one plane, stride 1, its ReLU fused) and the 3x3
 * stride-2 conv o2 that alone reads it (plan_pair_bands), band by band:
 * o2's output rows [r0, r1) from o1's rows [2 r0 - 2, 2 r1 + 1), which
 * o1 makes from the same input rows.  The first and last rows of o1's
 * band are zero-padded where the image goes on, so o2's first and last
 * rows of the band are dropped; band starts are even, so o2's rows are
 * the whole image's on the same values.  -1 when out of memory. */
static int
conv_pair_bands (nn_model *m, op *o1, op *o2)
{
  nn_graph *g = m->graph;
  const conv2d_desc d1 = o1->cd, d2 = o2->cd;
  const int H = d1.h, W = d1.w, OH = d2.oh, OW = d2.ow;
  const int rows = pair_band_rows (o2);
  const float *x = g->acts[o1->in].data;
  if (graph_out_buffer (g, o2, NN_PASS_INFER))
    return -1;
  float *y = g->acts[o2->out].data;
  float *mid = pool_get (g, (size_t) d2.cin * (2 * rows + 3) * W);
  float *yb = pool_get (g, (size_t) d2.cout * (rows + 2) * OW);
  int rc = mid && yb ? 0 : -1;
  for (int i = 0; rc == 0 && i < d1.n; i++)
    for (int r0 = 0; rc == 0 && r0 < OH; r0 += rows)
      {
        const int r1 = r0 + rows < OH ? r0 + rows : OH;
        const int e = r0 > 0 ? 2 * r0 - 2 : 0;
        const int f = 2 * r1 + 1 < H ? 2 * r1 + 1 : H;
        o1->cd = band_desc (o1, f - e);
        o2->cd = band_desc (o2, f - e);
        rc = conv_forward_infer (m, o1, x + ((size_t) i * H + e) * W, mid);
        if (rc == 0)
          rc = conv_forward_infer (m, o2, mid, yb);
        for (int c = 0; rc == 0 && c < d2.cout; c++)
          memcpy (y + (((size_t) i * d2.cout + c) * OH + r0) * OW,
                  yb + ((size_t) c * o2->cd.oh + r0 - e / 2) * OW,
                  (size_t) (r1 - r0) * OW * sizeof (float));
      }
  o1->cd = d1;
  o2->cd = d2;
  pool_put (g, mid);
  pool_put (g, yb);
  if (rc == 0)
    graph_alias (g, o2, NN_PASS_INFER);
  return rc;
}

/* Runs one planned op (its buffer is ready).  -1 when out of memory. */
static int
op_forward (nn_model *m, const op *o, nn_pass pass)
{
  nn_graph *g = m->graph;
  act *in = &g->acts[o->in], *out = &g->acts[o->out];
  const int n = g->batch;
  const size_t count = act_size (g, o->out);
  const float *x = in->data ? in->data : out->data;  /* in place: out's */
  switch (o->kind)
    {
    case OP_CONV:
      if (pass == NN_PASS_INFER)
        return conv_forward_infer (m, o, o->src == o->in ? x
                                   : g->acts[o->src].data, out->data);
      nn_conv2d_forward (&o->cd, g->acts[o->src].data,
                         m->params[o->weight].data,
                         o->bias >= 0 ? m->params[o->bias].data : NULL,
                         out->data, g->workspace);
      return 0;
    case OP_BN:
      {
        batchnorm_desc bd = { n, in->c, in->h * in->w, m->bn_eps,
                              m->bn_momentum, m->bn_reduce,
                              m->bn_reduce_data, o->fuse_relu >= 0, NULL };
        float *rm = m->params[o->rmean].data, *rv = m->params[o->rvar].data;
        const float *gamma = m->params[o->gamma].data;
        const float *beta = m->params[o->beta].data;
        if (pass == NN_PASS_TRAIN)
          return nn_batchnorm_forward_train (&bd, x, gamma, beta, rm, rv,
                                             out->data, o->save_mean,
                                             o->save_invstd) ? -1 : 0;
        for (int c = 0; c < in->c; c++)
          {
            o->save_mean[c] = rm[c];
            o->save_invstd[c] = (float) (1.0 / sqrt ((double) rv[c]
                                                     + m->bn_eps));
          }
        nn_batchnorm_forward_infer (&bd, x, gamma, beta, rm, rv, out->data);
        return 0;
      }
    case OP_RELU:
      nn_relu_forward (x, out->data, count);
      return 0;
    case OP_TANH:
      nn_tanh_forward (x, out->data, count);
      return 0;
    case OP_MAXPOOL:
      nn_maxpool_forward (&o->pd, in->data, out->data);
      return 0;
    case OP_UPSAMPLE2:
      nn_upsample2_forward (in->data, out->data, n * in->c, in->h, in->w);
      return 0;
    case OP_ADD:
      nn_add_forward (x, g->acts[o->in2].data, out->data, count);
      return 0;
    case OP_CONTEXT:
      {
        const act *s = &g->acts[o->in2];
        nn_context_desc cd = { n, in->c, in->h * in->w, s->c, s->h * s->w,
                               o->hidden };
        nn_context_params p = context_params (m, o, 0);
        nn_context_forward (&cd, x, s->data, &p, out->data);
        return 0;
      }
    }
  return 0;
}

nn_code
nn_model_forward (nn_model *m, const float *input, int n, int h, int w,
                  nn_pass pass, nn_error *err)
{
  nn_graph *g = m->graph;
  graph_recycle (g);
  if (n <= 0 || h <= 0 || w <= 0 || h % 8 || w % 8)
    return nn_error_set (err, NN_ERR_ARG,
                         "network input must be N x 1 x H x W with H and W "
                         "positive multiples of 8, got %d x 1 x %d x %d",
                         n, h, w);
  if ((double) n * h * w * 64.0 > (double) SIZE_MAX / 8)
    return nn_error_set (err, NN_ERR_ARG, "network input %d x %d x %d is too large", n, h, w);
  if (graph_set_shapes (g, n, h, w, pass != NN_PASS_INFER))
    return nn_error_set (err, NN_ERR_ARG, "input %d x %d is too small for %s",
                         h, w, nn_arch_name (m->arch));
  graph_plan (g, pass);
  g->pass = pass;
  g->workspace = pool_get (g, g->workspace_floats);
  act *a0 = &g->acts[0];
  a0->data = pool_get (g, act_size (g, 0));
  a0->owns = 1;
  if (!g->workspace || !a0->data)
    goto nomem;
  memcpy (a0->data, input, act_size (g, 0) * sizeof (float));

  for (int i = 0; i < g->n_ops; i++)
    {
      op *o = &g->ops[i];
      if (!o->runs)  /* done by another op, which also names its buffer */
        {
          if (o->kind == OP_UPSAMPLE2)
            {
              g->acts[o->out].data = NULL;   /* nothing reads it */
              g->acts[o->out].owns = 0;
            }
          continue;
        }
      const double t0 = g->profiling ? omp_get_wtime () : 0.0;
      if (g->decode_t > 0.0f && pass == NN_PASS_INFER && m->head_bins
          && o->kind == OP_CONV && o->out == g->n_acts - 1)
        {
          /* nn_model_forward_ab: the logits decoded as they are made */
          const int r = conv_decode_bands (m, o, g->acts[o->src].data);
          if (r == -1)
            goto nomem;
          if (r == -2)
            {
              nn_model_release (m);
              return nn_error_set (err, NN_ERR_ARG, "colour classes: "
                                   "temperature %g or head shape refused",
                                   (double) g->decode_t);
            }
          g->decoded_t = g->decode_t;
        }
      else if (o->band_next >= 0)
        {
          if (conv_pair_bands (m, o, &g->ops[o->band_next]))
            goto nomem;
        }
      else if (graph_out_buffer (g, o, pass) || op_forward (m, o, pass))
        goto nomem;
      graph_alias (g, o, pass);
      if (pass == NN_PASS_INFER)
        {
          if (g->acts[o->in].last_use == i)
            graph_drop (g, o->in);
          /* a CONV2D_UP2 convolution's small image, whose last reader
           * was the upsampling it stood in for */
          if (o->src != o->in && g->acts[o->src].last_use < i)
            graph_drop (g, o->src);
          if (o->in2 >= 0 && g->acts[o->in2].last_use == i)
            graph_drop (g, o->in2);
        }
      profile_add (g, i, t0, 0);
    }
  if (pass == NN_PASS_INFER)
    {
      pool_put (g, g->workspace);
      g->workspace = NULL;
      pool_trim (g);
    }
  g->have_forward = 1;
  return NN_OK;

nomem:
  nn_model_release (m);
  return nn_error_set (err, NN_ERR_NOMEM,
                       "out of memory running %s on %d x %d x %d",
                       nn_arch_name (m->arch), n, h, w);
}

const float *
nn_model_output (const nn_model *m, int *n, int *c, int *h, int *w)
{
  const nn_graph *g = m->graph;
  const act *o = &g->acts[g->n_acts - 1];
  if (n)
    *n = g->batch;
  if (c)
    *c = o->c;
  if (h)
    *h = o->h;
  if (w)
    *w = o->w;
  return g->have_forward ? o->data : NULL;
}

nn_code
nn_model_forward_ab (nn_model *m, const float *input, int n, int h, int w,
                     float t, nn_error *err)
{
  if (m->head_bins && !(t >= NN_HEAD_MIN_TEMPERATURE
                        && t <= NN_HEAD_MAX_TEMPERATURE))
    return nn_error_set (err, NN_ERR_ARG, "temperature %g outside %g..%g",
                         (double) t, NN_HEAD_MIN_TEMPERATURE,
                         NN_HEAD_MAX_TEMPERATURE);
  m->graph->decode_t = m->head_bins ? t : 0.0f;
  nn_code rc = nn_model_forward (m, input, n, h, w, NN_PASS_INFER, err);
  m->graph->decode_t = 0.0f;
  return rc;
}

const float *
nn_model_ab (nn_model *m, float t, int *n, int *h, int *w, nn_error *err)
{
  int on, oc, oh, ow;
  const nn_graph *g = m->graph;
  if (g->have_forward && g->decoded_t > 0.0f)
    {
      if (t != g->decoded_t)
        {
          nn_error_set (err, NN_ERR_ARG, "the last pass decoded its colour "
                        "classes at temperature %g, not %g",
                        (double) g->decoded_t, (double) t);
          return NULL;
        }
      const act *o = &g->acts[g->n_acts - 1];
      if (n)
        *n = g->batch;
      if (h)
        *h = o->h * 2;
      if (w)
        *w = o->w * 2;
      return m->decoded;
    }
  const float *out = nn_model_output (m, &on, &oc, &oh, &ow);
  if (!out)
    {
      nn_error_set (err, NN_ERR_ARG, "no forward pass to read");
      return NULL;
    }
  if (m->head_bins)
    {
      const nn_param *bins = nn_model_find (m, "head.bins");
      size_t need = (size_t) on * 2 * oh * ow * 4;
      if (!decoded_buffer (m, need))
        {
          nn_error_set (err, NN_ERR_NOMEM, "out of memory decoding "
                        "%d x %d colour classes", oh, ow);
          return NULL;
        }
      if (nn_head_decode (out, bins->data, m->head_bins, on, oh, ow, t,
                          m->scaling.ab_scale, 2, m->decoded, err))
        return NULL;
      out = m->decoded;
      oh *= 2;
      ow *= 2;
    }
  if (n)
    *n = on;
  if (h)
    *h = oh;
  if (w)
    *w = ow;
  return out;
}

/* ------------------------------------------------------------------ */
/* Backward                                                             */

/* Where to write the gradient for activation a: a fresh buffer that
 * becomes acts[a].grad, or, when acts[a] already has one (a residual),
 * a temporary to be added by grad_commit. */
static float *
grad_target (nn_graph *g, int a)
{
  return pool_get (g, act_size (g, a));
}

static void
grad_commit (nn_graph *g, int a, float *buf)
{
  act *x = &g->acts[a];
  if (!x->grad)
    {
      x->grad = buf;
      return;
    }
  nn_add_forward (x->grad, buf, x->grad, act_size (g, a));
  pool_put (g, buf);
}

nn_code
nn_model_backward (nn_model *m, const float *doutput, float *dinput,
                   nn_error *err)
{
  nn_graph *g = m->graph;
  if (!g->have_forward || g->pass == NN_PASS_INFER)
    return nn_error_set (err, NN_ERR_ARG,
                         "backward needs a forward pass in eval or train mode");
  const int last = g->n_acts - 1;
  const size_t out_size = act_size (g, last);
  g->acts[last].grad = pool_get (g, out_size);
  if (!g->acts[last].grad)
    goto nomem;
  memcpy (g->acts[last].grad, doutput, out_size * sizeof (float));

  for (int i = g->n_ops - 1; i >= 0; i--)
    {
      op *o = &g->ops[i];
      act *in = &g->acts[o->in], *out = &g->acts[o->out];
      float *dy = out->grad;
      const size_t count = act_size (g, o->out);
      /* the act whose gradient this op computes (graph_plan: a CONV2D_UP2
       * convolution skips the upsampling before it) */
      const int gin = o->src;
      const int need_dx = gin != 0 || dinput != NULL;
      float *dx = NULL;
      if (!dy)
        continue;
      const double t0 = g->profiling ? omp_get_wtime () : 0.0;
      /* ops whose input gradient can reuse dy's buffer */
      const int reuse = (o->kind == OP_RELU || o->kind == OP_TANH
                         || o->kind == OP_ADD || o->kind == OP_CONTEXT)
                        && !in->grad;
      if (need_dx)
        {
          dx = reuse ? dy : grad_target (g, gin);
          if (!dx)
            goto nomem;
        }
      switch (o->kind)
        {
        case OP_CONV:
          nn_conv2d_backward (&o->cd, g->acts[gin].data, m->params[o->weight].data, dy, dx,
                           m->params[o->weight].grad,
                           o->bias >= 0 ? m->params[o->bias].grad : NULL,
                           g->workspace);
          break;
        case OP_BN:
          {
            batchnorm_desc bd = { g->batch, in->c, in->h * in->w, m->bn_eps,
                                  m->bn_momentum, m->bn_reduce, m->bn_reduce_data,
                                  0, NULL };
            /* dy is the fused ReLU's: masked by its output */
            if (o->fuse_relu >= 0)
              bd.relu_y = g->acts[g->ops[o->fuse_relu].out].data;
            if (nn_batchnorm_backward (&bd, g->pass == NN_PASS_TRAIN, in->data, dy,
                                    m->params[o->gamma].data, o->save_mean,
                                    o->save_invstd, dx, m->params[o->gamma].grad,
                                    m->params[o->beta].grad))
              goto nomem;
          }
          break;
        case OP_RELU:
          /* fused into the batch norm before it, which masks dy itself */
          if (dx && !(!o->runs && dx == dy))
            nn_relu_backward (out->data, dy, dx, count);
          break;
        case OP_TANH:
          if (dx)
            nn_tanh_backward (out->data, dy, dx, count);
          break;
        case OP_MAXPOOL:
          if (dx)
            nn_maxpool_backward (&o->pd, in->data, dy, dx);
          break;
        case OP_UPSAMPLE2:
          if (dx)
            nn_upsample2_backward (dy, dx, g->batch * in->c, in->h, in->w);
          break;
        case OP_ADD:
          {
            float *d2 = grad_target (g, o->in2);
            if (!d2)
              goto nomem;
            memcpy (d2, dy, count * sizeof (float));
            grad_commit (g, o->in2, d2);
            if (dx && !reuse)
              memcpy (dx, dy, count * sizeof (float));
          }
          break;
        case OP_CONTEXT:
          {
            const act *s = &g->acts[o->in2];
            nn_context_desc cd = { g->batch, in->c, in->h * in->w, s->c,
                                   s->h * s->w, o->hidden };
            nn_context_params p = context_params (m, o, 0),
                              pg = context_params (m, o, 1);
            float *ds = grad_target (g, o->in2);
            if (!ds || nn_context_backward (&cd, s->data, &p, dy, ds, &pg))
              {
                pool_put (g, ds);
                goto nomem;
              }
            grad_commit (g, o->in2, ds);
            if (dx && !reuse)
              memcpy (dx, dy, count * sizeof (float));
          }
          break;
        }
      if (dx != dy)
        pool_put (g, out->grad);
      out->grad = NULL;
      if (dx)
        grad_commit (g, gin, dx);
      profile_add (g, i, t0, 1);
    }
  if (dinput)
    memcpy (dinput, g->acts[0].grad, act_size (g, 0) * sizeof (float));
  pool_put (g, g->acts[0].grad);
  g->acts[0].grad = NULL;
  return NN_OK;

nomem:
  for (int a = 0; a < g->n_acts; a++)
    {
      pool_put (g, g->acts[a].grad);
      g->acts[a].grad = NULL;
    }
  return nn_error_set (err, NN_ERR_NOMEM, "out of memory in backward pass");
}
