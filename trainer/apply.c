/* apply.c - colorize-train apply: one image file outside GIMP.
 *
 * IN is loaded through GEGL as babl "CIE Lab alpha float", colorized in
 * place by the plug-in's pipeline (L and alpha untouched), and saved to
 * OUT in the format its extension names, 8 bits per channel, with alpha
 * when IN has any transparency.  Colours outside sRGB lose chroma, not
 * lightness (image_lab_to_rgb_u8), so OUT's L equals IN's within 8-bit
 * rounding.  --verify reloads OUT and prints how far its L is from IN's:
 *   verify: max_dL=X.XXX mean_dL=X.XXXX pixels=N
 * and, with hints, " hints=N hint_max_dab=X.XXX": the largest a,b distance
 * between OUT and a fully opaque hint pixel.
 * --hints HINTS.png adds colour hints (hintfile.h; the file has IN's
 * size); --hints-only uses them without a network (no --weights).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "colorize.h"
#include "head.h"
#include "commands.h"
#include "hintfile.h"
#include "image.h"
#include "options.h"
#include "tmpfile.h"
#include "weights.h"


/* The command line. */
typedef struct apply_args {
  const char *weights, *hints;
  char *files[2];          /* IN OUT */
  int n_files;
  int size, threads, verify, hints_only, views;
  double strength, temperature;
} apply_args;

#define ARG(f) .at = offsetof (apply_args, f)

static const option apply_options[] = {
  { .name = "--weights", .type = OPT_STRING, ARG (weights), .meta = "W",
    .help = "the model" },
  OPTION_WORKING_SIZE (apply_args, size, "--size"),
  { .name = "--strength", .type = OPT_DOUBLE, ARG (strength), .min = 0.0,
    .max = COLORIZE_MAX_STRENGTH, .meta = "X",
    .help = "how far the colours go (default 1)" },
  { .name = "--temperature", .type = OPT_DOUBLE, ARG (temperature),
    .min = NN_HEAD_MIN_TEMPERATURE, .max = NN_HEAD_MAX_TEMPERATURE,
    .meta = "T", .help = "colour-class decoding (default: the model's)" },
  { .name = "--views", .type = OPT_INT, ARG (views), .lo = 1,
    .hi = COLORIZE_MAX_VIEWS, .meta = "N",
    .help = "network passes averaged: 1 the photo, 2 with its mirror image "
            "(default: the model's)" },
  OPTION_THREADS (apply_args, threads),
  { .name = "--verify", .type = OPT_FLAG, ARG (verify),
    .help = "reload OUT: how far its L is from IN's" },
  { .name = "--hints", .type = OPT_STRING, ARG (hints), .meta = "HINTS.png",
    .help = "colour hints, IN's size (hintfile.h)" },
  { .name = "--hints-only", .type = OPT_FLAG, ARG (hints_only),
    .help = "the hints without a network (no --weights)" },
};

#undef ARG

static const option_table apply_table = {
  .command = "apply",
  .synopsis = "apply --weights W IN OUT [OPTIONS]",
  .opts = apply_options, .n = OPTIONS_COUNT (apply_options),
  .pos_max = 2, .pos_at = offsetof (apply_args, files),
  .pos_count = offsetof (apply_args, n_files)
};

/* Fills a from argv: -1 to go on, else the exit status (0: --help). */
static int
apply_parse (int argc, char **argv, apply_args *a)
{
  int rc = options_parse (&apply_table, argc, argv, a, NULL);
  if (rc >= 0)
    return rc;
  if ((!a->weights && !a->hints_only) || a->n_files < 2
      || (a->hints_only && !a->hints))
    {
      fprintf (stderr, "colorize-train apply: %s is required\n",
               a->hints_only && !a->hints
               ? "--hints HINTS.png (for --hints-only)"
               : !a->weights && !a->hints_only ? "--weights W"
               : a->n_files < 1 ? "IN" : "OUT");
      options_usage (&apply_table);
      return 2;
    }
  if (a->hints_only && a->weights)
    {
      fprintf (stderr, "colorize-train apply: --hints-only takes no "
               "--weights\n");
      return 2;
    }
  return -1;      /* go on */
}

/* lab (n pixels, 4 floats) as 8-bit sRGB, with alpha when any pixel is
 * not opaque (*alpha set); NULL when out of memory. */
static unsigned char *
apply_rgb_u8 (const float *lab, size_t n, int *alpha)
{
  *alpha = 0;
  for (size_t i = 0; i < n && !*alpha; i++)
    *alpha = lab[i * 4 + 3] < 1.0f;
  unsigned char *rgb = malloc (n * (*alpha ? 4 : 3));
  if (!rgb)
    return NULL;
  image_lab_to_rgb_u8 (lab, 4, rgb, (long) n);
  if (*alpha)
    /* Spread RGB to RGBA from the end, then add alpha. */
    for (size_t i = n; i-- > 0;)
      {
        unsigned char r = rgb[i * 3], g = rgb[i * 3 + 1], b = rgb[i * 3 + 2];
        float a = roundf (lab[i * 4 + 3] * 255.0f);
        rgb[i * 4] = r;
        rgb[i * 4 + 1] = g;
        rgb[i * 4 + 2] = b;
        rgb[i * 4 + 3] = (unsigned char) (a < 0 ? 0 : a > 255 ? 255 : a);
      }
  return rgb;
}

/* --verify: OUT reloaded against IN's L (lab), and the hints' a,b. */
static int
apply_verify (const char *out, const float *lab, int w, int h,
              const nn_hint *hint, size_t n_hints, int with_hints)
{
  char msg[1024];
  int w2, h2;
  size_t n = (size_t) w * h;
  float *back = image_load (out, "CIE Lab float", &w2, &h2, msg, sizeof msg);
  if (!back || w2 != w || h2 != h)
    {
      fprintf (stderr, "colorize-train apply: --verify: cannot reload %s: "
               "%s\n", out, back ? "size differs" : msg);
      free (back);
      return -1;
    }
  double max = 0.0, sum = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      double d = fabs ((double) back[i * 3] - lab[i * 4]);
      sum += d;
      if (d > max)
        max = d;
    }
  double dab = 0.0;
  for (size_t k = 0; k < n_hints; k++)
    {
      const float *q = back + ((size_t) hint[k].y * w + hint[k].x) * 3;
      double d = hypot (q[1] - hint[k].a, q[2] - hint[k].b);
      if (hint[k].alpha >= 1.0f && d > dab)
        dab = d;
    }
  free (back);
  printf ("verify: max_dL=%.3f mean_dL=%.4f pixels=%zu", max, sum / n, n);
  if (with_hints)
    printf (" hints=%zu hint_max_dab=%.3f", n_hints, dab);
  printf ("\n");
  return 0;
}

int
cmd_apply (int argc, char **argv)
{
  apply_args a = { .strength = 1.0 };
  int status = apply_parse (argc, argv, &a);
  if (status >= 0)
    return status;
  options_set_threads (a.threads);
  const char *in = a.files[0], *out = a.files[1];
  nn_model *m = NULL;
  nn_error err;
  if (a.weights && nn_weights_load (a.weights, &m, &err) != NN_OK)
    {
      fprintf (stderr, "colorize-train apply: %s\n", err.message);
      return 1;
    }
  nn_model_freeze (m);
  image_init ();
  int rc = 1, w, h;
  char msg[1024];
  unsigned char *rgb = NULL;
  nn_hint *hint = NULL;
  size_t n_hints = 0;
  float *lab = image_load (in, "CIE Lab alpha float", &w, &h, msg,
                           sizeof msg);
  if (!lab)
    {
      fprintf (stderr, "colorize-train apply: cannot load %s: %s\n", in,
               msg);
      goto done;
    }
  if (a.hints
      && hintfile_load (a.hints, w, h, &hint, &n_hints, msg, sizeof msg))
    {
      fprintf (stderr, "colorize-train apply: %s\n", msg);
      goto done;
    }
  if (a.hints && !n_hints)
    {
      if (a.hints_only)
        {
          fprintf (stderr, "colorize-train apply: hints %s have no painted "
                   "pixel (alpha > 0), and --hints-only has nothing else to "
                   "go by\n", a.hints);
          goto done;
        }
      fprintf (stderr, "colorize-train apply: note: hints %s have no painted "
               "pixel (alpha > 0): plain colorization\n", a.hints);
    }
  colorize_options opt = COLORIZE_OPTIONS_DEFAULT;
  opt.working_size = a.size;
  opt.strength = (float) a.strength;
  opt.temperature = (float) a.temperature;
  opt.views = a.views;
  opt.hints = hint;
  opt.n_hints = n_hints;
  if (nn_colorize_image (m, lab, w, h, 4, &opt, &err) != NN_OK)
    {
      fprintf (stderr, "colorize-train apply: %s: %s\n", in, err.message);
      goto done;
    }
  int alpha;
  rgb = apply_rgb_u8 (lab, (size_t) w * h, &alpha);
  if (!rgb)
    {
      fprintf (stderr, "colorize-train apply: out of memory\n");
      goto done;
    }
  tmpfile_remove_stale (out, "colorize-train apply");
  if (image_save (out, rgb, w, h, alpha ? "R'G'B'A u8" : "R'G'B' u8", msg,
                  sizeof msg))
    {
      fprintf (stderr, "colorize-train apply: cannot write %s: %s\n", out,
               msg);
      goto done;
    }
  if (a.verify
      && apply_verify (out, lab, w, h, hint, n_hints, a.hints != NULL))
    goto done;
  rc = 0;
done:
  free (lab);
  free (rgb);
  free (hint);
  nn_model_free (m);
  image_exit ();
  return rc;
}
