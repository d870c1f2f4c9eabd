/* conv2d.c - convolution as im2col + sgemm over blocks of output pixels.
 *
 * For one image, the output (cout x P, P = oh * ow) is W (cout x K,
 * K = cin * kh * kw) times the column matrix (K x P).  The column matrix is
 * built PC output pixels at a time into the workspace, so its size is
 * K * PC floats whatever the image size.
 */
#include <string.h>
#include <cblas.h>
#include "conv2d.h"

/* Target size of one column block, in floats (4 MiB). */
#define CONV2D_BLOCK_FLOATS (1 << 20)
#define CONV2D_MIN_BLOCK_COLS 64

int
conv2d_desc_init (conv2d_desc *d, int n, int cin, int h, int w, int cout,
                  int k, int stride, int pad)
{
  d->n = n;
  d->cin = cin;
  d->h = h;
  d->w = w;
  d->cout = cout;
  d->kh = k;
  d->kw = k;
  d->stride = stride;
  d->pad = pad;
  if (n <= 0 || cin <= 0 || h <= 0 || w <= 0 || cout <= 0 || k <= 0
      || stride <= 0 || pad < 0 || h + 2 * pad < k || w + 2 * pad < k)
    return -1;
  d->oh = (h + 2 * pad - k) / stride + 1;
  d->ow = (w + 2 * pad - k) / stride + 1;
  return 0;
}

static size_t
conv2d_block_cols (const conv2d_desc *d)
{
  size_t k = (size_t) d->cin * d->kh * d->kw;
  size_t p = (size_t) d->oh * d->ow;
  size_t pc = CONV2D_BLOCK_FLOATS / k;
  if (pc < CONV2D_MIN_BLOCK_COLS)
    pc = CONV2D_MIN_BLOCK_COLS;
  return pc < p ? pc : p;
}

size_t
conv2d_workspace_floats (const conv2d_desc *d)
{
  /* column block, and its gradient in the backward pass */
  return 2 * (size_t) d->cin * d->kh * d->kw * conv2d_block_cols (d);
}

double
conv2d_flops (const conv2d_desc *d)
{
  return 2.0 * d->n * d->cout * d->oh * d->ow * (double) d->cin * d->kh * d->kw;
}

/* col (K x pc) = the input patches of output pixels p0 .. p0 + pc - 1. */
static void
conv2d_im2col (const conv2d_desc *d, const float *x, size_t p0, size_t pc,
               float *col)
{
  const int K = d->cin * d->kh * d->kw;
#pragma omp parallel for schedule(static)
  for (int r = 0; r < K; r++)
    {
      const int ci = r / (d->kh * d->kw);
      const int ky = (r / d->kw) % d->kh;
      const int kx = r % d->kw;
      const float *xc = x + (size_t) ci * d->h * d->w;
      float *dst = col + (size_t) r * pc;
      int oy = (int) (p0 / d->ow), ox = (int) (p0 % d->ow);
      size_t j = 0;
      while (j < pc)
        {
          /* one run along an output row */
          size_t run = (size_t) (d->ow - ox);
          if (run > pc - j)
            run = pc - j;
          const int iy = oy * d->stride - d->pad + ky;
          if (iy < 0 || iy >= d->h)
            memset (dst + j, 0, run * sizeof (float));
          else
            {
              const float *row = xc + (size_t) iy * d->w;
              for (size_t t = 0; t < run; t++)
                {
                  const int ix = (ox + (int) t) * d->stride - d->pad + kx;
                  dst[j + t] = (ix >= 0 && ix < d->w) ? row[ix] : 0.0f;
                }
            }
          j += run;
          ox = 0;
          oy++;
        }
    }
}

/* dx += the column gradients dcol (K x pc) scattered back to the input. */
static void
conv2d_col2im (const conv2d_desc *d, const float *dcol, size_t p0, size_t pc,
               float *dx)
{
  const int kk = d->kh * d->kw;
  /* parallel over input channels: rows of one channel touch only it */
#pragma omp parallel for schedule(static)
  for (int ci = 0; ci < d->cin; ci++)
    {
      float *dxc = dx + (size_t) ci * d->h * d->w;
      for (int q = 0; q < kk; q++)
        {
          const int r = ci * kk + q;
          const int ky = q / d->kw;
          const int kx = q % d->kw;
          const float *src = dcol + (size_t) r * pc;
          int oy = (int) (p0 / d->ow), ox = (int) (p0 % d->ow);
          size_t j = 0;
          while (j < pc)
            {
              size_t run = (size_t) (d->ow - ox);
              if (run > pc - j)
                run = pc - j;
              const int iy = oy * d->stride - d->pad + ky;
              if (iy >= 0 && iy < d->h)
                {
                  float *row = dxc + (size_t) iy * d->w;
                  for (size_t t = 0; t < run; t++)
                    {
                      const int ix = (ox + (int) t) * d->stride - d->pad + kx;
                      if (ix >= 0 && ix < d->w)
                        row[ix] += src[j + t];
                    }
                }
              j += run;
              ox = 0;
              oy++;
            }
        }
    }
}

void
conv2d_forward (const conv2d_desc *d, const float *x, const float *weight,
                const float *bias, float *y, float *workspace)
{
  const int K = d->cin * d->kh * d->kw;
  const size_t P = (size_t) d->oh * d->ow;
  const size_t PC = conv2d_block_cols (d);
  for (int n = 0; n < d->n; n++)
    {
      const float *xn = x + (size_t) n * d->cin * d->h * d->w;
      float *yn = y + (size_t) n * d->cout * P;
      for (size_t p0 = 0; p0 < P; p0 += PC)
        {
          const size_t pc = P - p0 < PC ? P - p0 : PC;
          conv2d_im2col (d, xn, p0, pc, workspace);
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, d->cout,
                       (int) pc, K, 1.0f, weight, K, workspace, (int) pc,
                       0.0f, yn + p0, (int) P);
        }
      if (bias)
        {
#pragma omp parallel for schedule(static)
          for (int co = 0; co < d->cout; co++)
            {
              float *yc = yn + (size_t) co * P;
              const float b = bias[co];
              for (size_t p = 0; p < P; p++)
                yc[p] += b;
            }
        }
    }
}

void
conv2d_backward (const conv2d_desc *d, const float *x, const float *weight,
                 const float *dy, float *dx, float *dweight, float *dbias,
                 float *workspace)
{
  const int K = d->cin * d->kh * d->kw;
  const size_t P = (size_t) d->oh * d->ow;
  const size_t PC = conv2d_block_cols (d);
  float *col = workspace;
  float *dcol = workspace + (size_t) K * PC;
  if (dx)
    memset (dx, 0, sizeof (float) * d->n * d->cin * d->h * d->w);
  for (int n = 0; n < d->n; n++)
    {
      const float *xn = x + (size_t) n * d->cin * d->h * d->w;
      const float *dyn = dy + (size_t) n * d->cout * P;
      if (dbias)
        {
#pragma omp parallel for schedule(static)
          for (int co = 0; co < d->cout; co++)
            {
              const float *g = dyn + (size_t) co * P;
              double s = 0.0;
              for (size_t p = 0; p < P; p++)
                s += g[p];
              dbias[co] += (float) s;
            }
        }
      for (size_t p0 = 0; p0 < P; p0 += PC)
        {
          const size_t pc = P - p0 < PC ? P - p0 : PC;
          conv2d_im2col (d, xn, p0, pc, col);
          /* dW (cout x K) += dy block (cout x pc) * col^T (pc x K) */
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, d->cout, K,
                       (int) pc, 1.0f, dyn + p0, (int) P, col, (int) pc, 1.0f,
                       dweight, K);
          if (dx)
            {
              /* dcol (K x pc) = W^T (K x cout) * dy block (cout x pc) */
              cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, K,
                           (int) pc, d->cout, 1.0f, weight, K, dyn + p0,
                           (int) P, 0.0f, dcol, (int) pc);
              conv2d_col2im (d, dcol, p0, pc,
                             dx + (size_t) n * d->cin * d->h * d->w);
            }
        }
    }
}
