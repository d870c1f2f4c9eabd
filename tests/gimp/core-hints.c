/* core-hints.c - colour hints in the plug-in's shared core
 * (plugin/colorize-core.c), without GIMP; built and run by
 * tests/test_gimp.sh (it needs GEGL, which the unit tests do not link).
 *
 *   core-hints MODEL.weights
 *
 * - colorize_hints_read: a hints buffer of its own size (u8, with a
 *   transparent background and an opaque and a half-transparent
 *   rectangle) placed at offsets over a target at other offsets: exactly
 *   the painted pixels of the overlap, at their target coordinates, with
 *   their a,b (as babl reads them, within 0.01) and alpha; nothing when they do not
 *   overlap.
 * - colorize_hints_scale: the hints of 4 pixels falling into one output
 *   pixel become one hint there with their alpha-weighted mean a,b and
 *   their mean alpha.
 * - colorize_compute with empty hints gives the plain result bit for
 *   bit; with hints, the fully painted pixels hold the hints' a,b; with a
 *   NULL model (hints only) too.
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

#define TW 96  /* the target */
#define TH 64
#define HW 40  /* the hints layer */
#define HH 30

/* The hints layer: transparent, an opaque blue rectangle at 5..14 x
 * 5..9, a half-transparent red one at 20..29 x 20..24. */
static GeglBuffer *
make_hints (void)
{
  GeglBuffer *b   = gegl_buffer_new (GEGL_RECTANGLE (0, 0, HW, HH),
                                     babl_format ("R'G'B'A u8"));
  guchar     *pix = g_malloc0 ((gsize) HW * HH * 4);
  gint        x, y;

  for (y = 0; y < HH; y++)
    for (x = 0; x < HW; x++)
      {
        guchar *p = pix + 4 * ((gsize) y * HW + x);

        if (x >= 5 && x < 15 && y >= 5 && y < 10)
          p[0] = 60, p[1] = 90, p[2] = 200, p[3] = 255;
        else if (x >= 20 && x < 30 && y >= 20 && y < 25)
          p[0] = 200, p[1] = 60, p[2] = 50, p[3] = 128;
      }
  gegl_buffer_set (b, GEGL_RECTANGLE (0, 0, HW, HH), 0,
                   babl_format ("R'G'B'A u8"), pix, GEGL_AUTO_ROWSTRIDE);
  g_free (pix);
  return b;
}

/* colorize_hints_read on the overlap, and without one. */
static void
check_read (GeglBuffer *hints)
{
  ColorizeHints h;
  GError       *error = NULL;
  gfloat        red[4];
  gchar         detail[200];
  gsize         i;
  gint          bad = 0;

  gegl_buffer_get (hints, GEGL_RECTANGLE (20, 20, 1, 1), 1.0,
                   babl_format ("CIE Lab alpha float"), red,
                   GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  /* The hints layer at 30,10 in the image, the target at 50,10: the
   * overlap is the hints' x 20..39, which holds the red rectangle only
   * (hints 20..29 x 20..24 -> target 0..9 x 20..24). */
  if (! colorize_hints_read (hints, 30, 10, 50, 10, TW, TH, &h, &error))
    {
      check (0, "colorize_hints_read", error->message);
      g_clear_error (&error);
      return;
    }
  for (i = 0; i < h.n; i++)
    {
      const nn_hint *p = h.hints + i;

      bad += p->x < 0 || p->x >= 10 || p->y < 20 || p->y >= 25 ||
             fabsf (p->a - red[1]) > 0.01f || fabsf (p->b - red[2]) > 0.01f ||
             fabsf (p->alpha - 128.0f / 255.0f) > 1e-6f;
    }
  snprintf (detail, sizeof detail, "%zu hints, %d not the red rectangle's "
            "(a %.2f, b %.2f, alpha %.4f)", (size_t) h.n, bad, red[1],
            red[2], red[3]);
  check (h.n == 50 && bad == 0, "colorize_hints_read: the painted pixels "
         "of the overlap only, in the target's coordinates, with their "
         "a,b and alpha", detail);
  colorize_hints_clear (&h);

  colorize_hints_read (hints, 200, 0, 0, 0, TW, TH, &h, NULL);
  check (h.n == 0 && ! h.hints, "colorize_hints_read: no overlap, no "
         "hints", NULL);
}

static void
check_scale (void)
{
  nn_hint       four[4] = { { 10, 20, 10.0f, 0.0f, 1.0f },
                            { 11, 20, 30.0f, 8.0f, 1.0f },
                            { 10, 21, 20.0f, 4.0f, 0.5f },
                            { 11, 21, 20.0f, 4.0f, 0.5f } };
  ColorizeHints in = { four, 4 }, out;
  gchar         detail[160];

  colorize_hints_scale (&in, 100, 100, 50, 50, &out);
  snprintf (detail, sizeof detail, "%zu hints; first at %d,%d a %.3f b "
            "%.3f alpha %.3f", (size_t) out.n, out.n ? out.hints[0].x : -1,
            out.n ? out.hints[0].y : -1, out.n ? out.hints[0].a : 0.0f,
            out.n ? out.hints[0].b : 0.0f,
            out.n ? out.hints[0].alpha : 0.0f);
  check (out.n == 1 && out.hints[0].x == 5 && out.hints[0].y == 10 &&
         fabsf (out.hints[0].a - 20.0f) < 1e-5f &&
         fabsf (out.hints[0].b - 4.0f) < 1e-5f &&
         fabsf (out.hints[0].alpha - 0.75f) < 1e-6f,
         "colorize_hints_scale: 4 hints in one output pixel become one, "
         "alpha-weighted a,b, mean alpha", detail);
  colorize_hints_clear (&out);
}

/* The largest |a - hint a|, |b - hint b| over the fully painted hints. */
static gdouble
stroke_error (const gfloat *lab, const ColorizeHints *h, gint *n)
{
  gdouble worst = 0.0;
  gsize   i;

  *n = 0;
  for (i = 0; i < h->n; i++)
    if (h->hints[i].alpha >= 1.0f)
      {
        const gfloat *p = lab + 4 * ((gsize) h->hints[i].y * TW +
                                     h->hints[i].x);

        worst = MAX (worst, MAX (fabs (p[1] - h->hints[i].a),
                                 fabs (p[2] - h->hints[i].b)));
        (*n)++;
      }
  return worst;
}

/* colorize_compute's result as TW x TH Lab-alpha pixels (g_free), or
 * NULL when it failed. */
static gfloat *
compute_lab (nn_model *model, GeglBuffer *src, const ColorizeHints *h)
{
  ColorizeResult *r = colorize_compute (model, src, 64, 1.0, -1.0, h, NULL,
                                        NULL, NULL);
  gfloat         *lab = r ? g_new (gfloat, (gsize) TW * TH * 4) : NULL;

  if (r && ! colorize_result_rows (r, 0, TH, lab, NULL))
    g_clear_pointer (&lab, g_free);
  colorize_result_free (r);
  return lab;
}

static void
check_compute (nn_model *model, GeglBuffer *src, GeglBuffer *hints)
{
  ColorizeHints none = COLORIZE_HINTS_NONE, h;
  gfloat       *plain, *empty, *with, *only;
  gchar         detail[200];
  gint          n1 = 0, n2 = 0;
  gdouble       e1 = 99.0, e2 = 99.0;

  /* The hints layer at 10,10 over the target at 0,0: both rectangles. */
  colorize_hints_read (hints, 10, 10, 0, 0, TW, TH, &h, NULL);
  plain = compute_lab (model, src, NULL);
  empty = compute_lab (model, src, &none);
  with  = compute_lab (model, src, &h);
  only  = compute_lab (NULL, src, &h);
  check (plain && empty &&
         ! memcmp (plain, empty, (gsize) TW * TH * 4 * sizeof (gfloat)),
         "colorize_compute: empty hints give the plain result bit for bit",
         NULL);
  if (with)
    e1 = stroke_error (with, &h, &n1);
  if (only)
    e2 = stroke_error (only, &h, &n2);
  snprintf (detail, sizeof detail, "%d stroke pixels, max |dab| %.4f; "
            "hints only: %d, %.4f", n1, e1, n2, e2);
  check (n1 == 50 && e1 < 1e-3 && n2 == 50 && e2 < 1e-3,
         "colorize_compute: the strokes hold their a,b, with a model and "
         "with hints only (NULL model)", detail);
  g_free (plain);
  g_free (empty);
  g_free (with);
  g_free (only);
  colorize_hints_clear (&h);
}

int
main (int argc, char **argv)
{
  GeglBuffer *src, *hints;
  nn_model   *model;
  GError     *error = NULL;
  guchar     *pixels;
  gint        x, y;

  if (argc != 2)
    {
      fprintf (stderr, "usage: core-hints MODEL.weights\n");
      return 2;
    }
  g_setenv ("GEGL_PATH", "/nonexistent/core-hints-needs-no-gegl-ops", TRUE);
  g_setenv ("BABL_INHIBIT_CACHE", "1", TRUE);
  gegl_init (NULL, NULL);

  model = colorize_model_load (argv[1], (nn_arch) -1, &error);
  if (! model)
    {
      check (0, "load the weights", error->message);
      return 1;
    }

  /* A grey ramp. */
  src    = gegl_buffer_new (GEGL_RECTANGLE (0, 0, TW, TH),
                            babl_format ("R'G'B'A u8"));
  pixels = g_malloc ((gsize) TW * TH * 4);
  for (y = 0; y < TH; y++)
    for (x = 0; x < TW; x++)
      {
        guchar *p = pixels + ((gsize) y * TW + x) * 4;

        p[0] = p[1] = p[2] = (guchar) (60 + x + y);
        p[3] = 255;
      }
  gegl_buffer_set (src, GEGL_RECTANGLE (0, 0, TW, TH), 0,
                   babl_format ("R'G'B'A u8"), pixels, GEGL_AUTO_ROWSTRIDE);
  hints = make_hints ();

  check_read (hints);
  check_scale ();
  check_compute (model, src, hints);

  g_free (pixels);
  g_object_unref (hints);
  g_object_unref (src);
  nn_model_free (model);
  gegl_exit ();
  return n_failed ? 1 : 0;
}
