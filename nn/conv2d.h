/* conv2d.h - 2-D convolution (cross-correlation, as PyTorch's Conv2d).
 *
 * x: n x cin x h x w; weight: cout x cin x kh x kw; bias: cout or NULL;
 * y: n x cout x oh x ow with oh = (h + 2 pad - kh) / stride + 1 (same for w).
 * Implemented as im2col + sgemm over blocks of output pixels, so the
 * column buffer stays bounded (conv2d_workspace_floats) whatever the image.
 */
#ifndef NN_CONV2D_H
#define NN_CONV2D_H

#include <stddef.h>

typedef struct conv2d_desc {
  int n, cin, h, w;
  int cout, kh, kw, stride, pad;
  int oh, ow;
} conv2d_desc;

/* Fills oh, ow; returns 0, or -1 when the geometry is impossible. */
int conv2d_desc_init (conv2d_desc *d, int n, int cin, int h, int w, int cout,
                      int k, int stride, int pad);

/* Floats of scratch space the forward and backward passes need. */
size_t conv2d_workspace_floats (const conv2d_desc *d);

void conv2d_forward (const conv2d_desc *d, const float *x, const float *weight,
                     const float *bias, float *y, float *workspace);

/* The same with ReLU applied to the result when relu is non-zero (the
 * inference path fuses batch norm into weight and bias, and the ReLU). */
void conv2d_forward_fused (const conv2d_desc *d, const float *x,
                           const float *weight, const float *bias, int relu,
                           float *y, float *workspace);

/* Adds weight and bias gradients into dweight and dbias (dbias may be
 * NULL); writes dx when non-NULL (overwrites). */
void conv2d_backward (const conv2d_desc *d, const float *x, const float *weight,
                      const float *dy, float *dx, float *dweight, float *dbias,
                      float *workspace);

double conv2d_flops (const conv2d_desc *d);

#endif
