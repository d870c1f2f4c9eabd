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

int
cmd_apply (int argc, char **argv)
{
  const char *weights = NULL, *in = NULL, *out = NULL, *hints = NULL;
  int size = 0, threads = 0, verify = 0, hints_only = 0;
  double strength = 1.0, temperature = 0.0;
  for (int i = 0; i < argc; i++)
    {
      const char *o = argv[i];
      if (!strcmp (o, "-h") || !strcmp (o, "--help"))
        {
          apply_usage ();
          return 0;
        }
      if (!strcmp (o, "--verify") || !strcmp (o, "--hints-only"))
        {
          *(!strcmp (o, "--verify") ? &verify : &hints_only) = 1;
          continue;
        }
      if (strncmp (o, "--", 2))
        {
          if (!in)
            in = o;
          else if (!out)
            out = o;
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
        weights = v;
      else if (!strcmp (o, "--hints"))
        hints = v;
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
            size = (int) x;
          else
            threads = (int) x;
        }
      else if (!strcmp (o, "--strength"))
        {
          strength = strtod (v, &end);
          if (!*v || *end || errno
              || !(strength >= 0.0 && strength <= COLORIZE_MAX_STRENGTH))
            {
              fprintf (stderr, "colorize-train apply: --strength expects a "
                       "number in 0..%g, got '%s'\n",
                       (double) COLORIZE_MAX_STRENGTH, v);
              return 2;
            }
        }
      else if (!strcmp (o, "--temperature"))
        {
          temperature = strtod (v, &end);
          if (!*v || *end || errno || !(temperature >= NN_HEAD_MIN_TEMPERATURE
                                        && temperature <= NN_HEAD_MAX_TEMPERATURE))
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
  if ((!weights && !hints_only) || !in || !out || (hints_only && !hints))
    {
      fprintf (stderr, "colorize-train apply: %s is required\n",
               hints_only && !hints ? "--hints HINTS.png (for --hints-only)"
               : !weights && !hints_only ? "--weights W" : !in ? "IN" : "OUT");
      apply_usage ();
      return 2;
    }
  if (hints_only && weights)
    {
      fprintf (stderr, "colorize-train apply: --hints-only takes no "
               "--weights\n");
      return 2;
    }
  if (threads)
    {
      nn_blas_set_threads (threads);
      omp_set_num_threads (threads);
    }
  nn_model *m = NULL;
  nn_error err;
  if (weights && nn_weights_load (weights, &m, &err) != NN_OK)
    {
      fprintf (stderr, "colorize-train apply: %s\n", err.message);
      return 1;
    }
  image_init ();
  int rc = 1, w, h;
  char msg[1024];
  unsigned char *rgb = NULL;
  nn_hint *hint = NULL;
  size_t n_hints = 0;
  float *lab = image_load (in, "CIE Lab alpha float", &w, &h, msg, sizeof msg);
  if (!lab)
    {
      fprintf (stderr, "colorize-train apply: cannot load %s: %s\n", in, msg);
      goto done;
    }
  if (hints && hintfile_load (hints, w, h, &hint, &n_hints, msg, sizeof msg))
    {
      fprintf (stderr, "colorize-train apply: %s\n", msg);
      goto done;
    }
  if (hints && !n_hints)
    {
      if (hints_only)
        {
          fprintf (stderr, "colorize-train apply: hints %s have no painted "
                   "pixel (alpha > 0), and --hints-only has nothing else to "
                   "go by\n", hints);
          goto done;
        }
      fprintf (stderr, "colorize-train apply: note: hints %s have no painted "
               "pixel (alpha > 0): plain colorization\n", hints);
    }
  colorize_options opt = COLORIZE_OPTIONS_DEFAULT;
  opt.working_size = size;
  opt.strength = (float) strength;
  opt.temperature = (float) temperature;
  opt.hints = hint;
  opt.n_hints = n_hints;
  if (nn_colorize_image (m, lab, w, h, 4, &opt, &err) != NN_OK)
    {
      fprintf (stderr, "colorize-train apply: %s: %s\n", in, err.message);
      goto done;
    }
  size_t n = (size_t) w * h;
  int alpha = 0;
  for (size_t i = 0; i < n && !alpha; i++)
    alpha = lab[i * 4 + 3] < 1.0f;
  rgb = malloc (n * (alpha ? 4 : 3));
  if (!rgb)
    {
      fprintf (stderr, "colorize-train apply: out of memory\n");
      goto done;
    }
  image_lab_to_rgb_u8 (lab, 4, rgb, (long) n);
  if (alpha)
    {
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
    }
  tmpfile_remove_stale (out, "colorize-train apply");
  if (image_save (out, rgb, w, h, alpha ? "R'G'B'A u8" : "R'G'B' u8", msg,
                  sizeof msg))
    {
      fprintf (stderr, "colorize-train apply: cannot write %s: %s\n", out, msg);
      goto done;
    }
  if (verify)
    {
      int w2, h2;
      float *back = image_load (out, "CIE Lab float", &w2, &h2, msg, sizeof msg);
      if (!back || w2 != w || h2 != h)
        {
          fprintf (stderr, "colorize-train apply: --verify: cannot reload %s: "
                   "%s\n", out, back ? "size differs" : msg);
          free (back);
          goto done;
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
      if (hints)
        printf (" hints=%zu hint_max_dab=%.3f", n_hints, dab);
      printf ("\n");
    }
  rc = 0;
done:
  free (lab);
  free (rgb);
  free (hint);
  nn_model_free (m);
  image_exit ();
  return rc;
}
