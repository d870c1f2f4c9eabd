/* colorize-op-class.h - the GEGL class functions shared by the colorize
 * operations, included by each operation's file after gegl-op.h (they
 * use that file's GeglProperties).  Define COLORIZE_OP_ARCH (an nn_arch)
 * and COLORIZE_OP_NAME (the operation's name) first, and
 * COLORIZE_OP_HINTS for the operations with colour hints.
 *
 * colorize:resnet18 and colorize:cnn are filters ("input" the photo,
 * "output" the colorized photo); colorize:resnet18-hints and
 * colorize:cnn-hints are composers, with the colour hints on "aux" (GIMP
 * 3.0.4 refuses operations with an aux pad as non-destructive filters
 * through libgimp, hence both kinds).  The network needs the whole
 * picture, so the required region (of both pads) and the cached region
 * are the input's bounding box: GEGL computes it once per change of
 * input or properties and serves every later request from the node's
 * cache.
 */
#include "colorize-op.h"

static void
prepare (GeglOperation *operation)
{
  const Babl *space = gegl_operation_get_source_space (operation, "input");
  const Babl *rgba  = babl_format_with_space ("RGBA float", space);

  gegl_operation_set_format (operation, "input", rgba);
#ifdef COLORIZE_OP_HINTS
  gegl_operation_set_format (operation, "aux",
                             babl_format ("CIE Lab alpha float"));
#endif
  gegl_operation_set_format (operation, "output", rgba);
}

/* The input's bounding box, or an empty one without input. */
static GeglRectangle
input_box (GeglOperation *operation)
{
  const GeglRectangle *in =
    gegl_operation_source_get_bounding_box (operation, "input");
  GeglRectangle        none = { 0, 0, 0, 0 };

  return in ? *in : none;
}

static GeglRectangle
get_bounding_box (GeglOperation *operation)
{
  return input_box (operation);
}

static GeglRectangle
get_required_for_output (GeglOperation       *operation,
                         const gchar         *input_pad,
                         const GeglRectangle *roi)
{
  GeglRectangle box = input_box (operation);

  (void) input_pad;   /* the hints on aux are needed over the same box */
  if (gegl_rectangle_is_infinite_plane (&box))
    return *roi;
  return box;
}

static GeglRectangle
get_cached_region (GeglOperation       *operation,
                   const GeglRectangle *roi)
{
  GeglRectangle box = input_box (operation);

  if (gegl_rectangle_is_infinite_plane (&box))
    return *roi;
  return box;
}

static gboolean
colorize_op_process (GeglOperation       *operation,
                     GeglBuffer          *input,
                     GeglBuffer          *aux,
                     GeglBuffer          *output,
                     const GeglRectangle *result,
                     gint                 level)
{
  GeglProperties  *o   = GEGL_PROPERTIES (operation);
  GeglRectangle    box = input_box (operation);
  ColorizeOpParams params;

  /* Always computed at level 0, on the whole box: GEGL scales the cached
   * result for zoomed-out views. */
  (void) level;
  if (box.width <= 0 || box.height <= 0 ||
      gegl_rectangle_is_infinite_plane (&box))
    {
      g_warning ("%s: the input has no finite size (%dx%d)",
                 COLORIZE_OP_NAME, box.width, box.height);
      gegl_buffer_copy (input, result, GEGL_ABYSS_NONE, output, result);
      return TRUE;
    }
  params.arch         = COLORIZE_OP_ARCH;
  params.working_size = o->working_size;
  params.strength     = o->strength;
  params.vividness    = o->vividness;
  params.weights_file = o->weights_file;
#ifdef COLORIZE_OP_HINTS
  params.hints_only   = o->hints_only;
#else
  params.hints_only   = FALSE;
#endif
  colorize_op_run ((ColorizeOpState **) &o->user_data, COLORIZE_OP_NAME,
                   &params, input, aux, output, &box);
  return TRUE;
}

#ifdef COLORIZE_OP_HINTS
static gboolean
process (GeglOperation       *operation,
         GeglBuffer          *input,
         GeglBuffer          *aux,
         GeglBuffer          *output,
         const GeglRectangle *result,
         gint                 level)
{
  return colorize_op_process (operation, input, aux, output, result, level);
}
#else
static gboolean
process (GeglOperation       *operation,
         GeglBuffer          *input,
         GeglBuffer          *output,
         const GeglRectangle *result,
         gint                 level)
{
  return colorize_op_process (operation, input, NULL, output, result, level);
}
#endif

static void
finalize (GObject *object)
{
  GeglProperties *o = GEGL_PROPERTIES (object);

  colorize_op_state_free (o->user_data);
  o->user_data = NULL;
  G_OBJECT_CLASS (gegl_op_parent_class)->finalize (object);
}

/* class_init's common part: the vfuncs and the keys. */
static void
colorize_op_class_setup (GeglOpClass *klass, const gchar *title,
                         const gchar *description)
{
  GObjectClass       *object_class    = G_OBJECT_CLASS (klass);
  GeglOperationClass *operation_class = GEGL_OPERATION_CLASS (klass);

#ifdef COLORIZE_OP_HINTS
  GEGL_OPERATION_COMPOSER_CLASS (klass)->process = process;
#else
  GEGL_OPERATION_FILTER_CLASS (klass)->process   = process;
#endif
  object_class->finalize                   = finalize;
  operation_class->prepare                 = prepare;
  operation_class->get_bounding_box        = get_bounding_box;
  operation_class->get_required_for_output = get_required_for_output;
  operation_class->get_cached_region       = get_cached_region;
  operation_class->threaded                = FALSE;

  gegl_operation_class_set_keys (operation_class,
    "name",        COLORIZE_OP_NAME,
    "title",       title,
    "categories",  "color",
    "description", description,
    NULL);
}
