/* colorize-module.c - the GEGL module (colorize.so) holding the colorize
 * operations: colorize:resnet18 and colorize:cnn (filters), and
 * colorize:resnet18-hints and colorize:cnn-hints (with colour hints on
 * their aux pad). */
#include <gegl-plugin.h>

void gegl_op_colorize_resnet18_register_type (GTypeModule *module);
void gegl_op_colorize_cnn_register_type (GTypeModule *module);
void gegl_op_colorize_resnet18_hints_register_type (GTypeModule *module);
void gegl_op_colorize_cnn_hints_register_type (GTypeModule *module);

G_MODULE_EXPORT const GeglModuleInfo *gegl_module_query (GTypeModule *module);
G_MODULE_EXPORT gboolean gegl_module_register (GTypeModule *module);

static const GeglModuleInfo module_info = { GEGL_MODULE_ABI_VERSION };

G_MODULE_EXPORT const GeglModuleInfo *
gegl_module_query (GTypeModule *module)
{
  (void) module;
  return &module_info;
}

G_MODULE_EXPORT gboolean
gegl_module_register (GTypeModule *module)
{
  gegl_op_colorize_resnet18_register_type (module);
  gegl_op_colorize_cnn_register_type (module);
  gegl_op_colorize_resnet18_hints_register_type (module);
  gegl_op_colorize_cnn_hints_register_type (module);
  return TRUE;
}
