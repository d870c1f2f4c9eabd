/* upsample.h - nearest-neighbour upsampling by 2, as nn.Upsample
 * (scale_factor=2): y (planes x 2h x 2w)[2i + a][2j + b] = x[i][j]. */
#ifndef NN_UPSAMPLE_H
#define NN_UPSAMPLE_H

void nn_upsample2_forward (const float *x, float *y, int planes, int h, int w);
/* dx[i][j] = sum of the four dy it was copied to (overwrites dx). */
void nn_upsample2_backward (const float *dy, float *dx, int planes, int h, int w);

#endif
