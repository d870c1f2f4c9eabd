/* image.h - image files through GEGL and babl for the trainer.
 *
 * Every pixel the trainer reads goes through a GEGL loader and a babl
 * conversion, as in the plug-in: training, eval and apply see babl's
 * "CIE Lab float" (D50), never a conversion of their own.
 *
 * Formats used (babl names): "CIE Lab float" (3 floats), "CIE Lab alpha
 * float" (4 floats), "R'G'B' u8" (3 bytes, sRGB).
 */
#ifndef TRAINER_IMAGE_H
#define TRAINER_IMAGE_H

#include <stddef.h>

#define IMAGE_MAX_PIXELS (1L << 28)  /* larger images are refused */

/* gegl_init plus what loading needs; call once from the main thread. */
void image_init (void);
void image_exit (void);

/* Loads `path` with the GEGL loader for its content type and converts it
 * to the babl format `format`.  Returns a malloc'ed pixel array (rows
 * contiguous, no padding) and its size, or NULL with a reason in msg
 * (not an image, no loader, corrupt, too large ...).  Warnings GEGL or
 * its loaders log while loading count as failure: a partly decoded file
 * is not used.  Thread-safe (GEGL calls are serialized). */
void *image_load (const char *path, const char *format, int *width,
                  int *height, char *msg, size_t msg_len);

/* Saves pixels (in babl format `format`) to path; the file format comes
 * from the extension (GEGL's saver for it; PNG written with 8 bits per
 * channel).  Returns 0, or -1 with a reason in msg. */
int image_save (const char *path, const void *pixels, int width, int height,
                const char *format, char *msg, size_t msg_len);

/* n pixels from one babl format to another. */
void image_convert (const void *src, const char *src_format, void *dst,
                    const char *dst_format, long n);

/* CIE Lab (`channels` floats per pixel, L a b first) to "R'G'B' u8",
 * keeping L and hue: a pixel whose colour falls outside sRGB has its
 * chroma reduced until it fits (nn/gamut.h, the plug-in's very rule and
 * conversion path), instead of being clipped channel by channel, which
 * would change its lightness. */
void image_lab_to_rgb_u8 (const float *lab, int channels, unsigned char *rgb,
                          long n);

#endif
