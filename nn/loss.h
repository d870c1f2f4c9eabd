/* loss.h - mean squared error, as torch.nn.functional.mse_loss (mean). */
#ifndef NN_LOSS_H
#define NN_LOSS_H

#include <stddef.h>

/* Returns sum(w_i * (pred_i - target_i)^2) / n, with w_i = 1 when weight is
 * NULL.  When dpred is non-NULL it receives the gradient of that value
 * with respect to pred. */
double nn_mse_loss (const float *pred, const float *target, const float *weight,
                 size_t n, float *dpred);

#endif
