/* adam.c - Adam / AdamW, following torch.optim.Adam and AdamW (1.13,
 * single-tensor path) operation for operation. */
#include <math.h>
#include <stdlib.h>
#include "adam.h"

nn_code
nn_adam_new (const nn_model *model, adam_state **out, nn_error *err)
{
  adam_state *s = calloc (1, sizeof *s);
  *out = NULL;
  if (!s)
    return nn_error_set (err, NN_ERR_NOMEM, "out of memory for Adam state");
  for (int i = 0; i < model->n_params; i++)
    if (model->params[i].trainable)
      s->n++;
  s->m = calloc ((size_t) s->n, sizeof (float *));
  s->v = calloc ((size_t) s->n, sizeof (float *));
  s->lr_scale = malloc ((size_t) (s->n ? s->n : 1) * sizeof (float));
  if (!s->m || !s->v || !s->lr_scale)
    goto nomem;
  for (int j = 0; j < s->n; j++)
    s->lr_scale[j] = 1.0f;
  for (int i = 0, j = 0; i < model->n_params; i++)
    if (model->params[i].trainable)
      {
        s->m[j] = calloc (model->params[i].size, sizeof (float));
        s->v[j] = calloc (model->params[i].size, sizeof (float));
        if (!s->m[j] || !s->v[j])
          goto nomem;
        j++;
      }
  *out = s;
  return NN_OK;
nomem:
  nn_adam_free (s);
  return nn_error_set (err, NN_ERR_NOMEM, "out of memory for Adam state");
}

void
nn_adam_free (adam_state *s)
{
  if (!s)
    return;
  for (int j = 0; j < s->n; j++)
    {
      if (s->m)
        free (s->m[j]);
      if (s->v)
        free (s->v[j]);
    }
  free (s->m);
  free (s->v);
  free (s->lr_scale);
  free (s);
}

void
nn_adam_update (const adam_config *cfg, int64_t step, float lr, float *data,
                const float *grad, float *m, float *v, size_t n)
{
  const double bc1 = 1.0 - pow (cfg->beta1, (double) step);
  const double bc2 = 1.0 - pow (cfg->beta2, (double) step);
  const float bc2_sqrt = (float) sqrt (bc2);
  const float b1 = cfg->beta1, b2 = cfg->beta2, eps = cfg->eps;
  const float wd = cfg->weight_decay;
  const float step_size = (float) (lr / bc1);
  const float decay = cfg->decoupled ? 1.0f - lr * wd : 1.0f;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (size_t k = 0; k < n; k++)
    {
      float g = grad[k];
      if (cfg->decoupled)
        data[k] *= decay;
      else if (wd != 0.0f)
        g += wd * data[k];
      m[k] = m[k] * b1 + (1.0f - b1) * g;
      v[k] = v[k] * b2 + (1.0f - b2) * g * g;
      const float denom = sqrtf (v[k]) / bc2_sqrt + eps;
      data[k] -= step_size * m[k] / denom;
    }
}

void
nn_adam_step (adam_state *s, nn_model *model, const adam_config *cfg)
{
  s->step++;
  for (int i = 0, j = 0; i < model->n_params; i++)
    {
      nn_param *p = &model->params[i];
      if (!p->trainable)
        continue;
      nn_adam_update (cfg, s->step, cfg->lr * s->lr_scale[j], p->data,
                      p->grad, s->m[j], s->v[j], p->size);
      j++;
    }
}
