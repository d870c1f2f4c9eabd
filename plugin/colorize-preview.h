/* colorize-preview.h - the dialog's preview, shared by both hosts: the
 * whole drawable, downscaled to what the network sees at the chosen
 * working size, colorized in a worker thread (the dialog stays
 * responsive) and drawn into a GimpPreviewArea.
 *
 * Everything here runs in the GTK main thread except the network, which
 * runs in one worker thread at a time on the preview's own model.
 */
#ifndef COLORIZE_PREVIEW_H
#define COLORIZE_PREVIEW_H

#include <gtk/gtk.h>
#include <gegl.h>

#include "model.h"
#include "colorize-core.h"

/* Longer side of the preview image on screen, in pixels. */
#define COLORIZE_PREVIEW_SIZE 320

typedef struct _ColorizePreview ColorizePreview;

/* src is the drawable's buffer (a reference is taken); area is a
 * GimpPreviewArea; status is a GtkLabel for messages. */
ColorizePreview *colorize_preview_new   (GeglBuffer      *src,
                                         GtkWidget       *area,
                                         GtkWidget       *status);

/* Loads the weights the preview uses (errors are shown in the status). */
void             colorize_preview_set_weights (ColorizePreview *preview,
                                               const gchar     *path,
                                               nn_arch          arch);

/* The model the preview loaded last, NULL when it could not: the hosts
 * set up the Vividness slider from it (colorize_model_has_vividness,
 * colorize_model_default_vividness).  Owned by the preview. */
const nn_model  *colorize_preview_get_model (ColorizePreview *preview);

/* Schedules a new preview with these values (debounced); vividness as
 * colorize_compute's. */
void             colorize_preview_update (ColorizePreview *preview,
                                          gint             working_size,
                                          gdouble          strength,
                                          gdouble          vividness);

/* The colour hints of the drawable, in its full-size pixel coordinates
 * (colorize_hints_read); the preview takes them over (*hints is left
 * empty) and scales them to its picture.  Schedules a new preview. */
void             colorize_preview_set_hints (ColorizePreview *preview,
                                             ColorizeHints   *hints);

/* Hints only: the preview runs without a network (no weights needed).
 * Schedules a new preview. */
void             colorize_preview_set_hints_only (ColorizePreview *preview,
                                                  gboolean hints_only);

/* The Vividness slider's tooltips, shared by both hosts: for a model with
 * colour classes, and for one without (the slider is then insensitive). */
#define COLORIZE_VIVIDNESS_TOOLTIP \
  "How vivid the colour is: 0 = dull and safe (the mean of the predicted " \
  "colours, temperature 1.0), 1 = vivid (near the likeliest colour, " \
  "temperature 0.2).  Starts at the model's default."
#define COLORIZE_VIVIDNESS_NO_CLASSES_TOOLTIP \
  "This model has no colour classes (it predicts a,b directly): the " \
  "vividness has no effect.  Models trained with colour classes " \
  "(colorize-train --loss class) use it."

/* The hints widgets' tooltips, shared by both hosts. */
#define COLORIZE_HINTS_TOOLTIP \
  "A layer with rough strokes of colour (a new transparent layer above " \
  "this one, say): where it is painted the result takes its colour, " \
  "which spreads over the similar region around it.  Only what lies " \
  "over this layer counts."
#define COLORIZE_HINTS_ONLY_TOOLTIP \
  "Colour from the hints alone, on grey: no network runs and no weights " \
  "are needed."

/* Cancels and waits for the worker, frees everything. */
void             colorize_preview_free  (ColorizePreview *preview);

#endif
