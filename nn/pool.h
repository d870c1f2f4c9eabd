/* pool.h - 2-D max pooling, as PyTorch's MaxPool2d (padding never wins:
 * padded positions count as -infinity).  x: n x c x h x w, y: n x c x oh x ow,
 * oh = (h + 2 pad - k) / stride + 1. */
#ifndef NN_POOL_H
#define NN_POOL_H

typedef struct maxpool_desc {
  int n, c, h, w, k, stride, pad, oh, ow;
} maxpool_desc;

int nn_maxpool_desc_init (maxpool_desc *d, int n, int c, int h, int w, int k,
                       int stride, int pad);
void nn_maxpool_forward (const maxpool_desc *d, const float *x, float *y);
/* dx = the gradient routed to the first maximum of each window
 * (overwrites dx). */
void nn_maxpool_backward (const maxpool_desc *d, const float *x, const float *dy,
                       float *dx);

#endif
