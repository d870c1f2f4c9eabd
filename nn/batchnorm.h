/* batchnorm.h - 2-D batch normalization, as PyTorch's BatchNorm2d.
 *
 * x, y: n x c x hw (hw = h * w).  Training mode normalizes with the batch
 * statistics (biased variance), and updates the running averages with
 * momentum m: running = (1 - m) running + m stat, the variance unbiased
 * (times count / (count - 1)).  Inference mode uses the running averages.
 */
#ifndef NN_BATCHNORM_H
#define NN_BATCHNORM_H

/* Sums count doubles elementwise over every process of a data-parallel
 * job, in place (for example with MPI_Allreduce).  With it, training-mode
 * statistics are those of the global batch (synchronized batch norm), and
 * backward uses the global sums for dx while dgamma and dbeta stay this
 * process's share (the caller sums parameter gradients over processes). */
typedef void (*batchnorm_reduce_fn) (double *values, int count, void *user_data);

typedef struct batchnorm_desc {
  int n, c, hw;
  float eps, momentum;
  batchnorm_reduce_fn reduce;  /* NULL: this process's batch alone */
  void *reduce_data;
  /* A ReLU fused after the batch norm: forward writes max(0, y); backward
   * takes dy of the ReLU's output and relu_y, that output, to mask it
   * (dy where relu_y > 0, else 0).  0 / NULL: no ReLU. */
  int relu;
  const float *relu_y;
} batchnorm_desc;

/* save_mean, save_invstd (c floats each) receive the batch mean and
 * 1 / sqrt(var + eps) for the backward pass.  Returns -1 when out of
 * memory (nothing written), else 0. */
int nn_batchnorm_forward_train (const batchnorm_desc *d, const float *x,
                              const float *gamma, const float *beta,
                              float *running_mean, float *running_var,
                              float *y, float *save_mean, float *save_invstd);

void nn_batchnorm_forward_infer (const batchnorm_desc *d, const float *x,
                              const float *gamma, const float *beta,
                              const float *running_mean,
                              const float *running_var, float *y);

/* Adds dgamma, dbeta; writes dx when non-NULL; returns -1 when out of
 * memory, else 0.  mean/invstd are the saved
 * batch statistics (training) or the running ones turned into
 * 1 / sqrt(var + eps) (inference, where the statistics are constants). */
int nn_batchnorm_backward (const batchnorm_desc *d, int training,
                         const float *x, const float *dy, const float *gamma,
                         const float *mean, const float *invstd, float *dx,
                         float *dgamma, float *dbeta);

#endif
