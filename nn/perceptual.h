/* perceptual.h - the perceptual loss: the colour-class head's prediction
 * and the truth, each with the truth's L, as sRGB through a frozen
 * ImageNet ResNet18 (conv1 .. layer2, every batch norm folded into its
 * convolution); the loss is how far apart their layer1 and layer2
 * features are.  The term that asks "does it look like the photo to an
 * ImageNet network" rather than "is each pixel in the right colour bin".
 *
 * The network (torchvision's resnet18 up to layer2, inference mode):
 *   conv1 7x7/2 + bias, ReLU, max pool 3x3/2, layer1 (two basic blocks,
 *   64 channels), layer2 (two basic blocks, 128 channels, the first
 *   halving the size, its shortcut layer2.0.downsample.0 1x1/2 + bias).
 * Its ten convolutions are nn_percept_convs (); their weights and biases
 * are set by the caller (the trainer reads the .npy files of
 * ../shared/models/resnet18-imagenet).  Input: n x 3 x h x w sRGB in
 * 0..1, normalized inside by ImageNet's mean (0.485, 0.456, 0.406) and
 * deviation (0.229, 0.224, 0.225).
 *
 * The loss of n images of h x w logits (the head's resolution):
 *   ab   = the annealed mean at T = 1: sum_c softmax (logits)_c centre_c
 *   rgb  = sRGB of (L, ab), D50 CIE Lab as babl's "CIE Lab float", the
 *          Bradford-adapted D50 -> sRGB matrix and sRGB's transfer curve
 *          (not clipped: both pieces continue outside 0..1);
 *   loss = mean ((F1 (pred) - F1 (truth))^2) + mean ((F2 (pred) -
 *          F2 (truth))^2), F1 / F2 the layer1 / layer2 outputs, each mean
 *          over all of its n x C x h' x w' values.
 * Its gradient in the logits is exact (d ab / d logit_c = p_c (centre_c -
 * ab)); the network's weights get none. */
#ifndef NN_PERCEPTUAL_H
#define NN_PERCEPTUAL_H

#include <stddef.h>
#include "error.h"

#define NN_PERCEPT_CONVS 10

typedef struct nn_percept_conv {
  const char *name;        /* torchvision's: "conv1", "layer1.0.conv1", ... */
  int cout, cin, k, stride, pad;
} nn_percept_conv;

/* The ten convolutions, in the order of nn_percept_weight's index. */
const nn_percept_conv *nn_percept_convs (void);

typedef struct nn_percept nn_percept;

/* The network with every weight and bias zero. */
nn_code nn_percept_new (nn_percept **out, nn_error *err);
void nn_percept_free (nn_percept *p);
/* Convolution i's weight (cout x cin x k x k) and bias (cout), to fill. */
float *nn_percept_weight (nn_percept *p, int i);
float *nn_percept_bias (nn_percept *p, int i);

/* The layer1 and layer2 features of n sRGB images (n x 3 x h x w) into
 * f1 (n x 64 x h1 x w1) and f2 (n x 128 x h2 x w2) when non-NULL; the
 * sizes are written to h1 .. w2 when non-NULL.  NN_ERR_ARG when an image
 * is smaller than 8 x 8. */
nn_code nn_percept_features (nn_percept *p, const float *rgb, int n, int h,
                             int w, float *f1, float *f2, int *h1, int *w1,
                             int *h2, int *w2, nn_error *err);

/* The loss above of n images: logits n x q x h x w, centres q (a, b)
 * pairs in CIE units, l n x h x w (CIE L), target_ab n x 2 x h x w (CIE
 * a, b).  *loss gets it; scale x its gradient is added to dlogits (same
 * shape as logits) when dlogits is non-NULL. */
nn_code nn_percept_loss (nn_percept *p, const float *logits,
                         const float *centres, int q, int n, int h, int w,
                         const float *l, const float *target_ab, float scale,
                         double *loss, float *dlogits, nn_error *err);

/* D50 CIE Lab to sRGB as the loss converts (n pixels, planes: l, a, b in,
 * r, g, b out, each plane n floats apart from the next). */
void nn_percept_lab_to_srgb (const float *l, const float *a, const float *b,
                             float *rgb, size_t n);

#endif
