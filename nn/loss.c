/* loss.c - mean squared error. */
#include "loss.h"

double
nn_mse_loss (const float *pred, const float *target, const float *weight,
          size_t n, float *dpred)
{
  double sum = 0.0;
  const float scale = n ? 2.0f / (float) n : 0.0f;
  for (size_t i = 0; i < n; i++)
    {
      float d = pred[i] - target[i];
      float w = weight ? weight[i] : 1.0f;
      sum += (double) w * d * d;
      if (dpred)
        dpred[i] = scale * w * d;
    }
  return n ? sum / (double) n : 0.0;
}
