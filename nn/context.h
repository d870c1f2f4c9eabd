/* context.h - global context: a whole-image summary fused into every
 * position (after Iizuka, Simo-Serra and Ishikawa 2016, "Let there be
 * Color!", whose global features tell a street from a meadow where local
 * texture cannot).
 *
 * For each image n, with s its source tensor (cs channels, shw pixels)
 * and x the tensor it is added to (c channels, hw pixels):
 *
 *   m[n][j]     = (1 / shw) * sum over p of s[n][j][p]       (the mean)
 *   a[n][h]     = b1[h] + sum over j of W1[h][j] * m[n][j]   (hidden > 0)
 *   y[n][i][p]  = x[n][i][p] + sum over j of W[i][j] * m[n][j]
 *                            + sum over h of W2[i][h] * max (a[n][h], 0)
 *
 * W is c x cs ("context.weight"); with hidden units, W1 is hidden x cs
 * ("context.fc1.weight"), b1 hidden ("context.fc1.bias") and W2 c x
 * hidden ("context.fc2.weight").  W and W2 start at zero, so a network
 * fine-tuned with either part starts where it was.  Layout: NCHW
 * (model.h). */
#ifndef NN_CONTEXT_H
#define NN_CONTEXT_H

#define NN_CONTEXT_MAX_CHANNELS 1024   /* cs and hidden */

typedef struct nn_context_desc {
  int n;        /* images */
  int c, hw;    /* x and y: channels, pixels per channel */
  int cs, shw;  /* s: channels, pixels per channel */
  int hidden;   /* 0: W only; else the hidden layer's units */
} nn_context_desc;

/* The tensors (w1, b1, w2 unused when hidden is 0); the same layout for
 * their gradients. */
typedef struct nn_context_params {
  float *w, *w1, *b1, *w2;
} nn_context_params;

/* y = x + ... (see above); y may be x.  cs, hidden <=
 * NN_CONTEXT_MAX_CHANNELS. */
void nn_context_forward (const nn_context_desc *d, const float *x,
                         const float *s, const nn_context_params *p,
                         float *y);

/* From dy: ds (written, n x cs x shw: every pixel of image n's plane j
 * gets dm[n][j] / shw) and the parameters' gradients (accumulated in g).
 * dx is dy itself.  ds may be NULL.  Returns 0, or -1 when out of
 * memory. */
int nn_context_backward (const nn_context_desc *d, const float *s,
                         const nn_context_params *p, const float *dy,
                         float *ds, const nn_context_params *g);

#endif
