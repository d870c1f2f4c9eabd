/* colorize-cnn.c - colorize:cnn: colorizes a black-and-white photo with
 * the CNN colorizer (the plug-in's "Colorize (CNN)"; see
 * colorize-op-class.h). */
#ifdef GEGL_PROPERTIES

#include "colorize-op-properties.h"

#else

#define GEGL_OP_FILTER
#define GEGL_OP_BUNDLE
#define GEGL_OP_NAME     colorize_cnn
#define GEGL_OP_C_SOURCE colorize-cnn.c

#include "gegl-op.h"

#define COLORIZE_OP_ARCH NN_ARCH_CNN
#define COLORIZE_OP_NAME "colorize:cnn"
#include "colorize-op-class.h"

static void
gegl_op_class_init (GeglOpClass *klass)
{
  colorize_op_class_setup (klass, "Colorize (CNN)",
    "Colorizes a black-and-white photo with a neural network (a small "
    "convolutional network): keeps its lightness and alpha, "
    "predicts the colour.");
}

#endif
