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
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blas.h"
#include "colorize.h"
#include "head.h"
#include "commands.h"
#include "hintfile.h"
#include "image.h"
#include "tmpfile.h"
#include "weights.h"


static void
apply_usage (void)
{
  fprintf (stderr, "usage: colorize-train apply --weights W IN OUT "
           "[--working-size S] [--strength X] [--temperature T] [--threads N] [--verify]\n"
           "         [--hints HINTS.png [--hints-only]]\n");
}

/* The command line. */
typedef struct apply_args {
  const char *weights, *in, *out, *hints;
  int size, threads, verify, hints_only;
  double strength, temperature;
} apply_args;

/* Fills a from argv: -1 to go on, else the exit status (0: --help). */
static int
apply_parse (int argc, char **argv, apply_args *a)
{
  for (int i = 0; i < argc; i++)
    {
      const char *o = argv[i];
      if (!strcmp (o, "-h") || !strcmp (o, "--help"))
        {
          apply_usage ();
          return 0;   /* done: help */
        }
      if (!strcmp (o, "--verify") || !strcmp (o, "--hints-only"))
        {
          *(!strcmp (o, "--verify") ? &a->verify : &a->hints_only) = 1;
          continue;
        }
      if (strncmp (o, "--", 2))
        {
          if (!a->in)
            a->in = o;
          else if (!a->out)
            a->out = o;
          else
            {
              fprintf (stderr, "colorize-train apply: unexpected argument "
                       "'%s'\n", o);
              apply_usage ();
              return 2;
            }
          continue;
        }
      if (i + 1 >= argc)
        {
          fprintf (stderr, "colorize-train apply: option %s needs a value\n", o);
          return 2;
        }
      const char *v = argv[++i];
      char *end;
      errno = 0;
      if (!strcmp (o, "--weights"))
        a->weights = v;
      else if (!strcmp (o, "--hints"))
        a->hints = v;
      else if (!strcmp (o, "--working-size") || !strcmp (o, "--size")
               || !strcmp (o, "--threads"))
        {
          /* --size: the name before train's --working-size, kept */
          int is_size = strcmp (o, "--threads") != 0;
          long lo = is_size ? COLORIZE_MIN_WORKING_SIZE : 1;
          long hi = is_size ? COLORIZE_MAX_WORKING_SIZE : 256;
          long x = strtol (v, &end, 10);
          if (!*v || *end || errno || x < lo || x > hi)
            {
              fprintf (stderr, "colorize-train apply: %s expects an integer "
                       "in %ld..%ld, got '%s'\n", o, lo, hi, v);
              return 2;
            }
          if (is_size)
            a->size = (int) x;
          else
            a->threads = (int) x;
        }
      else if (!strcmp (o, "--strength"))
        {
          a->strength = strtod (v, &end);
          if (!*v || *end || errno
              || !(a->strength >= 0.0 && a->strength <= COLORIZE_MAX_STRENGTH))
            {
              fprintf (stderr, "colorize-train apply: --strength expects a "
                       "number in 0..%g, got '%s'\n",
                       (double) COLORIZE_MAX_STRENGTH, v);
              return 2;
            }
        }
      else if (!strcmp (o, "--temperature"))
        {
          a->temperature = strtod (v, &end);
          if (!*v || *end || errno
              || !(a->temperature >= NN_HEAD_MIN_TEMPERATURE
                   && a->temperature <= NN_HEAD_MAX_TEMPERATURE))
            {
              fprintf (stderr, "colorize-train apply: --temperature expects a "
                       "number in %g..%g, got '%s'\n", NN_HEAD_MIN_TEMPERATURE,
                       NN_HEAD_MAX_TEMPERATURE, v);
              return 2;
            }
        }
      else
        {
          fprintf (stderr, "colorize-train apply: unknown option '%s'\n", o);
          apply_usage ();
          return 2;
        }
    }
  if ((!a->weights && !a->hints_only) || !a->in || !a->out
      || (a->hints_only && !a->hints))
    {
      fprintf (stderr, "colorize-train apply: %s is required\n",
               a->hints_only && !a->hints
               ? "--hints HINTS.png (for --hints-only)"
               : !a->weights && !a->hints_only ? "--weights W"
               : !a->in ? "IN" : "OUT");
      apply_usage ();
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
  if (a.threads)
    {
      nn_blas_set_threads (a.threads);
      omp_set_num_threads (a.threads);
    }
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
  float *lab = image_load (a.in, "CIE Lab alpha float", &w, &h, msg,
                           sizeof msg);
  if (!lab)
    {
      fprintf (stderr, "colorize-train apply: cannot load %s: %s\n", a.in,
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
  opt.hints = hint;
  opt.n_hints = n_hints;
  if (nn_colorize_image (m, lab, w, h, 4, &opt, &err) != NN_OK)
    {
      fprintf (stderr, "colorize-train apply: %s: %s\n", a.in, err.message);
      goto done;
    }
  int alpha;
  rgb = apply_rgb_u8 (lab, (size_t) w * h, &alpha);
  if (!rgb)
    {
      fprintf (stderr, "colorize-train apply: out of memory\n");
      goto done;
    }
  tmpfile_remove_stale (a.out, "colorize-train apply");
  if (image_save (a.out, rgb, w, h, alpha ? "R'G'B'A u8" : "R'G'B' u8", msg,
                  sizeof msg))
    {
      fprintf (stderr, "colorize-train apply: cannot write %s: %s\n", a.out,
               msg);
      goto done;
    }
  if (a.verify
      && apply_verify (a.out, lab, w, h, hint, n_hints, a.hints != NULL))
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
