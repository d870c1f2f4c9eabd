/* cmd_model.c - colorize-train init, info and forward. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "colorize.h"
#include "commands.h"
#include "dataset.h"
#include "encoder.h"
#include "head.h"
#include "image.h"
#include "model.h"
#include "npy.h"
#include "options.h"
#include "pack.h"
#include "weights.h"

#define ENCODER_IMAGES 64
#define ENCODER_CROP 128

/* --encoder: the ImageNet arrays into m, its batch norms set from one
 * sample of each of ENCODER_IMAGES photos spread over data_dir. */
static int
init_encoder (nn_model *m, const char *dir, const char *data_dir,
              unsigned long long seed)
{
  dataset ds;
  char msg[1024];
  dataset_options opt = { DATASET_LAB_CACHE, DATASET_DEFAULT_SHORT_SIDE,
                          DATASET_DEFAULT_GRAY_THRESHOLD, 2, stderr, NULL,
                          ENCODER_IMAGES };
  image_init ();
  if (dataset_load (&ds, data_dir, &opt, msg, sizeof msg))
    {
      fprintf (stderr, "colorize-train init: %s\n", msg);
      image_exit ();
      return 1;
    }
  const size_t px = (size_t) ENCODER_CROP * ENCODER_CROP;
  float *x = malloc (px * ds.n * sizeof (float));
  float *t = malloc (2 * px * sizeof (float));
  nn_error err;
  int rc = 1;
  if (!x || !t)
    fprintf (stderr, "colorize-train init: out of memory\n");
  else
    {
      for (int i = 0; i < ds.n; i++)
        dataset_sample (&ds, i, seed, (uint64_t) i, ENCODER_CROP,
                        &m->scaling, NULL, x + px * i, t, NULL);
      if (encoder_import (m, dir, x, ds.n, ENCODER_CROP, ENCODER_CROP,
                          ENCODER_PASSES, &err))
        fprintf (stderr, "colorize-train init: %s\n", err.message);
      else
        {
          printf ("encoder from %s, batch norms from %d photos of %s\n",
                  dir, ds.n, data_dir);
          rc = 0;
        }
    }
  free (x);
  free (t);
  dataset_free (&ds);
  image_exit ();
  return rc;
}

/* Copies into m every tensor of the weight file `from` whose name and
 * shape m has (the colour-class head's bin centres excepted); says what
 * was copied and what kept its fresh initialization.  Returns 0 or 1. */
static int
init_from (nn_model *m, const char *from)
{
  nn_model *src;
  nn_error err;
  if (nn_weights_load (from, &src, &err))
    {
      fprintf (stderr, "colorize-train init: --from: %s\n", err.message);
      return 1;
    }
  if (src->arch != m->arch)
    {
      fprintf (stderr, "colorize-train init: --from %s is a %s model: "
               "expected %s\n", from, nn_arch_name (src->arch),
               nn_arch_name (m->arch));
      nn_model_free (src);
      return 1;
    }
  int copied = 0;
  for (int i = 0; i < m->n_params; i++)
    {
      nn_param *p = &m->params[i];
      if (!strcmp (p->name, "head.bins"))
        continue; /* the bins are the head's, set by nn_model_new_head */
      nn_param *q = nn_model_find (src, p->name);
      int same = q && q->ndim == p->ndim
                 && !memcmp (q->shape, p->shape,
                             sizeof p->shape[0] * p->ndim);
      if (same)
        {
          memcpy (p->data, q->data, p->size * sizeof *p->data);
          copied++;
        }
      else
        printf ("from %s: %s keeps its fresh initialization (%s)\n", from,
                p->name, !q ? "not in the file" : "another shape");
    }
  printf ("from %s: %d of %d tensors copied\n", from, copied, m->n_params);
  nn_model_free (src);
  return 0;
}

/* ---- init ------------------------------------------------------------------ */

typedef struct init_args {
  char arch[16];
  char head[8];
  const char *out, *encoder, *data, *from;
  uint64_t seed;
  int context, context_hidden;
} init_args;

#define ARG(f) .at = offsetof (init_args, f)
#define TEXT(f) ARG (f), .size = sizeof (((init_args *) 0)->f)

static const option init_options[] = {
  { .name = "--arch", .type = OPT_ENUM, TEXT (arch), .choices = "cnn|resnet18",
    .meta = "cnn|resnet18", .help = "the network" },
  { .name = "--out", .type = OPT_STRING, ARG (out), .meta = "FILE.weights",
    .help = "the new weight file" },
  { .name = "--seed", .type = OPT_UINT64, ARG (seed), .lo = 0,
    .hi = INT64_MAX, .meta = "S", .help = "of the initialization (default 0)" },
  { .name = "--head", .type = OPT_ENUM, TEXT (head), .choices = "ab|class",
    .meta = "ab|class",
    .help = "ab: the seed's a,b regression (default); class: colour classes" },
  { .name = "--encoder", .type = OPT_STRING, ARG (encoder), .meta = "DIR",
    .help = "resnet18: the ImageNet encoder's arrays (with --data)" },
  { .name = "--data", .type = OPT_STRING, ARG (data), .meta = "PHOTOS",
    .help = "photos that set the encoder's batch norms" },
  { .name = "--from", .type = OPT_STRING, ARG (from), .meta = "FILE.weights",
    .help = "copy the tensors of the same name and shape" },
  { .name = "--context", .type = OPT_FLAG, ARG (context),
    .help = "resnet18: with the global context (weights/FORMAT.md; its "
            "weight zero)" },
  { .name = "--context-hidden", .type = OPT_INT, ARG (context_hidden),
    .lo = 2, .hi = 1024, .meta = "N",
    .help = "the context with a hidden layer of N units (implies --context; "
            "its output weight zero)" },
};

#undef ARG
#undef TEXT

static const option_table init_table = {
  .command = "init",
  .synopsis = "init --arch cnn|resnet18 --out FILE.weights [OPTIONS]",
  .opts = init_options, .n = OPTIONS_COUNT (init_options)
};

/* Fills a from argv: -1 to go on, else the exit status (0: --help). */
static int
init_parse (int argc, char **argv, init_args *a)
{
  *a = (init_args) { .head = "ab" };
  int rc = options_parse (&init_table, argc, argv, a, NULL);
  if (rc >= 0)
    return rc;
  const char *why = NULL;
  if (!a->arch[0])
    why = "--arch must be cnn or resnet18";
  else if (!a->out)
    why = "--out FILE.weights is required";
  else if ((a->context || a->context_hidden) && strcmp (a->arch, "resnet18"))
    why = "--context and --context-hidden are for --arch resnet18";
  else if (!a->encoder != !a->data
           || (a->encoder && strcmp (a->arch, "resnet18")))
    why = "--encoder DIR goes with --data DIR (photos for its batch norms), "
          "for --arch resnet18";
  if (why)
    {
      fprintf (stderr, "colorize-train init: %s\n", why);
      return 2;
    }
  return -1;
}

int
cmd_init (int argc, char **argv)
{
  init_args a;
  int status = init_parse (argc, argv, &a);
  if (status >= 0)
    return status;
  const char *out = a.out, *encoder = a.encoder, *data = a.data,
             *from = a.from;
  unsigned long long seed = a.seed;
  nn_arch arch;
  nn_arch_parse (a.arch, &arch);
  nn_model *m;
  nn_error err;
  float centres[2 * NN_HEAD_MAX_BINS];
  if (nn_model_new_full (arch, strcmp (a.head, "class") ? 0
                         : nn_head_gamut_bins (centres),
                         a.context_hidden ? a.context_hidden : a.context,
                         &m, &err))
    {
      fprintf (stderr, "colorize-train init: %s\n", err.message);
      return 1;
    }
  nn_model_init (m, seed);
  if ((encoder && init_encoder (m, encoder, data, seed))
      || (from && init_from (m, from)))
    {
      nn_model_free (m);
      return 1;
    }
  char meta[8192];
  snprintf (meta, sizeof meta, "created=colorize-train init\nseed=%llu\n"
            "steps=0\n%s%s%s%s%s%s%s%s", seed, encoder ? "encoder=" : "",
            encoder ? encoder : "", encoder ? "\nencoder_bn_data=" : "",
            data ? data : "", encoder ? "\n" : "", from ? "from=" : "",
            from ? from : "", from ? "\n" : "");
  int rc = 0;
  if (nn_model_set_metadata (m, meta, &err) || nn_weights_save (m, out, &err))
    {
      fprintf (stderr, "colorize-train init: %s\n", err.message);
      rc = 1;
    }
  else
    printf ("wrote %s: arch=%s params=%zu%s%s\n", out, nn_arch_name (arch),
            nn_model_param_count (m), m->head_bins ? " (colour-class head)" : "",
            m->context ? " (global context)" : "");
  nn_model_free (m);
  return rc;
}

/* 1 when path starts with a pack's magic (pack.h). */
static int
is_pack_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  char magic[8];
  int yes = f && fread (magic, 1, 8, f) == 8 && !memcmp (magic, PACK_MAGIC, 8);
  if (f)
    fclose (f);
  return yes;
}

int
cmd_info (int argc, char **argv)
{
  if (argc >= 1 && is_pack_file (argv[0]))
    return cmd_pack_info (argc, argv);
  if (argc != 1)
    {
      fprintf (stderr, "usage: colorize-train info FILE.weights\n");
      return 2;
    }
  nn_model *m;
  nn_error err;
  if (nn_weights_load (argv[0], &m, &err))
    {
      fprintf (stderr, "colorize-train info: %s\n", err.message);
      return 1;
    }
  size_t running = 0;
  for (int i = 0; i < m->n_params; i++)
    if (!m->params[i].trainable && strcmp (m->params[i].name, "head.bins"))
      running += m->params[i].size;
  printf ("file=%s\n", argv[0]);
  printf ("arch=%s\n", nn_arch_name (m->arch));
  printf ("params=%zu\n", nn_model_param_count (m));
  printf ("bn_running_values=%zu\n", running);
  printf ("tensors=%d\n", m->n_params);
  if (m->head_bins)
    printf ("head=class bins=%d default_temperature=%g\n", m->head_bins,
            nn_colorize_default_temperature (m));
  else
    printf ("head=ab\n");
  printf ("l_offset=%g\nl_scale=%g\nab_scale=%g\n", m->scaling.l_offset,
          m->scaling.l_scale, m->scaling.ab_scale);
  printf ("metadata:\n");
  const char *line = m->metadata;
  while (*line)
    {
      const char *nl = strchr (line, '\n');
      int len = nl ? (int) (nl - line) : (int) strlen (line);
      printf ("  %.*s\n", len, line);
      line += len + (nl ? 1 : 0);
    }
  nn_model_free (m);
  return 0;
}

/* ---- forward ---------------------------------------------------------------- */

typedef struct forward_args {
  const char *weights, *input, *output;
} forward_args;

static const option forward_options[] = {
  { .name = "--weights", .type = OPT_STRING,
    .at = offsetof (forward_args, weights), .meta = "W", .help = "the model" },
  { .name = "--input", .type = OPT_STRING,
    .at = offsetof (forward_args, input), .meta = "IN.npy",
    .help = "float32 (N, 1, H, W): the network's input (scaled L)" },
  { .name = "--output", .type = OPT_STRING,
    .at = offsetof (forward_args, output), .meta = "OUT.npy",
    .help = "float32 (N, 2, H, W): its raw output" },
};

static const option_table forward_table = {
  .command = "forward",
  .synopsis = "forward --weights W --input IN.npy --output OUT.npy",
  .opts = forward_options, .n = OPTIONS_COUNT (forward_options)
};

int
cmd_forward (int argc, char **argv)
{
  forward_args a = { 0 };
  int status = options_parse (&forward_table, argc, argv, &a, NULL);
  if (status >= 0)
    return status;
  const char *weights = a.weights, *input = a.input, *output = a.output;
  if (!weights || !input || !output)
    {
      options_usage (&forward_table);
      return 2;
    }
  nn_model *m = NULL;
  nn_error err;
  npy_array in = { 0 };
  int rc = 1;
  if (nn_weights_load (weights, &m, &err) || npy_read (input, &in, &err))
    goto fail;
  nn_model_freeze (m);
  if (in.ndim != 4 || in.shape[1] != 1 || in.shape[0] == 0
      || in.shape[2] > 65536 || in.shape[3] > 65536 || in.shape[0] > 65536)
    {
      nn_error_set (&err, NN_ERR_SHAPE, "%s: expected shape (N, 1, H, W), got %d dimensions%s",
                    input, in.ndim, in.ndim == 4 ? " with C != 1" : "");
      goto fail;
    }
  const int n = (int) in.shape[0], h = (int) in.shape[2], w = (int) in.shape[3];
  if (nn_model_forward (m, in.data, n, h, w, NN_PASS_INFER, &err))
    goto fail;
  size_t shape[4] = { (size_t) n, 2, (size_t) h, (size_t) w };
  if (npy_write (output, nn_model_output (m, NULL, NULL, NULL, NULL), 4, shape, &err))
    goto fail;
  rc = 0;
  goto done;
fail:
  fprintf (stderr, "colorize-train forward: %s\n", err.message);
done:
  npy_free (&in);
  nn_model_free (m);
  return rc;
}
