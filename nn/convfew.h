/* convfew.h - 3x3 convolution with few output channels, computed
 * directly (the seed's two-channel a,b heads: 32 to 2 channels).
 *
 * With cout at most NN_CONVFEW_MAX_COUT a GEMM has a dimension of 2 to 4:
 * the shifted products ran at 3 to 15 % of the sgemm rate (measured:
 * the ResNet18's 32-to-2 head 1.4 ms forward, 4.0 ms backward at batch 16,
 * 64x64; 28 ms at 512x512).  Here the work goes in bands of output rows
 * (image i, rows y0 .. y0 + NN_CONVFEW_ROWS - 1): a band's input rows,
 * one above and one below, are copied zero-padded into a per-thread
 * scratch of cin planes (its columns: w rounded up to the vector chunk,
 * plus 2), and every run of 64 outputs of every output channel sums its
 * cin x 9 products in vector registers.
 *
 * The input gradient the same way on the padded output gradient (the
 * kernel rotated, four input channels at a time), and the weight
 * gradient as per-band vector sums of dy times the shifted input, added
 * per band into each thread's doubles and then over the threads in order
 * (the same bits from run to run for a thread count).  Sums run over the
 * input channels, then ky, then kx; other rounding than the GEMM's, within
 * float precision.  Layouts as conv2d.h.
 */
#ifndef NN_CONVFEW_H
#define NN_CONVFEW_H

#include <stddef.h>
#include "conv2d.h"

#define NN_CONVFEW_MAX_COUT 4
#define NN_CONVFEW_ROWS 8

/* Whether d goes through this file: 3x3, stride 1, padding 1, at most
 * NN_CONVFEW_MAX_COUT output channels. */
int nn_convfew_ok (const conv2d_desc *d);

/* Floats of workspace the forward pass needs, and forward and backward. */
size_t nn_convfew_forward_floats (const conv2d_desc *d);
size_t nn_convfew_workspace_floats (const conv2d_desc *d);

/* y = x convolved with weight, plus bias (NULL: none), then ReLU when relu
 * is non-zero. */
void nn_convfew_forward (const conv2d_desc *d, const float *x,
                         const float *weight, const float *bias, int relu,
                         float *y, float *workspace);

/* dweight += the weight gradient for the output gradient dy; dx (NULL:
 * not wanted) = the input gradient. */
void nn_convfew_backward (const conv2d_desc *d, const float *x,
                          const float *weight, const float *dy, float *dx,
                          float *dweight, float *workspace);

#endif
