/* hintfile.h - colour hints from an image file, for apply and eval.
 *
 * A hints file is an image with transparency (PNG, typically) of the same
 * size as the photo it goes with: every pixel with alpha > 0 is a hint
 * (nn/hints.h) whose a,b is the pixel's (babl "CIE Lab alpha float", not
 * premultiplied) and whose strength is its alpha; its lightness is
 * ignored.  Fully transparent pixels are no hint.
 */
#ifndef TRAINER_HINTFILE_H
#define TRAINER_HINTFILE_H

#include <stddef.h>
#include "hints.h"

/* Loads `path`, which must be w x h.  Returns 0 with a malloc'ed array of
 * the painted pixels in *out (NULL when none) and their count in *n, or
 * -1 with a reason in msg (unreadable, or its size against the photo's). */
int hintfile_load (const char *path, int w, int h, nn_hint **out, size_t *n,
                   char *msg, size_t msg_len);

#endif
