/* head.h - the colour-class head (Zhang, Isola and Efros 2016, "Colorful
 * Image Colorization"): instead of a,b, the network predicts a
 * distribution over Q bins of the a,b plane.
 *
 * Bins: the cells of a 10 x 10 grid over a, b in -110..110 (22 x 22
 * cells, cell (i, j) = [-110 + 10 i, -100 + 10 i) x [-110 + 10 j, ...),
 * centre (-105 + 10 i, -105 + 10 j)), kept when the cell touches the
 * sRGB gamut: one of its 5 x 5 sample points (edges included) is inside
 * [0, 1]^3 at some L in 1, 3, .., 99 (D50 Lab, Bradford-adapted sRGB):
 * 263 cells.  The model stores its bins' centres as the tensor
 * `head.bins` (Q x 2, CIE a, b), so the file alone says what its classes
 * mean; the weight file's metadata key `head_bins=Q` says it has this head
 * (weights/FORMAT.md).
 *
 * Layout: the head's logits are n x Q x h x w (the network's output, at
 * half the input's resolution).
 *
 * Training (nn_head_loss): each target pixel's a,b is soft-encoded over
 * its 5 nearest bin centres with Gaussian weights (sigma 5), and the loss
 * is the cross-entropy of the softmax of the logits against it, each pixel
 * weighted by the caller's rebalancing weight (or 1), averaged over the
 * pixels.
 *
 * Inference (nn_head_decode): the annealed mean: softmax (logits / T) and
 * the expected bin centre.  T = 1 is the mean (dull), T -> 0 the mode
 * (vivid, noisy); Zhang et al. use 0.38.
 */
#ifndef NN_HEAD_H
#define NN_HEAD_H

#include <stddef.h>
#include "error.h"

#define NN_HEAD_GRID 22            /* cells per side */
#define NN_HEAD_CELL 10.0f         /* CIE units per cell */
#define NN_HEAD_MAX_BINS (NN_HEAD_GRID * NN_HEAD_GRID)
#define NN_HEAD_SOFT_NEIGHBOURS 5
#define NN_HEAD_SOFT_SIGMA 5.0f
#define NN_HEAD_DEFAULT_TEMPERATURE 0.38f
#define NN_HEAD_MIN_TEMPERATURE 0.01f
#define NN_HEAD_MAX_TEMPERATURE 10.0f

/* Writes the gamut bins' centres (a, b pairs) to centres (room for
 * NN_HEAD_MAX_BINS pairs) and returns their count. */
int nn_head_gamut_bins (float *centres);

/* Soft-encoding and cross-entropy, see above.  logits: n x q x h x w;
 * target_ab: n x 2 x h x w in CIE units; weight: n x h x w or NULL.
 * Returns the mean loss over the n*h*w pixels (sum of weight * CE / count);
 * dlogits (same shape as logits) receives its gradient when non-NULL. */
double nn_head_loss (const float *logits, const float *centres, int q, int n,
                     int h, int w, const float *target_ab,
                     const float *weight, float *dlogits);

/* The same with a teacher (knowledge distillation): each pixel's target
 * is share x softmax (teacher's logits, same shape as logits) plus
 * (1 - share) x the soft-encoded truth.  teacher NULL: nn_head_loss. */
double nn_head_loss_teacher (const float *logits, const float *centres, int q,
                             int n, int h, int w, const float *target_ab,
                             const float *teacher, float share,
                             const float *weight, float *dlogits);

/* Annealed mean of every pixel of logits (n x q x h x w) at temperature t,
 * written as raw network output (CIE a, b divided by ab_scale) enlarged
 * `up` times by pixel repetition: n x 2 x (h * up) x (w * up). */
nn_code nn_head_decode (const float *logits, const float *centres, int q,
                        int n, int h, int w, float t, float ab_scale, int up,
                        float *out, nn_error *err);

/* The same for one image's rows: channel c of the logits at logits + c
 * plane (h x w, rows contiguous), a at out and b at out + out_plane
 * ((h up) x (w up) each).  For a caller that makes the logits band by
 * band (nn_model_forward_ab). */
nn_code nn_head_decode_rows (const float *logits, size_t plane,
                             const float *centres, int q, int h, int w,
                             float t, float ab_scale, int up, float *out,
                             size_t out_plane, nn_error *err);

/* The chain rule through the annealed mean at T = 1 (ab, as
 * nn_head_decode writes it with ab_scale 1 and up 1) of n images of hw
 * pixels: with p = softmax (logits), d ab / d logit_c = p_c (centre_c -
 * ab), so dlogits (n x q x hw) += p_c ((A_c - a) da + (B_c - b) db) for
 * the a,b gradient dab (n x 2 x hw).  For the losses that judge the
 * colours themselves (nn/perceptual.h, nn/adversarial.h). */
void nn_head_mean_backward (const float *logits, const float *centres, int q,
                            int n, size_t hw, const float *ab,
                            const float *dab, float *dlogits);

#endif
