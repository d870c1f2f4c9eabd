/* conv2d.h - 2-D convolution (cross-correlation, as PyTorch's Conv2d).
 *
 * x: n x cin x h x w; weight: cout x cin x kh x kw; bias: cout or NULL;
 * y: n x cout x oh x ow with oh = (h + 2 pad - kh) / stride + 1 (same for w).
 * Implemented as im2col + sgemm over blocks of output pixels, so the
 * column buffer stays bounded (nn_conv2d_workspace_floats) whatever the image.
 *
 * CONV2D_SHIFT (3x3, stride 1, padding 1 only; chosen by the caller for
 * training, where the batch is small): no im2col.  The input is copied
 * once, zero-padded, as cin rows of n (h+2)(w+2) floats; output pixel q of
 * that padded index space is then sum over the 9 taps t of W_t (cout x cin)
 * times the input rows shifted by t's offset (dy (w+2) + dx): 9 sgemms
 * over contiguous views, no 9x column matrix.  Its workspace grows with
 * the batch (about 2 cin + cout padded planes), so inference keeps im2col.
 *
 * CONV2D_WINO and CONV2D_WINO_TRAIN: Winograd's F(2x2, 3x3) (winograd.h).
 * CONV2D_DIRECT: one input plane, no GEMM (convdirect.h).
 * CONV2D_FEW: few output planes, no GEMM (convfew.h).
 * Which layer gets which: model.c's conv_algo.
 */
#ifndef NN_CONV2D_H
#define NN_CONV2D_H

#include <stddef.h>

typedef enum conv2d_algo {
  CONV2D_IM2COL = 0,
  CONV2D_SHIFT = 1,
  /* CONV2D_SHIFT applied to a nearest x2 upsampling of x: the input
   * passed is the small image (h/2 x w/2).  Each of the 4 output phases
   * (y, x parity) sees a 2x2 kernel over the small image whose taps are
   * sums of the 3x3 ones: 16 instead of 36 small-image products, and the
   * upsampled copy is never made.  h and w must be even. */
  CONV2D_UP2 = 2,
  /* 3x3, stride 1, padding 1: forward by Winograd's F(2x2, 3x3)
   * (winograd.h), backward as CONV2D_IM2COL (inference) */
  CONV2D_WINO = 3,
  /* the same for training: forward, input gradient (the rotated
   * kernel's convolution of dy) and weight gradient
   * (nn_wino_backward_weights) by Winograd */
  CONV2D_WINO_TRAIN = 4,
  /* 3x3, stride 2, padding 1: CONV2D_SHIFT's products on the input's four
   * stride phases (no column matrix; forward and backward) */
  CONV2D_PHASE2 = 5,
  /* one input channel: forward and weight gradient computed directly
   * (convdirect.h), the input gradient as CONV2D_IM2COL */
  CONV2D_DIRECT = 6,
  /* 3x3, stride 1, padding 1, at most four output channels: forward,
   * input and weight gradients computed directly (convfew.h) */
  CONV2D_FEW = 7
} conv2d_algo;

typedef struct conv2d_desc {
  int n, cin, h, w;
  int cout, kh, kw, stride, pad;
  int oh, ow;
  conv2d_algo algo;
} conv2d_desc;

/* Fills oh, ow, algo = CONV2D_IM2COL; returns 0, or -1 when the geometry
 * is impossible. */
int nn_conv2d_desc_init (conv2d_desc *d, int n, int cin, int h, int w, int cout,
                      int k, int stride, int pad);

/* Whether CONV2D_SHIFT applies (3x3, stride 1, padding 1). */
int nn_conv2d_shift_ok (const conv2d_desc *d);

/* Whether CONV2D_PHASE2 applies (3x3, stride 2, padding 1). */
int nn_conv2d_phase2_ok (const conv2d_desc *d);

/* Floats of scratch space the forward and backward passes need. */
size_t nn_conv2d_workspace_floats (const conv2d_desc *d);

/* Floats of scratch space the forward pass alone needs (inference). */
size_t nn_conv2d_forward_workspace_floats (const conv2d_desc *d);

void nn_conv2d_forward (const conv2d_desc *d, const float *x, const float *weight,
                     const float *bias, float *y, float *workspace);

/* The same with ReLU applied to the result when relu is non-zero (the
 * inference path fuses batch norm into weight and bias, and the ReLU). */
void nn_conv2d_forward_fused (const conv2d_desc *d, const float *x,
                           const float *weight, const float *bias, int relu,
                           float *y, float *workspace);

/* Adds weight and bias gradients into dweight and dbias (dbias may be
 * NULL); writes dx when non-NULL (overwrites). */
void nn_conv2d_backward (const conv2d_desc *d, const float *x, const float *weight,
                      const float *dy, float *dx, float *dweight, float *dbias,
                      float *workspace);

double nn_conv2d_flops (const conv2d_desc *d);

#endif
