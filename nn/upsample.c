/* upsample.c - nearest-neighbour upsampling by 2. */
#include <stddef.h>
#include "upsample.h"

void
nn_upsample2_forward (const float *x, float *y, int planes, int h, int w)
{
  const int W = 2 * w;
#pragma omp parallel for schedule(static)
  for (int pl = 0; pl < planes; pl++)
    {
      const float *xp = x + (size_t) pl * h * w;
      float *yp = y + (size_t) pl * 4 * h * w;
      for (int i = 0; i < h; i++)
        {
          float *r0 = yp + (size_t) (2 * i) * W;
          float *r1 = r0 + W;
          for (int j = 0; j < w; j++)
            {
              const float v = xp[i * w + j];
              r0[2 * j] = r0[2 * j + 1] = v;
              r1[2 * j] = r1[2 * j + 1] = v;
            }
        }
    }
}

void
nn_upsample2_backward (const float *dy, float *dx, int planes, int h, int w)
{
  const int W = 2 * w;
#pragma omp parallel for schedule(static)
  for (int pl = 0; pl < planes; pl++)
    {
      const float *gp = dy + (size_t) pl * 4 * h * w;
      float *op = dx + (size_t) pl * h * w;
      for (int i = 0; i < h; i++)
        {
          const float *r0 = gp + (size_t) (2 * i) * W;
          const float *r1 = r0 + W;
          for (int j = 0; j < w; j++)
            op[i * w + j] = (r0[2 * j] + r0[2 * j + 1])
                            + (r1[2 * j] + r1[2 * j + 1]);
        }
    }
}
