/* colorize-layer.c - "Colorize" on one layer, for both hosts (see
 * colorize-layer.h). */
#include "colorize-core.h"
#include "colorize-layer.h"

static gboolean
fail (GError **error, const gchar *fmt, const gchar *arg)
{
  g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG, fmt, arg);
  return FALSE;
}

gboolean
colorize_layer_check (const ColorizeHost *h, gpointer image,
                      gpointer drawable, GError **error)
{
  gchar    *name;

  if (! drawable || ! h->in_image (image, drawable))
    return fail (error, "The drawable is not part of the image.%s", "");
  if (! h->is_layer (drawable))
    return fail (error, "Colorize works on a layer: select a layer, not a "
                 "channel or a layer mask.%s", "");
  if (! h->is_group (drawable))
    return TRUE;
  name = h->name (drawable);
  fail (error, "'%s' is a layer group: select one of its layers.", name);
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
    ok = fail (error, "Hints only colours from the colour hints alone: "
               "choose a colour hints layer.%s", "");
  else if (run->hints && (! h->in_image (image, run->hints) ||
                          ! h->is_layer (run->hints) ||
                          h->is_group (run->hints)))
    ok = fail (error, "The colour hints must be a layer of the image (not "
               "a channel, a mask or a layer group).%s", "");
  else if (run->hints == drawable)
    ok = fail (error, "The colour hints layer is '%s', the layer being "
               "colorized: paint the hints on a layer of their own (a new "
               "transparent layer above it) and choose that.", name);
  else if (! h->mask_intersect (drawable))
    ok = fail (error, "The selection does not overlap the layer '%s': "
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
 * only), the hints, the new pixels. */
static gfloat *
compute (const ColorizeHost *h, gpointer drawable, const ColorizeRun *run,
         gint64 *t_loaded, GError **error)
{
  nn_model      *model = NULL;
  ColorizeHints  hints;
  GeglBuffer    *buffer;
  gfloat        *lab;
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
  lab = colorize_compute (model, buffer, run->working_size, run->strength,
                          run->vividness, &hints, h->progress, NULL, error);
  g_object_unref (buffer);
  colorize_hints_clear (&hints);
  nn_model_free (model);
  return lab;
}

/* Step 3 inside the undo group: the new layer with lab's pixels. */
static gboolean
write_layer (const ColorizeHost *h, gpointer image, gpointer drawable,
             const ColorizeRun *run, gfloat *lab, GError **error)
{
  GeglBuffer *buffer;
  gpointer    layer;
  gchar      *name;
  gint        w = h->width (drawable), hh = h->height (drawable);
  gboolean    ok;

  if (! h->is_rgb (image) && ! h->convert_rgb (image))
    return fail (error, "Could not convert the image to RGB: %s",
                 h->pdb_error ());
  name  = g_strdup_printf ("Colorized (%s)",
                           colorize_run_label (run->arch, run->hints_only));
  layer = h->new_layer_above (image, drawable, name, w, hh);
  g_free (name);
  if (! layer)
    return fail (error, "Could not add the new layer: %s", h->pdb_error ());

  buffer = h->buffer (layer);
  ok = colorize_write (lab, buffer, w, hh, NULL, NULL, error);
  g_object_unref (buffer);
  if (ok && ! h->selection_empty (image) && ! h->add_selection_mask (layer))
    ok = fail (error, "Could not add the selection as a layer mask: %s",
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
  gint64   t_start = g_get_monotonic_time (), t_loaded, t_computed;
  gfloat  *lab;
  gboolean ok;

  if (! check_items (host, image, drawable, run, error))
    return FALSE;
  lab = compute (host, drawable, run, &t_loaded, error);
  if (! lab)
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
  ok = write_layer (host, image, drawable, run, lab, error);
  host->undo_group (image, FALSE);
  g_free (lab);
  if (ok)
    colorize_log_times (colorize_run_label (run->arch, run->hints_only),
                        host->width (drawable), host->height (drawable),
                        t_start, t_loaded, t_computed,
                        g_get_monotonic_time ());
  return ok;
}
