/* gamut.h - gamut mapping: a CIE Lab colour outside the RGB cube keeps
 * its lightness and hue and loses chroma until it fits.
 *
 * For each pixel whose RGB (the caller's conversion) has a channel
 * outside [-NN_GAMUT_EPS, 1 + NN_GAMUT_EPS], the factor t in 0..1 of
 * Lab (L, t a, t b) is bisected NN_GAMUT_STEPS times and the largest t
 * found in gamut is kept (t = 0, grey, always is).  The one rule for
 * every host: the plug-in (plugin/colorize-core.c), the GEGL operation
 * and the trainer's eval and apply (trainer/image.c) all map through it,
 * with babl converting to linear RGB in the destination's space, so they
 * give the same pixels.
 */
#ifndef NN_GAMUT_H
#define NN_GAMUT_H

#include <stddef.h>
#include "error.h"

#define NN_GAMUT_STEPS 12      /* 2^-12 of the chroma */
#define NN_GAMUT_EPS 1e-4f     /* integer precisions round this away */

/* Converts n pixels of `channels` floats (L, a, b[, alpha]) to RGB of
 * the same layout (R, G, B[, alpha]). */
typedef void (*nn_lab_to_rgb) (const float *lab, float *rgb, size_t n,
                               void *data);

/* Maps n pixels of lab (channels 3 or 4 floats each, changed in place:
 * a, b scaled; non-finite a, b become 0) and writes their RGB to rgb
 * (same layout).  NN_ERR_ARG for bad channels; NN_ERR_NOMEM (rgb then
 * holds the unmapped conversion, lab with only non-finite a, b zeroed). */
nn_code nn_gamut_map (float *lab, float *rgb, size_t n, int channels,
                      nn_lab_to_rgb convert, void *data, nn_error *err);

/* The formula the library's own conversions use (the colour classes'
 * gamut, the perceptual term): D50 CIE Lab, as babl's "CIE Lab float",
 * to linear sRGB through the Bradford-adapted D50 -> sRGB matrix.  With
 * dab non-NULL also d lin_c / d a in dab[c] and d lin_c / d b in
 * dab[3 + c]. */
void nn_lab_to_linear_srgb (double L, double a, double b, double lin[3],
                            double dab[6]);

#endif
