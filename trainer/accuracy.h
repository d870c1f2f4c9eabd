/* accuracy.h - colour-placement accuracy (Zhang, Isola and Efros 2016,
 * "Colorful Image Colorization", table 1: the area under the cumulative
 * curve of the a,b error, raw and class-rebalanced).
 *
 * For each pixel, e = the L2 distance in CIE Lab between the truth's
 * (a, b) and the prediction's (a, b) (in double, from the float values).  For the thresholds t = 0, 1, ...,
 * ACCURACY_T_MAX (150) the share of pixels with e <= t is averaged over
 * the 151 thresholds and multiplied by 100:
 *
 *   raw    every pixel weighs the same.
 *   rebal  every pixel weighs 1 / (pixels of the set in the truth's a,b
 *          bin), normalized: each occupied bin carries the same total
 *          weight, i.e. the mean over occupied bins of each bin's raw
 *          figure.  Bins: floor ((v + 110) / 10) for v = a and v = b,
 *          clamped to 0..21 (22 x 22 bins of 10 x 10 over -110..110, the
 *          grid of dataset.h's rare-colour weights).
 *
 * Because rebal needs the bin counts of a whole set, the figures are
 * computed from a table that images add to: per truth bin, the count of
 * pixels per error step k = ceil (e) (0..150; ACCURACY_T_MAX + 1 holds
 * e > 150 and NaN).  A pixel is within t exactly when ceil (e) <= t, so
 * it counts for 151 - k thresholds, and
 *
 *   raw   = 100 * sum_k count[k] (151 - k) / (151 * pixels)
 *
 * (over all bins; rebal takes that per bin and averages).  A table with no
 * pixels gives NaN.  Nothing here knows GEGL: tests link it alone.
 */
#ifndef TRAINER_ACCURACY_H
#define TRAINER_ACCURACY_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define ACCURACY_AB_BINS 22 /* per axis */
#define ACCURACY_BINS (ACCURACY_AB_BINS * ACCURACY_AB_BINS)
#define ACCURACY_T_MAX 150
#define ACCURACY_STEPS (ACCURACY_T_MAX + 2)

typedef struct accuracy_table {
  int64_t count[ACCURACY_BINS][ACCURACY_STEPS];
} accuracy_table;

/* The bin of one a or b value, 0..ACCURACY_AB_BINS - 1 (inline: the
 * training samples' rare-colour weights call it per pixel). */
static inline int
accuracy_ab_bin (float v)
{
  int i = (int) floorf ((v + 110.0f) / 10.0f);
  return i < 0 ? 0 : i >= ACCURACY_AB_BINS ? ACCURACY_AB_BINS - 1 : i;
}

/* Adds n pixels.  truth and pred: CIE Lab, `channels` floats per pixel
 * (a and b at offsets 1 and 2); pred NULL stands for zero chroma (the
 * grayscale baseline: e is the truth's chroma). */
void accuracy_add (accuracy_table *t, const float *truth, const float *pred,
                   size_t n, int channels);
/* dst += src */
void accuracy_merge (accuracy_table *dst, const accuracy_table *src);
/* The figures of the table (0..100; NaN without pixels). */
void accuracy_auc (const accuracy_table *t, double *raw, double *rebal);

#endif
