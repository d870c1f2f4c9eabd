/* colorize-op-properties.h - the properties block shared by the
 * colorize operations (included inside each one's GEGL_PROPERTIES
 * section: all take these, with the plug-in's ranges and defaults; see
 * the "Non-destructive filter" section of README.md).  The weights file
 * comes last: libgimp 3.0.4 cannot carry a GeglParamFilePath into a
 * GimpDrawableFilterConfig ("GParamSpec type unsupported"), and drops
 * every property after it. */

property_int (working_size, "Working size", 0)
  description ("Longer side, in pixels, of the picture the network sees "
               "(0 = the model's default, else 64..2048); the rest is done "
               "at full size")
  value_range (0, 2048)
  ui_range (0, 1024)

property_double (strength, "Strength", 1.0)
  description ("Chroma multiplier (1.0 = as predicted)")
  value_range (0.0, 10.0)     /* COLORIZE_MAX_STRENGTH (checked in colorize-op.c) */
  ui_range (0.0, 3.0)

property_double (vividness, "Vividness", -1.0)
  description ("Colour-class models only: 0 = dull (temperature 1.0) .. "
               "1 = vivid (temperature 0.2), -1 = the model's default")
  value_range (-1.0, 1.0)

property_file_path (weights_file, "Weights file", "")
  description ("A .weights file (empty = the bundled one)")
