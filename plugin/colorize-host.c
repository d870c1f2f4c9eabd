/* colorize-host.c - what the plug-in does in GIMP, for both hosts (see
 * colorize-host.h). */
#include <stdarg.h>

#include "colorize-core.h"
#include "colorize-dir.h"
#include "colorize-host.h"

/* Sets error (COLORIZE_ERROR, code) and returns FALSE. */
static gboolean G_GNUC_PRINTF (3, 4)
fail (GError **error, gint code, const gchar *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  g_propagate_error (error, g_error_new_valist (COLORIZE_ERROR, code, fmt,
                                                ap));
  va_end (ap);
  return FALSE;
}

gboolean
colorize_layer_check (const ColorizeHost *h, gpointer image,
                      gpointer drawable, GError **error)
{
  gchar    *name;

  if (! drawable || ! h->in_image (image, drawable))
    return fail (error, NN_ERR_ARG, "The drawable is not part of the image.");
  if (! h->is_layer (drawable))
    return fail (error, NN_ERR_ARG,
                 "Colorize works on a layer: select a layer, not a "
                 "channel or a layer mask.");
  if (! h->is_group (drawable))
    return TRUE;
  name = h->name (drawable);
  fail (error, NN_ERR_ARG,
        "'%s' is a layer group: select one of its layers.", name);
  g_free (name);
  return FALSE;
}

/* Step 1: the drawable, the hints layer, the selection. */
static gboolean
check_items (const ColorizeHost *h, gpointer image, gpointer drawable,
             const ColorizeRun *run, GError **error)
{
  gboolean  ok = TRUE;
  gchar    *name;

  if (! colorize_layer_check (h, image, drawable, error))
    return FALSE;
  name = h->name (drawable);
  if (! run->hints && run->hints_only)
    ok = fail (error, NN_ERR_ARG,
               "Hints only colours from the colour hints alone: "
               "choose a colour hints layer.");
  else if (run->hints && (! h->in_image (image, run->hints) ||
                          ! h->is_layer (run->hints) ||
                          h->is_group (run->hints)))
    ok = fail (error, NN_ERR_ARG,
               "The colour hints must be a layer of the image (not "
               "a channel, a mask or a layer group).");
  else if (run->hints == drawable)
    ok = fail (error, NN_ERR_ARG,
               "The colour hints layer is '%s', the layer being "
               "colorized: paint the hints on a layer of their own (a new "
               "transparent layer above it) and choose that.", name);
  else if (! h->mask_intersect (drawable))
    ok = fail (error, NN_ERR_ARG,
               "The selection does not overlap the layer '%s': "
               "nothing to colorize.", name);
  g_free (name);
  return ok;
}

gboolean
colorize_layer_read_hints (const ColorizeHost *h, gpointer drawable,
                           gpointer hints, ColorizeHints *out, GError **error)
{
  GeglBuffer *buffer;
  gint        hx, hy, tx, ty;
  gboolean    ok;

  *out = COLORIZE_HINTS_NONE;
  if (! hints)
    return TRUE;
  h->offsets (hints, &hx, &hy);
  h->offsets (drawable, &tx, &ty);
  buffer = h->buffer (hints);
  ok = colorize_hints_read (buffer, hx, hy, tx, ty, h->width (drawable),
                            h->height (drawable), out, error);
  g_object_unref (buffer);
  return ok;
}

/* The hints of the run, with a note when its layer has none. */
static gboolean
read_hints (const ColorizeHost *h, gpointer drawable, const ColorizeRun *run,
            ColorizeHints *out, GError **error)
{
  gboolean ok = colorize_layer_read_hints (h, drawable, run->hints, out,
                                           error);

  if (ok && run->hints && out->n == 0)
    {
      gchar *name   = h->name (run->hints);
      gchar *target = h->name (drawable);

      colorize_hints_note_empty (name, target);
      g_free (name);
      g_free (target);
    }
  return ok;
}

/* Step 2, which changes nothing in the image: the model (none for hints
 * only), the hints, the result. */
static ColorizeResult *
compute (const ColorizeHost *h, gpointer drawable, const ColorizeRun *run,
         gint64 *t_loaded, GError **error)
{
  nn_model      *model = NULL;
  ColorizeHints  hints;
  GeglBuffer    *buffer;
  ColorizeResult *result;
  gchar         *path;

  if (! run->hints_only)
    {
      path = run->weights && *run->weights
             ? g_strdup (run->weights)
             : colorize_weights_path (run->progname, nn_arch_name (run->arch));
      model = colorize_model_load (path, run->arch, error);
      g_free (path);
      if (! model)
        return NULL;
    }
  *t_loaded = g_get_monotonic_time ();

  path = g_strdup_printf ("Colorizing with %s",
                          colorize_run_label (run->arch, run->hints_only));
  h->progress_init (path);
  g_free (path);
  if (! read_hints (h, drawable, run, &hints, error))
    {
      nn_model_free (model);
      return NULL;
    }
  buffer = h->buffer (drawable);
  result = colorize_compute (model, buffer, run->working_size, run->strength,
                             run->vividness, &hints, h->progress, NULL,
                             error);
  g_object_unref (buffer);
  colorize_hints_clear (&hints);
  nn_model_free (model);
  return result;
}

/* Step 3 inside the undo group: the new layer with the result's pixels. */
static gboolean
write_layer (const ColorizeHost *h, gpointer image, gpointer drawable,
             const ColorizeRun *run, const ColorizeResult *result,
             GError **error)
{
  GeglBuffer *buffer;
  gpointer    layer;
  gchar      *name;
  gint        w = h->width (drawable), hh = h->height (drawable);
  gboolean    ok;

  if (! h->is_rgb (image) && ! h->convert_rgb (image))
    return fail (error, NN_ERR_ARG, "Could not convert the image to RGB: %s",
                 h->pdb_error ());
  name  = g_strdup_printf ("Colorized (%s)",
                           colorize_run_label (run->arch, run->hints_only));
  layer = h->new_layer_above (image, drawable, name, w, hh);
  g_free (name);
  if (! layer)
    return fail (error, NN_ERR_ARG,
                 "Could not add the new layer: %s", h->pdb_error ());

  buffer = h->buffer (layer);
  ok = colorize_write (result, buffer, NULL, NULL, error);
  g_object_unref (buffer);
  if (ok && ! h->selection_empty (image) && ! h->add_selection_mask (layer))
    ok = fail (error, NN_ERR_ARG,
               "Could not add the selection as a layer mask: %s",
               h->pdb_error ());
  if (ok)
    h->update (layer, w, hh);
  else
    h->remove_layer (image, layer);
  return ok;
}

gboolean
colorize_layer_run (const ColorizeHost *host, gpointer image,
                    gpointer drawable, const ColorizeRun *run, GError **error)
{
  gint64          t_start = g_get_monotonic_time (), t_loaded, t_computed;
  ColorizeResult *result;
  gboolean        ok;

  if (! check_items (host, image, drawable, run, error))
    return FALSE;
  result = compute (host, drawable, run, &t_loaded, error);
  if (! result)
    return FALSE;
  t_computed = g_get_monotonic_time ();

  /* The point of no return.  GIMP cancels a plug-in by killing it, and
   * only while the plug-in's progress is on: ending the progress
   * disconnects GIMP's cancel handler, so a run that changes the image
   * can no longer be cancelled halfway.  Nothing below may report
   * progress (that would start a new, cancellable one): the bar stops at
   * 0.85, the write (a fraction of a second for 12 megapixels) runs
   * without it. */
  host->progress_end ();
  host->undo_group (image, TRUE);
  ok = write_layer (host, image, drawable, run, result, error);
  host->undo_group (image, FALSE);
  colorize_result_free (result);
  if (ok)
    colorize_log_times (colorize_run_label (run->arch, run->hints_only),
                        host->width (drawable), host->height (drawable),
                        t_start, t_loaded, t_computed,
                        g_get_monotonic_time ());
  return ok;
}

/* ---- the folder procedures --------------------------------------------- */

typedef struct
{
  const ColorizeHost *host;
  nn_model           *model;      /* NULL: hints only */
  gdouble             vividness;
  const gchar        *hints_dir;  /* NULL: plug-in-colorize-dir */
} FolderJob;

/* The photo's hints from the job's hints folder: none when it has no
 * hints file there (an error for hints only); an error when the file
 * does not load or its size is not the photo's w x h. */
static gboolean
load_file_hints (const FolderJob *job, const gchar *in_path, gint w, gint h,
                 ColorizeHints *out, GError **error)
{
  const ColorizeHost *host = job->host;
  gchar              *path;
  gpointer            image, layer;
  GeglBuffer         *buffer;
  gint                hw, hh;
  gboolean            ok;

  *out = COLORIZE_HINTS_NONE;
  if (! job->hints_dir)
    return TRUE;
  if (! colorize_dir_find_hints (job->hints_dir, in_path, job->model == NULL,
                                 &path, error))
    return FALSE;
  if (! path)
    return TRUE;
  image = host->file_load (path);
  if (! image)
    {
      fail (error, NN_ERR_IO, "GIMP could not load the hints file "
                 "'%s': %s", path, host->pdb_error ());
      g_free (path);
      return FALSE;
    }
  layer = host->merge_visible (image);
  host->image_size (image, &hw, &hh);
  ok = layer && colorize_hints_check_size (path, hw, hh, w, h, error);
  if (! layer)
    fail (error, NN_ERR_ARG, "the hints file '%s' has no visible "
               "layer", path);
  if (ok)
    {
      buffer = host->buffer (layer);
      ok = colorize_hints_read (buffer, 0, 0, 0, 0, w, h, out, error);
      g_object_unref (buffer);
    }
  if (ok && out->n == 0)
    g_printerr ("colorize: %s: the hints file '%s' is empty: colorized "
                "without hints\n", in_path, path);
  host->image_delete (image);
  g_free (path);
  return ok;
}

/* The colorized image made ready for its output file and saved to path:
 * without alpha when the input had none, indexed for GIF. */
static gboolean
save_output (const ColorizeHost *host, gpointer image, gpointer layer,
             gboolean had_alpha, gint jpeg_quality, const gchar *path,
             GError **error)
{
  if (! had_alpha && host->has_alpha (layer) && ! host->flatten (layer))
    return fail (error, NN_ERR_ARG, "could not remove the alpha "
                      "channel: %s", host->pdb_error ());
  if (colorize_dir_indexed_only (path) && ! host->convert_indexed (image))
    return fail (error, NN_ERR_ARG, "could not convert it back to "
                      "indexed colour for '%s': %s", path,
                      host->pdb_error ());
  if (! host->save (image, layer, path, jpeg_quality))
    return fail (error, NN_ERR_IO, "GIMP could not save '%s': %s",
                      path, host->pdb_error ());
  return TRUE;
}

/* Colorizes the loaded image's merged layer in place (RGB first). */
static gboolean
colorize_loaded (const FolderJob *job, const gchar *in_path, gpointer image,
                 gpointer layer, GError **error)
{
  const ColorizeHost *host = job->host;
  GeglBuffer         *buffer;
  ColorizeHints       hints;
  ColorizeResult     *result;
  gint                w = host->width (layer), h = host->height (layer);
  gboolean            ok;

  if (! load_file_hints (job, in_path, w, h, &hints, error))
    return FALSE;
  buffer = host->buffer (layer);
  result = colorize_compute (job->model, buffer, 0, 1.0, job->vividness,
                             &hints, host->progress, NULL, error);
  g_object_unref (buffer);
  colorize_hints_clear (&hints);
  if (! result)
    return FALSE;
  if (! host->is_rgb (image) && ! host->convert_rgb (image))
    {
      colorize_result_free (result);
      return fail (error, NN_ERR_ARG, "could not convert it to RGB: "
                        "%s", host->pdb_error ());
    }
  buffer = host->buffer (layer);
  ok = colorize_write (result, buffer, host->progress, NULL, error);
  g_object_unref (buffer);
  colorize_result_free (result);
  return ok;
}

/* colorize_dir_each's per-file step. */
static gboolean
colorize_file (const gchar *name, gint index, gint count,
               const gchar *in_path, const gchar *tmp_path, gpointer data,
               GError **error)
{
  const FolderJob    *job  = data;
  const ColorizeHost *host = job->host;
  gpointer            image, layer;
  gboolean            ok, had_alpha;
  gint                quality;
  gchar              *message;

  message = g_strdup_printf ("Colorizing %s (%d of %d)", name, index + 1,
                             count);
  host->progress_init (message);
  g_free (message);
  image = host->file_load (in_path);
  if (! image)
    return fail (error, NN_ERR_IO,
                 "GIMP could not load it: %s", host->pdb_error ());
  had_alpha = host->image_has_alpha (image);
  quality   = host->jpeg_quality (image);
  layer     = host->merge_visible (image);
  ok = layer
       ? colorize_loaded (job, in_path, image, layer, error) &&
         save_output (host, image, layer, had_alpha, quality, tmp_path,
                      error)
       : fail (error, NN_ERR_ARG,
               "it has no visible layer: %s", host->pdb_error ());
  host->image_delete (image);
  return ok;
}

gboolean
colorize_folder_run (const ColorizeHost *host, const gchar *progname,
                     const gchar *model_arg, const gchar *in_dir,
                     const gchar *out_dir, gdouble vividness,
                     const gchar *hints_dir, GError **error)
{
  FolderJob  job   = { host, NULL, vividness, hints_dir };
  gchar    **names = NULL;
  gboolean   ok, hints_only;

  ok = (! hints_dir || colorize_dir_check_hints (in_dir, hints_dir, error)) &&
       colorize_vividness_check (vividness, error) &&
       (names = colorize_dir_prepare (in_dir, out_dir, error)) &&
       colorize_dir_load_model (progname, model_arg, hints_dir != NULL,
                                &job.model, &hints_only, error) &&
       colorize_dir_each (in_dir, out_dir, names, colorize_file, &job,
                          error);
  nn_model_free (job.model);
  g_strfreev (names);
  return ok;
}
