/* adam.h - the Adam optimizer, as torch.optim.Adam / torch.optim.AdamW.
 *
 * Only trainable parameters are updated.  With decoupled weight decay the
 * parameter is first multiplied by (1 - lr * weight_decay) (AdamW);
 * otherwise weight_decay is added to the gradient as L2 (Adam).
 */
#ifndef NN_ADAM_H
#define NN_ADAM_H

#include <stdint.h>
#include "error.h"
#include "model.h"

typedef struct adam_config {
  float lr;            /* 1e-3 */
  float beta1;         /* 0.9 */
  float beta2;         /* 0.999 */
  float eps;           /* 1e-8 */
  float weight_decay;  /* 0 */
  int decoupled;       /* 1: AdamW, 0: L2 in the gradient */
} adam_config;

#define ADAM_CONFIG_DEFAULT ((adam_config) { 1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f, 0 })

typedef struct adam_state {
  int64_t step;        /* steps taken */
  int n;               /* number of trainable parameters covered */
  float **m;           /* first moments, one per trainable parameter */
  float **v;           /* second moments */
  float *lr_scale;     /* per trainable parameter: its lr is cfg->lr times
                          this (all 1 from nn_adam_new; fine-tuning lowers
                          some); weight decay scales with it */
} adam_state;

nn_code nn_adam_new (const nn_model *model, adam_state **out, nn_error *err);
void nn_adam_free (adam_state *s);
/* One step with the gradients in the model's nn_param.grad; cfg->lr is
 * the learning rate of this step. */
void nn_adam_step (adam_state *s, nn_model *model, const adam_config *cfg);

/* The update of one tensor of n values at Adam's step `step` (1 for the
 * first) with learning rate lr: what nn_adam_step does to each parameter,
 * for an optimizer whose tensors are not a model's (nn/adversarial.h). */
void nn_adam_update (const adam_config *cfg, int64_t step, float lr,
                     float *data, const float *grad, float *m, float *v,
                     size_t n);

#endif
