/* convdirect.h - convolution of a single input plane, computed directly
 * (the first layer of both networks: the cnn's 3x3 stride-1 conv1 and
 * the ResNet's 7x7 stride-2 stem on L).
 *
 * With one input channel, im2col + sgemm is a product with K = kh kw (9
 * or 49): too short for the GEMM kernels (5 and 20 % of their rate,
 * measured).  Here the padded input is split once into its stride x
 * stride phase planes,
 *
 *   phase (py, px) (r, c) = xpad (r stride + py, c stride + px),
 *
 * so that every tap (ky, kx) of a row of outputs reads one contiguous run
 * of phase (ky % s, kx % s) at row oy + ky / s, column ox + kx / s.  Each
 * run of CHUNK outputs sums its taps in a vector of registers; output
 * rows go in blocks among the threads, each block over all output planes
 * while its input rows stay in cache.  Layouts as conv2d.h (x n x 1 x h x
 * w, weight cout x 1 x kh x kw, y n x cout x oh x ow); the products are
 * summed in tap order, then the bias added (as im2col's sgemm then bias;
 * other rounding than the GEMM's, within float precision).
 *
 * The weight gradient the same way (each output row's dot products with
 * the taps' runs, in vectors, summed per row in doubles); the input
 * gradient, which only a caller asking for the gradient of the network's
 * input needs, is im2col's (conv2d.c), which is why the workspace covers
 * both.
 */
#ifndef NN_CONVDIRECT_H
#define NN_CONVDIRECT_H

#include <stddef.h>
#include "conv2d.h"

/* Whether d can go through the direct convolution: one input channel,
 * kernels up to 7x7, strides 1 and 2. */
int nn_convdirect_ok (const conv2d_desc *d);

/* Floats of workspace nn_convdirect_forward needs for d (one image's
 * phase planes). */
size_t nn_convdirect_workspace_floats (const conv2d_desc *d);

/* y = x convolved with weight, plus bias (NULL: none), then ReLU when
 * relu is non-zero. */
void nn_convdirect_forward (const conv2d_desc *d, const float *x,
                            const float *weight, const float *bias, int relu,
                            float *y, float *workspace);

/* dweight (cout x 1 x kh x kw) += the weight gradient of the convolution
 * of x for the output gradient dy (n x cout x oh x ow). */
void nn_convdirect_backward_weights (const conv2d_desc *d, const float *x,
                                     const float *dy, float *dweight,
                                     float *workspace);

#endif
