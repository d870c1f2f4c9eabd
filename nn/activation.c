/* activation.c - ReLU, leaky ReLU, tanh, residual add. */
#include <math.h>
#include "activation.h"

void
nn_relu_forward (const float *x, float *y, size_t n)
{
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; i++)
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void
nn_relu_backward (const float *y, const float *dy, float *dx, size_t n)
{
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; i++)
    {
      const float g = dy[i]; /* loaded unconditionally: vectorizes */
      dx[i] = y[i] > 0.0f ? g : 0.0f;
    }
}

void
nn_leaky_relu_forward (const float *x, float *y, size_t n, float slope)
{
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; i++)
    y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

void
nn_leaky_relu_backward (const float *y, const float *dy, float *dx, size_t n,
                        float slope)
{
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; i++)
    {
      const float g = dy[i];
      dx[i] = y[i] > 0.0f ? g : slope * g;
    }
}

void
nn_tanh_forward (const float *x, float *y, size_t n)
{
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; i++)
    y[i] = tanhf (x[i]);
}

void
nn_tanh_backward (const float *y, const float *dy, float *dx, size_t n)
{
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; i++)
    dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

void
nn_add_forward (const float *a, const float *b, float *y, size_t n)
{
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; i++)
    y[i] = a[i] + b[i];
}
