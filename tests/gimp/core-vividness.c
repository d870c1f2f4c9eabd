/* core-vividness.c - the Vividness control in the plug-in's shared core
 * (plugin/colorize-core.c), without GIMP; built and run by
 * tests/test_gimp.sh (it needs GEGL, which the unit tests do not link).
 *
 *   core-vividness REGRESSION.weights CLASS.weights
 *
 * REGRESSION is a model without colour classes (the bundled weights);
 * CLASS one with them (tests/gimp/class-weights.c: a distribution that
 * gets more vivid as the temperature falls).
 *
 * - The mapping (colorize-core.h): vividness 0 is T = 1.0, 1 is T = 0.2,
 *   log-linear between; -1 is the model's default (0 for
 *   colorize_options); the inverse, clamped to 0..1.
 * - colorize_vividness_check: -1 and 0..1 pass, anything else (NaN too)
 *   fails with a message that names the vividness.
 * - On the class model: colorize_pixels at vividness 1 gives more chroma
 *   than at 0, and the default (0.38) lies between; on the regression
 *   model the vividness changes nothing (the same bytes).
 * - A bad vividness makes colorize_pixels and colorize_compute fail with
 *   NN_ERR_ARG, the pixels untouched.
 *
 * Prints one "ok - ..." or "not ok - ..." line per check; exits 1 when
 * any failed.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <gegl.h>

#include "colorize-core.h"
#include "core-check.h"

#define WIDTH  120
#define HEIGHT 90


static void
check_mapping (void)
{
  static const gdouble vs[] = { 0.0, 0.25, 0.5, 0.6, 0.9, 1.0 };
  static const gdouble good[] = { -1.0, 0.0, 0.5, 1.0 };
  static const gdouble bad[] = { -0.5, -2.0, 1.5, 1.0001, -1e-9 };
  gchar   detail[160];
  gdouble worst = 0.0;
  gsize   i;
  gint    n_ok;

  snprintf (detail, sizeof detail, "T(0) %.17g, T(1) %.17g, T(0.5) %.17g",
            colorize_vividness_to_temperature (0.0),
            colorize_vividness_to_temperature (1.0),
            colorize_vividness_to_temperature (0.5));
  check (colorize_vividness_to_temperature (0.0) == 1.0 &&
         fabs (colorize_vividness_to_temperature (1.0) - 0.2) < 1e-15 &&
         fabs (colorize_vividness_to_temperature (0.5) - sqrt (0.2)) < 1e-15,
         "vividness 0 is T 1.0, 1 is T 0.2, 0.5 is T sqrt(0.2)", detail);
  check (colorize_vividness_to_temperature (COLORIZE_VIVIDNESS_DEFAULT) == 0.0,
         "vividness -1 is temperature 0 (the model's default)", NULL);

  for (i = 0; i < G_N_ELEMENTS (vs); i++)
    worst = MAX (worst, fabs (colorize_temperature_to_vividness (
                                colorize_vividness_to_temperature (vs[i]))
                              - vs[i]));
  snprintf (detail, sizeof detail, "worst %.3g", worst);
  check (worst < 1e-12, "the inverse undoes the mapping", detail);

  snprintf (detail, sizeof detail, "v(0.38) %.4f, v(0.1) %g, v(2) %g",
            colorize_temperature_to_vividness (0.38),
            colorize_temperature_to_vividness (0.1),
            colorize_temperature_to_vividness (2.0));
  check (fabs (colorize_temperature_to_vividness (0.38) - 0.6012) < 1e-4 &&
         colorize_temperature_to_vividness (0.1) == 1.0 &&
         colorize_temperature_to_vividness (2.0) == 0.0,
         "the default 0.38 is vividness 0.60; the inverse is clamped to 0..1",
         detail);

  n_ok = 0;
  for (i = 0; i < G_N_ELEMENTS (good); i++)
    n_ok += colorize_vividness_check (good[i], NULL);
  check (n_ok == (gint) G_N_ELEMENTS (good),
         "colorize_vividness_check accepts -1, 0, 0.5 and 1", NULL);
  for (i = 0; i < G_N_ELEMENTS (bad) + 1; i++)
    {
      gdouble  v     = i < G_N_ELEMENTS (bad) ? bad[i] : NAN;
      GError  *error = NULL;
      gboolean ok    = colorize_vividness_check (v, &error);
      gchar    what[120];

      snprintf (what, sizeof what, "colorize_vividness_check refuses %g, "
                "naming the vividness", v);
      snprintf (detail, sizeof detail, "%s", error ? error->message : "");
      check (! ok && error && error->code == NN_ERR_ARG &&
             strstr (error->message, "vividness"), what, detail);
      g_clear_error (&error);
    }
}

/* Mean chroma of n Lab-alpha pixels. */
static gdouble
mean_chroma (const gfloat *lab, gsize n)
{
  gdouble sum = 0.0;
  gsize   i;

  for (i = 0; i < n; i++)
    sum += hypot (lab[4 * i + 1], lab[4 * i + 2]);
  return n ? sum / n : 0.0;
}

/* Colorizes a copy of lab at this vividness; NULL (and a failed check)
 * on error. */
static gfloat *
run (nn_model *model, const gfloat *lab, gdouble vividness)
{
  GError *error = NULL;
  gfloat *out   = g_memdup2 (lab, (gsize) 4 * sizeof (gfloat) * WIDTH
                                  * HEIGHT);

  if (! colorize_pixels (model, out, WIDTH, HEIGHT, 64, 1.0, vividness,
                         NULL, NULL, NULL, NULL, &error))
    {
      check (0, "colorize_pixels", error ? error->message : NULL);
      g_clear_error (&error);
      g_free (out);
      return NULL;
    }
  return out;
}

static void
check_models (nn_model *regression, nn_model *classes, const gfloat *lab,
              GeglBuffer *buffer)
{
  gsize   n = (gsize) WIDTH * HEIGHT;
  gsize   bytes = 4 * sizeof (gfloat) * n;
  gfloat *c0, *c1, *cd, *r0, *r1, *copy;
  ColorizeResult *result;
  gchar   detail[200];
  GError *error = NULL;
  gboolean ok;

  snprintf (detail, sizeof detail, "head_bins %d and %d",
            regression->head_bins, classes->head_bins);
  check (! colorize_model_has_vividness (regression) &&
         colorize_model_has_vividness (classes),
         "the vividness acts on the class model only", detail);
  snprintf (detail, sizeof detail, "default vividness %.4f, T(-1) %.4f",
            colorize_model_default_vividness (classes),
            colorize_model_temperature (classes, -1.0));
  check (fabs (colorize_model_default_vividness (classes) - 0.6012) < 1e-3 &&
         fabs (colorize_model_temperature (classes, -1.0) - 0.38) < 1e-6 &&
         fabs (colorize_model_temperature (classes, 1.0) - 0.2) < 1e-6,
         "class model: the slider starts at 0.60 (its default T 0.38)",
         detail);

  c0 = run (classes, lab, 0.0);
  c1 = run (classes, lab, 1.0);
  cd = run (classes, lab, COLORIZE_VIVIDNESS_DEFAULT);
  if (c0 && c1 && cd)
    {
      gdouble k0 = mean_chroma (c0, n), k1 = mean_chroma (c1, n);
      gdouble kd = mean_chroma (cd, n);

      snprintf (detail, sizeof detail, "mean chroma: vividness 0 %.2f, "
                "default %.2f, 1 %.2f", k0, kd, k1);
      check (k1 > k0 + 5.0 && kd > k0 && kd < k1,
             "class model: vividness 1 gives more chroma than 0, the "
             "default lies between", detail);
    }
  g_free (c0);
  g_free (c1);
  g_free (cd);

  r0 = run (regression, lab, 0.0);
  r1 = run (regression, lab, 1.0);
  if (r0 && r1)
    check (! memcmp (r0, r1, bytes),
           "regression model: vividness 0 and 1 give the same bytes", NULL);
  g_free (r0);
  g_free (r1);

  copy = g_memdup2 (lab, bytes);
  ok = colorize_pixels (classes, copy, WIDTH, HEIGHT, 64, 1.0, 1.5, NULL,
                        NULL, NULL, NULL, &error);
  check (! ok && g_error_matches (error, COLORIZE_ERROR, NN_ERR_ARG) &&
         strstr (error->message, "vividness") && ! memcmp (copy, lab, bytes),
         "colorize_pixels refuses vividness 1.5, pixels untouched",
         error ? error->message : "no error");
  g_clear_error (&error);
  g_free (copy);

  result = colorize_compute (regression, buffer, 64, 1.0, -0.5, NULL, NULL,
                             NULL, &error);
  check (! result && g_error_matches (error, COLORIZE_ERROR, NN_ERR_ARG) &&
         strstr (error->message, "vividness"),
         "colorize_compute refuses vividness -0.5, also for a model "
         "without colour classes", error ? error->message : "no error");
  g_clear_error (&error);
  colorize_result_free (result);
}

int
main (int argc, char **argv)
{
  GeglBuffer *buffer;
  nn_model   *regression, *classes;
  GError     *error = NULL;
  guchar     *pixels;
  gfloat     *lab;
  gint        x, y, w, h;

  if (argc != 3)
    {
      fprintf (stderr, "usage: core-vividness REGRESSION.weights "
               "CLASS.weights\n");
      return 2;
    }
  check_mapping ();

  g_setenv ("GEGL_PATH", "/nonexistent/core-vividness-needs-no-gegl-ops",
            TRUE);
  g_setenv ("BABL_INHIBIT_CACHE", "1", TRUE);
  gegl_init (NULL, NULL);

  regression = colorize_model_load (argv[1], (nn_arch) -1, &error);
  classes    = regression ? colorize_model_load (argv[2], (nn_arch) -1,
                                                 &error)
                          : NULL;
  if (! regression || ! classes)
    {
      check (0, "load the weights", error->message);
      return 1;
    }

  /* A grey ramp with a bright disc. */
  buffer = gegl_buffer_new (GEGL_RECTANGLE (0, 0, WIDTH, HEIGHT),
                            babl_format ("R'G'B'A u8"));
  pixels = g_malloc ((gsize) WIDTH * HEIGHT * 4);
  for (y = 0; y < HEIGHT; y++)
    for (x = 0; x < WIDTH; x++)
      {
        guchar *p = pixels + ((gsize) y * WIDTH + x) * 4;
        gint    dx = x - WIDTH / 3, dy = y - HEIGHT / 2;
        guchar  v = dx * dx + dy * dy < 300 ? 220 : (guchar) (40 + x + y);

        p[0] = p[1] = p[2] = v;
        p[3] = 255;
      }
  gegl_buffer_set (buffer, GEGL_RECTANGLE (0, 0, WIDTH, HEIGHT), 0,
                   babl_format ("R'G'B'A u8"), pixels, GEGL_AUTO_ROWSTRIDE);

  lab = colorize_read_scaled (buffer, 0, &w, &h, &error);
  if (! lab || w != WIDTH || h != HEIGHT)
    check (0, "colorize_read_scaled", error ? error->message : "size");
  else
    check_models (regression, classes, lab, buffer);

  g_free (lab);
  g_free (pixels);
  g_object_unref (buffer);
  nn_model_free (classes);
  nn_model_free (regression);
  gegl_exit ();
  return n_failed ? 1 : 0;
}
