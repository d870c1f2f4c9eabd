/* context.h - global context: a whole-image summary fused into every
 * position (after Iizuka, Simo-Serra and Ishikawa 2016, "Let there be
 * Color!", whose global features tell a street from a meadow where local
 * texture cannot).
 *
 * For each image n, with s its source tensor (cs channels, shw pixels)
 * and x the tensor it is added to (c channels, hw pixels):
 *
 *   m[n][j]     = (1 / shw) * sum over p of s[n][j][p]       (the mean)
 *   y[n][i][p]  = x[n][i][p] + sum over j of W[i][j] * m[n][j]
 *
 * W is c x cs (the tensor "context.weight"); a zero W leaves x as it is,
 * so a network fine-tuned with it starts where it was.  Layout: NCHW
 * (model.h). */
#ifndef NN_CONTEXT_H
#define NN_CONTEXT_H

#define NN_CONTEXT_MAX_CHANNELS 1024   /* cs */

typedef struct nn_context_desc {
  int n;        /* images */
  int c, hw;    /* x and y: channels, pixels per channel */
  int cs, shw;  /* s: channels, pixels per channel */
} nn_context_desc;

/* y = x + W m (see above); y may be x.  cs <= NN_CONTEXT_MAX_CHANNELS. */
void nn_context_forward (const nn_context_desc *d, const float *x,
                         const float *s, const float *w, float *y);

/* From dy: ds (written, n x cs x shw: each pixel gets (W^T g)[j] / shw
 * where g[i] is the sum of dy over image n's channel i) and dw
 * (accumulated: dw[i][j] += sum over n of g[n][i] m[n][j]).  dx is dy
 * itself.  ds may be NULL.  Returns 0, or -1 when out of memory. */
int nn_context_backward (const nn_context_desc *d, const float *s,
                          const float *w, const float *dy, float *ds,
                          float *dw);

#endif
