/* metrics.h - the figures of `eval` (and of validation while training).
 *
 * For one 8-bit sRGB image (the truth): its L (babl "CIE Lab float" of
 * the 8-bit pixels) goes through the plug-in's pipeline (nn_colorize_image);
 * the result is turned back into 8-bit sRGB keeping L
 * (image_lab_to_rgb_u8) and compared with the truth:
 *
 *   psnr        10 log10 (255^2 / MSE) over the R, G, B values of all
 *               pixels.  Identical images give +infinity, printed "inf"
 *               (and a mean over images that contains one is "inf").
 *   gray_psnr   the same for the truth's L with zero chroma.
 *   colorfulness, truth_colorfulness
 *               Hasler and Suesstrunk 2003 on 8-bit values: rg = R - G,
 *               yb = (R + G) / 2 - B, M = sqrt (sd_rg^2 + sd_yb^2)
 *               + 0.3 sqrt (mean_rg^2 + mean_yb^2), population sd.
 *   local_gain  with t = truth a,b and o = predicted a,b (float, before
 *               8-bit rounding), each minus its image mean:
 *               1 - mean |t' - o'| / mean |t'|, |.| the a,b distance.
 *               When the truth has no chroma variation (mean |t'| below
 *               1e-6), 0.
 *   loss        the training loss (plain MSE) of the network's raw output
 *               against the truth's a,b shrunk to the working size (NaN
 *               without a model: hints only).
 *   auc_raw, auc_rebal
 *               colour-placement accuracy after Zhang, Isola and Efros
 *               2016 (accuracy.h), in 0..100: with e the CIE a,b
 *               distance between the truth (Lab of the 8-bit truth) and
 *               the prediction (float, before 8-bit rounding), the share
 *               of pixels with e <= t for t = 0, 1, ..., 150, averaged
 *               over the 151 thresholds, times 100.  auc_raw weighs every
 *               pixel the same; auc_rebal weighs each pixel by 1 / (the
 *               truth pixels in its 10 x 10 a,b bin), normalized, so that
 *               every occupied bin (22 x 22 over -110..110, clamped) counts
 *               the same.  For a set (eval's last line, validation) the
 *               bins are counted over the whole set: the images' tables
 *               are summed (evaluate_image's acc) and the figures taken
 *               from the sum (evaluate_accuracy), not averaged over
 *               images; an image's own figures use its own bins.
 *   gray_auc_raw, gray_auc_rebal
 *               the same for the grayscale baseline (a = b = 0).
 */
#ifndef TRAINER_METRICS_H
#define TRAINER_METRICS_H

#include <stddef.h>
#include "accuracy.h"
#include "colorize.h"
#include "model.h"

typedef struct eval_figures {
  double psnr;
  double gray_psnr;
  double colorfulness;
  double truth_colorfulness;
  double local_gain;
  double loss;
  double auc_raw, auc_rebal;
  double gray_auc_raw, gray_auc_rebal;
} eval_figures;

/* The accuracy tables of a set: the prediction's and the grayscale
 * baseline's (1.2 MB: allocate it). */
typedef struct eval_accuracy {
  accuracy_table pred, gray;
} eval_accuracy;

double metrics_psnr (const unsigned char *a, const unsigned char *b,
                     size_t n_values);
double metrics_colorfulness (const unsigned char *rgb, size_t n_pixels);
/* truth and out: CIE Lab, `channels` floats per pixel. */
double metrics_local_gain (const float *truth, const float *out,
                           size_t n_pixels, int channels);

/* Evaluates one image.  out_rgb and gray_rgb (w * h * 3 each) receive the
 * colorized and the grayscale 8-bit images when non-NULL; the image's
 * accuracy tables are added to acc when non-NULL. */
nn_code evaluate_image (nn_model *m, const unsigned char *rgb, int w, int h,
                        const colorize_options *opt, eval_figures *f,
                        unsigned char *out_rgb, unsigned char *gray_rgb,
                        eval_accuracy *acc, nn_error *err);

/* The four auc figures of f from the tables of a set. */
void evaluate_accuracy (const eval_accuracy *acc, eval_figures *f);

#endif
