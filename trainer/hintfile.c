/* hintfile.c - colour hints from an image file (see hintfile.h). */
#include <stdio.h>
#include <stdlib.h>
#include "hintfile.h"
#include "image.h"

int
hintfile_load (const char *path, int w, int h, nn_hint **out, size_t *n,
               char *msg, size_t msg_len)
{
  int hw, hh;
  char why[512];
  *out = NULL;
  *n = 0;
  float *px = image_load (path, "CIE Lab alpha float", &hw, &hh, why,
                          sizeof why);
  if (!px)
    {
      snprintf (msg, msg_len, "cannot load hints %s: %s", path, why);
      return -1;
    }
  if (hw != w || hh != h)
    {
      snprintf (msg, msg_len, "hints %s are %dx%d: expected the photo's "
                "size, %dx%d", path, hw, hh, w, h);
      free (px);
      return -1;
    }
  size_t total = (size_t) w * h, count = 0;
  for (size_t i = 0; i < total; i++)
    count += px[i * 4 + 3] > 0.0f;
  nn_hint *list = count ? malloc (count * sizeof *list) : NULL;
  if (count && !list)
    {
      snprintf (msg, msg_len, "hints %s: out of memory for %zu hints", path,
                count);
      free (px);
      return -1;
    }
  size_t k = 0;
  for (size_t i = 0; i < total; i++)
    {
      const float *p = px + i * 4;
      if (p[3] > 0.0f)
        list[k++] = (nn_hint) { (int) (i % w), (int) (i / w), p[1], p[2],
                                p[3] < 1.0f ? p[3] : 1.0f };
    }
  free (px);
  *out = list;
  *n = count;
  return 0;
}
