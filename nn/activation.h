/* activation.h - elementwise layers on flat float arrays of n elements:
 * ReLU, leaky ReLU, tanh, and the residual add.  y may alias x (in place). */
#ifndef NN_ACTIVATION_H
#define NN_ACTIVATION_H

#include <stddef.h>

void nn_relu_forward (const float *x, float *y, size_t n);
/* dx = dy where y > 0, else 0 (uses the output, so in-place is fine);
 * dx may alias dy. */
void nn_relu_backward (const float *y, const float *dy, float *dx, size_t n);

/* y = x where x > 0, else slope x (slope > 0); backward from the output as
 * nn_relu_backward. */
void nn_leaky_relu_forward (const float *x, float *y, size_t n, float slope);
void nn_leaky_relu_backward (const float *y, const float *dy, float *dx,
                             size_t n, float slope);

void nn_tanh_forward (const float *x, float *y, size_t n);
/* dx = dy * (1 - y^2); dx may alias dy. */
void nn_tanh_backward (const float *y, const float *dy, float *dx, size_t n);

/* y = a + b; y may alias a or b.  Backward: both inputs get dy. */
void nn_add_forward (const float *a, const float *b, float *y, size_t n);

#endif
