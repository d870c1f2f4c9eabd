/* colorize-cnn-hints.c - colorize:cnn-hints: colorizes a black-and-white photo
 * with the CNN colorizer, guided by colour hints on the aux pad (the
 * plug-in's "Colorize (CNN)" with a hints layer; see
 * colorize-op-class.h). */
#ifdef GEGL_PROPERTIES

property_boolean (hints_only, "Hints only (no network)", FALSE)
  description ("No network: the colour comes from the hints on the aux "
               "pad alone (on grey); needs hints")

#include "colorize-op-properties.h"

#else

#define GEGL_OP_COMPOSER
#define GEGL_OP_BUNDLE
#define GEGL_OP_NAME     colorize_cnn_hints
#define GEGL_OP_C_SOURCE colorize-cnn-hints.c

#include "gegl-op.h"

#define COLORIZE_OP_ARCH NN_ARCH_CNN
#define COLORIZE_OP_NAME "colorize:cnn-hints"
#define COLORIZE_OP_HINTS
#include "colorize-op-class.h"

static void
gegl_op_class_init (GeglOpClass *klass)
{
  colorize_op_class_setup (klass, "Colorize (CNN, hints)",
    "Colorizes a black-and-white photo with a neural network (a small "
    "convolutional network): keeps its lightness and alpha, "
    "predicts the colour.  Colour hints on the aux pad: painted strokes "
    "on transparency (alpha > 0), whose colour the result keeps.");
}

#endif
