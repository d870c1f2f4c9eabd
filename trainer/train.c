/* train.c - colorize-train train: either network on a folder of photos.
 *
 * Data: every image under --data (dataset.h: GEGL + babl "CIE Lab float",
 * near-grayscale and unreadable files left out, cached with the shorter
 * side at 160).  Sample k of the run (k = step * batch + j) is image
 * order[k] (a seeded permutation per epoch) with a random resized crop
 * and flip drawn from (seed, k) alone; worker threads (--workers) make
 * the next batches while the network computes.  So the run is a pure
 * function of the seed and the step: a checkpoint only needs the step.
 *
 * Learning rate (--lr, default 1e-3, Adam as the seed):
 *   --schedule cosine (default): linear warm-up from 0 over --warmup steps
 *     (default 5% of the run, at most 500), then cosine decay to lr/100 at
 *     the last step;
 *   --schedule constant: the same warm-up, then lr.
 * With --minutes M the step count is fixed after the first 10 steps from
 * their measured speed (steps = M * 60 / seconds per step), and recorded
 * in checkpoints, so the schedule can decay and a resumed run ends at the
 * same step; validation time is not counted.
 *
 * Loss: --loss mse (default, the seed's) or --loss weighted: the same
 * MSE with each pixel weighted by the rarity of its true colour
 * (dataset_weights_from_hist: rare, saturated colours count more), against
 * the dull brown average that plain MSE learns.
 *
 * Files beside --out FILE.weights: FILE.csv (one row every --log-every
 * steps and one per validation: step, epoch, train_loss, val_loss,
 * val_psnr, val_gray_psnr, lr, images_per_s, elapsed_s), FILE.png (the
 * losses, when gnuplot is installed), FILE.ckpt (checkpoint, below).
 *
 * Checkpoint (every --checkpoint-minutes, default 5, and on SIGINT or
 * SIGTERM; format and atomic writing in checkpoint.h): the settings and
 * counters as "key=value" text, the model, the Adam state.
 * --resume FILE takes every setting from the checkpoint (an option given
 * with another value is an error) and continues at its step: the result
 * equals the uninterrupted run's (same --threads).
 *
 * Data-parallel (make MPI=1; mpirun -np N): see cmd_train at the end and
 * trainer/mpijob.h.  --batch is the global batch, split evenly; a
 * checkpoint resumes on any number of processes.
 *
 * The code: the settings and the option table (train_options: parsing,
 * usage, the settings text, resume conflicts, through options.h), the
 * learning rate, checkpoints, losses, validation, logs; then one run in
 * three parts, train_setup (settings, outputs, model, data, buffers),
 * train_loop (train_step and what follows each step) and train_finish
 * (figures, plot, weights).  The batches come from feeder.h's threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "adam.h"
#include "adversarial.h"
#include "blas.h"
#include "checkpoint.h"
#include "colorize.h"
#include "commands.h"
#include "dataset.h"
#include "encoder.h"
#include "feeder.h"
#include "metrics.h"
#include "head.h"
#include "image.h"
#include "model.h"
#include "mpijob.h"
#include "options.h"
#include "tmpfile.h"
#include "trainset.h"
#include "weights.h"


#define TEXT_MAX CHECKPOINT_TEXT_MAX

static volatile sig_atomic_t stop_signal;
static volatile int stop_flag; /* read by the loaders */

static void
on_signal (int sig)
{
  stop_signal = sig;
  stop_flag = 1;
}

static double
now_s (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* ---- Settings -------------------------------------------------------------- */

typedef struct settings {
  char arch[16];
  int batch;
  int crop;
  uint64_t seed;
  double lr;
  char schedule[16];
  int64_t warmup;          /* -1: default */
  double weight_decay;
  double encoder_lr;       /* lr multiplier of the encoder (midlevel_resnet.*) */
  char loss[16];
  int64_t total_steps;     /* 0 while --minutes still measures */
  double epochs;           /* requested, 0 if none */
  double minutes;          /* requested, 0 if none */
  int cache_side;
  double gray_threshold;
  int working_size;
  int64_t val_every;       /* 0: every epoch */
  char teacher[1024];      /* distillation: a class model's file, or "" */
  double teacher_share;    /* its share of each pixel's target */
  double rebalance;        /* the uniform share of the rare-colour weights */
  double rebalance_below_l; /* class loss: pixels with L at or below: weight
                               1 (no rebalancing); 0: none */
  double perceptual;       /* the perceptual term's weight; 0: none */
  char perceptual_net[1024]; /* its ImageNet arrays' folder, or "" */
  double adversarial;      /* the adversarial term's weight; 0: none */
  double adversarial_lr;   /* its discriminator's learning rate */
  int64_t adversarial_from; /* the first step the head gets it */
  int adversarial_pool;    /* its input's pooling (nn_adv_set_pool) */
} settings;

/* ---- Command line ------------------------------------------------------------ */

/* What the command line gives: the settings (first, so that the table's
 * settings entries are offsets into a settings struct as well) and the
 * rest, which checkpoints do not keep. */
typedef struct train_args {
  settings s;
  char *data_specs[TRAINSET_MAX_SOURCES];   /* --data A [B ...] */
  int n_data;
  const char *out, *val_dir, *init, *resume, *trace_reads;
  int threads, workers;
  int64_t stop_after, log_every;
  double ckpt_minutes;
} train_args;

_Static_assert (offsetof (train_args, s) == 0,
                "the settings entries of train_table are settings offsets");

static const settings settings_default = {
  .arch = "", .batch = 16, .crop = 128, .seed = 1, .lr = 1e-3,
  .schedule = "cosine", .warmup = -1, .loss = "mse", .encoder_lr = 1.0,
  .teacher = "", .teacher_share = 0.8, .rebalance = 0.5,
  .adversarial_lr = 2e-4, .adversarial_from = 100, .adversarial_pool = 1,
  .cache_side = DATASET_DEFAULT_SHORT_SIDE,
  .gray_threshold = DATASET_DEFAULT_GRAY_THRESHOLD,
  .working_size = COLORIZE_DEFAULT_WORKING_SIZE
};

#define ARG(f) .at = offsetof (train_args, f)
#define SET(f) .at = offsetof (train_args, s.f),                             \
               .size = sizeof (((train_args *) 0)->s.f)

/* The entries with a key are the settings, in the order of their text
 * (options_settings_text): that order and the keys are the checkpoint's
 * format; do not reorder them.  The optional ones came after the first
 * checkpoints. */
static const option train_options[] = {
  { .name = "--arch", .type = OPT_ENUM, SET (arch), .choices = "cnn|resnet18",
    .key = "arch", .meta = "cnn|resnet18",
    .help = "the network (--init and --resume: the file's)" },
  { .name = "--data", .type = OPT_LIST, ARG (data_specs),
    .hi = TRAINSET_MAX_SOURCES, .count = offsetof (train_args, n_data),
    .meta = "DIR|SET.pack[:W]...",
    .help = "training photos: folders or packs, each with a weight or none" },
  { .name = "--out", .type = OPT_STRING, ARG (out), .meta = "FILE.weights",
    .help = "the weights; FILE.csv, FILE.png, FILE.ckpt beside them" },
  { .name = "--val", .type = OPT_STRING, ARG (val_dir), .meta = "DIR|VAL.pack",
    .help = "validation photos, whole (pack --full)" },
  { .name = "--init", .type = OPT_STRING, ARG (init), .meta = "FILE.weights",
    .help = "start from these weights" },
  { .name = "--resume", .type = OPT_STRING, ARG (resume), .meta = "FILE.ckpt",
    .help = "continue a checkpoint, with its settings" },
  { .name = "--batch", .type = OPT_INT, SET (batch), .lo = 1, .hi = 1024,
    .key = "batch", .meta = "N",
    .help = "samples per step, over all processes (default 16)" },
  { .name = "--crop", .type = OPT_INT, SET (crop), .lo = 8, .hi = 1024,
    .multiple = 8, .key = "crop", .meta = "N",
    .help = "side of the training crops (default 128; the networks halve "
            "it three times)" },
  { .name = "--seed", .type = OPT_UINT64, SET (seed), .lo = 0,
    .hi = INT64_MAX, .key = "seed", .meta = "S",
    .help = "the initialization's and the samples' (default 1)" },
  { .name = "--lr", .type = OPT_DOUBLE, SET (lr), .min = 1e-9, .max = 10.0,
    .key = "lr", .meta = "X", .help = "learning rate (default 1e-3)" },
  { .name = "--schedule", .type = OPT_ENUM, SET (schedule),
    .choices = "cosine|constant", .key = "schedule", .meta = "cosine|constant",
    .help = "after the warm-up (default cosine, to lr/100)" },
  { .name = "--warmup", .type = OPT_INT64, SET (warmup), .lo = 0,
    .hi = 1000000000LL, .key = "warmup", .meta = "N",
    .help = "steps of linear warm-up (default 5% of the run, at most 500)" },
  { .name = "--weight-decay", .type = OPT_DOUBLE, SET (weight_decay),
    .min = 0.0, .max = 1.0, .key = "weight_decay", .meta = "X",
    .help = "decoupled weight decay, AdamW (default 0)" },
  { .name = "--loss", .type = OPT_ENUM, SET (loss),
    .choices = "mse|weighted|class", .key = "loss",
    .meta = "mse|weighted|class",
    .help = "weighted: rare colours count more; class: colour classes "
            "(default mse)" },
  { .name = "--steps", .type = OPT_INT64, SET (total_steps), .lo = 1,
    .hi = 1000000000LL, .key = "total_steps", .meta = "N",
    .help = "the run's length in steps" },
  { .name = "--epochs", .type = OPT_DOUBLE, SET (epochs), .min = 1e-3,
    .max = 1e6, .key = "epochs_requested", .meta = "N",
    .help = "the run's length in epochs (default 10)" },
  { .name = "--minutes", .type = OPT_DOUBLE, SET (minutes), .min = 0.01,
    .max = 1e6, .key = "minutes_requested", .meta = "M",
    .help = "the run's length in minutes, fixed after 10 steps" },
  { .name = "--cache-size", .type = OPT_INT, SET (cache_side), .lo = 8,
    .hi = 100000, .key = "cache_side", .meta = "N",
    .help = "shorter side of the cached photos (default 160; packs: theirs)" },
  { .name = "--gray-threshold", .type = OPT_DOUBLE, SET (gray_threshold),
    .min = 0.0, .max = 100.0, .key = "gray_threshold", .meta = "C",
    .help = "photos of less mean chroma are left out (default 3)" },
  { .name = "--working-size", .type = OPT_INT, SET (working_size),
    .lo = COLORIZE_MIN_WORKING_SIZE, .hi = COLORIZE_MAX_WORKING_SIZE,
    .key = "working_size", .meta = "S",
    .help = "validation's working size (default 256)" },
  { .name = "--val-every", .type = OPT_INT64, SET (val_every), .lo = 0,
    .hi = 1000000000LL, .key = "val_every", .meta = "N",
    .help = "validate every N steps (default 0: every epoch)" },
  { .name = "--encoder-lr", .type = OPT_DOUBLE, SET (encoder_lr), .min = 0.0,
    .max = 1.0, .key = "encoder_lr", .optional = 1, .meta = "X",
    .help = "the ResNet encoder's share of the learning rate (default 1)" },
  { .name = "--teacher", .type = OPT_TEXT, SET (teacher), .key = "teacher",
    .optional = 1, .meta = "CLASS.weights",
    .help = "distil from this colour-class model (--loss class)" },
  { .name = "--teacher-share", .type = OPT_DOUBLE, SET (teacher_share),
    .min = 0.0, .max = 1.0, .key = "teacher_share", .optional = 1,
    .meta = "X", .help = "the teacher's share of each target (default 0.8)" },
  { .name = "--rebalance", .type = OPT_DOUBLE, SET (rebalance), .min = 0.0,
    .max = 1.0, .key = "rebalance", .optional = 1, .meta = "X",
    .help = "rare-colour weights 1 / ((1 - X) prior + X uniform), "
            "--loss class and weighted (default 0.5; 1: none)" },
  { .name = "--rebalance-below-l", .type = OPT_DOUBLE,
    SET (rebalance_below_l), .min = 0.0, .max = 100.0,
    .key = "rebalance_below_l", .optional = 1, .meta = "L",
    .help = "--loss class: pixels with L at or below this weigh 1, not "
            "their colour's rarity (default 0: none)" },
  { .name = "--perceptual", .type = OPT_DOUBLE, SET (perceptual), .min = 0.0,
    .max = 100.0, .key = "perceptual", .optional = 1, .meta = "X",
    .help = "--loss class: add X times the perceptual term, the ImageNet "
            "features of the colours against the truth's (default 0)" },
  { .name = "--perceptual-net", .type = OPT_TEXT, SET (perceptual_net),
    .key = "perceptual_net", .optional = 1, .meta = "DIR",
    .help = "the ImageNet ResNet18 arrays for --perceptual (as init "
            "--encoder)" },
  { .name = "--adversarial", .type = OPT_DOUBLE, SET (adversarial),
    .min = 0.0, .max = 100.0, .key = "adversarial", .optional = 1,
    .meta = "X",
    .help = "--loss class: add X times the adversarial term, a patch "
            "discriminator's verdict on the colours (default 0)" },
  { .name = "--adversarial-lr", .type = OPT_DOUBLE, SET (adversarial_lr),
    .min = 1e-7, .max = 1.0, .key = "adversarial_lr", .optional = 1,
    .meta = "LR",
    .help = "the discriminator's learning rate (Adam, beta1 0.5; default "
            "2e-4)" },
  { .name = "--adversarial-from", .type = OPT_INT64, SET (adversarial_from),
    .lo = 0, .hi = 1000000000LL, .key = "adversarial_from", .optional = 1,
    .meta = "STEP",
    .help = "the first step whose head gets the term; the discriminator "
            "learns alone before (default 100)" },
  { .name = "--adversarial-pool", .type = OPT_INT, SET (adversarial_pool),
    .lo = 1, .hi = NN_ADV_MAX_POOL, .key = "adversarial_pool",
    .optional = 1, .meta = "P",
    .help = "the discriminator sees the colours averaged over P x P "
            "pixels: patches P times as large (default 1)" },
  OPTION_THREADS (train_args, threads),
  { .name = "--workers", .type = OPT_INT, ARG (workers), .lo = 1,
    .hi = FEEDER_MAX_THREADS, .meta = "N",
    .help = "threads making the batches (default 2)" },
  { .name = "--checkpoint-minutes", .type = OPT_DOUBLE, ARG (ckpt_minutes),
    .min = 0.0, .max = 1e6, .meta = "M",
    .help = "a checkpoint every M minutes (default 5; 0: on signals only)" },
  { .name = "--log-every", .type = OPT_INT64, ARG (log_every), .lo = 1,
    .hi = 1000000000LL, .meta = "N",
    .help = "a CSV row every N steps (default 10)" },
  /* testing: behave as if interrupted after this many steps */
  { .name = "--stop-after", .type = OPT_INT64, ARG (stop_after), .lo = 1,
    .hi = 1000000000LL },
  /* testing: the pack records each process reads, into this file */
  { .name = "--trace-reads", .type = OPT_STRING, ARG (trace_reads) },
};

#undef ARG
#undef SET

_Static_assert (sizeof train_options / sizeof train_options[0] <= OPTIONS_MAX,
                "options_parse's given[] holds OPTIONS_MAX options");

static const option_table train_table = {
  .command = "train",
  .synopsis = "train --arch cnn|resnet18 --data DIR|SET.pack[:W]... "
              "--out FILE.weights [OPTIONS]",
  .opts = train_options, .n = OPTIONS_COUNT (train_options)
};

/* Fills a from argv: -1 to go on, else the exit status (0: --help). */
static int
train_parse (int argc, char **argv, train_args *a, unsigned char *given)
{
  *a = (train_args) { .s = settings_default, .workers = 2, .log_every = 10,
                      .ckpt_minutes = 5.0 };
  int rc = options_parse (&train_table, argc, argv, a, given);
  if (rc >= 0)
    return rc;
  const char *why = NULL;
  int lengths = options_given (&train_table, given, "--steps")
                + options_given (&train_table, given, "--epochs")
                + options_given (&train_table, given, "--minutes");
  if (!a->n_data || !a->out)
    {
      fprintf (stderr, "colorize-train train: %s is required\n",
               !a->n_data ? "--data DIR" : "--out FILE.weights");
      options_usage (&train_table);
      return 2;
    }
  if (lengths > 1)
    why = "give one of --epochs, --steps and --minutes";
  else if (a->resume && a->init)
    why = "--init and --resume exclude each other (a checkpoint holds its "
          "weights)";
  else if (!a->resume && !a->init
           && !options_given (&train_table, given, "--arch"))
    why = "--arch cnn|resnet18 is required (or --init FILE.weights, or "
          "--resume FILE.ckpt)";
  if (why)
    {
      fprintf (stderr, "colorize-train train: %s\n", why);
      return 2;
    }
  return -1;
}

/* The settings' text in checkpoints and weight metadata (options.h). */
static void
settings_text (const settings *s, char *buf, size_t len)
{
  options_settings_text (&train_table, s, buf, len);
}

/* The default warm-up once the step count is known: 5% of the run, at
 * most 500 steps. */
static void
resolve_warmup (settings *s)
{
  if (s->warmup < 0 && s->total_steps > 0)
    s->warmup = s->total_steps / 20 < 500 ? s->total_steps / 20 : 500;
}

static double
lr_at (const settings *s, int64_t step)
{
  int64_t total = s->total_steps > 0 ? s->total_steps : INT64_MAX;
  int64_t warm = s->warmup;
  if (warm < 0)
    {
      warm = s->total_steps > 0 ? s->total_steps / 20 : 100;
      if (warm > 500)
        warm = 500;
    }
  if (warm > 0 && step < warm)
    return s->lr * (step + 1) / (double) warm;
  if (!strcmp (s->schedule, "constant") || s->total_steps <= 0)
    return s->lr;
  double span = (double) (total - warm);
  double t = span > 1 ? (step - warm) / (span - 1) : 1.0;
  if (t > 1)
    t = 1;
  double lo = s->lr * 0.01;
  return lo + 0.5 * (s->lr - lo) * (1.0 + cos (M_PI * t));
}

/* ---- Checkpoints (the format: checkpoint.h) -------------------------------- */

typedef struct state {
  int64_t step;
  double elapsed;          /* seconds of training before this process */
  int images;
  uint64_t data_hash;
} state;

static int
train_checkpoint_save (const char *path, const nn_model *m,
                       const adam_state *adam, const nn_adv *adv,
                       const settings *s, const state *st, char *msg,
                       size_t len)
{
  char text[TEXT_MAX];
  settings_text (s, text, sizeof text);
  size_t tl = strlen (text);
  snprintf (text + tl, sizeof text - tl,
            "step=%lld\nelapsed=%.6f\nimages=%d\ndata_hash=%llu\n",
            (long long) st->step, st->elapsed, st->images,
            (unsigned long long) st->data_hash);
  checkpoint_extra extra = { NULL, adv ? nn_adv_state_bytes () : 0 };
  if (adv && !(extra.data = malloc (extra.size)))
    {
      snprintf (msg, len, "checkpoint %s: out of memory", path);
      return -1;
    }
  if (adv)
    nn_adv_state_write (adv, extra.data);
  int rc = checkpoint_save (path, m, adam, &extra, text, msg, len);
  free (extra.data);
  return rc;
}

/* The counters of a checkpoint's text (train_checkpoint_save).  Returns 0,
 * or -1 with *bad the first key missing or bad. */
static int
train_state_read (const char *text, state *st, const char **bad)
{
  static const char *keys[4] = { "step", "elapsed", "images", "data_hash" };
  double x[4] = { 0 };
  for (int i = 0; i < 4; i++)
    if (nn_metadata_number (text, keys[i], &x[i]) != 1)
      {
        *bad = keys[i];
        return -1;
      }
  st->step = (int64_t) x[0];
  st->elapsed = x[1];
  st->images = (int) x[2];
  st->data_hash = strtoull (nn_metadata_value (text, "data_hash"), NULL, 10);
  if (st->step < 0)
    {
      *bad = "step";
      return -1;
    }
  return 0;
}

/* ---- Loss over the global batch ---------------------------------------------- */

/* nn/loss.c's MSE when this process holds n of the n_global elements of
 * the batch: returns this share's sum of w (pred - target)^2 (the loss is
 * the sum over the processes divided by n_global) and writes to dpred the
 * gradient of that global mean, with nn_mse_loss's float expression, so one
 * process computes exactly what nn_mse_loss does. */
static double
loss_share (const float *pred, const float *target, const float *weight,
            size_t n, size_t n_global, float *dpred)
{
  double sum = 0.0;
  const float scale = n_global ? 2.0f / (float) n_global : 0.0f;
  for (size_t i = 0; i < n; i++)
    {
      float d = pred[i] - target[i];
      float w = weight ? weight[i] : 1.0f;
      sum += (double) w * d * d;
      dpred[i] = scale * w * d;
    }
  return sum;
}

/* The L of one sample's raw input (crop x crop) averaged over the 2 x 2
 * pixels of logit (y, x), in L units. */
static double
input_l (const nn_model *m, const float *input, int crop, int y, int x)
{
  const float *t = input + (size_t) 2 * y * crop + 2 * x;
  return 0.25 * (t[0] + t[1] + t[crop] + t[crop + 1]) * m->scaling.l_scale
         + m->scaling.l_offset;
}

/* The colour-class loss (nn/head.h) of this process's nb samples: the
 * targets' a,b averaged over 2 x 2 pixels (the logits' resolution), each
 * pixel weighted by the rarity of its colour (dataset_weights: Zhang et
 * al.'s class rebalancing), except pixels whose L (of the raw input,
 * averaged the same way) is at or below below_l: those weigh 1 (the
 * rebalancing feeds purple-red into shade; weights/README.md); with a
 * teacher's logits (same shape), each target is mixed with its softmax
 * (nn_head_loss_teacher).  Returns this share's sum (the loss is the sum
 * over the processes divided by their pixel count) and writes to dlogits
 * the gradient of that global mean.  scratch: 3 planes of nb * (crop/2)^2. */
static double
class_share (nn_model *m, const float *logits, const float *target,
             const dataset_weights *wt, int nb, int crop, int processes,
             const float *teacher, float teacher_share, const float *input,
             double below_l, float *dlogits, float *scratch)
{
  const int h = crop / 2, w = crop / 2;
  const size_t hw = (size_t) h * w, full = (size_t) crop * crop;
  float *ab = scratch, *pw = scratch + (size_t) nb * 2 * hw;
  const float k = 0.25f * m->scaling.ab_scale;
  for (int i = 0; i < nb; i++)
    {
      for (int c = 0; c < 2; c++)
        for (int y = 0; y < h; y++)
          for (int x = 0; x < w; x++)
            {
              const float *t = target + ((size_t) i * 2 + c) * full
                               + (size_t) 2 * y * crop + 2 * x;
              ab[((size_t) i * 2 + c) * hw + (size_t) y * w + x]
                = k * (t[0] + t[1] + t[crop] + t[crop + 1]);
            }
      for (size_t p = 0; p < hw; p++)
        pw[(size_t) i * hw + p]
          = below_l > 0.0
                    && input_l (m, input + (size_t) i * full, crop,
                                (int) (p / w), (int) (p % w)) <= below_l
                ? 1.0f
                : dataset_weight_of (wt, ab[(size_t) i * 2 * hw + p],
                                     ab[((size_t) i * 2 + 1) * hw + p]);
    }
  const nn_param *bins = nn_model_find (m, "head.bins");
  double mean = nn_head_loss_teacher (logits, bins->data, m->head_bins, nb,
                                      h, w, ab, teacher, teacher_share, pw,
                                      dlogits);
  const float share = 1.0f / (float) processes;
  for (size_t i = 0, n = (size_t) nb * m->head_bins * hw; i < n; i++)
    dlogits[i] *= share;
  return mean * (double) (nb * hw);
}

/* The --teacher file: a colour-class model with the student's bins and
 * input scaling, so that its logits are targets for the student's. */
static int
load_teacher (const char *path, const nn_model *m, nn_model **out,
              char *msg, size_t len)
{
  nn_error err;
  if (!m->head_bins)
    {
      snprintf (msg, len, "--teacher needs a colour-class student (--loss "
                "class)");
      return -1;
    }
  if (nn_weights_load (path, out, &err) != NN_OK)
    {
      snprintf (msg, len, "teacher: %s", err.message);
      return -1;
    }
  const nn_model *t = *out;
  const nn_param *tb = nn_model_find ((nn_model *) t, "head.bins");
  const nn_param *mb = nn_model_find ((nn_model *) m, "head.bins");
  if (t->head_bins != m->head_bins || !tb || !mb
      || memcmp (tb->data, mb->data, 2 * (size_t) m->head_bins
                 * sizeof *tb->data))
    snprintf (msg, len, "--teacher: its colour classes (%d bins) are not "
              "the student's (%d bins)", t->head_bins, m->head_bins);
  else if (memcmp (&t->scaling, &m->scaling, sizeof t->scaling))
    snprintf (msg, len, "--teacher: its input scaling differs from the "
              "student's");
  else
    {
      nn_model_freeze (*out); /* it only runs inference */
      return 0;
    }
  nn_model_free (*out);
  *out = NULL;
  return -1;
}

/* ---- Validation ------------------------------------------------------------ */

/* Means over the images, but the auc figures are the set's (metrics.h). */
typedef struct val_result {
  int n;
  double loss, psnr, gray_psnr, colorfulness, truth_colorfulness, local_gain;
  double auc_raw, auc_rebal, gray_auc_raw, gray_auc_rebal;
} val_result;

static int
validate (nn_model *m, const dataset *val, const settings *s, val_result *r,
          char *msg, size_t len)
{
  memset (r, 0, sizeof *r);
  colorize_options opt = COLORIZE_OPTIONS_DEFAULT;
  opt.working_size = s->working_size;
  eval_accuracy *acc = calloc (1, sizeof *acc);
  if (!acc)
    {
      snprintf (msg, len, "validation: out of memory");
      return -1;
    }
  for (int i = 0; i < val->n; i++)
    {
      const ds_image *im = &val->images[i];
      eval_figures f;
      nn_error err;
      if (evaluate_image (m, im->rgb, im->w, im->h, &opt, &f, NULL, NULL, acc,
                          &err))
        {
          snprintf (msg, len, "validation on %s: %s", im->path, err.message);
          free (acc);
          return -1;
        }
      r->loss += f.loss;
      r->psnr += f.psnr;
      r->gray_psnr += f.gray_psnr;
      r->colorfulness += f.colorfulness;
      r->truth_colorfulness += f.truth_colorfulness;
      r->local_gain += f.local_gain;
      r->n++;
    }
  if (r->n)
    {
      r->loss /= r->n;
      r->psnr /= r->n;
      r->gray_psnr /= r->n;
      r->colorfulness /= r->n;
      r->truth_colorfulness /= r->n;
      r->local_gain /= r->n;
    }
  eval_figures set;
  evaluate_accuracy (acc, &set);
  r->auc_raw = set.auc_raw;
  r->auc_rebal = set.auc_rebal;
  r->gray_auc_raw = set.gray_auc_raw;
  r->gray_auc_rebal = set.gray_auc_rebal;
  free (acc);
  return 0;
}

/* ---- Logs and plot ----------------------------------------------------------- */

static char *
path_beside (const char *out, const char *ext)
{
  size_t n = strlen (out);
  const char *suffix = ".weights";
  size_t sl = strlen (suffix);
  size_t base = n > sl && !strcmp (out + n - sl, suffix) ? n - sl : n;
  char *p = malloc (base + strlen (ext) + 1);
  if (p)
    {
      memcpy (p, out, base);
      strcpy (p + base, ext);
    }
  return p;
}

/* Keeps the CSV rows of steps <= step (a resumed run rewrites the rest). */
static FILE *
csv_open (const char *path, int64_t resume_step)
{
  static const char *header = "step,epoch,train_loss,val_loss,val_psnr,"
                              "val_gray_psnr,lr,images_per_s,elapsed_s\n";
  char *kept = NULL;
  size_t kl = 0;
  if (resume_step > 0)
    {
      FILE *old = fopen (path, "r");
      if (old)
        {
          FILE *mem = open_memstream (&kept, &kl);
          char line[1024];
          int first = 1;
          while (mem && fgets (line, sizeof line, old))
            {
              if (!first && strtoll (line, NULL, 10) > resume_step)
                break;
              first = 0;
              fputs (line, mem);
            }
          if (mem)
            fclose (mem);
          fclose (old);
        }
    }
  FILE *f = fopen (path, "w");
  if (!f)
    {
      free (kept);
      return NULL;
    }
  if (kept && kl)
    fputs (kept, f);
  else
    fputs (header, f);
  free (kept);
  fflush (f);
  return f;
}

static int
have_gnuplot (void)
{
  const char *path = getenv ("PATH");
  if (!path)
    return 0;
  char *dup = strdup (path);
  int found = 0;
  for (char *save = NULL, *d = strtok_r (dup, ":", &save); d && !found;
       d = strtok_r (NULL, ":", &save))
    {
      char p[4096];
      snprintf (p, sizeof p, "%s/gnuplot", d);
      found = access (p, X_OK) == 0;
    }
  free (dup);
  return found;
}

static void
plot_losses (const char *csv, const char *png)
{
  if (!have_gnuplot () || strpbrk (csv, "'\"\\") || strpbrk (png, "'\"\\"))
    return;
  FILE *in = fopen (csv, "r");
  int rows = 0;
  char line[1024];
  while (in && fgets (line, sizeof line, in))
    rows++;
  if (in)
    fclose (in);
  if (rows < 3) /* the header and at least two points */
    return;
  char script[] = "/tmp/colorize-plot-XXXXXX";
  int fd = mkstemp (script);
  if (fd < 0)
    return;
  FILE *f = fdopen (fd, "w");
  if (!f)
    {
      close (fd);
      unlink (script);
      return;
    }
  fprintf (f,
           "set terminal png size 900,500\n"
           "set output '%s'\n"
           "set datafile separator ','\n"
           "set datafile missing ''\n"
           "set key autotitle columnhead\n"
           "set xlabel 'step'\nset ylabel 'loss (MSE of raw a,b)'\n"
           "set logscale y\nset grid\n"
           "plot '%s' using 1:3 with lines title 'train', "
           "'' using 1:4 with linespoints title 'validation'\n",
           png, csv);
  fclose (f);
  char cmd[8192];
  snprintf (cmd, sizeof cmd, "gnuplot '%s' >/dev/null 2>&1", script);
  if (system (cmd) != 0)
    fprintf (stderr, "colorize-train train: gnuplot could not plot %s\n", png);
  unlink (script);
}

static void
fmt_duration (double s, char *buf, size_t len)
{
  long t = (long) (s + 0.5);
  if (t >= 3600)
    snprintf (buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
  else
    snprintf (buf, len, "%ldm%02lds", t / 60, t % 60);
}

/* Checks that dir can take new files (the output's folder). */
static int
check_writable (const char *out, char *msg, size_t len)
{
  struct stat st;
  if (stat (out, &st) == 0 && S_ISDIR (st.st_mode))
    {
      snprintf (msg, len, "output %s is a folder, expected a file name", out);
      return -1;
    }
  char *probe = path_beside (out, ".write-test");
  if (!probe)
    return -1;
  int fd = open (probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0 && errno == EEXIST)
    {
      unlink (probe);
      fd = open (probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
    }
  if (fd < 0)
    {
      snprintf (msg, len, "cannot write beside output %s: %s", out,
                strerror (errno));
      free (probe);
      return -1;
    }
  close (fd);
  unlink (probe);
  free (probe);
  return 0;
}

/* ---- The run: setup, loop, finish ------------------------------------------ */

/* One run of train, from the command line to the weight file. */
typedef struct run {
  int argc;
  char **argv;
  train_args a;
  unsigned char given[OPTIONS_MAX];   /* options_parse's */
  mpijob *job;
  settings s;
  state st;                  /* the counters that checkpoints keep */
  char data[8192];           /* the --data values, for messages */
  char *csv_path, *png_path, *ckpt_path;
  char *ckpt_text;
  nn_model *m, *teacher;
  nn_percept *percept;       /* --perceptual's network */
  double percept_last;       /* its value at the last step (this process) */
  nn_adv *adv;               /* --adversarial's discriminator */
  checkpoint_extra adv_state; /* its state from --resume's checkpoint */
  double adv_g, adv_d;       /* its losses at the last step (this process) */
  float *half_l;             /* the input's L at the logits' size */
  adam_state *adam;
  adam_config acfg;
  trainset ts;
  dataset val;
  dataset_weights wt;
  int weighted;              /* --loss weighted */
  int gegl;                  /* image_init was called */
  FILE *csv;
  feeder fd;
  int feeder_started;
  float *dout, *class_scratch;
  size_t nout;               /* this process's outputs */
  size_t ngrad;              /* all of m->grad_block */
  double loss_count;         /* the losses are means over this many values */
  int tty;
  /* the loop's progress */
  int64_t start_step, rate_step;
  double t0, t_ckpt, t_log, t_rate, last_rate;
  double t_val;              /* seconds spent validating in this process */
  double loss_sum;
  int loss_n;
  val_result vr;
  int have_val;
  int interrupted, stop_sig;
  char msg[1024];
} run;

/* Prints "colorize-train train: " and the message; returns rc. */
static int train_error (int rc, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

static int
train_error (int rc, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs ("colorize-train train: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  return rc;
}

/* The setup's steps return -1 to go on, else the exit status. */

/* --resume: the checkpoint's model, Adam state, settings and counters;
 * an option given with another value than the checkpoint's is an error. */
static int
train_resume (run *r)
{
  const char *resume = r->a.resume;
  if (checkpoint_load (resume, &r->ckpt_text, &r->m, &r->adam, &r->adv_state,
                       r->msg, sizeof r->msg))
    return train_error (1, "%s", r->msg);
  settings c = settings_default;
  const char *bad = NULL;
  if (options_settings_read (&train_table, r->ckpt_text, &c, &bad)
      || train_state_read (r->ckpt_text, &r->st, &bad) || c.batch < 1
      || c.crop < 8 || c.crop % 8)
    return train_error (1, "checkpoint %s: missing or bad settings (%s)",
                        resume, bad ? bad : "batch or crop");
  const option *conflict = options_conflict (&train_table, r->given, &r->s,
                                             &c);
  if (conflict)
    return train_error (2, "%s differs from the value in checkpoint %s; "
                        "leave it out to resume with the checkpoint's "
                        "settings", conflict->name, resume);
  r->s = c;
  return -1;
}

/* The settings: the command line's, or the checkpoint's. */
static int
train_settings (run *r)
{
  const train_args *a = &r->a;
  for (int d = 0; d < a->n_data; d++)
    snprintf (r->data + strlen (r->data), sizeof r->data - strlen (r->data),
              "%s%s", d ? " " : "", a->data_specs[d]);
  r->s = a->s;
  r->csv_path = path_beside (a->out, ".csv");
  r->png_path = path_beside (a->out, ".png");
  r->ckpt_path = path_beside (a->out, ".ckpt");
  if (!r->csv_path || !r->png_path || !r->ckpt_path)
    return 1;
  if (a->resume)
    {
      int rc = train_resume (r);
      if (rc >= 0)
        return rc;
    }
  else if (!options_given (&train_table, r->given, "--steps")
           && !options_given (&train_table, r->given, "--epochs")
           && !options_given (&train_table, r->given, "--minutes"))
    r->s.epochs = 10;
  if (r->s.batch % r->job->size)
    {
      if (r->job->rank == 0)
        train_error (0, "the batch (%d) must be a multiple of the number of "
                     "processes (%d): each takes an equal share of it",
                     r->s.batch, r->job->size);
      return 2;
    }
  return -1;
}

/* Rank 0 alone writes the outputs and validates: can it? */
static int
train_check_outputs (run *r)
{
  if (r->job->rank > 0)
    return -1;
  if (check_writable (r->a.out, r->msg, sizeof r->msg))
    return train_error (1, "%s", r->msg);
  tmpfile_remove_stale (r->a.out, "colorize-train train");
  const char *val_dir = r->a.val_dir;
  if (val_dir)
    {
      struct stat vs;
      int e = stat (val_dir, &vs) ? errno : 0;
      if (e || !(S_ISDIR (vs.st_mode) || S_ISREG (vs.st_mode)))
        return train_error (1, "validation folder %s: %s", val_dir,
                            e ? strerror (e) : "not a folder or a pack");
    }
  return -1;
}

/* The input's L at the logits' size (averaged as input_l does) into
 * r->half_l, for the terms that judge the colours with it. */
static void
half_l_fill (run *r, const float *input)
{
  const int nb = r->fd.nb, crop = r->s.crop, h = crop / 2, w = crop / 2;
  for (int i = 0; i < nb; i++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        r->half_l[((size_t) i * h + y) * w + x]
            = (float) input_l (r->m, input + (size_t) i * crop * crop, crop,
                               y, x);
}

/* The perceptual term (nn/perceptual.h) of this process's samples: the
 * logits' colours and class_share's targets (its a,b, left in
 * class_scratch) with r->half_l; its value (the mean over these samples)
 * into r->percept_last, --perceptual / processes times its gradient added
 * to r->dout (the class loss's). */
static nn_code
percept_share (run *r, const float *logits, nn_error *err)
{
  const nn_model *m = r->m;
  const int h = r->s.crop / 2, w = r->s.crop / 2;
  const nn_param *bins = nn_model_find (r->m, "head.bins");
  return nn_percept_loss (r->percept, logits, bins->data, m->head_bins,
                          r->fd.nb, h, w, r->half_l, r->class_scratch,
                          (float) (r->s.perceptual / r->job->size),
                          &r->percept_last, r->dout, err);
}

/* The adversarial term (nn/adversarial.h) of this process's samples, as
 * percept_share's: its losses into r->adv_g, r->adv_d; from step
 * --adversarial-from on --adversarial / processes times g_loss's gradient
 * added to r->dout; the discriminator's gradient of d_loss / processes
 * (summed over the processes before its update). */
static nn_code
adv_share (run *r, const float *logits, int64_t step, nn_error *err)
{
  const int h = r->s.crop / 2, w = r->s.crop / 2;
  const nn_param *bins = nn_model_find (r->m, "head.bins");
  const float k = 1.0f / (float) r->job->size;
  const float g = step >= r->s.adversarial_from
                  ? (float) r->s.adversarial * k : 0.0f;
  return nn_adv_loss (r->adv, logits, bins->data, r->m->head_bins, r->fd.nb,
                      h, w, r->half_l, r->class_scratch, g, k, &r->adv_g,
                      &r->adv_d, r->dout, err);
}

/* --adversarial: the discriminator, new or from --resume's checkpoint. */
static int
load_adv (run *r)
{
  const settings *s = &r->s;
  nn_error err;
  if (!(s->adversarial > 0.0))
    {
      if (r->adv_state.size)
        return train_error (1, "checkpoint %s: a discriminator's state, but "
                            "no --adversarial in its settings", r->a.resume);
      static const char *const needs[] = { "--adversarial-lr",
                                           "--adversarial-from",
                                           "--adversarial-pool" };
      for (size_t i = 0; i < sizeof needs / sizeof *needs; i++)
        if (options_given (&train_table, r->given, needs[i]))
          return train_error (2, "%s without --adversarial X", needs[i]);
      return -1;
    }
  if (!r->m->head_bins)
    return train_error (2, "--adversarial is for --loss class, not --loss "
                        "%s", s->loss);
  const int p = s->adversarial_pool, side = nn_adv_pooled (s->crop / 2, p);
  if (side < NN_ADV_MIN_SIDE)
    return train_error (2, "--adversarial-pool %d with --crop %d: the "
                        "discriminator would see %d x %d; at least 4 x 4 "
                        "needed", p, s->crop, side, side);
  if (nn_adv_new (&r->adv, s->seed ^ 0xad7e55a1ull, &err)
      || nn_adv_set_pool (r->adv, p, &err))
    return train_error (1, "%s", err.message);
  if (r->a.resume && nn_adv_state_read (r->adv, r->adv_state.data,
                                        r->adv_state.size, &err))
    return train_error (1, "checkpoint %s: %s", r->a.resume, err.message);
  return -1;
}

/* --perceptual: its network from --perceptual-net. */
static int
load_percept (run *r)
{
  const settings *s = &r->s;
  nn_error err;
  if (!(s->perceptual > 0.0))
    return s->perceptual_net[0]
           ? train_error (2, "--perceptual-net without --perceptual X")
           : -1;
  if (!r->m->head_bins)
    return train_error (2, "--perceptual is for --loss class, not --loss %s",
                        s->loss);
  if (s->crop < 16)
    return train_error (2, "--perceptual needs --crop 16 or more (the "
                        "logits, crop / 2 a side, go through the ImageNet "
                        "network), not %d", s->crop);
  if (!s->perceptual_net[0])
    return train_error (2, "--perceptual needs --perceptual-net DIR (the "
                        "ImageNet ResNet18 arrays, as init --encoder)");
  if (nn_percept_new (&r->percept, &err))
    return train_error (1, "%s", err.message);
  if (encoder_load_percept (r->percept, s->perceptual_net, &err))
    return train_error (err.code == NN_ERR_NOMEM ? 1 : 2,
                        "--perceptual-net: %s", err.message);
  return -1;
}

/* The model (--init's, a new one, or the checkpoint's), Adam, the teacher,
 * the perceptual term's network. */
static int
train_model (run *r)
{
  settings *s = &r->s;
  nn_error err;
  int fresh = !r->m;
  if (fresh && r->a.init)
    {
      if (nn_weights_load (r->a.init, &r->m, &err) != NN_OK)
        return train_error (1, "%s", err.message);
      if (options_given (&train_table, r->given, "--arch")
          && strcmp (s->arch, nn_arch_name (r->m->arch)))
        return train_error (2, "--arch %s, but %s holds a %s network",
                            s->arch, r->a.init, nn_arch_name (r->m->arch));
      snprintf (s->arch, sizeof s->arch, "%s", nn_arch_name (r->m->arch));
    }
  else if (fresh)
    {
      nn_arch a;
      float centres[2 * NN_HEAD_MAX_BINS];
      nn_arch_parse (s->arch, &a);
      if (nn_model_new_head (a, !strcmp (s->loss, "class")
                                ? nn_head_gamut_bins (centres) : 0,
                             &r->m, &err) != NN_OK)
        return train_error (1, "%s", err.message);
      nn_model_init (r->m, s->seed);
    }
  if (fresh && nn_adam_new (r->m, &r->adam, &err) != NN_OK)
    return train_error (1, "%s", err.message);
  if (!strcmp (s->loss, "class") != !!r->m->head_bins)
    return train_error (2, "%s", r->m->head_bins
                        ? "the model has a colour-class head: train it with "
                          "--loss class"
                        : "--loss class needs a colour-class model (init "
                          "--head class, or no --init)");
  if (s->rebalance_below_l > 0.0 && strcmp (s->loss, "class"))
    return train_error (2, "--rebalance-below-l is for --loss class, not "
                        "--loss %s", s->loss);
  if (s->teacher[0]
      && load_teacher (s->teacher, r->m, &r->teacher, r->msg, sizeof r->msg))
    return train_error (2, "%s", r->msg);
  int rc = load_percept (r);
  return rc >= 0 ? rc : load_adv (r);
}

/* SIGINT and SIGTERM stop the run with a checkpoint; --threads. */
static void
train_signals_threads (run *r)
{
  struct sigaction sa;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  options_set_threads (r->a.threads);
  if (r->job->rank == 0)
    {
      char kernel[256];
      fprintf (stderr, "OpenBLAS kernel %s\n",
               nn_blas_describe (kernel, sizeof kernel));
    }
}

/* --trace-reads (testing): FILE, or FILE.RANK with several processes. */
static int
train_trace_open (run *r)
{
  char path[4096];
  const char *trace = r->a.trace_reads;
  snprintf (path, sizeof path, r->job->size > 1 ? "%s.%d" : "%s",
            trace ? trace : "", r->job->rank);
  if (trace && !(r->ts.trace = fopen (path, "w")))
    return train_error (1, "%s: %s", path, strerror (errno));
  return -1;
}

/* The training and validation photos, the step count, the CSV. */
static int
train_data (run *r)
{
  settings *s = &r->s;
  mpijob *job = r->job;
  image_init ();
  r->gegl = 1;
  dataset_options dopt = { DATASET_LAB_CACHE, s->cache_side,
                           (float) s->gray_threshold, r->a.workers,
                           job->rank ? NULL : stderr, &stop_flag, 0 };
  double t_load = now_s ();
  /* Packs fix the cache size and grey threshold they were made with. */
  int adopt = !r->a.resume
              && !options_given (&train_table, r->given, "--cache-size")
              && !options_given (&train_table, r->given, "--gray-threshold");
  if (trainset_open (&r->ts, r->a.data_specs, r->a.n_data, &dopt, adopt,
                     r->msg, sizeof r->msg))
    return train_error (stop_signal ? 128 + stop_signal : 1, "%s", r->msg);
  if (dopt.short_side != s->cache_side
      || dopt.gray_threshold != (float) s->gray_threshold)
    {
      s->cache_side = dopt.short_side;
      s->gray_threshold = dopt.gray_threshold;
    }
  int rc = train_trace_open (r);
  if (rc >= 0)
    return rc;
  if (r->a.resume && (r->st.images != r->ts.n
                      || r->st.data_hash != r->ts.hash))
    return train_error (1, "checkpoint %s was made on %d images, %s holds "
                        "%d %s", r->a.resume, r->st.images, r->data,
                        r->ts.n, r->st.images == r->ts.n
                                 ? "different ones" : "");
  r->st.images = r->ts.n;
  r->st.data_hash = r->ts.hash;
  if (r->a.val_dir && job->rank == 0)
    {
      dataset_options vopt = { DATASET_RGB_FULL, 0, 0.0f, r->a.workers,
                               stderr, &stop_flag, 0 };
      if (trainset_load_full (&r->val, r->a.val_dir, &vopt, r->msg,
                              sizeof r->msg))
        return train_error (stop_signal ? 128 + stop_signal : 1, "%s",
                            r->msg);
    }
  if (job->rank == 0)
    fprintf (stderr, "loaded %d training and %d validation images in %.1f s\n",
             r->ts.n, r->val.n, now_s () - t_load);
  if (!s->total_steps && s->epochs > 0)
    {
      s->total_steps = (int64_t) ceil (s->epochs * r->ts.n / s->batch);
      if (s->total_steps < 1)
        s->total_steps = 1;
    }
  resolve_warmup (s);
  r->weighted = !strcmp (s->loss, "weighted");
  if (r->weighted || r->m->head_bins)
    trainset_weights_build (&r->ts, s->rebalance, &r->wt);
  r->csv = job->rank == 0 ? csv_open (r->csv_path, r->st.step) : NULL;
  if (job->rank == 0 && !r->csv)
    return train_error (1, "cannot write %s: %s", r->csv_path,
                        strerror (errno));
  return -1;
}

/* The feeder, the loss buffers; then every process is ready, on the same
 * data, or all stop here. */
static int
train_buffers (run *r)
{
  const settings *s = &r->s;
  mpijob *job = r->job;
  feeder *fd = &r->fd;
  fd->ts = &r->ts;
  fd->seed = s->seed;
  fd->batch = s->batch;
  fd->crop = s->crop;
  fd->sc = &r->m->scaling;
  fd->wt = r->weighted ? &r->wt : NULL;
  fd->nb = s->batch / job->size;
  fd->j0 = job->rank * fd->nb;
  int64_t end = s->total_steps ? s->total_steps : INT64_MAX;
  r->feeder_started = 1;    /* feeder_stop frees what a failed start left */
  if (feeder_start (fd, r->a.workers, r->st.step, end))
    return train_error (1, "cannot start the data workers (out of memory)");
  size_t plane = (size_t) s->crop * s->crop;
  int bins = r->m->head_bins;
  r->nout = bins ? plane / 4 * bins * fd->nb : plane * 2 * fd->nb;
  r->loss_count = (double) (bins ? plane / 4 : plane * 2) * fd->nb
                  * job->size;
  r->dout = malloc (r->nout * sizeof *r->dout);
  if (bins)
    r->class_scratch = malloc (plane / 4 * 3 * fd->nb
                               * sizeof *r->class_scratch);
  if (r->percept || r->adv)
    r->half_l = malloc (plane / 4 * fd->nb * sizeof *r->half_l);
  if (!r->dout || (bins && !r->class_scratch)
      || ((r->percept || r->adv) && !r->half_l))
    return train_error (1, "out of memory");
  r->ngrad = nn_model_param_count (r->m);
  if (job->size > 1)
    {
      r->m->bn_reduce = mpijob_bn_reduce;
      r->m->bn_reduce_data = job;
    }
  int agree = mpijob_agree (job, 0, r->ts.hash);
  if (agree)
    {
      if (job->rank == 0)
        fprintf (stderr, agree == 1
                 ? "colorize-train train: another process failed (its "
                   "message is above); stopping\n"
                 : "colorize-train train: the processes found different "
                   "images under %s; each must read the same data\n",
                 r->data);
      return 1;
    }
  return -1;
}

static int
train_setup (run *r)
{
  int rc = train_settings (r);
  if (rc < 0)
    rc = train_check_outputs (r);
  if (rc < 0)
    rc = train_model (r);
  if (rc < 0)
    {
      train_signals_threads (r);
      rc = train_data (r);
    }
  if (rc < 0)
    rc = train_buffers (r);
  return rc;
}

/* The clocks, Adam's configuration, what the run is. */
static void
train_begin (run *r)
{
  const settings *s = &r->s;
  const nn_model *m = r->m;
  r->tty = r->job->rank == 0 && isatty (STDERR_FILENO);
  r->t0 = r->t_ckpt = r->t_log = r->t_rate = now_s ();
  r->rate_step = r->start_step = r->st.step;
  r->acfg = ADAM_CONFIG_DEFAULT;
  r->acfg.weight_decay = (float) s->weight_decay;
  r->acfg.decoupled = s->weight_decay > 0;
  for (int i = 0, j = 0; i < m->n_params; i++)  /* fine-tuning the encoder */
    if (m->params[i].trainable)
      r->adam->lr_scale[j++] = strncmp (m->params[i].name, "midlevel_resnet.",
                                        16) ? 1.0f : (float) s->encoder_lr;
  if (r->job->rank > 0)
    return;
  fprintf (stderr, "training %s: %d images, batch %d, crop %d, lr %g "
           "(%s), loss %s, %s%lld steps, from step %lld\n", s->arch, r->ts.n,
           s->batch, s->crop, s->lr, s->schedule, s->loss,
           s->total_steps ? "" : "(measuring) ",
           (long long) s->total_steps, (long long) r->st.step);
  if (r->teacher)
    fprintf (stderr, "distilling from %s (a %s model): its share of "
             "each pixel's target %g\n", s->teacher,
             nn_arch_name (r->teacher->arch), s->teacher_share);
  if (r->percept)
    fprintf (stderr, "perceptual term x %g, ImageNet features from %s\n",
             s->perceptual, s->perceptual_net);
  if (r->adv)
    fprintf (stderr, "adversarial term x %g from step %lld, discriminator "
             "lr %g, pooling %d\n", s->adversarial,
             (long long) s->adversarial_from, s->adversarial_lr,
             s->adversarial_pool);
  if (r->job->size > 1)
    fprintf (stderr, "%d processes, %d samples each per step; "
             "synchronized batch norm\n", r->job->size, r->fd.nb);
}

/* One step: the batch, forward (the teacher's too), the loss of the global
 * batch and the signals any process got (all stop at the same step) into
 * ctl, backward, the gradients summed over the processes, Adam.  Returns
 * 0, or -1 after a message. */
static int
train_step (run *r, int64_t step, double lr, double ctl[3], double *loss)
{
  const settings *s = &r->s;
  mpijob *job = r->job;
  nn_error err;
  feeder_slot *sl = feeder_get (&r->fd, step);
  if (sl->failed)
    {
      fprintf (stderr, "%scolorize-train train: step %lld: %s\n",
               r->tty ? "\n" : "", (long long) step, sl->msg);
      return -1;
    }
  r->acfg.lr = (float) lr;
  nn_model_zero_grad (r->m);
  const float *tlogits = NULL;
  if (r->teacher)
    {
      if (nn_model_forward (r->teacher, sl->input, r->fd.nb, s->crop,
                            s->crop, NN_PASS_INFER, &err) != NN_OK)
        return train_error (-1, "step %lld: teacher: %s", (long long) step,
                            err.message);
      tlogits = nn_model_output (r->teacher, NULL, NULL, NULL, NULL);
    }
  if (nn_model_forward (r->m, sl->input, r->fd.nb, s->crop, s->crop,
                        NN_PASS_TRAIN, &err) != NN_OK)
    return train_error (-1, "step %lld: %s", (long long) step, err.message);
  const float *pred = nn_model_output (r->m, NULL, NULL, NULL, NULL);
  ctl[0] = r->m->head_bins
           ? class_share (r->m, pred, sl->target, &r->wt, r->fd.nb, s->crop,
                          job->size, tlogits, (float) s->teacher_share,
                          sl->input, s->rebalance_below_l,
                          r->dout, r->class_scratch)
           : loss_share (pred, sl->target, sl->weight, r->nout,
                         r->nout * job->size, r->dout);
  if (r->half_l)
    half_l_fill (r, sl->input);
  if (r->percept)
    {
      if (percept_share (r, pred, &err) != NN_OK)
        return train_error (-1, "step %lld: %s", (long long) step,
                            err.message);
      ctl[0] += s->perceptual * r->percept_last
                * (r->loss_count / job->size);
    }
  if (r->adv)
    {
      if (adv_share (r, pred, step, &err) != NN_OK)
        return train_error (-1, "step %lld: %s", (long long) step,
                            err.message);
      if (step >= s->adversarial_from)
        ctl[0] += s->adversarial * r->adv_g * (r->loss_count / job->size);
    }
  ctl[1] = stop_signal == SIGINT;
  ctl[2] = stop_signal == SIGTERM;
  mpijob_sum_doubles (job, ctl, 3);
  *loss = ctl[0] / r->loss_count;
  feeder_done (&r->fd, step);
  if (!isfinite (*loss))
    {
      if (job->rank == 0)
        train_error (0, "the loss became %g at step %lld; try a lower --lr",
                     *loss, (long long) step);
      job->in_loop = 0; /* every process stops here */
      return -1;
    }
  if (nn_model_backward (r->m, r->dout, NULL, &err) != NN_OK)
    return train_error (-1, "step %lld: %s", (long long) step, err.message);
  mpijob_sum_floats (job, r->m->grad_block, r->ngrad);
  nn_adam_step (r->adam, r->m, &r->acfg);
  if (r->adv)
    {
      mpijob_sum_floats (job, nn_adv_grads (r->adv), nn_adv_size ());
      nn_adv_update (r->adv, (float) s->adversarial_lr);
    }
  return 0;
}

/* --minutes: fix the step count once 10 steps measured the speed. */
static void
train_fix_steps (run *r, double t)
{
  settings *s = &r->s;
  if (s->total_steps || !(s->minutes > 0) || r->st.step - r->start_step != 10)
    return;
  double per = (t - r->t0) / 10.0;
  s->total_steps = r->st.step
                   + (int64_t) ((s->minutes * 60.0 - (t - r->t0)) / per);
  if (s->total_steps < r->st.step)
    s->total_steps = r->st.step;
  s->total_steps = mpijob_bcast_i64 (r->job, s->total_steps); /* rank 0's */
  resolve_warmup (s);
  feeder_set_end (&r->fd, s->total_steps);
  if (r->job->rank == 0)
    fprintf (stderr, "%.2f s per step: %lld steps in %g minutes\n", per,
             (long long) s->total_steps, s->minutes);
}

/* Validation after a step: its line and CSV row. */
static int
train_validate (run *r, double epoch, double lr)
{
  double tv = now_s ();
  int vrc = validate (r->m, &r->val, &r->s, &r->vr, r->msg, sizeof r->msg);
  r->t_val += now_s () - tv;
  if (vrc)
    return train_error (-1, "%s", r->msg);
  const val_result *vr = &r->vr;
  r->have_val = 1;
  double el = r->st.elapsed + (now_s () - r->t0);
  fprintf (stderr, "%sstep %lld epoch %.2f: val loss %.5f psnr %.2f "
           "(gray %.2f) colorfulness %.1f (truth %.1f) local_gain "
           "%.3f auc_rebal %.2f (gray %.2f)\n",
           r->tty ? "\r\033[K" : "", (long long) r->st.step, epoch,
           vr->loss, vr->psnr, vr->gray_psnr, vr->colorfulness,
           vr->truth_colorfulness, vr->local_gain, vr->auc_rebal,
           vr->gray_auc_rebal);
  fprintf (r->csv, "%lld,%.4f,%.6f,%.6f,%.4f,%.4f,%.6g,%.2f,%.1f\n",
           (long long) r->st.step, epoch,
           r->loss_n ? r->loss_sum / r->loss_n : NAN, vr->loss, vr->psnr,
           vr->gray_psnr, lr, r->last_rate, el);
  fflush (r->csv);
  r->loss_sum = 0;
  r->loss_n = 0;
  r->t_rate = now_s (); /* validation time is not training speed */
  r->rate_step = r->st.step;
  return 0;
}

/* After step `step`: the speed; validation when due (each epoch or
 * --val-every, and at the end), else a CSV row every --log-every steps.
 * Returns 0, or -1 when validation failed. */
static int
train_log (run *r, int64_t step, double epoch, double lr, double t, int last)
{
  const settings *s = &r->s;
  int64_t done = r->st.step;
  int64_t e_before = step * s->batch / r->ts.n;
  int64_t e_after = done * s->batch / r->ts.n;
  int do_val = r->val.n && (s->val_every ? done % s->val_every == 0
                                         : e_after > e_before);
  if (r->val.n && last)
    do_val = 1;
  if (t - r->t_rate >= 1.0 || done - r->rate_step >= 5)
    {
      r->last_rate = (done - r->rate_step) * s->batch / (t - r->t_rate);
      r->rate_step = done;
      r->t_rate = t;
    }
  if (do_val)
    return train_validate (r, epoch, lr);
  if (r->csv && (done % r->a.log_every == 0 || last))
    {
      double el = r->st.elapsed + (t - r->t0);
      fprintf (r->csv, "%lld,%.4f,%.6f,,,,%.6g,%.2f,%.1f\n",
               (long long) done, epoch, r->loss_sum / r->loss_n, lr,
               r->last_rate, el);
      fflush (r->csv);
      r->loss_sum = 0;
      r->loss_n = 0;
    }
  return 0;
}

/* The progress line: rewritten on a terminal, else every 30 s. */
static void
train_progress (run *r, double epoch, double loss, double lr, double t,
                int last)
{
  const settings *s = &r->s;
  int64_t done = r->st.step;
  double per_step = (t - r->t0) / (done - r->start_step);
  char eta[32];
  fmt_duration (s->total_steps ? (s->total_steps - done) * per_step : 0,
                eta, sizeof eta);
  if (r->job->rank > 0)
    return;
  if (r->tty)
    {
      fprintf (stderr, "\r\033[Kepoch %.2f step %lld/%lld loss %.5f "
               "%.1f images/s ETA %s", epoch, (long long) done,
               (long long) s->total_steps, loss, r->last_rate, eta);
      if (last)
        fputc ('\n', stderr);
    }
  else if (t - r->t_log >= 30.0 || last || done == r->start_step + 1)
    {
      char total[32] = "?";
      if (s->total_steps)
        snprintf (total, sizeof total, "%lld", (long long) s->total_steps);
      char extra[96] = "";
      if (r->percept)
        snprintf (extra, sizeof extra, " (perceptual %.5f)",
                  r->percept_last);
      if (r->adv)
        snprintf (extra + strlen (extra), sizeof extra - strlen (extra),
                  " (adversarial g %.4f d %.4f)", r->adv_g, r->adv_d);
      fprintf (stderr, "epoch %.2f step %lld/%s loss %.5f%s lr %.3g "
               "%.1f images/s ETA %s\n", epoch, (long long) done,
               total, loss, extra, lr, r->last_rate,
               s->total_steps ? eta : "?");
      r->t_log = t;
    }
}

/* A checkpoint every --checkpoint-minutes, and when stopping (a signal,
 * --stop-after).  Returns 1 when the run stops here. */
static int
train_checkpoint_or_stop (run *r, double epoch, double lr, double t,
                          int last)
{
  int stopping = r->stop_sig || (r->a.stop_after
                                 && r->st.step >= r->a.stop_after && !last);
  if (stopping && r->job->rank > 0)
    {
      r->interrupted = 1;
      return 1;
    }
  if (!stopping && !(r->a.ckpt_minutes > 0
                     && t - r->t_ckpt >= r->a.ckpt_minutes * 60.0))
    return 0;
  /* Rank 0's state is every process's state. */
  state cs = r->st;
  cs.elapsed = r->st.elapsed + (t - r->t0);
  if (r->job->rank > 0)
    ;
  else if (train_checkpoint_save (r->ckpt_path, r->m, r->adam, r->adv,
                                  &r->s, &cs, r->msg, sizeof r->msg))
    fprintf (stderr, "%scolorize-train train: checkpoint: %s\n",
             r->tty ? "\n" : "", r->msg);
  else if (!stopping)
    fprintf (stderr, "%scheckpoint at step %lld: %s\n",
             r->tty ? "\r\033[K" : "", (long long) r->st.step, r->ckpt_path);
  r->t_ckpt = t;
  if (!stopping)
    return 0;
  if (r->loss_n)
    fprintf (r->csv, "%lld,%.4f,%.6f,,,,%.6g,%.2f,%.1f\n",
             (long long) r->st.step, epoch, r->loss_sum / r->loss_n, lr,
             r->last_rate, cs.elapsed);
  fprintf (stderr, "%sinterrupted at step %lld; checkpoint %s; continue "
           "with --resume %s\n", r->tty ? "\n" : "", (long long) r->st.step,
           r->ckpt_path, r->ckpt_path);
  r->interrupted = 1;
  return 1;
}

/* The steps to the last or to a stop.  Returns -1 to go on, or 1. */
static int
train_loop (run *r)
{
  train_begin (r);
  while (r->s.total_steps == 0 || r->st.step < r->s.total_steps)
    {
      int64_t step = r->st.step;
      double lr = lr_at (&r->s, step), ctl[3], loss = 0.0;
      if (train_step (r, step, lr, ctl, &loss))
        return 1;
      r->st.step = step + 1;
      r->loss_sum += loss;
      r->loss_n++;
      double t = now_s ();
      train_fix_steps (r, t);
      double epoch = (double) r->st.step * r->s.batch / r->ts.n;
      int last = r->s.total_steps && r->st.step >= r->s.total_steps;
      if (train_log (r, step, epoch, lr, t, last))
        return 1;
      train_progress (r, epoch, loss, lr, t, last);
      r->stop_sig = ctl[2] > 0 ? SIGTERM : ctl[1] > 0 ? SIGINT : 0;
      if (train_checkpoint_or_stop (r, epoch, lr, t, last))
        break;
    }
  return -1;
}

/* Rank 0's figures of the run: speed, pack reads, MPI traffic. */
static void
train_report (const run *r)
{
  const mpijob *job = r->job;
  double n = (double) (r->st.step - r->start_step);
  double train_s = now_s () - r->t0 - r->t_val;
  fprintf (stderr, "%lld steps in %.1f s (validation %.1f s more): %.2f "
           "images/s, %.3f s per step\n", (long long) n, train_s, r->t_val,
           n * r->s.batch / train_s, train_s / n);
  long long reads = atomic_load (&r->ts.reads);
  if (reads)
    fprintf (stderr, "read %lld pack records (%.1f MB, %.1f KB per step) "
             "in this process\n", reads, atomic_load (&r->ts.read_bytes)
             / 1e6, atomic_load (&r->ts.read_bytes) / 1e3 / n);
  if (job->size > 1)
    fprintf (stderr, "MPI, %d processes, per step: gradients %.0f bytes "
             "in %.2f ms, batch norm %.0f bytes in %ld calls, %.2f ms, "
             "control %.2f ms; MPI_Allreduce %.2f ms in all (rank 0, "
             "waits for the slowest process included)\n", job->size,
             job->grad_bytes / n, 1e3 * job->grad_s / n,
             job->bn_bytes / n, (long) (job->bn_calls / n),
             1e3 * job->bn_s / n, 1e3 * job->ctl_s / n,
             1e3 * (job->grad_s + job->bn_s + job->ctl_s) / n);
}

/* The output with its metadata. */
static int
train_write_weights (run *r)
{
  const settings *s = &r->s;
  const trainset *ts = &r->ts;
  const val_result *vr = &r->vr;
  nn_error err;
  double wall = r->st.elapsed + (now_s () - r->t0);
  char *meta = NULL;
  size_t ml = 0;
  FILE *mf = open_memstream (&meta, &ml);
  if (!mf)
    return 1;
  fprintf (mf, "created=colorize-train train\ncommand=colorize-train train");
  for (int i = 0; i < r->argc; i++)
    fprintf (mf, " %s", r->argv[i]);
  fprintf (mf, "\ndata=%s\nimages=%d\nleft_out_unreadable=%d\n"
           "left_out_grayscale=%d\nprocesses=%d\n", r->data, ts->n,
           ts->unreadable, ts->gray, r->job->size);
  char text[TEXT_MAX];
  settings_text (s, text, sizeof text);
  fputs (text, mf);
  fprintf (mf, "steps=%lld\nepochs=%.3f\nwall_time_s=%.1f\n",
           (long long) r->st.step, (double) r->st.step * s->batch / ts->n,
           wall);
  if (r->have_val)
    fprintf (mf, "val_data=%s\nval_images=%d\nval_loss=%.6f\nval_psnr=%.4f\n"
             "val_gray_psnr=%.4f\nval_colorfulness=%.3f\n"
             "val_truth_colorfulness=%.3f\nval_local_gain=%.4f\n"
             "val_auc_raw=%.4f\nval_auc_rebal=%.4f\n"
             "val_gray_auc_rebal=%.4f\n",
             r->a.val_dir, vr->n, vr->loss, vr->psnr, vr->gray_psnr,
             vr->colorfulness, vr->truth_colorfulness, vr->local_gain,
             vr->auc_raw, vr->auc_rebal, vr->gray_auc_rebal);
  /* The --init file's decoding calibration (metadata temperature,
   * chroma_scale, views and the chroma knee, which validation above used)
   * carries over. */
  static const char *const carried[] = { "temperature", "chroma_scale",
                                         "views", "chroma_knee",
                                         "chroma_knee_slope" };
  for (size_t k = 0; k < sizeof carried / sizeof *carried; k++)
    {
      double cal;
      if (nn_metadata_number (r->m->metadata, carried[k], &cal) > 0)
        fprintf (mf, "%s=%g\n", carried[k], cal);
    }
  fclose (mf);
  for (char *p = meta; *p; p++) /* keep one line per key */
    if (*p == '\r')
      *p = ' ';
  int rc = nn_model_set_metadata (r->m, meta, &err) != NN_OK
           || nn_weights_save (r->m, r->a.out, &err) != NN_OK;
  free (meta);
  if (rc)
    return train_error (1, "%s", err.message);
  fprintf (stderr, "wrote %s (%lld steps, %.2f epochs, %.0f s)\n", r->a.out,
           (long long) r->st.step, (double) r->st.step * s->batch / ts->n,
           wall);
  return 0;
}

/* After the loop: the figures, the plot, then the weights (rank 0, a run
 * that was not stopped). */
static int
train_finish (run *r)
{
  r->job->in_loop = 0; /* every process left the loop at the same step */
  feeder_stop (&r->fd);
  r->feeder_started = 0;
  if (r->st.step > r->start_step && r->job->rank == 0)
    train_report (r);
  if (r->csv)
    fclose (r->csv);
  r->csv = NULL;
  if (r->job->rank == 0)
    plot_losses (r->csv_path, r->png_path);
  if (r->interrupted)
    return r->stop_sig ? 128 + r->stop_sig : 128 + SIGINT;
  if (r->job->rank > 0)
    return 0;
  return train_write_weights (r);
}

static void
train_free (run *r)
{
  if (r->feeder_started)
    feeder_stop (&r->fd);
  if (r->ts.trace)
    fclose (r->ts.trace);
  trainset_close (&r->ts);
  dataset_free (&r->val);
  if (r->gegl)
    image_exit ();
  if (r->csv)
    fclose (r->csv);
  free (r->dout);
  free (r->class_scratch);
  free (r->ckpt_text);
  free (r->csv_path);
  free (r->png_path);
  free (r->ckpt_path);
  nn_adam_free (r->adam);
  nn_model_free (r->m);
  nn_model_free (r->teacher);
  nn_percept_free (r->percept);
  nn_adv_free (r->adv);
  free (r->adv_state.data);
  free (r->half_l);
  free (r);
}

static int
train_run (int argc, char **argv, mpijob *job)
{
  run *r = calloc (1, sizeof *r);
  if (!r)
    return train_error (1, "out of memory");
  r->argc = argc;
  r->argv = argv;
  r->job = job;
  int rc = train_parse (argc, argv, &r->a, r->given);
  if (rc < 0)
    {
      mpijob_quiet_end (job);
      rc = train_setup (r);
    }
  if (rc < 0)
    rc = train_loop (r);
  if (rc < 0)
    rc = train_finish (r);
  train_free (r);
  return rc;
}

/* The data-parallel wrapper: with N processes (make MPI=1, mpirun -np N)
 * each takes samples rank * B/N .. (rank + 1) * B/N - 1 of every global
 * batch of B (--batch), batch norm uses the statistics of the whole batch
 * (nn_model.bn_reduce), the gradients are summed over the processes before
 * an identical Adam step everywhere, so every process holds the same model
 * and rank 0's checkpoint is the job's state (it resumes on any number of
 * processes).  Rank 0 alone prints progress, validates and writes the
 * CSV, the plot, checkpoints and the weights. */
int
cmd_train (int argc, char **argv)
{
  mpijob job;
  char msg[256];
  if (mpijob_init (&job, msg, sizeof msg))
    {
      fprintf (stderr, "colorize-train train: %s\n", msg);
      return mpijob_finish (&job, 1);
    }
  mpijob_quiet_begin (&job);
  int rc = train_run (argc, argv, &job);
  mpijob_quiet_end (&job);
  if (!job.agreed)            /* failed before the start: tell the others */
    mpijob_agree (&job, 1, 0);
  return mpijob_finish (&job, rc);
}
