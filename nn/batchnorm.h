/* batchnorm.h - 2-D batch normalization, as PyTorch's BatchNorm2d.
 *
 * x, y: n x c x hw (hw = h * w).  Training mode normalizes with the batch
 * statistics (biased variance), and updates the running averages with
 * momentum m: running = (1 - m) running + m stat, the variance unbiased
 * (times count / (count - 1)).  Inference mode uses the running averages.
 */
#ifndef NN_BATCHNORM_H
#define NN_BATCHNORM_H

typedef struct batchnorm_desc {
  int n, c, hw;
  float eps, momentum;
} batchnorm_desc;

/* save_mean, save_invstd (c floats each) receive the batch mean and
 * 1 / sqrt(var + eps) for the backward pass. */
void batchnorm_forward_train (const batchnorm_desc *d, const float *x,
                              const float *gamma, const float *beta,
                              float *running_mean, float *running_var,
                              float *y, float *save_mean, float *save_invstd);

void batchnorm_forward_infer (const batchnorm_desc *d, const float *x,
                              const float *gamma, const float *beta,
                              const float *running_mean,
                              const float *running_var, float *y);

/* Adds dgamma, dbeta; writes dx when non-NULL.  mean/invstd are the saved
 * batch statistics (training) or the running ones turned into
 * 1 / sqrt(var + eps) (inference, where the statistics are constants). */
void batchnorm_backward (const batchnorm_desc *d, int training,
                         const float *x, const float *dy, const float *gamma,
                         const float *mean, const float *invstd, float *dx,
                         float *dgamma, float *dbeta);

#endif
