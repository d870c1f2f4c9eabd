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

/* Schedules a new preview with these values (debounced). */
void             colorize_preview_update (ColorizePreview *preview,
                                          gint             working_size,
                                          gdouble          strength);

/* Cancels and waits for the worker, frees everything. */
void             colorize_preview_free  (ColorizePreview *preview);

#endif
