/* winograd.h - 3x3, stride-1, padding-1 convolution by Winograd's minimal
 * filtering F(2x2, 3x3) (Lavin and Gray 2015, "Fast Algorithms for
 * Convolutional Neural Networks").
 *
 * The output is cut into 2x2 tiles; tile (ty, tx) of an image reads the
 * 4x4 input patch whose corner is (2 ty - 1, 2 tx - 1), zeros outside the
 * image.  With B, G, A the F(2x2, 3x3) matrices (winograd.c):
 *
 *   U[xi] (cout x cin) = (G g G^T)[xi]   for each kernel g, xi in 0..15
 *   V[xi] (cin x tiles) = (B^T d B)[xi]  for each patch d
 *   M[xi] = U[xi] V[xi]                  16 products
 *   y tile = A^T M A                     (+ bias, ReLU)
 *
 * 16 multiply-adds per 4 outputs and input-output channel pair instead of
 * 36: 2.25 times fewer.  Tiles go in blocks, each thread transforming and
 * multiplying its own blocks with single-threaded products, so the
 * workspace is bounded (nn_wino_workspace_floats) whatever the image.
 * With up to 128 input channels the forward products are nn_small_gemm's
 * (smallgemm.h) on blocks of at most 128 tiles, so that a block's V and M
 * stay in the core's own cache between the transforms and the products;
 * the others, and the weight gradient's (long sums over tiles, where
 * OpenBLAS does as well), are sgemm's on blocks of up to 1024.
 * Layouts as conv2d.h: x n x cin x h x w, weight cout x cin x 3 x 3,
 * y n x cout x h x w.
 */
#ifndef NN_WINOGRAD_H
#define NN_WINOGRAD_H

#include <stddef.h>
#include "conv2d.h"

/* Whether d (3x3, stride 1, padding 1) can go through Winograd. */
int nn_wino_ok (const conv2d_desc *d);

/* Floats of workspace nn_wino_forward needs for d. */
size_t nn_wino_workspace_floats (const conv2d_desc *d);

/* y = x convolved with weight, plus bias (NULL: none), then ReLU when
 * relu is non-zero.  flip: weight is the kernel of the transposed
 * convolution instead, stored cin x cout x 3 x 3 and read rotated by 180
 * degrees (so the input gradient of a convolution W is nn_wino_forward of
 * dy with W and flip 1, d being the gradient's geometry: cin and cout
 * swapped). */
void nn_wino_forward (const conv2d_desc *d, const float *x, const float *weight,
                      int flip, const float *bias, int relu, float *y,
                      float *workspace);

/* The same in two steps, for a caller that keeps the transformed kernels
 * while the weights do not change: u (nn_wino_kernel_floats) = the
 * kernels' transforms, then the convolution with them (the workspace as
 * nn_wino_forward's). */
size_t nn_wino_kernel_floats (const conv2d_desc *d);
void nn_wino_kernels (const conv2d_desc *d, const float *weight, int flip,
                      float *u);
void nn_wino_forward_kernels (const conv2d_desc *d, const float *x,
                              const float *u, const float *bias, int relu,
                              float *y, float *workspace);

/* The weight gradient: dweight (cout x cin x 3 x 3) += the gradient of
 * the convolution of x for the output gradient dy (n x cout x h x w).
 * By the transpose of the forward pass (the input transform V as there):
 *
 *   E[xi] (cout x tiles) = (A dy A^T)[xi]  for each 2x2 output tile
 *   N[xi] = E[xi] V[xi]^T                  16 sgemms (cout x cin)
 *   dweight += G^T N G                     per kernel
 *
 * 16 multiply-adds per 4 outputs and channel pair instead of 36.  Each
 * thread sums the blocks the static schedule gives it, and the threads'
 * sums are added in thread order: the same bits from run to run for a
 * given thread count.  Workspace: nn_wino_backward_weights_floats. */
size_t nn_wino_backward_weights_floats (const conv2d_desc *d);
void nn_wino_backward_weights (const conv2d_desc *d, const float *x,
                               const float *dy, float *dweight,
                               float *workspace);

/* The input and output-gradient row transforms run in AVX-512 on a CPU
 * that has it, in the cloned C loops (nn/simd.h) elsewhere: the same
 * bits either way.  on != 0 makes them take the C loops whatever the CPU
 * (0: back to the CPU's best), so that a test compares both paths; only
 * while no convolution runs. */
void nn_wino_portable (int on);

#endif
