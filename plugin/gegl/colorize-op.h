/* colorize-op.h - the host-neutral part of the GEGL operations
 * colorize:resnet18 and colorize:cnn (plugin/gegl/colorize-resnet18.c,
 * colorize-cnn.c): the model cache and one whole-image run through the
 * plug-in's core (plugin/colorize-core.h), so that the operations and
 * the GIMP plug-in give the same pixels.
 *
 * Pixel boundary: the input is read as babl "CIE Lab alpha float" (the
 * format nn/colorize.h takes); the output is written as linear "RGBA
 * float" in the input's colour space, after the core's gamut mapping
 * into that space (chroma lowered until the colour fits, L and alpha
 * kept): what the plug-in writes into a layer (colorize_write), so a
 * sink that converts to 8-bit RGB clips nothing and keeps L.  The aux pad
 * (colour hints) is read by colorize_hints_read: every pixel with
 * alpha > 0 over the input is one hint.
 */
#ifndef COLORIZE_OP_H
#define COLORIZE_OP_H

#include <gegl.h>

#include "model.h"

/* Per-node state (the chant's user_data): the loaded model and the path
 * it came from, kept between runs (reloaded when the path changes). */
typedef struct
{
  nn_model *model;
  gchar    *path;
} ColorizeOpState;

/* The properties of one run (the chant properties, copied). */
typedef struct
{
  nn_arch      arch;
  gint         working_size;   /* 0 = the model's default */
  gdouble      strength;
  gdouble      vividness;      /* -1 = the model's default */
  const gchar *weights_file;   /* NULL or "" = the bundled one */
  gboolean     hints_only;
} ColorizeOpParams;

/* Colorizes the whole of `rect` (the input's bounding box) of input into
 * output, hints from aux (may be NULL).  On an error (weights file
 * missing or bad, bad property, out of memory) the error, naming the
 * operation and the problem, is reported with g_warning, output gets the
 * input unchanged, and FALSE is returned. */
gboolean colorize_op_run (ColorizeOpState        **state,
                          const gchar             *op_name,
                          const ColorizeOpParams  *params,
                          GeglBuffer              *input,
                          GeglBuffer              *aux,
                          GeglBuffer              *output,
                          const GeglRectangle     *rect);

void colorize_op_state_free (ColorizeOpState *state);

/* The path of the module file these operations were loaded from (for
 * the bundled weights, in "weights" beside it, as the plug-in's); newly
 * allocated, NULL when unknown. */
gchar *colorize_op_module_path (void);

#endif
