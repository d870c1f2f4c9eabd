/* colorize-op.c - one whole-image run of the colorize GEGL operations
 * through the plug-in's core (see colorize-op.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <string.h>

#include <gegl.h>

#include "colorize-core.h"
#include "colorize-op.h"

/* colorize-op-properties.h writes the strength range as a literal (it is
 * expanded where nn/colorize.h cannot be included). */
_Static_assert ((int) COLORIZE_MAX_STRENGTH == 10,
                "the strength property's range is COLORIZE_MAX_STRENGTH");

#define OP_LAB_FORMAT "CIE Lab alpha float"

gchar *
colorize_op_module_path (void)
{
  Dl_info info;

  if (dladdr ((void *) colorize_op_module_path, &info) && info.dli_fname)
    return g_strdup (info.dli_fname);
  return NULL;
}

void
colorize_op_state_free (ColorizeOpState *state)
{
  if (! state)
    return;
  nn_model_free (state->model);
  g_free (state->path);
  g_free (state);
}

/* The weights file of a run: the property, else the bundled file of the
 * architecture ($COLORIZE_WEIGHTS_DIR, else "weights" beside the module,
 * as the plug-in finds its own). */
static gchar *
weights_path (const ColorizeOpParams *params)
{
  gchar *module;
  gchar *path;

  if (params->weights_file && *params->weights_file)
    return g_strdup (params->weights_file);
  module = colorize_op_module_path ();
  path   = colorize_weights_path (module, nn_arch_name (params->arch));
  g_free (module);
  return path;
}

/* The model for params, from the cache when its path is unchanged. */
static nn_model *
ensure_model (ColorizeOpState **state, const ColorizeOpParams *params,
              GError **error)
{
  gchar    *path = weights_path (params);
  nn_model *model;

  if (! *state)
    *state = g_new0 (ColorizeOpState, 1);
  if ((*state)->model && ! g_strcmp0 ((*state)->path, path))
    {
      g_free (path);
      return (*state)->model;
    }
  model = colorize_model_load (path, params->arch, error);
  if (! model)
    {
      g_free (path);
      return NULL;
    }
  nn_model_free ((*state)->model);
  g_free ((*state)->path);
  (*state)->model = model;
  (*state)->path  = path;
  return model;
}

/* Reads the hints of the aux buffer over rect (in the graph's
 * coordinates, which aux shares). */
static gboolean
read_hints (GeglBuffer *aux, const GeglRectangle *rect, ColorizeHints *hints,
            GError **error)
{
  const GeglRectangle *ext;

  *hints = COLORIZE_HINTS_NONE;
  if (! aux)
    return TRUE;
  ext = gegl_buffer_get_extent (aux);
  return colorize_hints_read (aux, ext->x, ext->y, rect->x, rect->y,
                              rect->width, rect->height, hints, error);
}

/* Colorizes lab (rect's pixels) in place; FALSE with error. */
static gboolean
compute (ColorizeOpState **state, const ColorizeOpParams *params,
         GeglBuffer *aux, const GeglRectangle *rect, gfloat *lab,
         gint64 *loaded, GError **error)
{
  ColorizeHints hints = COLORIZE_HINTS_NONE;
  nn_model     *model = NULL;
  gboolean      ok;

  if (! params->hints_only &&
      ! (model = ensure_model (state, params, error)))
    return FALSE;
  *loaded = g_get_monotonic_time ();
  if (! read_hints (aux, rect, &hints, error))
    return FALSE;
  if (params->hints_only && hints.n == 0)
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "hints-only needs colour hints: connect a layer with "
                   "painted strokes (alpha > 0) over the image to the aux "
                   "pad.");
      return FALSE;
    }
  ok = colorize_pixels (model, lab, rect->width, rect->height,
                        params->working_size, params->strength,
                        params->vividness, &hints, NULL, NULL, NULL, error);
  colorize_hints_clear (&hints);
  return ok;
}

gboolean
colorize_op_run (ColorizeOpState        **state,
                 const gchar             *op_name,
                 const ColorizeOpParams  *params,
                 GeglBuffer              *input,
                 GeglBuffer              *aux,
                 GeglBuffer              *output,
                 const GeglRectangle     *rect)
{
  const Babl *space  = babl_format_get_space (gegl_buffer_get_format (input));
  const Babl *rgba   = babl_format_with_space ("RGBA float", space);
  gsize       n      = (gsize) rect->width * rect->height;
  gint64      start  = g_get_monotonic_time ();
  gint64      loaded = start, computed;
  GError     *error  = NULL;
  gfloat     *lab    = g_try_new (gfloat, 4 * n);
  gfloat     *out    = NULL;

  if (! lab)
    g_set_error (&error, COLORIZE_ERROR, NN_ERR_NOMEM,
                 "Not enough memory for %dx%d pixels.", rect->width,
                 rect->height);
  else
    {
      gegl_buffer_get (input, rect, 1.0, babl_format (OP_LAB_FORMAT), lab,
                       GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
      if (compute (state, params, aux, rect, lab, &loaded, &error) &&
          ! (out = g_try_new (gfloat, 4 * n)))
        g_set_error (&error, COLORIZE_ERROR, NN_ERR_NOMEM,
                     "Not enough memory for %dx%d pixels.", rect->width,
                     rect->height);
    }
  if (error)
    {
      g_warning ("%s: %s", op_name, error->message);
      g_clear_error (&error);
      gegl_buffer_copy (input, rect, GEGL_ABYSS_NONE, output, rect);
      g_free (lab);
      return FALSE;
    }
  computed = g_get_monotonic_time ();
  colorize_gamut_map (rgba, lab, out, n);
  gegl_buffer_set (output, rect, 0, rgba, out, GEGL_AUTO_ROWSTRIDE);
  colorize_log_times (op_name, rect->width, rect->height, start, loaded,
                      computed, g_get_monotonic_time ());
  g_free (out);
  g_free (lab);
  return TRUE;
}
