/* bench.c - colorize-train bench: forward and training-step timings.
 * Each figure is the median of at least 5 timed runs after one warm-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <cblas.h>
#include "adam.h"
#include "blas.h"
#include "commands.h"
#include "loss.h"
#include "model.h"
#include "options.h"
#include "rng.h"
#include "weights.h"


#define BENCH_RUNS 5

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, int n)
{
  qsort (v, (size_t) n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* OpenBLAS sgemm rate on a square product of side n: median of runs. */
static double
bench_sgemm_gflops (int n, int runs)
{
  float *a = malloc ((size_t) n * n * sizeof (float));
  float *b = malloc ((size_t) n * n * sizeof (float));
  float *c = malloc ((size_t) n * n * sizeof (float));
  double times[64], rate = 0.0;
  if (a && b && c)
    {
      for (size_t i = 0; i < (size_t) n * n; i++)
        {
          a[i] = (float) (i % 17) * 0.01f;
          b[i] = (float) (i % 13) * 0.02f;
        }
      for (int r = 0; r <= runs; r++)
        {
          double t0 = now_ms ();
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f,
                       a, n, b, n, 0.0f, c, n);
          if (r > 0)
            times[r - 1] = now_ms () - t0;
        }
      rate = 2.0 * n * n * (double) n / (median (times, runs) * 1e6);
    }
  free (a);
  free (b);
  free (c);
  return rate;
}

static int
cmp_profile (const void *a, const void *b)
{
  const nn_op_profile *x = *(const nn_op_profile *const *) a;
  const nn_op_profile *y = *(const nn_op_profile *const *) b;
  double tx = x->forward_ms + x->backward_ms, ty = y->forward_ms + y->backward_ms;
  return (tx < ty) - (tx > ty);
}

/* The slowest operations of the timed runs, per run, with the effective
 * GFLOP/s of convolutions against the sgemm rate; then the totals by kind. */
static void
bench_print_profile (nn_model *m, int runs, int train,
                     double sgemm, double step_ms, double other_ms)
{
  int count;
  const nn_op_profile *p = nn_model_profile_get (m, &count);
  const nn_op_profile *sorted[128];
  double total = 0.0;
  for (int i = 0; i < count && i < 128; i++)
    {
      sorted[i] = &p[i];
      total += p[i].forward_ms + p[i].backward_ms;
    }
  if (count > 128)
    count = 128;
  qsort (sorted, (size_t) count, sizeof sorted[0], cmp_profile);
  printf ("profile sgemm %.1f GFLOP/s (1024^3, same process); times per pass, mean of %d runs\n",
          sgemm, runs);
  printf ("profile %-26s %-22s %8s %8s %7s %7s %5s\n", "op", "shape", "fwd_ms",
          "bwd_ms", "fwd_gf", "bwd_gf", "%sgemm");
  for (int i = 0; i < count && i < 20; i++)
    {
      const nn_op_profile *o = sorted[i];
      double f = o->forward_ms / runs, b = o->backward_ms / runs;
      char shape[64] = "";
      double gf = 0.0, gb = 0.0, eff = 0.0;
      if (!strcmp (o->kind, "conv"))
        {
          double fl = o->flops; /* the whole batch */
          snprintf (shape, sizeof shape, "%dx%d k%d/%d %dx%d", o->cin, o->cout,
                    o->k, o->stride, o->h, o->w);
          gf = f > 0 ? fl / (f * 1e6) : 0.0;
          gb = b > 0 ? fl * (o->has_dx ? 2 : 1) / (b * 1e6) : 0.0;
          double all = fl * (train ? (o->has_dx ? 3 : 2) : 1);
          eff = 100.0 * all / ((f + b) * 1e6) / sgemm;
        }
      else
        snprintf (shape, sizeof shape, "%s", o->kind);
      printf ("profile %-26s %-22s %8.2f %8.2f %7.1f %7.1f %5.0f\n", o->name,
              shape, f, b, gf, gb, eff);
    }
  const char *kinds[] = { "conv", "bn", "relu", "tanh", "maxpool", "upsample", "add" };
  printf ("profile totals per step:");
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
    {
      double t = 0.0;
      for (int i = 0; i < count; i++)
        if (!strcmp (p[i].kind, kinds[k]))
          t += p[i].forward_ms + p[i].backward_ms;
      if (t > 0.0)
        printf (" %s %.1f", kinds[k], t / runs);
    }
  printf (" ops %.1f", total / runs);
  if (train)
    printf (" loss+adam %.1f", other_ms);
  printf (" step %.1f ms\n", step_ms);
}

/* This process's own peak resident memory: VmHWM after resetting it with
 * /proc/self/clear_refs ("5"), so that neither an earlier figure nor the
 * process that exec'ed this one counts (ru_maxrss survives exec). */
static void
peak_reset (void)
{
  FILE *f = fopen ("/proc/self/clear_refs", "w");
  if (f)
    {
      fputs ("5", f);
      fclose (f);
    }
}

static double
peak_mb (void)
{
  FILE *f = fopen ("/proc/self/status", "r");
  char line[256];
  double kb = -1.0;
  while (f && fgets (line, sizeof line, f))
    if (!strncmp (line, "VmHWM:", 6))
      kb = atof (line + 6);
  if (f)
    fclose (f);
  if (kb < 0)                 /* not Linux: the process's whole peak */
    {
      struct rusage ru;
      getrusage (RUSAGE_SELF, &ru);
      kb = (double) ru.ru_maxrss;
    }
  return kb / 1024.0;
}

/* The network timed: arch with random weights, or a weight file (its
 * head and tensors, as the plug-in loads it). */
static nn_model *
bench_model (nn_arch arch, const char *weights)
{
  nn_model *m = NULL;
  nn_error err;
  if (weights ? nn_weights_load (weights, &m, &err)
              : nn_model_new (arch, &m, &err))
    {
      fprintf (stderr, "colorize-train bench: %s\n", err.message);
      return NULL;
    }
  if (!weights)
    nn_model_init (m, 1);
  return m;
}

/* Forward passes run as the plug-in runs them: nn_model_forward_ab at
 * temperature 1 (a class head's logits decoded band by band). */
static int
bench_one (nn_arch arch, const char *weights, int size, int train, int runs,
           int profile)
{
  nn_error err;
  peak_reset ();
  nn_model *m = bench_model (arch, weights);
  if (!m)
    return 1;
  arch = m->arch;
  if (!train)
    nn_model_freeze (m); /* as the plug-in runs it */
  const int batch = train ? 16 : 1;
  const size_t in_n = (size_t) batch * size * size;
  float *x = malloc (in_n * sizeof (float));
  float *target = calloc (2 * in_n, sizeof (float));
  float *dout = malloc (2 * in_n * sizeof (float));
  adam_state *adam = NULL;
  double times[64];
  int rc = 0;
  if (!x || !target || !dout || (train && nn_adam_new (m, &adam, &err)))
    {
      fprintf (stderr, "colorize-train bench: out of memory\n");
      rc = 1;
      goto done;
    }
  nn_rng rng;
  nn_rng_seed (&rng, 7);
  for (size_t i = 0; i < in_n; i++)
    x[i] = (float) (2.0 * nn_rng_uniform (&rng) - 1.0);
  for (size_t i = 0; i < 2 * in_n; i++)
    target[i] = (float) (0.5 * (2.0 * nn_rng_uniform (&rng) - 1.0));
  adam_config cfg = ADAM_CONFIG_DEFAULT;
  double other[64];
  for (int r = 0; r <= runs; r++)
    {
      if (profile && r == 1)
        nn_model_profile (m, 1);
      double t0 = now_ms (), t_other = 0.0;
      if (!train)
        rc = nn_model_forward_ab (m, x, 1, size, size, 1.0f, &err);
      else
        {
          nn_model_zero_grad (m);
          rc = nn_model_forward (m, x, batch, size, size, NN_PASS_TRAIN, &err);
          if (!rc)
            {
              double tl = now_ms ();
              nn_mse_loss (nn_model_output (m, NULL, NULL, NULL, NULL), target,
                        NULL, 2 * in_n, dout);
              t_other += now_ms () - tl;
              rc = nn_model_backward (m, dout, NULL, &err);
            }
          if (!rc)
            {
              double ta = now_ms ();
              nn_adam_step (adam, m, &cfg);
              t_other += now_ms () - ta;
            }
        }
      double t1 = now_ms ();
      if (rc)
        {
          fprintf (stderr, "colorize-train bench: %s\n", err.message);
          goto done;
        }
      if (r > 0)
        {
          times[r - 1] = t1 - t0;
          other[r - 1] = t_other;
        }
    }
  nn_model_release (m);
  double ms = median (times, runs);
  double other_ms = median (other, runs);
  double flops = nn_model_forward_flops (m, size, size) * batch * (train ? 3.0 : 1.0);
  printf ("bench arch=%s%s%s%s mode=%s size=%d ms=%.1f gflops=%.1f "
          "peak_mb=%.0f\n", nn_arch_name (arch), weights ? " weights=" : "",
          weights ? weights : "", m->head_bins ? " (colour classes)" : "",
          train ? "train" : "forward", size, ms, flops / (ms * 1e6),
          peak_mb ());
  if (profile)
    bench_print_profile (m, runs, train, bench_sgemm_gflops (1024, runs),
                         ms, other_ms);
  fflush (stdout);
done:
  nn_adam_free (adam);
  free (x);
  free (target);
  free (dout);
  nn_model_free (m);
  return rc ? 1 : 0;
}

/* The command line. */
typedef struct bench_args {
  char arch[16];           /* "": both */
  const char *weights;     /* NULL: random weights */
  int size, train, threads, runs, profile;
} bench_args;

#define ARG(f) .at = offsetof (bench_args, f)

static const option bench_options[] = {
  { .name = "--arch", .type = OPT_ENUM, ARG (arch),
    .size = sizeof (((bench_args *) 0)->arch), .choices = "cnn|resnet18",
    .meta = "cnn|resnet18", .help = "one network (default: both)" },
  /* --size: the name before --input-size (the network's input, not a
   * working size), kept */
  { .name = "--input-size", .alias = "--size", .type = OPT_INT, ARG (size),
    .lo = 8, .hi = 8192, .multiple = 8, .meta = "S",
    .help = "the input's side (default 256 and 1024; --train: 128)" },
  { .name = "--weights", .type = OPT_STRING, ARG (weights), .meta = "W",
    .help = "time this weight file's network (forward passes only)" },
  { .name = "--train", .type = OPT_FLAG, ARG (train),
    .help = "training steps of a batch of 16, not forward passes" },
  OPTION_THREADS (bench_args, threads),
  { .name = "--runs", .type = OPT_INT, ARG (runs), .lo = 1, .hi = 63,
    .meta = "N", .help = "timed runs, at least 5 (default 5)" },
  { .name = "--profile", .type = OPT_FLAG, ARG (profile),
    .help = "the slowest operations and the totals by kind" },
};

#undef ARG

static const option_table bench_table = {
  .command = "bench",
  .synopsis = "bench [OPTIONS]",
  .opts = bench_options, .n = OPTIONS_COUNT (bench_options)
};

int
cmd_bench (int argc, char **argv)
{
  bench_args a = { .runs = BENCH_RUNS };
  int rc = options_parse (&bench_table, argc, argv, &a, NULL);
  if (rc >= 0)
    return rc;
  if (a.weights && (a.train || a.arch[0]))
    {
      fprintf (stderr, "colorize-train bench: %s\n", a.train
               ? "--weights times forward passes; --train takes random weights"
               : "--weights: the file says the network; --arch goes without it");
      return 2;
    }
  int archs[2] = { NN_ARCH_CNN, NN_ARCH_RESNET18 }, n_archs = 2;
  if (a.weights)
    n_archs = 1;
  nn_arch one;
  if (a.arch[0] && nn_arch_parse (a.arch, &one) == NN_OK)
    {
      archs[0] = one;
      n_archs = 1;
    }
  int size = a.size, train = a.train, profile = a.profile;
  int runs = a.runs < BENCH_RUNS ? BENCH_RUNS : a.runs;
  options_set_threads (a.threads);
  char kernel[256];
  printf ("bench kernel %s\n", nn_blas_describe (kernel, sizeof kernel));
  int sizes[2], n_sizes = 0;
  if (size)
    sizes[n_sizes++] = size;
  else if (train)
    sizes[n_sizes++] = 128;
  else
    {
      sizes[n_sizes++] = 256;
      sizes[n_sizes++] = 1024;
    }
  for (int k = 0; k < n_archs; k++)
    for (int s = 0; s < n_sizes; s++)
      if (bench_one ((nn_arch) archs[k], a.weights, sizes[s], train, runs,
                     profile))
        return 1;
  return 0;
}
