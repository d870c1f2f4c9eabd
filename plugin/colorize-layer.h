/* colorize-layer.h - "Colorize" on one layer, written once for both GIMP
 * hosts over the little each must provide (ColorizeHost: a table of
 * libgimp calls, in each host's own spelling).
 *
 * The sequence (colorize_layer_run):
 *   1. checks: the drawable is a layer of the image (not a channel, a
 *      mask or a group), the hints layer (if any) another layer of the
 *      image, the selection overlaps the layer;
 *   2. everything that can fail or be cancelled, with the image
 *      untouched: the model (none for hints only), the hints, the new
 *      pixels (colorize_compute, under a progress bar that GIMP can
 *      cancel by killing the plug-in);
 *   3. the point of no return: the progress ends (which disconnects
 *      GIMP's cancel), then in one undo group: RGB conversion when
 *      needed, a new layer above the drawable at its offsets, its pixels,
 *      the selection as its mask; on any failure the new layer is removed
 *      again, so the image is as it was or has the whole result.
 *
 * Items (images, drawables, layers) are the host's own handles passed as
 * gpointer: GIMP 2.10's IDs through GINT_TO_POINTER, GIMP 3.0's objects;
 * NULL is "none".
 */
#ifndef COLORIZE_LAYER_H
#define COLORIZE_LAYER_H

#include <glib.h>
#include <gegl.h>

#include "colorize-core.h"
#include "model.h"

typedef struct ColorizeHost
{
  /* about items */
  gboolean     (*in_image)          (gpointer image, gpointer item);
  gboolean     (*is_layer)          (gpointer item);
  gboolean     (*is_group)          (gpointer item);
  gchar       *(*name)              (gpointer item);
  void         (*offsets)           (gpointer drawable, gint *x, gint *y);
  gint         (*width)             (gpointer drawable);
  gint         (*height)            (gpointer drawable);
  GeglBuffer  *(*buffer)            (gpointer drawable);
  gboolean     (*mask_intersect)    (gpointer drawable);
  gboolean     (*selection_empty)   (gpointer image);
  /* progress (GIMP's own bar) */
  void         (*progress_init)     (const gchar *message);
  gboolean     (*progress)          (gdouble fraction, gpointer data);
  void         (*progress_end)      (void);
  /* changes, inside an undo group */
  void         (*undo_group)        (gpointer image, gboolean start);
  gboolean     (*is_rgb)            (gpointer image);
  gboolean     (*convert_rgb)       (gpointer image);
  gpointer     (*new_layer_above)   (gpointer image, gpointer drawable,
                                     const gchar *name, gint w, gint h);
  gboolean     (*add_selection_mask)(gpointer layer);
  void         (*update)            (gpointer layer, gint w, gint h);
  void         (*remove_layer)      (gpointer image, gpointer layer);
  /* the last PDB error, for messages */
  const gchar *(*pdb_error)         (void);
} ColorizeHost;

/* One run's settings (the procedure's arguments). */
typedef struct ColorizeRun
{
  nn_arch      arch;
  gchar       *weights;      /* a .weights path; NULL or "": the bundled one */
  const gchar *progname;     /* the plug-in executable, to find the bundle */
  gint         working_size;
  gdouble      strength;
  gdouble      vividness;
  gpointer     hints;        /* the colour hints layer, or NULL */
  gboolean     hints_only;
} ColorizeRun;

/* Step 1's check of the drawable alone (for the dialog, before it opens). */
gboolean colorize_layer_check (const ColorizeHost *host, gpointer image,
                               gpointer drawable, GError **error);

/* The painted pixels of layer `hints` (NULL: none) over `drawable`, in
 * its pixel coordinates (colorize_hints_read). */
gboolean colorize_layer_read_hints (const ColorizeHost *host,
                                    gpointer drawable, gpointer hints,
                                    ColorizeHints *out, GError **error);

/* Colorizes `drawable` of `image` into a new layer above it (see above).
 * FALSE with `error` set when nothing was changed. */
gboolean colorize_layer_run (const ColorizeHost *host, gpointer image,
                             gpointer drawable, const ColorizeRun *run,
                             GError **error);

#endif
