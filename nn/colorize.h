/* colorize.h - the colorize pipeline shared by the GIMP plug-in and the
 * trainer (eval, apply).  Plain float buffers, no GEGL.
 *
 * Pixel format (the boundary with GEGL/babl): interleaved float32 pixels in
 * babl's "CIE Lab float" (3 floats: L in 0..100, a, b) or "CIE Lab alpha
 * float" (4 floats: L, a, b, alpha); `channels` says which (>= 3).  Rows are
 * contiguous, `width * channels` floats each.
 *
 * nn_colorize_image() reads L of every pixel, downscales L so that the longer
 * side is at most the working size (rounded down to a multiple of 8, at
 * least 8), runs the network, upsamples the predicted a,b to full
 * resolution guided by the full-resolution L (with two views: the mean of
 * the network's a,b for the image and for its mirror image, mirrored
 * back), multiplies chroma by
 * the model's calibration (nn_colorize_chroma_scale and
 * nn_colorize_knee_factor, below) and by
 * `strength` and writes a,b back into the same pixels.  L and alpha are
 * never written.
 *
 * Colour hints (options.hints, see nn/hints.h): at the working size the
 * hints are averaged into cells (cover = the alpha-weighted share of the
 * cell they paint), the change they ask for against the network's
 * colour (already multiplied by the strength: a hint's colour is
 * absolute) is spread by nn_hints_solve and added.  Near the strokes
 * their own colour takes over: the result is k x (the strokes' colours
 * spread from neutral, i.e. the hints-only solution) + (1 - k) x (the
 * network's colour plus the change), k in 0..1 the strokes' reach (1
 * spread from the strokes by nn_hints_solve_reach with NN_HINTS_NEAR:
 * it fades over about a third of the image side and stops at edges), so
 * a stroke on a wrongly coloured region gives that region the stroke's
 * colour, not the network's blotches moved by the stroke's change (on
 * val with make-strokes' strokes: local_gain +0.160 against -0.001
 * without this, psnr 28.01 against 26.99).  The sum goes through the
 * same guided upsampling; then every hint pixel gets
 * alpha * its a,b + (1 - alpha) * the result, so strokes hold exactly at
 * full resolution.  Without hints (none, or n_hints 0) the result is the
 * plain one, bit for bit.  A NULL model means "hints only": the prior is
 * neutral grey (a = b = 0) and no network runs (without hints too: the
 * result is then grey).  Time and memory are bounded by the working size plus a
 * few full-resolution float planes; nn_colorize_prepare and
 * nn_colorize_apply_rows (below) need none beyond the host's L.
 */
#ifndef NN_COLORIZE_H
#define NN_COLORIZE_H

#include <stddef.h>
#include "error.h"
#include "hints.h"
#include "model.h"

#define COLORIZE_DEFAULT_WORKING_SIZE 256
#define COLORIZE_MIN_WORKING_SIZE 64
#define COLORIZE_MAX_WORKING_SIZE 2048
/* options.strength: 0 (grey) .. this; the one range of every host */
#define COLORIZE_MAX_STRENGTH 10.0f
/* options.views: 1 the image, 2 the image and its mirror image */
#define COLORIZE_MAX_VIEWS 2

/* Called with fraction 0..1 as the work advances; return non-zero to cancel. */
typedef int (*colorize_progress_fn) (double fraction, void *user_data);

typedef struct colorize_options {
  int working_size;               /* 0 = the model's default */
  float strength;                 /* chroma multiplier, 1.0 = as predicted */
  colorize_progress_fn progress;  /* may be NULL */
  void *progress_data;
  const volatile int *cancel;     /* may be NULL; non-zero cancels */
  float temperature;              /* class head (nn/head.h): the annealed
                                     mean's T; 0 = the model's default */
  const nn_hint *hints;           /* colour hints (nn/hints.h), in the
                                     image's pixels; may be NULL */
  size_t n_hints;
  int views;                      /* network passes averaged: 1 the image,
                                     2 the image and its mirror image;
                                     0 = the model's default */
} colorize_options;

#define COLORIZE_OPTIONS_DEFAULT \
  ((colorize_options) { 0, 1.0f, NULL, NULL, NULL, 0.0f, NULL, 0, 0 })

/* The working size a model uses when options ask for 0: the model's
 * metadata key "working_size" when present and valid, else
 * COLORIZE_DEFAULT_WORKING_SIZE. */
int nn_colorize_default_working_size (const nn_model *m);

/* Colorizes pixels in place (see above).  On error or cancel the pixels
 * are left unchanged.  The network's last output (1 x 2 x ph x pw, see
 * nn_colorize_working_dims) stays in the model until its next pass. */
/* The temperature a class-head model uses when options ask for 0: its
 * metadata key "temperature" when present and within
 * NN_HEAD_MIN..MAX_TEMPERATURE, else NN_HEAD_DEFAULT_TEMPERATURE.  (A
 * regression model ignores the temperature.) */
float nn_colorize_default_temperature (const nn_model *m);

/* The model's calibration of its chroma: its metadata key "chroma_scale"
 * (0.05..4) when present, else 1.  The pipeline multiplies the predicted
 * chroma by it and by the strength, so that strength 1 is the model's
 * calibrated prediction (a class head trained with rebalancing predicts
 * more chroma than the truth has; weights/README.md says how it was
 * chosen). */
float nn_colorize_chroma_scale (const nn_model *m);

/* The model's limit on a whole image's chroma: metadata keys
 * "chroma_knee" K (1..128, a,b units) and "chroma_knee_slope" G (0..1;
 * no line, 1 or either key out of range: no limit).  Given the network's
 * a,b at the working size (ab: 2 planes of n values, after the views,
 * before the chroma_scale), with M the mean chroma over its pixels
 * (mean of sqrt (a^2 + b^2)), returns the factor the pipeline applies
 * beside the chroma_scale: 1 when M <= K, else (K / M)^(1 - G), so that
 * the image's mean chroma becomes K (M / K)^G.  A network that predicts
 * a whole image very colourful overshoots the truth on average (face
 * close-ups); weights/README.md says how K and G were chosen. */
float nn_colorize_knee_factor (const nn_model *m, const float *ab,
                               size_t n);

/* The network passes a model averages when options ask for 0: its
 * metadata key "views" when 1 or 2, else 1.  With 2 the network also
 * sees the working image mirrored left to right, and its a,b, mirrored
 * back, are averaged with the plain pass's before anything else (twice
 * the network's time; weights/README.md says what it buys). */
int nn_colorize_default_views (const nn_model *m);

/* Hints must lie inside the image (0 <= x < width, 0 <= y < height) with
 * alpha in (0, 1] and finite a,b: else NN_ERR_ARG naming the first bad
 * one. */
nn_code nn_colorize_image (nn_model *m, float *pixels, int width, int height,
                        int channels, const colorize_options *opt,
                        nn_error *err);

/* nn_colorize_image in two halves, for a host that keeps only L at full
 * size (not the Lab pixels) and writes the result band by band:
 *   - nn_colorize_prepare reads the full-resolution L (width x height,
 *     `step` floats apart: 1 a plane of L, 3 or 4 the L of interleaved
 *     pixels; rows contiguous), runs the network and the hints at the
 *     working size (progress 0 to 0.9, as nn_colorize_image's) and keeps
 *     what the upsampling needs (a few floats per working-size pixel and
 *     a copy of the hints; nothing of the model or the options);
 *   - nn_colorize_apply_rows writes a,b of the image rows [y0, y0 + rows)
 *     into `pixels` (those rows, width x channels floats each, L already
 *     in channel 0 as the image's L): the same values nn_colorize_image
 *     writes there.  Any order of bands, any number of times.
 * Options and errors as nn_colorize_image's; on error *out is NULL. */
typedef struct nn_colorize_result nn_colorize_result;

nn_code nn_colorize_prepare (nn_model *m, const float *L, int width,
                             int height, int step,
                             const colorize_options *opt,
                             nn_colorize_result **out, nn_error *err);
nn_code nn_colorize_apply_rows (const nn_colorize_result *r, float *pixels,
                                int y0, int rows, int channels,
                                nn_error *err);
void nn_colorize_result_free (nn_colorize_result *r);

/* The sizes the pipeline works at for a width x height image: the image
 * scaled (never enlarged) so that its longer side is at most the working
 * size rounded down to a multiple of 8, each side rounded to the nearest
 * pixel (w x h, at least 1), then padded on the right and bottom to
 * multiples of 8 by repeating the last column and row (pw x ph, what the
 * network sees).  Any out pointer may be NULL.  NN_ERR_ARG for a working
 * size outside COLORIZE_MIN..MAX_WORKING_SIZE or a side outside 1..2^20. */
nn_code nn_colorize_working_dims (int width, int height, int working_size,
                               int *w, int *h, int *pw, int *ph,
                               nn_error *err);

/* Resamples one channel: the region (x0, y0, rw, rh) of a sw x sh source
 * (in source pixels; pixel (i, j) covers [i, i+1) x [j, j+1)) onto a
 * dw x dh destination.  `src_step` and `dst_step` are the distances in
 * floats between neighbouring pixels of a row (rows contiguous:
 * width * step floats), so one channel of interleaved pixels can be read
 * or written.  Separable tent filter of radius max(1, source pixels per
 * destination pixel): bilinear when enlarging, antialiased when
 * shrinking; outside the source the edge pixels repeat.  The pipeline
 * downscales L with it; the trainer makes its crops with it. */
nn_code nn_colorize_resample_region (const float *src, int sw, int sh,
                                  int src_step, double x0, double y0,
                                  double rw, double rh, float *dst, int dw,
                                  int dh, int dst_step, nn_error *err);

#endif
