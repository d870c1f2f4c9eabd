/* encoder.h - an ImageNet-trained ResNet18 encoder into the resnet18
 * model (colorize-train init --encoder DIR).
 *
 * DIR holds torchvision's ResNet18 conv1, layer1 and layer2 as float32
 * .npy files with each batch norm folded into its convolution
 * (../shared/models/resnet18-imagenet/README.md): NAME.weight.npy
 * (out x in x kh x kw) and NAME.bias.npy (out).  They map onto the seed's
 * encoder as
 *
 *   conv1              -> midlevel_resnet.0   (BN midlevel_resnet.1)
 *   layer1.B.convK     -> midlevel_resnet.4.B.convK  (BN ....bnK)
 *   layer2.B.convK     -> midlevel_resnet.5.B.convK  (BN ....bnK)
 *   layer2.0.downsample.0 -> midlevel_resnet.5.0.downsample.0 (BN .1)
 *
 * conv1 takes one channel: the network input is x = (L - l_offset) /
 * l_scale, the ImageNet network's input a gray v = L / 100 in each of
 * R, G, B normalized by mean m_c and deviation s_c, i.e. n_c = x l_scale
 * / (100 s_c) + (l_offset / 100 - m_c) / s_c.  So conv1's weight is
 * sum_c W_c l_scale / (100 s_c), and the constant term sum_c W_c (l_offset
 * / 100 - m_c) / s_c (summed over the kernel; exact away from the zero
 * padding) joins conv1's bias.
 *
 * Each convolution keeps the folded weight; the batch norm after it
 * gets gamma = sqrt (running_var + eps) and beta = running_mean + bias,
 * so that in inference mode conv + BN computes exactly the folded
 * convolution with its bias, whatever the running statistics are.  Those
 * are set from data: `passes` training-mode passes over `batch` with
 * momentum 1 (each pass makes one more layer's statistics right, as its
 * input no longer changes), gamma and beta reset after each, so that in
 * training mode too each BN reproduces the folded convolution on such
 * photos.  The decoder keeps its initialization (its BN running
 * statistics are those of the last pass).
 */
#ifndef TRAINER_ENCODER_H
#define TRAINER_ENCODER_H

#include "error.h"
#include "model.h"
#include "perceptual.h"

#define ENCODER_PASSES 12

/* batch: n x 1 x h x w network inputs (raw x). */
nn_code encoder_import (nn_model *m, const char *dir, const float *batch,
                        int n, int h, int w, int passes, nn_error *err);

/* The same DIR's arrays, as they are, into the perceptual loss's frozen
 * network (nn/perceptual.h; train --perceptual). */
nn_code encoder_load_percept (nn_percept *p, const char *dir, nn_error *err);

#endif
