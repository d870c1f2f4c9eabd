/* colorize-resnet18.c - colorize:resnet18: colorizes a black-and-white
 * photo with the ResNet18 colorizer (the plug-in's "Colorize
 * (ResNet18)"; see colorize-op-class.h). */
#ifdef GEGL_PROPERTIES

#include "colorize-op-properties.h"

#else

#define GEGL_OP_FILTER
#define GEGL_OP_BUNDLE
#define GEGL_OP_NAME     colorize_resnet18
#define GEGL_OP_C_SOURCE colorize-resnet18.c

#include "gegl-op.h"

#define COLORIZE_OP_ARCH NN_ARCH_RESNET18
#define COLORIZE_OP_NAME "colorize:resnet18"
#include "colorize-op-class.h"

static void
gegl_op_class_init (GeglOpClass *klass)
{
  colorize_op_class_setup (klass, "Colorize (ResNet18)",
    "Colorizes a black-and-white photo with a neural network (ResNet18 "
    "encoder): keeps its lightness and alpha, "
    "predicts the colour.");
}

#endif
