/* colorize-host.h - what the plug-in does in GIMP, written once for both
 * GIMP hosts over the little each must provide (ColorizeHost: a table of
 * libgimp calls, in each host's own spelling): "Colorize" on one layer,
 * and the folder procedures.
 *
 * One layer (colorize_layer_run):
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
 * A folder (colorize_folder_run): the model once, then for each file
 * (colorize-dir.h: names, temporaries, hints files) GIMP loads it, its
 * visible layers are merged, the merged layer is colorized in place (RGB
 * first; L and alpha are the source's, so this is the colour layer
 * merged onto the original), and it is saved as a file of the input's
 * kind: no alpha channel added, indexed again for GIF, a JPEG at the
 * input's quality (the host's save keeps the rest: colour profile).
 *
 * Items (images, drawables, layers) are the host's own handles passed as
 * gpointer: GIMP 2.10's IDs through GINT_TO_POINTER, GIMP 3.0's objects;
 * NULL is "none".
 */
#ifndef COLORIZE_HOST_H
#define COLORIZE_HOST_H

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
  /* files (the folder procedures) */
  gpointer     (*file_load)         (const gchar *path);  /* NULL: failed */
  void         (*image_delete)      (gpointer image);
  void         (*image_size)        (gpointer image, gint *w, gint *h);
  gpointer     (*merge_visible)     (gpointer image);     /* its layer */
  gboolean     (*image_has_alpha)   (gpointer image);     /* any layer */
  gint         (*jpeg_quality)      (gpointer image);     /* as loaded */
  gboolean     (*has_alpha)         (gpointer drawable);
  gboolean     (*flatten)           (gpointer layer);
  gboolean     (*convert_indexed)   (gpointer image);
  gboolean     (*save)              (gpointer image, gpointer layer,
                                     const gchar *path, gint jpeg_quality);
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

/* plug-in-colorize-dir (hints_dir NULL) and plug-in-colorize-dir-hints:
 * every file of in_dir colorized into out_dir (see above and
 * colorize-dir.h); model_arg as colorize_dir_load_model takes it. */
gboolean colorize_folder_run (const ColorizeHost *host,
                              const gchar *progname, const gchar *model_arg,
                              const gchar *in_dir, const gchar *out_dir,
                              gdouble vividness, const gchar *hints_dir,
                              GError **error);

#endif
