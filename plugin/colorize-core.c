/* colorize-core.c - weights lookup and the GEGL/babl side of the plug-in,
 * shared by the GIMP 2.10 and GIMP 3.0 hosts.  See colorize-core.h.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <gegl.h>
#include <babl/babl.h>

#include "blas.h"
#include "colorize-core.h"
#include "gamut.h"
#include "weights.h"

#define LAB_FORMAT "CIE Lab alpha float"

/* Rows converted and written per gegl_buffer_set call. */
#define COLORIZE_BAND_ROWS 128
/* Pixels per parallel chunk of the gamut mapping. */
#define GAMUT_CHUNK 8192
/* Painted pixels of a band of hints below which they are converted in
 * one thread. */
#define HINTS_PARALLEL_MIN (4 * GAMUT_CHUNK)

G_DEFINE_QUARK (colorize-error-quark, colorize_error)

gchar *
colorize_weights_dir (const gchar *progname)
{
  const gchar *env = g_getenv (COLORIZE_WEIGHTS_ENV);
  gchar       *dir;
  gchar       *path;

  if (env && *env)
    return g_strdup (env);

  dir  = g_path_get_dirname (progname ? progname : ".");
  path = g_build_filename (dir, "weights", NULL);
  g_free (dir);
  return path;
}

gchar *
colorize_weights_path (const gchar *progname, const gchar *model)
{
  nn_arch arch;

  if (model && nn_arch_parse (model, &arch) == NN_OK)
    {
      gchar *dir  = colorize_weights_dir (progname);
      gchar *file = g_strconcat (nn_arch_name (arch), ".weights", NULL);
      gchar *path = g_build_filename (dir, file, NULL);

      g_free (file);
      g_free (dir);
      return path;
    }
  return g_strdup (model ? model : "");
}

const gchar *
colorize_arch_label (nn_arch arch)
{
  switch (arch)
    {
    case NN_ARCH_CNN:      return "CNN";
    case NN_ARCH_RESNET18: return "ResNet18";
    default:               return "unknown";
    }
}

nn_model *
colorize_model_load (const gchar *path, nn_arch expected, GError **error)
{
  nn_model *model = NULL;
  nn_error  err;
  nn_code   code;

  if (! path || ! *path)
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "No weights file given.");
      return NULL;
    }
  if (! g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_IO,
                   "The weights file '%s' does not exist.  Install the "
                   "plug-in with its weights (make install), choose a "
                   "weights file, or set %s to the folder that holds "
                   "cnn.weights and resnet18.weights.",
                   path, COLORIZE_WEIGHTS_ENV);
      return NULL;
    }

  memset (&err, 0, sizeof err);
  code = nn_weights_load (path, &model, &err);
  if (code != NN_OK)
    {
      g_set_error (error, COLORIZE_ERROR, code,
                   "Could not load the weights file '%s': %s",
                   path, err.message[0] ? err.message : nn_code_name (code));
      return NULL;
    }

  if ((gint) expected >= 0 && expected < NN_ARCH_COUNT &&
      model->arch != expected)
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARCH,
                   "The weights file '%s' holds a %s model, not a %s one: "
                   "use \"Colorize with %s\" for it.",
                   path, colorize_arch_label (model->arch),
                   colorize_arch_label (expected),
                   colorize_arch_label (model->arch));
      nn_model_free (model);
      return NULL;
    }
  nn_model_freeze (model); /* nothing here writes its parameters */
  return model;
}

/* ---- vividness --------------------------------------------------------- */

gboolean
colorize_vividness_check (gdouble vividness, GError **error)
{
  if (vividness == COLORIZE_VIVIDNESS_DEFAULT ||
      (vividness >= 0.0 && vividness <= 1.0))
    return TRUE;
  g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
               "The vividness must be between 0 (dull) and 1 (vivid), or "
               "-1 for the model's default, not %g.", vividness);
  return FALSE;
}

gdouble
colorize_vividness_to_temperature (gdouble vividness)
{
  if (vividness < 0.0)
    return 0.0;
  return COLORIZE_VIVIDNESS_DULL_TEMPERATURE *
         pow (COLORIZE_VIVIDNESS_VIVID_TEMPERATURE /
              COLORIZE_VIVIDNESS_DULL_TEMPERATURE, MIN (vividness, 1.0));
}

gdouble
colorize_temperature_to_vividness (gdouble t)
{
  gdouble v;

  if (! (t > 0.0))
    return 1.0;
  v = log (t / COLORIZE_VIVIDNESS_DULL_TEMPERATURE) /
      log (COLORIZE_VIVIDNESS_VIVID_TEMPERATURE /
           COLORIZE_VIVIDNESS_DULL_TEMPERATURE);
  return CLAMP (v, 0.0, 1.0);
}

gdouble
colorize_model_temperature (const nn_model *m, gdouble vividness)
{
  gdouble t = colorize_vividness_to_temperature (vividness);

  /* As colorize_options.temperature: 0 is the model's default; and in
   * float, as the pipeline gets it. */
  return t > 0.0 ? (gdouble) (gfloat) t : nn_colorize_default_temperature (m);
}

gdouble
colorize_model_default_vividness (const nn_model *m)
{
  return colorize_temperature_to_vividness (nn_colorize_default_temperature (m));
}

gboolean
colorize_model_has_vividness (const nn_model *m)
{
  return m && m->head_bins > 0;
}

/* ---- the network ------------------------------------------------------- */

typedef struct
{
  ColorizeProgressFunc func;
  gpointer             data;
  gdouble              lo;
  gdouble              hi;
  gboolean             cancelled; /* func returned FALSE */
} ProgressRange;

static int
progress_range_cb (double fraction, void *user_data)
{
  ProgressRange *r = user_data;

  if (! r->func || r->cancelled)
    return r->cancelled ? 1 : 0;
  if (! r->func (r->lo + (r->hi - r->lo) * CLAMP (fraction, 0.0, 1.0),
                 r->data))
    r->cancelled = TRUE;
  return r->cancelled ? 1 : 0;
}

/* The nn options of a run, checked (working size, strength, vividness). */
static gboolean
network_options (gint working_size, gdouble strength, gdouble vividness,
                 const ColorizeHints *hints, ProgressRange *range,
                 const volatile gint *cancel, colorize_options *opt,
                 GError **error)
{
  if (working_size != 0 &&
      (working_size < COLORIZE_MIN_WORKING_SIZE ||
       working_size > COLORIZE_MAX_WORKING_SIZE))
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "The working size must be 0 (the model's default) or "
                   "between %d and %d pixels, not %d.",
                   COLORIZE_MIN_WORKING_SIZE, COLORIZE_MAX_WORKING_SIZE,
                   working_size);
      return FALSE;
    }
  if (! isfinite (strength) || strength < 0.0 || strength > 10.0)
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "The strength must be between 0 and 10, not %g.",
                   strength);
      return FALSE;
    }
  if (! colorize_vividness_check (vividness, error))
    return FALSE;

  *opt = COLORIZE_OPTIONS_DEFAULT;
  opt->working_size  = working_size;
  opt->strength      = (float) strength;
  opt->temperature   = (float) colorize_vividness_to_temperature (vividness);
  opt->progress      = progress_range_cb;
  opt->progress_data = range;
  opt->cancel        = (const volatile int *) cancel;
  opt->hints         = hints ? hints->hints : NULL;
  opt->n_hints       = hints ? hints->n : 0;
  return TRUE;
}

/* FALSE with error for an nn failure (code not NN_OK), else TRUE. */
static gboolean
network_failed (nn_code code, const nn_error *err, GError **error)
{
  if (code == NN_OK)
    return FALSE;
  if (code == NN_ERR_CANCELLED)
    g_set_error (error, COLORIZE_ERROR, code, "Colorize was cancelled.");
  else
    g_set_error (error, COLORIZE_ERROR, code, "Colorizing failed: %s",
                 err->message[0] ? err->message : nn_code_name (code));
  return TRUE;
}

static gboolean
run_network (nn_model *model, gfloat *lab, gint width, gint height,
             gint working_size, gdouble strength, gdouble vividness,
             const ColorizeHints *hints, ProgressRange *range,
             const volatile gint *cancel, GError **error)
{
  colorize_options opt;
  nn_error         err;

  if (! network_options (working_size, strength, vividness, hints, range,
                         cancel, &opt, error))
    return FALSE;
  memset (&err, 0, sizeof err);
  return ! network_failed (nn_colorize_image (model, lab, width, height, 4,
                                              &opt, &err), &err, error);
}

gboolean
colorize_pixels (nn_model *model, gfloat *lab, gint width, gint height,
                 gint working_size, gdouble strength, gdouble vividness,
                 const ColorizeHints *hints,
                 ColorizeProgressFunc progress, gpointer data,
                 const volatile gint *cancel, GError **error)
{
  ProgressRange range = { progress, data, 0.0, 1.0, FALSE };

  return run_network (model, lab, width, height, working_size, strength,
                      vividness, hints, &range, cancel, error);
}

/* ---- gamut mapping ----------------------------------------------------- */

/* nn_gamut_map's conversion: babl's fish from LAB_FORMAT. */
static void
babl_lab_to_rgb (const float *lab, float *rgb, size_t n, void *fish)
{
  babl_process ((const Babl *) fish, lab, rgb, n);
}

/* One chunk of n pixels; rgba must hold 4 * n floats.  Without memory
 * for the mapping the plain conversion stays (clipped later). */
static void
gamut_map_chunk (const Babl *fish, gfloat *lab, gfloat *rgba, gsize n)
{
  nn_error err;

  nn_gamut_map (lab, rgba, n, 4, babl_lab_to_rgb, (void *) fish, &err);
}

void
colorize_gamut_map (const Babl *rgb_format, gfloat *lab, gfloat *rgba,
                    gsize n)
{
  const Babl *fish = babl_fish (babl_format (LAB_FORMAT), rgb_format);
  gsize       n_chunks = (n + GAMUT_CHUNK - 1) / GAMUT_CHUNK;
  gssize      k;

#pragma omp parallel for schedule(dynamic)
  for (k = 0; k < (gssize) n_chunks; k++)
    {
      gsize   start = (gsize) k * GAMUT_CHUNK;
      gsize   len   = MIN ((gsize) GAMUT_CHUNK, n - start);
      gfloat *out   = rgba ? rgba + 4 * start : g_new (gfloat, 4 * len);

      gamut_map_chunk (fish, lab + 4 * start, out, len);
      if (! rgba)
        g_free (out);
    }
}

/* ---- buffers ----------------------------------------------------------- */

/* babl_process over n pixels in parallel chunks (babl fishes are safe to
 * use from several threads). */
static void
process_parallel (const Babl *fish, const void *src, gint src_bpp,
                  void *dst, gint dst_bpp, gsize n)
{
  gsize  n_chunks = (n + GAMUT_CHUNK - 1) / GAMUT_CHUNK;
  gssize k;

#pragma omp parallel for schedule(static)
  for (k = 0; k < (gssize) n_chunks; k++)
    {
      gsize start = (gsize) k * GAMUT_CHUNK;
      gsize len   = MIN ((gsize) GAMUT_CHUNK, n - start);

      babl_process (fish, (const guchar *) src + start * src_bpp,
                    (guchar *) dst + start * dst_bpp, len);
    }
}

/* Reads rect of src as Lab-alpha floats, band by band, converted in
 * parallel, keeping L in the plane L and alpha in the plane alpha (NULL:
 * src has none, alpha is 1). */
static void
read_planes (GeglBuffer *src, const GeglRectangle *rect, gfloat *L,
             gfloat *alpha)
{
  const Babl *native = gegl_buffer_get_format (src);
  const Babl *fish   = babl_fish (native, babl_format (LAB_FORMAT));
  gint        bpp    = babl_format_get_bytes_per_pixel (native);
  gsize       band_n = (gsize) rect->width * COLORIZE_BAND_ROWS;
  guchar     *band   = g_malloc ((gsize) bpp * band_n);
  gfloat     *lab    = g_malloc (4 * sizeof (gfloat) * band_n);
  gint        y;

  for (y = 0; y < rect->height; y += COLORIZE_BAND_ROWS)
    {
      gint   rows = MIN (COLORIZE_BAND_ROWS, rect->height - y);
      gsize  n    = (gsize) rect->width * rows, off = (gsize) rect->width * y;
      gssize i;

      gegl_buffer_get (src,
                       GEGL_RECTANGLE (rect->x, rect->y + y, rect->width, rows),
                       1.0, native, band, GEGL_AUTO_ROWSTRIDE,
                       GEGL_ABYSS_NONE);
      process_parallel (fish, band, bpp, lab, 4 * sizeof (gfloat), n);
#pragma omp parallel for schedule(static)
      for (i = 0; i < (gssize) n; i++)
        {
          L[off + i] = lab[4 * i];
          if (alpha)
            alpha[off + i] = lab[4 * i + 3];
        }
    }
  g_free (lab);
  g_free (band);
}

static gfloat *
alloc_pixels (gint width, gint height, GError **error)
{
  gsize   n = (gsize) width * (gsize) height;
  gfloat *p = NULL;

  if (width <= 0 || height <= 0 || n > G_MAXSIZE / (4 * sizeof (gfloat)))
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "Cannot colorize an image of %d x %d pixels.",
                   width, height);
      return NULL;
    }
  p = g_try_malloc (n * 4 * sizeof (gfloat));
  if (! p)
    g_set_error (error, COLORIZE_ERROR, NN_ERR_NOMEM,
                 "Not enough memory for a %d x %d image (%zu MiB).",
                 width, height, n * 4 * sizeof (gfloat) >> 20);
  return p;
}

gfloat *
colorize_read_scaled (GeglBuffer *src, gint max_side, gint *width,
                      gint *height, GError **error)
{
  const GeglRectangle *ext  = gegl_buffer_get_extent (src);
  gint                 side = MAX (ext->width, ext->height);
  gdouble              scale = 1.0;
  gint                 w = ext->width;
  gint                 h = ext->height;
  gfloat              *pix;

  if (max_side > 0 && side > max_side)
    {
      scale = (gdouble) max_side / side;
      w = MAX (1, (gint) floor (ext->width * scale));
      h = MAX (1, (gint) floor (ext->height * scale));
    }

  pix = alloc_pixels (w, h, error);
  if (! pix)
    return NULL;

  gegl_buffer_get (src,
                   GEGL_RECTANGLE ((gint) floor (ext->x * scale),
                                   (gint) floor (ext->y * scale), w, h),
                   scale, babl_format (LAB_FORMAT), pix,
                   GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_CLAMP);
  *width  = w;
  *height = h;
  return pix;
}

/* ---- colour hints ------------------------------------------------------ */

void
colorize_hints_clear (ColorizeHints *hints)
{
  g_clear_pointer (&hints->hints, g_free);
  hints->n = 0;
}

/* Bytes of the alpha component of a format: the last component in
 * GIMP's formats (all of one type); 0 when it has none, or when that
 * cannot be told (then every pixel is read). */
static gint
alpha_bytes (const Babl *format)
{
  gint n   = babl_format_get_n_components (format);
  gint bpp = babl_format_get_bytes_per_pixel (format);

  if (! babl_format_has_alpha (format) || n < 1 || bpp % n)
    return 0;
  return bpp / n;
}

static gboolean
any_byte (const guchar *p, gint n)
{
  gint i;

  for (i = 0; i < n; i++)
    if (p[i])
      return TRUE;
  return FALSE;
}

typedef struct
{
  const Babl *native;
  const Babl *fish;
  gint        bpp;
  gint        abytes;  /* alpha_bytes (native) */
  guchar     *band;    /* native pixels of a band */
  guchar     *packed;  /* those whose alpha is not 0 (all without alpha) */
  gsize      *idx;     /* their index in the band */
  gfloat     *lab;     /* and as Lab-alpha */
} HintsReader;

/* Appends the painted pixels of the n native pixels in r->band, the
 * band's first pixel at (x, y) of the target, `width` a row.  Only the
 * pixels whose alpha is not 0 are converted to Lab (most of a hints layer
 * is transparent). */
static void
hints_collect (HintsReader *r, gsize n, gint width, gint x, gint y,
               GArray *list)
{
  gsize i, m = 0;

  for (i = 0; i < n; i++)
    {
      const guchar *p = r->band + i * r->bpp;

      if (r->abytes && ! any_byte (p + r->bpp - r->abytes, r->abytes))
        continue;
      memcpy (r->packed + m * r->bpp, p, r->bpp);
      r->idx[m++] = i;
    }
  /* A band of a hints layer holds few painted pixels: waking the
   * threads would cost more than converting them. */
  if (m > HINTS_PARALLEL_MIN)
    process_parallel (r->fish, r->packed, r->bpp, r->lab,
                      4 * sizeof (gfloat), m);
  else
    babl_process (r->fish, r->packed, r->lab, m);
  for (i = 0; i < m; i++)
    {
      const gfloat *p = r->lab + 4 * i;

      if (p[3] > 0.0f)
        {
          nn_hint h = { x + (gint) (r->idx[i] % width),
                        y + (gint) (r->idx[i] / width),
                        p[1], p[2], MIN (p[3], 1.0f) };

          g_array_append_val (list, h);
        }
    }
}

gboolean
colorize_hints_read (GeglBuffer *hints, gint hints_x, gint hints_y,
                     gint target_x, gint target_y, gint width, gint height,
                     ColorizeHints *out, GError **error)
{
  const GeglRectangle *ext = gegl_buffer_get_extent (hints);
  GeglRectangle        a   = { hints_x, hints_y, ext->width, ext->height };
  GeglRectangle        b   = { target_x, target_y, width, height };
  GeglRectangle        o;
  HintsReader          r;
  GArray              *list;
  gsize                band_n;
  gboolean             ok;
  gint64               t0;
  gint                 y;

  *out = COLORIZE_HINTS_NONE;
  if (! gegl_rectangle_intersect (&o, &a, &b))
    return TRUE;
  t0       = g_get_monotonic_time ();
  r.native = gegl_buffer_get_format (hints);
  r.fish   = babl_fish (r.native, babl_format (LAB_FORMAT));
  r.bpp    = babl_format_get_bytes_per_pixel (r.native);
  r.abytes = alpha_bytes (r.native);
  band_n   = (gsize) o.width * COLORIZE_BAND_ROWS;
  r.band   = g_try_malloc (band_n * r.bpp);
  r.packed = g_try_malloc (band_n * r.bpp);
  r.idx    = g_try_new (gsize, band_n);
  r.lab    = g_try_new (gfloat, 4 * band_n);
  list     = g_array_new (FALSE, FALSE, sizeof (nn_hint));
  for (y = 0; r.band && r.packed && r.idx && r.lab && y < o.height;
       y += COLORIZE_BAND_ROWS)
    {
      gint rows = MIN (COLORIZE_BAND_ROWS, o.height - y);

      /* In the hints buffer's own coordinates. */
      gegl_buffer_get (hints,
                       GEGL_RECTANGLE (ext->x + o.x - hints_x,
                                       ext->y + o.y + y - hints_y,
                                       o.width, rows),
                       1.0, r.native, r.band, GEGL_AUTO_ROWSTRIDE,
                       GEGL_ABYSS_NONE);
      hints_collect (&r, (gsize) o.width * rows, o.width, o.x - target_x,
                     o.y + y - target_y, list);
    }
  ok = r.band && r.packed && r.idx && r.lab;
  if (! ok)
    g_set_error (error, COLORIZE_ERROR, NN_ERR_NOMEM,
                 "Not enough memory to read the colour hints.");
  out->n     = ok ? list->len : 0;
  out->hints = (nn_hint *) g_array_free (list, out->n == 0);
  if (g_getenv ("COLORIZE_VERBOSE"))
    g_printerr ("colorize: hints: %zu painted pixels in the %dx%d overlap, "
                "read in %.3f s\n", (size_t) out->n, o.width, o.height,
                (g_get_monotonic_time () - t0) / 1e6);
  g_free (r.lab);
  g_free (r.idx);
  g_free (r.packed);
  g_free (r.band);
  return ok;
}

void
colorize_hints_scale (const ColorizeHints *in, gint width, gint height,
                      gint out_w, gint out_h, ColorizeHints *out)
{
  gsize   cells = (gsize) out_w * out_h;
  gfloat *acc;  /* per cell: sum of alpha a, of alpha b, of alpha; count */
  gsize   i, k = 0;

  acc = g_new0 (gfloat, 4 * cells);
  for (i = 0; i < in->n; i++)
    {
      const nn_hint *h = in->hints + i;
      gint           x = MIN (out_w - 1,
                              (gint) ((gint64) h->x * out_w / width));
      gint           y = MIN (out_h - 1,
                              (gint) ((gint64) h->y * out_h / height));
      gfloat        *c = acc + 4 * ((gsize) y * out_w + x);

      c[0] += h->alpha * h->a;
      c[1] += h->alpha * h->b;
      c[2] += h->alpha;
      c[3] += 1.0f;
    }
  for (i = 0; i < cells; i++)
    k += acc[4 * i + 3] > 0.0f;
  out->n     = k;
  out->hints = k ? g_new (nn_hint, k) : NULL;
  for (i = 0, k = 0; i < cells; i++)
    {
      const gfloat *c = acc + 4 * i;

      if (c[3] > 0.0f)
        out->hints[k++] = (nn_hint) { (gint) (i % out_w), (gint) (i / out_w),
                                      c[0] / c[2], c[1] / c[2],
                                      MIN (1.0f, c[2] / c[3]) };
    }
  g_free (acc);
}

void
colorize_hints_note_empty (const gchar *hints_name, const gchar *target_name)
{
  g_message ("The colour hints layer '%s' has nothing painted over '%s': "
             "colorizing without hints.", hints_name, target_name);
}

gboolean
colorize_hints_check_size (const gchar *path, gint hw, gint hh, gint w,
                           gint h, GError **error)
{
  if (hw == w && hh == h)
    return TRUE;
  g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
               "the hints file '%s' is %d x %d pixels, the photo %d x %d: "
               "a hints file must have its photo's size", path, hw, hh, w, h);
  return FALSE;
}

const gchar *
colorize_run_label (nn_arch arch, gboolean hints_only)
{
  return hints_only ? "hints only" : colorize_arch_label (arch);
}

static gboolean
report (ColorizeProgressFunc progress, gpointer data, gdouble fraction)
{
  return progress ? progress (fraction, data) : TRUE;
}

/* FNV-1a of n more bytes after h: the verbose line's fingerprint of a
 * result (the Lab-alpha pixels before gamut mapping, row by row). */
static guint64
fnv1a (guint64 h, const void *data, gsize n)
{
  const guchar *p = data;
  gsize         i;

  for (i = 0; i < n; i++)
    h = (h ^ p[i]) * G_GUINT64_CONSTANT (1099511628211);
  return h;
}

/* COLORIZE_VERBOSE as a number (0 when unset). */
static gint
verbose_level (void)
{
  const gchar *v = g_getenv ("COLORIZE_VERBOSE");

  return v ? MAX (1, atoi (v)) : 0;
}

/* What colorize_compute leaves for colorize_write (colorize-core.h). */
struct _ColorizeResult
{
  gint                width, height;
  gfloat             *L;       /* width x height */
  gfloat             *alpha;   /* width x height, or NULL: opaque */
  nn_colorize_result *nn;
};

void
colorize_result_free (ColorizeResult *result)
{
  if (! result)
    return;
  g_free (result->L);
  g_free (result->alpha);
  nn_colorize_result_free (result->nn);
  g_free (result);
}

static ColorizeResult *
compute_failed (ColorizeResult *result, gboolean cancelled, GError **error)
{
  if (cancelled)
    g_set_error (error, COLORIZE_ERROR, NN_ERR_CANCELLED,
                 "Colorize was cancelled.");
  colorize_result_free (result);
  return NULL;
}

/* A result with its planes for src's extent, or NULL with error. */
static ColorizeResult *
result_new (GeglBuffer *src, GError **error)
{
  const GeglRectangle *ext = gegl_buffer_get_extent (src);
  ColorizeResult      *r   = g_new0 (ColorizeResult, 1);
  gsize                n   = (gsize) ext->width * (gsize) ext->height;
  gboolean             has_alpha;

  has_alpha = babl_format_has_alpha (gegl_buffer_get_format (src));
  r->width  = ext->width;
  r->height = ext->height;
  if (ext->width > 0 && ext->height > 0
      && n <= G_MAXSIZE / (2 * sizeof (gfloat)))
    {
      r->L     = g_try_malloc (n * sizeof (gfloat));
      r->alpha = has_alpha ? g_try_malloc (n * sizeof (gfloat)) : NULL;
    }
  if (! r->L || (has_alpha && ! r->alpha))
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_NOMEM,
                   "Not enough memory for a %d x %d image (%zu MiB).",
                   ext->width, ext->height,
                   n * (has_alpha ? 2 : 1) * sizeof (gfloat) >> 20);
      colorize_result_free (r);
      return NULL;
    }
  return r;
}

ColorizeResult *
colorize_compute (nn_model            *model,
                  GeglBuffer          *src,
                  gint                 working_size,
                  gdouble              strength,
                  gdouble              vividness,
                  const ColorizeHints *hints,
                  ColorizeProgressFunc progress,
                  gpointer             progress_data,
                  GError             **error)
{
  ProgressRange     range = { progress, progress_data, 0.1, 0.85, FALSE };
  colorize_options  opt;
  nn_error          err;
  ColorizeResult   *r;
  gint64            t0, t1;

  if (! network_options (working_size, strength, vividness, hints, &range,
                         NULL, &opt, error))
    return NULL;
  if (! (r = result_new (src, error)))
    return NULL;
  if (! report (progress, progress_data, 0.0))
    return compute_failed (r, TRUE, error);
  t0 = g_get_monotonic_time ();
  read_planes (src, gegl_buffer_get_extent (src), r->L, r->alpha);
  t1 = g_get_monotonic_time ();

  if (! report (progress, progress_data, 0.1))
    return compute_failed (r, TRUE, error);
  memset (&err, 0, sizeof err);
  if (network_failed (nn_colorize_prepare (model, r->L, r->width, r->height,
                                           1, &opt, &r->nn, &err),
                      &err, error))
    return compute_failed (r, FALSE, error);
  if (range.cancelled || ! report (progress, progress_data, 0.85))
    return compute_failed (r, TRUE, error);
  if (g_getenv ("COLORIZE_VERBOSE"))
    {
      g_printerr ("colorize: read %dx%d as L %.3f s, network %.3f s, %zu "
                  "hint pixels\n", r->width, r->height, (t1 - t0) / 1e6,
                  (g_get_monotonic_time () - t1) / 1e6,
                  (size_t) (hints ? hints->n : 0));
      if (! model)
        g_printerr ("colorize: hints only: no network\n");
      else if (colorize_model_has_vividness (model))
        g_printerr ("colorize: %d colour classes, temperature %.3f "
                    "(vividness %.3g%s)\n", model->head_bins,
                    colorize_model_temperature (model, vividness),
                    vividness, vividness < 0.0 ? ": the model's default"
                                               : "");
      else
        g_printerr ("colorize: no colour classes: the vividness has no "
                    "effect\n");
    }
  return r;
}

gboolean
colorize_result_rows (const ColorizeResult *r, gint y, gint rows,
                      gfloat *lab, GError **error)
{
  gsize    n = (gsize) r->width * MAX (rows, 0), off;
  nn_error err;
  gssize   i;

  if (y < 0 || rows < 0 || rows > r->height - y)
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG, "Internal error: rows "
                   "%d to %d of a %d-row result.", y, y + rows, r->height);
      return FALSE;
    }
  off = (gsize) r->width * y;
#pragma omp parallel for schedule(static)
  for (i = 0; i < (gssize) n; i++)
    {
      lab[4 * i]     = r->L[off + i];
      lab[4 * i + 1] = lab[4 * i + 2] = 0.0f;
      lab[4 * i + 3] = r->alpha ? r->alpha[off + i] : 1.0f;
    }
  memset (&err, 0, sizeof err);
  return ! network_failed (nn_colorize_apply_rows (r->nn, lab, y, rows, 4,
                                                   &err), &err, error);
}

/* The buffers of a band of colorize_write, or FALSE with error. */
static gboolean
write_buffers (gint width, gint native_bpp, gfloat **lab, gfloat **rgba,
               guchar **out, GError **error)
{
  gsize n = (gsize) width * COLORIZE_BAND_ROWS;

  *lab  = g_try_new (gfloat, 4 * n);
  *rgba = g_try_new (gfloat, 4 * n);
  *out  = g_try_malloc ((gsize) native_bpp * n);
  if (*lab && *rgba && *out)
    return TRUE;
  g_set_error (error, COLORIZE_ERROR, NN_ERR_NOMEM,
               "Not enough memory to write a %d-pixel-wide layer.", width);
  g_free (*lab);
  g_free (*rgba);
  g_free (*out);
  return FALSE;
}

gboolean
colorize_write (const ColorizeResult *result,
                GeglBuffer           *dst,
                ColorizeProgressFunc  progress,
                gpointer              progress_data,
                GError              **error)
{
  const GeglRectangle *dext = gegl_buffer_get_extent (dst);
  const gint           width = result->width, height = result->height;
  const Babl          *rgb_format, *native, *to_native;
  gint                 native_bpp;
  gfloat              *lab, *rgba;
  guchar              *out;
  gboolean             ok = TRUE;
  guint64              h = G_GUINT64_CONSTANT (14695981039346656037);
  gint64               t[5] = { 0 }, dt[4] = { 0 };
  const gint           verbose = verbose_level ();
  gint                 y;

  if (dext->width != width || dext->height != height)
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "Internal error: computed %d x %d pixels for a "
                   "%d x %d layer.", width, height,
                   dext->width, dext->height);
      return FALSE;
    }
  /* Gamut-mapped linear RGBA float in dst's space, then dst's own
   * format, both in parallel, so that gegl_buffer_set only copies. */
  native     = gegl_buffer_get_format (dst);
  native_bpp = babl_format_get_bytes_per_pixel (native);
  rgb_format = babl_format_with_space ("RGBA float",
                                       babl_format_get_space (native));
  to_native  = babl_fish (rgb_format, native);
  if (! write_buffers (width, native_bpp, &lab, &rgba, &out, error))
    return FALSE;
  for (y = 0; ok && y < height; y += COLORIZE_BAND_ROWS)
    {
      gint  rows = MIN (COLORIZE_BAND_ROWS, height - y);
      gsize n    = (gsize) width * rows;

      t[0] = g_get_monotonic_time ();
      if (! (ok = colorize_result_rows (result, y, rows, lab, error)))
        break;
      if (verbose >= 2)
        h = fnv1a (h, lab, n * 4 * sizeof (gfloat));
      t[1] = g_get_monotonic_time ();
      colorize_gamut_map (rgb_format, lab, rgba, n);
      t[2] = g_get_monotonic_time ();
      process_parallel (to_native, rgba, 4 * sizeof (gfloat), out,
                        native_bpp, n);
      t[3] = g_get_monotonic_time ();
      gegl_buffer_set (dst,
                       GEGL_RECTANGLE (dext->x, dext->y + y, width, rows), 0,
                       native, out, GEGL_AUTO_ROWSTRIDE);
      t[4] = g_get_monotonic_time ();
      for (gint k = 0; k < 4; k++)
        dt[k] += t[k + 1] - t[k];
      report (progress, progress_data,
              0.85 + 0.15 * (gdouble) (y + rows) / height);
    }
  gegl_buffer_flush (dst);
  /* The fingerprint reads every byte of the result one at a time (0.25 s
   * on 12 megapixels, inside the timings): COLORIZE_VERBOSE=2 only. */
  if (ok && verbose >= 2)
    g_printerr ("colorize: result FNV-1a %016" G_GINT64_MODIFIER "x\n", h);
  if (ok && verbose >= 1)
    g_printerr ("colorize: wrote %dx%d: upsampled %.3f s, gamut-mapped "
                "%.3f s, converted %.3f s, set %.3f s\n", width, height,
                dt[0] / 1e6, dt[1] / 1e6, dt[2] / 1e6, dt[3] / 1e6);
  g_free (out);
  g_free (rgba);
  g_free (lab);
  return ok;
}

#ifdef COLORIZE_TEST_HOOKS
void
colorize_test_cancel_point (gdouble fraction)
{
  static gint    state = 0; /* 0: file not read yet, 1: armed, 2: off */
  static gdouble at;

  if (state == 0)
    {
      const gchar *file = g_getenv (COLORIZE_TEST_CANCEL_ENV);
      gchar       *text = NULL;
      gchar       *end;

      state = 2;
      if (file && *file && g_file_get_contents (file, &text, NULL, NULL))
        {
          at = g_ascii_strtod (text, &end);
          if (end != text)
            state = 1;
          g_free (text);
        }
    }
  if (state == 1 && fraction >= at)
    {
      g_printerr ("colorize: test hook: cancelled at progress %.3f "
                  "(SIGKILL, as GIMP does)\n", fraction);
      raise (SIGKILL);
    }
}
#endif

void
colorize_log_times (const gchar *what, gint width, gint height,
                    gint64 start, gint64 loaded, gint64 computed,
                    gint64 written)
{
  gchar *status = NULL;
  gchar *peak   = NULL;
  char   kernel[256];

  if (! g_getenv ("COLORIZE_VERBOSE"))
    return;
  /* Linux: the process's peak resident memory so far. */
  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    {
      gchar *line = strstr (status, "VmHWM:");

      if (line)
        peak = g_strndup (line + 6, strcspn (line + 6, "\n"));
      g_free (status);
    }
  g_printerr ("colorize: %s %dx%d: weights loaded %.3f s, network done "
              "%.3f s, layer written %.3f s, peak memory %s, OpenBLAS "
              "kernel %s\n",
              what, width, height, (loaded - start) / 1e6,
              (computed - start) / 1e6, (written - start) / 1e6,
              peak ? g_strstrip (peak) : "unknown",
              nn_blas_describe (kernel, sizeof kernel));
  g_free (peak);
}
