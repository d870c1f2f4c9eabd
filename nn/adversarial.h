/* adversarial.h - the adversarial term: a small patch discriminator that
 * learns to tell the colour-class head's colours from the photo's, and the
 * gradient that asks the head for colours it cannot tell apart (a
 * least-squares GAN, Mao et al. 2017, on a,b given L, as pix2pix's patch
 * discriminator judges local patches).
 *
 * The discriminator D, on n images of 3 x h x w at the logits' size, each
 * first averaged over blocks of pool x pool pixels (nn_adv_set_pool; 1:
 * none; the last row and column of blocks may be partial, and are the
 * mean of the pixels they hold) to ceil (h / pool) x ceil (w / pool):
 *   input  (L - 50) / 50, a / 50, b / 50 (CIE units);
 *   conv0  3 -> 32, 3x3, stride 2, pad 1, + bias, leaky ReLU 0.2
 *   conv1  32 -> 64, 3x3, stride 2, pad 1, + bias, leaky ReLU 0.2
 *   conv2  64 -> 128, 3x3, stride 1, pad 1, + bias, leaky ReLU 0.2
 *   conv3  128 -> 1, 3x3, stride 1, pad 1, + bias: one score per patch,
 *          n x 1 x ceil (h' / 4) x ceil (w' / 4) of the pooled h' x w',
 *          each seeing 23 pool x 23 pool of the logits' pixels (46 pool
 *          x 46 pool of the photo's).
 * Its parameters are one block of floats, conv0's weight (PyTorch's
 * cout x cin x 3 x 3), conv0's bias, conv1's weight, ... conv3's bias.
 *
 * The losses of one batch (fake: the head's annealed mean at T = 1 with
 * the truth's L; real: the truth; each mean over its n x oh x ow scores):
 *   d_loss = mean ((D (real) - 1)^2) + mean (D (fake)^2)
 *   g_loss = mean ((D (fake) - 1)^2)
 * D descends d_loss with its own Adam (beta1 0.5, beta2 0.999, eps 1e-8,
 * no weight decay); the head gets g_loss's gradient through the annealed
 * mean (nn_head_mean_backward), with D as it was before its update.
 *
 * The state (nn_adv_state_write; what a training checkpoint keeps, host
 * byte order): i64 Adam's step, then the parameters, Adam's m and Adam's
 * v, each nn_adv_size () floats.
 */
#ifndef NN_ADVERSARIAL_H
#define NN_ADVERSARIAL_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

#define NN_ADV_LAYERS 4
#define NN_ADV_SLOPE 0.2f        /* the leaky ReLUs' */
#define NN_ADV_INPUT_SCALE 50.0f /* CIE units per input unit */
#define NN_ADV_MAX_POOL 8
#define NN_ADV_MIN_SIDE 4        /* D's input: at least 4 x 4 */

typedef struct nn_adv nn_adv;

/* D with PyTorch's default initialization of Conv2d (weights and biases
 * uniform within 1 / sqrt (fan_in)) from a seeded generator; Adam's
 * moments zero. */
nn_code nn_adv_new (nn_adv **out, uint64_t seed, nn_error *err);
void nn_adv_free (nn_adv *a);

/* The input's pooling (above; 1 when new): NN_ERR_ARG outside 1 to
 * NN_ADV_MAX_POOL.  Not part of the state: a trainer keeps it with its
 * settings. */
nn_code nn_adv_set_pool (nn_adv *a, int pool, nn_error *err);

/* A side of `side` pixels pooled by `pool`: ceil (side / pool). */
int nn_adv_pooled (int side, int pool);

/* The number of parameters, and their block and their gradients' (same
 * layout), which nn_adv_loss writes and nn_adv_update reads. */
size_t nn_adv_size (void);
float *nn_adv_params (nn_adv *a);
float *nn_adv_grads (nn_adv *a);

/* D's scores of n images x (n x 3 x h x w, already scaled as above) into
 * out (n x 1 x oh x ow); oh, ow may be NULL.  NN_ERR_ARG when an image is
 * smaller than 4 x 4. */
nn_code nn_adv_forward (nn_adv *a, const float *x, int n, int h, int w,
                        float *out, int *oh, int *ow, nn_error *err);

/* The losses above of n images: logits n x q x h x w, centres q (a, b)
 * pairs, l n x h x w (CIE L), target_ab n x 2 x h x w (CIE a, b).
 * *g_loss and *d_loss get them.  The gradients are overwritten with
 * d_scale x d_loss's (d_scale 0: zeroed, and D's backward skipped);
 * g_scale x g_loss's gradient in the logits is added to dlogits when
 * dlogits is non-NULL.  NN_ERR_ARG when the pooled images are smaller
 * than 4 x 4. */
nn_code nn_adv_loss (nn_adv *a, const float *logits, const float *centres,
                     int q, int n, int h, int w, const float *l,
                     const float *target_ab, float g_scale, float d_scale,
                     double *g_loss, double *d_loss, float *dlogits,
                     nn_error *err);

/* One Adam step of D's parameters with its gradients at learning rate lr. */
void nn_adv_update (nn_adv *a, float lr);

/* The state's size in bytes, a copy of it into buf, and back: NN_ERR_FORMAT
 * when n is not that size or Adam's step is negative. */
size_t nn_adv_state_bytes (void);
void nn_adv_state_write (const nn_adv *a, void *buf);
nn_code nn_adv_state_read (nn_adv *a, const void *buf, size_t n,
                           nn_error *err);

#endif
