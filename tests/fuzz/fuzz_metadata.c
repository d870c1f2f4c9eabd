/* fuzz_metadata.c - libFuzzer target for "key=value" text: a weight
 * file's metadata (and a checkpoint's settings, read the same way):
 * nn_metadata_number, _value, _string, nn_model_set_metadata and what the
 * pipeline reads from it.  Any text must give values inside their
 * documented ranges, never a crash or a read past the end. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "colorize.h"
#include "head.h"
#include "model.h"

static nn_model *class_model;

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  nn_error err;
  if (!class_model
      && nn_model_new_head (NN_ARCH_CNN, 263, &class_model, &err) != NN_OK)
    __builtin_trap ();
  char *text = malloc (size + 1);
  if (!text)
    return 0;
  memcpy (text, data, size);
  text[size] = 0;
  static const char *keys[] = { "working_size", "temperature",
                                "chroma_scale", "head_bins", "" };
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
    {
      double v = 0.0;
      int found = nn_metadata_number (text, keys[k], &v);
      if (found < -1 || found > 1)
        __builtin_trap ();
      char s[16];
      const char *val = nn_metadata_value (text, keys[k]);
      int got = nn_metadata_string (text, keys[k], s, sizeof s);
      if ((val == NULL) != (got == 0) || (got == 1 && strlen (s) >= sizeof s))
        __builtin_trap ();
    }
  int q = nn_metadata_head_bins (text);
  if (q < -1 || q == 1 || q > NN_HEAD_MAX_BINS)
    __builtin_trap ();
  if (nn_model_set_metadata (class_model, text, &err) == NN_OK)
    {
      if (nn_metadata_head_bins (class_model->metadata) != 263)
        __builtin_trap ();
      int ws = nn_colorize_default_working_size (class_model);
      float t = nn_colorize_default_temperature (class_model);
      float c = nn_colorize_chroma_scale (class_model);
      if (ws < COLORIZE_MIN_WORKING_SIZE || ws > COLORIZE_MAX_WORKING_SIZE
          || !(t >= NN_HEAD_MIN_TEMPERATURE && t <= NN_HEAD_MAX_TEMPERATURE)
          || !(c >= 0.05f && c <= 4.0f))
        __builtin_trap ();
    }
  free (text);
  return 0;
}
